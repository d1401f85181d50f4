//! Command-line habits and small contracts, on the real binary: `--command`
//! names, tcpdump's `-r`, `-q` and `-vv`, the flow-limit flags' edge
//! values, `--stats` with `-c`, plurals and the probe's timeout message.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};
use support::*;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .args(args)
        .output()
        .expect("run btcsniff")
}

fn sample(name: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = if name.starts_with("mainnet") {
        root.join("tests/data").join(name)
    } else {
        root.join("samples").join(name)
    };
    path.to_str().unwrap().to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_lines(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", stderr(out));
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn of_type<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["type"] == kind).collect()
}

#[test]
fn unknown_command_names_are_a_usage_error_listing_the_valid_ones() {
    let sync = sample("bcoin-regtest-sync.pcap");
    for bad in ["bogus", "inv,bogus", "tx,"] {
        let out = run(&["read", &sync, "--command", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = stderr(&out);
        assert!(err.contains("is not a command btcsniff decodes"), "{err}");
        assert!(err.contains("version, verack, addr"), "{err}");
        assert!(err.contains("sendtxrcncl, reject, alert"), "{err}");
        assert!(stdout(&out).is_empty());
    }
    // The probe takes the same names (checked before connecting).
    let hash = "00".repeat(32);
    let out = run(&["probe", "127.0.0.1:1", "--tx", &hash, "--command", "Bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("'Bogus' is not a command"));
}

#[test]
fn command_names_tolerate_case_and_spaces() {
    let sync = sample("bcoin-regtest-sync.pcap");
    let commands = |filter: &str| -> Vec<String> {
        let out = run(&["read", &sync, "--format", "json", "--command", filter]);
        json_lines(&out)
            .iter()
            .map(|v| v["command"].as_str().unwrap_or("-").to_string())
            .collect()
    };
    let exact = commands("inv,tx");
    assert_eq!(exact.iter().filter(|c| *c == "inv").count(), 3);
    assert_eq!(exact.iter().filter(|c| *c == "tx").count(), 1);
    assert_eq!(commands("inv, tx"), exact);
    assert_eq!(commands(" INV ,Tx"), exact);
    assert_eq!(commands("Version").len(), 4);
}

#[test]
fn command_filter_drops_flow_records_and_keeps_findings() {
    let dir = scratch_dir("habits-filter");
    let path = dir.join("gap.pcap");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8333");
    conn.handshake(&mut pcap);
    conn.c2s(&mut pcap, &frame(MAINNET, "ping", &1u64.to_le_bytes()));
    conn.lose_c2s(50);
    conn.c2s(&mut pcap, &frame(MAINNET, "ping", &2u64.to_le_bytes()));
    conn.c2s(&mut pcap, &frame(MAINNET, "getaddr", &[]));
    conn.close(&mut pcap);
    pcap.write(&path);
    let path = path.to_str().unwrap();
    let all = json_lines(&run(&["read", path, "--format", "json"]));
    assert_eq!(of_type(&all, "flow").len(), 2);
    let lines = json_lines(&run(&[
        "read",
        path,
        "--format",
        "json",
        "--command",
        "ping",
    ]));
    assert!(of_type(&lines, "flow").is_empty(), "{lines:?}");
    let kinds: Vec<_> = lines.iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["message", "finding", "message"]);
    assert_eq!(lines[1]["kind"], "gap");
    // Text too.
    let text = stdout(&run(&["read", path, "--command", "ping"]));
    assert!(!text.contains(" flow "), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn dash_r_reads_a_file_with_or_without_the_subcommand() {
    let sync = sample("bcoin-regtest-sync.pcap");
    let expected = run(&["read", &sync, "--stats"]);
    assert!(expected.status.success());
    for args in [
        vec!["-r", &sync, "--stats"],
        vec!["read", "-r", &sync, "--stats"],
        vec!["--stats", "-r", &sync],
        vec!["-qr", &sync, "--stats"],
        vec!["--read", &sync, "--stats"],
    ] {
        let out = run(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), stdout(&expected), "{args:?}");
    }
    // `-r` files come first, then the others.
    let pings = sample("bcoin-regtest-port28444.pcap");
    let messages = |args: &[&str]| -> Vec<Value> {
        let mut all = vec!["read", "--format", "json"];
        all.extend(args);
        json_lines(&run(&all))
            .into_iter()
            .filter(|v| v["type"] == "message")
            .collect()
    };
    let both = messages(&[&pings, "-r", &sync]);
    let (first, second) = (messages(&[&sync]), messages(&[&pings]));
    assert_eq!(both.len(), first.len() + second.len());
    assert_eq!(both[0], first[0]);
    // No input at all is still a usage error.
    assert_eq!(run(&["read"]).status.code(), Some(2));
    assert_eq!(run(&["read", "-q"]).status.code(), Some(2));
}

#[test]
fn quiet_is_accepted_and_changes_nothing_on_stdout() {
    let sync = sample("bcoin-regtest-sync.pcap");
    let plain = run(&["read", &sync]);
    let quiet = run(&["read", &sync, "-q"]);
    assert!(quiet.status.success());
    assert_eq!(stdout(&quiet), stdout(&plain));
    assert!(stderr(&quiet).is_empty());
}

#[test]
fn double_verbose_adds_the_payload_bytes() {
    let sync = sample("bcoin-regtest-sync.pcap");
    let lines = json_lines(&run(&["read", &sync, "--format", "json", "-vv"]));
    let messages = of_type(&lines, "message");
    assert!(!messages.is_empty());
    for m in &messages {
        let raw = m["raw"].as_str().expect("raw with -vv");
        assert_eq!(raw.len() as u64, 2 * m["length"].as_u64().unwrap(), "{m}");
        assert!(m["payload"].is_object());
    }
    let v = json_lines(&run(&["read", &sync, "--format", "json", "-v"]));
    assert!(
        of_type(&v, "message")
            .iter()
            .all(|m| m.get("raw").is_none())
    );
    // Text: a `raw` line below each message's tree.
    let text = stdout(&run(&["read", &sync, "-vv", "--command", "verack,ping"]));
    let raws: Vec<_> = text.lines().filter(|l| l.starts_with("    raw ")).collect();
    assert_eq!(raws.len(), 4, "{text}");
    assert!(raws.iter().all(|l| *l == "    raw "), "{text}");
    let text = stdout(&run(&["read", &sync, "-vv", "--command", "version"]));
    assert!(text.contains("    raw 7f110100"), "{text}");
}

#[test]
fn max_flows_zero_is_refused_with_a_reason() {
    let sync = sample("bcoin-regtest-sync.pcap");
    let out = run(&["read", &sync, "--max-flows", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("at least 1 flow"), "{}", stderr(&out));
    assert!(run(&["read", &sync, "--max-flows", "1"]).status.success());
}

/// A flow silent for 1,000 s of capture time: ended as idle by default
/// (600 s), never with `--idle-timeout 0`.
#[test]
fn idle_timeout_zero_means_never() {
    let dir = scratch_dir("habits-idle");
    let path = dir.join("idle.pcap");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8333");
    conn.handshake(&mut pcap);
    conn.c2s(&mut pcap, &frame(MAINNET, "ping", &1u64.to_le_bytes()));
    pcap.skip_secs(1_000);
    // Another flow's packet moves the capture clock on.
    let mut other = Conn::new("10.0.0.3:40000", "10.0.0.2:8333");
    other.handshake(&mut pcap);
    other.c2s(&mut pcap, &frame(MAINNET, "ping", &2u64.to_le_bytes()));
    pcap.write(&path);
    let path = path.to_str().unwrap();
    let reasons = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["read", path, "--format", "json"];
        args.extend(extra);
        let lines = json_lines(&run(&args));
        of_type(&lines, "flow")
            .iter()
            .filter(|f| f["event"] == "end" && f["flow"] == 1)
            .map(|f| f["reason"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(reasons(&[]), ["idle_timeout"]);
    assert_eq!(reasons(&["--idle-timeout", "0"]), ["end_of_input"]);
    let _ = std::fs::remove_dir_all(dir);
}

/// `--max-buffer 0`: no out-of-order byte is kept. A segment ahead of a
/// hole is dropped; after three such segments in a row the stream resumes
/// at the third, the bytes skipped reported as one gap.
#[test]
fn max_buffer_zero_keeps_no_out_of_order_bytes() {
    let dir = scratch_dir("habits-buffer");
    let path = dir.join("reorder.pcap");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8333");
    conn.handshake(&mut pcap);
    let ping = |n: u64| frame(MAINNET, "ping", &n.to_le_bytes());
    // The second message's segment overtakes the first's.
    let seq = conn.client_seq;
    let (c, s) = (conn.client, conn.server);
    let later = seq.wrapping_add(ping(1).len() as u32);
    pcap.record(&segment(c, s, later, conn.server_seq, DATA, &ping(2)));
    pcap.record(&segment(c, s, seq, conn.server_seq, DATA, &ping(1)));
    conn.client_seq = later.wrapping_add(ping(2).len() as u32);
    for n in 3..=6 {
        conn.c2s(&mut pcap, &ping(n));
    }
    conn.close(&mut pcap);
    pcap.write(&path);
    let path = path.to_str().unwrap();
    let read = |extra: &[&str]| -> (Vec<String>, Vec<u64>) {
        let mut args = vec!["read", path, "--format", "json"];
        args.extend(extra);
        let lines = json_lines(&run(&args));
        let nonces = of_type(&lines, "message")
            .iter()
            .map(|m| m["payload"]["nonce"].as_str().unwrap().to_string())
            .collect();
        let gaps = of_type(&lines, "finding")
            .iter()
            .filter(|f| f["kind"] == "gap")
            .map(|f| f["bytes"].as_u64().unwrap())
            .collect();
        (nonces, gaps)
    };
    let all: Vec<String> = (1..=6).map(|n| n.to_string()).collect();
    assert_eq!(read(&[]), (all, vec![]));
    // Pings 2 (overtaking), 3 and 4 (after the hole) are dropped; 5 is
    // the third segment in a row ahead of the hole: the stream resumes.
    let frame_len = ping(0).len() as u64;
    assert_eq!(
        read(&["--max-buffer", "0"]),
        (
            vec!["1".into(), "5".into(), "6".into()],
            vec![3 * frame_len]
        )
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `-c N --stats`: the summary covers what was read up to the N-th message
/// shown, not the rest of its packet or what the end of input flushes.
#[test]
fn stats_agree_with_what_count_printed() {
    let mainnet = sample("mainnet-2011-ndpi.pcap");
    for n in ["1", "2", "3", "10"] {
        let lines = json_lines(&run(&[
            "read", &mainnet, "--format", "json", "--stats", "-c", n,
        ]));
        let shown = of_type(&lines, "message");
        assert_eq!(shown.len().to_string(), n);
        let stats = of_type(&lines, "stats")[0];
        assert_eq!(stats["messages"].as_u64().unwrap() as usize, shown.len());
        let bytes: u64 = shown.iter().map(|m| m["length"].as_u64().unwrap()).sum();
        assert_eq!(stats["message_bytes"].as_u64().unwrap(), bytes);
        let per_flow: u64 = stats["flows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["messages"].as_u64().unwrap())
            .sum();
        assert_eq!(per_flow as usize, shown.len(), "{stats}");
    }
}

#[test]
fn probe_timeout_zero_says_what_is_allowed() {
    let hash = "00".repeat(32);
    for bad in ["0", "-1", "86401", "soon"] {
        let timeout = format!("--timeout={bad}");
        let out = run(&["probe", "127.0.0.1:1", "--tx", &hash, &timeout]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(
            err.contains("more than 0 and at most 86400"),
            "{bad}: {err}"
        );
        assert!(!err.contains("between 0"), "{err}");
    }
}

#[test]
fn one_address_is_singular() {
    let text = stdout(&run(&["read", &sample("mainnet-2011-ndpi.pcap")]));
    assert!(text.contains(" addr 31B ok  1 address first "), "{text}");
    assert!(!text.contains(" 1 addresses"));
    assert!(!text.contains(" 1 txs"));
}
