//! No terminal injection: peer bytes in addrv2 addresses (binary I2P/Tor
//! keys, unknown networks), command names and decode errors reach the text
//! output (with and without -v) only as printable ASCII.

mod support;

use sha3::{Digest, Sha3_256};
use std::path::Path;
use std::process::Command;
use support::{Conn, MAINNET, Pcap, frame, version_payload};

fn text(path: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .arg(path)
        .args(args)
        .output()
        .expect("run btcsniff");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Only printable ASCII and line feeds: no ESC, BEL, CR, DEL, C1 or any
    // other byte a terminal could act on.
    if let Some(bad) = out
        .stdout
        .iter()
        .position(|&b| !(b == b'\n' || (0x20..0x7f).contains(&b)))
    {
        let from = bad.saturating_sub(80);
        panic!(
            "byte {:#04x} reached the terminal ({args:?}) after: {}",
            out.stdout[bad],
            String::from_utf8_lossy(&out.stdout[from..bad])
        );
    }
    String::from_utf8(out.stdout).expect("ASCII")
}

/// RFC 4648 base32, lowercase, no padding (as .onion and .b32.i2p use).
fn base32(bytes: &[u8]) -> String {
    let alphabet = b"abcdefghijklmnopqrstuvwxyz234567";
    let (mut acc, mut bits, mut out) = (0u64, 0, String::new());
    for &b in bytes {
        acc = (acc << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(alphabet[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(alphabet[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The Tor v3 address of a key (rend-spec-v3).
fn onion_v3(key: &[u8; 32]) -> String {
    let mut h = Sha3_256::new();
    h.update(b".onion checksum");
    h.update(key);
    h.update([3]);
    let digest = h.finalize();
    let mut full = key.to_vec();
    full.extend_from_slice(&digest[..2]);
    full.push(3);
    format!("{}.onion", base32(&full))
}

fn addrv2_entry(network: u8, addr: &[u8], port: u16) -> Vec<u8> {
    let mut e = 1_700_000_000u32.to_le_bytes().to_vec();
    e.push(9); // services, CompactSize
    e.push(network);
    e.push(addr.len() as u8);
    e.extend_from_slice(addr);
    e.extend_from_slice(&port.to_be_bytes());
    e
}

/// Terminal controls in a 32-byte key: CSI clear screen, OSC title, BEL,
/// an 8-bit CSI, CR.
const EVIL_KEY: [u8; 32] = *b"\x1b[2J\x1b]0;pwned\x07\x9b31m\r\n\x1b[0m\x00\x7f\xff\xc2\x9bABC";

#[test]
fn addrv2_binary_addresses_are_rendered_as_text() {
    let dir = support::scratch_dir("hostile-addrv2");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:50005", "10.0.0.2:8333");
    conn.handshake(&mut pcap);
    conn.c2s(
        &mut pcap,
        &frame(MAINNET, "version", &version_payload(b"/a:1/")),
    );
    let mut payload = vec![4];
    payload.extend(addrv2_entry(5, &EVIL_KEY, 0)); // I2P
    payload.extend(addrv2_entry(4, &EVIL_KEY, 9050)); // Tor v3
    payload.extend(addrv2_entry(6, &EVIL_KEY[..16], 8333)); // CJDNS
    payload.extend(addrv2_entry(0x42, b"\x1b[2J\x07", 1)); // unknown network
    conn.c2s(&mut pcap, &frame(MAINNET, "addrv2", &payload));
    // A known network with the wrong length: the whole message is refused
    // (Core does too); its raw bytes and the error still come out inert.
    let bad = [vec![1], addrv2_entry(1, b"\x1b[2J\x07\x1b[0m", 1)].concat();
    conn.c2s(&mut pcap, &frame(MAINNET, "addrv2", &bad));
    let path = dir.join("addrv2.pcap");
    pcap.write(&path);

    let i2p = format!("{}.b32.i2p", base32(&EVIL_KEY));
    let onion = onion_v3(&EVIL_KEY);
    for args in [&["-v"][..], &[][..]] {
        let out = text(&path, args);
        assert!(out.contains("4 addresses"), "{out}");
        assert!(out.contains("decode_error"), "{out}");
        if args.is_empty() {
            continue;
        }
        assert!(out.contains(&i2p), "I2P as {i2p}: {out}");
        assert!(out.contains(&onion), "Tor v3 as {onion}: {out}");
        assert!(out.contains("1b5b324a07"), "unknown network as hex: {out}");
        assert!(out.contains("addrv2.addr_len"), "{out}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A header with any 12-byte command field.
fn header(command: &[u8; 12], payload: &[u8]) -> Vec<u8> {
    let mut f = frame(MAINNET, "x", payload);
    f[4..16].copy_from_slice(command);
    f
}

#[test]
fn commands_with_terminal_controls_never_reach_the_terminal() {
    let dir = support::scratch_dir("hostile-commands");
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:50006", "10.0.0.2:8333");
    conn.handshake(&mut pcap);
    conn.c2s(
        &mut pcap,
        &frame(MAINNET, "version", &version_payload(b"/a:1/")),
    );
    let nonce = 0x0123_4567_89ab_cdefu64.to_le_bytes();
    // Non-printable commands: not a header, so skipped bytes (the framing
    // decoder only accepts printable ASCII commands, NUL padded).
    let evil: [&[u8; 12]; 4] = [
        b"\x1b[2Jping\0\0\0\0",
        b"ping\0\x1b[2J\0\0\0",
        b"pi\x07ng\0\0\0\0\0\0\0",
        b"ping\x9b\0\0\0\0\0\0\0",
    ];
    let mut skipped_len = 0;
    for cmd in evil {
        let h = header(cmd, &nonce);
        skipped_len += h.len();
        conn.c2s(&mut pcap, &h);
    }
    // Printable but unknown, with shell and escape-looking characters, and
    // a payload full of controls: shown escaped, payload as hex.
    conn.c2s(&mut pcap, &header(b"\\x1b[2J;$(x)", b"\x1b]0;t\x07"));
    conn.c2s(&mut pcap, &frame(MAINNET, "ping", &nonce));
    let path = dir.join("commands.pcap");
    pcap.write(&path);

    for args in [&["-v"][..], &[][..], &["--stats"][..]] {
        let out = text(&path, args);
        let skipped = out
            .lines()
            .find(|l| l.contains("! skipped_bytes"))
            .unwrap_or_else(|| panic!("no skipped_bytes: {out}"));
        assert!(
            skipped.contains(&format!(" bytes={skipped_len}")),
            "{skipped}"
        );
        assert!(skipped.contains(" offset=115"), "{skipped}");
        assert!(
            out.contains("ping 8B ok"),
            "the ping after is decoded: {out}"
        );
        assert!(
            out.contains("\\\\x1b[2J;$(x)"),
            "unknown command escaped: {out}"
        );
        if args == ["-v"] {
            assert!(out.contains("1b5d303b7407"), "payload as hex: {out}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
