//! The handler's side of v2 flows: starting a [`V2Flow`] where a flow is
//! classified v2, and turning its decoders' events into the same message
//! records as v1 (with the v2 message type, no checksum) and findings.

use super::{FlowMeta, FlowState, Handler, dir_index};
use crate::analyzer::event::FlowEvent;
use crate::analyzer::v2::V2Flow;
use crate::analyzer::v2::fallback::Attempt;
use crate::analyzer::{Event, Finding};
use crate::flow::{Direction, EndReason, FlowInfo};
use crate::p2p::Network;
use crate::p2p::frame::{Checksum, Frame};

const DIRECTIONS: [Direction; 2] = [Direction::ClientToServer, Direction::ServerToClient];

impl Handler<'_> {
    /// The flow was just classified v2. `replay`: the direction whose data
    /// decided it and how many of its bytes came before (the first bytes
    /// of both directions are still in the classification prefixes).
    pub(super) fn start_v2(
        &mut self,
        info: &FlowInfo,
        state: &mut FlowState,
        replay: Option<(Direction, usize)>,
    ) {
        let (mut flow, finding) = V2Flow::new(info.syn_seen, &self.v2);
        if let Some(f) = finding {
            self.finding(info, Direction::ClientToServer, self.now, f);
        }
        if let Some((deciding, seen_before)) = replay {
            for dir in DIRECTIONS {
                let d = &state.dirs[dir_index(dir)];
                let len = if dir == deciding {
                    seen_before
                } else {
                    d.prefix_len
                };
                let before = d.prefix.get(..len).unwrap_or(&[]);
                if let Some(f) = flow.data(dir_index(dir), before, &mut self.v2) {
                    self.finding(info, dir, self.now, f);
                }
            }
        }
        // Nothing more is framed as v1: free what the decoders buffered.
        state.dirs = Default::default();
        state.v2 = Some(Box::new(flow));
    }

    pub(super) fn v2_data(
        &mut self,
        info: &FlowInfo,
        state: &mut FlowState,
        dir: Direction,
        bytes: &[u8],
    ) {
        let FlowState { meta, v2, .. } = state;
        let Some(flow) = v2.as_deref_mut() else {
            return;
        };
        if let Some(f) = flow.data(dir_index(dir), bytes, &mut self.v2) {
            self.finding(info, dir, self.now, f);
        }
        self.drain_v2(info, meta, flow);
    }

    /// Hands out every event the flow's decoders have ready.
    pub(super) fn drain_v2(&mut self, info: &FlowInfo, meta: &mut FlowMeta, flow: &mut V2Flow) {
        for dir in DIRECTIONS {
            let i = dir_index(dir);
            while let Some(event) = flow.next_event(i) {
                match event {
                    crate::p2p::v2::V2Event::Terminator { magic, .. } => {
                        if let Some((network, session_id)) = flow.terminator(magic) {
                            self.v2_session_found(info, meta, flow, network, session_id);
                        }
                    }
                    crate::p2p::v2::V2Event::Message(m) => {
                        let frame = Frame {
                            network: Network::from_magic(m.magic),
                            command: m.command,
                            length: u32::try_from(m.payload.len()).unwrap_or(u32::MAX),
                            checksum: Checksum::Absent,
                            payload: m.payload,
                            stream_offset: m.offset,
                            payload_hash: None,
                            v2: Some(m.message_type),
                        };
                        self.message(info, meta, dir, self.now, &frame);
                    }
                    crate::p2p::v2::V2Event::Finding(f) => {
                        self.finding(info, dir, self.now, Finding::from(&f));
                    }
                    crate::p2p::v2::V2Event::Decoy { .. }
                    | crate::p2p::v2::V2Event::Version { .. } => {}
                }
            }
        }
    }

    /// The first garbage terminator: the session's network and id are
    /// known; announced as a flow record (`decrypting`).
    fn v2_session_found(
        &mut self,
        info: &FlowInfo,
        meta: &mut FlowMeta,
        flow: &V2Flow,
        network: Network,
        _session_id: String,
    ) {
        meta.network = Some(network.name());
        self.stats.flows_v2_decrypted += 1;
        let record = self.record(info, meta, Some(flow), FlowEvent::Decrypting, self.now);
        self.emit(Event::Flow(&record));
    }

    /// A v2 flow ended: remembered when it looks like a v2 attempt that a
    /// v1-only peer closed (nothing answered), for the v1 fallback finding.
    pub(super) fn note_v2_attempt(&mut self, info: &FlowInfo, reason: EndReason) {
        let answered = info.to_client.payload_bytes > 0;
        let closed = matches!(reason, EndReason::Fin | EndReason::Rst);
        if info.syn_seen && closed && !answered && info.to_server.payload_bytes > 0 {
            let attempt = Attempt {
                flow: info.id,
                ended: self.now,
                client_bytes: info.to_server.payload_bytes,
            };
            self.v2
                .fallback
                .attempt_failed(info.client, info.server, attempt);
        }
    }
}
