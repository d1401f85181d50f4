#!/usr/bin/env python3
"""Live capture under load (run through bench/live-load.sh).

For each workload and rate: a fresh network namespace with a veth pair
(v0, v1); `btcsniff live -i v1` captures, JSON to a file, `--stats`;
`tcpreplay -i v0` replays the workload's capture at the rate; then the
capture is stopped with SIGINT. Reported per run: the rate tcpreplay
reached, packets sent, libpcap received and dropped, and messages decoded
against `btcsniff read` of the same file.

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
"$BTCSNIFF" live -i v1 -f tcp --format json --stats $LIVE_ARGS > "$OUT/live.jsonl" 2> "$OUT/live.err" &
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


def one_run(btcsniff, capture, rate, out, live_args):
    os.makedirs(out, exist_ok=True)
    rate_arg = "--topspeed" if rate == "top" else f"--mbps={rate}"
    env = dict(os.environ, BTCSNIFF=btcsniff, OUT=out, CAPTURE=capture,
               RATE=rate_arg, LIVE_ARGS=live_args)
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
    ap.add_argument("captures", nargs="+")
    a = ap.parse_args()
    print(f"| workload | asked | reached Mbps | packets sent | libpcap received | dropped | messages (live / read) |")
    print("|---|---|---|---|---|---|---|")
    for capture in a.captures:
        name = os.path.basename(capture).split(".")[0]
        read = subprocess.run([a.btcsniff, "read", capture, "--format", "json"],
                              capture_output=True, text=True, check=True)
        expected, _ = count_messages(read.stdout)
        for rate in a.rates.split(","):
            r = one_run(a.btcsniff, capture, rate, os.path.join(a.out, f"{name}-{rate}"), a.live_args)
            asked = "top speed" if rate == "top" else f"{rate} Mbps"
            print(f"| {name} | {asked} | {r['mbps']} | {r['sent']} | {r['received']} | "
                  f"{r['dropped']} | {r['messages']:,} / {expected:,} |", flush=True)
            time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
