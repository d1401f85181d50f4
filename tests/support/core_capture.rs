//! Bitcoin Core message-capture files written from the format
//! (PROTOCOL.md; Core's CaptureMessageToFile), for tests/core_capture*.rs.

use super::run::data;
use std::fs;
use std::path::{Path, PathBuf};

pub const T0: u64 = 1_700_000_000_000_000;

/// One record as Core writes it: u64 LE microseconds, the command NUL
/// padded to 12 bytes, u32 LE payload length, the payload.
pub fn record_raw(time: u64, command: &[u8; 12], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + payload.len());
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(command);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

pub fn record(time: u64, command: &str, payload: &[u8]) -> Vec<u8> {
    let mut field = [0u8; 12];
    field[..command.len()].copy_from_slice(command.as_bytes());
    record_raw(time, &field, payload)
}

/// The payload of the single v1 message in a jnewbery-regtest capture:
/// found by its regtest magic, cut by its header's length field.
pub fn real_payload(name: &str) -> Vec<u8> {
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
pub fn append(dir: &Path, peer: &str, file: &str, records: &[Vec<u8>]) {
    let folder = dir.join(peer);
    fs::create_dir_all(&folder).unwrap();
    let path = folder.join(file);
    let mut bytes = fs::read(&path).unwrap_or_default();
    for r in records {
        bytes.extend_from_slice(r);
    }
    fs::write(path, bytes).unwrap();
}

pub const ONION: &str = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion";

/// A regtest datadir's capture: an outbound IPv4 peer (a whole handshake
/// and compact block relay, with ties between the two files), an inbound
/// IPv6 peer, and an onion peer that only got our version.
pub fn build_tree(datadir: &Path) -> PathBuf {
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
