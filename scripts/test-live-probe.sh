#!/usr/bin/env bash
# `live --probe` test, run INSIDE a fresh network namespace (lo only) by
# tests/live_netns.rs: unshare --net -- bash scripts/test-live-probe.sh OUT BTCSNIFF TESTPEER
# A scripted peer answers the probe's getdata with notfound (exit 3); the
# capture must show the probe's session in both directions.
set -euo pipefail
out=$1 btcsniff=$2 testpeer=$3
[ "$(ip -o link show | wc -l)" = 1 ] || { echo "refusing to run outside a lo-only namespace" >&2; exit 1; }
ip link set lo up
timeout 60 "$testpeer" serve 127.0.0.1:18444 1 &
server=$!
sleep 0.2
set +e
timeout 60 "$btcsniff" live -i lo -f 'tcp port 18444' --format json \
  --probe 127.0.0.1:18444 --network regtest --timeout 10 --transport v1 \
  --tx 1111111111111111111111111111111111111111111111111111111111111111 \
  >"$out/alongside.jsonl" 2>"$out/alongside.err"
echo $? >"$out/rc"
set -e
wait "$server" || true
