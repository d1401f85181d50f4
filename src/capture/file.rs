//! Reading pcap and pcapng files with `pcap-parser`'s streaming readers.
//!
//! The reader keeps one bounded buffer ([`INITIAL_BUFFER`], grown for an
//! oversized record up to [`MAX_RECORD`], never beyond): a record whose length
//! field claims more is reported as [`CaptureErrorKind::OversizedRecord`]
//! before anything is allocated for it. Packets borrow from that buffer.
//!
//! Format facts worth knowing:
//! - classic pcap: the magic `a1b2c3d4` (microseconds) or `a1b23c4d`
//!   (nanoseconds), written in the writer's byte order; one link type and snap
//!   length for the whole file.
//! - pcapng: a file is one or more sections (SHB), each with its own byte
//!   order and its own interface list (IDB); each enhanced packet (EPB) names
//!   its interface, which gives link type, snap length and timestamp
//!   resolution (`if_tsresol`, default microseconds) and offset
//!   (`if_tsoffset`). dumpcap writes one IDB per captured interface.

use super::{CaptureError, CaptureErrorKind, LinkType, Packet, Timestamp};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{Block, LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Initial size of the read buffer: many records per refill.
pub const INITIAL_BUFFER: usize = 1 << 20;
/// Largest record accepted: well above any real packet (64 KiB IP, 256 KiB
/// libpcap snap length, GRO super-frames) yet small enough to never be a
/// memory problem. A length field above it is an error, not an allocation.
pub const MAX_RECORD: usize = 16 << 20;
/// ts_sec, ts_usec, caplen, origlen.
const LEGACY_RECORD_HEADER: u64 = 16;

/// Reads packets from a pcap or pcapng stream. See the module docs.
pub struct FileReader {
    file: PathBuf,
    inner: Box<dyn PcapReaderIterator + Send>,
    format: Format,
    io_error: Arc<Mutex<Option<io::Error>>>,
    /// Bytes of the block returned last, consumed at the next call (the
    /// returned packet borrows them until then).
    pending_consume: usize,
    packets: u64,
    /// Current buffer capacity (pcap-parser does not expose it).
    capacity: usize,
}

enum Format {
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
struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Timestamp units per second.
    resolution: u64,
    offset_secs: i64,
}

/// What a parsed block means, with the packet bytes as a position in the
/// reader's buffer (so the block's borrow can end before we slice again).
enum Outcome {
    NotAPacket,
    Packet {
        ts: Timestamp,
        link: LinkType,
        ptr: usize,
        len: usize,
        orig_len: u32,
        interface: u32,
    },
}

impl FileReader {
    /// Opens a capture file; the format is recognised by its magic.
    pub fn open(path: impl AsRef<Path>) -> Result<FileReader, CaptureError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| CaptureError {
            file: path.to_path_buf(),
            kind: CaptureErrorKind::Io(e),
        })?;
        FileReader::from_read(path, file)
    }

    /// Reads a capture from any byte stream (stdin, memory); `name` is used
    /// in error messages.
    pub fn from_read(
        name: impl AsRef<Path>,
        mut input: impl Read + Send + 'static,
    ) -> Result<FileReader, CaptureError> {
        let file = name.as_ref().to_path_buf();
        let err = |kind| CaptureError {
            file: file.clone(),
            kind,
        };
        let mut magic = [0u8; 4];
        let got = read_full(&mut input, &mut magic).map_err(|e| err(CaptureErrorKind::Io(e)))?;
        if got < magic.len() {
            return Err(err(CaptureErrorKind::NotACapture { magic, len: got }));
        }
        let io_error = Arc::new(Mutex::new(None));
        let tap = TapRead {
            magic,
            magic_used: 0,
            inner: input,
            error: Arc::clone(&io_error),
        };
        let (inner, format): (Box<dyn PcapReaderIterator + Send>, Format) = match magic {
            [0x0a, 0x0d, 0x0d, 0x0a] => {
                let r = PcapNGReader::new(INITIAL_BUFFER, tap)
                    .map_err(|e| err(open_error(e, &io_error)))?;
                (
                    Box::new(r),
                    Format::Ng {
                        interfaces: Vec::new(),
                        last_ts: Timestamp::ZERO,
                        big_endian: false,
                    },
                )
            }
            [0xa1, 0xb2, 0xc3, 0xd4]
            | [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x4d, 0x3c, 0xb2, 0xa1] => {
                let r = LegacyPcapReader::new(INITIAL_BUFFER, tap)
                    .map_err(|e| err(open_error(e, &io_error)))?;
                // The header comes back as the first block; until then these
                // placeholders are never used for a packet.
                (
                    Box::new(r),
                    Format::Legacy {
                        link: LinkType(0),
                        snaplen: 0,
                        nanos: false,
                        big_endian: false,
                    },
                )
            }
            _ => return Err(err(CaptureErrorKind::NotACapture { magic, len: got })),
        };
        Ok(FileReader {
            file,
            inner,
            format,
            io_error,
            pending_consume: 0,
            packets: 0,
            capacity: INITIAL_BUFFER,
        })
    }

    /// The name given at open time.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Packets returned so far.
    pub fn packets_read(&self) -> u64 {
        self.packets
    }

    /// The next packet, `Ok(None)` at the clean end of the file.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        if self.pending_consume > 0 {
            self.inner.consume(self.pending_consume);
            self.pending_consume = 0;
        }
        loop {
            let offset = self.inner.consumed() as u64;
            let packet = self.packets.saturating_add(1);
            let step = match self.inner.next() {
                Ok((size, block)) => match classify(&mut self.format, &block) {
                    Ok(outcome) => Ok((size, outcome)),
                    Err(kind) => Err(Step::Fail(kind)),
                },
                Err(e) => Err(step_for_error(e)),
            };
            match step {
                Ok((size, Outcome::NotAPacket)) => self.inner.consume(size),
                Ok((
                    size,
                    Outcome::Packet {
                        ts,
                        link,
                        ptr,
                        len,
                        orig_len,
                        interface,
                    },
                )) => {
                    let buf = self.inner.data();
                    let start = ptr.wrapping_sub(buf.as_ptr() as usize);
                    let data = start
                        .checked_add(len)
                        .and_then(|end| buf.get(start..end))
                        .ok_or_else(|| self.error(internal(offset, packet)))?;
                    self.pending_consume = size;
                    self.packets = packet;
                    return Ok(Some(Packet {
                        ts,
                        link_type: link,
                        data,
                        orig_len,
                        interface,
                    }));
                }
                Err(Step::Eof) => return Ok(None),
                Err(Step::Refill) => self.refill(offset, packet)?,
                Err(Step::Grow) => self.grow(offset, packet)?,
                Err(Step::Truncated) => {
                    // A lying length at the end of the file says more than "truncated".
                    self.check_record_len(offset, packet)?;
                    return Err(self.error(CaptureErrorKind::Truncated { offset, packet }));
                }
                Err(Step::ReadFailed) => return Err(self.io_failure()),
                Err(Step::Malformed(detail)) => {
                    return Err(self.error(CaptureErrorKind::Malformed {
                        offset,
                        packet,
                        detail,
                    }));
                }
                Err(Step::Fail(kind)) => return Err(self.error(kind.at(offset, packet))),
            }
        }
    }

    fn refill(&mut self, offset: u64, packet: u64) -> Result<(), CaptureError> {
        let before = self.inner.data().len();
        if self.inner.refill().is_err() {
            return Err(self.io_failure());
        }
        // A full buffer with an unknown need makes no progress: grow instead.
        if self.inner.data().len() == before && !self.inner.reader_exhausted() {
            return self.grow(offset, packet);
        }
        Ok(())
    }

    /// Grows the buffer for a record larger than it, up to [`MAX_RECORD`].
    fn grow(&mut self, offset: u64, packet: u64) -> Result<(), CaptureError> {
        let need = self.check_record_len(offset, packet)?;
        if self.capacity >= MAX_RECORD {
            let len = need.max(self.capacity as u64);
            let kind = CaptureErrorKind::OversizedRecord {
                offset,
                packet,
                len,
                limit: MAX_RECORD as u64,
            };
            return Err(self.error(kind));
        }
        // pcap-parser wants strictly more room than the record needs.
        let target = (need as usize)
            .saturating_add(1)
            .max(self.capacity.saturating_mul(2))
            .min(MAX_RECORD);
        self.inner.grow(target);
        self.capacity = target;
        if self.inner.refill().is_err() {
            return Err(self.io_failure());
        }
        Ok(())
    }

    /// Checks the length the record at the head of the buffer claims against
    /// the snap length and [`MAX_RECORD`]; returns it (0 if unreadable).
    fn check_record_len(&self, offset: u64, packet: u64) -> Result<u64, CaptureError> {
        let need = self.record_len_hint().unwrap_or(0);
        if let Format::Legacy { snaplen, .. } = self.format {
            let caplen = need.saturating_sub(LEGACY_RECORD_HEADER);
            if snaplen != 0 && caplen > u64::from(snaplen) {
                let caplen = u32::try_from(caplen).unwrap_or(u32::MAX);
                let kind = CaptureErrorKind::CaplenExceedsSnaplen {
                    offset,
                    packet,
                    caplen,
                    snaplen,
                };
                return Err(self.error(kind));
            }
        }
        if need >= MAX_RECORD as u64 {
            let kind = CaptureErrorKind::OversizedRecord {
                offset,
                packet,
                len: need,
                limit: MAX_RECORD as u64,
            };
            return Err(self.error(kind));
        }
        Ok(need)
    }

    /// The length the record at the head of the buffer claims, from its own
    /// length field (pcap: record header + caplen; pcapng: block length).
    fn record_len_hint(&self) -> Option<u64> {
        let data = self.inner.data();
        let field = |at: usize, big_endian: bool| -> Option<u32> {
            let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
            Some(if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            })
        };
        match self.format {
            Format::Legacy { big_endian, .. } => {
                Some(u64::from(field(8, big_endian)?) + LEGACY_RECORD_HEADER)
            }
            Format::Ng { big_endian, .. } => Some(u64::from(field(4, big_endian)?)),
        }
    }

    fn io_failure(&self) -> CaptureError {
        let taken = self.io_error.lock().ok().and_then(|mut e| e.take());
        let e = taken.unwrap_or_else(|| io::Error::other("read failed"));
        self.error(CaptureErrorKind::Io(e))
    }

    fn error(&self, kind: CaptureErrorKind) -> CaptureError {
        CaptureError {
            file: self.file.clone(),
            kind,
        }
    }
}

/// A block-level failure before we know where it happened.
enum Step {
    Eof,
    Refill,
    Grow,
    Truncated,
    ReadFailed,
    Malformed(String),
    Fail(Pending),
}

/// A semantic error found in a parsed block; offset and packet added later.
enum Pending {
    Caplen { caplen: u32, snaplen: u32 },
    UnknownInterface { interface: u32, known: usize },
    Resolution(u8),
}

impl Pending {
    fn at(self, offset: u64, packet: u64) -> CaptureErrorKind {
        match self {
            Pending::Caplen { caplen, snaplen } => CaptureErrorKind::CaplenExceedsSnaplen {
                offset,
                packet,
                caplen,
                snaplen,
            },
            Pending::UnknownInterface { interface, known } => CaptureErrorKind::UnknownInterface {
                offset,
                packet,
                interface,
                known,
            },
            Pending::Resolution(r) => CaptureErrorKind::Malformed {
                offset,
                packet,
                detail: format!("interface timestamp resolution code {r:#04x} is out of range"),
            },
        }
    }
}

fn internal(offset: u64, packet: u64) -> CaptureErrorKind {
    let detail = "packet data outside the read buffer".to_string();
    CaptureErrorKind::Malformed {
        offset,
        packet,
        detail,
    }
}

fn step_for_error(e: PcapError<&[u8]>) -> Step {
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

fn open_error(e: PcapError<&[u8]>, io_error: &Mutex<Option<io::Error>>) -> CaptureErrorKind {
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
fn classify(format: &mut Format, block: &PcapBlockOwned<'_>) -> Result<Outcome, Pending> {
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
            if *snaplen != 0 && b.caplen > *snaplen {
                return Err(Pending::Caplen {
                    caplen: b.caplen,
                    snaplen: *snaplen,
                });
            }
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
            classify_ng(interfaces, last_ts, block)
        }
        _ => Ok(Outcome::NotAPacket),
    }
}

fn classify_ng(
    interfaces: &mut Vec<Interface>,
    last_ts: &mut Timestamp,
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
            interfaces.push(Interface {
                link: LinkType(idb.linktype.0 as u32),
                snaplen: idb.snaplen,
                resolution,
                offset_secs: idb.if_tsoffset,
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
            if iface.snaplen != 0 && epb.caplen > iface.snaplen {
                return Err(Pending::Caplen {
                    caplen: epb.caplen,
                    snaplen: iface.snaplen,
                });
            }
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
            })
        }
        _ => Ok(Outcome::NotAPacket),
    }
}

/// Units per second for an `if_tsresol` code: 10^-n s, or 2^-n s with the
/// top bit set. (pcap-parser 0.17 rejects every binary code, hence our own.)
fn ts_resolution(code: u8) -> Option<u64> {
    let exp = u32::from(code & 0x7f);
    if code & 0x80 == 0 {
        10u64.checked_pow(exp)
    } else {
        2u64.checked_pow(exp)
    }
}

/// `units` ticks of `1/resolution` s since `offset_secs`.
fn ng_timestamp(units: u64, resolution: u64, offset_secs: i64) -> Timestamp {
    let resolution = resolution.max(1);
    let whole = i64::try_from(units / resolution).unwrap_or(i64::MAX);
    let frac = u128::from(units % resolution) * 1_000_000_000 / u128::from(resolution);
    Timestamp::new(
        whole.saturating_add(offset_secs),
        u32::try_from(frac).unwrap_or(0),
    )
}

fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(buf.get_mut(got..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The input after its magic was peeked: hands the magic out again, keeps
/// the `io::Error` that pcap-parser reduces to `ReadError`, and returns at
/// least [`MIN_READ`] bytes per call unless the input ends (pcap-parser
/// parses the file header after a single read).
struct TapRead<R> {
    magic: [u8; 4],
    magic_used: usize,
    inner: R,
    error: Arc<Mutex<Option<io::Error>>>,
}

/// Larger than a pcap file header (24) and a minimal pcapng SHB (28); small
/// enough not to delay packets from a pipe.
const MIN_READ: usize = 32;

impl<R: Read> Read for TapRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut got = 0;
        if let Some(rest) = self.magic.get(self.magic_used..) {
            let n = rest.len().min(buf.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
                dst.copy_from_slice(src);
            }
            self.magic_used += n;
            got = n;
        }
        while got < buf.len().min(MIN_READ) || got == 0 && !buf.is_empty() {
            match self.inner.read(buf.get_mut(got..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Bytes already copied are returned; the error repeats on
                // the next call.
                Err(_) if got > 0 => break,
                Err(e) => {
                    let kind = e.kind();
                    if let Ok(mut slot) = self.error.lock() {
                        *slot = Some(e);
                    }
                    return Err(io::Error::from(kind));
                }
            }
        }
        Ok(got)
    }
}
