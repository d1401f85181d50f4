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
//! dec.finish();                    // end of stream: reports a truncated tail
//! ```
//!
//! TODO(framing helper): implementation and tests.

use super::Network;

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
        let n = name.len().min(12);
        bytes[..n].copy_from_slice(&name.as_bytes()[..n]);
        Command(bytes)
    }

    /// The bytes before the first NUL. May be anything a peer sent: escape
    /// before printing.
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(12);
        &self.0[..end]
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
    Truncated {
        offset: u64,
        have: u64,
        needed: u64,
    },
    /// An unknown magic framed a message with a valid checksum and is now
    /// accepted for this direction (custom signet).
    UnknownMagicAdopted { offset: u64, magic: [u8; 4] },
}

pub enum FrameEvent<'a> {
    Frame(Frame<'a>),
    Finding(FramingFinding),
}
