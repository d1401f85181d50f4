#!/usr/bin/env python3
"""Times btcsniff (and tshark when installed) on the generated captures, with
--threads 1 and --threads = cores, and prints the table the README shows.
Run through bench/run.sh."""
import argparse, json, os, shutil, statistics, subprocess, sys, time

BIN = "target/release/btcsniff"
HASHLIMIT = "target/release/examples/hashlimit"
# tshark is ~100x slower: it runs once, on the first packets of each
# capture, and btcsniff is timed on exactly the same slice for the ratio.
TSHARK_SLICE_PACKETS = 50000
# --threads 1 (the single-threaded analyzer) and every core, side by side
# in the same run; "of limit" is against one core's hashing limit.
THREAD_COUNTS = sorted({1, os.cpu_count() or 1})


def timed(cmd):
    """Runs cmd with stdout to /dev/null; returns (seconds, peak RSS KiB)."""
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    rss = int(p.stderr.strip().splitlines()[-1])
    return dt, rss


def median_run(cmd, runs):
    return median_runs([cmd], runs)[0]


def median_runs(cmds, runs):
    """Runs every command `runs` times, taking turns (this machine's speed
    drifts over minutes: commands compared with each other see the same
    drift); per command, the median time and the peak RSS."""
    results = [[] for _ in cmds]
    for _ in range(runs):
        for cmd, times in zip(cmds, results):
            times.append(timed(cmd))
    return [(statistics.median(r[0] for r in times), max(r[1] for r in times)) for times in results]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for workload in ("blocks", "inv", "one-flow"):
        pcap = os.path.join(args.out, f"{workload}.pcap")
        side = json.load(open(pcap + ".json"))
        size_mb = os.path.getsize(pcap) / 1e6
        # The hashing limit: time the sha2 crate over the bytes the default
        # output needs hashed (checksums + txids), in memory.
        hl = subprocess.run([HASHLIMIT, pcap + ".json"], capture_output=True, text=True, check=True)
        hash_secs = float(json.loads(hl.stdout)["seconds"])
        limit_mbs = size_mb / hash_secs
        # The default outputs, and for blocks also JSON with -v: whole
        # transactions inside blocks (scripts and witnesses in hex) instead
        # of summaries.
        variants = [("json", []), ("text", [])]
        if workload == "one-flow":
            variants = [("json", [])]
        if workload == "blocks":
            variants.append(("json -v", ["-v"]))
        for label, extra in variants:
            fmt = label.split()[0]
            base = None
            cmds = [[BIN, "read", pcap, "--format", fmt, "--threads", str(t)] + extra for t in THREAD_COUNTS]
            for threads, (secs, rss) in zip(THREAD_COUNTS, median_runs(cmds, args.runs)):
                base = base or secs
                rows.append({
                    "workload": workload, "format": label, "threads": threads,
                    "MB/s": size_mb / secs, "msgs/s": side["messages"] / secs,
                    "RSS MiB": rss / 1024, "limit MB/s": limit_mbs,
                    "of limit": (size_mb / secs) / limit_mbs,
                    "speed-up": base / secs, "seconds": secs,
                })
        if shutil.which("tshark") and shutil.which("editcap") and workload != "one-flow":
            sl = os.path.join(args.out, f"{workload}-slice.pcap")
            subprocess.run(["editcap", "-r", pcap, sl, f"1-{TSHARK_SLICE_PACKETS}"], check=True)
            sl_mb = os.path.getsize(sl) / 1e6
            t_secs, _ = timed(["tshark", "-r", sl, "-d", "tcp.port==8333,bitcoin", "-T", "ek"])
            for r in rows:
                if r["workload"] != workload:
                    continue
                o_secs, _ = median_run([BIN, "read", sl, "--format", "json", "--threads", str(r["threads"])], args.runs) \
                    if r["format"] == "json" else (None, None)
                r["tshark MB/s"] = sl_mb / t_secs
                if o_secs:
                    r["x tshark"] = (sl_mb / o_secs) / (sl_mb / t_secs)
            os.remove(sl)
    load = open("/proc/loadavg").read().split()[:3]
    print(f"{args.runs} runs (median), {os.cpu_count()} CPUs, load average at the end: {' '.join(load)}")
    print()
    cols = ["workload", "format", "threads", "MB/s", "msgs/s", "RSS MiB", "speed-up", "limit MB/s", "of limit",
            "tshark MB/s", "x tshark"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "-")
            if isinstance(v, float):
                v = f"{v:.0%}" if c == "of limit" else (f"{v:,.0f}" if v >= 100 else f"{v:.1f}")
            if c == "speed-up" and isinstance(r.get(c), float):
                v = f"{r[c]:.2f}x"
            cells.append(str(v))
        print("| " + " | ".join(cells) + " |")
    json.dump(rows, open(os.path.join(args.out, "results.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
