#!/usr/bin/env python3
"""Live capture under load (run through bench/live-load.sh).

For each workload and rate: a fresh network namespace with a veth pair
(v0, v1); `btcsniff live -i v1` captures, JSON to a file, `--stats`;
`tcpreplay -i v0` replays the workload's capture at the rate; then the
capture is stopped with SIGINT. Reported per run: the rate tcpreplay
reached, packets sent, libpcap received and dropped, and messages decoded
against `btcsniff read` of the same file. Each workload is run with every
`--threads` count asked (default: 1 and every core), and a second table
gives, per workload and thread count, the lowest rate asked at which
packets were lost (libpcap drops, or fewer messages than `read` finds),
and the lowest at which libpcap itself dropped.

Only the namespace's own interfaces are touched: nothing leaves it.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

NAMESPACE_SCRIPT = r"""
set -euo pipefail
ip link set lo up
ip link add v0 type veth peer name v1
ip link set v0 up
ip link set v1 up
# No IPv6 chatter (router solicitations) in the measurement.
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true
"$BTCSNIFF" live -i v1 -f tcp --format json --stats --threads "$THREADS" $LIVE_ARGS > "$OUT/live.jsonl" 2> "$OUT/live.err" &
pid=$!
for _ in $(seq 1 100); do
  grep -q 'listening on' "$OUT/live.err" && break
  sleep 0.05
done
tcpreplay -i v0 $RATE "$CAPTURE" > "$OUT/replay.txt" 2>&1 || true
sleep 1
kill -INT "$pid"
wait "$pid" || true
"""


def count_messages(jsonl_text):
    n = 0
    stats = None
    for line in jsonl_text.splitlines():
        try:
            v = json.loads(line)
        except ValueError:
            continue
        if v.get("type") == "message":
            n += 1
        elif v.get("type") == "stats":
            stats = v
    return n, stats


def replay_figures(text):
    sent = re.search(r"Actual: (\d+) packets \((\d+) bytes\) sent in ([\d.]+) seconds", text)
    rated = re.search(r"Rated: [\d.]+ Bps, ([\d.]+) Mbps", text)
    return (
        int(sent.group(1)) if sent else None,
        float(rated.group(1)) if rated else None,
    )


def one_run(btcsniff, capture, rate, out, live_args, threads):
    os.makedirs(out, exist_ok=True)
    rate_arg = "--topspeed" if rate == "top" else f"--mbps={rate}"
    env = dict(os.environ, BTCSNIFF=btcsniff, OUT=out, CAPTURE=capture,
               RATE=rate_arg, LIVE_ARGS=live_args, THREADS=str(threads))
    subprocess.run(["timeout", "600", "unshare", "--net", "--", "bash", "-c", NAMESPACE_SCRIPT],
                   env=env, check=True)
    with open(os.path.join(out, "live.jsonl")) as f:
        messages, stats = count_messages(f.read())
    with open(os.path.join(out, "replay.txt")) as f:
        sent, mbps = replay_figures(f.read())
    capture_counters = (stats or {}).get("capture") or {}
    return {
        "rate": rate,
        "mbps": mbps,
        "sent": sent,
        "received": capture_counters.get("received"),
        "dropped": capture_counters.get("dropped"),
        "messages": messages,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--btcsniff", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rates", default="100,300,1000,top")
    ap.add_argument("--live-args", default="")
    ap.add_argument("--threads", default=f"1,{os.cpu_count() or 1}",
                    help="comma-separated --threads values for live")
    ap.add_argument("captures", nargs="+")
    a = ap.parse_args()
    thread_counts = sorted({int(t) for t in a.threads.split(",")})
    print(f"| workload | threads | asked | reached Mbps | packets sent | libpcap received | dropped | messages (live / read) |")
    print("|---|---|---|---|---|---|---|---|")
    # (workload, threads) -> the first rate asked at which something was
    # lost, and the highest rate reached without loss.
    onset = {}
    for capture in a.captures:
        name = os.path.basename(capture).split(".")[0]
        read = subprocess.run([a.btcsniff, "read", capture, "--format", "json"],
                              capture_output=True, text=True, check=True)
        expected, _ = count_messages(read.stdout)
        for threads in thread_counts:
            for rate in a.rates.split(","):
                out = os.path.join(a.out, f"{name}-t{threads}-{rate}")
                r = one_run(a.btcsniff, capture, rate, out, a.live_args, threads)
                asked = "top speed" if rate == "top" else f"{rate} Mbps"
                print(f"| {name} | {threads} | {asked} | {r['mbps']} | {r['sent']} | {r['received']} | "
                      f"{r['dropped']} | {r['messages']:,} / {expected:,} |", flush=True)
                dropped = (r["dropped"] or 0) > 0
                lost = dropped or r["messages"] < expected
                key = (name, threads)
                first_drop, first_loss, clean = onset.get(key, (None, None, None))
                at = f"{asked} (reached {r['mbps']} Mbps)"
                if dropped and first_drop is None:
                    first_drop = at
                if lost and first_loss is None:
                    first_loss = at
                if not lost and first_loss is None and r["mbps"] is not None:
                    clean = max(clean or 0.0, r["mbps"])
                onset[key] = (first_drop, first_loss, clean)
                time.sleep(0.5)
    print()
    # Losses without libpcap drops are packets the kernel lost before the
    # capture socket (received < sent: the veth's backlog when the cores
    # are busy), not btcsniff falling behind.
    print("| workload | threads | highest rate without loss (Mbps reached) | losses begin at | libpcap drops begin at |")
    print("|---|---|---|---|---|")
    none = "none up to the highest rate"
    for (name, threads), (first_drop, first_loss, clean) in onset.items():
        print(f"| {name} | {threads} | {clean if clean is not None else '-'} | "
              f"{first_loss or none} | {first_drop or none} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
