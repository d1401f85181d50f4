#!/usr/bin/env bash
# Installs what btcsniff needs on a fresh Debian machine: libpcap's runtime
# (loaded at run time, see src/capture/libpcap; live tests need it), jq for the recipe tests,
# chromium for the report's browser test, and prometheus for the metrics test.
# Idempotent; needs root only when something is missing.
set -euo pipefail
missing=()
ldconfig -p | grep -q 'libpcap\.so\.' || missing+=(libpcap0.8)
command -v ip >/dev/null || missing+=(iproute2)
# The README's jq recipes are run by the tests with the system jq.
[ -x /usr/bin/jq ] || missing+=(jq)
# The live drop test replays a capture into a veth pair.
command -v tcpreplay >/dev/null || missing+=(tcpreplay)
# The report test opens `btcsniff report` pages in headless Chromium.
command -v chromium >/dev/null || missing+=(chromium)
# The metrics test has a real Prometheus scrape `live --metrics`.
command -v prometheus >/dev/null || missing+=(prometheus)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  if [ "$(id -u)" != 0 ]; then
    echo "setup: need root to install ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
