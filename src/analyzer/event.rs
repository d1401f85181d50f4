//! The events every source (file, live capture, probe) emits, in the order
//! they happened: produced here (and by the probe), rendered by
//! [`crate::output`].

pub use super::finding::Finding;
use super::stats::Stats;
use crate::capture::Timestamp;
use crate::capture::core_capture::MessageDirection;
use crate::flow::EndReason;
use crate::p2p::DecodeError;
use crate::p2p::Network;
use crate::p2p::frame::Frame;
use crate::p2p::message::Message;
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

/// BIP324 v2 (encrypted) or classic v1 transport.
/// BIP324 v2 (encrypted) or classic v1 transport, or `unknown`: a flow on
/// a Bitcoin port whose few bytes do not tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Which flow record: the flow's classification, decryption starting
/// late, or its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowEvent {
    Start,
    /// A v2 flow's keys became known (live: logged after the flow began).
    Decrypting,
    /// An open flow as it stands, with its peer record (live: on SIGUSR1).
    Snapshot,
    End,
}

impl FlowEvent {
    /// The name used in output (`start`, `end`).
    pub fn name(self) -> &'static str {
        match self {
            FlowEvent::Start => "start",
            FlowEvent::Decrypting => "decrypting",
            FlowEvent::Snapshot => "snapshot",
            FlowEvent::End => "end",
        }
    }
}

/// A flow's classification (`start`) or its end (`end`), with counters.
#[derive(Debug, Clone)]
pub struct FlowRecord {
    pub event: FlowEvent,
    pub ts: Option<Timestamp>,
    pub flow: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub transport: Transport,
    /// Whether the connection's start (SYN) was captured.
    pub syn_seen: bool,
    /// From the first v1 header's magic; `null` for v2 and unknown flows.
    pub network: Option<&'static str>,
    /// Why the flow ended (`end` records only).
    pub reason: Option<EndReason>,
    pub packets: PerDirection,
    pub bytes: PerDirection,
    pub messages: PerDirection,
    /// v2 flows: what the wire shows and how decryption went.
    pub v2: Option<V2Summary>,
    /// End records: what each side sent and negotiated (README, "Peer
    /// records").
    pub peer: Option<Box<super::peer::PeerRecord>>,
}

/// The BIP324 facts of a v2 flow (README, "BIP324 v2 sessions").
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone, Copy, Default)]
pub struct PerDirectionOpt {
    pub c2s: Option<u64>,
    pub s2c: Option<u64>,
}

/// Counters for client-to-server and server-to-client.
#[derive(Debug, Clone, Copy, Default)]
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
