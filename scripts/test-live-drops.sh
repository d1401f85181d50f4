#!/usr/bin/env bash
# Run inside `unshare --net` (tests/live_drops.rs): a veth pair of this
# namespace only; `btcsniff live` on v1 with a tiny kernel buffer while
# tcpreplay sends a capture into v0 several times; SIGINT after the replay.
set -euo pipefail
out=$1 btcsniff=$2 capture=$3 loops=${4:-4}
ip link set lo up
ip link add v0 type veth peer name v1
ip link set v0 up
ip link set v1 up
"$btcsniff" live -i v1 -B 1 --format json --stats >"$out/live.jsonl" 2>"$out/live.err" &
pid=$!
for _ in $(seq 1 100); do
  grep -q 'listening on' "$out/live.err" && break
  sleep 0.05
done
tcpreplay -i v0 --topspeed --loop="$loops" "$capture" >"$out/replay.txt" 2>&1
sleep 1
date +%s.%N >"$out/stopped_at"
kill -INT "$pid"
wait "$pid"
