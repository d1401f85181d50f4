//! `btcsniff probe` over BIP324 v2 (issue 14, item 4), on loopback:
//! against a responder built on rust-bitcoin's `bip324` crate
//! (examples/v2peer), against a v1-only peer (examples/testpeer, which
//! drops a connection that does not start with the magic, as Core does),
//! and against a peer that closes right after our key. Every peer is an
//! example process bounded by its own read deadlines and killed at the
//! end; every probe run is bounded by --timeout and a wall-clock kill.

mod support;

use serde_json::Value;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_btcsniff");
const RUN_BOUND: Duration = Duration::from_secs(60);

fn example(name: &str) -> PathBuf {
    Path::new(BIN).parent().unwrap().join("examples").join(name)
}

/// A loopback address with a port free a moment ago.
fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// An example peer listening on `addr`; killed (by its pid) on drop.
struct PeerProcess(Child);

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[allow(dead_code)]
fn spawn_peer(name: &str, args: &[&str], addr: SocketAddr) -> PeerProcess {
    let child = Command::new(example(name))
        .args(args)
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
    // Bounded wait until it listens.
    let start = Instant::now();
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{name} does not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    PeerProcess(child)
}

/// Like `spawn_peer`, without probing the port first (a peer that serves
/// one connection must not see a test connection).
fn spawn_peer_quiet(name: &str, args: &[&str]) -> PeerProcess {
    let child = Command::new(example(name))
        .args(args)
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
    std::thread::sleep(Duration::from_millis(300));
    PeerProcess(child)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    fn notes(&self) -> Vec<String> {
        self.json()
            .iter()
            .filter(|v| v["type"] == "note")
            .map(|v| v["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

fn btcsniff(args: &[&str]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    let done = support::run_bounded(cmd, RUN_BOUND);
    Run {
        code: done.status.code().unwrap_or(-1),
        stdout: done.stdout,
        stderr: done.stderr,
    }
}

fn probe(addr: SocketAddr, extra: &[&str]) -> Run {
    let addr = addr.to_string();
    let mut args = vec![
        "probe",
        &addr,
        "--network",
        "regtest",
        "--format",
        "json",
        "--tx",
        "1111111111111111111111111111111111111111111111111111111111111111",
    ];
    if !extra.contains(&"--timeout") {
        args.extend_from_slice(&["--timeout", "10"]);
    }
    args.extend_from_slice(extra);
    btcsniff(&args)
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("btcsniff-probe-v2-{}-{name}", std::process::id()))
}

/// What must be equal between the probe's messages and the read-back.
type MessageKey = (
    String,
    String,
    String,
    Option<u64>,
    String,
    Value,
    Value,
    Value,
);

fn messages(lines: &[Value]) -> Vec<MessageKey> {
    lines
        .iter()
        .filter(|v| v["type"] == "message")
        .map(|v| {
            (
                v["src"].as_str().unwrap_or_default().to_string(),
                v["dst"].as_str().unwrap_or_default().to_string(),
                v["command"].as_str().unwrap_or_default().to_string(),
                v["length"].as_u64(),
                v["checksum"].as_str().unwrap_or_default().to_string(),
                v["transport"].clone(),
                v["v2_encoding"].clone(),
                v["payload"].clone(),
            )
        })
        .collect()
}

/// The messages of one sender, in order.
fn from(list: &[MessageKey], src: &str) -> Vec<MessageKey> {
    list.iter().filter(|m| m.0 == src).cloned().collect()
}

#[test]
fn v2_probe_against_a_bip324_responder_reads_back_with_its_key_log() {
    let addr = free_addr();
    let a = addr.to_string();
    let _peer = spawn_peer_quiet("v2peer", &["serve", &a, "1"]);
    let keylog = temp_path("keys.log");
    let pcap = temp_path("session.pcap");
    let _ = std::fs::remove_file(&keylog);
    let (k, w) = (
        keylog.to_string_lossy().into_owned(),
        pcap.to_string_lossy().into_owned(),
    );
    let run = probe(
        addr,
        &[
            "--transport",
            "v2",
            "--decoys",
            "3",
            "--keylog",
            &k,
            "-w",
            &w,
        ],
    );
    // The responder answers getdata with notfound: exit 3.
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let notes = run.notes();
    let has = |s: &str| notes.iter().any(|n| n.contains(s));
    assert!(
        has("sent our garbage terminator, 3 decoy packets"),
        "{notes:?}"
    );
    assert!(has("the peer sent a decoy packet"), "{notes:?}");
    assert!(has("v2 session established"), "{notes:?}");
    assert!(has("notfound"), "{notes:?}");
    let session_id = notes
        .iter()
        .find_map(|n| n.strip_prefix("transport: v2 (BIP324, session id "))
        .expect("transport note")
        .trim_end_matches(')')
        .to_string();
    assert_eq!(session_id.len(), 64);

    let live = messages(&run.json());
    assert!(
        live.iter().all(|m| m.5 == "v2" && m.4 == "absent"),
        "{live:?}"
    );
    let commands: Vec<&str> = live.iter().map(|m| m.2.as_str()).collect();
    for c in ["version", "verack", "getdata", "notfound"] {
        assert!(commands.contains(&c), "{c}: {commands:?}");
    }

    // The key log: one line of the format.
    let text = std::fs::read_to_string(&keylog).unwrap();
    let fields: Vec<&str> = text.trim_end().split(' ').collect();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert_eq!(fields[0], "BIP324");
    assert_eq!((fields[1].len(), fields[2].len()), (128, 64), "{text}");

    // Encrypted on the wire: without the key nothing is decoded.
    let port = addr.port().to_string();
    let blind = btcsniff(&["read", &w, "--port", &port, "--format", "json"]);
    assert!(messages(&blind.json()).is_empty(), "{}", blind.stdout);
    assert!(
        blind
            .json()
            .iter()
            .any(|v| v["event"] == "end" && v["v2"]["decryption"] == "no_keylog"),
        "{}",
        blind.stdout
    );

    // With the key log: the same messages per direction, no finding.
    let read = btcsniff(&[
        "read", &w, "--keylog", &k, "--port", &port, "--format", "json",
    ]);
    let _ = std::fs::remove_file(&keylog);
    let _ = std::fs::remove_file(&pcap);
    assert_eq!(read.code, 0, "{}", read.stderr);
    let lines = read.json();
    assert!(
        !lines.iter().any(|v| v["type"] == "finding"),
        "{}",
        read.stdout
    );
    assert!(
        lines
            .iter()
            .any(|v| v["v2"]["session_id"] == session_id.as_str()),
        "session id {session_id}: {}",
        read.stdout
    );
    let replayed = messages(&lines);
    assert_eq!(live.len(), replayed.len(), "{live:?}\n{replayed:?}");
    let probe_side = live[0].0.clone();
    for src in [a.as_str(), probe_side.as_str()] {
        let (x, y) = (from(&live, src), from(&replayed, src));
        assert!(!x.is_empty(), "{src}");
        assert!(x == y, "messages from {src} differ:\n{x:?}\n{y:?}");
    }
}

#[test]
fn auto_speaks_v2_when_the_peer_does() {
    let addr = free_addr();
    let a = addr.to_string();
    let _peer = spawn_peer_quiet("v2peer", &["serve", &a, "1"]);
    let run = probe(addr, &[]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let notes = run.notes();
    assert!(
        notes.iter().any(|n| n.starts_with("transport: v2 (BIP324")),
        "{notes:?}"
    );
    assert!(messages(&run.json()).iter().all(|m| m.5 == "v2"));
}

#[test]
fn auto_falls_back_to_v1_against_a_v1_only_peer_and_says_why() {
    let addr = free_addr();
    let a = addr.to_string();
    let _peer = spawn_peer_quiet("testpeer", &["serve", &a, "2"]);
    let pcap = temp_path("fallback.pcap");
    let w = pcap.to_string_lossy().into_owned();
    let run = probe(addr, &["-w", &w]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let notes = run.notes();
    let fallback = "the peer refused v2: it closed the connection right after our key";
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("transport: v1 (fallback: ") && n.contains(fallback)),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.ends_with("reconnecting with v1")),
        "{notes:?}"
    );
    // The v1 session is flow 2, in plaintext with checksums.
    let lines = run.json();
    let live = messages(&lines);
    assert!(live.iter().any(|m| m.2 == "notfound"), "{live:?}");
    assert!(
        live.iter().all(|m| m.5.is_null() && m.4 == "valid"),
        "{live:?}"
    );
    assert!(
        lines
            .iter()
            .filter(|v| v["type"] == "message")
            .all(|v| v["flow"] == 2),
        "{}",
        run.stdout
    );
    // The recording holds both connections; the analyzer sees Core's
    // fallback pattern in it.
    let port = addr.port().to_string();
    let read = btcsniff(&["read", &w, "--port", &port, "--format", "json"]);
    let _ = std::fs::remove_file(&pcap);
    let replayed = messages(&read.json());
    assert_eq!(live.len(), replayed.len(), "{}", read.stdout);
    assert!(
        read.json().iter().any(|v| v["kind"] == "v1_fallback"),
        "{}",
        read.stdout
    );
}

#[test]
fn v2_only_fails_against_a_peer_that_closes_after_our_key() {
    let addr = free_addr();
    let a = addr.to_string();
    let _peer = spawn_peer_quiet("v2peer", &["refuse", &a]);
    let run = probe(addr, &["--transport", "v2"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("the peer refused v2: it closed the connection right after our key"),
        "{}",
        run.stderr
    );
    assert!(messages(&run.json()).is_empty(), "{}", run.stdout);
}

#[test]
fn auto_says_so_when_the_v1_reconnection_fails_too() {
    // The peer closes after our key and then stops listening.
    let addr = free_addr();
    let a = addr.to_string();
    let _peer = spawn_peer_quiet("v2peer", &["refuse", &a]);
    let run = probe(addr, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("reconnecting with v1 failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn keylog_that_cannot_be_written_fails_before_any_message() {
    let addr = free_addr();
    let a = addr.to_string();
    let _peer = spawn_peer_quiet("v2peer", &["serve", &a, "1"]);
    let run = probe(
        addr,
        &["--transport", "v2", "--keylog", "/nonexistent-dir/keys.log"],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("writing the key log"), "{}", run.stderr);
    assert!(messages(&run.json()).is_empty(), "{}", run.stdout);
}

#[test]
fn v2_only_against_a_silent_peer_fails_at_the_deadline_and_says_so() {
    // Accepts and holds the connection without a byte (bounded: the
    // thread ends when the probe closes or after 20 s).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut buf = [0u8; 8192];
        let mut got = 0;
        while let Ok(n) = std::io::Read::read(&mut stream, &mut buf) {
            if n == 0 {
                break;
            }
            got += n;
        }
        got
    });
    let run = probe(addr, &["--transport", "v2", "--timeout", "1"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("no v2 key from the peer within"),
        "{}",
        run.stderr
    );
    // Key and garbage were sent at once (--transport v2).
    assert!(holder.join().unwrap() >= 64);
}

#[test]
fn a_packet_that_does_not_authenticate_is_a_finding_and_a_failure() {
    let addr = free_addr();
    let a = addr.to_string();
    let _peer = spawn_peer_quiet("v2peer", &["corrupt", &a]);
    let run = probe(addr, &["--transport", "v2"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("does not authenticate: cut off"),
        "{}",
        run.stderr
    );
    let findings: Vec<Value> = run
        .json()
        .into_iter()
        .filter(|v| v["type"] == "finding")
        .collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["kind"], "v2_bad_tag");
    // v2peer sends a decoy (packet 0), its version packet (1), then the
    // corrupted version message: packet 2, after 64 + 23 bytes of key and
    // garbage, the 16-byte terminator, the decoy (3 + 1 + 10 + 16) and
    // the version packet (3 + 1 + 16).
    assert_eq!(findings[0]["packet"], 2, "{findings:?}");
    assert_eq!(
        findings[0]["offset"],
        64 + 23 + 16 + 30 + 20,
        "{findings:?}"
    );
    // Nothing of the peer was accepted as a message.
    let peer_messages = messages(&run.json())
        .into_iter()
        .filter(|m| m.0 == a)
        .count();
    assert_eq!(peer_messages, 0, "{}", run.stdout);
}
