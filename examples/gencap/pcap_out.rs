//! Classic pcap output (microsecond timestamps, LINKTYPE_ETHERNET) with
//! Ethernet II / IPv4 / TCP headers written by hand, IPv4 and TCP checksums
//! computed. No allocation per packet.

use std::io::{self, Write};

const LINKTYPE_ETHERNET: u32 = 1;
const SNAPLEN: u32 = 65_535;
const ETH_LEN: usize = 14;
const IPV4_LEN: usize = 20;
const TCP_LEN: usize = 20;
/// SYN and SYN-ACK carry the MSS option (kind 2, length 4).
const TCP_SYN_LEN: usize = 24;
pub const MSS: usize = 1460;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

#[derive(Clone, Copy)]
pub struct Endpoint {
    pub mac: [u8; 6],
    pub ip: [u8; 4],
    pub port: u16,
    pub ttl: u8,
    pub window: u16,
}

/// One TCP segment to write.
pub struct Segment<'a> {
    pub ts_us: u64,
    pub src: &'a Endpoint,
    pub dst: &'a Endpoint,
    pub ip_id: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub payload: &'a [u8],
}

pub struct PcapOut<W: Write> {
    out: W,
    pub bytes: u64,
    pub packets: u64,
}

/// Ones' complement sum (RFC 1071) accumulated over 32-bit big-endian
/// words; `data` must start at an even offset of the checksummed stream.
fn sum_words(data: &[u8], mut acc: u64) -> u64 {
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        acc += u32::from_be_bytes([w[0], w[1], w[2], w[3]]) as u64;
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 4];
        last[..rest.len()].copy_from_slice(rest);
        acc += u32::from_be_bytes(last) as u64;
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

impl<W: Write> PcapOut<W> {
    pub fn new(mut out: W) -> io::Result<PcapOut<W>> {
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes());
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        header[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        header[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapOut {
            out,
            bytes: 24,
            packets: 0,
        })
    }

    /// Writes one packet; returns the bytes it took in the file.
    pub fn write(&mut self, seg: &Segment) -> io::Result<u64> {
        let tcp_len = if seg.flags & SYN != 0 {
            TCP_SYN_LEN
        } else {
            TCP_LEN
        };
        let frame_len = ETH_LEN + IPV4_LEN + tcp_len + seg.payload.len();
        let mut h = [0u8; 16 + ETH_LEN + IPV4_LEN + TCP_SYN_LEN];

        // pcap record header
        h[0..4].copy_from_slice(&((seg.ts_us / 1_000_000) as u32).to_le_bytes());
        h[4..8].copy_from_slice(&((seg.ts_us % 1_000_000) as u32).to_le_bytes());
        h[8..12].copy_from_slice(&(frame_len as u32).to_le_bytes());
        h[12..16].copy_from_slice(&(frame_len as u32).to_le_bytes());

        // Ethernet II
        let eth = 16;
        h[eth..eth + 6].copy_from_slice(&seg.dst.mac);
        h[eth + 6..eth + 12].copy_from_slice(&seg.src.mac);
        h[eth + 12..eth + 14].copy_from_slice(&0x0800u16.to_be_bytes());

        // IPv4, DF set, no options
        let ip = eth + ETH_LEN;
        h[ip] = 0x45;
        h[ip + 2..ip + 4]
            .copy_from_slice(&((IPV4_LEN + tcp_len + seg.payload.len()) as u16).to_be_bytes());
        h[ip + 4..ip + 6].copy_from_slice(&seg.ip_id.to_be_bytes());
        h[ip + 6..ip + 8].copy_from_slice(&0x4000u16.to_be_bytes());
        h[ip + 8] = seg.src.ttl;
        h[ip + 9] = 6;
        h[ip + 12..ip + 16].copy_from_slice(&seg.src.ip);
        h[ip + 16..ip + 20].copy_from_slice(&seg.dst.ip);
        let ip_sum = fold(sum_words(&h[ip..ip + IPV4_LEN], 0));
        h[ip + 10..ip + 12].copy_from_slice(&ip_sum.to_be_bytes());

        // TCP
        let tcp = ip + IPV4_LEN;
        h[tcp..tcp + 2].copy_from_slice(&seg.src.port.to_be_bytes());
        h[tcp + 2..tcp + 4].copy_from_slice(&seg.dst.port.to_be_bytes());
        h[tcp + 4..tcp + 8].copy_from_slice(&seg.seq.to_be_bytes());
        let ack = if seg.flags & ACK != 0 { seg.ack } else { 0 };
        h[tcp + 8..tcp + 12].copy_from_slice(&ack.to_be_bytes());
        h[tcp + 12] = ((tcp_len / 4) as u8) << 4;
        h[tcp + 13] = seg.flags;
        h[tcp + 14..tcp + 16].copy_from_slice(&seg.src.window.to_be_bytes());
        if tcp_len == TCP_SYN_LEN {
            h[tcp + 20..tcp + 24].copy_from_slice(&[2, 4, (MSS >> 8) as u8, MSS as u8]);
        }
        // pseudo-header: addresses, protocol, TCP length
        let mut acc = sum_words(&h[ip + 12..ip + 20], 0);
        acc += 6 + (tcp_len + seg.payload.len()) as u64;
        acc = sum_words(&h[tcp..tcp + tcp_len], acc);
        acc = sum_words(seg.payload, acc);
        h[tcp + 16..tcp + 18].copy_from_slice(&fold(acc).to_be_bytes());

        self.out.write_all(&h[..tcp + tcp_len])?;
        self.out.write_all(seg.payload)?;
        let written = (16 + frame_len) as u64;
        self.bytes += written;
        self.packets += 1;
        Ok(written)
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
