//! `btcsniff read` of damaged Bitcoin Core message-capture files: cut
//! files, bad commands, lying lengths (with peak RSS), empty folders.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use support::core_capture::*;
use support::run::{json_lines, of_type, read};
use support::scratch_dir as scratch;

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

    let out = read(&[&root.join("message_capture"), &"--format", &"json"]);
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
    let out = read(&[&file, &"--format", &"json"]);
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
    let out = read(&[&peer, &"--format", &"json"]);
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
    assert_eq!(msgs[3]["payload"]["nonce"], "9");
    // A finding comes before the message it is about.
    assert_eq!(lines[0]["type"], "finding");
    assert_eq!(lines[1]["command"], "getpkgtxns");
    // Text escapes the unprintable command.
    let text = String::from_utf8_lossy(&read(&[&peer]).stdout).into_owned();
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
fn a_directory_without_captures_is_an_error() {
    let root = scratch("empty");
    fs::create_dir_all(root.join("a/b")).unwrap();
    let out = read(&[&root]);
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
    let out = read(&[&root]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty());
    fs::remove_dir_all(&root).unwrap();
}
