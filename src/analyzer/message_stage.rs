//! The message stage, shared by every source of messages: v1 frames from
//! reassembled flows and records of Core's message capture (and, later, v2
//! packets). One place decides what is counted, decoded, shown, and which
//! findings a message gets.

use super::flow_state::Handler;
use super::peer::PeerState;
use super::verify;
use crate::analyzer::event::PeerMeta;
use crate::analyzer::{Event, Finding, Meta};
use crate::capture::Timestamp;
use crate::p2p::DecodeError;
use crate::p2p::frame::{Checksum, Frame};
use crate::p2p::message::{self, DecodeContext, Message};

/// Commands that belong between version and verack (PROTOCOL.md): Core
/// disconnects a peer that sends wtxidrelay after its verack.
const PRE_VERACK_COMMANDS: [&str; 3] = ["wtxidrelay", "sendaddrv2", "sendtxrcncl"];

/// What the stage remembers of one connection, per sending side (index 0
/// and 1: a flow's client and server, a peer's received and sent files).
#[derive(Debug, Default)]
pub(super) struct Session {
    /// Protocol version each side announced.
    version: [Option<i32>; 2],
    verack_sent: [bool; 2],
    /// Messages per side.
    pub messages: [u64; 2],
    /// What each side did (peer records, request and ping checks):
    /// allocated at the first message (a flood of SYN-only flows costs
    /// nothing here).
    peer: Option<Box<PeerState>>,
    /// A TCP flow ([`PeerState::for_tcp`]).
    tcp: bool,
    /// Bytes of a side lost before its first message.
    lost_early: [bool; 2],
}

impl Session {
    /// A TCP flow's session (see [`PeerState::for_tcp`]).
    pub fn for_tcp() -> Session {
        Session {
            tcp: true,
            ..Session::default()
        }
    }

    /// The peer state, made at the first message.
    pub fn peer_mut(&mut self) -> &mut PeerState {
        let (tcp, lost) = (self.tcp, self.lost_early);
        self.peer.get_or_insert_with(|| {
            let mut p = if tcp {
                PeerState::for_tcp()
            } else {
                PeerState::default()
            };
            for (side, lost) in lost.into_iter().enumerate() {
                if lost {
                    p.lost(side);
                }
            }
            Box::new(p)
        })
    }

    /// Bytes of `side` were lost.
    pub fn lost(&mut self, side: usize) {
        match self.peer.as_deref_mut() {
            Some(p) => p.lost(side),
            None => {
                if let Some(l) = self.lost_early.get_mut(side) {
                    *l = true;
                }
            }
        }
    }

    /// The peer state, if any message was seen.
    pub fn peer(&self) -> Option<&PeerState> {
        self.peer.as_deref()
    }

    /// Held findings (see [`PeerState::take_deferred`]).
    pub fn take_deferred(&mut self) -> Vec<(usize, Timestamp, Finding)> {
        self.peer
            .as_deref_mut()
            .map(PeerState::take_deferred)
            .unwrap_or_default()
    }
}

/// Commands decoded for the peer records even when `--command` does not
/// show them: small payloads, cheap to decode.
const TRACKED_COMMANDS: [&str; 15] = [
    "version",
    "verack",
    "wtxidrelay",
    "sendaddrv2",
    "sendheaders",
    "sendcmpct",
    "feefilter",
    "sendtxrcncl",
    "inv",
    "getdata",
    "notfound",
    "ping",
    "pong",
    "addr",
    "addrv2",
];

/// Where a message came from, for the events about it.
#[derive(Clone, Copy)]
pub(super) enum Origin<'m> {
    /// A direction of a TCP flow.
    Flow(&'m Meta),
    /// A peer of an already-framed source.
    Peer(&'m PeerMeta<'m>),
}

impl<'m> Origin<'m> {
    fn ts(&self) -> Timestamp {
        match *self {
            Origin::Flow(meta) => meta.ts,
            Origin::Peer(meta) => meta.ts,
        }
    }

    fn message<'e, 'a>(
        &'e self,
        frame: &'e Frame<'a>,
        message: &'e Result<Message<'a>, DecodeError>,
    ) -> Event<'e, 'a> {
        match *self {
            Origin::Flow(meta) => Event::Message {
                meta,
                frame,
                message,
            },
            Origin::Peer(meta) => Event::PeerMessage {
                meta,
                frame,
                message,
            },
        }
    }

    fn finding<'e>(&'e self, finding: &'e Finding) -> Event<'e, 'e> {
        match *self {
            Origin::Flow(meta) => Event::Finding { meta, finding },
            Origin::Peer(meta) => Event::PeerFinding { meta, finding },
        }
    }
}

impl Handler<'_> {
    /// Counts a finding and emits it.
    pub(super) fn report(&mut self, origin: Origin<'_>, finding: Finding) {
        if self.done() {
            // After `--count`: neither shown nor counted (the summary
            // covers what was read up to the last message shown).
            return;
        }
        self.stats.count_finding(finding.kind());
        self.emit(origin.finding(&finding));
    }

    /// One framed message of side `side`: count it, decode it if shown (or
    /// if it is a `version`, whose protocol version shapes later decoding),
    /// emit it with its findings.
    pub(super) fn message_stage(
        &mut self,
        session: &mut Session,
        side: usize,
        origin: Origin<'_>,
        frame: &Frame<'_>,
    ) {
        if self.done() {
            // After `--count` (the rest of the last packet, or what the end
            // of the input flushes): not counted, as not shown.
            return;
        }
        let i = side.min(1);
        let mut first = false;
        if let Some(n) = session.messages.get_mut(i) {
            *n += 1;
            first = *n == 1;
        }
        let command = String::from_utf8_lossy(frame.command.as_bytes());
        match self.tally.as_mut() {
            // A worker of the parallel pipeline: which names are listed
            // depends on the global order, decided by its merge.
            Some(tally) => {
                self.stats.messages += 1;
                self.stats.message_bytes += u64::from(frame.length);
                tally.count(&command, u64::from(frame.length));
            }
            None => self.stats.count_message(&command, u64::from(frame.length)),
        }
        session
            .peer_mut()
            .frame(i, first, frame.command.as_bytes(), u64::from(frame.length));
        match frame.checksum {
            Checksum::Valid => {}
            Checksum::Invalid { .. } => self.stats.checksum_invalid += 1,
            // A v2 message has no checksum by design: not an anomaly.
            Checksum::Absent if frame.v2.is_some() => self.stats.messages_v2 += 1,
            Checksum::Absent => self.stats.checksum_absent += 1,
        }
        let wanted = self.wants(&command);
        if !wanted && !TRACKED_COMMANDS.contains(&&*command) {
            self.announce_undecoded(origin, frame, &command);
            return;
        }
        let order_finding = handshake_order(session, i, &command);
        let peer_version = match session.version {
            [Some(a), Some(b)] => Some(a.min(b)),
            [a, b] => a.or(b),
        };
        let ctx = DecodeContext {
            peer_version,
            full_detail: self.config.verbose,
            payload_hash: frame.payload_hash,
        };
        let decoded = message::decode(&frame.command, frame.payload, &ctx);
        if let (Ok(Message::Version(v)), Some(slot)) =
            (&decoded.message, session.version.get_mut(i))
        {
            *slot = Some(v.version);
        }
        let mut checks = Vec::new();
        if let Ok(m) = &decoded.message {
            self.announce(origin, frame, m);
            session.peer_mut().message(i, origin.ts(), m, &mut checks);
            if wanted {
                verify::check_message(
                    m,
                    frame.payload,
                    frame.payload_hash,
                    &mut self.passed_blocks,
                    &mut checks,
                );
            }
        }
        if !wanted {
            return;
        }
        self.emit(origin.message(frame, &decoded.message));
        for anomaly in &decoded.anomalies {
            self.report(origin, Finding::from_anomaly(&command, anomaly));
        }
        if let Err(e) = &decoded.message {
            self.stats.decode_errors += 1;
            let finding = Finding::DecodeError {
                command: command.to_string(),
                error: e.to_string(),
            };
            self.report(origin, finding);
        }
        if let Some(f) = order_finding {
            self.report(origin, f);
        }
        for f in checks {
            self.report(origin, f);
        }
        self.shown += 1;
    }
}

/// Notes a handshake-only message sent after the sender's own verack.
fn handshake_order(session: &mut Session, i: usize, command: &str) -> Option<Finding> {
    let verack_sent = session.verack_sent.get_mut(i)?;
    if command == "verack" {
        *verack_sent = true;
        return None;
    }
    if *verack_sent && PRE_VERACK_COMMANDS.contains(&command) {
        return Some(Finding::HandshakeOrder {
            command: command.to_string(),
            detail: "sent after the sender's verack; belongs between version and verack"
                .to_string(),
        });
    }
    None
}
