//! Who was first, end to end: three peers announce the same blocks and
//! transactions at known times in a generated capture (inv, headers,
//! cmpctblock, tx), and the `--stats` summary gives the first counts,
//! median delays and block spreads those times imply, whatever
//! `--threads` and `--command`; and the real 2011 mainnet capture.

mod support;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::run::{data, json_lines, of_type, read};
use support::*;

/// Capture time of the announcements: this many microseconds since the
/// epoch, plus each message's offset.
const T0: u64 = 1_700_000_100_000_000;

fn sha256d(b: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(b)).into()
}

/// Display-order hex of a wire-order hash.
fn display(h: [u8; 32]) -> String {
    h.iter().rev().map(|b| format!("{b:02x}")).collect()
}

/// An 80-byte block header, distinct per `n`.
fn header(n: u8) -> Vec<u8> {
    let mut h = vec![0u8; 80];
    h[0] = 4; // version
    h[4] = n; // prev block
    h[36] = n; // merkle root
    h[72..76].copy_from_slice(&0x207f_ffffu32.to_le_bytes()); // bits (regtest)
    h
}

fn inv(items: &[(u32, [u8; 32])]) -> Vec<u8> {
    let mut p = vec![items.len() as u8];
    for (t, h) in items {
        p.extend_from_slice(&t.to_le_bytes());
        p.extend_from_slice(h);
    }
    frame(REGTEST, "inv", &p)
}

fn headers(h: &[u8]) -> Vec<u8> {
    let mut p = vec![1];
    p.extend_from_slice(h);
    p.push(0); // tx count
    frame(REGTEST, "headers", &p)
}

fn cmpctblock(h: &[u8]) -> Vec<u8> {
    let mut p = h.to_vec();
    p.extend_from_slice(&7u64.to_le_bytes()); // nonce
    p.push(0); // short ids
    p.push(0); // prefilled txs
    frame(REGTEST, "cmpctblock", &p)
}

/// A legacy transaction: one input, one output.
fn tx_payload() -> Vec<u8> {
    let mut p = 1i32.to_le_bytes().to_vec();
    p.push(1);
    p.extend_from_slice(&[9u8; 32]);
    p.extend_from_slice(&0u32.to_le_bytes());
    p.push(0);
    p.extend_from_slice(&u32::MAX.to_le_bytes());
    p.push(1);
    p.extend_from_slice(&5000u64.to_le_bytes());
    p.push(0);
    p.extend_from_slice(&0u32.to_le_bytes());
    p
}

const A: &str = "10.0.0.1:18444";
const B: &str = "10.0.0.2:18444";
const C: &str = "10.0.0.3:18444";

/// Three connections of the local node (10.0.0.9) to peers A, B and C;
/// each message is one packet captured at T0 + its offset.
fn capture(path: &std::path::Path) -> [[u8; 32]; 2] {
    let mut pcap = Pcap::new();
    let mut conns = [
        Conn::new("10.0.0.9:50001", A),
        Conn::new("10.0.0.9:50002", B),
        Conn::new("10.0.0.9:50003", C),
    ];
    for c in &mut conns {
        c.handshake(&mut pcap);
        c.c2s(
            &mut pcap,
            &frame(REGTEST, "version", &version_payload(b"/l:1/")),
        );
        c.s2c(
            &mut pcap,
            &frame(REGTEST, "version", &version_payload(b"/p:1/")),
        );
    }
    let (h1, h2) = (header(1), header(2));
    let (b1, b2) = (sha256d(&h1), sha256d(&h2));
    let t1 = [0x11u8; 32];
    let t2 = [0x22u8; 32];
    let tx = tx_payload();
    let t3 = sha256d(&tx);
    const MSG_TX: u32 = 1;
    const MSG_BLOCK: u32 = 2;
    const MSG_WTX: u32 = 5;
    // (milliseconds after T0, peer, message)
    let mut events: Vec<(u64, usize, Vec<u8>)> = vec![
        // Block 1: A, then B 100 ms and C 250 ms behind.
        (0, 0, inv(&[(MSG_BLOCK, b1)])),
        (100, 1, headers(&h1)),
        (250, 2, cmpctblock(&h1)),
        // Block 2: B, then A 50 ms and C 100 ms behind.
        (5_000, 1, cmpctblock(&h2)),
        (5_050, 0, headers(&h2)),
        (5_100, 2, inv(&[(MSG_BLOCK, b2)])),
        // t1: A, B 10 ms and C 30 ms behind; t2: C, A 20 ms behind.
        (10_000, 0, inv(&[(MSG_TX, t1), (MSG_WTX, t2)])),
        (10_010, 1, inv(&[(MSG_WTX, t1)])),
        (10_030, 2, inv(&[(MSG_TX, t1)])),
        // (t2 announced by C before A, decoded in time order)
        // t3: B announces, A delivers the tx 40 ms later.
        (20_000, 1, inv(&[(MSG_TX, t3)])),
        (20_040, 0, frame(REGTEST, "tx", &tx)),
    ];
    // C announced t2 20 ms before A did (A's inv above at 10_000).
    events.push((9_980, 2, inv(&[(MSG_WTX, t2)])));
    events.sort_by_key(|e| e.0);
    for (ms, peer, msg) in events {
        pcap.next_record_at(T0 + ms * 1000);
        conns[peer].s2c(&mut pcap, &msg);
    }
    for c in &mut conns {
        c.close(&mut pcap);
    }
    pcap.write(path);
    [b1, b2]
}

fn stats(path: &std::path::Path, extra: &[&str]) -> Value {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&path];
    let fixed = ["--stats", "--format", "json", "-q"];
    args.extend(fixed.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
    args.extend(extra.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
    let out = read(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    of_type(&lines, "stats")[0].clone()
}

fn figures(announced: u64, first: u64, behind: u64, median_ms: Option<f64>) -> Value {
    json!({"announced": announced, "first": first, "behind": behind, "median_delay_ms": median_ms})
}

#[test]
fn three_peers_at_known_times() {
    let dir = support::scratch_dir("announce-three");
    let path = dir.join("three.pcap");
    let [b1, b2] = capture(&path);
    let s = stats(&path, &[]);
    let table = &s["announce_table"];
    assert_eq!(table["blocks_seen"], 2);
    assert_eq!(table["txs_seen"], 3);
    assert_eq!(table["txs_evicted"], 0);
    assert_eq!(table["beyond_slots"], 0);
    let announcers = s["announcers"].as_array().expect("announcers");
    let peers: Vec<&str> = announcers
        .iter()
        .map(|a| a["peer"].as_str().unwrap())
        .collect();
    // Most often first: A and B one block each, A more txs announced.
    assert_eq!(peers, [A, B, C]);
    let by = |p: &str| announcers.iter().find(|a| a["peer"] == p).unwrap().clone();
    // Blocks: A first once, 50 ms behind once; B first once, 100 ms
    // behind once; C never first, 250 and 100 ms behind (lower median).
    assert_eq!(by(A)["blocks"], figures(2, 1, 1, Some(50.0)));
    assert_eq!(by(B)["blocks"], figures(2, 1, 1, Some(100.0)));
    assert_eq!(by(C)["blocks"], figures(2, 0, 2, Some(100.0)));
    // Txs: A first of t1, 20 ms behind C on t2, 40 ms behind B on t3 (its
    // tx message delivers what B announced).
    assert_eq!(by(A)["txs"], figures(3, 1, 2, Some(20.0)));
    assert_eq!(by(B)["txs"], figures(2, 1, 1, Some(10.0)));
    assert_eq!(by(C)["txs"], figures(2, 1, 1, Some(30.0)));
    let blocks = s["blocks_first_seen"].as_array().expect("blocks");
    let seen: Vec<Value> = blocks
        .iter()
        .map(|b| {
            json!([
                b["hash"],
                b["first_peer"],
                b["peers"],
                b["spread_ms"],
                b["first_ts"]
            ])
        })
        .collect();
    let secs = |ms: u64| (T0 + ms * 1000) as f64 / 1e6;
    assert_eq!(
        seen,
        [
            json!([display(b1), A, 3, 250.0, secs(0)]),
            json!([display(b2), B, 3, 100.0, secs(5_000)])
        ]
    );
    // The same summary whatever the threads, and with --command leaving
    // the announcing messages undecoded.
    for extra in [
        &["--threads", "2"][..],
        &["--threads", "3"],
        &["--command", "ping"],
        &["--command", "inv", "--threads", "2"],
    ] {
        let other = stats(&path, extra);
        for key in ["announce_table", "announcers", "blocks_first_seen"] {
            assert_eq!(other[key], s[key], "{key} with {extra:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The text summary shows the table.
#[test]
fn text_summary_lists_announcers_and_blocks() {
    let dir = support::scratch_dir("announce-text");
    let path = dir.join("three.pcap");
    let [b1, _] = capture(&path);
    let out = read(&[&path, &"--stats", &"-q"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("announced: 2 blocks (0 evicted, 1000 kept), 3 txs (0 evicted, 100000 kept)"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with(C))
        .expect("C's row");
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols, [C, "0/2", "100.000", "1/2", "30.000"]);
    let block = format!(
        "block {} first 2023-11-14 22:15:00.000000 {A}, 3 peers, spread 250.000 ms",
        display(b1)
    );
    assert!(text.contains(&block), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The real 2011 mainnet capture (six flows of one node): blocks and txs
/// announced by more than one peer, as the capture shows.
#[test]
fn mainnet_2011_capture() {
    let s = stats(&data("mainnet-2011-ndpi.pcap"), &[]);
    let table = &s["announce_table"];
    assert_eq!(table["blocks_seen"], 1105);
    assert_eq!(table["blocks_evicted"], 105);
    assert_eq!(table["txs_seen"], 41);
    let blocks = s["blocks_first_seen"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 1000);
    let shared = blocks
        .iter()
        .filter(|b| b["peers"].as_u64() > Some(1))
        .count();
    assert!(shared > 0, "some blocks announced by more than one peer");
    let announcers = s["announcers"].as_array().expect("announcers");
    let tx_announced: u64 = announcers
        .iter()
        .map(|a| a["txs"]["announced"].as_u64().unwrap())
        .sum();
    let tx_first: u64 = announcers
        .iter()
        .map(|a| a["txs"]["first"].as_u64().unwrap())
        .sum();
    // Each tx has exactly one first announcer; more announcements than
    // txs: some were announced by several peers.
    assert_eq!(tx_first, 41);
    assert!(tx_announced > 41);
}
