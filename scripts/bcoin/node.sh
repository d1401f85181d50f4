#!/usr/bin/env bash
# Run and drive one bcoin regtest full node for btcsniff's tests.
#
# MUST run inside a network namespace that the caller created and that has
# nothing but `lo` (bcoin may try to reach the outside world), e.g.
#   unshare --net bash -c 'ip link set lo up; scripts/bcoin/node.sh start ...'
# `start` refuses to run anywhere else.
#
# Commands (the node API listens on HTTP_PORT, its wallet API on HTTP_PORT+1,
# both on 127.0.0.1; P2P listens on 127.0.0.1:P2P_PORT):
#   node.sh start P2P_PORT HTTP_PORT API_KEY PREFIX_DIR [bcoin --options...]
#       starts the node in the background (log: PREFIX_DIR/node.log), waits
#       up to 60 s for both APIs, prints its PID. Extra options, e.g.
#       --only=127.0.0.1:18444 to connect to another node and only to it.
#   node.sh stop PID               SIGTERM, then SIGKILL after 10 s
#   node.sh mine HTTP_PORT API_KEY N        prints the N new block hashes
#   node.sh send HTTP_PORT API_KEY [SATS]   prints the txid (needs 101 blocks)
#   node.sh best-hash HTTP_PORT API_KEY
#   node.sh hash-at HTTP_PORT API_KEY HEIGHT
#   node.sh height|mempool|peers|address HTTP_PORT API_KEY
# The same functions are available after `source node.sh` (bcoin_start, ...).
set -euo pipefail

BCOIN_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BCOIN_CACHE="$(cd "$BCOIN_HERE/../.." && pwd)/.cache/bcoin"
BCOIN_READY_SECONDS="${BCOIN_READY_SECONDS:-60}"

bcoin_log() { echo "bcoin/node: $*" >&2; }

# True when the only network interface in this namespace is the loopback.
bcoin_in_loopback_namespace() {
    local links
    links="$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//')"
    [[ "$links" == "lo" ]]
}

bcoin_start() {
    if [[ $# -lt 4 ]]; then
        bcoin_log "usage: start P2P_PORT HTTP_PORT API_KEY PREFIX_DIR [options]"
        return 2
    fi
    local p2p_port="$1" http_port="$2" api_key="$3" prefix="$4"
    shift 4
    if ! bcoin_in_loopback_namespace; then
        bcoin_log "refusing to start: this network namespace has interfaces other than lo"
        bcoin_log "(run inside: unshare --net bash -c 'ip link set lo up; ...')"
        return 1
    fi
    [[ -f "$BCOIN_CACHE/node_modules/bcoin/package.json" ]] || {
        bcoin_log "bcoin is not installed: run scripts/bcoin/install.sh"
        return 1
    }
    mkdir -p "$prefix"
    local opts=(
        --network=regtest --memory=true --workers=false
        --listen=true --upnp=false "--seeds=," --max-inbound=8
        --host=127.0.0.1 "--port=$p2p_port" --public-host=127.0.0.1 "--public-port=$p2p_port"
        --http-host=127.0.0.1 "--http-port=$http_port"
        --wallet-http-host=127.0.0.1 "--wallet-http-port=$((http_port + 1))"
        "--api-key=$api_key" "--prefix=$prefix"
        "$@"
    )
    local started=$SECONDS
    bcoin_log "starting bcoin regtest P2P 127.0.0.1:$p2p_port HTTP :$http_port/:$((http_port + 1)) prefix $prefix $*"
    # setsid: the node gets its own process group, so a caller's job control
    # or terminal signals do not reach it; stop it with `stop PID`.
    setsid node "$BCOIN_HERE/run-node.js" "$BCOIN_CACHE" "${opts[@]}" \
        >"$prefix/node.log" 2>&1 </dev/null &
    local pid=$!
    if ! node "$BCOIN_HERE/ctl.js" "$http_port" "$api_key" wait-ready "$BCOIN_READY_SECONDS"; then
        bcoin_log "node did not become ready; last log lines:"
        tail -n 20 "$prefix/node.log" >&2 || true
        bcoin_stop "$pid" || true
        return 1
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        bcoin_log "node exited; last log lines:"
        tail -n 20 "$prefix/node.log" >&2 || true
        return 1
    fi
    bcoin_log "ready in $((SECONDS - started)) s, pid $pid"
    echo "$pid"
}

bcoin_stop() {
    local pid="${1:?usage: stop PID}"
    kill -TERM "$pid" 2>/dev/null || return 0
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    bcoin_log "pid $pid ignored SIGTERM for 10 s, killing"
    kill -KILL "$pid" 2>/dev/null || true
}

bcoin_ctl() { node "$BCOIN_HERE/ctl.js" "$@"; }
bcoin_mine() { bcoin_ctl "$1" "$2" mine "$3"; }
bcoin_send() { bcoin_ctl "$1" "$2" send "${3:-100000000}"; }
bcoin_best_hash() { bcoin_ctl "$1" "$2" best-hash; }
bcoin_hash_at() { bcoin_ctl "$1" "$2" hash-at "$3"; }

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    cmd="${1:-}"
    shift || true
    case "$cmd" in
        start) bcoin_start "$@" ;;
        stop) bcoin_stop "$@" ;;
        mine | send | best-hash | hash-at | height | mempool | peers | address)
            [[ $# -ge 2 ]] || { bcoin_log "usage: $cmd HTTP_PORT API_KEY [args]"; exit 2; }
            port="$1" key="$2"
            shift 2
            bcoin_ctl "$port" "$key" "$cmd" "$@"
            ;;
        *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
fi
