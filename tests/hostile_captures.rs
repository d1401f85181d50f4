//! Adversarial captures, generated here, through the real binary: each one
//! ends with exit 0, the findings that describe the attack (with their
//! values), everything that could still be decoded (a valid ping after the
//! bad stuff), and a peak RSS (from the kernel, via /usr/bin/time) within the
//! configured caps plus a constant.

mod support;

use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use support::{Conn, DATA, Flags, PcapStream, REGTEST, frame, segment, version_payload};

/// Peak RSS of reading a tiny capture: the binary's fixed cost (code, the
/// capture reader's 1 MiB buffer, output buffers).
const BASELINE_SLACK_KB: u64 = 16 * 1024;

struct Run {
    code: i32,
    lines: Vec<Value>,
    stderr: String,
    /// Peak resident set size in KiB (GNU time's %M: ru_maxrss).
    rss_kb: u64,
}

impl Run {
    fn messages(&self, command: &str) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|v| v["type"] == "message" && v["command"] == command)
            .collect()
    }

    fn findings(&self, kind: &str) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|v| v["type"] == "finding" && v["kind"] == kind)
            .collect()
    }

    fn flow_ends(&self) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|v| v["type"] == "flow" && v["event"] == "end")
            .collect()
    }
}

/// Runs `btcsniff read FILE --format json ARGS` under /usr/bin/time, with
/// one thread and with four: the same bytes, the same exit code, and the
/// larger peak RSS of the two (the bounds hold for both).
fn read(file: &Path, args: &[&str]) -> Run {
    let one = read_with(file, args, "1");
    let four = read_with(file, args, "4");
    assert!(
        one.lines == four.lines,
        "--threads 4 writes other lines than --threads 1"
    );
    assert_eq!(one.code, four.code, "exit code with --threads 4");
    assert_eq!(one.stderr, four.stderr, "stderr with --threads 4");
    if four.rss_kb > one.rss_kb { four } else { one }
}

fn read_with(file: &Path, args: &[&str], threads: &str) -> Run {
    let rss_file = file.with_extension("rss");
    let out = support::run::bin_under_time(&rss_file)
        .arg("read")
        .arg(file)
        .args(["--format", "json", "--threads", threads])
        .args(args)
        .output()
        .expect("run btcsniff under /usr/bin/time");
    let rss_kb = support::run::peak_rss_kb(&rss_file);
    eprintln!(
        "{} --threads {threads}: peak RSS {rss_kb} KiB",
        file.display()
    );
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect();
    Run {
        code: out.status.code().unwrap_or(-1),
        lines,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        rss_kb,
    }
}

/// A scratch directory removed when dropped (large captures must not stay).
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        Scratch(support::scratch_dir(&format!("hostile-{name}")))
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TCP connection written to a [`PcapStream`]: [`Conn`] plus the
/// out-of-order writes and the Bitcoin opening these tests need.
struct Tcp {
    conn: Conn,
}

impl Tcp {
    fn new(client: &str, server: &str) -> Tcp {
        Tcp {
            conn: Conn::new(client, server),
        }
    }

    /// SYN and SYN-ACK (no bare ACK: the flood test counts packets).
    fn handshake(&mut self, out: &mut PcapStream) {
        self.conn.syn_and_synack(out);
    }

    /// Client-to-server bytes at `seq_offset` past the next expected byte
    /// (0: in order), in MSS segments; the next expected byte stays put.
    fn c2s_at(&mut self, out: &mut PcapStream, seq_offset: u32, bytes: &[u8]) {
        let c = &self.conn;
        let mut seq = c.client_seq.wrapping_add(seq_offset);
        for chunk in bytes.chunks(support::MSS) {
            out.record(&segment(c.client, c.server, seq, c.server_seq, DATA, chunk));
            seq = seq.wrapping_add(chunk.len() as u32);
        }
    }

    fn c2s(&mut self, out: &mut PcapStream, bytes: &[u8]) {
        self.conn.c2s(out, bytes);
    }

    /// Handshake, then a version each way and a verack from the server.
    fn open_bitcoin(&mut self, out: &mut PcapStream) {
        self.handshake(out);
        self.c2s(
            out,
            &frame(REGTEST, "version", &version_payload(b"/hostile:0.1/")),
        );
        self.conn.s2c(
            out,
            &frame(REGTEST, "version", &version_payload(b"/victim:0.1/")),
        );
        self.conn.s2c(out, &frame(REGTEST, "verack", &[]));
    }
}

fn ping(nonce: u64) -> Vec<u8> {
    frame(REGTEST, "ping", &nonce.to_le_bytes())
}

/// A v1 header with any length field and a zero checksum.
fn raw_header(command: &str, length: u32) -> Vec<u8> {
    let mut h = REGTEST.to_vec();
    let mut cmd = [0u8; 12];
    cmd[..command.len()].copy_from_slice(command.as_bytes());
    h.extend_from_slice(&cmd);
    h.extend_from_slice(&length.to_le_bytes());
    h.extend_from_slice(&[0; 4]);
    h
}

/// The peak RSS of reading a small, ordinary capture.
fn baseline_kb(dir: &Scratch) -> u64 {
    let path = dir.file("baseline.pcap");
    let mut out = PcapStream::create(&path);
    let mut tcp = Tcp::new("10.0.0.1:40000", "10.0.0.2:18444");
    tcp.open_bitcoin(&mut out);
    tcp.c2s(&mut out, &ping(1));
    out.finish();
    let run = read(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.rss_kb
}

fn assert_ping_after(run: &Run, nonce: u64) {
    let pings = run.messages("ping");
    assert!(
        pings
            .iter()
            .any(|p| p["payload"]["nonce"] == nonce.to_string().as_str()),
        "the ping after the attack was not decoded: {pings:?}"
    );
}

fn assert_clean_exit(run: &Run) {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn length_field_of_4_gb_is_refused_and_framing_goes_on() {
    let dir = Scratch::new("4gb");
    let path = dir.file("4gb.pcap");
    let mut out = PcapStream::create(&path);
    let mut tcp = Tcp::new("10.0.0.1:40000", "10.0.0.2:18444");
    tcp.open_bitcoin(&mut out);
    let mut attack = raw_header("block", u32::MAX);
    attack.extend_from_slice(&support::noise(3000, 7));
    tcp.c2s(&mut out, &attack);
    tcp.c2s(&mut out, &ping(0x4747));
    out.finish();

    let run = read(&path, &[]);
    assert_clean_exit(&run);
    let oversize = run.findings("oversize_length");
    assert_eq!(oversize.len(), 1, "{:?}", run.lines);
    let f = &oversize[0];
    assert_eq!(f["length"], u64::from(u32::MAX));
    assert_eq!(f["limit"], 4_000_000);
    assert_eq!(f["command"], "block");
    assert_eq!(run.messages("version").len(), 2);
    assert_ping_after(&run, 0x4747);
    assert!(
        run.rss_kb < baseline_kb(&dir) + BASELINE_SLACK_KB,
        "{} KiB",
        run.rss_kb
    );
}

#[test]
fn inv_count_of_2_pow_32_is_reported_without_allocating() {
    let dir = Scratch::new("inv");
    let path = dir.file("inv.pcap");
    let mut out = PcapStream::create(&path);
    let mut tcp = Tcp::new("10.0.0.1:40000", "10.0.0.2:18444");
    tcp.open_bitcoin(&mut out);
    // CompactSize 0xff + 2^32, then a single real item.
    let mut inv = vec![0xff];
    inv.extend_from_slice(&(1u64 << 32).to_le_bytes());
    inv.extend_from_slice(&1u32.to_le_bytes());
    inv.extend_from_slice(&[0xab; 32]);
    tcp.c2s(&mut out, &frame(REGTEST, "inv", &inv));
    tcp.c2s(&mut out, &ping(0x1212));
    out.finish();

    let run = read(&path, &[]);
    assert_clean_exit(&run);
    let over = run.findings("count_over_limit");
    assert_eq!(over.len(), 1, "{:?}", run.lines);
    assert_eq!(over[0]["count"], 1u64 << 32);
    assert_eq!(over[0]["command"], "inv");
    assert_eq!(run.messages("inv").len(), 1, "the inv itself is shown");
    assert_ping_after(&run, 0x1212);
    assert!(
        run.rss_kb < baseline_kb(&dir) + BASELINE_SLACK_KB,
        "{} KiB",
        run.rss_kb
    );
}

#[test]
fn version_claiming_a_100_mb_user_agent() {
    let dir = Scratch::new("ua");
    let path = dir.file("ua.pcap");
    let mut out = PcapStream::create(&path);
    let mut tcp = Tcp::new("10.0.0.1:40000", "10.0.0.2:18444");
    tcp.handshake(&mut out);
    // The user agent's CompactSize says 100,000,000; 20 bytes follow.
    let mut version = version_payload(b"");
    let ua_at = 4 + 8 + 8 + 26 + 26 + 8;
    let tail = version.split_off(ua_at + 1);
    version.truncate(ua_at);
    version.push(0xfe);
    version.extend_from_slice(&100_000_000u32.to_le_bytes());
    version.extend_from_slice(&[b'A'; 20]);
    version.extend_from_slice(&tail);
    tcp.c2s(&mut out, &frame(REGTEST, "version", &version));
    // And a header claiming the 100 MB outright.
    tcp.c2s(&mut out, &raw_header("version", 100_000_000));
    tcp.c2s(&mut out, &ping(0x5555));
    out.finish();

    let run = read(&path, &[]);
    assert_clean_exit(&run);
    let versions = run.messages("version");
    assert_eq!(versions.len(), 1, "{:?}", run.lines);
    let errors = run.findings("decode_error");
    assert_eq!(errors.len(), 1, "{:?}", run.lines);
    assert_eq!(errors[0]["command"], "version");
    let over = run.findings("oversize_length");
    assert_eq!(over.len(), 1);
    assert_eq!(over[0]["length"], 100_000_000);
    assert_ping_after(&run, 0x5555);
    assert!(
        run.rss_kb < baseline_kb(&dir) + BASELINE_SLACK_KB,
        "{} KiB",
        run.rss_kb
    );
}

#[test]
fn segments_ahead_of_the_window_that_never_fill() {
    let dir = Scratch::new("ahead");
    let path = dir.file("ahead.pcap");
    let mut out = PcapStream::create(&path);
    let mut tcp = Tcp::new("10.0.0.1:40000", "10.0.0.2:18444");
    tcp.open_bitcoin(&mut out);
    // 8 MB that follow a 1-byte hole nobody ever sends: far more than the
    // 1 MiB out-of-order budget.
    let junk = support::noise(8 << 20, 3);
    tcp.c2s_at(&mut out, 1, &junk);
    tcp.conn.client_seq = tcp.conn.client_seq.wrapping_add(1 + junk.len() as u32);
    // Pairs of segments 100 MB and more ahead, between in-order pings (two
    // in a row are dropped; a third would be taken as a resync).
    for k in 0..50u32 {
        tcp.c2s_at(&mut out, 100_000_000 + k * 3_000_000, &junk[..1000]);
        tcp.c2s_at(&mut out, 2_000_000_000 + k, &junk[..1000]);
        tcp.c2s(&mut out, &ping(u64::from(k)));
    }
    tcp.c2s(&mut out, &ping(0x7777));
    out.finish();

    let budget_kb = 1024; // --max-buffer default, per direction
    let run = read(&path, &[]);
    assert_clean_exit(&run);
    assert!(!run.findings("gap").is_empty(), "the hole is reported");
    assert_ping_after(&run, 0x7777);
    assert_eq!(
        run.messages("ping").len(),
        51,
        "every in-order ping is decoded"
    );
    let limit = baseline_kb(&dir) + 2 * budget_kb + 4 * 1024 + BASELINE_SLACK_KB;
    assert!(run.rss_kb < limit, "{} KiB >= {limit} KiB", run.rss_kb);
}

#[test]
fn flow_that_never_ends() {
    let dir = Scratch::new("endless");
    let path = dir.file("endless.pcap");
    let mut out = PcapStream::create(&path);
    let mut tcp = Tcp::new("10.0.0.1:40000", "10.0.0.2:18444");
    tcp.open_bitcoin(&mut out);
    // 48 MB of 1 MB messages, never a FIN, then a message that never
    // completes (3.9 MB announced, 1 MB sent).
    let big = frame(REGTEST, "junk", &support::noise(1 << 20, 5));
    for _ in 0..48 {
        tcp.c2s(&mut out, &big);
    }
    tcp.c2s(&mut out, &ping(0x9999));
    let mut unfinished = raw_header("block", 3_900_000);
    unfinished.extend_from_slice(&support::noise(1 << 20, 6));
    tcp.c2s(&mut out, &unfinished);
    out.finish();

    // `--command` keeps the 48 MB of junk (and flow records) out of the
    // output; the summary still counts every message of the flow.
    let run = read(&path, &["--command", "ping", "--stats"]);
    assert_clean_exit(&run);
    assert_ping_after(&run, 0x9999);
    let truncated = run.findings("truncated");
    assert_eq!(truncated.len(), 1, "{:?}", run.lines);
    assert_eq!(truncated[0]["needed"], 24 + 3_900_000);
    assert_eq!(truncated[0]["have"], 24 + (1 << 20));
    let stats = run.lines.iter().find(|v| v["type"] == "stats").unwrap();
    let flows = stats["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 1, "{stats}");
    // The client's version, junk and ping; the server's version and verack.
    assert_eq!(flows[0]["messages"], (1 + 48 + 1) + 2);
    // One message in the decoder (4 MB at most) and one reassembly budget.
    let limit = baseline_kb(&dir) + 2 * 4 * 1024 + 2 * 1024 + BASELINE_SLACK_KB;
    assert!(run.rss_kb < limit, "{} KiB >= {limit} KiB", run.rss_kb);
}

/// Writes `n` SYNs from distinct clients to port 8333 (one template packet,
/// addresses patched in place: checksums are not verified by the reader).
fn syn_flood(out: &mut PcapStream, n: u32) {
    let syn = Flags {
        syn: true,
        ack: false,
        fin: false,
        rst: false,
    };
    let client: SocketAddr = "10.0.0.0:1024".parse().expect("addr");
    let server: SocketAddr = "192.168.1.1:8333".parse().expect("addr");
    let mut packet = segment(client, server, 77, 0, syn, &[]);
    const IP_SRC: usize = 14 + 12;
    const TCP_SRC_PORT: usize = 14 + 20;
    for i in 0..n {
        let ip = 0x0a00_0000 | (i >> 6);
        packet[IP_SRC..IP_SRC + 4].copy_from_slice(&ip.to_be_bytes());
        let port = 1024 + (i & 63) as u16;
        packet[TCP_SRC_PORT..TCP_SRC_PORT + 2].copy_from_slice(&port.to_be_bytes());
        out.record(&packet);
    }
}

/// The worst case for memory: a million flows, each opened by a SYN, in
/// one second of capture time (no idle expiry helps), between two real
/// Bitcoin connections. The table holds --max-flows of them, evicting the
/// least recently active.
#[test]
fn a_million_flows_opened_by_syns() {
    let dir = Scratch::new("syns");
    let path = dir.file("syns.pcap");
    let mut out = PcapStream::create(&path);
    out.tick_us = 1;
    let mut first = Tcp::new("10.200.0.1:40000", "10.200.0.2:18444");
    first.open_bitcoin(&mut out);
    first.c2s(&mut out, &ping(1));
    syn_flood(&mut out, 1_000_000);
    let mut last = Tcp::new("10.200.0.3:40000", "10.200.0.2:18444");
    last.open_bitcoin(&mut out);
    last.c2s(&mut out, &ping(2));
    out.finish();

    let max_flows = 65_536u64;
    let run = read(&path, &["--stats", "--max-flows", &max_flows.to_string()]);
    std::fs::remove_file(&path).expect("remove the 70 MB capture");
    assert_clean_exit(&run);
    assert_ping_after(&run, 1);
    assert_ping_after(&run, 2);
    let ends = run.flow_ends();
    assert_eq!(ends.len(), 2, "SYN-only flows stay silent");
    assert_eq!(ends[0]["reason"], "evicted", "the first flow made room");
    assert_eq!(ends[1]["reason"], "end_of_input");
    let stats = run.lines.last().expect("stats line");
    assert_eq!(
        stats["packets"],
        1_000_000 + 2 * 6,
        "SYN, SYN-ACK, 3 handshake messages, a ping, per real flow"
    );

    // The bound: the fixed cost plus what --max-flows flows may take. A
    // tracked flow (table slot, index entry, two reassemblers, two idle
    // framing decoders) was measured at about 1.6 KiB (111 MB peak for
    // 65,536 flows, 32 MB for 16,384); without the cap this run would hold
    // 15 times as many.
    let per_flow_kb = 2;
    let limit = baseline_kb(&dir) + max_flows * per_flow_kb + BASELINE_SLACK_KB;
    eprintln!(
        "a million SYN flows: peak RSS {} KiB, bound {limit} KiB",
        run.rss_kb
    );
    assert!(run.rss_kb < limit, "{} KiB >= {limit} KiB", run.rss_kb);
}

/// Garbage made of headers that each claim almost 4 MB: while scanning for
/// a header after garbage, each candidate's checksum is verified over its
/// whole claimed payload. Unbounded, that is 4 MB of hashing per 24 bytes
/// of input (minutes of CPU for a few MB); the scan's hashing is bounded.
#[test]
fn scanning_through_headers_that_claim_4_mb_each() {
    let dir = Scratch::new("scanbomb");
    let path = dir.file("scanbomb.pcap");
    let mut out = PcapStream::create(&path);
    let mut tcp = Tcp::new("10.0.0.1:40000", "10.0.0.2:18444");
    tcp.open_bitcoin(&mut out);
    // 20,000 planted headers (480 KB): about 80 GB of hashing, minutes,
    // without the cap.
    let n = 20_000;
    let mut bomb = vec![0u8];
    for _ in 0..n {
        bomb.extend_from_slice(&raw_header("junk", 3_999_000));
    }
    bomb.resize(bomb.len() + 4_000_000, 0);
    tcp.c2s(&mut out, &bomb);
    tcp.c2s(&mut out, &ping(0xb0b));
    out.finish();

    let run = read(&path, &[]);
    assert_clean_exit(&run);
    assert_ping_after(&run, 0xb0b);
    let skipped = run.findings("skipped_bytes");
    assert_eq!(skipped.len(), 1, "{:?}", run.lines);
    assert_eq!(skipped[0]["bytes"], bomb.len() as u64);
}

/// A different made-up command in every message: the --stats table keeps
/// 256 names and counts the rest together, instead of growing with the
/// input.
#[test]
fn a_new_command_name_in_every_message() {
    let dir = Scratch::new("commands");
    let path = dir.file("commands.pcap");
    let mut out = PcapStream::create(&path);
    let mut tcp = Tcp::new("10.0.0.1:40000", "10.0.0.2:18444");
    tcp.open_bitcoin(&mut out);
    let n = 5000;
    let mut stream = Vec::new();
    for i in 0..n {
        stream.extend_from_slice(&frame(REGTEST, &format!("cmd{i:05}"), &[]));
    }
    tcp.c2s(&mut out, &stream);
    out.finish();

    let run = read(&path, &["--stats", "--command", "ping"]);
    assert_clean_exit(&run);
    let stats = run.lines.last().expect("stats line");
    let by_command = stats["by_command"].as_object().expect("by_command");
    assert_eq!(by_command.len(), 256 + 1, "256 names and the rest");
    assert_eq!(stats["messages"], n + 3);
    let listed: u64 = by_command
        .iter()
        .filter(|(k, _)| k.as_str() != "(other commands)")
        .map(|(_, v)| v["count"].as_u64().expect("count"))
        .sum();
    // version (2 messages), verack and 254 made-up names.
    assert_eq!(listed, 2 + 1 + 254);
    assert_eq!(by_command["(other commands)"]["count"], n - 254);
}
