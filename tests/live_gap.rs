//! Live stays live after a lost packet: in a network namespace of its own
//! (lo only), two live captures watch a client ping a scripted peer five
//! times and then hold the connection open for 4 s; both captures' BPF
//! filters drop the segment of ping 2 (the peer still receives it). The
//! pings after the hole must be printed with their own capture times, long
//! before the connection closes:
//! - with both directions captured, the peer's ACK shows the hole is a
//!   gap: ping 3 comes out as soon as it is captured;
//! - with one direction only (no ACKs), the hole is given up after
//!   `--gap-timeout 1`: ping 3 comes out about a second later, not at the
//!   close.
//!
//! Needs root and `unshare`; without them it says SKIPPED loudly (and fails
//! under CI=true, where it must run).

#[path = "support/live.rs"]
mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Lines `WALL JSON`: when each line was written, and the line.
fn stamped(path: &Path) -> Vec<(f64, Value)> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| {
            let (wall, json) = l.split_once(' ').expect("stamped line");
            (
                wall.parse().expect("wall-clock time"),
                serde_json::from_str(json).expect("JSON line"),
            )
        })
        .collect()
}

fn ts(v: &Value) -> f64 {
    v["ts"].as_f64().expect("ts")
}

/// Pings from the client: (nonce, capture time, wall time written).
fn pings(lines: &[(f64, Value)]) -> Vec<(u64, f64, f64)> {
    lines
        .iter()
        .filter(|(_, v)| v["type"] == "message" && v["command"] == "ping")
        .map(|(wall, v)| {
            let nonce = v["payload"]["nonce"].as_str().unwrap().parse().unwrap();
            (nonce, ts(v), *wall)
        })
        .collect()
}

fn gaps(lines: &[(f64, Value)]) -> Vec<&Value> {
    lines
        .iter()
        .filter(|(_, v)| v["type"] == "finding" && v["kind"] == "gap")
        .map(|(_, v)| v)
        .collect()
}

fn flow_end(lines: &[(f64, Value)]) -> f64 {
    lines
        .iter()
        .find(|(_, v)| v["type"] == "flow" && v["event"] == "end")
        .map(|(_, v)| ts(v))
        .expect("flow end")
}

#[test]
fn after_a_dropped_packet_later_messages_come_out_at_once_with_their_own_times() {
    if !support::can_use_namespaces() {
        let msg = "SKIPPED live gap test: needs root and network namespaces (unshare --net)";
        support::skip(msg);
        return;
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_btcsniff"));
    let testpeer: PathBuf = bin.parent().unwrap().join("examples/testpeer");
    let out = std::env::temp_dir().join(format!("btcsniff-live-gap-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-live-gap.sh");
    let status = Command::new("timeout")
        .arg("90")
        .args(["unshare", "--net", "--", "bash"])
        .arg(&script)
        .arg(&out)
        .arg(bin)
        .arg(&testpeer)
        .status()
        .expect("run test-live-gap.sh");
    assert!(
        status.success(),
        "test-live-gap.sh failed: see {}",
        out.display()
    );

    // Both directions: the hole is a gap on the peer's ACK.
    let both = stamped(&out.join("both.jsonl"));
    let p = pings(&both);
    assert_eq!(
        p.iter().map(|x| x.0).collect::<Vec<_>>(),
        [1, 3, 4, 5],
        "ping 2 was dropped by the filter: {both:?}"
    );
    let g = gaps(&both);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0]["bytes"], 32, "one ping: header and nonce");
    let end = flow_end(&both);
    let (_, ts3, wall3) = p[1];
    assert!(end - ts3 > 3.0, "the connection stayed open after ping 3");
    for &(nonce, ts, wall) in &p {
        let delay = wall - ts;
        eprintln!("both directions: ping {nonce} written {delay:.3} s after capture");
        assert!(
            delay < 0.5,
            "ping {nonce} came out {delay:.3} s after it was captured"
        );
    }
    assert!(wall3 < end - 2.0, "ping 3 came out long before the close");
    // Their own times: the -w file read back has the same packets' times.
    let read = Command::new(bin)
        .arg("read")
        .arg(out.join("both.pcap"))
        .args(["--format", "json", "--command", "ping"])
        .output()
        .unwrap();
    assert!(read.status.success());
    let from_file: Vec<f64> = String::from_utf8_lossy(&read.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "message")
        .map(|v| ts(&v))
        .collect();
    assert_eq!(from_file, p.iter().map(|x| x.1).collect::<Vec<_>>());

    // One direction, no ACKs: the hole times out after 1 s of capture time
    // (moved on by the clock while no packet comes).
    let oneway = stamped(&out.join("oneway.jsonl"));
    let p = pings(&oneway);
    assert_eq!(p.iter().map(|x| x.0).collect::<Vec<_>>(), [1, 3, 4, 5]);
    assert_eq!(gaps(&oneway).len(), 1);
    let (_, ts3, wall3) = p[1];
    let delay = wall3 - ts3;
    eprintln!("one direction, --gap-timeout 1: ping 3 written {delay:.3} s after capture");
    assert!(
        (0.9..2.0).contains(&delay),
        "ping 3 came out {delay:.3} s after capture (gap timeout 1 s)"
    );
    for ((_, ts, _), file_ts) in p.iter().zip(&from_file) {
        assert!(
            (ts - file_ts).abs() < 0.001,
            "the same packets' times from either capture: {ts} vs {file_ts}"
        );
    }
    let _ = std::fs::remove_dir_all(out);
}
