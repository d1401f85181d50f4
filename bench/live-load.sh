#!/usr/bin/env bash
# Live capture under load: replays generated captures with tcpreplay into a
# veth pair inside a network namespace of its own while `btcsniff live`
# captures the other end, at fixed rates and at top speed, with
# `live --threads 1` and `--threads` = cores; prints a table and the rate
# at which losses begin for each (also saved as bench/out/live-load.md).
# Needs root (namespaces).
#
#   bench/live-load.sh                        # inv and blocks, 100/300/1000 Mbps and top speed
#   THREADS=1,2,4 bench/live-load.sh          # other --threads counts
#   LOAD_MB=64 RATES=300,top bench/live-load.sh
#   LIVE_ARGS="-B 2048" bench/live-load.sh    # e.g. libpcap's old 2 MB buffer
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${LOAD_MB:-32}
OUT=${BENCH_OUT:-bench/out}
mkdir -p "$OUT"
bash scripts/setup.sh
command -v tcpreplay >/dev/null || {
  echo "live-load: installing tcpreplay" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpreplay >/dev/null
}
cargo build --release --quiet --bin btcsniff --example gencap
for w in inv blocks; do
  if [ ! -f "$OUT/load-$w.pcap" ] || [ "$(cat "$OUT/load-$w.mb" 2>/dev/null)" != "$MB" ]; then
    target/release/examples/gencap --workload "$w" --megabytes "$MB" --out "$OUT/load-$w.pcap" >/dev/null 2>&1
    echo "$MB" > "$OUT/load-$w.mb"
  fi
done
python3 bench/live_load.py --btcsniff target/release/btcsniff --out "$OUT/live-load" \
  --rates "${RATES:-100,300,1000,top}" --live-args "${LIVE_ARGS:-}" \
  --threads "${THREADS:-1,$(nproc)}" \
  "$OUT/load-inv.pcap" "$OUT/load-blocks.pcap" | tee "$OUT/live-load.md"
