#!/usr/bin/env bash
# `live --probe --transport v2` test, run INSIDE a fresh network namespace
# (lo only) by tests/live_netns.rs:
#   unshare --net -- bash scripts/test-live-probe-v2.sh OUT BTCSNIFF V2PEER
# A BIP324 responder built on the bip324 crate answers the probe's getdata
# with notfound (exit 3); the capture must decrypt the probe's own v2
# session with the key the probe hands it (no key file).
set -euo pipefail
out=$1 btcsniff=$2 v2peer=$3
[ "$(ip -o link show | wc -l)" = 1 ] || { echo "refusing to run outside a lo-only namespace" >&2; exit 1; }
ip link set lo up
timeout 60 "$v2peer" serve 127.0.0.1:18444 1 &
server=$!
sleep 0.2
set +e
timeout 60 "$btcsniff" live -i lo -f 'tcp port 18444' --format json \
  --probe 127.0.0.1:18444 --network regtest --timeout 10 --transport v2 \
  --tx 1111111111111111111111111111111111111111111111111111111111111111 \
  -w "$out/live.pcap" >"$out/alongside.jsonl" 2>"$out/alongside.err"
echo $? >"$out/rc"
set -e
wait "$server" || true
