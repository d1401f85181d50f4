//! BIP324 v2 transport: key derivation, the length and packet ciphers,
//! garbage and its terminator, a push decoder for one direction, the
//! encoder the probe sends with, v2 message types, and key-log parsing.
//! No I/O happens here: bytes in, packets, messages and findings out.
//!
//! What a direction of a v2 connection carries (BIP324, "Transport
//! layer specification"):
//!
//! ```text
//! key (64) | garbage (0-4095) | terminator (16) | packet | packet | ...
//! packet = encrypted length (3) | encrypted header (1) + contents | tag (16)
//! ```
//!
//! The first packet after the terminator authenticates the garbage as its
//! associated data; the first packet that is not a decoy is the transport
//! version packet; every later genuine packet is one message.

pub mod cipher;
pub mod decoder;
pub mod encoder;
pub mod events;
pub mod keylog;
pub mod keys;
pub mod message_type;
#[cfg(test)]
mod tests;

pub use cipher::{LengthCipher, PacketCipher, TagMismatch};
pub use decoder::{Candidate, PacketDecoder, V2Event, V2Finding, V2Message};
pub use encoder::{ContentsTooLong, PacketEncoder};
pub use keylog::{KeyLog, KeyLogEntry};
pub use keys::{DirectionKeys, Role, SessionKeys};
pub use message_type::{MessageType, TypeError};

/// Bytes of an ElligatorSwift-encoded public key: the first bytes each side
/// sends.
pub const ELLSWIFT_KEY_LEN: usize = 64;
/// Most garbage bytes a side may send after its key.
pub const MAX_GARBAGE_LEN: usize = 4095;
/// Bytes of a garbage terminator.
pub const TERMINATOR_LEN: usize = 16;
/// Bytes of a packet's encrypted length field.
pub const LENGTH_LEN: usize = 3;
/// Bytes of a packet's header (bit 7: ignore, i.e. decoy).
pub const HEADER_LEN: usize = 1;
/// Bytes of a packet's Poly1305 tag.
pub const TAG_LEN: usize = 16;
/// Bytes of a packet besides its contents.
pub const PACKET_OVERHEAD: usize = LENGTH_LEN + HEADER_LEN + TAG_LEN;
/// The header bit that marks a decoy packet, to be ignored.
pub const IGNORE_BIT: u8 = 0x80;
/// Both ciphers of a direction derive a new key every this many packets.
pub const REKEY_INTERVAL: u64 = 224;
/// Largest contents accepted: a v1-sized payload plus the long message
/// type (1 + 12 bytes). Core's V2Transport::MAX_CONTENTS_LEN; a longer
/// length makes Core disconnect, and this decoder refuses it before
/// buffering it (a 3-byte length can claim up to 16 MB).
pub const MAX_CONTENTS_LEN: u32 = 1 + 12 + crate::p2p::MAX_PROTOCOL_MESSAGE_LENGTH;
