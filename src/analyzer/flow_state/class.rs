//! The handler's side of classification (rules in `analyzer::classify`):
//! when a flow is decided and how that is announced.

use super::{FlowMeta, FlowState, Handler, dir_index};
use crate::analyzer::classify::{self, Class, FirstBytes, V1_PREFIX_LEN};
use crate::analyzer::event::{FlowEvent, Transport};
use crate::analyzer::{Event, Finding};
use crate::flow::{Direction, FlowInfo};

impl Handler<'_> {
    /// Fixes the flow's class and announces it, stamped with the flow's
    /// first packet, with the findings held back (for a flow that is not
    /// v1, only its gaps: v1 framing findings say nothing about it). The
    /// caller frees the decoders of a flow classified `Ignored` or `V2`.
    pub(super) fn classify(&mut self, info: &FlowInfo, meta: &mut FlowMeta, class: Class) {
        meta.class = class;
        let transport = match class {
            Class::V1 => Transport::V1,
            Class::V2 => Transport::V2,
            Class::Unknown => Transport::Unknown,
            Class::Ignored => {
                meta.pending = Vec::new();
                return;
            }
            Class::Undecided => return,
        };
        self.stats.count_flow_start(transport);
        let record = self.record(info, meta, None, FlowEvent::Start, info.first_ts);
        self.emit(Event::Flow(&record));
        for (dir, ts, finding) in std::mem::take(&mut meta.pending) {
            if class == Class::V1 || matches!(finding, Finding::Gap { .. }) {
                self.finding(info, dir, ts, finding);
            }
        }
        if class == Class::V1 && info.syn_seen {
            let fallback = self
                .v2
                .fallback
                .v1_started(info.client, info.server, self.now);
            if let Some((attempt, after_ms)) = fallback {
                let finding = Finding::V1Fallback {
                    v2_flow: attempt.flow,
                    v2_client_bytes: attempt.client_bytes,
                    after_ms,
                    certainty: "estimate",
                };
                self.finding(info, Direction::ClientToServer, self.now, finding);
            }
        }
    }

    /// Start captured: decide from this direction's first bytes.
    pub(super) fn check_first_bytes(
        &mut self,
        info: &FlowInfo,
        state: &mut FlowState,
        dir: Direction,
        bytes: &[u8],
    ) {
        let d = &mut state.dirs[dir_index(dir)];
        if d.first.is_some_and(|f| f != FirstBytes::NeedMore) {
            return;
        }
        let take = (V1_PREFIX_LEN - d.prefix_len).min(bytes.len());
        if let (Some(dst), Some(src)) = (
            d.prefix.get_mut(d.prefix_len..d.prefix_len + take),
            bytes.get(..take),
        ) {
            dst.copy_from_slice(src);
            d.prefix_len += take;
        }
        let verdict = classify::first_bytes(d.prefix.get(..d.prefix_len).unwrap_or(&[]));
        d.first = Some(verdict);
        if let (FirstBytes::V1, Some(magic)) = (verdict, d.prefix.first_chunk::<4>()) {
            state.meta.network = Some(crate::p2p::Network::from_magic(*magic).name());
        }
        let class = match verdict {
            FirstBytes::V1 => Class::V1,
            FirstBytes::NotV1 if state.meta.on_bitcoin_port => Class::V2,
            FirstBytes::NotV1 => Class::Ignored,
            FirstBytes::NeedMore => return,
        };
        self.classify(info, &mut state.meta, class);
    }

    /// A flow joined mid-stream and still undecided after more bytes: v2
    /// once enough bytes passed on a Bitcoin port without a v1 header
    /// anywhere (a header waiting for its payload counts), not Bitcoin on
    /// another port after [`classify::MAX_SCAN_BYTES`].
    pub(super) fn classify_mid_stream(&mut self, info: &FlowInfo, state: &mut FlowState) {
        let meta = &mut state.meta;
        let header_waiting = state
            .dirs
            .iter()
            .any(|d| classify::cut_header_is_v1(d.decoder.unconsumed()));
        if meta.on_bitcoin_port && meta.scanned >= classify::MIDSTREAM_V2_WINDOW && !header_waiting
        {
            self.classify(info, meta, Class::V2);
            self.start_v2(info, state, None);
        } else if !meta.on_bitcoin_port && meta.scanned >= classify::MAX_SCAN_BYTES {
            self.classify(info, meta, Class::Ignored);
            state.dirs = Default::default();
        }
    }

    /// The class of a flow still undecided at its end, on the evidence
    /// (README, "Detection"): a v1 header left unframed by the end of the
    /// capture (the first message cut short) makes it v1; otherwise a flow
    /// on a Bitcoin port that carried bytes is `unknown` (too few to tell),
    /// anything else is not Bitcoin.
    pub(super) fn class_at_end(&self, info: &FlowInfo, state: &mut FlowState) -> Class {
        let cut_v1 = state.dirs.iter().find_map(|d| {
            let prefix = d.prefix.get(..d.prefix_len).unwrap_or(&[]);
            let tail = d.decoder.unconsumed();
            if classify::cut_header_is_v1(tail) {
                Some(tail)
            } else if info.syn_seen && classify::cut_start_is_v1(prefix) {
                Some(prefix)
            } else {
                None
            }
        });
        let carried = info.to_server.payload_bytes + info.to_client.payload_bytes > 0;
        if let Some(header) = cut_v1 {
            let network = header
                .first_chunk::<4>()
                .map(|m| crate::p2p::Network::from_magic(*m));
            state.meta.network = network.map(|n| n.name());
            Class::V1
        } else if state.meta.on_bitcoin_port && carried {
            Class::Unknown
        } else {
            Class::Ignored
        }
    }
}
