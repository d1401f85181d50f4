//! Packet sources: one [`Packet`] type for capture files (and, later, live
//! interfaces).
//!
//! A packet borrows its bytes from the source's buffer; it is valid until the
//! next call on the source. Timestamps are kept at nanosecond resolution
//! whatever the file's resolution was.
//!
//! Files are read by [`file::FileReader`] (pcap in both byte orders, micro- and
//! nanosecond variants, and pcapng with any number of interfaces and
//! sections); [`PcapWriter`] writes classic pcap.
// Bytes from the wire reach this module: no panic by construction (no
// unwrap/expect, no unchecked indexing or arithmetic). Tests may.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

mod blocks;
pub mod core_capture;
pub mod file;
pub mod filter;
mod input;
pub mod libpcap;
pub mod live;
mod mapped;
mod writer;

pub use file::FileReader;
pub use mapped::MappedFile;
pub use writer::PcapWriter;

use std::fmt;
use std::path::PathBuf;

/// A capture timestamp: seconds since the Unix epoch plus nanoseconds.
///
/// Ordered chronologically (`secs` first, then `nanos`); `nanos` is always
/// below 1,000,000,000.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp { secs: 0, nanos: 0 };

    /// Builds a timestamp, carrying whole seconds out of `nanos`.
    pub fn new(secs: i64, nanos: u32) -> Timestamp {
        Timestamp {
            secs: secs.saturating_add(i64::from(nanos / 1_000_000_000)),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// The wall clock now (live capture's idle clock and notes, the
    /// probe's events).
    pub fn now() -> Timestamp {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp {
            secs: i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX),
            nanos: since_epoch.subsec_nanos(),
        }
    }

    /// `self + secs` seconds, saturating.
    pub fn plus_secs(self, secs: u64) -> Timestamp {
        let secs = i64::try_from(secs).unwrap_or(i64::MAX);
        Timestamp {
            secs: self.secs.saturating_add(secs),
            nanos: self.nanos,
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.secs, self.nanos)
    }
}

/// A link-layer header type: the DLT / LINKTYPE value of
/// <https://www.tcpdump.org/linktypes.html>.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP as DLT_RAW on most platforms.
    pub const RAW: LinkType = LinkType(101);
    /// Raw IP as DLT_RAW on some BSDs (DLT 12 = LINKTYPE 101 in files written
    /// there without translation).
    pub const RAW_BSD: LinkType = LinkType(12);
    /// OpenBSD loopback: 4-byte address family, big-endian.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture v1 (`-i any`).
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    /// Linux "cooked" capture v2 (`-i any` with libpcap >= 1.10).
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            LinkType::NULL => "NULL",
            LinkType::ETHERNET => "EN10MB",
            LinkType::RAW | LinkType::RAW_BSD => "RAW",
            LinkType::LOOP => "LOOP",
            LinkType::LINUX_SLL => "LINUX_SLL",
            LinkType::IPV4 => "IPV4",
            LinkType::IPV6 => "IPV6",
            LinkType::LINUX_SLL2 => "LINUX_SLL2",
            _ => return write!(f, "linktype {}", self.0),
        };
        write!(f, "{name} ({})", self.0)
    }
}

/// One captured packet, borrowed from its source.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    pub ts: Timestamp,
    pub link_type: LinkType,
    /// The captured bytes (`caplen` of them).
    pub data: &'a [u8],
    /// The length of the packet on the wire; larger than `data.len()` when
    /// the capture was cut by a snap length.
    pub orig_len: u32,
    /// Interface index within the file (always 0 for classic pcap).
    pub interface: u32,
}

/// A capture source failed. Carries the file name; see [`CaptureErrorKind`].
#[derive(Debug)]
pub struct CaptureError {
    pub file: PathBuf,
    pub kind: CaptureErrorKind,
}

/// What went wrong reading a capture. Offsets are byte offsets in the file,
/// packet numbers count from 1.
#[derive(Debug)]
pub enum CaptureErrorKind {
    Io(std::io::Error),
    /// The first four bytes are neither a pcap nor a pcapng magic.
    NotACapture {
        magic: [u8; 4],
        len: usize,
    },
    /// The file ends inside a record.
    Truncated {
        offset: u64,
        packet: u64,
    },
    /// A record larger than the reader accepts (before allocating for it).
    OversizedRecord {
        offset: u64,
        packet: u64,
        len: u64,
        limit: u64,
    },
    /// A packet record claims more captured bytes than the snap length.
    /// A pcapng packet names an interface no IDB described.
    UnknownInterface {
        offset: u64,
        packet: u64,
        interface: u32,
        known: usize,
    },
    /// The structure is broken in a way the parser reports (bad block length,
    /// bad header fields).
    Malformed {
        offset: u64,
        packet: u64,
        detail: String,
    },
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.kind)
    }
}

impl fmt::Display for CaptureErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CaptureErrorKind::*;
        match self {
            Io(e) => write!(f, "I/O error: {e}"),
            NotACapture { magic, len } if *len < 4 => write!(
                f,
                "not a capture file: only {len} bytes, too short for a pcap/pcapng magic"
            ),
            NotACapture { magic, .. } => write!(
                f,
                "not a capture file: magic {} is neither pcap (a1b2c3d4, a1b23c4d, either byte order) nor pcapng (0a0d0d0a)",
                crate::p2p::hash::to_hex(magic)
            ),
            Truncated { offset, packet } => write!(
                f,
                "file truncated inside record {packet} starting at byte offset {offset}"
            ),
            OversizedRecord {
                offset,
                packet,
                len,
                limit,
            } => write!(
                f,
                "record {packet} at byte offset {offset} is {len} bytes, above the limit of {limit}"
            ),
            UnknownInterface {
                offset,
                packet,
                interface,
                known,
            } => write!(
                f,
                "packet {packet} at byte offset {offset} names interface {interface}, but only {known} interfaces were described"
            ),
            Malformed {
                offset,
                packet,
                detail,
            } => write!(
                f,
                "malformed record {packet} at byte offset {offset}: {detail}"
            ),
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            CaptureErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}
