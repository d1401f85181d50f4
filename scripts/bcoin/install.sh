#!/usr/bin/env bash
# Install the pinned bcoin full node (bcoin@1.0.2) into <repo>/.cache/bcoin.
#
# Used by the probe and live-capture tests; the node itself is only ever run
# inside a loopback-only network namespace (see node.sh).
#
# - package.json pins bcoin 1.0.2 and overrides leveldown to 6.1.1 (bcoin's
#   leveldown 4.0.1 does not build on Node 20); allowScripts lets npm >= 11
#   run the native builds (node-gyp) that bcoin's dependencies need.
# - package-lock.json pins the whole tree; `npm ci` installs exactly it.
# - Idempotent: skips when the cache holds an install of exactly these files.
# Prints what it does to stderr; prints nothing on stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="$repo/.cache/bcoin"
stamp="$cache/.installed"

log() { echo "bcoin/install: $*" >&2; }

want_stamp() {
    # What an up-to-date install was made from: both manifests + node version.
    cat "$here/package.json" "$here/package-lock.json"
    node --version
}

if [[ -f "$stamp" ]] && cmp -s "$stamp" <(want_stamp) \
    && [[ -f "$cache/node_modules/bcoin/package.json" ]]; then
    log "already installed in $cache (skipping)"
    exit 0
fi

command -v node >/dev/null || { log "node not found"; exit 1; }
command -v npm >/dev/null || { log "npm not found"; exit 1; }

log "installing bcoin@1.0.2 into $cache (node $(node --version), npm $(npm --version 2>/dev/null))"
mkdir -p "$cache"
rm -rf "$cache/node_modules" "$stamp"
cp "$here/package.json" "$here/package-lock.json" "$cache/"

# node-gyp must not download Node headers (only the npm registry is reachable):
# point it at the headers installed with Node when nobody chose a nodedir.
if [[ -z "${npm_config_nodedir:-}" ]] && [[ -f /usr/include/node/node.h ]]; then
    export npm_config_nodedir=/usr
    log "using Node headers from /usr/include/node for native builds"
fi

start=$(date +%s)
(cd "$cache" && npm ci --no-audit --no-fund --loglevel=error 1>&2)
log "npm ci took $(( $(date +%s) - start )) s"

# Check that what bcoin needs at run time loads.
bcoin_version="$(cd "$cache" && node -p "require('bcoin/package.json').version")"
leveldown_version="$(cd "$cache" && node -p "require('leveldown/package.json').version")"
(cd "$cache" && node -e "require('bcoin/lib/node/fullnode'); require('bcoin/lib/wallet/plugin')") \
    || { log "bcoin does not load"; exit 1; }
[[ "$bcoin_version" == "1.0.2" ]] || { log "unexpected bcoin version $bcoin_version"; exit 1; }
log "installed bcoin $bcoin_version (leveldown $leveldown_version)"

want_stamp >"$stamp"
