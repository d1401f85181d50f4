//! Live capture for real: inside a network namespace of its own (lo only,
//! nothing can leave the machine), btcsniff captures a scripted peer's
//! conversations on 127.0.0.1, is stopped with SIGINT, and its `-w` file is
//! read back. Needs root and `unshare`; without them it says SKIPPED loudly
//! (and fails under CI=true, where it must run).

#[path = "support/live.rs"]
mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const CONNECTIONS: usize = 3;

/// What `testpeer client` sends on each connection, in order.
const TESTPEER_CLIENT: [&str; 4] = ["version", "verack", "ping", "getdata"];

fn testpeer() -> PathBuf {
    support::example("testpeer")
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn run_live(name: &str, connections: usize) -> Option<PathBuf> {
    run_live_with(name, connections, "testpeer")
}

thread_local! {
    /// The signal that stops the capture (INT, or TERM as a service manager sends).
    static STOP_SIGNAL: std::cell::Cell<&'static str> = const { std::cell::Cell::new("INT") };
}

fn bcoin_installed() -> bool {
    support::bcoin_missing().is_none()
}

fn run_live_with(name: &str, connections: usize, server: &str) -> Option<PathBuf> {
    if !support::can_use_namespaces() {
        let msg = "SKIPPED live capture test: needs root and network namespaces (unshare --net)";
        support::skip(msg);
        return None;
    }
    let out = std::env::temp_dir().join(format!("btcsniff-live-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-live.sh");
    let status = Command::new("timeout")
        .env("STOP_SIGNAL", STOP_SIGNAL.get())
        .arg("120")
        .args(["unshare", "--net", "--", "bash"])
        .arg(&script)
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_btcsniff"))
        .arg(testpeer())
        .arg(connections.to_string())
        .arg(server)
        .status()
        .expect("run test-live.sh");
    assert!(
        status.success(),
        "test-live.sh failed: see {}",
        out.display()
    );
    Some(out)
}

fn commands(lines: &[Value], src_port_is_server: bool) -> Vec<String> {
    lines
        .iter()
        .filter(|v| v["type"] == "message")
        .filter(|v| v["src"].as_str().unwrap().ends_with(":18444") == src_port_is_server)
        .map(|v| v["command"].as_str().unwrap().to_string())
        .collect()
}

fn repeat(items: &[String], n: usize) -> Vec<String> {
    items
        .iter()
        .cycle()
        .take(items.len() * n)
        .cloned()
        .collect()
}

#[test]
fn live_capture_on_lo_sees_every_message_and_w_file_reads_back() {
    let Some(out) = run_live("basic", CONNECTIONS) else {
        return;
    };
    let live = lines(&out.join("live.jsonl"));
    let client: Vec<String> = TESTPEER_CLIENT.iter().map(|s| s.to_string()).collect();
    let server: Vec<String> = [
        "version",
        "wtxidrelay",
        "sendaddrv2",
        "verack",
        "sendcmpct",
        "feefilter",
        "pong",
        "notfound",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(commands(&live, false), repeat(&client, CONNECTIONS));
    assert_eq!(commands(&live, true), repeat(&server, CONNECTIONS));
    assert!(
        live.iter()
            .filter(|v| v["type"] == "message")
            .all(|v| v["checksum"] == "valid" && v["network"] == "regtest")
    );
    let ends: Vec<_> = live
        .iter()
        .filter(|v| v["type"] == "flow" && v["event"] == "end")
        .collect();
    assert_eq!(ends.len(), CONNECTIONS);
    assert!(
        ends.iter()
            .all(|e| e["transport"] == "v1" && e["syn_seen"] == true)
    );
    let stats = live.last().unwrap();
    assert_eq!(stats["type"], "stats");
    assert_eq!(
        stats["messages"],
        (client.len() + server.len()) * CONNECTIONS
    );
    assert!(stats["capture"]["received"].as_u64().unwrap() > 0);
    assert_eq!(stats["capture"]["dropped"], 0);

    // The -w file read back gives the same messages, byte for byte in JSON.
    let read = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .arg(out.join("live.pcap"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(read.status.success());
    let text = String::from_utf8_lossy(&read.stdout);
    let from_file: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let msgs = |v: &[Value]| -> Vec<Value> {
        v.iter()
            .filter(|x| x["type"] == "message")
            .cloned()
            .collect()
    };
    assert_eq!(msgs(&from_file), msgs(&live));
    let _ = std::fs::remove_dir_all(out);
}

/// Many connections: every flow's state is freed on FIN, so memory stays
/// flat (peak RSS bounded, measured from /proc, not timed).
#[test]
fn live_memory_stays_flat_over_many_connections() {
    let n = 200;
    STOP_SIGNAL.set("TERM");
    let Some(out) = run_live("many", n) else {
        return;
    };
    let live = lines(&out.join("live.jsonl"));
    let ends = live
        .iter()
        .filter(|v| v["type"] == "flow" && v["event"] == "end")
        .count();
    assert_eq!(ends, n);
    // Stopped by SIGTERM: the summary was still written.
    assert_eq!(live.last().unwrap()["type"], "stats");
    let hwm_kib: u64 = std::fs::read_to_string(out.join("hwm_kib"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // libpcap's ring (-B) is mapped into the process and counts in RSS
    // once the kernel has written to it: a fixed cost beside the flows'.
    let ring_kib = u64::from(btcsniff::capture::live::DEFAULT_BUFFER_KIB);
    assert!(
        hwm_kib < 48 * 1024 + ring_kib,
        "peak RSS {hwm_kib} KiB over {n} connections (ring {ring_kib} KiB)"
    );
    let _ = std::fs::remove_dir_all(out);
}

/// The same capture against a real full node (bcoin on regtest, in the
/// namespace): our client's handshake, ping and getdata, bcoin's answers.
#[test]
fn live_capture_of_a_real_bcoin_node() {
    if !bcoin_installed() {
        let msg = "SKIPPED live capture against bcoin: run scripts/bcoin/install.sh first";
        support::skip(msg);
        return;
    }
    let Some(out) = run_live_with("bcoin", 2, "bcoin") else {
        return;
    };
    let live = lines(&out.join("live.jsonl"));
    let client: Vec<String> = TESTPEER_CLIENT.iter().map(|s| s.to_string()).collect();
    assert_eq!(commands(&live, false), repeat(&client, 2));
    let from_node = commands(&live, true);
    for needed in ["version", "verack", "pong", "notfound"] {
        let n = from_node.iter().filter(|c| *c == needed).count();
        assert_eq!(n, 2, "{needed} from bcoin: {from_node:?}");
    }
    let agents: Vec<_> = live
        .iter()
        .filter(|v| v["command"] == "version" && v["src"].as_str().unwrap().ends_with(":18444"))
        .map(|v| v["payload"]["user_agent"].as_str().unwrap().to_string())
        .collect();
    assert!(
        agents.iter().all(|a| a.starts_with("/bcoin:")),
        "{agents:?}"
    );
    assert!(
        live.iter()
            .filter(|v| v["type"] == "message")
            .all(|v| v["checksum"] == "valid")
    );
    let _ = std::fs::remove_dir_all(out);
}

/// `live --probe`: the probe runs while the capture shows its session.
#[test]
fn live_alongside_probe_shows_the_probe_session() {
    if !support::can_use_namespaces() {
        eprintln!("\n*** SKIPPED live --probe test: needs root and network namespaces ***\n");
        assert!(std::env::var_os("CI").is_none(), "CI must run it");
        return;
    }
    let out = std::env::temp_dir().join(format!("btcsniff-live-{}-probe", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-live-probe.sh");
    let status = Command::new("timeout")
        .arg("120")
        .args(["unshare", "--net", "--", "bash"])
        .arg(&script)
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_btcsniff"))
        .arg(testpeer())
        .status()
        .unwrap();
    assert!(status.success());
    let rc = std::fs::read_to_string(out.join("rc")).unwrap();
    assert_eq!(rc.trim(), "3", "notfound is exit 3");
    let live = lines(&out.join("alongside.jsonl"));
    let to_peer = commands(&live, false);
    let from_peer = commands(&live, true);
    assert_eq!(to_peer.first().map(String::as_str), Some("version"));
    assert!(to_peer.contains(&"getdata".to_string()), "{to_peer:?}");
    assert!(from_peer.contains(&"notfound".to_string()), "{from_peer:?}");
    let agents: Vec<_> = live
        .iter()
        .filter(|v| v["command"] == "version" && !v["src"].as_str().unwrap().ends_with(":18444"))
        .map(|v| v["payload"]["user_agent"].as_str().unwrap().to_string())
        .collect();
    assert!(
        agents.iter().all(|a| a.starts_with("/btcsniff:")),
        "{agents:?}"
    );
    let notes: Vec<_> = live.iter().filter(|v| v["type"] == "note").collect();
    assert!(
        notes
            .iter()
            .any(|n| n["text"].as_str().unwrap().contains("notfound")),
        "{notes:?}"
    );
    let _ = std::fs::remove_dir_all(out);
}

/// `live --probe --transport v2`: the capture decrypts the probe's own
/// BIP324 session (key handed over by the probe, no key file).
#[test]
fn live_alongside_a_v2_probe_decrypts_its_session() {
    if !support::can_use_namespaces() {
        eprintln!("\n*** SKIPPED live --probe v2 test: needs root and network namespaces ***\n");
        assert!(std::env::var_os("CI").is_none(), "CI must run it");
        return;
    }
    let out = std::env::temp_dir().join(format!("btcsniff-live-{}-probe-v2", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-live-probe-v2.sh");
    let v2peer = testpeer().with_file_name("v2peer");
    let status = Command::new("timeout")
        .arg("120")
        .args(["unshare", "--net", "--", "bash"])
        .arg(&script)
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_btcsniff"))
        .arg(&v2peer)
        .status()
        .unwrap();
    assert!(status.success());
    let rc = std::fs::read_to_string(out.join("rc")).unwrap();
    let err = std::fs::read_to_string(out.join("alongside.err")).unwrap_or_default();
    assert_eq!(rc.trim(), "3", "notfound is exit 3: {err}");
    let live = lines(&out.join("alongside.jsonl"));
    let session_id = live
        .iter()
        .filter(|v| v["type"] == "note")
        .find_map(|v| {
            v["text"]
                .as_str()?
                .strip_prefix("transport: v2 (BIP324, session id ")
                .map(|s| s.trim_end_matches(')').to_string())
        })
        .unwrap_or_else(|| panic!("no transport note: {live:?}"));
    assert!(
        live.iter()
            .any(|v| v["event"] == "decrypting" && v["v2"]["session_id"] == session_id.as_str()),
        "{live:?}"
    );
    let to_peer = commands(&live, false);
    let from_peer = commands(&live, true);
    assert_eq!(to_peer.first().map(String::as_str), Some("version"));
    assert!(to_peer.contains(&"getdata".to_string()), "{to_peer:?}");
    assert!(from_peer.contains(&"notfound".to_string()), "{from_peer:?}");
    let messages: Vec<_> = live.iter().filter(|v| v["type"] == "message").collect();
    assert!(
        messages.iter().all(|v| v["transport"] == "v2"),
        "{messages:?}"
    );
    assert!(
        !live.iter().any(|v| v["type"] == "finding"),
        "no finding: {live:?}"
    );
    assert!(
        live.iter()
            .any(|v| v["event"] == "end" && v["v2"]["decryption"] == "decrypted"),
        "{live:?}"
    );
    let _ = std::fs::remove_dir_all(out);
}
