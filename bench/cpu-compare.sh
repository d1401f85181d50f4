#!/usr/bin/env bash
# CPU time (user+sys) of two btcsniff binaries on the same captures, run
# interleaved, min and median of N runs: for before/after comparisons on
# a machine whose wall times are too noisy to compare.
#
#   bench/cpu-compare.sh BEFORE_BIN AFTER_BIN DIR [N] [-- extra args for AFTER]
#
# DIR holds blocks.pcap and inv.pcap (target/release/examples/gencap
# --workload blocks|inv --megabytes 256 --out DIR/X.pcap). Example, the
# single-threaded path against a build from before --threads existed:
#   bench/cpu-compare.sh old/btcsniff target/release/btcsniff /tmp/caps 9 -- --threads 1
# The extra arguments go to AFTER only: a BEFORE build that has --threads
# runs on every core unless wrapped (a script that execs it with
# "$@" --threads 1), and its CPU time is then not comparable.
set -euo pipefail
A=$1; B=$2; DIR=$3; N=${4:-9}
shift $(( $# >= 4 ? 4 : 3 ))
[ "${1:-}" = "--" ] && shift
EXTRA=("$@")
cpu() { { /usr/bin/time -f "%U %S" "$@" > /dev/null; } 2>&1 | awk 'END {print $1+$2}'; }
for cfg in "inv json" "blocks json -v" "blocks json" "inv text" "blocks text"; do
  set -- $cfg; f=$DIR/$1.pcap; fmt=$2; shift 2
  ra=(); rb=()
  for _ in $(seq "$N"); do
    ra+=("$(cpu "$A" read -q "$f" --format "$fmt" "$@")")
    rb+=("$(cpu "$B" read -q "${EXTRA[@]}" "$f" --format "$fmt" "$@")")
  done
  python3 - "$cfg" "${ra[*]}" "${rb[*]}" <<'PY'
import statistics, sys
cfg, a, b = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
pct = lambda x, y: f"{(y / x - 1) * 100:+.1f}%"
print(f"{cfg:16} min {min(a):.2f} -> {min(b):.2f} ({pct(min(a), min(b))})  "
      f"median {statistics.median(a):.2f} -> {statistics.median(b):.2f} ({pct(statistics.median(a), statistics.median(b))})")
PY
done
