//! Drops are news: when libpcap's drop counters move during a live
//! capture, a `note` says so at once, with the counts (README, "Live
//! capture"). A tiny kernel buffer (-B 1) under a tcpreplay burst in a
//! network namespace of the test's own makes the kernel drop.

#[path = "support/live.rs"]
mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn can_run() -> bool {
    let ns = support::can_use_namespaces();
    let replay = Command::new("tcpreplay").arg("-V").output().is_ok();
    ns && replay
}

#[test]
fn drops_are_noted_while_capturing() {
    if !can_run() {
        let msg = "SKIPPED live drop test: needs root, network namespaces and tcpreplay";
        support::skip(msg);
        return;
    }
    let out = std::env::temp_dir().join(format!("btcsniff-drops-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let capture = out.join("blocks.pcap");
    let generated = Command::new(support::example("gencap"))
        .args(["--workload", "blocks", "--megabytes", "24", "--out"])
        .arg(&capture)
        .output()
        .expect("run gencap");
    assert!(generated.status.success());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-live-drops.sh");
    let status = Command::new("timeout")
        .args(["120", "unshare", "--net", "--", "bash"])
        .arg(&script)
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_btcsniff"))
        .arg(&capture)
        .status()
        .expect("run test-live-drops.sh");
    assert!(status.success(), "see {}", out.display());
    let lines: Vec<Value> = std::fs::read_to_string(out.join("live.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let stats = lines.last().expect("output");
    assert_eq!(stats["type"], "stats");
    let dropped = stats["capture"]["dropped"].as_u64().unwrap();
    assert!(dropped > 0, "a 1 KiB buffer under a burst drops: {stats}");
    let notes: Vec<&Value> = lines
        .iter()
        .filter(|v| v["type"] == "note" && v["source"] == "capture")
        .collect();
    assert!(!notes.is_empty(), "no drop note");
    let text = notes[0]["text"].as_str().unwrap();
    assert!(
        text.contains("dropped") && text.contains("raise -B"),
        "{text}"
    );
    // Said while capturing, not only in the final summary: the note is
    // stamped (wall clock) well before the capture was stopped, a second
    // after the replay ended.
    let stopped_at: f64 = std::fs::read_to_string(out.join("stopped_at"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let noted_at = notes[0]["ts"].as_f64().unwrap();
    assert!(
        noted_at < stopped_at - 0.4,
        "noted at {noted_at}, capture stopped at {stopped_at}"
    );
    // Also on stderr, for an operator whose output goes to a file.
    let stderr = std::fs::read_to_string(out.join("live.err")).unwrap();
    assert!(stderr.contains("dropped"), "{stderr}");
    let _ = std::fs::remove_dir_all(out);
}
