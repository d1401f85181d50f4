//! `btcsniff read` of Bitcoin Core's message capture (`-capturemessages`):
//! the real binary on capture trees written here from the format, with
//! real message payloads taken from the Bitcoin Core 0.13.99 regtest
//! captures in tests/data. Damaged files: tests/core_capture_hostile.rs.
//!
//! Golden files: tests/golden/core-capture.{txt,jsonl}; regenerate with
//! `BTCSNIFF_BLESS=1 cargo test --test core_capture` and review the diff.

mod support;

use std::fs;
use std::process::Output;
use support::core_capture::*;
use support::run::{data, golden, json_lines, of_type, read};
use support::scratch_dir as scratch;

#[test]
fn a_regtest_datadir_matches_the_goldens() {
    let root = scratch("golden");
    build_tree(&root);
    let text = read(&[&root, &"--stats"]);
    assert!(text.status.success(), "{text:?}");
    assert!(text.stderr.is_empty(), "{text:?}");
    golden("core-capture.txt", &String::from_utf8_lossy(&text.stdout));
    let json = read(&[&root, &"--format", &"json", &"--stats"]);
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
    // The datadir is stitched from separate real captures: its pong
    // answers another capture's ping, and its block was never asked for.
    // The passive checks say so, and nothing else is found.
    let kinds: Vec<&str> = of_type(&lines, "finding")
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["unmatched_pong", "unsolicited"], "{lines:?}");
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
            let wire = json_lines(&read(
                &[
                    &[&pcap as &dyn AsRef<std::ffi::OsStr>, &"--format", &"json"][..],
                    v,
                ]
                .concat(),
            ));
            let core = json_lines(&read(
                &[
                    &[&folder as &dyn AsRef<std::ffi::OsStr>, &"--format", &"json"][..],
                    v,
                ]
                .concat(),
            ));
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
        assert_eq!(tail(read(&[&pcap])), tail(read(&[&folder])), "{file} text");
    }
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
        let out = read(&args);
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
    let lines = json_lines(&read(&[&peer, &"--format", &"json"]));
    assert_eq!(lines[0]["network"], "unknown");
    assert!(lines[0].get("magic").is_none());
    let text = String::from_utf8_lossy(&read(&[&peer]).stdout).into_owned();
    assert!(
        text.contains("10.0.0.1:40000 -> local unknown verack 0B no-checksum"),
        "{text}"
    );
    let lines = json_lines(&read(&[
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
    let out = read(&[
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
    let text = String::from_utf8_lossy(&read(&[&folder.join("peer-b.bin")]).stdout).into_owned();
    assert!(text.contains(" copies <-> local unknown pong"), "{text}");
    fs::remove_dir_all(&root).unwrap();
}
