//! What the tests share. Here: small pcap files, TCP connections over
//! Ethernet with IPv4 or IPv6, segmented like a real stack, and v1 message
//! framing. In the modules: raw packet layers from the RFC layouts
//! (`packets`), Core message-capture files (`core_capture`), running the
//! binary on test data (`run`), live-capture preconditions (`live`).
#![allow(dead_code)]

// `run` needs the binary under test (tests only; examples/v2bench.rs
// shares this module too).
#[cfg(test)]
pub mod core_capture;
#[cfg(test)]
pub mod live;
pub mod packets;
#[cfg(test)]
pub mod run;

#[cfg(test)]
#[allow(unused_imports)] // Not every test uses it.
pub use run::scratch_dir;

use etherparse::PacketBuilder;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

pub const MAINNET: [u8; 4] = [0xf9, 0xbe, 0xb4, 0xd9];
pub const REGTEST: [u8; 4] = [0xfa, 0xbf, 0xb5, 0xda];

/// A v1 message: header with checksum, then the payload.
pub fn frame(magic: [u8; 4], command: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = magic.to_vec();
    let mut cmd = [0u8; 12];
    cmd[..command.len()].copy_from_slice(command.as_bytes());
    out.extend_from_slice(&cmd);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    let h = Sha256::digest(Sha256::digest(payload));
    out.extend_from_slice(&h[..4]);
    out.extend_from_slice(payload);
    out
}

/// A minimal modern `version` payload with the given user agent.
pub fn version_payload(user_agent: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&70016i32.to_le_bytes());
    p.extend_from_slice(&9u64.to_le_bytes()); // NODE_NETWORK | NODE_WITNESS
    p.extend_from_slice(&1_700_000_000i64.to_le_bytes());
    for _ in 0..2 {
        p.extend_from_slice(&0u64.to_le_bytes());
        p.extend_from_slice(&[0u8; 10]);
        p.extend_from_slice(&[0xff, 0xff, 127, 0, 0, 1]);
        p.extend_from_slice(&18444u16.to_be_bytes());
    }
    p.extend_from_slice(&42u64.to_le_bytes());
    assert!(user_agent.len() < 0xfd);
    p.push(user_agent.len() as u8);
    p.extend_from_slice(user_agent);
    p.extend_from_slice(&800_000i32.to_le_bytes());
    p.push(1);
    p
}

/// A pcap file being built (microsecond timestamps, Ethernet).
/// A classic pcap record header: microsecond time, whole frame captured.
fn record_header(ts_us: u64, len: usize) -> [u8; 16] {
    let mut head = [0u8; 16];
    head[..4].copy_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
    head[4..8].copy_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
    head[8..12].copy_from_slice(&(len as u32).to_le_bytes());
    head[12..16].copy_from_slice(&(len as u32).to_le_bytes());
    head
}

/// Where [`Conn`] writes its packets: a pcap in memory or streamed to a
/// file.
pub trait Record {
    fn record(&mut self, frame: &[u8]);
}

impl Record for Pcap {
    fn record(&mut self, frame: &[u8]) {
        Pcap::record(self, frame)
    }
}

impl Record for PcapStream {
    fn record(&mut self, frame: &[u8]) {
        PcapStream::record(self, frame)
    }
}

pub struct Pcap {
    bytes: Vec<u8>,
    ts_us: u64,
}

impl Default for Pcap {
    fn default() -> Self {
        Self::new()
    }
}

impl Pcap {
    pub fn new() -> Pcap {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&0i32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&65535u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
        Pcap {
            bytes,
            ts_us: 1_700_000_000_000_000,
        }
    }

    pub fn record(&mut self, frame: &[u8]) {
        self.ts_us += 1000;
        self.bytes
            .extend_from_slice(&record_header(self.ts_us, frame.len()));
        self.bytes.extend_from_slice(frame);
    }

    pub fn write(&self, path: &Path) {
        std::fs::write(path, &self.bytes).expect("write pcap");
    }

    /// Moves the capture clock on (a silence of `secs` seconds).
    pub fn skip_secs(&mut self, secs: u64) {
        self.ts_us += secs * 1_000_000;
    }

    /// The next record is captured at `ts_us` (microseconds since the
    /// epoch; not before the last record).
    pub fn next_record_at(&mut self, ts_us: u64) {
        assert!(ts_us > self.ts_us, "the capture clock goes forward");
        self.ts_us = ts_us - 1000;
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The file's bytes so far (header and records).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[derive(Clone, Copy)]
pub struct Flags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
}

pub const DATA: Flags = Flags {
    syn: false,
    ack: true,
    fin: false,
    rst: false,
};

/// One TCP segment as an Ethernet frame.
pub fn segment(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: Flags,
    payload: &[u8],
) -> Vec<u8> {
    let eth = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    let ip = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), 64),
        (IpAddr::V6(s), IpAddr::V6(d)) => eth.ipv6(s.octets(), d.octets(), 64),
        _ => panic!("mixed address families"),
    };
    let mut tcp = ip.tcp(src.port(), dst.port(), seq, 65535);
    if flags.syn {
        tcp = tcp.syn();
    }
    if flags.ack {
        tcp = tcp.ack(ack);
    }
    if flags.fin {
        tcp = tcp.fin();
    }
    if flags.rst {
        tcp = tcp.rst();
    }
    let mut out = Vec::with_capacity(tcp.size(payload.len()));
    tcp.write(&mut out, payload).expect("build packet");
    out
}

/// A TCP connection whose packets go into a [`Pcap`] or [`PcapStream`].
pub struct Conn {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub client_seq: u32,
    pub server_seq: u32,
}

pub const MSS: usize = 1460;

impl Conn {
    pub fn new(client: &str, server: &str) -> Conn {
        Conn {
            client: client.parse().expect("client addr"),
            server: server.parse().expect("server addr"),
            client_seq: 1_000,
            server_seq: 5_000_000,
        }
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self, pcap: &mut impl Record) {
        self.syn_and_synack(pcap);
        pcap.record(&segment(
            self.client,
            self.server,
            self.client_seq,
            self.server_seq,
            DATA,
            &[],
        ));
    }

    /// Each side's regtest `version`, client first, with these user agents.
    pub fn versions(&mut self, pcap: &mut impl Record, client_agent: &[u8], server_agent: &[u8]) {
        self.c2s(
            pcap,
            &frame(REGTEST, "version", &version_payload(client_agent)),
        );
        self.s2c(
            pcap,
            &frame(REGTEST, "version", &version_payload(server_agent)),
        );
    }

    /// SYN and SYN-ACK only: the connection counts as opened (SYN seen).
    pub fn syn_and_synack(&mut self, pcap: &mut impl Record) {
        let syn = Flags {
            syn: true,
            ack: false,
            fin: false,
            rst: false,
        };
        pcap.record(&segment(
            self.client,
            self.server,
            self.client_seq,
            0,
            syn,
            &[],
        ));
        let synack = Flags {
            syn: true,
            ack: true,
            fin: false,
            rst: false,
        };
        pcap.record(&segment(
            self.server,
            self.client,
            self.server_seq,
            self.client_seq + 1,
            synack,
            &[],
        ));
        self.client_seq += 1;
        self.server_seq += 1;
    }

    /// Client-to-server bytes, segmented at MSS.
    pub fn c2s(&mut self, pcap: &mut impl Record, bytes: &[u8]) {
        for chunk in bytes.chunks(MSS) {
            pcap.record(&segment(
                self.client,
                self.server,
                self.client_seq,
                self.server_seq,
                DATA,
                chunk,
            ));
            self.client_seq = self.client_seq.wrapping_add(chunk.len() as u32);
        }
    }

    /// Server-to-client bytes, segmented at MSS.
    pub fn s2c(&mut self, pcap: &mut impl Record, bytes: &[u8]) {
        for chunk in bytes.chunks(MSS) {
            pcap.record(&segment(
                self.server,
                self.client,
                self.server_seq,
                self.client_seq,
                DATA,
                chunk,
            ));
            self.server_seq = self.server_seq.wrapping_add(chunk.len() as u32);
        }
    }

    /// Skips `n` client-to-server bytes (never captured).
    pub fn lose_c2s(&mut self, n: u32) {
        self.client_seq = self.client_seq.wrapping_add(n);
    }

    /// FIN from both sides.
    pub fn close(&mut self, pcap: &mut impl Record) {
        let fin = Flags {
            syn: false,
            ack: true,
            fin: true,
            rst: false,
        };
        pcap.record(&segment(
            self.client,
            self.server,
            self.client_seq,
            self.server_seq,
            fin,
            &[],
        ));
        self.client_seq += 1;
        pcap.record(&segment(
            self.server,
            self.client,
            self.server_seq,
            self.client_seq,
            fin,
            &[],
        ));
        self.server_seq += 1;
    }
}

/// Deterministic pseudo-random bytes (xorshift), e.g. for v2 ciphertext.
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A classic pcap (microsecond timestamps, Ethernet) streamed to a file,
/// for captures too large to build in memory (a million flows, a flow of
/// tens of MB). Same record layout as [`Pcap`].
pub struct PcapStream {
    out: std::io::BufWriter<std::fs::File>,
    ts_us: u64,
    /// Capture time between records (1 ms unless changed).
    pub tick_us: u64,
    pub bytes: u64,
}

impl PcapStream {
    pub fn create(path: &Path) -> PcapStream {
        use std::io::Write;
        let file = std::fs::File::create(path).expect("create pcap");
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let header = Pcap::new();
        out.write_all(&header.bytes).expect("write pcap header");
        PcapStream {
            out,
            ts_us: header.ts_us,
            tick_us: 1000,
            bytes: header.bytes.len() as u64,
        }
    }

    pub fn record(&mut self, frame: &[u8]) {
        use std::io::Write;
        self.ts_us += self.tick_us;
        let head = record_header(self.ts_us, frame.len());
        self.out.write_all(&head).expect("write record");
        self.out.write_all(frame).expect("write record");
        self.bytes += 16 + frame.len() as u64;
    }

    pub fn finish(mut self) {
        use std::io::Write;
        self.out.flush().expect("flush pcap");
    }
}

/// What a bounded run of a child process gave.
pub struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` with its output captured; kills it and fails the test if it
/// has not ended within `bound`.
pub fn run_bounded(mut cmd: std::process::Command, bound: std::time::Duration) -> Finished {
    use std::io::Read;
    use std::process::Stdio;
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    };
    let out_reader = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let err_reader = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > bound {
            let _ = child.kill();
            panic!("{what} did not end within {bound:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Finished {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}
