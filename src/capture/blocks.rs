//! What each pcap / pcapng block means for the reader: per-file format
//! state (link type, snap length, interfaces and their timestamp
//! resolution), packets located in the read buffer, and the errors a block
//! can carry.

use super::{CaptureErrorKind, LinkType, Timestamp};
use pcap_parser::{Block, PcapBlockOwned, PcapError};
use std::io;
use std::sync::Mutex;

pub(super) enum Format {
    Legacy {
        link: LinkType,
        snaplen: u32,
        nanos: bool,
        big_endian: bool,
    },
    Ng {
        interfaces: Vec<Interface>,
        last_ts: Timestamp,
        big_endian: bool,
    },
}

#[derive(Clone, Copy)]
pub(super) struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Timestamp units per second.
    resolution: u64,
    offset_secs: i64,
}

/// What a parsed block means, with the packet bytes as a position in the
/// reader's buffer (so the block's borrow can end before we slice again).
pub(super) enum Outcome {
    NotAPacket,
    Packet {
        ts: Timestamp,
        link: LinkType,
        ptr: usize,
        len: usize,
        orig_len: u32,
        interface: u32,
        /// The record is longer than the snap length the file declares
        /// (caplen, snaplen): read anyway, as tshark does.
        beyond_snaplen: Option<(u32, u32)>,
    },
}

/// A block-level failure before we know where it happened.
pub(super) enum Step {
    Eof,
    Refill,
    Grow,
    Truncated,
    ReadFailed,
    Malformed(String),
    Fail(Pending),
}

/// A semantic error found in a parsed block; offset and packet added later.
/// Interfaces (IDBs) accepted per pcapng section. dumpcap writes one per
/// captured interface; without a cap a stream of IDBs grows the list with
/// the input.
pub(super) const MAX_INTERFACES: usize = 65_536;

pub(super) enum Pending {
    TooManyInterfaces,
    UnknownInterface { interface: u32, known: usize },
    Resolution(u8),
}

impl Pending {
    pub(super) fn at(self, offset: u64, packet: u64) -> CaptureErrorKind {
        match self {
            Pending::UnknownInterface { interface, known } => CaptureErrorKind::UnknownInterface {
                offset,
                packet,
                interface,
                known,
            },
            Pending::TooManyInterfaces => CaptureErrorKind::Malformed {
                offset,
                packet,
                detail: format!("more than {MAX_INTERFACES} interfaces in one section"),
            },
            Pending::Resolution(r) => CaptureErrorKind::Malformed {
                offset,
                packet,
                detail: format!("interface timestamp resolution code {r:#04x} is out of range"),
            },
        }
    }
}

pub(super) fn internal(offset: u64, packet: u64) -> CaptureErrorKind {
    let detail = "packet data outside the read buffer".to_string();
    CaptureErrorKind::Malformed {
        offset,
        packet,
        detail,
    }
}

pub(super) fn step_for_error(e: PcapError<&[u8]>) -> Step {
    match e {
        PcapError::Eof => Step::Eof,
        PcapError::Incomplete(_) => Step::Refill,
        PcapError::BufferTooSmall => Step::Grow,
        PcapError::UnexpectedEof => Step::Truncated,
        PcapError::ReadError => Step::ReadFailed,
        PcapError::HeaderNotRecognized => Step::Malformed("header not recognized".into()),
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            Step::Malformed(format!("parser rejected the record ({kind:?})"))
        }
    }
}

pub(super) fn open_error(
    e: PcapError<&[u8]>,
    io_error: &Mutex<Option<io::Error>>,
) -> CaptureErrorKind {
    match e {
        PcapError::ReadError => {
            let taken = io_error.lock().ok().and_then(|mut e| e.take());
            CaptureErrorKind::Io(taken.unwrap_or_else(|| io::Error::other("read failed")))
        }
        PcapError::Incomplete(_) | PcapError::UnexpectedEof | PcapError::Eof => {
            CaptureErrorKind::Truncated {
                offset: 0,
                packet: 0,
            }
        }
        other => CaptureErrorKind::Malformed {
            offset: 0,
            packet: 0,
            detail: format!("file header: {other:?}"),
        },
    }
}

/// Interprets one block, updating the per-file format state.
pub(super) fn classify(
    format: &mut Format,
    block: &PcapBlockOwned<'_>,
) -> Result<Outcome, Pending> {
    match (format, block) {
        (
            Format::Legacy {
                link,
                snaplen,
                nanos,
                big_endian,
            },
            PcapBlockOwned::LegacyHeader(h),
        ) => {
            *big_endian = h.is_bigendian();
            *link = LinkType(h.network.0 as u32);
            *snaplen = h.snaplen;
            *nanos = h.is_nanosecond_precision();
            Ok(Outcome::NotAPacket)
        }
        (
            Format::Legacy {
                link,
                snaplen,
                nanos,
                ..
            },
            PcapBlockOwned::Legacy(b),
        ) => {
            let beyond_snaplen =
                (*snaplen != 0 && b.caplen > *snaplen).then_some((b.caplen, *snaplen));
            let frac = if *nanos {
                b.ts_usec
            } else {
                b.ts_usec.saturating_mul(1000)
            };
            Ok(Outcome::Packet {
                ts: Timestamp::new(i64::from(b.ts_sec), frac),
                link: *link,
                ptr: b.data.as_ptr() as usize,
                len: b.data.len(),
                orig_len: b.origlen,
                interface: 0,
                beyond_snaplen,
            })
        }
        (
            Format::Ng {
                interfaces,
                last_ts,
                big_endian,
            },
            PcapBlockOwned::NG(block),
        ) => {
            if let Block::SectionHeader(shb) = block {
                *big_endian = shb.big_endian();
            }
            classify_ng(interfaces, last_ts, *big_endian, block)
        }
        _ => Ok(Outcome::NotAPacket),
    }
}

fn classify_ng(
    interfaces: &mut Vec<Interface>,
    last_ts: &mut Timestamp,
    big_endian: bool,
    block: &Block<'_>,
) -> Result<Outcome, Pending> {
    match block {
        // A new section starts a new interface numbering.
        Block::SectionHeader(_) => {
            interfaces.clear();
            Ok(Outcome::NotAPacket)
        }
        Block::InterfaceDescription(idb) => {
            let resolution =
                ts_resolution(idb.if_tsresol).ok_or(Pending::Resolution(idb.if_tsresol))?;
            if interfaces.len() >= MAX_INTERFACES {
                return Err(Pending::TooManyInterfaces);
            }
            interfaces.push(Interface {
                link: LinkType(idb.linktype.0 as u32),
                snaplen: idb.snaplen,
                resolution,
                offset_secs: ts_offset(idb, big_endian),
            });
            Ok(Outcome::NotAPacket)
        }
        Block::EnhancedPacket(epb) => {
            let known = interfaces.len();
            let iface = usize::try_from(epb.if_id)
                .ok()
                .and_then(|i| interfaces.get(i))
                .ok_or(Pending::UnknownInterface {
                    interface: epb.if_id,
                    known,
                })?;
            let beyond_snaplen = (iface.snaplen != 0 && epb.caplen > iface.snaplen)
                .then_some((epb.caplen, iface.snaplen));
            let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            let ts = ng_timestamp(units, iface.resolution, iface.offset_secs);
            *last_ts = ts;
            // pcap-parser pads `data` to 4 bytes; caplen is the real length.
            let len = (epb.caplen as usize).min(epb.data.len());
            Ok(Outcome::Packet {
                ts,
                link: iface.link,
                ptr: epb.data.as_ptr() as usize,
                len,
                orig_len: epb.origlen,
                interface: epb.if_id,
                beyond_snaplen,
            })
        }
        // A simple packet block has no timestamp: it inherits the last one.
        Block::SimplePacket(spb) => {
            let known = interfaces.len();
            let iface = interfaces.first().ok_or(Pending::UnknownInterface {
                interface: 0,
                known,
            })?;
            let mut len = spb.data.len().min(spb.origlen as usize);
            if iface.snaplen != 0 {
                len = len.min(iface.snaplen as usize);
            }
            Ok(Outcome::Packet {
                ts: *last_ts,
                link: iface.link,
                ptr: spb.data.as_ptr() as usize,
                len,
                orig_len: spb.origlen,
                interface: 0,
                beyond_snaplen: None,
            })
        }
        _ => Ok(Outcome::NotAPacket),
    }
}

/// Units per second for an `if_tsresol` code: 10^-n s, or 2^-n s with the
/// top bit set. (pcap-parser 0.17 rejects every binary code, hence our own.)
pub(super) fn ts_resolution(code: u8) -> Option<u64> {
    let exp = u32::from(code & 0x7f);
    if code & 0x80 == 0 {
        10u64.checked_pow(exp)
    } else {
        2u64.checked_pow(exp)
    }
}

/// The `if_tsoffset` option (seconds added to every timestamp) in the
/// section's byte order. (pcap-parser 0.17 always reads it little-endian.)
fn ts_offset(idb: &pcap_parser::InterfaceDescriptionBlock<'_>, big_endian: bool) -> i64 {
    let value = idb
        .options
        .iter()
        .find(|o| o.code == pcap_parser::pcapng::OptionCode::IfTsoffset)
        .and_then(|o| o.value().get(..8)?.try_into().ok());
    match value {
        Some(b) if big_endian => i64::from_be_bytes(b),
        Some(b) => i64::from_le_bytes(b),
        None => 0,
    }
}

/// `units` ticks of `1/resolution` s since `offset_secs`.
pub(super) fn ng_timestamp(units: u64, resolution: u64, offset_secs: i64) -> Timestamp {
    let resolution = resolution.max(1);
    let whole = i64::try_from(units.checked_div(resolution).unwrap_or(0)).unwrap_or(i64::MAX);
    // (units % resolution) < resolution <= u64::MAX: times 1e9 fits a u128.
    let frac = u128::from(units.checked_rem(resolution).unwrap_or(0))
        .saturating_mul(1_000_000_000)
        .checked_div(u128::from(resolution))
        .unwrap_or(0);
    Timestamp::new(
        whole.saturating_add(offset_secs),
        u32::try_from(frac).unwrap_or(0),
    )
}
