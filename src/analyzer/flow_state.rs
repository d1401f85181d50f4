//! Per-flow state of the analyzer and the handler the flow table calls.

use super::AnalyzerConfig;
use super::classify::{self, Class, FirstBytes, V1_PREFIX_LEN};
use super::message_stage::{Origin, Session};
use crate::capture::Timestamp;
use crate::flow::{Direction, EndReason, FlowHandler, FlowInfo, StreamEvent};
use crate::output::event::{PerDirection, Transport};
use crate::output::{Event, Finding, FlowRecord, Meta, Sink, Stats};
use crate::p2p::frame::{Frame, FrameDecoder, FrameEvent};
use crate::p2p::network::BITCOIN_PORTS;
use std::io;

/// Findings held back while a flow is not yet known to be Bitcoin (so that
/// non-Bitcoin traffic stays silent); beyond this many they are counted.
const MAX_PENDING_FINDINGS: usize = 16;

/// One direction's framing decoder and first bytes.
#[derive(Default)]
struct DirState {
    decoder: FrameDecoder,
    /// The first bytes of this direction, for the v1/v2 decision.
    prefix: [u8; V1_PREFIX_LEN],
    prefix_len: usize,
    first: Option<FirstBytes>,
}

/// Everything about a flow but its decoders (kept apart so that a frame
/// borrowed from a decoder can be handled while this is updated).
struct FlowMeta {
    class: Class,
    on_bitcoin_port: bool,
    /// Bytes seen while undecided (mid-stream joins).
    scanned: u64,
    network: Option<&'static str>,
    pending: Vec<(Direction, Finding)>,
    /// Per direction: versions, verack, message counts.
    session: Session,
}

pub struct FlowState {
    dirs: [DirState; 2],
    meta: FlowMeta,
}

pub struct Handler<'s> {
    pub sink: &'s mut dyn Sink,
    pub stats: Stats,
    pub now: Timestamp,
    pub(super) config: AnalyzerConfig,
    error: Option<io::Error>,
    /// Messages shown (for `--count`).
    pub(super) shown: u64,
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

fn event_meta(info: &FlowInfo, dir: Direction, ts: Timestamp) -> Meta {
    let (src, dst) = match dir {
        Direction::ClientToServer => (info.client, info.server),
        Direction::ServerToClient => (info.server, info.client),
    };
    Meta {
        ts,
        flow: info.id,
        src,
        dst,
    }
}

impl<'s> Handler<'s> {
    pub fn new(config: AnalyzerConfig, sink: &'s mut dyn Sink) -> Self {
        Handler {
            sink,
            stats: Stats::default(),
            now: Timestamp::default(),
            config,
            error: None,
            shown: 0,
        }
    }

    pub fn take_error(&mut self) -> io::Result<()> {
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    pub fn done(&self) -> bool {
        self.config
            .max_messages
            .is_some_and(|max| self.shown >= max)
    }

    pub(super) fn emit(&mut self, event: Event<'_, '_>) {
        if self.error.is_some() || self.done() {
            return;
        }
        if let Err(e) = self.sink.event(&event) {
            self.error = Some(e);
        }
    }

    fn is_bitcoin_port(&self, port: u16) -> bool {
        BITCOIN_PORTS.contains(&port) || self.config.extra_ports.contains(&port)
    }

    pub(super) fn wants(&self, command: &str) -> bool {
        match &self.config.commands {
            None => true,
            Some(list) => list.iter().any(|c| c == command),
        }
    }

    fn finding(&mut self, info: &FlowInfo, dir: Direction, finding: Finding) {
        if self.done() {
            // After `--count`: neither shown nor counted (the summary
            // covers what was read up to the last message shown).
            return;
        }
        if let Finding::Gap { bytes } = finding {
            self.stats.gaps += 1;
            self.stats.gap_bytes += bytes;
        }
        let meta = event_meta(info, dir, self.now);
        self.report(Origin::Flow(&meta), finding);
    }

    fn record(&self, info: &FlowInfo, meta: &FlowMeta, event: &'static str) -> FlowRecord {
        let transport = match meta.class {
            Class::V2 => Transport::V2,
            _ => Transport::V1,
        };
        FlowRecord {
            event,
            ts: Some(self.now),
            flow: info.id,
            client: info.client,
            server: info.server,
            transport,
            syn_seen: info.syn_seen,
            network: meta.network,
            reason: None,
            packets: PerDirection {
                c2s: info.to_server.packets,
                s2c: info.to_client.packets,
            },
            bytes: PerDirection {
                c2s: info.to_server.payload_bytes,
                s2c: info.to_client.payload_bytes,
            },
            messages: PerDirection {
                c2s: meta.session.messages[0],
                s2c: meta.session.messages[1],
            },
        }
    }

    /// Fixes the flow's class and announces it (with held-back findings).
    /// The caller frees the decoders of a flow classified `Ignored` or `V2`.
    fn classify(&mut self, info: &FlowInfo, meta: &mut FlowMeta, class: Class) {
        meta.class = class;
        let transport = match class {
            Class::V1 => Transport::V1,
            Class::V2 => Transport::V2,
            Class::Ignored => {
                meta.pending = Vec::new();
                return;
            }
            Class::Undecided => return,
        };
        self.stats.count_flow_start(transport);
        let record = self.record(info, meta, "start");
        self.emit(Event::Flow(&record));
        for (dir, finding) in std::mem::take(&mut meta.pending) {
            self.finding(info, dir, finding);
        }
    }

    fn hold_or_report(&mut self, info: &FlowInfo, meta: &mut FlowMeta, dir: Direction, f: Finding) {
        if meta.class == Class::V1 {
            self.finding(info, dir, f);
        } else if meta.pending.len() < MAX_PENDING_FINDINGS {
            meta.pending.push((dir, f));
        }
    }

    /// Start captured: decide from this direction's first bytes.
    fn check_first_bytes(
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

    fn data(&mut self, info: &FlowInfo, state: &mut FlowState, dir: Direction, bytes: &[u8]) {
        if info.syn_seen && state.meta.class == Class::Undecided {
            self.check_first_bytes(info, state, dir, bytes);
        }
        if matches!(state.meta.class, Class::V2 | Class::Ignored) {
            // Nothing more is decoded: free what the decoders buffered.
            state.dirs = Default::default();
            return;
        }
        if state.meta.class == Class::Undecided {
            state.meta.scanned = state.meta.scanned.saturating_add(bytes.len() as u64);
        }
        let FlowState { dirs, meta } = state;
        dirs[dir_index(dir)]
            .decoder
            .feed(bytes, |event| self.frame_event(info, meta, dir, event));
        if state.meta.class == Class::Undecided && !info.syn_seen {
            let meta = &mut state.meta;
            if meta.on_bitcoin_port && meta.scanned >= classify::MIDSTREAM_V2_WINDOW {
                self.classify(info, meta, Class::V2);
                state.dirs = Default::default();
            } else if !meta.on_bitcoin_port && meta.scanned >= classify::MAX_SCAN_BYTES {
                self.classify(info, meta, Class::Ignored);
                state.dirs = Default::default();
            }
        }
    }

    /// A frame or framing finding of direction `dir`.
    fn frame_event(
        &mut self,
        info: &FlowInfo,
        meta: &mut FlowMeta,
        dir: Direction,
        event: FrameEvent<'_>,
    ) {
        match event {
            FrameEvent::Finding(f) => self.hold_or_report(info, meta, dir, Finding::from(&f)),
            FrameEvent::Frame(frame) => {
                if meta.class == Class::Undecided {
                    meta.network = Some(frame.network.name());
                    self.classify(info, meta, Class::V1);
                }
                self.message(info, meta, dir, &frame);
            }
        }
    }

    /// One framed message: through the message stage shared with every
    /// source.
    fn message(&mut self, info: &FlowInfo, meta: &mut FlowMeta, dir: Direction, frame: &Frame<'_>) {
        if meta.network.is_none() {
            meta.network = Some(frame.network.name());
        }
        let m = event_meta(info, dir, self.now);
        self.message_stage(&mut meta.session, dir_index(dir), Origin::Flow(&m), frame);
    }
}

impl FlowHandler<FlowState> for Handler<'_> {
    fn new_flow(&mut self, info: &FlowInfo) -> FlowState {
        FlowState {
            dirs: Default::default(),
            meta: FlowMeta {
                class: Class::Undecided,
                on_bitcoin_port: self.is_bitcoin_port(info.server.port())
                    || self.is_bitcoin_port(info.client.port()),
                scanned: 0,
                network: None,
                pending: Vec::new(),
                session: Session::default(),
            },
        }
    }

    fn event(&mut self, info: &FlowInfo, state: &mut FlowState, event: StreamEvent<'_>) {
        match event {
            StreamEvent::Data { dir, bytes } => self.data(info, state, dir, bytes),
            StreamEvent::Gap { dir, bytes } => {
                if matches!(state.meta.class, Class::V1 | Class::Undecided) {
                    state.dirs[dir_index(dir)].decoder.gap(bytes);
                    self.hold_or_report(info, &mut state.meta, dir, Finding::Gap { bytes });
                }
            }
        }
    }

    fn end(&mut self, info: &FlowInfo, mut state: FlowState, reason: EndReason) {
        let meta = &mut state.meta;
        if meta.class == Class::Undecided
            && meta.on_bitcoin_port
            && info.to_server.payload_bytes + info.to_client.payload_bytes > 0
        {
            self.classify(info, meta, Class::V2);
        }
        if !matches!(meta.class, Class::V1 | Class::V2) {
            return;
        }
        if meta.class == Class::V1 {
            let FlowState { dirs, meta } = &mut state;
            for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                let decoder = &mut dirs[dir_index(dir)].decoder;
                // finish() returns the first end-of-stream finding; a frame
                // ending exactly at the end (a legacy verack) follows it.
                if let Some(f) = decoder.finish() {
                    self.finding(info, dir, Finding::from(&f));
                }
                while let Some(event) = decoder.next_event() {
                    self.frame_event(info, meta, dir, event);
                }
            }
        }
        let mut record = self.record(info, &state.meta, "end");
        record.reason = Some(reason.name());
        self.stats.record_flow_end(&record);
        self.emit(Event::Flow(&record));
    }
}
