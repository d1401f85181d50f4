# Shared start of the test scripts that run real nodes
# (test-prometheus.sh, test-probe-bcoin.sh). Sourced after
# `set -euo pipefail`, then
#   netns_test_start "NAME BTCSNIFF OUT_DIR" "$@"
# sets `btcsniff` and `out` to absolute paths (creating OUT_DIR), re-runs
# the calling script under `unshare --net` (needs root) unless it already
# runs in a namespace whose only link is lo, and brings lo up.
# `ok` and `fail` print a check's result; `failures` counts the FAILs.

netns_test_start() {
    local usage=$1
    shift
    btcsniff=${1:?usage: $usage}
    out=${2:?usage: $usage}
    btcsniff="$(cd "$(dirname "$btcsniff")" && pwd)/$(basename "$btcsniff")"
    mkdir -p "$out"
    out="$(cd "$out" && pwd)"
    if [[ "$(ip -o link show | wc -l)" != 1 ]]; then
        exec unshare --net -- bash "${BASH_SOURCE[1]}" "$btcsniff" "$out"
    fi
    ip link set lo up
}

failures=0
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
