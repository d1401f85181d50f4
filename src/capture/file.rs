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

use super::blocks::{Format, Outcome, Step, classify, internal, open_error, step_for_error};
use super::input::{ErrorTap, read_full};
use super::mapped::{self, MappedFile, MappedReader};
use super::{CaptureError, CaptureErrorKind, LinkType, Packet, Timestamp};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapNGReader};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

/// Initial size of the read buffer: many records per refill.
pub const INITIAL_BUFFER: usize = 1 << 20;
/// Largest record accepted: well above any real packet (64 KiB IP, 256 KiB
/// libpcap snap length, GRO super-frames) yet small enough to never be a
/// memory problem. A length field above it is an error, not an allocation.
pub const MAX_RECORD: usize = 16 << 20;
/// The file name that means standard input (as tcpdump's `-r -`).
pub const STDIN_NAME: &str = "-";

/// Compressed captures read directly, recognised by content (as tshark
/// does), not by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    Gzip,
    Zstd,
}

impl Compression {
    fn of(magic: [u8; 4]) -> Option<Compression> {
        match magic {
            [0x1f, 0x8b, _, _] => Some(Compression::Gzip),
            [0x28, 0xb5, 0x2f, 0xfd] => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// The decompressed stream. A damaged or cut stream surfaces as an I/O
    /// error where the damage is, after everything before it was read.
    fn decoder(
        self,
        input: impl Read + Send + 'static,
    ) -> io::Result<Box<dyn Read + Send + 'static>> {
        Ok(match self {
            // Multi-member: `cat a.gz b.gz` and pigz output are one stream.
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(input)?),
        })
    }
}

/// Whether `magic` starts a pcapng file (else classic pcap), and the
/// format's state before its first block; `None` for neither.
fn format_of(magic: [u8; 4]) -> Option<(bool, Format)> {
    match magic {
        [0x0a, 0x0d, 0x0d, 0x0a] => Some((
            true,
            Format::Ng {
                interfaces: Vec::new(),
                last_ts: Timestamp::ZERO,
                big_endian: false,
            },
        )),
        [0xa1, 0xb2, 0xc3, 0xd4]
        | [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d]
        | [0x4d, 0x3c, 0xb2, 0xa1] => Some((
            false,
            // The header comes back as the first block; until then these
            // placeholders are never used for a packet.
            Format::Legacy {
                link: LinkType(0),
                snaplen: 0,
                nanos: false,
                big_endian: false,
            },
        )),
        _ => None,
    }
}

/// ts_sec, ts_usec, caplen, origlen.
const LEGACY_RECORD_HEADER: u64 = 16;

/// Reads packets from a pcap or pcapng stream. See the module docs.
pub struct FileReader {
    file: PathBuf,
    inner: Box<dyn PcapReaderIterator + Send>,
    format: Format,
    io_error: Arc<Mutex<Option<io::Error>>>,
    /// The file, when read in place.
    map: Option<Arc<MappedFile>>,
    /// Bytes of the block returned last, consumed at the next call (the
    /// returned packet borrows them until then).
    pending_consume: usize,
    packets: u64,
    /// Current buffer capacity (pcap-parser does not expose it).
    capacity: usize,
    snaplen_warned: bool,
    /// A warning about the file not yet taken by [`FileReader::take_warning`].
    warning: Option<String>,
}

impl FileReader {
    /// Opens a capture file (`-` is standard input); the format is
    /// recognised by its magic, and gzip or zstd compression by theirs.
    pub fn open(path: impl AsRef<Path>) -> Result<FileReader, CaptureError> {
        let path = path.as_ref();
        if path.as_os_str() == STDIN_NAME {
            return FileReader::from_read(path, io::stdin());
        }
        let file = File::open(path).map_err(|e| CaptureError {
            file: path.to_path_buf(),
            kind: CaptureErrorKind::Io(e),
        })?;
        FileReader::from_read(path, file)
    }

    /// Reads a capture from any byte stream (stdin, memory), compressed or
    /// not; `name` is used in error messages.
    pub fn from_read(
        name: impl AsRef<Path>,
        input: impl Read + Send + 'static,
    ) -> Result<FileReader, CaptureError> {
        FileReader::from_stream(name.as_ref(), input, true)
    }

    /// `decompress`: whether a compression magic is still looked for (one
    /// layer only: a gzip inside a gzip is not a capture).
    fn from_stream(
        name: &Path,
        mut input: impl Read + Send + 'static,
        decompress: bool,
    ) -> Result<FileReader, CaptureError> {
        let file = name.to_path_buf();
        let err = |kind| CaptureError {
            file: file.clone(),
            kind,
        };
        let mut magic = [0u8; 4];
        let got = read_full(&mut input, &mut magic).map_err(|e| err(CaptureErrorKind::Io(e)))?;
        if got < magic.len() {
            return Err(err(CaptureErrorKind::NotACapture { magic, len: got }));
        }
        if decompress && let Some(compression) = Compression::of(magic) {
            let whole = io::Cursor::new(magic).chain(input);
            let decoded = compression
                .decoder(whole)
                .map_err(|e| err(CaptureErrorKind::Io(e)))?;
            return FileReader::from_stream(name, decoded, false);
        }
        let io_error = Arc::new(Mutex::new(None));
        let tap = ErrorTap {
            inner: io::Cursor::new(magic).chain(input),
            error: Arc::clone(&io_error),
        };
        let (ng, format) = format_of(magic)
            .ok_or_else(|| err(CaptureErrorKind::NotACapture { magic, len: got }))?;
        let inner: Box<dyn PcapReaderIterator + Send> = if ng {
            Box::new(
                PcapNGReader::new(INITIAL_BUFFER, tap)
                    .map_err(|e| err(open_error(e, &io_error)))?,
            )
        } else {
            Box::new(
                LegacyPcapReader::new(INITIAL_BUFFER, tap)
                    .map_err(|e| err(open_error(e, &io_error)))?,
            )
        };
        Ok(FileReader::with(file, inner, format, io_error, None))
    }

    /// Reads the regular file `file` in place, memory-mapped (see
    /// [`super::mapped`]), counting the bytes read into `counter`; `None`
    /// when it is not mapped (empty, compressed, or the system refuses):
    /// the caller reads it as a stream.
    pub fn mapped(
        name: impl AsRef<Path>,
        file: &File,
        counter: Option<Arc<AtomicU64>>,
    ) -> Option<Result<FileReader, CaptureError>> {
        let name = name.as_ref().to_path_buf();
        let map = mapped::map(file)?;
        let mut magic = [0u8; 4];
        let got = map.bytes().len().min(magic.len());
        if let (Some(to), Some(from)) = (magic.get_mut(..got), map.bytes().get(..got)) {
            to.copy_from_slice(from);
        }
        if Compression::of(magic).is_some() {
            return None;
        }
        let io_error = Arc::new(Mutex::new(None));
        let err = |kind| CaptureError {
            file: name.clone(),
            kind,
        };
        let Some((ng, format)) = format_of(magic) else {
            return Some(Err(err(CaptureErrorKind::NotACapture { magic, len: got })));
        };
        let reader = match MappedReader::new(Arc::clone(&map), ng, INITIAL_BUFFER, counter) {
            Ok(r) => r,
            Err(e) => return Some(Err(err(open_error(e, &io_error)))),
        };
        Some(Ok(FileReader::with(
            name,
            Box::new(reader),
            format,
            io_error,
            Some(map),
        )))
    }

    fn with(
        file: PathBuf,
        inner: Box<dyn PcapReaderIterator + Send>,
        format: Format,
        io_error: Arc<Mutex<Option<io::Error>>>,
        map: Option<Arc<MappedFile>>,
    ) -> FileReader {
        FileReader {
            file,
            inner,
            format,
            io_error,
            map,
            pending_consume: 0,
            packets: 0,
            capacity: INITIAL_BUFFER,
            snaplen_warned: false,
            warning: None,
        }
    }

    /// The mapped file packets borrow from, when it is read in place:
    /// their bytes stay valid as long as the map lives.
    pub fn map(&self) -> Option<&Arc<MappedFile>> {
        self.map.as_ref()
    }

    /// The name given at open time.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Something odd about the file that did not stop reading (one line).
    pub fn take_warning(&mut self) -> Option<String> {
        self.warning.take()
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
                        beyond_snaplen,
                    },
                )) => {
                    if let Some((caplen, snaplen)) = beyond_snaplen
                        && !self.snaplen_warned
                    {
                        self.snaplen_warned = true;
                        self.warning = Some(format!(
                            "{}: packet {packet} at byte offset {offset}: captured length \
                             {caplen} exceeds the file's snap length {snaplen}; read anyway \
                             (warned once per file)",
                            self.file.display()
                        ));
                    }
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
            let b: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
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
