//! `read --keylog` end to end: captures of BIP324 v2 sessions built by an
//! independent implementation (the `bip324` crate), written as pcap files
//! with a key log, read by the real binary. Messages come out as the same
//! `message` records as v1, with `"transport":"v2"`; failures are findings
//! with their values.

mod support;
mod v2session;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::*;
use v2session::{Side, V2Session};

struct Run {
    lines: Vec<Value>,
    stdout: String,
    stderr: String,
}

fn run(path: &Path, extra: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .arg(path)
        .args(extra)
        .output()
        .expect("run btcsniff");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let lines = if extra.contains(&"json") {
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    } else {
        Vec::new()
    };
    Run {
        lines,
        stdout,
        stderr,
    }
}

fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["type"] == t).collect()
}

fn findings<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|v| v["type"] == "finding" && v["kind"] == kind)
        .collect()
}

/// A regtest v2 session as a node pair would run it: both handshakes
/// (with garbage and decoys), then version/verack and some traffic.
struct Capture {
    pcap: Pcap,
    conn: Conn,
    session: V2Session,
}

fn session_capture(seed: u64, garbage: (usize, usize)) -> Capture {
    let gc: Vec<u8> = (0..garbage.0).map(|i| (i * 3) as u8).collect();
    let gs: Vec<u8> = (0..garbage.1).map(|i| (i * 5) as u8).collect();
    let decoy: &[u8] = &[0xee; 33];
    let session = V2Session::new(v2session::REGTEST, seed, &gc, &gs, &[decoy], &[]);
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:50000", "10.0.0.2:18444");
    conn.handshake(&mut pcap);
    conn.c2s(&mut pcap, &session.c2s[..64 + gc.len()]);
    conn.s2c(&mut pcap, &session.s2c);
    conn.c2s(&mut pcap, &session.c2s[64 + gc.len()..]);
    Capture {
        pcap,
        conn,
        session,
    }
}

impl Capture {
    fn send(&mut self, side: Side, command: &str, payload: &[u8]) {
        let packet = self.session.send(side, command, payload);
        match side {
            Side::Initiator => self.conn.c2s(&mut self.pcap, &packet),
            Side::Responder => self.conn.s2c(&mut self.pcap, &packet),
        }
    }

    fn decoy(&mut self, side: Side) {
        let packet = self.session.decoy(side, &[1, 2, 3]);
        match side {
            Side::Initiator => self.conn.c2s(&mut self.pcap, &packet),
            Side::Responder => self.conn.s2c(&mut self.pcap, &packet),
        }
    }

    /// version, verack, the handshake extras (long types), ping/pong,
    /// feefilter and an inv.
    fn chatter(&mut self) {
        self.send(
            Side::Initiator,
            "version",
            &version_payload(b"/v2client:0.1/"),
        );
        self.send(
            Side::Responder,
            "version",
            &version_payload(b"/v2server:0.2/"),
        );
        self.send(Side::Initiator, "wtxidrelay", &[]);
        self.send(Side::Initiator, "sendaddrv2", &[]);
        self.send(Side::Initiator, "verack", &[]);
        self.send(Side::Responder, "verack", &[]);
        self.decoy(Side::Responder);
        self.send(
            Side::Initiator,
            "ping",
            &0x1122_3344_5566_7788u64.to_le_bytes(),
        );
        self.send(
            Side::Responder,
            "pong",
            &0x1122_3344_5566_7788u64.to_le_bytes(),
        );
        self.send(Side::Responder, "feefilter", &1000i64.to_le_bytes());
        let mut inv = vec![1u8];
        inv.extend_from_slice(&1u32.to_le_bytes());
        inv.extend_from_slice(&[0xab; 32]);
        self.send(Side::Responder, "inv", &inv);
    }

    fn write(
        mut self,
        dir: &Path,
        name: &str,
        keylog: &str,
    ) -> (std::path::PathBuf, std::path::PathBuf, V2Session) {
        self.conn.close(&mut self.pcap);
        let pcap = dir.join(format!("{name}.pcap"));
        let keys = dir.join(format!("{name}.keys"));
        self.pcap.write(&pcap);
        std::fs::write(&keys, keylog).unwrap();
        (pcap, keys, self.session)
    }
}

#[test]
fn a_v2_session_is_decrypted_into_the_same_message_records_as_v1() {
    let dir = scratch_dir("v2read");
    let mut cap = session_capture(1, (100, 0));
    cap.chatter();
    let line = cap.session.keylog_line();
    let keylog = format!("# written by a test\n\nCLIENT_RANDOM 00 11\n{line}");
    let (pcap, keys, session) = cap.write(&dir, "session", &keylog);
    let r = run(
        &pcap,
        &["--format", "json", "--keylog", keys.to_str().unwrap()],
    );
    assert!(
        r.stderr
            .contains("1 BIP324 session key, 1 other line ignored"),
        "{}",
        r.stderr
    );
    assert!(of_type(&r.lines, "finding").is_empty(), "{:?}", r.lines);

    let msgs = of_type(&r.lines, "message");
    let commands: Vec<(&str, &str)> = msgs
        .iter()
        .map(|m| (m["src"].as_str().unwrap(), m["command"].as_str().unwrap()))
        .collect();
    let (c, s) = ("10.0.0.1:50000", "10.0.0.2:18444");
    let c2s: Vec<&str> = commands.iter().filter(|x| x.0 == c).map(|x| x.1).collect();
    let s2c: Vec<&str> = commands.iter().filter(|x| x.0 == s).map(|x| x.1).collect();
    assert_eq!(
        c2s,
        ["version", "wtxidrelay", "sendaddrv2", "verack", "ping"]
    );
    assert_eq!(s2c, ["version", "verack", "pong", "feefilter", "inv"]);
    for m in &msgs {
        assert_eq!(m["transport"], "v2");
        assert_eq!(m["checksum"], "absent");
        assert_eq!(m["network"], "regtest");
        assert_eq!(m["magic"], "fabfb5da");
    }
    let by = |cmd: &str| *msgs.iter().find(|m| m["command"] == cmd).unwrap();
    assert_eq!(by("version")["v2_encoding"], "long");
    assert!(by("version")["v2_short_id"].is_null());
    assert_eq!(by("version")["payload"]["user_agent"], "/v2client:0.1/");
    assert_eq!(by("ping")["v2_encoding"], "short_id");
    assert_eq!(by("ping")["v2_short_id"], 18);
    assert_eq!(
        by("ping")["payload"]["nonce"],
        0x1122_3344_5566_7788u64.to_string()
    );
    assert_eq!(by("ping")["length"], 8);
    assert_eq!(by("inv")["v2_short_id"], 14);
    assert_eq!(by("inv")["payload"]["inventory"][0]["type"], "MSG_TX");
    assert_eq!(by("feefilter")["payload"]["fee_rate_sat_per_kvb"], 1000);

    let flows = of_type(&r.lines, "flow");
    let events: Vec<&str> = flows.iter().map(|f| f["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["start", "decrypting", "end"]);
    let session_id = hex::encode(session.session_id);
    assert_eq!(flows[1]["network"], "regtest");
    assert_eq!(flows[1]["v2"]["session_id"], session_id.as_str());
    let end = flows[2];
    assert_eq!(end["transport"], "v2");
    assert_eq!(end["v2"]["handshake"], "captured");
    assert_eq!(end["v2"]["decryption"], "decrypted");
    assert_eq!(end["v2"]["session_id"], session_id.as_str());
    assert_eq!(end["v2"]["garbage"]["c2s"], 100);
    assert_eq!(end["v2"]["garbage"]["s2c"], 0);
    assert_eq!(end["v2"]["decoys"]["c2s"], 1);
    assert_eq!(end["v2"]["decoys"]["s2c"], 1);
    // version packet + decoy + 5 messages; version packet + decoy + 5.
    assert_eq!(end["v2"]["packets_decrypted"]["c2s"], 7);
    assert_eq!(end["v2"]["packets_decrypted"]["s2c"], 7);
    assert_eq!(end["messages"]["c2s"], 5);
    assert_eq!(end["messages"]["s2c"], 5);

    // The same in text.
    let t = run(&pcap, &["--keylog", keys.to_str().unwrap(), "--stats"]);
    assert!(
        t.stdout
            .lines()
            .any(|l| l.contains("10.0.0.1:50000 -> 10.0.0.2:18444 regtest ping 8B v2")),
        "{}",
        t.stdout
    );
    assert!(t.stdout.contains("version 100B v2-long"), "{}", t.stdout);
    assert!(t.stdout.contains(&format!("session_id {session_id}")));
    assert!(
        t.stdout
            .contains("v2 flows decrypted 1 of 1, v2 messages 10")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn without_a_key_log_or_its_key_the_flow_stays_encrypted_with_its_facts() {
    let dir = scratch_dir("v2nokey");
    let mut cap = session_capture(2, (0, 4095));
    cap.chatter();
    let other = V2Session::new(v2session::MAINNET, 99, b"", b"", &[], &[]);
    let (pcap, keys, session) = cap.write(&dir, "nokey", &other.keylog_line());

    let plain = run(&pcap, &["--format", "json"]);
    assert!(of_type(&plain.lines, "message").is_empty());
    assert!(of_type(&plain.lines, "finding").is_empty());
    let end = *of_type(&plain.lines, "flow").last().unwrap();
    assert_eq!(end["v2"]["handshake"], "captured");
    assert_eq!(end["v2"]["decryption"], "no_keylog");
    assert!(end["v2"]["session_id"].is_null());

    let r = run(
        &pcap,
        &["--format", "json", "--keylog", keys.to_str().unwrap()],
    );
    assert!(of_type(&r.lines, "message").is_empty());
    let no_key = findings(&r.lines, "v2_no_key");
    assert_eq!(no_key.len(), 1);
    assert_eq!(
        no_key[0]["initiator_key"],
        hex::encode(session.initiator_key).as_str()
    );
    let end = *of_type(&r.lines, "flow").last().unwrap();
    assert_eq!(end["v2"]["decryption"], "no_key");
    assert_eq!(end["bytes"]["s2c"], session.s2c.len());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_wrong_secret_reports_no_terminator_for_any_network() {
    let dir = scratch_dir("v2wrong");
    let mut cap = session_capture(3, (10, 10));
    cap.chatter();
    for _ in 0..40 {
        cap.send(Side::Responder, "inv", &[0u8; 200]);
        cap.send(Side::Initiator, "inv", &[0u8; 200]);
    }
    let mut secret = cap.session.secret;
    secret[5] ^= 0x40;
    let line = format!(
        "BIP324 {} {}\n",
        hex::encode(cap.session.initiator_key),
        hex::encode(secret)
    );
    let (pcap, keys, _) = cap.write(&dir, "wrong", &line);
    let r = run(
        &pcap,
        &["--format", "json", "--keylog", keys.to_str().unwrap()],
    );
    let f = findings(&r.lines, "v2_no_terminator");
    assert_eq!(f.len(), 2, "{:?}", r.lines);
    assert_eq!(f[0]["offset"], 64);
    assert_eq!(f[0]["searched"], 4111);
    assert_eq!(f[0]["networks"], 5);
    let end = *of_type(&r.lines, "flow").last().unwrap();
    assert_eq!(end["v2"]["decryption"], "no_terminator");
    assert!(of_type(&r.lines, "message").is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_capture_without_the_handshake_says_so() {
    let dir = scratch_dir("v2mid");
    let mut cap = session_capture(4, (0, 0));
    cap.chatter();
    // Enough bytes for a flow joined mid-stream to be called v2 on the
    // evidence (64 KiB without a v1 header: README, "Detection").
    for _ in 0..4 {
        cap.send(Side::Responder, "tx", &[0x5a; 20_000]);
    }
    let line = cap.session.keylog_line();
    // The same bytes, minus the SYN and the first bytes each way.
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:50001", "10.0.0.2:18444");
    conn.c2s(&mut pcap, &cap.session.c2s[200..]);
    conn.s2c(&mut pcap, &cap.session.s2c[150..]);
    let path = dir.join("mid.pcap");
    pcap.write(&path);
    let keys = dir.join("mid.keys");
    std::fs::write(&keys, line).unwrap();
    let r = run(
        &path,
        &["--format", "json", "--keylog", keys.to_str().unwrap()],
    );
    let f = findings(&r.lines, "v2_no_handshake");
    assert_eq!(f.len(), 1, "{:?}", r.lines);
    assert!(f[0]["detail"].as_str().unwrap().contains("mid-stream"));
    let end = *of_type(&r.lines, "flow").last().unwrap();
    assert_eq!(end["v2"]["handshake"], "not_captured");
    assert_eq!(end["v2"]["decryption"], "no_handshake");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_gap_stops_decryption_of_its_direction_from_the_cut_packet() {
    let dir = scratch_dir("v2gap");
    let mut cap = session_capture(5, (0, 0));
    cap.chatter();
    // The next client packet loses 10 bytes in its middle.
    let packet = cap.session.send(Side::Initiator, "ping", &[9; 8]);
    let cut_packet_at = cap.session.c2s.len() - packet.len();
    cap.conn.c2s(&mut cap.pcap, &packet[..5]);
    cap.conn.lose_c2s(10);
    cap.conn.c2s(&mut cap.pcap, &packet[15..]);
    let after = cap.session.send(Side::Initiator, "pong", &[1; 8]);
    cap.conn.c2s(&mut cap.pcap, &after);
    // The other direction goes on.
    cap.send(Side::Responder, "ping", &[2; 8]);
    let line = cap.session.keylog_line();
    let (pcap, keys, _) = cap.write(&dir, "gap", &line);
    let r = run(
        &pcap,
        &["--format", "json", "--keylog", keys.to_str().unwrap()],
    );
    let f = findings(&r.lines, "v2_gap");
    assert_eq!(f.len(), 1, "{:?}", r.lines);
    assert_eq!(f[0]["offset"], cut_packet_at);
    assert_eq!(f[0]["gap_at"], cut_packet_at + 5);
    assert_eq!(f[0]["bytes"], 10);
    assert_eq!(f[0]["src"], "10.0.0.1:50000");
    let msgs = of_type(&r.lines, "message");
    let last_server = msgs.iter().rfind(|m| m["src"] == "10.0.0.2:18444").unwrap();
    assert_eq!(
        last_server["command"], "ping",
        "the other direction goes on"
    );
    let end = *of_type(&r.lines, "flow").last().unwrap();
    assert_eq!(end["v2"]["decryption"], "stopped");
    assert_eq!(
        end["v2"]["undecrypted_bytes"]["c2s"],
        5 + (packet.len() - 15) + after.len()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_corrupted_tag_and_a_lying_length_are_findings_with_their_packet() {
    use btcsniff::p2p::v2::{LengthCipher, Role, SessionKeys};
    let dir = scratch_dir("v2bad");
    let mut cap = session_capture(6, (0, 0));
    cap.chatter();
    // Server: one packet with a flipped tag bit. Packets so far: version
    // packet, verack... count them from the session's own stream.
    let mut bad = cap.session.send(Side::Responder, "ping", &[3; 8]);
    let bad_at = cap.session.s2c.len() - bad.len();
    let n = bad.len();
    bad[n - 1] ^= 0x80;
    cap.conn.s2c(&mut cap.pcap, &bad);
    // Client: a length field claiming 16 MB - 1 at the next packet index,
    // followed by 2000 bytes.
    let keys = SessionKeys::derive(&cap.session.secret, v2session::REGTEST);
    let mut length = LengthCipher::new(keys.sent_by(Role::Initiator).length_key);
    // Handshake decoy + version packet + 5 messages sent so far.
    for _ in 0..7 {
        length.crypt(&mut [0; 3]);
    }
    let mut lying = [0xff, 0xff, 0xff];
    length.crypt(&mut lying);
    let lie_at = cap.session.c2s.len();
    let mut bytes = lying.to_vec();
    bytes.extend_from_slice(&[0u8; 2000]);
    cap.conn.c2s(&mut cap.pcap, &bytes);
    let line = cap.session.keylog_line();
    let (pcap, keys, _) = cap.write(&dir, "bad", &line);
    let r = run(
        &pcap,
        &["--format", "json", "--keylog", keys.to_str().unwrap()],
    );
    let tag = findings(&r.lines, "v2_bad_tag");
    assert_eq!(tag.len(), 1, "{:?}", r.lines);
    assert_eq!(tag[0]["offset"], bad_at);
    assert_eq!(tag[0]["packet"], 7);
    assert_eq!(tag[0]["length"], 9);
    assert_eq!(tag[0]["src"], "10.0.0.2:18444");
    let lie = findings(&r.lines, "v2_oversize_length");
    assert_eq!(lie.len(), 1);
    assert_eq!(lie[0]["offset"], lie_at);
    assert_eq!(lie[0]["packet"], 7);
    assert_eq!(lie[0]["length"], 0xff_ffff);
    assert_eq!(lie[0]["limit"], 4_000_013);
    let end = *of_type(&r.lines, "flow").last().unwrap();
    assert_eq!(end["v2"]["undecrypted_bytes"]["c2s"], 2003);
    assert_eq!(end["v2"]["undecrypted_bytes"]["s2c"], bad.len());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_key_log_of_junk_is_counted_not_fatal() {
    let dir = scratch_dir("v2junk");
    let mut cap = session_capture(7, (0, 0));
    cap.chatter();
    let junk = format!(
        "BIP324 nothex {}\n\u{0}\u{1}binary\nBIP324\n{}\n",
        "00".repeat(32),
        "z".repeat(100_000)
    );
    let (pcap, keys, _) = cap.write(&dir, "junk", &junk);
    let r = run(
        &pcap,
        &["--format", "json", "--keylog", keys.to_str().unwrap()],
    );
    assert!(
        r.stderr.contains(
            "0 BIP324 session keys, 2 other lines ignored, 2 malformed BIP324 lines (first: line 1)"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(findings(&r.lines, "v2_no_key").len(), 1);
    // A key log that is missing is an error (exit 1), before any output.
    let out = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .args([
            "read",
            pcap.to_str().unwrap(),
            "--keylog",
            "/nonexistent/keys",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading the key log"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn cores_v1_fallback_after_an_unanswered_v2_attempt_is_a_finding() {
    let dir = scratch_dir("v2fallback");
    let mut pcap = Pcap::new();
    // The v2 attempt: our key and garbage, no answer, closed.
    let mut attempt = Conn::new("10.0.0.1:50010", "10.0.0.2:8333");
    attempt.handshake(&mut pcap);
    attempt.c2s(&mut pcap, &noise(64 + 300, 11));
    attempt.close(&mut pcap);
    // Right after: v1 to the same server, from another port.
    let mut v1 = Conn::new("10.0.0.1:50011", "10.0.0.2:8333");
    v1.handshake(&mut pcap);
    v1.c2s(
        &mut pcap,
        &frame(MAINNET, "version", &version_payload(b"/x:1/")),
    );
    v1.s2c(
        &mut pcap,
        &frame(MAINNET, "version", &version_payload(b"/y:2/")),
    );
    v1.close(&mut pcap);
    // A v2 session that was answered, then a v1 one: no fallback.
    let mut answered = Conn::new("10.0.0.3:50020", "10.0.0.2:8333");
    answered.handshake(&mut pcap);
    answered.c2s(&mut pcap, &noise(64 + 10, 12));
    answered.s2c(&mut pcap, &noise(64 + 10, 13));
    answered.close(&mut pcap);
    let mut v1b = Conn::new("10.0.0.3:50021", "10.0.0.2:8333");
    v1b.handshake(&mut pcap);
    v1b.c2s(
        &mut pcap,
        &frame(MAINNET, "version", &version_payload(b"/x:1/")),
    );
    v1b.close(&mut pcap);
    let path = dir.join("fallback.pcap");
    pcap.write(&path);
    let r = run(&path, &["--format", "json"]);
    let f = findings(&r.lines, "v1_fallback");
    assert_eq!(f.len(), 1, "{:?}", r.lines);
    assert_eq!(f[0]["flow"], 2);
    assert_eq!(f[0]["v2_flow"], 1);
    assert_eq!(f[0]["v2_client_bytes"], 364);
    assert!(f[0]["after_ms"].as_u64().unwrap() < 1000);
    assert_eq!(f[0]["certainty"], "estimate");
    let ends: Vec<&Value> = of_type(&r.lines, "flow")
        .into_iter()
        .filter(|f| f["event"] == "end" && f["transport"] == "v2")
        .collect();
    assert_eq!(ends[0]["v2"]["handshake"], "partial");
    assert_eq!(ends[1]["v2"]["handshake"], "captured");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_custom_network_magic_is_tried_with_dash_dash_magic() {
    let dir = scratch_dir("v2magic");
    let magic = [0x12, 0x34, 0x56, 0x78];
    let mut s = V2Session::new(magic, 8, b"abc", b"", &[], &[]);
    s.send(Side::Initiator, "ping", &5u64.to_le_bytes());
    s.send(Side::Responder, "pong", &5u64.to_le_bytes());
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.5:50000", "10.0.0.6:38333");
    conn.handshake(&mut pcap);
    conn.c2s(&mut pcap, &s.c2s);
    conn.s2c(&mut pcap, &s.s2c);
    conn.close(&mut pcap);
    let path = dir.join("magic.pcap");
    pcap.write(&path);
    let keys = dir.join("magic.keys");
    std::fs::write(&keys, s.keylog_line()).unwrap();
    let keys = keys.to_str().unwrap();

    let without = run(&path, &["--format", "json", "--keylog", keys]);
    assert!(of_type(&without.lines, "message").is_empty());
    let f = findings(&without.lines, "v2_handshake_incomplete");
    assert_eq!(
        f.len(),
        2,
        "short streams end before 4111 bytes: {:?}",
        without.lines
    );

    let with = run(
        &path,
        &["--format", "json", "--keylog", keys, "--magic", "12345678"],
    );
    let msgs = of_type(&with.lines, "message");
    assert_eq!(msgs.len(), 2, "{:?}", with.lines);
    assert_eq!(msgs[0]["network"], "unknown");
    assert_eq!(msgs[0]["magic"], "12345678");
    assert_eq!(msgs[0]["command"], "ping");
    assert_eq!(msgs[1]["command"], "pong");
    // A bad value is a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .args(["read", path.to_str().unwrap(), "--magic", "xyz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}
