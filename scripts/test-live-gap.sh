#!/usr/bin/env bash
# Live capture with one packet lost, run INSIDE a fresh network namespace
# (lo only) by tests/live_gap.rs:
#   unshare --net -- bash scripts/test-live-gap.sh OUT BTCSNIFF TESTPEER
# A client pings a scripted peer five times (nonces 1..5, 400 ms apart) and
# keeps the connection open 4 s more. Two captures run at once; both drop
# the segment of ping 2 with their BPF filter (the peer still gets it):
# - both.jsonl: both directions (the peer's ACKs are visible), with -w;
# - oneway.jsonl: client to server only (no ACKs), --gap-timeout 1.
# Every output line is prefixed with the wall-clock time it was written.
set -euo pipefail
out=$1 btcsniff=$2 testpeer=$3
[ "$(ip -o link show | wc -l)" = 1 ] || { echo "test-live-gap: refusing to run outside a lo-only namespace" >&2; exit 1; }
ip link set lo up
# The TCP payload starts at tcp[12] >> 4 words; "ping" is at payload
# offset 4, the nonce (little-endian u64) at 24: nonce 2 is 02 00 00 00.
payload='((tcp[12] & 0xf0) >> 2)'
drop="tcp[$payload + 4:4] = 0x70696e67 and tcp[$payload + 24:4] = 0x02000000"
stamp() { while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done; }
"$btcsniff" live -i lo -f "tcp port 18444 and not ($drop)" --format json -w "$out/both.pcap" \
  2>"$out/both.err" > >(stamp >"$out/both.jsonl") &
both=$!
"$btcsniff" live -i lo -f "tcp dst port 18444 and not ($drop)" --format json --gap-timeout 1 \
  2>"$out/oneway.err" > >(stamp >"$out/oneway.jsonl") &
oneway=$!
for _ in $(seq 100); do
  grep -q listening "$out/both.err" && grep -q listening "$out/oneway.err" && break
  sleep 0.1
done
grep -q listening "$out/both.err" && grep -q listening "$out/oneway.err" \
  || { echo "capture did not start" >&2; cat "$out"/*.err >&2; exit 1; }
timeout 30 "$testpeer" serve 127.0.0.1:18444 1 &
server=$!
sleep 0.2
timeout 30 "$testpeer" pings 127.0.0.1:18444 5 400 4000
wait "$server"
sleep 0.5
for pid in $both $oneway; do kill -INT "$pid"; done
for _ in $(seq 100); do
  kill -0 "$both" 2>/dev/null || kill -0 "$oneway" 2>/dev/null || break
  sleep 0.1
done
for pid in $both $oneway; do
  if kill -0 "$pid" 2>/dev/null; then echo "capture $pid did not stop on SIGINT" >&2; kill -KILL "$pid"; exit 1; fi
done
wait "$both" "$oneway"
# Let the stampers drain.
sleep 0.2
