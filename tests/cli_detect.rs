//! Detection, link and transport cases on captures built by the test:
//! v1 on any port, BIP324 v2 sessions, custom signet magics, IPv6, gaps,
//! and terminal escaping of peer strings.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::*;

fn read_json(path: &Path, extra: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .arg(path)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("run btcsniff");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["type"] == t).collect()
}

fn handshake_bytes(magic: [u8; 4]) -> (Vec<u8>, Vec<u8>) {
    let mut c = frame(magic, "version", &version_payload(b"/client:1.0/"));
    c.extend(frame(magic, "verack", &[]));
    c.extend(frame(magic, "ping", &7u64.to_le_bytes()));
    let mut s = frame(magic, "version", &version_payload(b"/server:2.0/"));
    s.extend(frame(magic, "verack", &[]));
    s.extend(frame(magic, "pong", &7u64.to_le_bytes()));
    (c, s)
}

#[test]
fn v1_is_found_on_any_port_and_ipv6_endpoints_are_bracketed() {
    let dir = scratch_dir("anyport");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("[::1]:40000", "[::1]:12345");
    conn.handshake(&mut pcap);
    let (c, s) = handshake_bytes(REGTEST);
    conn.c2s(&mut pcap, &c);
    conn.s2c(&mut pcap, &s);
    conn.close(&mut pcap);
    let path = dir.join("anyport.pcap");
    pcap.write(&path);
    let lines = read_json(&path, &[]);
    let msgs = of_type(&lines, "message");
    let cmds: Vec<_> = msgs
        .iter()
        .map(|m| m["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        cmds,
        ["version", "verack", "ping", "version", "verack", "pong"]
    );
    assert_eq!(msgs[0]["src"], "[::1]:40000");
    assert_eq!(msgs[0]["dst"], "[::1]:12345");
    let flows = of_type(&lines, "flow");
    assert_eq!(flows.len(), 2, "start and end");
    assert_eq!(flows[0]["transport"], "v1");
    assert_eq!(flows[1]["event"], "end");
    assert_eq!(flows[1]["reason"], "fin");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn v2_session_with_start_captured_is_reported_not_garbage() {
    let dir = scratch_dir("v2");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("127.0.0.1:50000", "127.0.0.1:8333");
    conn.handshake(&mut pcap);
    // ElligatorSwift key + garbage, then encrypted packets: random-looking.
    conn.c2s(&mut pcap, &noise(64 + 100, 1));
    conn.s2c(&mut pcap, &noise(64 + 200 + 16, 2));
    conn.c2s(&mut pcap, &noise(3000, 3));
    conn.close(&mut pcap);
    let path = dir.join("v2.pcap");
    pcap.write(&path);
    let lines = read_json(&path, &[]);
    assert!(of_type(&lines, "message").is_empty());
    assert!(of_type(&lines, "finding").is_empty(), "{lines:?}");
    let flows = of_type(&lines, "flow");
    assert_eq!(flows.len(), 2);
    assert!(flows.iter().all(|f| f["transport"] == "v2"));
    let end = flows[1];
    assert_eq!(end["bytes"]["c2s"], 164 + 3000);
    assert_eq!(end["bytes"]["s2c"], 280);
    assert!(end["packets"]["c2s"].as_u64().unwrap() >= 4);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn v2_mid_stream_needs_64_kib_without_a_header() {
    let dir = scratch_dir("v2mid");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("127.0.0.1:50001", "127.0.0.1:8333");
    conn.c2s(&mut pcap, &noise(70_000, 4));
    let path = dir.join("v2mid.pcap");
    pcap.write(&path);
    let lines = read_json(&path, &[]);
    let flows = of_type(&lines, "flow");
    assert!(!flows.is_empty());
    assert!(flows.iter().all(|f| f["transport"] == "v2"));
    assert_eq!(flows[0]["syn_seen"], false);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn non_bitcoin_traffic_is_ignored_silently_and_port_flag_marks_bitcoin() {
    let dir = scratch_dir("other");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("127.0.0.1:50002", "127.0.0.1:8080");
    conn.handshake(&mut pcap);
    conn.c2s(&mut pcap, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    conn.s2c(&mut pcap, &noise(5000, 5));
    conn.close(&mut pcap);
    let path = dir.join("other.pcap");
    pcap.write(&path);
    assert!(read_json(&path, &[]).is_empty());
    // The same flow on a port marked as Bitcoin is a v2 candidate.
    let lines = read_json(&path, &["--port", "8080"]);
    let flows = of_type(&lines, "flow");
    assert_eq!(flows[0]["transport"], "v2");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn custom_signet_magic_is_adopted_once_checksums_hold() {
    let dir = scratch_dir("signet");
    let magic = [0x12, 0x34, 0x56, 0x78];
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("127.0.0.1:50003", "127.0.0.1:38333");
    conn.handshake(&mut pcap);
    let (c, s) = handshake_bytes(magic);
    conn.c2s(&mut pcap, &c);
    conn.s2c(&mut pcap, &s);
    conn.close(&mut pcap);
    let path = dir.join("signet.pcap");
    pcap.write(&path);
    let lines = read_json(&path, &[]);
    let msgs = of_type(&lines, "message");
    assert_eq!(msgs.len(), 6, "{lines:?}");
    assert!(
        msgs.iter()
            .all(|m| m["network"] == "unknown" && m["magic"] == "12345678")
    );
    assert!(msgs.iter().all(|m| m["checksum"] == "valid"));
    let flows = of_type(&lines, "flow");
    assert_eq!(flows[0]["transport"], "v1");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_gap_is_reported_with_its_size_and_framing_resyncs() {
    let dir = scratch_dir("gap");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:50004", "10.0.0.2:8333");
    conn.handshake(&mut pcap);
    conn.c2s(&mut pcap, &frame(MAINNET, "ping", &1u64.to_le_bytes()));
    // A whole ping never captured, then one more.
    conn.lose_c2s(32);
    // Out of order: the next segment arrives, the hole is never filled.
    conn.c2s(&mut pcap, &frame(MAINNET, "ping", &3u64.to_le_bytes()));
    conn.close(&mut pcap);
    let path = dir.join("gap.pcap");
    pcap.write(&path);
    let lines = read_json(&path, &[]);
    let gaps: Vec<_> = of_type(&lines, "finding")
        .into_iter()
        .filter(|f| f["kind"] == "gap")
        .collect();
    assert_eq!(gaps.len(), 1, "{lines:?}");
    assert_eq!(gaps[0]["bytes"], 32);
    let nonces: Vec<_> = of_type(&lines, "message")
        .iter()
        .map(|m| m["payload"]["nonce"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(nonces, ["1", "3"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn ansi_escapes_in_peer_strings_come_out_inert() {
    let dir = scratch_dir("ansi");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:50005", "10.0.0.2:8333");
    conn.handshake(&mut pcap);
    let evil = b"/evil\x1b[2J\x1b]0;owned\x07:1.0/";
    conn.c2s(
        &mut pcap,
        &frame(MAINNET, "version", &version_payload(evil)),
    );
    // BIP61 reject: message "tx", ccode 0x10, reason with a colour escape.
    let mut reject = vec![2, b't', b'x', 0x10];
    let reason = b"\x1b[31mred\x1b[0m";
    reject.push(reason.len() as u8);
    reject.extend_from_slice(reason);
    conn.c2s(&mut pcap, &frame(MAINNET, "reject", &reject));
    let path = dir.join("ansi.pcap");
    pcap.write(&path);
    for args in [&["-v"][..], &[][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
            .arg("read")
            .arg(&path)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(!out.stdout.contains(&0x1b), "raw ESC reached the terminal");
        assert!(!out.stdout.contains(&0x07), "raw BEL reached the terminal");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("\\x1b[2J"), "{text}");
        assert!(text.contains("\\x1b[31mred"), "{text}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
