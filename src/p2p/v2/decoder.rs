//! Push decoder for one direction of a v2 stream, from the byte after the
//! sender's 64-byte key.
//!
//! CONTRACT (the analyzer, the probe and the fuzzers code against this):
//!
//! ```ignore
//! let mut dec = PacketDecoder::new(64);     // stream offset of the garbage
//! dec.set_candidates(candidates);           // keys per network to try (any time)
//! dec.push(bytes);                          // reassembled bytes, any chunking
//! while let Some(ev) = dec.next_event() {
//!     match ev {
//!         V2Event::Message(m) => { /* m.payload borrows from dec */ }
//!         V2Event::Finding(f) => { /* bad tag, gap, lying length, ... */ }
//!         _ => {}                            // terminator, decoys, version packet
//!     }
//! }
//! dec.gap(n);                               // n bytes never captured: decryption stops
//! dec.finish();                             // end of stream: drain once more
//! ```
//!
//! Rules: the garbage is searched for the terminator of every candidate
//! (one per network magic; the magic is not on the wire) within the first
//! 4095 + 16 bytes; the earliest match decides the network. Without
//! candidates (keys not known yet) at most [`MAX_BUFFERED_WITHOUT_KEYS`]
//! bytes are held. A length above [`MAX_CONTENTS_LEN`](crate::p2p::v2::MAX_CONTENTS_LEN) is refused before
//! its packet is buffered. A tag that does not verify, a lying length or a
//! gap end decryption of the direction (the keystream position is lost):
//! later bytes are only counted. Every decision depends on the bytes only,
//! never on how they were chunked.

mod steps;

pub use super::events::{Candidate, V2Event, V2Finding, V2Message};

use super::cipher::{LengthCipher, PacketCipher};
use super::message_type::MessageType;
use super::{MAX_GARBAGE_LEN, TERMINATOR_LEN};
use crate::p2p::frame::Command;
use std::ops::Range;

/// Bytes held while no keys are known (live capture: the key-log line may
/// be written after the session started); beyond it this direction is
/// given up. A session's handshake and first messages (version, verack,
/// the handshake extras, addr, a few inv: a few KB) fit easily.
pub const MAX_BUFFERED_WITHOUT_KEYS: usize = 256 * 1024;

/// Where the garbage terminator must appear: after at most 4095 bytes.
const GARBAGE_WINDOW: usize = MAX_GARBAGE_LEN + TERMINATOR_LEN;

/// Capacity kept when the buffer empties; beyond it it is released (a 4 MB
/// block must not pin 4 MB per idle direction).
const KEEP_CAPACITY: usize = 64 * 1024;

#[derive(Debug, Clone, Copy)]
enum State {
    /// Looking for the terminator; `searched` positions checked so far.
    Garbage {
        searched: usize,
    },
    Length,
    /// The length is decrypted (and consumed); waiting for the rest.
    Body {
        length: u32,
    },
    Stopped,
}

#[derive(Debug, Clone, Copy)]
enum Cut {
    Gap { at: u64, bytes: u64 },
    End,
}

/// An event decided, described by ranges of the buffer (so that deciding
/// borrows nothing).
enum Ready {
    Terminator {
        candidate: usize,
        garbage_len: usize,
        offset: u64,
    },
    Decoy {
        packet: u64,
        offset: u64,
        length: u32,
    },
    Version {
        packet: u64,
        offset: u64,
        contents: Range<usize>,
    },
    Message {
        packet: u64,
        offset: u64,
        command: Command,
        message_type: MessageType,
        payload: Range<usize>,
    },
    Finding(V2Finding),
}

struct Ciphers {
    magic: [u8; 4],
    length: LengthCipher,
    packet: PacketCipher,
}

pub struct PacketDecoder {
    state: State,
    candidates: Vec<Candidate>,
    ciphers: Option<Box<Ciphers>>,
    /// Pushed bytes not yet dropped; `buf[start..]` is unconsumed.
    buf: Vec<u8>,
    start: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Stream offset after the last byte pushed (or skipped by a gap).
    position: u64,
    /// The garbage: associated data of the first packet.
    aad: Vec<u8>,
    garbage_len: Option<usize>,
    version_seen: bool,
    /// Stream offset of the packet being read.
    packet_offset: u64,
    decoys: u64,
    cut: Option<Cut>,
    /// Where decryption stopped, and the captured bytes from there on.
    stopped_at: Option<u64>,
    ignored: u64,
}

impl PacketDecoder {
    /// A decoder whose first byte is at `offset` in the direction's stream
    /// (64 after the sender's key).
    pub fn new(offset: u64) -> PacketDecoder {
        PacketDecoder {
            state: State::Garbage { searched: 0 },
            candidates: Vec::new(),
            ciphers: None,
            buf: Vec::new(),
            start: 0,
            base: offset,
            position: offset,
            aad: Vec::new(),
            garbage_len: None,
            version_seen: false,
            packet_offset: offset,
            decoys: 0,
            cut: None,
            stopped_at: None,
            ignored: 0,
        }
    }

    /// The keys to try, one candidate per network. Ignored once the
    /// terminator was found.
    pub fn set_candidates(&mut self, candidates: Vec<Candidate>) {
        if let State::Garbage { .. } = self.state {
            self.candidates = candidates;
            self.state = State::Garbage { searched: 0 };
        }
    }

    pub fn has_candidates(&self) -> bool {
        !self.candidates.is_empty() || self.ciphers.is_some()
    }

    /// Appends reassembled bytes. After decryption stopped they are only
    /// counted.
    pub fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() || matches!(self.cut, Some(Cut::End)) {
            return;
        }
        self.position = self.position.saturating_add(bytes.len() as u64);
        if self.cut.is_some() || matches!(self.state, State::Stopped) {
            self.ignored = self.ignored.saturating_add(bytes.len() as u64);
            return;
        }
        self.compact();
        self.buf.extend_from_slice(bytes);
    }

    /// `bytes` bytes of the stream were never captured: decryption of this
    /// direction stops there (reported once the bytes before are decoded).
    pub fn gap(&mut self, bytes: u64) {
        if self.cut.is_none() {
            self.cut = Some(Cut::Gap {
                at: self.position,
                bytes,
            });
        }
        self.position = self.position.saturating_add(bytes);
    }

    /// End of stream: a partial packet (or garbage without terminator) is
    /// reported by the next `next_event` calls.
    pub fn finish(&mut self) {
        match self.cut {
            None => self.cut = Some(Cut::End),
            Some(Cut::Gap { .. }) | Some(Cut::End) => {}
        }
    }

    /// Pushes `bytes` and hands every event to `on_event`.
    pub fn feed(&mut self, bytes: &[u8], mut on_event: impl FnMut(V2Event<'_>)) {
        self.push(bytes);
        while let Some(ev) = self.next_event() {
            on_event(ev);
        }
    }

    /// The next event, `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Option<V2Event<'_>> {
        let ready = self.advance()?;
        let magic = self.magic().unwrap_or_default();
        Some(match ready {
            Ready::Terminator {
                candidate,
                garbage_len,
                offset,
            } => V2Event::Terminator {
                candidate,
                magic,
                garbage_len,
                offset,
            },
            Ready::Decoy {
                packet,
                offset,
                length,
            } => V2Event::Decoy {
                packet,
                offset,
                length,
            },
            Ready::Version {
                packet,
                offset,
                contents,
            } => V2Event::Version {
                packet,
                offset,
                contents: held(&self.buf, contents),
            },
            Ready::Message {
                packet,
                offset,
                command,
                message_type,
                payload,
            } => V2Event::Message(V2Message {
                packet,
                offset,
                command,
                message_type,
                payload: held(&self.buf, payload),
                magic,
            }),
            Ready::Finding(f) => V2Event::Finding(f),
        })
    }

    /// The network magic whose terminator was found.
    pub fn magic(&self) -> Option<[u8; 4]> {
        self.ciphers.as_ref().map(|c| c.magic)
    }

    /// Bytes of garbage before the terminator, once found.
    pub fn garbage_len(&self) -> Option<usize> {
        self.garbage_len
    }

    pub fn decoys(&self) -> u64 {
        self.decoys
    }

    /// Packets decrypted (decoys and the version packet included).
    pub fn packets(&self) -> u64 {
        self.ciphers.as_ref().map_or(0, |c| c.packet.packets())
    }

    /// Where decryption stopped (the first byte not decrypted), if it did.
    pub fn stopped_at(&self) -> Option<u64> {
        self.stopped_at
    }

    /// Captured bytes not decrypted because decryption stopped.
    pub fn ignored_bytes(&self) -> u64 {
        self.ignored
    }

    /// The buffer's allocated capacity, for memory accounting.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    fn available(&self) -> usize {
        self.buf.len().saturating_sub(self.start)
    }

    fn offset_of(&self, index: usize) -> u64 {
        self.base.saturating_add(index as u64)
    }

    /// Ends decryption at stream offset `at`; what is buffered from there
    /// is counted as ignored.
    fn stop(&mut self, at: u64) {
        self.state = State::Stopped;
        self.stopped_at = Some(at);
        let buffered_end = self.offset_of(self.buf.len());
        self.ignored = self.ignored.saturating_add(buffered_end.saturating_sub(at));
        self.buf = Vec::new();
        self.start = 0;
        self.base = buffered_end;
        self.aad = Vec::new();
    }

    fn advance(&mut self) -> Option<Ready> {
        self.compact();
        loop {
            let step = match self.state {
                State::Stopped => return None,
                State::Garbage { searched } => self.garbage(searched),
                State::Length => self.length(),
                State::Body { length } => self.body(length),
            };
            match step {
                Step::Ready(r) => return Some(r),
                Step::Continue => {}
                Step::NeedMore => return self.at_cut(),
            }
        }
    }

    /// Drops consumed bytes when that costs no more than what was consumed
    /// (amortised linear), and releases a large idle capacity.
    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        let consumed = self.start;
        if consumed >= self.buf.len() {
            self.buf.clear();
            if self.buf.capacity() > KEEP_CAPACITY {
                self.buf = Vec::new();
            }
        } else if consumed >= self.buf.len().saturating_sub(consumed) {
            self.buf.drain(..consumed);
        } else {
            return;
        }
        self.base = self.base.saturating_add(consumed as u64);
        self.start = 0;
    }
}

enum Step {
    Ready(Ready),
    Continue,
    NeedMore,
}

/// The bytes of a packet the decoder decrypted in place: its range was
/// taken from the buffer it is read from, which is not touched until the
/// event is handed out.
fn held(buf: &[u8], range: Range<usize>) -> &[u8] {
    debug_assert!(
        range.end <= buf.len(),
        "{range:?} beyond {} bytes",
        buf.len()
    );
    buf.get(range).unwrap_or_default()
}
