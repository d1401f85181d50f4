//! The analyzer's entry for messages that arrive already framed: records
//! of Bitcoin Core's message capture. They join at the message stage (the
//! same counting, decoding, filtering and findings as v1 frames), not as
//! packets: there is no TCP, no magic and no checksum to check.
//!
//! Each peer is registered once ([`Analyzer::add_peer`]) and takes a flow
//! number from the same sequence as TCP flows. A record becomes a [`Frame`]
//! with `checksum: Absent` (the format has none) and the peer's network
//! (`Unknown` when not known; the sinks then print `unknown` without a
//! magic).

use super::message_stage::{Origin, Session};
use super::{Analyzer, Progress};
use crate::analyzer::event::PeerMeta;
use crate::analyzer::stats::{PeerCounts, PeerStats};
use crate::analyzer::{Finding, Stats};
use crate::capture::Timestamp;
use crate::capture::core_capture::MessageDirection;
use crate::capture::core_capture::record::command_well_formed;
use crate::p2p::Network;
use crate::p2p::frame::{Checksum, Command, Frame};
use crate::p2p::message::KNOWN_COMMANDS;
use std::io;

/// A peer as the source names it.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    /// `ip:port`, `[ipv6]:port`, `name.onion:port`, or a folder name.
    pub label: String,
    /// None when not known (the output then says `unknown`).
    pub network: Option<Network>,
    /// The source's name in the output (`core-capture`).
    pub source: &'static str,
}

/// A registered peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerId(usize);

/// One message of an already-framed source.
#[derive(Debug, Clone, Copy)]
pub struct FramedMessage<'a> {
    pub ts: Timestamp,
    pub peer: PeerId,
    pub direction: MessageDirection,
    pub command: Command,
    pub payload: &'a [u8],
    /// Byte offset of the record in its file (in findings' `offset`).
    pub offset: u64,
}

struct PeerState {
    info: PeerInfo,
    flow: u64,
    session: Session,
    messages: PeerCounts,
    bytes: PeerCounts,
}

/// The peers registered so far.
#[derive(Default)]
pub(super) struct Peers {
    list: Vec<PeerState>,
}

impl Peers {
    /// Lists every peer in the statistics (end of input).
    pub(super) fn record_stats(&self, stats: &mut Stats) {
        for p in &self.list {
            stats.record_peer(PeerStats {
                flow: p.flow,
                peer: p.info.label.clone(),
                source: p.info.source,
                network: p.info.network.map_or("unknown", Network::name),
                messages: p.messages,
                bytes: p.bytes,
            });
        }
    }
}

/// Index in a [`Session`]: what the peer sent, what the node sent. A file
/// without direction counts as the peer's (one sender per file).
fn side(direction: MessageDirection) -> usize {
    match direction {
        MessageDirection::Recv | MessageDirection::Unknown => 0,
        MessageDirection::Sent => 1,
    }
}

fn count(counts: &mut PeerCounts, direction: MessageDirection, n: u64) {
    let slot = match direction {
        MessageDirection::Recv => &mut counts.recv,
        MessageDirection::Sent => &mut counts.sent,
        MessageDirection::Unknown => &mut counts.unknown,
    };
    *slot = slot.saturating_add(n);
}

/// A command that is not printable ASCII with NUL padding, or not one
/// btcsniff knows: a finding (the message is still decoded and shown, as
/// `Unknown` with its raw payload).
fn command_finding(command: &Command, offset: u64) -> Option<Finding> {
    let printable = command_well_formed(command);
    let known = printable
        && command
            .as_str()
            .is_some_and(|c| KNOWN_COMMANDS.contains(&c));
    (!known).then(|| Finding::UnknownCommand {
        offset,
        command: String::from_utf8_lossy(command.as_bytes()).into_owned(),
        command_hex: crate::p2p::hash::to_hex(command.0),
        printable,
    })
}

impl Analyzer<'_> {
    /// Registers a peer; its flow number is taken now.
    pub fn add_peer(&mut self, info: PeerInfo) -> PeerId {
        let flow = self.table.take_id();
        self.peers.list.push(PeerState {
            info,
            flow,
            session: Session::default(),
            messages: PeerCounts::default(),
            bytes: PeerCounts::default(),
        });
        PeerId(self.peers.list.len().saturating_sub(1))
    }

    /// Feeds one message. Findings about its record (its command) come
    /// before it, findings about its payload after it. An `Err` is an
    /// output error.
    pub fn framed_message(&mut self, m: &FramedMessage<'_>) -> io::Result<Progress> {
        let Some(peer) = self.peers.list.get_mut(m.peer.0) else {
            debug_assert!(false, "unregistered peer {:?}", m.peer);
            return Ok(Progress::Continue);
        };
        let PeerState {
            info,
            flow,
            session,
            messages,
            bytes,
        } = peer;
        let length = u32::try_from(m.payload.len()).unwrap_or(u32::MAX);
        count(messages, m.direction, 1);
        count(bytes, m.direction, u64::from(length));
        let meta = PeerMeta {
            ts: m.ts,
            flow: *flow,
            peer: &info.label,
            direction: m.direction,
            source: info.source,
            network: info.network,
        };
        if let Some(finding) = command_finding(&m.command, m.offset) {
            self.handler.report(Origin::Peer(&meta), finding);
        }
        let frame = Frame {
            network: info.network.unwrap_or(Network::Unknown([0; 4])),
            command: m.command,
            length,
            checksum: Checksum::Absent,
            payload: m.payload,
            stream_offset: m.offset,
            payload_hash: None,
            v2: None,
        };
        self.handler
            .message_stage(session, side(m.direction), Origin::Peer(&meta), &frame);
        self.handler.take_error()?;
        Ok(if self.handler.done() {
            Progress::Done
        } else {
            Progress::Continue
        })
    }

    /// A finding about a peer's file (truncated, a lying length).
    pub fn framed_finding(
        &mut self,
        peer: PeerId,
        direction: MessageDirection,
        ts: Timestamp,
        finding: Finding,
    ) -> io::Result<()> {
        let Some(state) = self.peers.list.get(peer.0) else {
            debug_assert!(false, "unregistered peer {peer:?}");
            return Ok(());
        };
        let meta = PeerMeta {
            ts,
            flow: state.flow,
            peer: &state.info.label,
            direction,
            source: state.info.source,
            network: state.info.network,
        };
        self.handler.report(Origin::Peer(&meta), finding);
        self.handler.take_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_findings() {
        assert_eq!(command_finding(&Command::new("inv"), 0), None);
        assert_eq!(command_finding(&Command::new("sendtxrcncl"), 0), None);
        let Some(Finding::UnknownCommand {
            command, printable, ..
        }) = command_finding(&Command::new("getpkgtxns"), 24)
        else {
            panic!("unknown command not reported")
        };
        assert_eq!((command.as_str(), printable), ("getpkgtxns", true));
        let Some(Finding::UnknownCommand {
            offset,
            command_hex,
            printable,
            ..
        }) = command_finding(&Command(*b"in\x07v\0\0\0\0\0\0\0\0"), 7)
        else {
            panic!("unprintable command not reported")
        };
        assert_eq!(offset, 7);
        assert_eq!(command_hex, "696e07760000000000000000");
        assert!(!printable);
    }
}
