//! `btcsniff read` of Bitcoin Core's message capture (`-capturemessages`):
//! the real binary on capture trees written here from the format
//! (PROTOCOL.md; Core's CaptureMessageToFile), with real message payloads
//! taken from the Bitcoin Core 0.13.99 regtest captures in tests/data.
//!
//! Golden files: tests/golden/core-capture.{txt,jsonl}; regenerate with
//! `BTCSNIFF_BLESS=1 cargo test --test core_capture` and review the diff.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const T0: u64 = 1_700_000_000_000_000;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "btcsniff-test-corecap-{}-{name}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("run btcsniff")
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

fn of_type<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["type"] == kind).collect()
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("BTCSNIFF_BLESS").is_some() {
        fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (BTCSNIFF_BLESS=1 creates it)", path.display()));
    for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        assert_eq!(e, a, "{name} line {}", i + 1);
    }
    assert_eq!(expected.lines().count(), actual.lines().count(), "{name}");
}

/// One record as Core writes it: u64 LE microseconds, the command NUL
/// padded to 12 bytes, u32 LE payload length, the payload.
fn record_raw(time: u64, command: &[u8; 12], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + payload.len());
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(command);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fn record(time: u64, command: &str, payload: &[u8]) -> Vec<u8> {
    let mut field = [0u8; 12];
    field[..command.len()].copy_from_slice(command.as_bytes());
    record_raw(time, &field, payload)
}

/// The payload of the single v1 message in a jnewbery-regtest capture:
/// found by its regtest magic, cut by its header's length field.
fn real_payload(name: &str) -> Vec<u8> {
    let bytes = fs::read(data(&format!("jnewbery-regtest/{name}.pcap"))).expect("read pcap");
    let at = bytes
        .windows(4)
        .skip(24)
        .position(|w| w == [0xfa, 0xbf, 0xb5, 0xda])
        .expect("regtest magic")
        + 24;
    let len = u32::from_le_bytes(bytes[at + 16..at + 20].try_into().unwrap()) as usize;
    bytes[at + 24..at + 24 + len].to_vec()
}

/// Appends records to a peer's file.
fn append(dir: &Path, peer: &str, file: &str, records: &[Vec<u8>]) {
    let folder = dir.join(peer);
    fs::create_dir_all(&folder).unwrap();
    let path = folder.join(file);
    let mut bytes = fs::read(&path).unwrap_or_default();
    for r in records {
        bytes.extend_from_slice(r);
    }
    fs::write(path, bytes).unwrap();
}

const ONION: &str = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion";

/// A regtest datadir's capture: an outbound IPv4 peer (a whole handshake
/// and compact block relay, with ties between the two files), an inbound
/// IPv6 peer, and an onion peer that only got our version.
fn build_tree(datadir: &Path) -> PathBuf {
    let dir = datadir.join("regtest/message_capture");
    let p = |name: &str| real_payload(name);
    let t = |us: u64| T0 + us;
    append(
        &dir,
        "127.0.0.1_18444",
        "msgs_sent.dat",
        &[
            record(t(0), "version", &p("version1")),
            record(t(300), "verack", &[]),
            record(t(301), "sendheaders", &p("sendheaders")),
            record(t(500), "pong", &p("pong")),
            record(t(800), "getblocktxn", &p("getblocktxn")),
        ],
    );
    append(
        &dir,
        "127.0.0.1_18444",
        "msgs_recv.dat",
        &[
            record(t(200), "version", &p("version2")),
            record(t(300), "verack", &[]),
            record(t(400), "sendcmpct", &p("sendcmpct")),
            record(t(500), "ping", &p("ping")),
            record(t(600), "feefilter", &p("feefilter")),
            record(t(700), "cmpctblock", &p("cmpctblock")),
            record(t(900), "blocktxn", &p("blocktxn")),
            record(t(1000), "block", &p("block")),
        ],
    );
    append(
        &dir,
        "[2001_db8__7]_51234",
        "msgs_recv.dat",
        &[
            record(t(250), "version", &p("version1")),
            record(t(450), "verack", &[]),
        ],
    );
    append(
        &dir,
        "[2001_db8__7]_51234",
        "msgs_sent.dat",
        &[
            record(t(260), "version", &p("version1")),
            record(t(261), "verack", &[]),
        ],
    );
    append(
        &dir,
        &format!("{ONION}_18444"),
        "msgs_sent.dat",
        &[record(t(100), "version", &p("version1"))],
    );
    dir
}

#[test]
fn a_regtest_datadir_matches_the_goldens() {
    let root = scratch("golden");
    build_tree(&root);
    let text = run(&[&root, &"--stats"]);
    assert!(text.status.success(), "{text:?}");
    assert!(text.stderr.is_empty(), "{text:?}");
    golden("core-capture.txt", &String::from_utf8_lossy(&text.stdout));
    let json = run(&[&root, &"--format", &"json", &"--stats"]);
    assert!(json.status.success(), "{json:?}");
    golden("core-capture.jsonl", &String::from_utf8_lossy(&json.stdout));

    // The contract, independently of the golden: every record, in time
    // order, ties recv before sent; peers numbered in order of appearance.
    let lines = json_lines(&json);
    let msgs = of_type(&lines, "message");
    assert_eq!(msgs.len(), 18);
    let order: Vec<String> = msgs
        .iter()
        .map(|m| {
            format!(
                "{} {} {}",
                m["flow"],
                m["direction"].as_str().unwrap(),
                m["command"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            "1 sent version",
            "2 sent version",
            "1 recv version",
            "3 recv version",
            "3 sent version",
            "3 sent verack",
            "1 recv verack",
            "1 sent verack",
            "1 sent sendheaders",
            "1 recv sendcmpct",
            "3 recv verack",
            "1 recv ping",
            "1 sent pong",
            "1 recv feefilter",
            "1 recv cmpctblock",
            "1 sent getblocktxn",
            "1 recv blocktxn",
            "1 recv block",
        ]
    );
    for m in &msgs {
        assert_eq!(m["source"], "core-capture");
        assert_eq!(m["checksum"], "absent");
        assert_eq!(
            (&m["network"], &m["magic"]),
            (&"regtest".into(), &"fabfb5da".into())
        );
        let (peer, src, dst) = (&m["peer"], &m["src"], &m["dst"]);
        match m["direction"].as_str().unwrap() {
            "recv" => assert_eq!((src, dst), (peer, &"local".into())),
            "sent" => assert_eq!((src, dst), (&"local".into(), peer)),
            other => panic!("direction {other}"),
        }
    }
    let peers: Vec<&str> = msgs.iter().map(|m| m["peer"].as_str().unwrap()).collect();
    assert!(peers.contains(&"127.0.0.1:18444"));
    assert!(peers.contains(&"[2001:db8::7]:51234"));
    assert!(peers.contains(&format!("{ONION}:18444").as_str()));
    assert!(of_type(&lines, "finding").is_empty(), "{lines:?}");
    let stats = of_type(&lines, "stats")[0];
    assert_eq!(stats["messages"], 18);
    assert_eq!(stats["checksum_absent"], 18);
    assert_eq!(stats["peers"].as_array().unwrap().len(), 3);
    assert_eq!(stats["peers"][0]["messages"]["recv"], 8);
    assert_eq!(stats["peers"][0]["messages"]["sent"], 5);
    fs::remove_dir_all(&root).unwrap();
}

/// The same payload bytes give the same decoded payload whether they come
/// from a packet capture (v1 framing) or from Core's message capture.
#[test]
fn payloads_decode_exactly_as_from_the_wire() {
    let root = scratch("differential");
    let names = [
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
    for (i, (file, command)) in names.iter().enumerate() {
        let pcap = data(&format!("jnewbery-regtest/{file}.pcap"));
        let folder = root.join(format!("{file}/10.1.1.1_18444"));
        append(
            &folder,
            "",
            "msgs_recv.dat",
            &[record(T0 + i as u64, command, &real_payload(file))],
        );
        for verbose in [false, true] {
            let v: &[&dyn AsRef<std::ffi::OsStr>] = if verbose { &[&"-v"] } else { &[] };
            let wire = json_lines(&run(&[
                &[&pcap as &dyn AsRef<std::ffi::OsStr>, &"--format", &"json"][..],
                v,
            ]
            .concat()));
            let core = json_lines(&run(&[
                &[&folder as &dyn AsRef<std::ffi::OsStr>, &"--format", &"json"][..],
                v,
            ]
            .concat()));
            let (wire, core) = (of_type(&wire, "message"), of_type(&core, "message"));
            assert_eq!((wire.len(), core.len()), (1, 1), "{file}");
            for key in ["command", "length", "payload"] {
                assert_eq!(wire[0][key], core[0][key], "{file} {key}");
            }
            assert!(core[0]["payload"].is_object(), "{file}");
        }
        // Text: the same summary after the checksum column.
        // The message's line (a pcap also has flow lines), after the
        // checksum column.
        let tail = |out: Output| {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let line = text
                .lines()
                .find(|l| l.contains(&format!(" {command} ")) && !l.contains(" flow "))
                .unwrap_or_else(|| panic!("{file}: no message line in {text}"))
                .to_string();
            line.split_once("  ")
                .map(|(_, rest)| rest.to_string())
                .unwrap_or_default()
        };
        assert_eq!(tail(run(&[&pcap])), tail(run(&[&folder])), "{file} text");
    }
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_truncated_file_prints_what_precedes_the_cut_then_fails() {
    let root = scratch("truncated");
    let peer = root.join("message_capture/10.0.0.1_8333");
    append(
        &peer,
        "",
        "msgs_recv.dat",
        &[
            record(T0, "ping", &7u64.to_le_bytes()),
            record(T0 + 10, "inv", &[0u8; 37][..]),
        ],
    );
    let file = peer.join("msgs_recv.dat");
    let mut bytes = fs::read(&file).unwrap();
    bytes.truncate(32 + 24 + 20);
    fs::write(&file, bytes).unwrap();
    append(
        &root.join("message_capture/10.0.0.2_8333"),
        "",
        "msgs_sent.dat",
        &[record(T0 + 20, "pong", &7u64.to_le_bytes())],
    );

    let out = run(&[&root.join("message_capture"), &"--format", &"json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out);
    let kinds: Vec<String> = lines
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                v["type"].as_str().unwrap(),
                v["command"].as_str().or(v["kind"].as_str()).unwrap()
            )
        })
        .collect();
    assert_eq!(kinds, ["message ping", "finding truncated", "message pong"]);
    let f = &lines[1];
    assert_eq!(
        (&f["offset"], &f["have"], &f["needed"]),
        (&32.into(), &44.into(), &61.into())
    );
    assert_eq!(f["ts"].as_f64(), Some((T0 + 10) as f64 / 1e6));
    assert_eq!(
        (&f["peer"], &f["direction"], &f["source"]),
        (
            &"10.0.0.1:8333".into(),
            &"recv".into(),
            &"core-capture".into()
        )
    );
    // Both networks guessed from the peers' default port 8333.
    assert_eq!(lines[0]["network"], "mainnet");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("msgs_recv.dat: file truncated inside record 2 starting at byte offset 32 (44 of 61 bytes present)"),
        "{stderr}"
    );

    // A header cut short: have < 24.
    let mut bytes = fs::read(&file).unwrap();
    bytes.truncate(32 + 5);
    fs::write(&file, bytes).unwrap();
    let out = run(&[&file, &"--format", &"json"]);
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (&lines[1]["kind"], &lines[1]["have"], &lines[1]["needed"]),
        (&"truncated".into(), &5.into(), &24.into())
    );
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn bad_commands_are_findings_and_reading_goes_on() {
    let root = scratch("commands");
    let peer = root.join("10.0.0.1_18444");
    append(
        &peer,
        "",
        "msgs_recv.dat",
        &[
            record(T0, "getpkgtxns", b"abc"),
            record_raw(T0 + 1, b"p\x01ng\0\0\0\0\0\0\0\0", &[1, 2]),
            record_raw(T0 + 2, b"ping\0x\0\0\0\0\0\0", &8u64.to_le_bytes()),
            record(T0 + 3, "ping", &9u64.to_le_bytes()),
        ],
    );
    let out = run(&[&peer, &"--format", &"json"]);
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out);
    let findings = of_type(&lines, "finding");
    assert_eq!(findings.len(), 3, "{lines:?}");
    assert_eq!(
        (
            &findings[0]["command"],
            &findings[0]["printable"],
            &findings[0]["offset"]
        ),
        (&"getpkgtxns".into(), &true.into(), &0.into())
    );
    assert_eq!(
        (
            &findings[1]["command_hex"],
            &findings[1]["printable"],
            &findings[1]["offset"]
        ),
        (
            &"70016e670000000000000000".into(),
            &false.into(),
            &27.into()
        )
    );
    assert_eq!(
        (&findings[2]["command_hex"], &findings[2]["printable"]),
        (&"70696e670078000000000000".into(), &false.into())
    );
    let msgs = of_type(&lines, "message");
    assert_eq!(msgs.len(), 4);
    assert_eq!(msgs[0]["payload"]["raw"], "616263");
    assert_eq!(msgs[3]["payload"]["nonce"], 9);
    // A finding comes before the message it is about.
    assert_eq!(lines[0]["type"], "finding");
    assert_eq!(lines[1]["command"], "getpkgtxns");
    // Text escapes the unprintable command.
    let text = String::from_utf8_lossy(&run(&[&peer]).stdout).into_owned();
    assert!(text.contains("p\\x01ng"), "{text}");
    fs::remove_dir_all(&root).unwrap();
}

/// Peak RSS in KiB of `btcsniff read ARGS` (GNU time's %M).
fn peak_rss_kb(args: &[&Path]) -> (Output, u64) {
    let rss_file = args[0].with_extension("rss");
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run btcsniff under /usr/bin/time");
    let rss = fs::read_to_string(&rss_file).expect("read /usr/bin/time output");
    let kb = rss
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("{rss:?}"));
    (out, kb)
}

#[test]
fn a_lying_length_stops_its_file_without_allocating() {
    let root = scratch("lying");
    let liar = root.join("10.0.0.1_8333");
    let mut lying = record(T0 + 1, "block", &[]);
    lying[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
    lying.extend_from_slice(&[0xab; 4096]);
    append(
        &liar,
        "",
        "msgs_recv.dat",
        &[
            record(T0, "ping", &1u64.to_le_bytes()),
            lying,
            record(T0 + 2, "ping", &2u64.to_le_bytes()),
        ],
    );
    // Within the limit but far past the end of the file.
    let mut short = record(T0 + 3, "block", &[]);
    short[20..24].copy_from_slice(&3_999_999u32.to_le_bytes());
    short.extend_from_slice(&[0xcd; 100]);
    append(&liar, "", "msgs_sent.dat", &[short]);
    append(
        &root.join("10.0.0.2_8333"),
        "",
        "msgs_recv.dat",
        &[record(T0 + 5, "pong", &3u64.to_le_bytes())],
    );

    let (out, rss_kb) = peak_rss_kb(&[&root]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out);
    let summary: Vec<String> = lines
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                v["kind"].as_str().or(v["command"].as_str()).unwrap(),
                v["direction"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "ping recv",
            "oversize_length recv",
            "truncated sent",
            "pong recv"
        ]
    );
    let f = &lines[1];
    assert_eq!(
        (&f["offset"], &f["command"], &f["length"], &f["limit"]),
        (
            &32.into(),
            &"block".into(),
            &u32::MAX.into(),
            &4_000_000.into()
        )
    );
    assert_eq!(
        (&lines[2]["have"], &lines[2]["needed"]),
        (&124.into(), &4_000_023.into())
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("claims a 4294967295-byte payload, above the limit of 4000000"),
        "{stderr}"
    );
    assert!(stderr.contains("no magic to resynchronise on"), "{stderr}");
    // Nothing near 4 GB, nor the 4 MB the short record claims.
    assert!(rss_kb < 16 * 1024, "peak RSS {rss_kb} KiB");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn stats_count_and_command_filter_work_on_core_captures() {
    let root = scratch("flags");
    build_tree(&root);
    let json = |extra: &[&str]| {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&root, &"--format", &"json"];
        for e in extra {
            args.push(e);
        }
        let out = run(&args);
        assert!(out.status.success(), "{out:?}");
        json_lines(&out)
    };
    let lines = json(&["-c", "3"]);
    assert_eq!(of_type(&lines, "message").len(), 3);
    let lines = json(&["--command", "version,ping", "--stats"]);
    let cmds: Vec<&str> = of_type(&lines, "message")
        .iter()
        .map(|m| m["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        cmds,
        [
            "version", "version", "version", "version", "version", "ping"
        ]
    );
    // Statistics count every record, shown or not.
    assert_eq!(of_type(&lines, "stats")[0]["messages"], 18);
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn networks_from_the_flag_or_unknown() {
    let root = scratch("networks");
    let peer = root.join("somewhere/10.0.0.1_40000");
    append(&peer, "", "msgs_recv.dat", &[record(T0, "verack", &[])]);
    let lines = json_lines(&run(&[&peer, &"--format", &"json"]));
    assert_eq!(lines[0]["network"], "unknown");
    assert!(lines[0].get("magic").is_none());
    let text = String::from_utf8_lossy(&run(&[&peer]).stdout).into_owned();
    assert!(
        text.contains("10.0.0.1:40000 -> local unknown verack 0B no-checksum"),
        "{text}"
    );
    let lines = json_lines(&run(&[
        &peer,
        &"--format",
        &"json",
        &"--network",
        &"signet",
    ]));
    assert_eq!(
        (&lines[0]["network"], &lines[0]["magic"]),
        (&"signet".into(), &"0a03cf40".into())
    );
    fs::remove_dir_all(&root).unwrap();
}

/// A renamed file is recognised by its content, its direction by its
/// name; a packet capture in the same run is read first, and flow numbers
/// stay unique across both.
#[test]
fn renamed_files_and_packet_captures_in_one_run() {
    let root = scratch("mixed");
    let folder = root.join("copies");
    append(
        &folder,
        "",
        "peer-a.recv.bin",
        &[record(T0, "ping", &5u64.to_le_bytes())],
    );
    append(
        &folder,
        "",
        "peer-b.bin",
        &[record(T0 + 1, "pong", &5u64.to_le_bytes())],
    );
    let pcap = data("jnewbery-regtest/ping.pcap");
    let out = run(&[
        &folder.join("peer-a.recv.bin"),
        &pcap,
        &folder.join("peer-b.bin"),
        &"--format",
        &"json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out);
    let msgs = of_type(&lines, "message");
    assert_eq!(msgs.len(), 3);
    assert!(
        msgs[0].get("source").is_none(),
        "the pcap first: {}",
        msgs[0]
    );
    assert_eq!(
        (&msgs[1]["direction"], &msgs[1]["src"], &msgs[1]["peer"]),
        (&"recv".into(), &"copies".into(), &"copies".into())
    );
    assert_eq!(
        (&msgs[2]["direction"], &msgs[2]["src"], &msgs[2]["dst"]),
        (&"unknown".into(), &"unknown".into(), &"unknown".into())
    );
    let flows: Vec<u64> = msgs.iter().map(|m| m["flow"].as_u64().unwrap()).collect();
    assert_eq!(
        flows,
        [1, 2, 2],
        "one peer folder, numbered after the pcap's flow"
    );
    let text = String::from_utf8_lossy(&run(&[&folder.join("peer-b.bin")]).stdout).into_owned();
    assert!(text.contains(" copies <-> local unknown pong"), "{text}");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_directory_without_captures_is_an_error() {
    let root = scratch("empty");
    fs::create_dir_all(root.join("a/b")).unwrap();
    let out = run(&[&root]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "no Bitcoin Core message capture (msgs_recv.dat, msgs_sent.dat) within 4 levels"
        ),
        "{stderr}"
    );
    // An empty capture file is no error: no records.
    append(&root.join("1.2.3.4_8333"), "", "msgs_recv.dat", &[]);
    let out = run(&[&root]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty());
    fs::remove_dir_all(&root).unwrap();
}
