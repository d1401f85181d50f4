//! Peer records (README, "Peer records") on a generated connection whose
//! timings are known: every packet is 1 ms after the one before.

mod support;

use serde_json::Value;
use support::run::run_ok as btcsniff;
use support::{Conn, Pcap, REGTEST, frame, scratch_dir};

fn capture() -> std::path::PathBuf {
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:50000", "10.0.0.2:18444");
    conn.handshake(&mut pcap);
    let inv = |type_id: u32, n: u8| {
        let mut p = vec![n];
        for i in 0..n {
            p.extend_from_slice(&type_id.to_le_bytes());
            p.extend_from_slice(&[i; 32]);
        }
        frame(REGTEST, "inv", &p)
    };
    conn.versions(&mut pcap, b"/client:1/", b"/server:2/");
    conn.c2s(&mut pcap, &frame(REGTEST, "wtxidrelay", &[]));
    conn.c2s(&mut pcap, &frame(REGTEST, "verack", &[]));
    conn.s2c(&mut pcap, &frame(REGTEST, "verack", &[]));
    let mut cmpct = vec![1u8];
    cmpct.extend_from_slice(&2u64.to_le_bytes());
    conn.s2c(&mut pcap, &frame(REGTEST, "sendcmpct", &cmpct));
    conn.s2c(
        &mut pcap,
        &frame(REGTEST, "feefilter", &1000i64.to_le_bytes()),
    );
    conn.s2c(&mut pcap, &inv(5, 3));
    conn.s2c(&mut pcap, &inv(2, 1));
    // Two pings of the client answered 1 ms and 3 ms later.
    conn.c2s(&mut pcap, &frame(REGTEST, "ping", &7u64.to_le_bytes()));
    conn.s2c(&mut pcap, &frame(REGTEST, "pong", &7u64.to_le_bytes()));
    conn.c2s(&mut pcap, &frame(REGTEST, "ping", &8u64.to_le_bytes()));
    conn.c2s(&mut pcap, &frame(REGTEST, "sendheaders", &[]));
    conn.c2s(&mut pcap, &frame(REGTEST, "getaddr", &[]));
    conn.s2c(&mut pcap, &frame(REGTEST, "pong", &8u64.to_le_bytes()));
    conn.close(&mut pcap);
    let path = scratch_dir("peer-records").join("c.pcap");
    pcap.write(&path);
    path
}

#[test]
fn the_end_record_says_what_each_side_did() {
    let path = capture();
    let out = btcsniff(&["read", "--format", "json", path.to_str().unwrap()]);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let end = lines.iter().find(|l| l["event"] == "end").unwrap();
    let p = &end["peer"];
    assert_eq!(p["initiator"], "client");
    assert_eq!(p["tcp_handshake_ms"]["rtt"], 2.0);
    assert_eq!(p["tcp_handshake_ms"]["server"], 1.0);
    assert_eq!(p["tcp_handshake_ms"]["client"], 1.0);
    let (c, s) = (&p["client"], &p["server"]);
    assert_eq!(c["version"]["user_agent"], "/client:1/");
    assert_eq!(s["version"]["user_agent"], "/server:2/");
    assert_eq!(c["version"]["services"], "9");
    assert_eq!(
        c["version"]["service_names"],
        serde_json::json!(["NODE_NETWORK", "NODE_WITNESS"])
    );
    assert_eq!(c["features"]["wtxidrelay"], true);
    assert_eq!(s["features"]["wtxidrelay"], false);
    assert_eq!(c["features"]["sendheaders"], true);
    assert_eq!(
        s["features"]["sendcmpct"],
        serde_json::json!({"version": 2, "high_bandwidth": true})
    );
    assert_eq!(s["features"]["feefilter"], 1000);
    assert_eq!(s["inv"]["wtx"], 3);
    assert_eq!(s["inv"]["block"], 1);
    assert_eq!(s["commands"]["inv"]["messages"], 2);
    assert_eq!(s["commands"]["inv"]["bytes"], 1 + 3 * 36 + 1 + 36);
    assert_eq!(c["commands"]["ping"]["messages"], 2);
    // Each message is its own packet, 1 ms apart: 1 ms and 3 ms.
    let rtt = &c["ping_rtt_ms"];
    assert_eq!(rtt["count"], 2);
    assert_eq!(rtt["min"], 1.0);
    assert_eq!(rtt["max"], 3.0);
    // The upper median of an even count.
    assert_eq!(rtt["median"], 3.0);
    assert_eq!(s["ping_rtt_ms"]["count"], 0);
}

#[test]
fn stats_list_every_flow_and_the_table_sorts_by_bytes() {
    let path = capture();
    let json = btcsniff(&[
        "read",
        "--format",
        "json",
        "--stats",
        path.to_str().unwrap(),
    ]);
    let stats: Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert_eq!(stats["flow_peers"][0]["flow"], 1);
    assert_eq!(
        stats["flow_peers"][0]["peer"]["client"]["version"]["user_agent"],
        "/client:1/"
    );
    let text = btcsniff(&["read", "--stats", path.to_str().unwrap()]);
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("1 10.0.0.1:50000"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.ends_with("/client:1/ -> /server:2/"), "{row}");
    assert!(row.contains(" 3.000 "), "median ping in ms: {row}");
}
