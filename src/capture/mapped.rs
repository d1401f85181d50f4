//! A capture file read in place through a memory map (`read` of a regular,
//! uncompressed file): pcap-parser's own block parsers run over the mapped
//! bytes, so packets borrow from the file's pages instead of being copied
//! into a read buffer.
//!
//! The parsers only see a window of the file as large as the streaming
//! reader's buffer (its capacity, grown the same way up to `MAX_RECORD`):
//! a record too large for it, a truncated last record and every other
//! error come out exactly as they do when the file is read (the same
//! `PcapError`s, hence the same messages at the same offsets).
//!
//! Pages already read are dropped from the process (`MADV_DONTNEED`, a
//! while behind the reading position, and never a page a consumer still
//! holds: see [`MappedFile::hold_from`]) so that the resident size stays
//! flat with the capture's size; the file's pages stay in the page cache.
//!
//! A file that shrinks while it is mapped (truncated by another process,
//! e.g. a `tcpdump -C/-W` ring overwriting it) makes reading past its new
//! end raise SIGBUS. As ripgrep does, we accept that risk for the speed of
//! reading in place, and make it a clean error: [`sigbus::install`] turns
//! the signal into a message and exit code 1 instead of a crash.

use memmap2::{Advice, Mmap, UncheckedAdvice};
use pcap_parser::nom::{self, IResult, Needed};
use pcap_parser::pcap::{
    LegacyPcapBlock, PcapHeader, parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified,
    parse_pcap_header,
};
use pcap_parser::pcapng::{Block, parse_block_be, parse_block_le, parse_sectionheaderblock};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};
use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

type LegacyParse = fn(&[u8]) -> IResult<&[u8], LegacyPcapBlock<'_>, PcapError<&[u8]>>;

enum Layout {
    /// Classic pcap: the file header (returned as the first block), and the
    /// record parser its magic asks for.
    Legacy {
        header: PcapHeader,
        parse: LegacyParse,
    },
    /// pcapng: the byte order of the current section.
    Ng { big_endian: bool },
}

/// A capture file mapped into memory, shared by its reader and whoever
/// keeps packets' bytes past the reading (the parallel pipeline's
/// workers, which get stream data as ranges of it).
pub struct MappedFile {
    map: Mmap,
    /// The offset from which that consumer still needs the bytes;
    /// `usize::MAX` while none holds any.
    needed_from: AtomicUsize,
}

impl MappedFile {
    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// A consumer still needs the bytes from `offset` on (`usize::MAX`:
    /// none): the reader gives no page back from there, where touching it
    /// again would fault it back in and keep it resident. A hint only:
    /// bytes given back are read again from the file, unchanged.
    pub fn hold_from(&self, offset: usize) {
        self.needed_from.store(offset, Ordering::Relaxed);
    }
}

/// Reads blocks from a mapped capture file; see the module docs.
pub(super) struct MappedReader {
    map: Arc<MappedFile>,
    /// Bytes consumed: the next block starts here.
    pos: usize,
    /// How far past `pos` the parsers may look (the streaming reader's
    /// buffer capacity).
    window: usize,
    layout: Layout,
    /// Bytes given back to the system so far (everything before this).
    released: usize,
    /// Progress: bytes consumed, added to the read's counter.
    counter: Option<Arc<AtomicU64>>,
}

/// Pages more than this far behind the reading position are given back:
/// well beyond any round of the parallel pipeline still in flight (which
/// would only fault them in again from the page cache).
const KEEP_BEHIND: usize = 2 << 20;
/// Pages are given back this many bytes at a time.
const RELEASE_STEP: usize = 1 << 20;

/// Maps `file` (a regular file): `None` when it cannot be mapped (empty,
/// or the system refuses), and the caller reads it as a stream instead.
pub(super) fn map(file: &File) -> Option<Arc<MappedFile>> {
    let len = file.metadata().ok()?.len();
    if len == 0 || usize::try_from(len).is_err() {
        return None;
    }
    sigbus::install();
    // SAFETY: the map is only read. If another process changes the file
    // meanwhile, the bytes read may change under us, which the parsers
    // treat as any other hostile input; if it shrinks, reading past its
    // end raises SIGBUS, which `sigbus::install` made a clean exit.
    let map = unsafe { Mmap::map(file) }.ok()?;
    let _ = map.advise(Advice::Sequential);
    Some(Arc::new(MappedFile {
        map,
        needed_from: AtomicUsize::new(usize::MAX),
    }))
}

impl MappedReader {
    /// A reader of `map` whose first bytes are a pcap or pcapng magic
    /// (`ng`); `window` is the initial buffer capacity. Errors as the
    /// streaming readers' `new` gives them.
    pub(super) fn new(
        map: Arc<MappedFile>,
        ng: bool,
        window: usize,
        counter: Option<Arc<AtomicU64>>,
    ) -> Result<MappedReader, PcapError<&'static [u8]>> {
        let first = map
            .bytes()
            .get(..window.min(map.bytes().len()))
            .unwrap_or_default();
        let layout = if ng {
            parse_sectionheaderblock(first).map_err(open_error)?;
            Layout::Ng { big_endian: false }
        } else {
            let (_, header) = parse_pcap_header(first).map_err(open_error)?;
            let parse: LegacyParse = if header.is_modified_format() {
                parse_pcap_frame_modified
            } else if header.is_bigendian() {
                parse_pcap_frame_be
            } else {
                parse_pcap_frame
            };
            Layout::Legacy { header, parse }
        };
        Ok(MappedReader {
            map,
            pos: 0,
            window,
            layout,
            released: 0,
            counter,
        })
    }

    /// Gives pages well behind the reading position, and before what a
    /// consumer holds, back to the system.
    fn release(&mut self) {
        let held = self.map.needed_from.load(Ordering::Relaxed);
        let upto = self.pos.saturating_sub(KEEP_BEHIND).min(held);
        let len = upto.saturating_sub(self.released);
        if len < RELEASE_STEP {
            return;
        }
        // SAFETY: the map is a read-only mapping of a file: after
        // MADV_DONTNEED its pages read the file's bytes again when touched,
        // so slices into it (the packets of rounds still in flight) stay
        // valid.
        let _ = unsafe {
            self.map
                .map
                .unchecked_advise_range(UncheckedAdvice::DontNeed, self.released, len)
        };
        self.released = upto;
    }
}

impl MappedReader {
    /// Asks the CPU for the first two cache lines of the record at `at`
    /// (its header, and the packet's link, IP and TCP headers) while the
    /// packet just parsed is handled. The parallel pipeline's reading
    /// thread touches only those lines of each packet, a stride the
    /// hardware prefetcher does not follow: each record header was a miss
    /// to memory (90% of `parse_pcap_frame`'s samples on one load).
    fn prefetch_record(&self, at: usize) {
        if let Some(next) = self.map.bytes().get(at..) {
            crate::prefetch::lines(next.as_ptr(), next.len().min(128));
        }
    }
}

/// A streaming reader's open error, owned (pcap-parser's `to_owned_vec`).
fn open_error(e: nom::Err<PcapError<&[u8]>>) -> PcapError<&'static [u8]> {
    match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e.to_owned_vec(),
        nom::Err::Incomplete(Needed::Size(n)) => PcapError::Incomplete(n.into()),
        nom::Err::Incomplete(Needed::Unknown) => PcapError::Incomplete(0),
    }
}

impl PcapReaderIterator for MappedReader {
    fn next(&mut self) -> Result<(usize, PcapBlockOwned<'_>), PcapError<&[u8]>> {
        let len = self.map.bytes().len();
        if self.pos >= len {
            return Err(PcapError::Eof);
        }
        let end = self.pos.saturating_add(self.window).min(len);
        let exhausted = end == len;
        let window = self.window;
        let data: &[u8] = self.map.bytes().get(self.pos..end).unwrap_or_default();
        let parsed: IResult<&[u8], PcapBlockOwned<'_>, PcapError<&[u8]>> = match &mut self.layout {
            Layout::Legacy { header, .. } if self.pos == 0 => {
                return Ok((header.size(), PcapBlockOwned::from(header.clone())));
            }
            Layout::Legacy { parse, .. } => {
                parse(data).map(|(rest, block)| (rest, PcapBlockOwned::from(block)))
            }
            Layout::Ng { big_endian } => {
                let parse = if *big_endian {
                    parse_block_be
                } else {
                    parse_block_le
                };
                parse(data).map(|(rest, block)| {
                    if let Block::SectionHeader(shb) = &block {
                        *big_endian = shb.big_endian();
                    }
                    (rest, PcapBlockOwned::from(block))
                })
            }
        };
        match parsed {
            Ok((rest, block)) => {
                let size = data.len().saturating_sub(rest.len());
                self.prefetch_record(self.pos.saturating_add(size));
                Ok((size, block))
            }
            Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => Err(e),
            // As the streaming readers decide, with the window as buffer.
            Err(nom::Err::Incomplete(_)) if exhausted => Err(PcapError::UnexpectedEof),
            Err(nom::Err::Incomplete(Needed::Size(n))) => {
                if data.len().saturating_add(usize::from(n)) >= window {
                    Err(PcapError::BufferTooSmall)
                } else {
                    Err(PcapError::Incomplete(n.into()))
                }
            }
            Err(nom::Err::Incomplete(Needed::Unknown)) => Err(PcapError::Incomplete(0)),
        }
    }

    fn consume(&mut self, offset: usize) {
        self.consume_noshift(offset);
        self.release();
    }

    fn consume_noshift(&mut self, offset: usize) {
        let offset = offset.min(self.map.bytes().len().saturating_sub(self.pos));
        self.pos = self.pos.saturating_add(offset);
        if let Some(counter) = &self.counter {
            counter.fetch_add(offset as u64, Ordering::Relaxed);
        }
    }

    fn consumed(&self) -> usize {
        self.pos
    }

    /// Nothing to read: the window follows the position.
    fn refill(&mut self) -> Result<(), PcapError<&[u8]>> {
        Ok(())
    }

    fn position(&self) -> usize {
        0
    }

    fn grow(&mut self, new_size: usize) -> bool {
        self.window = self.window.max(new_size);
        true
    }

    fn data(&self) -> &[u8] {
        let end = self
            .pos
            .saturating_add(self.window)
            .min(self.map.bytes().len());
        self.map.bytes().get(self.pos..end).unwrap_or_default()
    }

    fn reader_exhausted(&self) -> bool {
        self.pos.saturating_add(self.window) >= self.map.bytes().len()
    }
}

/// A mapped file that shrinks under us: SIGBUS, made a clean exit.
mod sigbus {
    use std::sync::Once;

    const MESSAGE: &[u8] = b"btcsniff: a capture file shrank while it was being read \
(memory-mapped: truncated or overwritten by another process); stopping\n";

    extern "C" fn on_sigbus(_: libc::c_int) {
        // SAFETY: write(2) and _exit(2) are async-signal-safe; MESSAGE is
        // a static buffer.
        unsafe {
            let _ = libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
            libc::_exit(i32::from(crate::exit_code::ERROR));
        }
    }

    /// Installs the handler once per process.
    pub(super) fn install() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            // SAFETY: a zeroed sigaction is valid; the handler only calls
            // async-signal-safe functions.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigbus as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
            }
        });
    }
}
