//! Bitcoin Core's message capture (`bitcoind -capturemessages`): a source of
//! messages that are already framed, read from files rather than packets.
//!
//! Core writes every message it receives and sends, after the transport (so
//! BIP324 v2 sessions appear in plaintext), to
//! `<datadir>/[<network>/]message_capture/<peer>/msgs_recv.dat` and
//! `msgs_sent.dat`; each record is a time, a command, a length and the
//! payload ([`record`]), without magic or checksum.
//!
//! - [`record`]: the record layout, pure functions over bytes;
//! - [`reader`]: records from any byte stream, bounded memory;
//! - [`peer`]: a peer's folder name back to its address;
//! - [`discover`]: command-line paths to files, peer, direction, network;
//! - [`merge`]: the records of every file in one time order.
//!
//! These records join the analyzer at the message stage (see
//! `analyzer::framed`), not as packets.
// Bytes from files reach this module: no panic by construction (no
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

pub mod discover;
pub mod merge;
pub mod peer;
pub mod reader;
pub mod record;
#[cfg(test)]
mod tests;

pub use discover::{MessageDirection, StreamSpec, discover, is_core_capture};
pub use merge::{Item, Merge};
pub use peer::PeerName;
pub use reader::{RecordAt, RecordError, RecordReader};
pub use record::{MAX_RECORD_PAYLOAD, RECORD_HEADER_LEN, RecordHeader};

/// The name of this source in the output (`"source":"core-capture"`).
pub const SOURCE_NAME: &str = "core-capture";
