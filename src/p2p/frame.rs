//! Push framing decoder for one direction of a v1 stream.
//!
//! CONTRACT (the pipeline, the probe and the fuzzers code against this):
//!
//! ```ignore
//! let mut dec = FrameDecoder::new();
//! dec.push(bytes);                 // reassembled bytes, any chunking
//! while let Some(ev) = dec.next_event() {
//!     match ev {
//!         FrameEvent::Frame(frame) => { /* frame.payload borrows from dec */ }
//!         FrameEvent::Finding(f) => { /* skipped bytes, oversize length, ... */ }
//!     }
//! }
//! dec.gap(n);                      // n bytes were never captured: resync
//! dec.finish();                    // end of stream; drain once more: a
//!                                  // truncated tail is reported then
//! ```
//!
//! Every frame and finding comes out of `next_event`. `gap` and `finish`
//! only mark where the stream is cut; events still buffered before the cut
//! come out first, in stream order.
//!
//! [`FrameDecoder::feed`] is the zero-copy variant of push + drain: when
//! nothing is buffered it frames straight from the caller's slice and keeps
//! only the unconsumed tail.
//!
//! Rules (details in `frame/machine.rs`): known magics, plus unknown
//! magics adopted after one message with a valid checksum (tried only
//! where a header is expected: stream start or right after a message, never
//! while scanning garbage); every checksum
//! checked, a wrong one still emitted; legacy 20-byte headers for
//! version/verack; lengths above 4,000,000 refused before any allocation;
//! resync after garbage or gaps by scanning for a header confirmed by its
//! checksum. Memory: the buffer only ever holds pushed bytes, is compacted
//! as it is consumed, and its capacity is released after large messages.

mod header;
mod machine;
mod spare;
#[cfg(test)]
mod tests;

pub use header::{HEADER_LEN, LEGACY_HEADER_LEN, find_v1_header, looks_like_v1_header};

use super::{Hash256, Network};
use header::at_most;
use machine::{Decided, Machine, Out};
use std::collections::VecDeque;

/// The state of a message's checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// sha256d(payload) starts with the header's checksum.
    Valid,
    /// The header's checksum does not match: the message is still emitted.
    Invalid { expected: [u8; 4], actual: [u8; 4] },
    /// Legacy 20-byte header without checksum (pre-2012 version/verack).
    Absent,
}

impl Checksum {
    pub fn name(&self) -> &'static str {
        match self {
            Checksum::Valid => "valid",
            Checksum::Invalid { .. } => "invalid",
            Checksum::Absent => "absent",
        }
    }
}

/// The 12-byte command field of a header, kept as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Command(pub [u8; 12]);

impl Command {
    pub fn new(name: &str) -> Command {
        let mut bytes = [0u8; 12];
        for (dst, &src) in bytes.iter_mut().zip(name.as_bytes()) {
            *dst = src;
        }
        Command(bytes)
    }

    /// The bytes before the first NUL. May be anything a peer sent: escape
    /// before printing.
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(12);
        self.0.get(..end).unwrap_or(&self.0)
    }

    /// The command as text when it is printable ASCII.
    pub fn as_str(&self) -> Option<&str> {
        let b = self.as_bytes();
        if b.iter().all(|c| c.is_ascii_graphic()) {
            std::str::from_utf8(b).ok()
        } else {
            None
        }
    }
}

/// One framed message. `payload` borrows from the decoder's buffer (or
/// from the pushed slice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub network: Network,
    pub command: Command,
    /// The header's length field (= payload.len()).
    pub length: u32,
    pub checksum: Checksum,
    pub payload: &'a [u8],
    /// Offset of the header's first byte in this direction's stream.
    pub stream_offset: u64,
    /// sha256d(payload) as this decoder computed it to check the checksum
    /// (whether the checksum then matched or not): whoever decodes the
    /// payload can reuse it instead of hashing the same bytes again (a
    /// standalone `tx`: it is the txid or wtxid, see
    /// `message::DecodeContext::payload_hash`). None when the payload was
    /// not hashed: a legacy header has no checksum.
    pub payload_hash: Option<Hash256>,
    /// `None` for a v1 header; for a message of a BIP324 v2 packet, how its
    /// type was encoded (its checksum is then `Absent`: v2 has none).
    pub v2: Option<super::v2::MessageType>,
}

/// Anomalies of the byte stream itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramingFinding {
    /// Bytes skipped while looking for the next plausible header.
    SkippedBytes { offset: u64, bytes: u64 },
    /// A header whose length is above MAX_PROTOCOL_MESSAGE_LENGTH: refused
    /// without allocating; framing resyncs after it.
    OversizeLength {
        offset: u64,
        command: Command,
        length: u32,
        limit: u32,
    },
    /// The stream ended inside a message (reported by `finish`).
    Truncated { offset: u64, have: u64, needed: u64 },
    /// An unknown magic framed a message with a valid checksum and is now
    /// accepted for this direction (custom signet).
    UnknownMagicAdopted { offset: u64, magic: [u8; 4] },
}

pub enum FrameEvent<'a> {
    Frame(Frame<'a>),
    Finding(FramingFinding),
}

/// Where the stream is cut: bytes never captured, or the end.
#[derive(Debug, Clone, Copy)]
struct Boundary {
    /// Count of pushed bytes before the cut.
    at: u64,
    /// `Some(n)`: n bytes missing; `None`: end of stream.
    gap: Option<u64>,
}

/// What the machine decided: a frame at `buf[start..]`, or a finding.
enum Ready {
    Frame {
        start: usize,
        decided: Decided,
        offset: u64,
    },
    Finding(FramingFinding),
}

/// Capacity kept after the buffer empties: beyond this it is released
/// (a 4 MB block must not pin 4 MB per idle direction).
const KEEP_CAPACITY: usize = 64 * 1024;

/// Push framing decoder for one direction of a reassembled v1 stream.
pub struct FrameDecoder {
    machine: Machine,
    /// Pushed bytes not yet dropped; `buf[start..]` is unconsumed.
    buf: Vec<u8>,
    start: usize,
    /// Count of pushed bytes before `buf[0]`.
    buf_base: u64,
    pushed: u64,
    boundaries: VecDeque<Boundary>,
    finished: bool,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new()
    }
}

impl FrameDecoder {
    pub fn new() -> FrameDecoder {
        FrameDecoder {
            machine: Machine::new(),
            buf: Vec::new(),
            start: 0,
            buf_base: 0,
            pushed: 0,
            boundaries: VecDeque::new(),
            finished: false,
        }
    }

    /// Appends reassembled bytes. Ignored after `finish`.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.finished || bytes.is_empty() {
            return;
        }
        self.compact();
        self.make_room_for_message();
        self.buf.extend_from_slice(bytes);
        self.pushed = self.pushed.saturating_add(bytes.len() as u64);
    }

    /// `bytes` bytes of the stream were never captured: any partial message
    /// is reported (Truncated) and dropped, and framing resyncs after them.
    pub fn gap(&mut self, bytes: u64) {
        if !self.finished {
            self.boundaries.push_back(Boundary {
                at: self.pushed,
                gap: Some(bytes),
            });
        }
    }

    /// End of stream: the next events account for every byte left (a
    /// partial message is reported as Truncated, an unfinished skipped run
    /// as SkippedBytes). Pushes after it are ignored.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.boundaries.push_back(Boundary {
            at: self.pushed,
            gap: None,
        });
    }

    /// The pushed bytes not framed yet: a partial message (or the candidate
    /// header a resync waits on) at the end of the stream so far.
    pub fn unconsumed(&self) -> &[u8] {
        after(&self.buf, self.start)
    }

    /// Bytes held in the buffer (consumed or not), for memory accounting.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The buffer's allocated capacity, for memory accounting.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The next frame or finding, `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Option<FrameEvent<'_>> {
        Some(match self.advance()? {
            Ready::Finding(finding) => FrameEvent::Finding(finding),
            Ready::Frame {
                start,
                decided,
                offset,
            } => frame_at(&self.buf, start, decided, offset),
        })
    }

    /// Pushes `bytes` and hands every event to `on_event`. When nothing is
    /// buffered, frames borrow straight from `bytes` and only the
    /// unconsumed tail is copied.
    pub fn feed(&mut self, bytes: &[u8], mut on_event: impl FnMut(FrameEvent<'_>)) {
        let direct = !self.finished && self.boundaries.is_empty() && self.start == self.buf.len();
        if !direct {
            self.push(bytes);
            while let Some(ev) = self.next_event() {
                on_event(ev);
            }
            return;
        }
        let mut pos = 0;
        loop {
            let view = after(bytes, pos);
            let (n, out) = self.machine.step(view, false);
            let here = pos;
            pos = pos.saturating_add(n);
            match out {
                Out::NeedMore => break,
                Out::Continue => {}
                Out::Finding(f) => on_event(FrameEvent::Finding(f)),
                Out::Frame(d, offset) => on_event(frame_at(bytes, here, d, offset)),
            }
        }
        let tail = after(bytes, pos);
        self.buf.clear();
        self.start = 0;
        self.pushed = self.pushed.saturating_add(bytes.len() as u64);
        self.buf_base = self.pushed.saturating_sub(tail.len() as u64);
        self.buf.extend_from_slice(tail);
    }

    /// Runs the machine until it yields an event or needs more bytes.
    fn advance(&mut self) -> Option<Ready> {
        self.compact();
        loop {
            let boundary = self.boundaries.front().copied();
            let seg_end = match boundary {
                Some(b) => {
                    usize::try_from(b.at.saturating_sub(self.buf_base)).unwrap_or(usize::MAX)
                }
                None => self.buf.len(),
            }
            .min(self.buf.len());
            let view = after(at_most(&self.buf, seg_end), self.start);
            let (n, out) = self.machine.step(view, boundary.is_some());
            let here = self.start;
            self.start = self.start.saturating_add(n).min(seg_end);
            match out {
                Out::Continue => {}
                Out::Finding(f) => return Some(Ready::Finding(f)),
                Out::Frame(decided, offset) => {
                    return Some(Ready::Frame {
                        start: here,
                        decided,
                        offset,
                    });
                }
                Out::NeedMore => {
                    // At a cut, the machine has accounted for every byte of
                    // the segment; apply the cut and go on after it.
                    let b = boundary?;
                    self.boundaries.pop_front();
                    match b.gap {
                        Some(bytes) => self.machine.gap(bytes),
                        None => return None,
                    }
                }
            }
        }
    }

    /// When a header has been read and its payload is arriving, the buffer
    /// is sized for the whole message at once (no doubling, no copies):
    /// from the spare buffers if one fits. The length was checked against
    /// MAX_PROTOCOL_MESSAGE_LENGTH when the header was read.
    fn make_room_for_message(&mut self) {
        let Some(need) = self.machine.awaiting_message() else {
            return;
        };
        let total = self.start.saturating_add(need);
        if total <= self.buf.capacity() || need <= KEEP_CAPACITY {
            return;
        }
        match spare::take(need) {
            Some(mut bigger) => {
                bigger.extend_from_slice(after(&self.buf, self.start));
                self.buf_base = self.buf_base.saturating_add(self.start as u64);
                self.start = 0;
                spare::give(std::mem::replace(&mut self.buf, bigger));
            }
            None => self.buf.reserve(total.saturating_sub(self.buf.len())),
        }
    }

    /// Drops consumed bytes when that costs no more than what was
    /// consumed (amortised linear), and releases a large idle capacity.
    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        let consumed = self.start;
        if consumed == self.buf.len() {
            self.buf.clear();
            if self.buf.capacity() > KEEP_CAPACITY {
                spare::give(std::mem::take(&mut self.buf));
            }
        } else if consumed >= self.buf.len().saturating_sub(consumed) {
            self.buf.drain(..consumed);
        } else {
            return;
        }
        self.start = 0;
        self.buf_base = self.buf_base.saturating_add(consumed as u64);
    }
}

/// `bytes[from..]`, where `from` is proven in range: the machine never
/// consumes more than the view it was given, and the decoder's position
/// stays within its buffer.
fn after(bytes: &[u8], from: usize) -> &[u8] {
    debug_assert!(
        from <= bytes.len(),
        "position {from} beyond {} bytes",
        bytes.len()
    );
    bytes.get(from..).unwrap_or_default()
}

/// The event for a message the machine decided at `bytes[start..]`. The
/// machine decides a message only when the view holds all of it; should
/// that ever not hold, the bytes are reported as truncated (loudly in
/// tests), never handed out as a frame with a payload shorter than its
/// length.
fn frame_at(bytes: &[u8], start: usize, d: Decided, offset: u64) -> FrameEvent<'_> {
    let from = start.saturating_add(d.header_len);
    let Some(payload) = bytes.get(from..from.saturating_add(d.length as usize)) else {
        debug_assert!(
            false,
            "message at {start} beyond the {} bytes held",
            bytes.len()
        );
        return FrameEvent::Finding(FramingFinding::Truncated {
            offset,
            have: bytes.len().saturating_sub(start) as u64,
            needed: d.total_len() as u64,
        });
    };
    FrameEvent::Frame(Frame {
        network: d.network,
        command: d.command,
        length: d.length,
        checksum: d.checksum,
        payload,
        stream_offset: offset,
        payload_hash: d.payload_hash,
        v2: None,
    })
}
