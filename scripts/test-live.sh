#!/usr/bin/env bash
# Live capture test, run INSIDE a fresh network namespace (lo only) by
# tests/live_netns.rs:  unshare --net -- bash scripts/test-live.sh OUT BTCSNIFF TESTPEER [CONNECTIONS]
# Captures on lo while a scripted peer and its clients talk on 127.0.0.1,
# then stops the capture with SIGINT. Writes OUT/live.jsonl, OUT/live.pcap,
# OUT/live.err, OUT/hwm_kib.
set -euo pipefail
out=$1 btcsniff=$2 testpeer=$3 connections=${4:-3} server_kind=${5:-testpeer} stop_signal=${STOP_SIGNAL:-INT}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(ip -o link show | wc -l)" = 1 ] || { echo "test-live: refusing to run outside a lo-only namespace" >&2; exit 1; }
ip link set lo up
"$btcsniff" live -i lo -f 'tcp port 18444' --format json -w "$out/live.pcap" --stats \
  >"$out/live.jsonl" 2>"$out/live.err" &
cap=$!
for _ in $(seq 100); do grep -q listening "$out/live.err" && break; sleep 0.1; done
grep -q listening "$out/live.err" || { echo "capture did not start" >&2; cat "$out/live.err" >&2; kill "$cap"; exit 1; }
if [ "$server_kind" = bcoin ]; then
  # shellcheck source=bcoin/node.sh
  source "$here/bcoin/node.sh"
  node=$(bcoin_start 18444 18332 btcsniff-test "$out/bcoin")
  bcoin_mine 18332 btcsniff-test 1 >/dev/null
  for i in $(seq "$connections"); do
    timeout 20 "$testpeer" client 127.0.0.1:18444
  done
  sleep 0.5
  bcoin_stop "$node"
else
  timeout 60 "$testpeer" serve 127.0.0.1:18444 "$connections" &
  server=$!
  sleep 0.2
  for i in $(seq "$connections"); do
    timeout 20 "$testpeer" client 127.0.0.1:18444
  done
  wait "$server"
fi
sleep 0.5
grep VmHWM "/proc/$cap/status" | awk '{print $2}' >"$out/hwm_kib"
kill "-$stop_signal" "$cap"
for _ in $(seq 100); do kill -0 "$cap" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$cap" 2>/dev/null; then echo "capture did not stop on SIG$stop_signal" >&2; kill -KILL "$cap"; exit 1; fi
wait "$cap"
