//! Where `read` takes its packets from: standard input (streaming),
//! compressed files, BPF filters, and a machine without libpcap.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod support;

use support::run::{bin, data, run};
use support::scratch_dir as scratch;

const MAINNET: &str = "mainnet-2011-ndpi.pcap";

fn json_of(path: &Path) -> Vec<u8> {
    let out = run(&["read", path.to_str().unwrap(), "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn gzip_and_zstd_captures_read_like_the_plain_file() {
    let plain = data(MAINNET);
    let bytes = std::fs::read(&plain).unwrap();
    let dir = scratch("compressed");
    // Named without a telling extension: recognised by content.
    let gz = dir.join("capture.bin");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&bytes).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let zst = dir.join("capture.pcap.zst");
    std::fs::write(&zst, zstd::encode_all(&bytes[..], 3).unwrap()).unwrap();

    let expected = json_of(&plain);
    assert!(expected.len() > 10_000);
    assert_eq!(json_of(&gz), expected, "gzip");
    assert_eq!(json_of(&zst), expected, "zstd");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_cut_compressed_stream_prints_what_came_before_then_one_error() {
    let bytes = std::fs::read(data(MAINNET)).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&bytes).unwrap();
    let gz = enc.finish().unwrap();
    let dir = scratch("cut");
    let cut = dir.join("cut.pcap.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let out = run(&["read", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().count() > 50,
        "messages before the cut: {stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cut.pcap.gz"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn standard_input_is_read_as_it_arrives() {
    let bytes = std::fs::read(data(MAINNET)).unwrap();
    let mut child = bin()
        .args(["read", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let lines = std::thread::spawn(move || {
        let mut n = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if line.contains("\"type\":\"message\"") {
                let _ = tx.send(());
            }
            n += 1;
        }
        n
    });
    // The first half, then a pause: a message must come out before the
    // writer closes (bounded wait).
    stdin.write_all(&bytes[..bytes.len() / 2]).unwrap();
    stdin.flush().unwrap();
    rx.recv_timeout(Duration::from_secs(20))
        .expect("a message printed while the writer still holds the pipe open");
    stdin.write_all(&bytes[bytes.len() / 2..]).unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success());
    let streamed = lines.join().unwrap();
    let whole = String::from_utf8_lossy(&json_of(&data(MAINNET)))
        .lines()
        .count();
    assert_eq!(streamed, whole);
}

/// Ports of the flows whose messages are shown.
fn message_ports(stdout: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "message")
        .map(|v| (v["src"].to_string(), v["dst"].to_string()))
        .collect()
}

#[test]
fn read_filter_selects_packets_like_libpcap() {
    let path = data(MAINNET);
    let path = path.to_str().unwrap();
    let all = run(&["read", path, "--format", "json"]);
    let filtered = run(&["read", path, "-f", "tcp port 55348", "--format", "json"]);
    assert!(filtered.status.success());
    let expected: Vec<_> = message_ports(&all.stdout)
        .into_iter()
        .filter(|(s, d)| s.contains(":55348") || d.contains(":55348"))
        .collect();
    assert!(expected.len() > 10);
    assert_eq!(message_ports(&filtered.stdout), expected);

    // The same filter applied by tcpdump, when it is there.
    if Command::new("tcpdump").arg("--version").output().is_ok() {
        let dir = scratch("tcpdump");
        let out = dir.join("f.pcap");
        let status = Command::new("tcpdump")
            .args(["-r", path, "-w", out.to_str().unwrap(), "tcp port 55348"])
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let by_tcpdump = run(&["read", out.to_str().unwrap(), "--format", "json"]);
        assert_eq!(by_tcpdump.stdout, filtered.stdout);
        let _ = std::fs::remove_dir_all(dir);
    }

    let bad = run(&["read", path, "-f", "tcp port banana"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad capture filter"));
    assert!(bad.stdout.is_empty());
}

#[test]
fn without_libpcap_read_works_and_live_says_what_to_install() {
    let path = data(MAINNET);
    let path = path.to_str().unwrap();
    let missing = "/nonexistent/libpcap.so.1";
    let read = bin()
        .env("BTCSNIFF_LIBPCAP", missing)
        .args(["read", path])
        .output()
        .unwrap();
    assert!(read.status.success());
    assert!(read.stdout.len() > 10_000);
    for args in [
        &["live", "-i", "lo"][..],
        &["interfaces"][..],
        &["read", path, "-f", "tcp"][..],
    ] {
        let out = bin()
            .env("BTCSNIFF_LIBPCAP", missing)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let mut stderr = String::new();
        out.stderr.as_slice().read_to_string(&mut stderr).unwrap();
        assert!(
            stderr.contains("libpcap is not installed") && stderr.contains("apt-get install"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn tcpdump_habits_list_and_number_interfaces() {
    let listed = run(&["interfaces"]);
    assert!(listed.status.success());
    let dash_d = run(&["-D"]);
    assert_eq!(dash_d.stdout, listed.stdout);
    let list = String::from_utf8_lossy(&listed.stdout).into_owned();
    let lo = list
        .lines()
        .find_map(|l| l.strip_suffix("[Up, Running, Loopback]"))
        .and_then(|l| l.split_once('.'))
        .map(|(n, name)| (n.to_string(), name.trim().to_string()))
        .expect("lo listed");
    // Capturing needs root (CI is root); elsewhere the number is still parsed.
    let out = run(&["-i", &lo.0, "--duration", "0.2"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        assert!(
            stderr.contains(&format!("listening on {}, link-type EN10MB (1)", lo.1)),
            "{stderr}"
        );
    } else {
        assert!(std::env::var_os("CI").is_none(), "{stderr}");
        assert!(stderr.contains(&lo.1), "{stderr}");
    }
}

/// The records of a little-endian classic pcap: (header offset, caplen).
fn records(pcap: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push((at, caplen));
        at += 16 + caplen;
    }
    out
}

fn stats_of(stdout: &[u8]) -> serde_json::Value {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "stats")
        .expect("a stats record")
}

#[test]
fn skipped_packets_are_said_and_counted() {
    let original = std::fs::read(data(MAINNET)).unwrap();
    assert_eq!(
        &original[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian pcap"
    );
    let dir = scratch("skipped");

    // A link type btcsniff cannot parse: one warning naming it, counted.
    let mut link147 = original.clone();
    link147[20..24].copy_from_slice(&147u32.to_le_bytes());
    let path = dir.join("link147.pcap");
    std::fs::write(&path, &link147).unwrap();
    let out = run(&[
        "read",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--stats",
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("link type 147 is not supported"),
        "{stderr}"
    );
    let stats = stats_of(&out.stdout);
    let packets = stats["packets"].as_u64().unwrap();
    assert!(packets > 100);
    assert_eq!(stats["unsupported_link_types"]["147"], packets);

    // A header snap length below the records' lengths: read anyway, once warned.
    let mut small_snap = original.clone();
    small_snap[16..20].copy_from_slice(&64u32.to_le_bytes());
    let path = dir.join("smallsnap.pcap");
    std::fs::write(&path, &small_snap).unwrap();
    let out = run(&["read", path.to_str().unwrap(), "--format", "json"]);
    assert!(out.status.success());
    assert_eq!(out.stdout, json_of(&data(MAINNET)));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("exceeds the file's snap length 64"),
        "{stderr}"
    );

    // Packets cut by a 40-byte snap length (inside the TCP header): counted
    // as such, not as "not TCP/IP".
    let mut cut = original[..24].to_vec();
    cut[16..20].copy_from_slice(&40u32.to_le_bytes());
    let mut expect_cut = 0;
    for (at, caplen) in records(&original) {
        let keep = caplen.min(40);
        let mut header = original[at..at + 16].to_vec();
        header[8..12].copy_from_slice(&(keep as u32).to_le_bytes());
        cut.extend_from_slice(&header);
        cut.extend_from_slice(&original[at + 16..at + 16 + keep]);
        expect_cut += usize::from(caplen > 40);
    }
    let path = dir.join("cut.pcap");
    std::fs::write(&path, &cut).unwrap();
    let out = run(&[
        "read",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--stats",
    ]);
    assert!(out.status.success());
    let stats = stats_of(&out.stdout);
    assert_eq!(stats["packets_cut_by_snaplen"], expect_cut as u64);
    assert!(expect_cut > 100);
    let _ = std::fs::remove_dir_all(dir);
}
