//! What the v2 packet decoder hands out: events (terminator, decoys, the
//! version packet, messages) and findings, and the candidate keys it is
//! given.

use super::keys::DirectionKeys;
use super::message_type::{MessageType, TypeError};
use crate::p2p::frame::Command;

/// One network's keys for this direction.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub magic: [u8; 4],
    /// The keys of this direction's sender.
    pub keys: DirectionKeys,
}

/// One message: a genuine packet after the version packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V2Message<'a> {
    /// Index of the packet in this direction (0: the first after the
    /// terminator), as the ciphers count it.
    pub packet: u64,
    /// Stream offset of the packet's first (length) byte.
    pub offset: u64,
    pub command: Command,
    pub message_type: MessageType,
    pub payload: &'a [u8],
    /// The network magic whose keys decrypted it.
    pub magic: [u8; 4],
}

pub enum V2Event<'a> {
    /// The sender's garbage terminator: the keys of `candidate` (network
    /// `magic`) are the session's.
    Terminator {
        candidate: usize,
        magic: [u8; 4],
        garbage_len: usize,
        /// Stream offset of the terminator's first byte.
        offset: u64,
    },
    /// A packet with the ignore bit: nothing to decode.
    Decoy {
        packet: u64,
        offset: u64,
        length: u32,
    },
    /// The transport version packet (empty contents today).
    Version {
        packet: u64,
        offset: u64,
        contents: &'a [u8],
    },
    Message(V2Message<'a>),
    Finding(V2Finding),
}

/// What went wrong in a direction. All but `BadMessageType` end its
/// decryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V2Finding {
    /// No candidate's terminator within 4095 + 16 bytes: a wrong secret,
    /// or a network magic not among the candidates.
    NoTerminator {
        offset: u64,
        searched: u64,
        candidates: usize,
    },
    /// The stream ended before the terminator (e.g. the responder never
    /// answered the key).
    HandshakeIncomplete { offset: u64, garbage: u64 },
    /// More than [`MAX_BUFFERED_WITHOUT_KEYS`](crate::p2p::v2::decoder::MAX_BUFFERED_WITHOUT_KEYS) bytes arrived before keys.
    KeysTooLate { offset: u64, buffered: u64 },
    /// A length above [`MAX_CONTENTS_LEN`](crate::p2p::v2::MAX_CONTENTS_LEN), refused unbuffered.
    OversizeLength {
        packet: u64,
        offset: u64,
        length: u32,
        limit: u32,
    },
    /// The packet's tag does not verify: wrong keys or corrupted bytes.
    BadTag {
        packet: u64,
        offset: u64,
        length: u32,
    },
    /// A genuine packet without a valid message type: dropped (as Core
    /// does), decryption goes on.
    BadMessageType {
        packet: u64,
        offset: u64,
        length: u32,
        error: TypeError,
    },
    /// Bytes never captured: the keystream position is lost. `offset` is
    /// the first byte not decrypted, `gap_at` where the missing bytes are.
    Gap {
        packet: u64,
        offset: u64,
        gap_at: u64,
        bytes: u64,
    },
    /// The stream ended inside a packet.
    Truncated {
        packet: u64,
        offset: u64,
        have: u64,
        needed: u64,
    },
}
