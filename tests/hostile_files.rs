//! Broken capture files: every message before the damage is printed, then
//! one line on stderr says what is wrong and where (byte offset, record),
//! exit 1, never a panic; the next file on the command line is still read.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn read(files: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .args(files)
        .args(["--format", "json"])
        .output()
        .expect("run btcsniff")
}

/// (ts, src, command, length) of every message line.
fn messages(out: &Output) -> Vec<(String, String, String, u64)> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
        .filter(|v| v["type"] == "message")
        .map(|v| {
            (
                v["ts"].to_string(),
                v["src"].to_string(),
                v["command"].to_string(),
                v["length"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "btcsniff-test-{}-hostile-files-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A classic little-endian pcap's records: (offset, ts, caplen field offset).
struct Record {
    offset: usize,
    ts: f64,
    len: usize,
}

fn pcap_records(bytes: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let field = |i: usize| u32::from_le_bytes(bytes[at + i..at + i + 4].try_into().unwrap());
        let len = field(8) as usize;
        out.push(Record {
            offset: at,
            ts: f64::from(field(0)) + f64::from(field(4)) / 1e6,
            len: 16 + len,
        });
        at += 16 + len;
    }
    out
}

/// The messages of the whole file that were emitted before capture time
/// `ts` (all their bytes came in earlier records).
fn messages_before(
    all: &[(String, String, String, u64)],
    ts: f64,
) -> Vec<(String, String, String, u64)> {
    all.iter()
        .filter(|m| m.0.parse::<f64>().expect("ts") < ts)
        .cloned()
        .collect()
}

fn one_line_error(out: &Output, file: &Path, expect: &[&str]) {
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(&*file.to_string_lossy()), "{err}");
    for e in expect {
        assert!(err.contains(e), "{e:?} not in {err}");
    }
}

const SAMPLE: &str = "samples/bcoin-regtest-sync.pcap";

#[test]
fn truncated_pcap_prints_everything_before_the_cut() {
    let full = std::fs::read(data(SAMPLE)).expect("sample");
    let all = messages(&read(&[&data(SAMPLE)]));
    let records = pcap_records(&full);
    let dir = Scratch::new("cut");
    let mut checked = 0;
    // Cuts inside a record header and inside a record's data, at several
    // places in the file.
    for k in [3, records.len() / 3, records.len() / 2, records.len() - 2] {
        let rec = &records[k];
        for cut in [rec.offset + 5, rec.offset + rec.len - 1] {
            let path = dir.write(&format!("cut{cut}.pcap"), &full[..cut]);
            let out = read(&[&path]);
            let where_ = format!("record {} starting at byte offset {}", k + 1, rec.offset);
            one_line_error(&out, &path, &["truncated", &where_]);
            let expected = messages_before(&all, rec.ts);
            assert!(
                k < 10 || expected.len() > 10,
                "a meaningful prefix: {} of {}",
                expected.len(),
                all.len()
            );
            assert!(expected.len() <= all.len());
            assert_eq!(messages(&out), expected, "cut at {cut}");
            checked += 1;
        }
    }
    assert_eq!(checked, 8);
}

#[test]
fn corrupt_pcap_record_length() {
    let full = std::fs::read(data(SAMPLE)).expect("sample");
    let all = messages(&read(&[&data(SAMPLE)]));
    let records = pcap_records(&full);
    let rec = &records[records.len() / 2];
    let dir = Scratch::new("reclen");
    for (name, caplen, expect) in [
        ("huge.pcap", u32::MAX, "above the limit"),
        ("4gb-snaplen.pcap", 0xffff_fff0, "above the limit"),
    ] {
        let mut bytes = full.clone();
        if name == "4gb-snaplen.pcap" {
            // A snap length of 4 GB lets the record claim it: the reader's
            // own limit refuses it before allocating.
            bytes[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        }
        bytes[rec.offset + 8..rec.offset + 12].copy_from_slice(&caplen.to_le_bytes());
        let path = dir.write(name, &bytes);
        let out = read(&[&path]);
        let at = format!("byte offset {}", rec.offset);
        one_line_error(&out, &path, &[expect, &at]);
        assert_eq!(messages(&out), messages_before(&all, rec.ts), "{name}");
    }
}

/// The same packets as a little-endian pcapng: SHB, one IDB, one EPB per
/// record; returns the file and each EPB's offset.
fn to_pcapng(pcap: &[u8]) -> (Vec<u8>, Vec<usize>) {
    fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let padded = body.len().div_ceil(4) * 4;
        let total = (12 + padded) as u32;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&total.to_le_bytes());
        out.extend_from_slice(body);
        out.resize(out.len() + padded - body.len(), 0);
        out.extend_from_slice(&total.to_le_bytes());
    }
    let mut out = Vec::new();
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    let link = u32::from_le_bytes(pcap[20..24].try_into().unwrap()) as u16;
    let mut idb = link.to_le_bytes().to_vec();
    idb.extend_from_slice(&[0, 0]);
    idb.extend_from_slice(&65535u32.to_le_bytes());
    block(&mut out, 1, &idb);
    let mut offsets = Vec::new();
    for r in pcap_records(pcap) {
        let f =
            |i: usize| u32::from_le_bytes(pcap[r.offset + i..r.offset + i + 4].try_into().unwrap());
        let ts = u64::from(f(0)) * 1_000_000 + u64::from(f(4));
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&f(8).to_le_bytes());
        epb.extend_from_slice(&f(12).to_le_bytes());
        epb.extend_from_slice(&pcap[r.offset + 16..r.offset + r.len]);
        offsets.push(out.len());
        block(&mut out, 6, &epb);
    }
    (out, offsets)
}

#[test]
fn corrupt_pcapng_block_length() {
    let full = std::fs::read(data(SAMPLE)).expect("sample");
    let all = messages(&read(&[&data(SAMPLE)]));
    let records = pcap_records(&full);
    let (ng, offsets) = to_pcapng(&full);
    let dir = Scratch::new("ng");
    let good = dir.write("good.pcapng", &ng);
    assert_eq!(messages(&read(&[&good])), all, "the conversion is faithful");
    let k = offsets.len() / 2;
    let at = offsets[k];
    for (name, len) in [
        ("huge", u32::MAX - 3),
        ("tiny", 8),
        ("odd", 1001),
        ("past-end", 0x0100_0000),
    ] {
        let mut bytes = ng.clone();
        bytes[at + 4..at + 8].copy_from_slice(&len.to_le_bytes());
        let path = dir.write(&format!("{name}.pcapng"), &bytes);
        let out = read(&[&path]);
        one_line_error(&out, &path, &[&format!("byte offset {at}")]);
        assert_eq!(
            messages(&out),
            messages_before(&all, records[k].ts),
            "{name}"
        );
    }
    // Cut inside the block.
    let path = dir.write("cut.pcapng", &ng[..at + 30]);
    let out = read(&[&path]);
    one_line_error(&out, &path, &["truncated", &format!("byte offset {at}")]);
    assert_eq!(messages(&out), messages_before(&all, records[k].ts));
}

#[test]
fn files_that_are_not_captures() {
    let dir = Scratch::new("notcap");
    for (name, bytes, expect) in [
        ("empty.pcap", &b""[..], "only 0 bytes"),
        ("short.pcap", &b"\xd4\xc3"[..], "only 2 bytes"),
        (
            "text.pcap",
            &b"GET / HTTP/1.1\r\n\r\n"[..],
            "not a capture file",
        ),
        (
            "elf.pcap",
            &b"\x7fELF\x02\x01\x01\0\0\0\0\0"[..],
            "not a capture file",
        ),
    ] {
        let path = dir.write(name, bytes);
        let out = read(&[&path]);
        one_line_error(&out, &path, &[expect]);
        assert!(out.stdout.is_empty());
    }
    // A pcap magic with nothing after it, and with half a file header.
    for (name, bytes) in [
        ("magic-only.pcap", &b"\xd4\xc3\xb2\xa1"[..]),
        (
            "half-header.pcapng",
            &b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c"[..],
        ),
    ] {
        let path = dir.write(name, bytes);
        let out = read(&[&path]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_broken_file_does_not_stop_the_next_one() {
    let full = std::fs::read(data(SAMPLE)).expect("sample");
    let dir = Scratch::new("next");
    let cut = dir.write("cut.pcap", &full[..full.len() / 2]);
    let junk = dir.write("junk.pcap", b"not a capture at all");
    let ping = data("tests/data/jnewbery-regtest/ping.pcap");
    let out = read(&[&cut, &junk, &ping]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 2, "one line per broken file: {err}");
    let msgs = messages(&out);
    assert_eq!(msgs.last().map(|m| m.2.as_str()), Some("\"ping\""));
}

/// A pcapng section announcing more interfaces than any capture has: the
/// interface list is capped (it grew with the input) and the file is
/// refused with a one-line error at the first interface too many.
#[test]
fn pcapng_with_endless_interface_blocks() {
    let (ng, offsets) = to_pcapng(&std::fs::read(data(SAMPLE)).expect("sample"));
    // SHB and the first IDB, then 70,000 more IDBs, then the packets.
    let idb = &ng[28..48];
    let mut bytes = ng[..offsets[0]].to_vec();
    for _ in 0..70_000 {
        bytes.extend_from_slice(idb);
    }
    bytes.extend_from_slice(&ng[offsets[0]..]);
    let dir = Scratch::new("idbs");
    let path = dir.write("idbs.pcapng", &bytes);
    let out = read(&[&path]);
    let at = format!("byte offset {}", 28 + 65_536 * 20);
    one_line_error(&out, &path, &["more than 65536 interfaces", &at]);
    assert!(messages(&out).is_empty());
}

#[test]
fn a_file_truncated_while_it_is_read_in_place_is_a_clean_error() {
    // A regular file is read memory-mapped: another process truncating it
    // meanwhile (a `tcpdump -W` ring overwriting it) makes the reading
    // fault (SIGBUS), which must end in a message and exit 1, not a crash.
    use std::io::Read;
    let sample = std::fs::read(data(SAMPLE)).expect("sample");
    let records = &sample[24..];
    let mut big = sample[..24].to_vec();
    while big.len() < 64 << 20 {
        big.extend_from_slice(records);
    }
    let scratch = Scratch::new("shrinks");
    let path = scratch.write("ring.pcap", &big);
    let mut child = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .arg(&path)
        .args(["--format", "json", "-q"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run btcsniff");
    let mut stdout = child.stdout.take().expect("stdout");
    // The first output: reading has started, and stalls on the full pipe
    // long before the end of the file.
    let mut first = [0u8; 4096];
    stdout.read_exact(&mut first).expect("first output");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("reopen")
        .set_len(4096)
        .expect("truncate");
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).expect("drain");
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("shrank while it was being read"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
