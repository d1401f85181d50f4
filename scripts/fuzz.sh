#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 1800), at most two
# at a time, niced. Corpora live in fuzz/corpus/TARGET (git-ignored), seeded
# from the real captures; crashes land in fuzz/artifacts/TARGET; each run's
# log is fuzz/logs/TARGET-DATE.log and its final stats line is printed.
#
#   scripts/fuzz.sh 1800                  # all seven targets
#   scripts/fuzz.sh 600 framing messages  # some of them
#
# A crash found here becomes a file under tests/data/fuzz-regressions/TARGET/
# (tests/hostile_fuzz_regressions.rs replays them in `cargo test`).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"
secs=${1:-1800}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(framing messages reassembly read_pipeline core_capture v2_decoder keylog)
jobs=${FUZZ_JOBS:-2}
export RUSTC_BOOTSTRAP=1

# Built once, before any run: a run never rebuilds, so editing the sources
# while fuzzing cannot break (or silently change) a run. FUZZ_SKIP_BUILD=1
# reuses the binaries as they are.
if [ -z "${FUZZ_SKIP_BUILD:-}" ]; then
    nice -n 19 cargo fuzz build -O >/dev/null
fi
bin=target/x86_64-unknown-linux-gnu/release

seed() {
    local target=$1 dir="corpus/$1"
    mkdir -p "$dir"
    [ -n "$(ls -A "$dir")" ] && return 0
    case $target in
        read_pipeline)
            cp "$root"/tests/data/*.pcap "$root"/tests/data/*/*.pcap "$root"/samples/*.pcap "$dir"/
            python3 "$root/scripts/fuzz_seeds.py" pcapng "$dir" "$root"/tests/data/jnewbery-regtest/*.pcap ;;
        framing)
            python3 "$root/scripts/fuzz_seeds.py" streams "$dir" "$root"/tests/data/*.pcap "$root"/tests/data/*/*.pcap "$root"/samples/*.pcap ;;
        messages)
            python3 "$root/scripts/fuzz_seeds.py" payloads "$dir" "$root"/tests/data/*.pcap "$root"/tests/data/*/*.pcap "$root"/samples/*.pcap ;;
        core_capture)
            python3 "$root/scripts/fuzz_seeds.py" corecap "$dir" "$root"/tests/data/*.pcap "$root"/tests/data/*/*.pcap "$root"/samples/*.pcap ;;
        reassembly) ;;
        v2_decoder)
            # Scripted sessions (odd first byte) and raw ciphertext after a
            # real terminator (first byte 2).
            printf '\x01\x07\x02\x00\x05\x01\x09\x02\x03' >"$dir/scripted"
            printf '\x83\x10\x04\x00\x20\x01\x30\x00\x40' >"$dir/scripted-regtest"
            head -c 512 "$root/tests/data/jnewbery-regtest/block.pcap" | { printf '\x02'; cat; } >"$dir/raw" ;;
        keylog)
            { printf '\x05'; printf '# keys\nBIP324 %s %s\nCLIENT_RANDOM 00 11\n' \
                "$(printf 'ab%.0s' $(seq 64))" "$(printf 'cd%.0s' $(seq 32))"; } >"$dir/lines" ;;
    esac
}

run() {
    local target=$1 log
    seed "$target"
    mkdir -p logs "artifacts/$target"
    log="logs/$target-$(date -u +%Y%m%dT%H%M%S).log"
    local max_len=4096
    [ "$target" = read_pipeline ] && max_len=65536
    [ "$target" = framing ] && max_len=65536
    [ "$target" = core_capture ] && max_len=65536
    # -rss_limit_mb / -malloc_limit_mb: "balloon" is a crash too.
    nice -n 19 "$bin/$target" "corpus/$target" \
        -max_total_time="$secs" -max_len="$max_len" -timeout=10 \
        -rss_limit_mb=1024 -malloc_limit_mb=512 -print_final_stats=1 \
        -artifact_prefix="artifacts/$target/" >"$log" 2>&1 || true
    local execs
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "$target: ${execs:-?} execs in ${secs}s; log $log; crashes: $(ls "artifacts/$target" | wc -l)"
}

running=0
for t in "${targets[@]}"; do
    run "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
