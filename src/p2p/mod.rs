//! The Bitcoin P2P codec: networks, v1 framing, BIP324 v2 transport, typed
//! messages, encoders.
//! No I/O happens here: bytes in, frames and messages out.
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

pub mod encode;
pub mod frame;
pub mod hash;
pub mod merkle;
pub mod message;
pub mod network;
pub mod reader;
pub mod v2;

pub use hash::{Hash256, sha256d};
pub use network::Network;
pub use reader::{Anomaly, DecodeError, Reader};

/// Core's MAX_PROTOCOL_MESSAGE_LENGTH (net.h): a longer length field makes
/// Core disconnect the peer.
pub const MAX_PROTOCOL_MESSAGE_LENGTH: u32 = 4_000_000;
