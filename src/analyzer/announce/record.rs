//! The message stage's side of the table: which messages it is fed from.

use super::{Kind, Observation, Recorder, announced, header_hash};
use crate::analyzer::flow_state::Handler;
use crate::analyzer::message_stage::Origin;
use crate::capture::Timestamp;
use crate::p2p::Hash256;
use crate::p2p::frame::{Checksum, Frame};
use crate::p2p::message::{self, DecodeContext, Message};

impl Recorder {
    /// A hash a peer of Core's message capture sent (or the node, `local`).
    fn record_named(&mut self, kind: Kind, hash: Hash256, name: &str, ts: Timestamp) {
        // Core's capture is read on one thread: always the table.
        if let Recorder::Table(table) = self {
            table.observe_named(kind, hash, name, ts);
        }
    }

    fn record(&mut self, op: u32, observation: Observation) {
        match self {
            Recorder::Table(table) => table.observe(
                observation.kind,
                observation.hash,
                observation.peer,
                observation.ts,
            ),
            Recorder::Round(list) => list.push((op, observation)),
            Recorder::Off => {}
        }
    }
}

/// Whether the receiver would take the frame's content at all (a payload
/// whose checksum fails is dropped by Core unread).
fn accepted(frame: &Frame<'_>) -> bool {
    !matches!(frame.checksum, Checksum::Invalid { .. })
}

impl Handler<'_> {
    /// The hashes a decoded message announces or delivers, into the table.
    /// A message of Core's message capture counts for its sender: the peer
    /// (received) or `local` (sent); a file without direction, not at all.
    pub(in crate::analyzer) fn announce(
        &mut self,
        origin: Origin<'_>,
        frame: &Frame<'_>,
        message: &Message<'_>,
    ) {
        if matches!(self.announce, Recorder::Off) || !accepted(frame) {
            return;
        }
        let meta = match origin {
            Origin::Flow(meta) => meta,
            Origin::Peer(meta) => {
                let (sender, _) = meta.endpoints();
                if sender == crate::analyzer::event::UNKNOWN_ENDPOINT {
                    return;
                }
                let recorder = &mut self.announce;
                announced(message, |kind, hash| {
                    recorder.record_named(kind, hash, sender, meta.ts);
                });
                return;
            }
        };
        let op = self.tally.as_ref().map_or(0, |t| t.op);
        let recorder = &mut self.announce;
        announced(message, |kind, hash| {
            let observation = Observation {
                kind,
                hash,
                peer: meta.src,
                ts: meta.ts,
            };
            recorder.record(op, observation);
        });
    }

    /// The same for a message `--command` leaves undecoded: block and
    /// cmpctblock by their header alone (not hashing every transaction),
    /// inv, headers and tx decoded for it.
    pub(in crate::analyzer) fn announce_undecoded(
        &mut self,
        origin: Origin<'_>,
        frame: &Frame<'_>,
        command: &str,
    ) {
        if matches!(self.announce, Recorder::Off)
            || !accepted(frame)
            || !super::ANNOUNCING_COMMANDS.contains(&command)
        {
            return;
        }
        if command == "block" || command == "cmpctblock" {
            if let Some(hash) = header_hash(frame.payload) {
                match origin {
                    Origin::Flow(meta) => self.record_one(Kind::Block, hash, meta),
                    Origin::Peer(meta) => {
                        let (sender, _) = meta.endpoints();
                        if sender != crate::analyzer::event::UNKNOWN_ENDPOINT {
                            self.announce
                                .record_named(Kind::Block, hash, sender, meta.ts);
                        }
                    }
                }
            }
            return;
        }
        let ctx = DecodeContext {
            peer_version: None,
            full_detail: false,
            payload_hash: frame.payload_hash,
        };
        let decoded = message::decode(&frame.command, frame.payload, &ctx);
        if let Ok(m) = &decoded.message {
            self.announce(origin, frame, m);
        }
    }

    fn record_one(&mut self, kind: Kind, hash: Hash256, meta: &crate::analyzer::Meta) {
        let op = self.tally.as_ref().map_or(0, |t| t.op);
        let observation = Observation {
            kind,
            hash,
            peer: meta.src,
            ts: meta.ts,
        };
        self.announce.record(op, observation);
    }
}
