#!/usr/bin/env bash
# Throughput benchmark: generates the `blocks`, `inv` and `one-flow`
# captures, runs btcsniff over them (JSON and text to /dev/null) with
# --threads 1 and --threads = cores, and prints capture MB/s, messages/s,
# peak RSS, the speed-up, the fraction of the (one-core) hashing limit and,
# when tshark is installed, the ratio to tshark on a slice of the same
# capture. tshark and editcap are used when present (Debian:
# `DEBIAN_FRONTEND=noninteractive apt-get install -y tshark`); they are not
# installed by scripts/setup.sh, since no test needs them.
#
#   bench/run.sh                 # 1024 MB per workload, 3 runs, median
#   BENCH_MB=256 RUNS=5 bench/run.sh
#
# Captures go to bench/out (git-ignored) and are deleted after the report
# unless BENCH_KEEP=1; the table is also saved as bench/out/results.md and
# bench/out/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${BENCH_MB:-1024}
RUNS=${RUNS:-3}
OUT=${BENCH_OUT:-bench/out}
mkdir -p "$OUT"
bash scripts/setup.sh
cargo build --release --quiet --bin btcsniff --example gencap --example hashlimit
# one-flow: the blocks workload in a single flow, which flow-sharded
# workers cannot split (--threads = cores must not be slower there).
for w in blocks inv one-flow; do
  if [ ! -f "$OUT/$w.pcap" ] || [ "$(cat "$OUT/$w.mb" 2>/dev/null)" != "$MB" ]; then
    echo "generating $w ($MB MB)..." >&2
    case $w in
      one-flow) gen=(--workload blocks --flows 1) ;;
      *) gen=(--workload "$w") ;;
    esac
    target/release/examples/gencap "${gen[@]}" --megabytes "$MB" --out "$OUT/$w.pcap" > /dev/null
    echo "$MB" > "$OUT/$w.mb"
  fi
done
python3 bench/report.py --out "$OUT" --runs "$RUNS" | tee "$OUT/results.md"
if [ "${BENCH_KEEP:-0}" != 1 ]; then
  rm -f "$OUT"/*.pcap "$OUT"/*.mb
fi
