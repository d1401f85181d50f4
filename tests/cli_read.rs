//! `btcsniff read` end to end: the real binary on real captures.
//!
//! Golden files live in tests/golden/; after a deliberate output change,
//! regenerate them with `BTCSNIFF_BLESS=1 cargo test --test cli_read` and
//! review the diff.

use serde_json::Value;
use std::path::Path;
use std::process::Stdio;

mod support;

use std::process::Output;
use support::run::{bin, data, golden, json_lines};
use support::scratch_dir;

/// Runs btcsniff; a `read` is run with `--threads 1` (the single-threaded
/// analyzer) and with `--threads 4`, which must give the same bytes, the
/// same messages on stderr and the same exit code.
fn run(args: &[&str]) -> Output {
    let reads = args.first().is_some_and(|a| *a == "read" || *a == "-r");
    if !reads || args.contains(&"--threads") {
        return bin().args(args).output().expect("run btcsniff");
    }
    let one = bin()
        .args(args)
        .args(["--threads", "1"])
        .output()
        .expect("run btcsniff");
    let four = bin()
        .args(args)
        .args(["--threads", "4"])
        .output()
        .expect("run btcsniff");
    assert!(
        one.stdout == four.stdout,
        "{args:?}: --threads 4 writes other bytes than --threads 1"
    );
    assert_eq!(one.stderr, four.stderr, "{args:?}: stderr with --threads 4");
    assert_eq!(
        one.status.code(),
        four.status.code(),
        "{args:?}: exit code with --threads 4"
    );
    one
}

fn messages(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|v| v["type"] == "message").collect()
}

#[test]
fn every_core_single_message_capture_decodes() {
    let cases = [
        ("block", "block"),
        ("blocktxn", "blocktxn"),
        ("cmpctblock", "cmpctblock"),
        ("feefilter", "feefilter"),
        ("getblocktxn", "getblocktxn"),
        ("ping", "ping"),
        ("pong", "pong"),
        ("sendcmpct", "sendcmpct"),
        ("sendheaders", "sendheaders"),
        ("verack", "verack"),
        ("version1", "version"),
        ("version2", "version"),
    ];
    for (file, command) in cases {
        let path = data(&format!("jnewbery-regtest/{file}.pcap"));
        let out = run(&["read", path.to_str().unwrap(), "--format", "json"]);
        assert!(out.status.success(), "{file}: {:?}", out);
        let lines = json_lines(&out);
        let msgs = messages(&lines);
        assert_eq!(msgs.len(), 1, "{file}: one message expected");
        let m = msgs[0];
        assert_eq!(m["command"], command, "{file}");
        assert_eq!(m["network"], "regtest", "{file}");
        assert_eq!(m["magic"], "fabfb5da", "{file}");
        assert!(m["src"].as_str().unwrap().starts_with("10.1.1.1:"), "{m}");
        assert!(m["dst"].as_str().unwrap().starts_with("10.2.2.2:"), "{m}");
        assert!(m["payload"].is_object(), "{file}: payload decoded: {m}");
        if file == "version2" {
            // The capture's header says 8084b609; the payload hashes to 186f7ab3.
            assert_eq!(m["checksum"], "invalid");
            assert_eq!(m["checksum_header"], "8084b609");
            assert_eq!(m["checksum_computed"], "186f7ab3");
            assert!(m["payload"]["relay"].is_null(), "no relay byte: {m}");
        } else {
            assert_eq!(m["checksum"], "valid", "{file}");
        }
    }
}

#[test]
fn mainnet_2011_text_matches_golden() {
    let path = data("mainnet-2011-ndpi.pcap");
    let out = run(&["read", path.to_str().unwrap(), "--stats"]);
    assert!(out.status.success(), "{:?}", out);
    golden("mainnet-2011.txt", &String::from_utf8_lossy(&out.stdout));
}

#[test]
fn mainnet_2011_json_matches_golden() {
    let path = data("mainnet-2011-ndpi.pcap");
    let out = run(&[
        "read",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--stats",
    ]);
    assert!(out.status.success(), "{:?}", out);
    golden("mainnet-2011.jsonl", &String::from_utf8_lossy(&out.stdout));
}

/// Transactions inside a block are summaries by default and whole with
/// `-v` (Core's getblock verbosity 1 and 2); a standalone tx is always
/// whole. The summary is the whole form without inputs and outputs (and
/// without a segwit transaction's wtxid).
#[test]
fn block_transactions_are_summaries_unless_verbose() {
    let path = data("mainnet-2011-ndpi.pcap");
    let path = path.to_str().unwrap();
    let blocks = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec!["read", path, "--format", "json", "--command", "block"];
        args.extend(extra);
        let out = run(&args);
        assert!(out.status.success(), "{:?}", out);
        json_lines(&out)
            .into_iter()
            .filter(|l| l["type"] == "message")
            .collect()
    };
    let (summary, full) = (blocks(&[]), blocks(&["-v"]));
    assert_eq!(summary.len(), 6);
    assert_eq!(full.len(), 6);
    let mut compared = 0;
    for (s, f) in summary.iter().zip(&full) {
        let (s, f) = (&s["payload"]["transactions"], &f["payload"]["transactions"]);
        for (st, ft) in s.as_array().unwrap().iter().zip(f.as_array().unwrap()) {
            let mut trimmed = ft.as_object().unwrap().clone();
            for key in ["inputs", "outputs"] {
                assert!(trimmed.remove(key).is_some(), "-v has {key}");
            }
            // A legacy transaction's wtxid is its txid and costs nothing:
            // the summary keeps it; a segwit one's is left to -v.
            if st.get("wtxid").is_none() {
                assert!(trimmed.remove("wtxid").is_some());
            }
            assert_eq!(st.as_object().unwrap(), &trimmed);
            assert_eq!(
                ft["input_count"].as_u64().unwrap() as usize,
                ft["inputs"].as_array().unwrap().len()
            );
            assert_eq!(
                ft["output_count"].as_u64().unwrap() as usize,
                ft["outputs"].as_array().unwrap().len()
            );
            compared += 1;
        }
    }
    assert!(compared > 6, "{compared} transactions compared");
    // A standalone tx is whole without -v.
    let out = run(&["read", path, "--format", "json", "--command", "tx"]);
    let tx = json_lines(&out)
        .into_iter()
        .find(|l| l["type"] == "message")
        .unwrap();
    assert!(tx["payload"]["inputs"].is_array() && tx["payload"]["outputs"].is_array());
}

/// The exact command sequence of every flow direction, checked by hand
/// against tshark (which agrees on every checksummed message and misreads
/// the legacy 20-byte version/verack headers).
#[test]
fn mainnet_2011_per_direction_sequences() {
    let path = data("mainnet-2011-ndpi.pcap");
    let out = run(&["read", path.to_str().unwrap(), "--format", "json"]);
    let lines = json_lines(&out);
    let mut seqs: std::collections::BTreeMap<(u64, String, String), Vec<String>> =
        Default::default();
    for m in messages(&lines) {
        let key = (
            m["flow"].as_u64().unwrap(),
            m["src"].as_str().unwrap().to_string(),
            m["dst"].as_str().unwrap().to_string(),
        );
        seqs.entry(key)
            .or_default()
            .push(m["command"].as_str().unwrap().to_string());
    }
    let mut text = String::new();
    for ((flow, src, dst), cmds) in &seqs {
        text.push_str(&format!("flow {flow} {src} -> {dst}: {}\n", cmds.join(" ")));
    }
    golden("mainnet-2011.sequences", &text);
    // Legacy headers: every version and verack has no checksum, the rest do.
    for m in messages(&lines) {
        let legacy = m["command"] == "version" || m["command"] == "verack";
        let expected = if legacy { "absent" } else { "valid" };
        assert_eq!(m["checksum"], expected, "{m}");
    }
}

#[test]
fn command_filter_and_stats_record() {
    let path = data("mainnet-2011-ndpi.pcap");
    let out = run(&[
        "read",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--command",
        "version,tx",
        "--stats",
    ]);
    let lines = json_lines(&out);
    let msgs = messages(&lines);
    assert!(!msgs.is_empty());
    assert!(
        msgs.iter()
            .all(|m| m["command"] == "version" || m["command"] == "tx")
    );
    let stats = lines.last().unwrap();
    assert_eq!(stats["type"], "stats");
    // The summary counts every message, shown or not.
    assert!(stats["by_command"]["inv"]["count"].as_u64().unwrap() > 0);
    let txs = msgs.iter().filter(|m| m["command"] == "tx").count() as u64;
    assert_eq!(stats["by_command"]["tx"]["count"].as_u64().unwrap(), txs);
}

#[test]
fn missing_file_is_a_one_line_error_exit_1() {
    let out = run(&["read", "/nonexistent/x.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/x.pcap"), "{err}");
}

#[test]
fn not_a_capture_is_an_error_exit_1() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let out = run(&["read", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("README.md"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn truncated_capture_prints_what_it_can_then_exit_1() {
    let full = std::fs::read(data("mainnet-2011-ndpi.pcap")).unwrap();
    let dir = scratch_dir("truncated");
    let cut = dir.join("cut.pcap");
    // Cut inside a record, well into the file.
    std::fs::write(&cut, &full[..full.len() / 2 + 7]).unwrap();
    let out = run(&["read", cut.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert!(
        messages(&lines).len() > 50,
        "messages before the cut are printed"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cut.pcap"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn usage_error_exits_2() {
    let out = run(&["read"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["read", "x.pcap", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn closed_pipe_exits_quietly() {
    let path = data("mainnet-2011-ndpi.pcap");
    let mut child = bin()
        .args(["read", path.to_str().unwrap(), "-v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    use std::io::Read;
    stdout.read_exact(&mut first).unwrap();
    drop(stdout); // like `| head -c 64`
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn several_files_are_read_in_order() {
    let a = data("jnewbery-regtest/ping.pcap");
    let b = data("jnewbery-regtest/pong.pcap");
    let out = run(&[
        "read",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let lines = json_lines(&out);
    let cmds: Vec<_> = messages(&lines)
        .iter()
        .map(|m| m["command"].clone())
        .collect();
    assert_eq!(cmds, vec!["ping", "pong"]);
}

/// The real bcoin recordings (samples/README.md): command counts equal
/// tshark's, and the retransmitted cmpctblock segment of the port-28444
/// sample is not counted twice.
#[test]
fn bcoin_samples_match_tshark_counts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = [
        ("block", 90),
        ("cmpctblock", 12),
        ("version", 4),
        ("verack", 4),
        ("getdata", 4),
        ("sendcmpct", 3),
        ("inv", 3),
        ("getaddr", 3),
        ("tx", 1),
        ("notfound", 1),
        ("getblocks", 1),
        ("addr", 1),
    ];
    for (file, extra) in [
        ("bcoin-regtest-sync.pcap", &[][..]),
        (
            "bcoin-regtest-port28444.pcap",
            &[("ping", 2), ("pong", 2)][..],
        ),
    ] {
        let path = root.join("samples").join(file);
        let out = run(&["read", path.to_str().unwrap(), "--format", "json"]);
        assert!(out.status.success());
        let lines = json_lines(&out);
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for m in messages(&lines) {
            assert_eq!(m["checksum"], "valid", "{m}");
            assert!(m["payload"].is_object(), "{m}");
            *counts
                .entry(m["command"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        let expected: std::collections::BTreeMap<String, usize> = base
            .iter()
            .chain(extra)
            .map(|(c, n)| (c.to_string(), *n))
            .collect();
        assert_eq!(counts, expected, "{file}");
        assert!(
            lines.iter().all(|l| l["type"] != "finding"),
            "{file}: no anomalies in a clean recording"
        );
    }
}

/// The same capture as pcapng (converted with `editcap -F pcapng`) gives
/// the same messages as the pcap.
#[test]
fn pcapng_and_pcap_give_the_same_messages() {
    let a = run(&[
        "read",
        data("mainnet-2011-ndpi.pcap").to_str().unwrap(),
        "--format",
        "json",
    ]);
    let b = run(&[
        "read",
        data("mainnet-2011-ndpi.pcapng").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(a.status.success() && b.status.success());
    assert_eq!(json_lines(&a), json_lines(&b));
}
