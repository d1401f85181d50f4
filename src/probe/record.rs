//! `-w FILE.pcap` for the probe: the session as the wire would have shown
//! it. The bytes sent and received are wrapped in synthesized IPv4/IPv6 +
//! TCP packets (raw IP link type) with a three-way handshake, segments of
//! at most one MSS with consistent sequence and acknowledgement numbers,
//! and FINs at the end, so `btcsniff read` (or Wireshark) reassembles
//! exactly the stream the probe saw.

use crate::capture::{CaptureError, LinkType, PcapWriter, Timestamp};
use etherparse::PacketBuilder;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};

/// Largest TCP payload per synthesized segment: Ethernet's 1500-byte MTU
/// less 20 bytes of IPv4 and 20 of TCP (IPv6 has 20 more header bytes).
const MSS_V4: usize = 1460;
const MSS_V6: usize = 1440;
/// Hop limit / TTL written in every packet.
const TTL: u8 = 64;
/// Advertised receive window (no scaling option in the SYNs).
const WINDOW: u16 = 65535;
/// Snap length of the file: a synthesized packet never exceeds it.
const SNAPLEN: u32 = 65535;

/// Which end sent a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The probe (TCP client).
    Local,
    /// The node (TCP server).
    Remote,
}

/// Per-side sequence state: the next sequence number to send.
#[derive(Debug, Clone, Copy)]
struct SeqState {
    next: u32,
    fin_sent: bool,
}

/// Writes one TCP session into a pcap writer.
pub struct SessionRecorder<W: Write> {
    writer: PcapWriter<W>,
    local: SocketAddr,
    remote: SocketAddr,
    seq: [SeqState; 2],
    packet: Vec<u8>,
}

/// A v4-mapped form when the two ends differ in family (a dual-stack socket
/// can report `::ffff:a.b.c.d` on one side only).
fn both_v4(a: IpAddr, b: IpAddr) -> Option<([u8; 4], [u8; 4])> {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => Some((a.octets(), b.octets())),
        _ => None,
    }
}

fn v6_octets(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Flags of one synthesized segment.
#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    syn: bool,
    ack: bool,
    psh: bool,
    fin: bool,
}

impl SessionRecorder<std::io::BufWriter<std::fs::File>> {
    /// Creates the file (raw IP link type).
    pub fn create(path: &std::path::Path, isn: [u32; 2]) -> Result<Self, CaptureError> {
        let writer = PcapWriter::create(path, LinkType::RAW, SNAPLEN)?;
        Ok(SessionRecorder::new(writer, isn))
    }
}

impl<W: Write> SessionRecorder<W> {
    /// `isn`: initial sequence numbers of the local and remote side.
    /// Addresses are set by [`SessionRecorder::connected`].
    pub fn new(writer: PcapWriter<W>, isn: [u32; 2]) -> Self {
        let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
        SessionRecorder {
            writer,
            local: unspecified,
            remote: unspecified,
            seq: isn.map(|next| SeqState {
                next,
                fin_sent: false,
            }),
            packet: Vec::with_capacity(usize::from(WINDOW)),
        }
    }

    /// The connection is up: SYN, SYN-ACK, ACK. Called again for a new
    /// connection (same file, new flow).
    pub fn connected(
        &mut self,
        ts: Timestamp,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<(), CaptureError> {
        self.local = local;
        self.remote = remote;
        // A second connection (v1 after a refused v2) closes again.
        for s in &mut self.seq {
            s.fin_sent = false;
        }
        let syn = Flags {
            syn: true,
            ..Flags::default()
        };
        self.segment(ts, Side::Local, syn, &[])?;
        self.advance(Side::Local, 1);
        let syn_ack = Flags {
            syn: true,
            ack: true,
            ..Flags::default()
        };
        self.segment(ts, Side::Remote, syn_ack, &[])?;
        self.advance(Side::Remote, 1);
        self.segment(ts, Side::Local, Flags::ack_only(), &[])
    }

    /// Bytes `from` sent, cut into segments of at most one MSS.
    pub fn data(&mut self, ts: Timestamp, from: Side, bytes: &[u8]) -> Result<(), CaptureError> {
        let mss = if both_v4(self.local.ip(), self.remote.ip()).is_some() {
            MSS_V4
        } else {
            MSS_V6
        };
        for chunk in bytes.chunks(mss) {
            let flags = Flags {
                ack: true,
                psh: true,
                ..Flags::default()
            };
            self.segment(ts, from, flags, chunk)?;
            // Chunks are at most one MSS: the cast cannot truncate.
            self.advance(from, chunk.len() as u32);
        }
        Ok(())
    }

    /// `from` closed its side (FIN), once; the other side ACKs it.
    pub fn fin(&mut self, ts: Timestamp, from: Side) -> Result<(), CaptureError> {
        let i = side_index(from);
        if self.seq[i].fin_sent {
            return Ok(());
        }
        self.seq[i].fin_sent = true;
        let flags = Flags {
            fin: true,
            ack: true,
            ..Flags::default()
        };
        self.segment(ts, from, flags, &[])?;
        self.advance(from, 1);
        self.segment(ts, other(from), Flags::ack_only(), &[])
    }

    pub fn flush(&mut self) -> Result<(), CaptureError> {
        self.writer.flush()
    }

    fn advance(&mut self, side: Side, by: u32) {
        let s = &mut self.seq[side_index(side)];
        s.next = s.next.wrapping_add(by);
    }

    fn segment(
        &mut self,
        ts: Timestamp,
        from: Side,
        flags: Flags,
        payload: &[u8],
    ) -> Result<(), CaptureError> {
        let (src, dst) = match from {
            Side::Local => (self.local, self.remote),
            Side::Remote => (self.remote, self.local),
        };
        let seq = self.seq[side_index(from)].next;
        let ack = self.seq[side_index(other(from))].next;
        let ip = match both_v4(src.ip(), dst.ip()) {
            Some((s, d)) => PacketBuilder::ipv4(s, d, TTL),
            None => PacketBuilder::ipv6(v6_octets(src.ip()), v6_octets(dst.ip()), TTL),
        };
        let mut tcp = ip.tcp(src.port(), dst.port(), seq, WINDOW);
        if flags.syn {
            tcp = tcp.syn();
        }
        if flags.ack {
            tcp = tcp.ack(ack);
        }
        if flags.psh {
            tcp = tcp.psh();
        }
        if flags.fin {
            tcp = tcp.fin();
        }
        self.packet.clear();
        // Writing into a Vec only fails for payloads beyond IP's 64 KiB,
        // which `data` never builds (segments are one MSS).
        if let Err(e) = tcp.write(&mut self.packet, payload) {
            return Err(CaptureError {
                file: std::path::PathBuf::from("(synthesized packet)"),
                kind: crate::capture::CaptureErrorKind::Io(std::io::Error::other(e.to_string())),
            });
        }
        let len = u32::try_from(self.packet.len()).unwrap_or(u32::MAX);
        self.writer.write_packet(ts, &self.packet, len)
    }
}

impl Flags {
    fn ack_only() -> Flags {
        Flags {
            ack: true,
            ..Flags::default()
        }
    }
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Local => 0,
        Side::Remote => 1,
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::Local => Side::Remote,
        Side::Remote => Side::Local,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    /// Splits a classic little-endian pcap into its packet records.
    fn records(file: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut pos = 24;
        while pos + 16 <= file.len() {
            let caplen = u32::from_le_bytes(file[pos + 8..pos + 12].try_into().unwrap()) as usize;
            out.push(file[pos + 16..pos + 16 + caplen].to_vec());
            pos += 16 + caplen;
        }
        assert_eq!(pos, file.len());
        out
    }

    fn session(local: &str, remote: &str) -> Vec<Vec<u8>> {
        let writer = PcapWriter::new("mem", Vec::new(), LinkType::RAW, SNAPLEN).unwrap();
        let mut rec = SessionRecorder::new(writer, [1000, u32::MAX - 10]);
        let ts = Timestamp::default();
        rec.connected(ts, local.parse().unwrap(), remote.parse().unwrap())
            .unwrap();
        rec.data(ts, Side::Local, &[1u8; 3000]).unwrap();
        rec.data(ts, Side::Remote, &[2u8; 100]).unwrap();
        rec.fin(ts, Side::Local).unwrap();
        rec.fin(ts, Side::Local).unwrap();
        let bytes = rec.writer.into_inner().unwrap();
        assert_eq!(u32::from_le_bytes(bytes[20..24].try_into().unwrap()), 101);
        records(&bytes)
    }

    /// (from local?, seq, ack, syn, fin, payload length)
    fn tcp_view(packet: &[u8], local_port: u16) -> (bool, u32, u32, bool, bool, usize) {
        let sliced = SlicedPacket::from_ip(packet).unwrap();
        assert!(matches!(
            sliced.net,
            Some(NetSlice::Ipv4(_)) | Some(NetSlice::Ipv6(_))
        ));
        let Some(TransportSlice::Tcp(tcp)) = sliced.transport else {
            panic!("not tcp")
        };
        (
            tcp.source_port() == local_port,
            tcp.sequence_number(),
            tcp.acknowledgment_number(),
            tcp.syn(),
            tcp.fin(),
            tcp.payload().len(),
        )
    }

    #[test]
    fn sequence_numbers_follow_the_bytes() {
        for (local, remote) in [
            ("127.0.0.1:40000", "127.0.0.1:18444"),
            ("[::1]:40000", "[::1]:18444"),
        ] {
            let packets = session(local, remote);
            let views: Vec<_> = packets.iter().map(|p| tcp_view(p, 40000)).collect();
            let r0 = u32::MAX - 10;
            let mss = if local.starts_with('[') { 1440 } else { 1460 };
            let expected = vec![
                (true, 1000, 0, true, false, 0),
                (false, r0, 1001, true, false, 0),
                (true, 1001, r0.wrapping_add(1), false, false, 0),
                (true, 1001, r0.wrapping_add(1), false, false, mss),
                (
                    true,
                    1001 + mss as u32,
                    r0.wrapping_add(1),
                    false,
                    false,
                    mss,
                ),
                (
                    true,
                    1001 + 2 * mss as u32,
                    r0.wrapping_add(1),
                    false,
                    false,
                    3000 - 2 * mss,
                ),
                (false, r0.wrapping_add(1), 4001, false, false, 100),
                (true, 4001, r0.wrapping_add(101), false, true, 0),
                (false, r0.wrapping_add(101), 4002, false, false, 0),
            ];
            // The SYN carries no ACK flag, so its ack field is 0.
            assert_eq!(views, expected, "{local}");
        }
    }
}
