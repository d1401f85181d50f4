#!/usr/bin/env bash
# `btcsniff probe` against a real node: bcoin regtest, in a network
# namespace that has nothing but lo.
#
#   scripts/test-probe-bcoin.sh BTCSNIFF OUT_DIR
#
# Re-executes itself under `unshare --net` (needs root) unless it already
# runs in a lo-only namespace. Needs bcoin installed by
# scripts/bcoin/install.sh (in <repo>/.cache/bcoin). Every step is bounded
# with `timeout`; the node is stopped by PID on exit.
#
# Checks (each prints "ok: ..." or "FAIL: ..."; exit 1 on any FAIL):
#  1. a mempool tx and a mined block in one probe      -> exit 0, both verified
#  2. the block that confirmed that tx (2 txs, merkle)  -> exit 0
#  3. that tx, now confirmed, and an unknown txid       -> exit 3 (notfound:
#                                                          mempool only)
#  4. an unknown block hash                             -> exit 3 (bcoin answers
#                                                          notfound; Core stays silent)
#  5. --no-witness (MSG_BLOCK), and text output        -> exit 0
#  6. -w pcap of check 1 read back by `btcsniff read`   -> same messages
#  7. wrong --network                                   -> exit 1 (no answer in
#                                                          our magic: cut by timeout)
# OUT_DIR receives every run's stdout/stderr and the pcap.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/netns-test.sh
source "$here/lib/netns-test.sh"
netns_test_start "test-probe-bcoin.sh BTCSNIFF OUT_DIR" "$@"

P2P_PORT=18444
# Below the ephemeral range (32768-60999): the node's listening port must
# not be one a client socket of ctl.js may already hold (EADDRINUSE).
HTTP_PORT=28450
API_KEY=btcsniff-probe-test
# shellcheck source=bcoin/node.sh
source "$here/bcoin/node.sh"

node_pid=""
cleanup() { [[ -n "$node_pid" ]] && bcoin_stop "$node_pid"; }
trap cleanup EXIT

# bcoin_start waits at most BCOIN_READY_SECONDS (60) for the node.
node_pid="$(bcoin_start "$P2P_PORT" "$HTTP_PORT" "$API_KEY" "$out/bcoin")"
ctl() { timeout 60 node "$here/bcoin/ctl.js" "$HTTP_PORT" "$API_KEY" "$@"; }

trap 'echo "test-probe-bcoin: line $LINENO failed: $BASH_COMMAND" >&2' ERR

ctl mine 101 >"$out/mined.txt"
block_101="$(tail -n 1 "$out/mined.txt")"
# The wallet may still be catching up with the blocks just mined: retry.
txid=""
for _ in $(seq 20); do
    txid="$(ctl send 100000000 2>>"$out/send.err")" && break
    sleep 0.5
done
[[ -n "$txid" ]] || { echo "FAIL: the wallet could not send ($(tail -n 1 "$out/send.err"))"; exit 1; }
in_mempool=""
for _ in $(seq 50); do
    ctl mempool | grep -qx "$txid" && { in_mempool=yes; break; }
    sleep 0.1
done
[[ -n "$in_mempool" ]] || { echo "FAIL: tx $txid did not reach the mempool"; exit 1; }
echo "tx $txid in the mempool; block $block_101"

# probe NAME EXPECTED_EXIT ARGS...: runs btcsniff probe, keeps its output.
probe() {
    local name=$1 expected=$2
    shift 2
    local code=0
    timeout 60 "$btcsniff" probe "127.0.0.1:$P2P_PORT" --network "${NETWORK:-regtest}" "$@" \
        >"$out/$name.out" 2>"$out/$name.err" || code=$?
    if [[ "$code" == "$expected" ]]; then
        ok "$name: exit $code"
    else
        fail "$name: exit $code, expected $expected ($(head -c 300 "$out/$name.err"))"
    fi
}

# has NAME PATTERN: the run's output contains PATTERN (fixed string).
has() {
    if grep -qF -- "$2" "$out/$1.out"; then ok "$1: says '$2'"; else fail "$1: no '$2'"; fi
}

# v1 explicitly: the recording below must hold one v1 session only.
probe mempool-tx-and-block 0 --tx "$txid" --block "$block_101" --format json -w "$out/probe.pcap" --transport v1
has mempool-tx-and-block "tx $txid received and verified"
has mempool-tx-and-block "block $block_101 received and verified"
has mempool-tx-and-block '"command":"verack"'
has mempool-tx-and-block '"type":"MSG_WITNESS_TX"'
has mempool-tx-and-block '"type":"MSG_WITNESS_BLOCK"'

block_102="$(ctl mine 1)"
probe block-with-tx 0 --block "$block_102" --format json
has block-with-tx "block $block_102 received and verified"
if grep -F '"command":"block"' "$out/block-with-tx.out" | grep -qF "\"txid\":\"$txid\""; then
    ok "block-with-tx: the block carries $txid"
else
    fail "block-with-tx: $txid not in the block"
fi

# Confirmed now: nodes serve transactions only from their mempool.
probe confirmed-tx 3 --tx "$txid" --format json
has confirmed-tx "tx $txid: notfound (nodes serve transactions only from their mempool)"

unknown=$(printf 'ab%.0s' $(seq 32))
probe unknown-tx 3 --tx "$unknown" --format json
has unknown-tx "tx $unknown: notfound"

probe unknown-block 3 --block "$unknown" --format json --timeout 5
has unknown-block "block $unknown: notfound"

probe no-witness 0 --block "$block_102" --no-witness --format json
has no-witness '"type":"MSG_BLOCK"'
has no-witness "block $block_102 received and verified"

probe text 0 --block "$block_102"
has text " probe: handshake complete: peer version "
# bcoin speaks v1 only: the default (auto) tries v2 and falls back.
has text " probe: transport: v1 (fallback: the peer refused v2: "

has text " probe: block $block_102 received and verified"

# The recorded session reads back as the same messages, per direction.
code=0
timeout 60 "$btcsniff" read "$out/probe.pcap" --format json >"$out/read.out" 2>"$out/read.err" || code=$?
if [[ "$code" == 0 ]]; then ok "read probe.pcap: exit 0"; else fail "read probe.pcap: exit $code"; fi
messages() { grep '"type":"message"' "$1" | sed -E 's/.*"src":"([^"]*)","dst":"([^"]*)".*"command":"([^"]*)","length":([0-9]+).*/\1 \2 \3 \4/' | sort; }
if [[ -s "$out/read.out" ]] && diff <(messages "$out/mempool-tx-and-block.out") <(messages "$out/read.out") >"$out/read.diff"; then
    ok "read probe.pcap: the same $(messages "$out/read.out" | wc -l) messages"
else
    fail "read probe.pcap: messages differ (see $out/read.diff)"
fi
if grep -q '"type":"finding"' "$out/read.out"; then fail "read probe.pcap: findings"; else ok "read probe.pcap: no findings"; fi

NETWORK=testnet3 probe wrong-network 1 --tx "$txid" --timeout 3 --transport v1

# Last: with garbage sent along with the key (as Core does), bcoin's ban
# score for bytes without its magic reaches 100 and it bans our address.
probe v2-only 1 --block "$block_102" --transport v2 --timeout 5
if grep -qF "the peer refused v2" "$out/v2-only.err" || grep -qF "no v2 key from the peer" "$out/v2-only.err"; then
    ok "v2-only: says v2 was refused ($(head -c 200 "$out/v2-only.err"))"
else
    fail "v2-only: $(head -c 300 "$out/v2-only.err")"
fi
if grep -qF "btcsniff: " "$out/wrong-network.err"; then ok "wrong-network: $(head -n 1 "$out/wrong-network.err")"; else fail "wrong-network: no reason on stderr"; fi

if [[ "$failures" -gt 0 ]]; then
    echo "test-probe-bcoin: $failures check(s) failed; outputs in $out"
    exit 1
fi
echo "test-probe-bcoin: all checks passed"
