//! Classification on evidence (README "Detection"): the v1 flows that a
//! v1-only crawler's real captures showed as v2 (a first message cut by
//! the end of the capture; a header captured just after its payload; a
//! mid-stream join with too few bytes to tell), and flow records dated by
//! their first packet with every key the README lists.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::*;

fn read_json(path: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .arg(path)
        .args(["--format", "json"])
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

/// The first packet's time in [`Pcap`]: it adds 1 ms per record.
const FIRST_TS: f64 = 1_700_000_000.001;

/// An `inv` of `n` transactions.
fn inv(n: u8) -> Vec<u8> {
    let mut p = vec![n];
    for i in 0..n {
        p.extend_from_slice(&1u32.to_le_bytes());
        p.extend_from_slice(&[i; 32]);
    }
    p
}

/// The keys of a flow record, as the README's JSON contract lists them.
const FLOW_KEYS: [&str; 11] = [
    "type",
    "event",
    "ts",
    "flow",
    "client",
    "server",
    "transport",
    "syn_seen",
    "network",
    "packets",
    "bytes",
];

fn check_flow_keys(flows: &[&Value]) {
    for f in flows {
        for key in FLOW_KEYS {
            assert!(f.get(key).is_some(), "flow record without {key}: {f}");
        }
    }
}

#[test]
fn a_first_message_cut_by_the_end_of_the_capture_is_v1_and_truncated() {
    let dir = scratch_dir("cut");
    // Mid-stream, on 8333: only the 24-byte header of an inv; and, on
    // another flow, an addrv2 cut after 13 KB.
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:50010", "10.0.0.2:8333");
    let inv = frame(MAINNET, "inv", &inv(10));
    conn.c2s(&mut pcap, &inv[..24]);
    let mut conn2 = Conn::new("10.0.0.1:50011", "10.0.0.3:8333");
    let addrv2 = frame(MAINNET, "addrv2", &vec![7u8; 20_000]);
    conn2.s2c(&mut pcap, &addrv2[..13_000]);
    let path = dir.join("cut.pcap");
    pcap.write(&path);
    let lines = read_json(&path);
    let flows = of_type(&lines, "flow");
    check_flow_keys(&flows);
    assert_eq!(flows.len(), 4, "{lines:?}");
    assert!(flows.iter().all(|f| f["transport"] == "v1"), "{flows:?}");
    assert!(flows.iter().all(|f| f["network"] == "mainnet"), "{flows:?}");
    let truncated: Vec<_> = of_type(&lines, "finding")
        .into_iter()
        .filter(|f| f["kind"] == "truncated")
        .map(|f| (f["have"].as_u64().unwrap(), f["needed"].as_u64().unwrap()))
        .collect();
    assert_eq!(truncated, [(24, 24 + 361), (13_000, 20_024)]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_header_captured_just_after_its_payload_still_frames() {
    let dir = scratch_dir("reorder");
    let mut pcap = Pcap::new();
    let conn = Conn::new("10.0.0.1:50012", "10.0.0.2:8333");
    let msg = frame(MAINNET, "inv", &inv(10));
    assert_eq!(msg.len(), 24 + 361, "a 361-byte inv");
    // No SYN; the payload segment is captured first, the header 1 ms later.
    let seq = conn.client_seq;
    pcap.record(&segment(
        conn.client,
        conn.server,
        seq + 24,
        conn.server_seq,
        DATA,
        &msg[24..],
    ));
    pcap.record(&segment(
        conn.client,
        conn.server,
        seq,
        conn.server_seq,
        DATA,
        &msg[..24],
    ));
    let path = dir.join("reorder.pcap");
    pcap.write(&path);
    let lines = read_json(&path);
    let msgs = of_type(&lines, "message");
    assert_eq!(msgs.len(), 1, "{lines:?}");
    assert_eq!(msgs[0]["command"], "inv");
    assert_eq!(
        msgs[0]["payload"]["inventory"].as_array().unwrap().len(),
        10
    );
    // Completed by the second packet (the header), 1 ms after the first.
    assert_eq!(msgs[0]["ts"].as_f64().unwrap(), 1_700_000_000.002);
    let flows = of_type(&lines, "flow");
    assert!(flows.iter().all(|f| f["transport"] == "v1"));
    assert!(of_type(&lines, "finding").is_empty(), "{lines:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_mid_stream_flow_with_too_few_bytes_is_unknown_not_v2() {
    let dir = scratch_dir("few");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:50013", "10.0.0.2:8333");
    // Joined inside a message: 300 bytes with no magic anywhere.
    conn.c2s(&mut pcap, &[0x42; 300]);
    conn.s2c(&mut pcap, &[0x17; 200]);
    let path = dir.join("few.pcap");
    pcap.write(&path);
    let lines = read_json(&path);
    let flows = of_type(&lines, "flow");
    check_flow_keys(&flows);
    assert_eq!(flows.len(), 2);
    for f in &flows {
        assert_eq!(f["transport"], "unknown", "{f}");
        assert_eq!(f["network"], Value::Null, "{f}");
    }
    assert_eq!(flows[0]["event"], "start");
    assert_eq!(flows[0]["ts"].as_f64().unwrap(), FIRST_TS);
    assert!(of_type(&lines, "message").is_empty());
    // Text output says so too.
    let out = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("unknown (too few bytes to tell v1 from v2)"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_mid_stream_v2_flow_is_dated_by_its_first_packet_and_has_every_key() {
    let dir = scratch_dir("v2first");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("127.0.0.1:50014", "127.0.0.1:8333");
    // 70,000 bytes with no v1 header: v2 once 64 KiB passed (the 45th
    // packet), dated by the first.
    let noise: Vec<u8> = (0..70_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80)
        .collect();
    conn.c2s(&mut pcap, &noise);
    let path = dir.join("v2first.pcap");
    pcap.write(&path);
    let lines = read_json(&path);
    let flows = of_type(&lines, "flow");
    check_flow_keys(&flows);
    assert_eq!(flows[0]["event"], "start");
    assert_eq!(flows[0]["transport"], "v2");
    assert_eq!(flows[0]["ts"].as_f64().unwrap(), FIRST_TS);
    assert_eq!(flows[0]["network"], Value::Null);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_v1_header_waiting_for_a_large_payload_is_not_taken_for_v2() {
    let dir = scratch_dir("bigblock");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("127.0.0.1:50015", "127.0.0.1:8333");
    // Joined at the header of a 200 KB message: 64 KiB pass before it
    // completes, but a v1 header is there.
    let block = frame(MAINNET, "block", &vec![0u8; 200_000]);
    conn.s2c(&mut pcap, &block);
    let path = dir.join("bigblock.pcap");
    pcap.write(&path);
    let lines = read_json(&path);
    let flows = of_type(&lines, "flow");
    assert!(flows.iter().all(|f| f["transport"] == "v1"), "{flows:?}");
    let msgs = of_type(&lines, "message");
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["command"], "block");
    let _ = std::fs::remove_dir_all(dir);
}
