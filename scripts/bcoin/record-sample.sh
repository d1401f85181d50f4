#!/usr/bin/env bash
# Record a real Bitcoin P2P capture between two bcoin regtest nodes.
#
# Usage: scripts/bcoin/record-sample.sh [OUT.pcap] [P2P_PORT_A]
#   default OUT: <repo>/samples/bcoin-regtest-sync.pcap, P2P_PORT_A: 18444
#
# Re-executes itself inside a fresh network namespace (`unshare --net`, root
# needed) whose only interface is lo, so no packet can leave the machine.
# There: node A starts and mines 101 blocks (coinbase maturity), tcpdump
# starts on lo for A's port, node B starts with --only=A and syncs, A's
# wallet sends a transaction (inv/getdata/tx), A mines one more block (block
# announcement), B catches up, a raw client (probe-notfound.js) asks A for an
# unknown tx and an unknown block (A answers notfound); optionally the capture
# lingers BCOIN_RECORD_LINGER seconds (0..120, default 0; > 30 catches bcoin's
# ping/pong); then tcpdump and both nodes are stopped by PID.
# Every wait is bounded.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$repo/samples/bcoin-regtest-sync.pcap}"
port_a="${2:-18444}"
linger="${BCOIN_RECORD_LINGER:-0}"
log() { echo "bcoin/record: $*" >&2; }

if [[ "${BCOIN_RECORD_IN_NS:-}" != 1 ]]; then
    "$here/install.sh"
    mkdir -p "$(dirname "$out")"
    out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
    log "entering a new network namespace"
    exec env BCOIN_RECORD_IN_NS=1 timeout 300 unshare --net bash "$0" "$out" "$port_a"
fi

ip link set lo up
# shellcheck source=node.sh
source "$here/node.sh"

key="btcsniff-sample"
port_b=$((port_a + 1000))
http_a=$((port_a + 2000))
http_b=$((port_a + 3000))
work="$(mktemp -d /tmp/bcoin-record.XXXXXX)"
pid_a="" pid_b="" pid_dump=""

cleanup() {
    [[ -n "$pid_dump" ]] && kill -INT "$pid_dump" 2>/dev/null && wait "$pid_dump" 2>/dev/null || true
    [[ -n "$pid_b" ]] && bcoin_stop "$pid_b"
    [[ -n "$pid_a" ]] && bcoin_stop "$pid_a"
    rm -rf "$work"
}
trap cleanup EXIT

# Poll `cmd...` until it prints `want`, at most `seconds`.
wait_for() {
    local seconds="$1" want="$2" what="$3"
    shift 3
    local deadline=$((SECONDS + seconds)) got=""
    while ((SECONDS < deadline)); do
        got="$("$@" 2>/dev/null || true)"
        [[ "$got" == *"$want"* ]] && return 0
        sleep 0.2
    done
    log "timeout after $seconds s waiting for $what (got '$got', want '$want')"
    return 1
}

t0=$SECONDS
pid_a="$(bcoin_start "$port_a" "$http_a" "$key" "$work/a")"
bcoin_mine "$http_a" "$key" 101 >/dev/null
log "node A (pid $pid_a) mined 101 blocks in $((SECONDS - t0)) s"

tcpdump -i lo -U -Z root -s 0 -w "$out" "tcp port $port_a" 2>"$work/tcpdump.log" &
pid_dump=$!
wait_for 10 "listening on" "tcpdump to start" cat "$work/tcpdump.log"

pid_b="$(bcoin_start "$port_b" "$http_b" "$key" "$work/b" "--only=127.0.0.1:$port_a")"
best="$(bcoin_best_hash "$http_a" "$key")"
wait_for 60 "$best" "node B to sync to A" bcoin_best_hash "$http_b" "$key"
log "node B (pid $pid_b) synced 101 blocks"

txid="$(bcoin_send "$http_a" "$key" 100000000)"
wait_for 30 "$txid" "tx $txid in B's mempool" bcoin_ctl "$http_b" "$key" mempool
log "tx $txid relayed to B"

best="$(bcoin_mine "$http_a" "$key" 1)"
wait_for 30 "$best" "block $best on B" bcoin_best_hash "$http_b" "$key"
log "block $best relayed to B"

replies="$(timeout 15 node "$here/probe-notfound.js" "$port_a" | tr '\n' ' ')"
log "raw getdata for an unknown tx and block; A replied: $replies"
[[ "$replies" == *notfound* ]] || { log "expected notfound"; exit 1; }

if [[ "$linger" =~ ^[0-9]+$ ]] && ((linger > 0 && linger <= 120)); then
    log "lingering $linger s"
    sleep "$linger"
fi
sleep 1 # let the last acks and pings reach the capture
kill -INT "$pid_dump"
wait "$pid_dump" || true
pid_dump=""
cat "$work/tcpdump.log" >&2
log "wrote $out ($(stat -c %s "$out") bytes) in $((SECONDS - t0)) s"
