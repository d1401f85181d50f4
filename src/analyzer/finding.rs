//! Findings: anomalies in the traffic, with the values involved. They are
//! data: they never stop processing.
//!
//! The codec's own anomalies (framing, payload, v2 packets) are carried
//! as the codec reports them; the analyzer adds what only it sees (gaps,
//! handshake order, key-log lookups, fallbacks).

use crate::p2p::frame::FramingFinding;
use crate::p2p::v2::V2Finding;
use crate::p2p::{Anomaly, Hash256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Bytes of the TCP stream, from stream offset `offset`, that were
    /// never captured.
    Gap { offset: u64, bytes: u64 },
    /// An anomaly of the v1 byte stream (or of a file of framed records).
    Framing(FramingFinding),
    /// An anomaly inside the payload of message `command`.
    Payload { command: String, anomaly: Anomaly },
    /// A payload that failed to decode (its raw bytes are in the message).
    DecodeError { command: String, error: String },
    /// A message out of its place in the handshake (e.g. wtxidrelay after
    /// verack, which makes Core disconnect).
    HandshakeOrder { command: String, detail: String },
    /// An anomaly of a BIP324 v2 direction.
    V2(V2Finding),
    /// v2 with a key log: no line for this flow's initiator key (the flow
    /// stays encrypted).
    V2NoKey { initiator_key: String },
    /// v2 with a key log: the handshake is not in the capture (joined
    /// mid-stream, or bytes of the initiator's key missing).
    V2NoHandshake { detail: &'static str },
    /// Core's v1 fallback: this v1 connection follows a v2 attempt by the
    /// same client to the same server that was closed without an answer.
    /// Inferred from the sequence and its timing: `certainty` is always
    /// `estimate`.
    V1Fallback {
        v2_flow: u64,
        v2_client_bytes: u64,
        after_ms: u64,
        certainty: &'static str,
    },
    /// A record of Core's message capture whose command is not printable
    /// ASCII followed by NUL padding, or not one btcsniff knows (the 35
    /// Core speaks, reject, alert). `offset`: the record's byte offset in
    /// its file.
    UnknownCommand {
        offset: u64,
        command: String,
        command_hex: String,
        printable: bool,
    },
    /// A block whose transactions do not hash to its header's merkle root.
    MerkleRootMismatch {
        block: Hash256,
        header: Hash256,
        computed: Hash256,
        transactions: usize,
    },
    /// A block whose merkle tree pairs two equal hashes (duplicated
    /// transactions, CVE-2012-2459): its root proves nothing.
    MerkleTreeMutated { block: Hash256, transactions: usize },
    /// A header (of block, headers, cmpctblock, merkleblock) whose hash is
    /// above the target its `bits` give.
    PowAboveTarget {
        command: &'static str,
        block: Hash256,
        bits: u32,
        target: String,
    },
    /// A header whose `bits` are no target at all (`negative`,
    /// `overflow`, `zero`).
    BitsInvalid {
        command: &'static str,
        block: Hash256,
        bits: u32,
        detail: &'static str,
    },
    /// A block whose coinbase witness commitment (BIP141) does not match
    /// its transactions' witnesses; `detail` says how.
    WitnessCommitmentMismatch {
        block: Hash256,
        committed: Option<Hash256>,
        computed: Option<Hash256>,
        detail: &'static str,
    },
    /// A headers message whose entry `index` does not build on the entry
    /// before it.
    HeadersNotChained {
        index: usize,
        block: Hash256,
        prev_block: Hash256,
        expected: Hash256,
    },
    /// A pong whose nonce matches no ping the other side sent (and that
    /// side's stream was captured from its version on).
    UnmatchedPong { nonce: u64 },
    /// A tx or block the receiving side did not ask for with getdata
    /// (and its requests were captured from its version on).
    Unsolicited {
        command: &'static str,
        hash: Hash256,
    },
}

impl Finding {
    /// The finding's name in output (`kind`) and in the summary.
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::Gap { .. } => "gap",
            Finding::Framing(f) => match f {
                FramingFinding::SkippedBytes { .. } => "skipped_bytes",
                FramingFinding::OversizeLength { .. } => "oversize_length",
                FramingFinding::Truncated { .. } => "truncated",
                FramingFinding::UnknownMagicAdopted { .. } => "unknown_magic",
            },
            Finding::Payload { anomaly, .. } => match anomaly {
                Anomaly::NonCanonicalCompactSize { .. } => "non_canonical_compact_size",
                Anomaly::CountOverLimit { .. } => "count_over_limit",
                Anomaly::TrailingBytes { .. } => "trailing_bytes",
            },
            Finding::DecodeError { .. } => "decode_error",
            Finding::HandshakeOrder { .. } => "handshake_order",
            Finding::V2(f) => match f {
                V2Finding::NoTerminator { .. } => "v2_no_terminator",
                V2Finding::HandshakeIncomplete { .. } => "v2_handshake_incomplete",
                V2Finding::KeysTooLate { .. } => "v2_keys_too_late",
                V2Finding::OversizeLength { .. } => "v2_oversize_length",
                V2Finding::BadTag { .. } => "v2_bad_tag",
                V2Finding::BadMessageType { .. } => "v2_bad_message_type",
                V2Finding::Gap { .. } => "v2_gap",
                V2Finding::Truncated { .. } => "v2_truncated",
            },
            Finding::V2NoKey { .. } => "v2_no_key",
            Finding::V2NoHandshake { .. } => "v2_no_handshake",
            Finding::V1Fallback { .. } => "v1_fallback",
            Finding::UnknownCommand { .. } => "unknown_command",
            Finding::MerkleRootMismatch { .. } => "merkle_root_mismatch",
            Finding::MerkleTreeMutated { .. } => "merkle_tree_mutated",
            Finding::PowAboveTarget { .. } => "pow_above_target",
            Finding::BitsInvalid { .. } => "bits_invalid",
            Finding::WitnessCommitmentMismatch { .. } => "witness_commitment_mismatch",
            Finding::HeadersNotChained { .. } => "headers_not_chained",
            Finding::UnmatchedPong { .. } => "unmatched_pong",
            Finding::Unsolicited { .. } => "unsolicited",
        }
    }

    /// The finding for a payload anomaly of message `command`.
    pub fn from_anomaly(command: &str, anomaly: &Anomaly) -> Finding {
        Finding::Payload {
            command: command.to_string(),
            anomaly: anomaly.clone(),
        }
    }

    /// Bytes never captured, in a v1 stream or a v2 direction.
    pub fn gap_bytes(&self) -> Option<u64> {
        match *self {
            Finding::Gap { bytes, .. } | Finding::V2(V2Finding::Gap { bytes, .. }) => Some(bytes),
            _ => None,
        }
    }
}

impl From<&FramingFinding> for Finding {
    fn from(f: &FramingFinding) -> Finding {
        Finding::Framing(f.clone())
    }
}

impl From<&V2Finding> for Finding {
    fn from(f: &V2Finding) -> Finding {
        Finding::V2(*f)
    }
}
