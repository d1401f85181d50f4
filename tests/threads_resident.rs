//! With workers, a memory-mapped capture stays out of the resident set:
//! the reading thread gives pages back behind itself, but never one that a
//! round still in flight refers to (a worker reading it would fault it in
//! again, for good). Peak RSS (from the kernel, via /usr/bin/time) of a
//! generated blocks capture four times as large grows by less than a
//! quarter of the difference.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn gencap(dir: &Path, megabytes: u32) -> PathBuf {
    let gencap = support::live::example("gencap");
    let out = dir.join(format!("blocks-{megabytes}.pcap"));
    let mut cmd = Command::new(&gencap);
    cmd.args(["--workload", "blocks", "--megabytes"])
        .arg(megabytes.to_string())
        .arg("--out")
        .arg(&out);
    let done = support::run_bounded(cmd, Duration::from_secs(120));
    assert!(done.status.success(), "{}", done.stderr);
    out
}

/// Peak RSS in KiB of `read FILE --format json --threads 2` (text and
/// JSON alike map the file; JSON makes the workers the slower side).
fn peak_rss_kb(file: &Path) -> u64 {
    let rss_file = file.with_extension("rss");
    let mut cmd = support::run::bin_under_time(&rss_file);
    cmd.arg("read")
        .arg(file)
        .args(["--format", "json", "--threads", "2", "--command", "inv"]);
    let done = support::run_bounded(cmd, Duration::from_secs(300));
    assert!(done.status.success(), "{}", done.stderr);
    support::run::peak_rss_kb(&rss_file)
}

#[test]
fn a_mapped_capture_four_times_larger_keeps_the_resident_size() {
    let dir = support::scratch_dir("threads-resident");
    let small = gencap(&dir, 24);
    let large = gencap(&dir, 96);
    let small_kb = peak_rss_kb(&small);
    let large_kb = peak_rss_kb(&large);
    eprintln!("peak RSS: 24 MB capture {small_kb} KiB, 96 MB capture {large_kb} KiB");
    let _ = std::fs::remove_dir_all(&dir);
    let grown = large_kb.saturating_sub(small_kb);
    assert!(
        grown < 18 * 1024,
        "peak RSS grew by {grown} KiB ({small_kb} -> {large_kb} KiB) for 72 MB more capture"
    );
}
