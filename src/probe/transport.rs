//! Which P2P transport the probe speaks: v1 framing, BIP324 v2 packets,
//! or v2 first with Core's fallback to v1.

use std::fmt;

/// `--transport`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TransportChoice {
    /// v1 only (plaintext framing with checksums).
    V1,
    /// BIP324 v2 only: a refusal fails the probe.
    V2,
    /// v2 first; when the peer refuses it (closes right after our key, or
    /// answers in v1), reconnect with v1, as Bitcoin Core does.
    #[default]
    Auto,
}

/// The transport a probe ended up using, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportUsed {
    /// v1 because it was asked for.
    V1,
    /// v2: the key exchange went through.
    V2 { session_id: String },
    /// v1 after the peer refused v2 (`--transport auto`).
    V1Fallback { reason: String },
}

impl TransportUsed {
    pub fn is_v2(&self) -> bool {
        matches!(self, TransportUsed::V2 { .. })
    }
}

impl fmt::Display for TransportUsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportUsed::V1 => write!(f, "v1 (asked for)"),
            TransportUsed::V2 { session_id } => write!(f, "v2 (BIP324, session id {session_id})"),
            TransportUsed::V1Fallback { reason } => {
                write!(f, "v1 (fallback: the peer refused v2: {reason})")
            }
        }
    }
}
