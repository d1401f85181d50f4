//! The events every source (file, live capture, probe) emits, in the order
//! they happened.

use super::stats::Stats;
use crate::capture::Timestamp;
use crate::capture::core_capture::MessageDirection;
use crate::p2p::Network;
use crate::p2p::frame::{Frame, FramingFinding};
use crate::p2p::message::Message;
use crate::p2p::v2::V2Finding;
use crate::p2p::{Anomaly, DecodeError};
use serde::Serialize;
use std::net::SocketAddr;

/// Where and when: attached to messages and findings.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub ts: Timestamp,
    pub flow: u64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

/// How the capturing node is shown as an endpoint of a message from its
/// own message capture (`src` of what it sent, `dst` of what it received).
pub const LOCAL_ENDPOINT: &str = "local";
/// `src` and `dst` of a message whose file does not say which way it went.
pub const UNKNOWN_ENDPOINT: &str = "unknown";

/// Where a message of an already-framed source (Bitcoin Core's message
/// capture) comes from: a peer of the capturing node, and which way the
/// message went.
#[derive(Debug, Clone, Copy)]
pub struct PeerMeta<'e> {
    pub ts: Timestamp,
    /// The peer's number, from the same sequence as flow numbers.
    pub flow: u64,
    /// The peer as its folder names it (`ip:port`, `[ipv6]:port`,
    /// `name.onion:port`, or the folder name).
    pub peer: &'e str,
    pub direction: MessageDirection,
    /// The source's name (`core-capture`).
    pub source: &'static str,
    /// None when not known: the records carry no magic.
    pub network: Option<Network>,
}

impl PeerMeta<'_> {
    /// (src, dst): the peer and [`LOCAL_ENDPOINT`] in the message's
    /// direction.
    pub fn endpoints(&self) -> (&str, &str) {
        match self.direction {
            MessageDirection::Recv => (self.peer, LOCAL_ENDPOINT),
            MessageDirection::Sent => (LOCAL_ENDPOINT, self.peer),
            MessageDirection::Unknown => (UNKNOWN_ENDPOINT, UNKNOWN_ENDPOINT),
        }
    }
}

/// An anomaly in the traffic, with the values involved. Anomalies are data:
/// they never stop processing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// Bytes of the TCP stream, from stream offset `offset`, that were
    /// never captured.
    Gap { offset: u64, bytes: u64 },
    /// Bytes skipped while looking for the next message header.
    SkippedBytes { offset: u64, bytes: u64 },
    /// A header claiming more than Core's MAX_PROTOCOL_MESSAGE_LENGTH.
    OversizeLength {
        offset: u64,
        command: String,
        length: u32,
        limit: u32,
    },
    /// The stream ended inside a message.
    Truncated { offset: u64, have: u64, needed: u64 },
    /// An unknown magic that framed a message with a valid checksum.
    UnknownMagic { offset: u64, magic: String },
    /// A payload that failed to decode (its raw bytes are in the message).
    DecodeError { command: String, error: String },
    /// A CompactSize not in shortest form.
    NonCanonicalCompactSize {
        command: String,
        offset: usize,
        value: u64,
    },
    /// A count above Core's limit for that field.
    CountOverLimit {
        command: String,
        field: &'static str,
        count: u64,
        limit: u64,
    },
    /// Bytes after a fully decoded payload.
    TrailingBytes { command: String, bytes: usize },
    /// A message out of its place in the handshake (e.g. wtxidrelay after
    /// verack, which makes Core disconnect).
    HandshakeOrder { command: String, detail: String },
    /// v2 with a key log: no line for this flow's initiator key (the flow
    /// stays encrypted).
    V2NoKey { initiator_key: String },
    /// v2 with a key log: the handshake is not in the capture (joined
    /// mid-stream, or bytes of the initiator's key missing).
    V2NoHandshake { detail: &'static str },
    /// No network's garbage terminator within 4095 + 16 bytes: a wrong
    /// secret, or a magic not tried (`--magic`).
    V2NoTerminator {
        offset: u64,
        searched: u64,
        networks: usize,
    },
    /// The direction ended before its garbage terminator.
    V2HandshakeIncomplete { offset: u64, garbage: u64 },
    /// More bytes arrived than are held while waiting for the key log.
    V2KeysTooLate { offset: u64, buffered: u64 },
    /// A decrypted length above Core's limit: decryption of the direction
    /// stops there.
    V2OversizeLength {
        packet: u64,
        offset: u64,
        length: u32,
        limit: u32,
    },
    /// A packet whose tag does not verify (wrong key or corrupted bytes):
    /// decryption of the direction stops there.
    V2BadTag {
        packet: u64,
        offset: u64,
        length: u32,
    },
    /// A genuine packet without a valid message type (dropped, as Core does).
    V2BadMessageType {
        packet: u64,
        offset: u64,
        length: u32,
        error: String,
    },
    /// Bytes never captured inside a v2 direction: decryption stops at
    /// `offset` (the first byte not decrypted).
    V2Gap {
        packet: u64,
        offset: u64,
        gap_at: u64,
        bytes: u64,
    },
    /// The v2 direction ended inside a packet.
    V2Truncated {
        packet: u64,
        offset: u64,
        have: u64,
        needed: u64,
    },
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
}

impl Finding {
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::Gap { .. } => "gap",
            Finding::SkippedBytes { .. } => "skipped_bytes",
            Finding::OversizeLength { .. } => "oversize_length",
            Finding::Truncated { .. } => "truncated",
            Finding::UnknownMagic { .. } => "unknown_magic",
            Finding::DecodeError { .. } => "decode_error",
            Finding::NonCanonicalCompactSize { .. } => "non_canonical_compact_size",
            Finding::CountOverLimit { .. } => "count_over_limit",
            Finding::TrailingBytes { .. } => "trailing_bytes",
            Finding::HandshakeOrder { .. } => "handshake_order",
            Finding::V2NoKey { .. } => "v2_no_key",
            Finding::V2NoHandshake { .. } => "v2_no_handshake",
            Finding::V2NoTerminator { .. } => "v2_no_terminator",
            Finding::V2HandshakeIncomplete { .. } => "v2_handshake_incomplete",
            Finding::V2KeysTooLate { .. } => "v2_keys_too_late",
            Finding::V2OversizeLength { .. } => "v2_oversize_length",
            Finding::V2BadTag { .. } => "v2_bad_tag",
            Finding::V2BadMessageType { .. } => "v2_bad_message_type",
            Finding::V2Gap { .. } => "v2_gap",
            Finding::V2Truncated { .. } => "v2_truncated",
            Finding::V1Fallback { .. } => "v1_fallback",
            Finding::UnknownCommand { .. } => "unknown_command",
        }
    }

    /// The finding for a payload anomaly of message `command`.
    pub fn from_anomaly(command: &str, anomaly: &Anomaly) -> Finding {
        let command = command.to_string();
        match *anomaly {
            Anomaly::NonCanonicalCompactSize { offset, value } => {
                Finding::NonCanonicalCompactSize {
                    command,
                    offset,
                    value,
                }
            }
            Anomaly::CountOverLimit {
                field,
                count,
                limit,
            } => Finding::CountOverLimit {
                command,
                field,
                count,
                limit,
            },
            Anomaly::TrailingBytes { bytes } => Finding::TrailingBytes { command, bytes },
        }
    }
}

impl From<&FramingFinding> for Finding {
    fn from(f: &FramingFinding) -> Finding {
        match *f {
            FramingFinding::SkippedBytes { offset, bytes } => {
                Finding::SkippedBytes { offset, bytes }
            }
            FramingFinding::OversizeLength {
                offset,
                command,
                length,
                limit,
            } => Finding::OversizeLength {
                offset,
                command: String::from_utf8_lossy(command.as_bytes()).into_owned(),
                length,
                limit,
            },
            FramingFinding::Truncated {
                offset,
                have,
                needed,
            } => Finding::Truncated {
                offset,
                have,
                needed,
            },
            FramingFinding::UnknownMagicAdopted { offset, magic } => Finding::UnknownMagic {
                offset,
                magic: hex::encode(magic),
            },
        }
    }
}

impl From<&V2Finding> for Finding {
    fn from(f: &V2Finding) -> Finding {
        match *f {
            V2Finding::NoTerminator {
                offset,
                searched,
                candidates,
            } => Finding::V2NoTerminator {
                offset,
                searched,
                networks: candidates,
            },
            V2Finding::HandshakeIncomplete { offset, garbage } => {
                Finding::V2HandshakeIncomplete { offset, garbage }
            }
            V2Finding::KeysTooLate { offset, buffered } => {
                Finding::V2KeysTooLate { offset, buffered }
            }
            V2Finding::OversizeLength {
                packet,
                offset,
                length,
                limit,
            } => Finding::V2OversizeLength {
                packet,
                offset,
                length,
                limit,
            },
            V2Finding::BadTag {
                packet,
                offset,
                length,
            } => Finding::V2BadTag {
                packet,
                offset,
                length,
            },
            V2Finding::BadMessageType {
                packet,
                offset,
                length,
                error,
            } => Finding::V2BadMessageType {
                packet,
                offset,
                length,
                error: error.to_string(),
            },
            V2Finding::Gap {
                packet,
                offset,
                gap_at,
                bytes,
            } => Finding::V2Gap {
                packet,
                offset,
                gap_at,
                bytes,
            },
            V2Finding::Truncated {
                packet,
                offset,
                have,
                needed,
            } => Finding::V2Truncated {
                packet,
                offset,
                have,
                needed,
            },
        }
    }
}

/// BIP324 v2 (encrypted) or classic v1 transport.
/// BIP324 v2 (encrypted) or classic v1 transport, or `unknown`: a flow on
/// a Bitcoin port whose few bytes do not tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    V1,
    V2,
    Unknown,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::V1 => "v1",
            Transport::V2 => "v2",
            Transport::Unknown => "unknown",
        }
    }
}

/// A flow's classification (`start`) or its end (`end`), with counters.
#[derive(Debug, Clone, Serialize)]
pub struct FlowRecord {
    pub event: &'static str,
    #[serde(skip)]
    pub ts: Option<Timestamp>,
    pub flow: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub transport: Transport,
    /// Whether the connection's start (SYN) was captured.
    pub syn_seen: bool,
    /// From the first v1 header's magic; `null` for v2 and unknown flows.
    pub network: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub packets: PerDirection,
    pub bytes: PerDirection,
    pub messages: PerDirection,
    /// v2 flows: what the wire shows and how decryption went.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v2: Option<V2Summary>,
}

/// The BIP324 facts of a v2 flow (README, "BIP324 v2 sessions").
#[derive(Debug, Clone, Serialize)]
pub struct V2Summary {
    /// `captured`: both 64-byte keys seen from the SYN on; `partial`: the
    /// SYN and the initiator's key, not the responder's; `not_captured`:
    /// joined mid-stream, or bytes of a key missing.
    pub handshake: &'static str,
    /// `no_keylog`, `no_handshake`, `no_key`, `waiting` (live: key not
    /// logged yet), `no_terminator`, `decrypted`, or `stopped` (a finding
    /// says where).
    pub decryption: &'static str,
    /// As Core's getpeerinfo shows it, once the keys are known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Garbage bytes before each side's terminator (null: not found).
    pub garbage: PerDirectionOpt,
    /// Decoy packets per direction.
    pub decoys: PerDirection,
    /// Packets decrypted per direction (version packet and decoys
    /// included).
    pub packets_decrypted: PerDirection,
    /// Captured bytes not decrypted after decryption stopped.
    pub undecrypted_bytes: PerDirection,
}

/// Per direction, where a value may be unknown.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PerDirectionOpt {
    pub c2s: Option<u64>,
    pub s2c: Option<u64>,
}

/// Counters for client-to-server and server-to-client.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PerDirection {
    pub c2s: u64,
    pub s2c: u64,
}

/// One event of the stream a sink renders.
pub enum Event<'e, 'a> {
    Message {
        meta: &'e Meta,
        frame: &'e Frame<'a>,
        message: &'e Result<Message<'a>, DecodeError>,
    },
    Finding {
        meta: &'e Meta,
        finding: &'e Finding,
    },
    /// A message of an already-framed source (Core's message capture).
    PeerMessage {
        meta: &'e PeerMeta<'e>,
        frame: &'e Frame<'a>,
        message: &'e Result<Message<'a>, DecodeError>,
    },
    /// A finding about such a message or its file.
    PeerFinding {
        meta: &'e PeerMeta<'e>,
        finding: &'e Finding,
    },
    Flow(&'e FlowRecord),
    /// A line of information from the source itself (probe progress,
    /// results), not from the traffic.
    Note {
        ts: Timestamp,
        source: &'static str,
        text: &'e str,
    },
    Stats(&'e Stats),
}
