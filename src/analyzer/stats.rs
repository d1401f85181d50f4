//! The `--stats` summary: per command, per flow, anomalies.

use super::event::{FlowRecord, Transport};
use std::collections::BTreeMap;

/// Most flows listed one by one in the summary; beyond that they are only
/// counted (a capture of a million flows must not grow the summary without
/// bound).
pub const MAX_LISTED_FLOWS: usize = 10_000;

/// Most distinct command names counted one by one; messages of further
/// names are counted under [`OTHER_COMMANDS`] (a peer can send a different
/// made-up command in every message: without a cap the map grows with the
/// input).
pub const MAX_LISTED_COMMANDS: usize = 256;
/// The key for commands beyond [`MAX_LISTED_COMMANDS`]; contains a space,
/// which no framed command can.
pub const OTHER_COMMANDS: &str = "(other commands)";

#[derive(Debug, Clone, Copy, Default)]
pub struct CommandStats {
    pub count: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub struct FlowStats {
    pub flow: u64,
    pub client: String,
    pub server: String,
    pub transport: Transport,
    pub messages: u64,
    pub bytes: u64,
    /// The flow's peer record (JSON: `flow_peers`).
    pub peer: Option<Box<super::peer::PeerRecord>>,
}

/// Per direction of a peer of Core's message capture.
#[derive(Debug, Clone, Copy, Default)]
pub struct PeerCounts {
    pub recv: u64,
    pub sent: u64,
    /// From files whose name gives no direction.
    pub unknown: u64,
}

/// A peer of an already-framed source (Core's message capture).
#[derive(Debug, Clone)]
pub struct PeerStats {
    pub flow: u64,
    pub peer: String,
    pub source: &'static str,
    pub network: &'static str,
    pub messages: PeerCounts,
    pub bytes: PeerCounts,
}

/// libpcap's counters for a live capture.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaptureCounters {
    pub received: u64,
    pub dropped: u64,
    pub if_dropped: u64,
}

/// One worker's share of the work (live with `--threads` above 1).
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkerLoad {
    pub worker: usize,
    /// Flows it analysed.
    pub flows: u64,
    /// Flow-table events it handled (stream data, gaps, flow starts and
    /// ends).
    pub events: u64,
    /// Messages it decoded.
    pub messages: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub packets: u64,
    /// Packets that were not TCP over IP (or could not be parsed as such).
    pub packets_skipped: u64,
    /// Of `packets_skipped`: packets whose headers were cut by the snap
    /// length (captured length below the length on the wire).
    pub packets_cut_by_snaplen: u64,
    /// Of `packets_skipped`: packets per link type btcsniff cannot parse.
    pub unsupported_link_types: BTreeMap<u32, u64>,
    pub messages: u64,
    pub message_bytes: u64,
    pub checksum_invalid: u64,
    pub checksum_absent: u64,
    pub decode_errors: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
    pub flows_v1: u64,
    pub flows_v2: u64,
    /// v2 flows whose keys were in the key log and whose network was found
    /// (written only when not 0, like `messages_v2`).
    pub flows_v2_decrypted: u64,
    /// Messages decrypted from v2 flows (counted in `messages` too).
    pub messages_v2: u64,
    pub flows_unknown: u64,
    pub by_command: BTreeMap<String, CommandStats>,
    pub findings: BTreeMap<&'static str, u64>,
    pub flows: Vec<FlowStats>,
    pub flows_not_listed: u64,
    /// Peers of Core's message capture (listed up to [`MAX_LISTED_FLOWS`]
    /// too); absent when none was read.
    pub peers: Vec<PeerStats>,
    pub peers_not_listed: u64,
    pub capture: Option<CaptureCounters>,
    /// Live with worker threads: each worker's share (absent otherwise;
    /// `read` writes the summary of one thread whatever `--threads`).
    pub workers: Vec<WorkerLoad>,
    /// Who was first (analyzer/announce).
    pub announce: super::announce::AnnounceSummary,
}

impl Stats {
    pub fn count_message(&mut self, command: &str, bytes: u64) {
        self.messages += 1;
        self.message_bytes += bytes;
        // Look up first: a String is allocated once per distinct command.
        let command = if self.by_command.len() >= MAX_LISTED_COMMANDS
            && !self.by_command.contains_key(command)
        {
            OTHER_COMMANDS
        } else {
            command
        };
        if let Some(c) = self.by_command.get_mut(command) {
            c.count += 1;
            c.bytes += bytes;
        } else {
            self.by_command
                .insert(command.to_string(), CommandStats { count: 1, bytes });
        }
    }

    pub fn count_finding(&mut self, kind: &'static str) {
        *self.findings.entry(kind).or_default() += 1;
    }

    pub fn count_flow_start(&mut self, transport: Transport) {
        match transport {
            Transport::V1 => self.flows_v1 += 1,
            Transport::V2 => self.flows_v2 += 1,
            Transport::Unknown => self.flows_unknown += 1,
        }
    }

    pub fn record_flow_end(&mut self, flow: &FlowRecord) {
        if self.flows.len() >= MAX_LISTED_FLOWS {
            self.flows_not_listed += 1;
            return;
        }
        self.flows.push(FlowStats {
            flow: flow.flow,
            client: flow.client.to_string(),
            server: flow.server.to_string(),
            transport: flow.transport,
            messages: flow.messages.c2s + flow.messages.s2c,
            bytes: flow.bytes.c2s + flow.bytes.s2c,
            peer: flow.peer.clone(),
        });
    }

    pub fn record_peer(&mut self, peer: PeerStats) {
        if self.peers.len() >= MAX_LISTED_FLOWS {
            self.peers_not_listed += 1;
        } else {
            self.peers.push(peer);
        }
    }
}
