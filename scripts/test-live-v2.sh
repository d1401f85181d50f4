#!/usr/bin/env bash
# Live v2 decryption test, run INSIDE a fresh network namespace (lo only)
# by tests/v2_live.rs:
#   unshare --net -- bash scripts/test-live-v2.sh OUT BTCSNIFF V2PEER [CONNECTIONS]
# Captures on lo with --keylog OUT/keys.log (absent at the start) while
# v2peer sessions (bip324 crate) run; each client appends its key line
# after its session started. Stops the capture with SIGINT. Writes
# OUT/live.jsonl, OUT/live.err, OUT/live.pcap, OUT/keys.log.
set -euo pipefail
out=$1 btcsniff=$2 v2peer=$3 connections=${4:-2}
[ "$(ip -o link show | wc -l)" = 1 ] || { echo "test-live-v2: refusing to run outside a lo-only namespace" >&2; exit 1; }
ip link set lo up
rm -f "$out/keys.log"
"$btcsniff" live -i lo -f 'tcp port 18444' --format json -w "$out/live.pcap" --stats \
  --keylog "$out/keys.log" >"$out/live.jsonl" 2>"$out/live.err" &
cap=$!
for _ in $(seq 100); do grep -q listening "$out/live.err" && break; sleep 0.1; done
grep -q listening "$out/live.err" || { echo "capture did not start" >&2; cat "$out/live.err" >&2; kill "$cap"; exit 1; }
timeout 60 "$v2peer" serve 127.0.0.1:18444 "$connections" &
server=$!
sleep 0.2
for _ in $(seq "$connections"); do
  timeout 20 "$v2peer" client 127.0.0.1:18444 "$out/keys.log"
done
wait "$server"
sleep 0.5
kill -INT "$cap"
for _ in $(seq 100); do kill -0 "$cap" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$cap" 2>/dev/null; then echo "capture did not stop on SIGINT" >&2; kill -KILL "$cap"; exit 1; fi
wait "$cap"
