//! Per-flow state of the analyzer and the handler the flow table calls.

mod class;
mod v2_events;

use super::AnalyzerConfig;
use super::chunk_times::ChunkTimes;
use super::classify::{Class, FirstBytes, V1_PREFIX_LEN};
use super::message_stage::{Origin, Session};
use super::peer::PeerRecord;
use super::v2::{V2Context, V2Flow};
use crate::analyzer::Sink;
use crate::analyzer::event::{FlowEvent, PerDirection, Transport};
use crate::analyzer::{Event, Finding, FlowRecord, Meta, Stats};
use crate::capture::Timestamp;
use crate::flow::{Direction, EndReason, FlowHandler, FlowInfo, StreamEvent};
use crate::p2p::frame::{Checksum, Frame, FrameDecoder, FrameEvent, HEADER_LEN, LEGACY_HEADER_LEN};
use crate::p2p::network::BITCOIN_PORTS;
use std::io;

/// Findings held back while a flow is not yet known to be Bitcoin (so that
/// non-Bitcoin traffic stays silent); beyond this many they are counted.
const MAX_PENDING_FINDINGS: usize = 16;

/// One direction's framing decoder and first bytes.
#[derive(Default)]
struct DirState {
    decoder: FrameDecoder,
    /// Capture times of the bytes the decoder holds (a message's time is
    /// that of the packet that completed it).
    times: ChunkTimes,
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
    pending: Vec<(Direction, Timestamp, Finding)>,
    /// Per direction: versions, verack, message counts.
    session: Session,
}

pub struct FlowState {
    dirs: [DirState; 2],
    meta: FlowMeta,
    /// BIP324 state, once the flow is classified v2.
    v2: Option<Box<V2Flow>>,
}

pub struct Handler<'s> {
    pub sink: &'s mut dyn Sink,
    pub stats: Stats,
    /// Capture time of the packet being handled (flow end records).
    pub now: Timestamp,
    pub v2: V2Context,
    pub(super) config: AnalyzerConfig,
    error: Option<io::Error>,
    /// Messages shown (for `--count`).
    pub(super) shown: u64,
    /// In a worker of the parallel pipeline: messages per command counted
    /// here instead of in `stats.by_command` (see parallel/tally.rs).
    pub(super) tally: Option<crate::analyzer::parallel::CommandTally>,
    /// The first-announcer table, or (a worker) the round's observations
    /// for the merge to feed it with (see announce/mod.rs).
    pub(super) announce: crate::analyzer::announce::Recorder,
    /// Blocks already checked whole (see [`crate::analyzer::verify`]).
    pub(super) passed_blocks: crate::analyzer::verify::PassedBlocks,
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
        let announce = crate::analyzer::announce::Recorder::new(
            config.announce,
            config.announce_board.as_ref(),
        );
        Handler {
            sink,
            stats: Stats::default(),
            now: Timestamp::default(),
            v2: V2Context::new(&config.v2),
            config,
            error: None,
            shown: 0,
            tally: None,
            announce,
            passed_blocks: Default::default(),
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

    fn finding(&mut self, info: &FlowInfo, dir: Direction, ts: Timestamp, finding: Finding) {
        if self.done() {
            // After `--count`: neither shown nor counted (the summary
            // covers what was read up to the last message shown).
            return;
        }
        if let Some(bytes) = finding.gap_bytes() {
            self.stats.gaps += 1;
            self.stats.gap_bytes += bytes;
        }
        let meta = event_meta(info, dir, ts);
        self.report(Origin::Flow(&meta), finding);
    }

    fn record(
        &self,
        info: &FlowInfo,
        meta: &FlowMeta,
        v2: Option<&V2Flow>,
        event: FlowEvent,
        ts: Timestamp,
    ) -> FlowRecord {
        let transport = match meta.class {
            Class::V2 => Transport::V2,
            Class::Unknown => Transport::Unknown,
            _ => Transport::V1,
        };
        FlowRecord {
            event,
            ts: Some(ts),
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
            v2: v2.map(V2Flow::summary),
            peer: None,
        }
    }

    fn hold_or_report(
        &mut self,
        info: &FlowInfo,
        meta: &mut FlowMeta,
        dir: Direction,
        ts: Timestamp,
        f: Finding,
    ) {
        if meta.class == Class::V1 {
            self.finding(info, dir, ts, f);
        } else if meta.pending.len() < MAX_PENDING_FINDINGS {
            meta.pending.push((dir, ts, f));
        }
    }

    /// Bytes of direction `dir` that arrived in a packet captured at `ts`.
    fn data(
        &mut self,
        info: &FlowInfo,
        state: &mut FlowState,
        dir: Direction,
        ts: Timestamp,
        bytes: &[u8],
    ) {
        let seen_before = state.dirs[dir_index(dir)].prefix_len;
        if info.syn_seen && state.meta.class == Class::Undecided {
            self.check_first_bytes(info, state, dir, bytes);
        }
        if state.meta.class == Class::V2 {
            if state.v2.is_none() {
                self.start_v2(info, state, Some((dir, seen_before)));
            }
            self.v2_data(info, state, dir, bytes);
            return;
        }
        if state.meta.class == Class::Ignored {
            // Nothing more is decoded: free what the decoders buffered.
            state.dirs = Default::default();
            return;
        }
        if state.meta.class == Class::Undecided {
            state.meta.scanned = state.meta.scanned.saturating_add(bytes.len() as u64);
        }
        let FlowState { dirs, meta, .. } = state;
        let d = &mut dirs[dir_index(dir)];
        d.times.data(bytes.len(), ts);
        let times = &mut d.times;
        d.decoder.feed(bytes, |event| {
            self.frame_event(info, meta, dir, times, ts, event);
        });
        if d.decoder.unconsumed().is_empty() {
            d.times.clear();
        }
        if state.meta.class == Class::Undecided && !info.syn_seen {
            self.classify_mid_stream(info, state);
        }
    }

    /// `bytes` bytes at stream offset `offset` of direction `dir` were
    /// never captured (decided at `ts`).
    fn gap(
        &mut self,
        info: &FlowInfo,
        state: &mut FlowState,
        dir: Direction,
        ts: Timestamp,
        offset: u64,
        bytes: u64,
    ) {
        state.meta.session.lost(dir_index(dir));
        if let Some(v2) = state.v2.as_deref_mut() {
            if let Some(f) = v2.gap(dir_index(dir), bytes, &mut self.v2) {
                self.finding(info, dir, ts, f);
            }
            self.drain_v2(info, &mut state.meta, v2);
            return;
        }
        if !matches!(state.meta.class, Class::V1 | Class::Undecided) {
            return;
        }
        let d = &mut state.dirs[dir_index(dir)];
        d.decoder.gap(bytes);
        d.times.gap(bytes);
        let finding = Finding::Gap { offset, bytes };
        self.hold_or_report(info, &mut state.meta, dir, ts, finding);
    }

    /// A frame or framing finding of direction `dir`, found while bytes
    /// captured at `now` were fed (a frame is dated by its own bytes).
    fn frame_event(
        &mut self,
        info: &FlowInfo,
        meta: &mut FlowMeta,
        dir: Direction,
        times: &mut ChunkTimes,
        now: Timestamp,
        event: FrameEvent<'_>,
    ) {
        match event {
            FrameEvent::Finding(f) => self.hold_or_report(info, meta, dir, now, Finding::from(&f)),
            FrameEvent::Frame(frame) => {
                if meta.class == Class::Undecided {
                    meta.network = Some(frame.network.name());
                    self.classify(info, meta, Class::V1);
                }
                let header = match frame.checksum {
                    Checksum::Absent => LEGACY_HEADER_LEN,
                    _ => HEADER_LEN,
                };
                let end = frame
                    .stream_offset
                    .saturating_add((header as u64).saturating_add(u64::from(frame.length)));
                let ts = times.message(frame.stream_offset, end, now);
                self.message(info, meta, dir, ts, &frame);
            }
        }
    }

    /// One framed message: through the message stage shared with every
    /// source.
    fn message(
        &mut self,
        info: &FlowInfo,
        meta: &mut FlowMeta,
        dir: Direction,
        ts: Timestamp,
        frame: &Frame<'_>,
    ) {
        if meta.network.is_none() {
            meta.network = Some(frame.network.name());
        }
        let m = event_meta(info, dir, ts);
        self.message_stage(&mut meta.session, dir_index(dir), Origin::Flow(&m), frame);
    }
}

impl FlowHandler<FlowState> for Handler<'_> {
    fn new_flow(&mut self, info: &FlowInfo) -> FlowState {
        FlowState {
            dirs: Default::default(),
            v2: None,
            meta: FlowMeta {
                class: Class::Undecided,
                on_bitcoin_port: self.is_bitcoin_port(info.server.port())
                    || self.is_bitcoin_port(info.client.port()),
                scanned: 0,
                network: None,
                pending: Vec::new(),
                session: Session::for_tcp(),
            },
        }
    }

    fn event(&mut self, info: &FlowInfo, state: &mut FlowState, event: StreamEvent<'_>) {
        match event {
            StreamEvent::Data { dir, ts, bytes } => self.data(info, state, dir, ts, bytes),
            StreamEvent::Gap {
                dir,
                ts,
                offset,
                bytes,
            } => self.gap(info, state, dir, ts, offset, bytes),
        }
    }

    fn end(&mut self, info: &FlowInfo, mut state: FlowState, reason: EndReason) {
        if state.meta.class == Class::Undecided {
            let class = self.class_at_end(info, &mut state);
            self.classify(info, &mut state.meta, class);
        }
        if !matches!(state.meta.class, Class::V1 | Class::V2 | Class::Unknown) {
            return;
        }
        if state.meta.class == Class::V2 && state.v2.is_none() {
            self.start_v2(info, &mut state, None);
        }
        if let Some(v2) = state.v2.as_deref_mut() {
            if let Some(f) = v2.finish(&mut self.v2) {
                self.finding(info, Direction::ClientToServer, self.now, f);
            }
            self.drain_v2(info, &mut state.meta, v2);
            self.note_v2_attempt(info, reason);
        }
        if state.meta.class == Class::V1 {
            let FlowState { dirs, meta, .. } = &mut state;
            for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                let DirState { decoder, times, .. } = &mut dirs[dir_index(dir)];
                decoder.finish();
                while let Some(event) = decoder.next_event() {
                    self.frame_event(info, meta, dir, times, self.now, event);
                }
            }
        }
        // Held request and ping findings (message_stage.rs): decided now
        // that every gap of the flow is known.
        for (side, ts, f) in state.meta.session.take_deferred() {
            let dir = if side == 0 {
                Direction::ClientToServer
            } else {
                Direction::ServerToClient
            };
            self.finding(info, dir, ts, f);
        }
        let mut record = self.record(
            info,
            &state.meta,
            state.v2.as_deref(),
            FlowEvent::End,
            self.now,
        );
        record.reason = Some(reason);
        record.peer = Some(Box::new(Self::peer_record(info, &state)));
        self.stats.record_flow_end(&record);
        self.emit(Event::Flow(&record));
    }
}

impl Handler<'_> {
    /// An open flow's record as it stands, with its peer record (live's
    /// snapshot); flows not yet known to be Bitcoin have none.
    pub(crate) fn snapshot(&mut self, info: &FlowInfo, state: &FlowState) {
        if !matches!(state.meta.class, Class::V1 | Class::V2 | Class::Unknown) {
            return;
        }
        let mut record = self.record(
            info,
            &state.meta,
            state.v2.as_deref(),
            FlowEvent::Snapshot,
            self.now,
        );
        record.peer = Some(Box::new(Self::peer_record(info, state)));
        self.emit(Event::Flow(&record));
    }

    fn peer_record(info: &FlowInfo, state: &FlowState) -> PeerRecord {
        let peer = state.meta.session.peer();
        let sides = peer.map(|p| p.record()).unwrap_or_default();
        let mut peer_record = PeerRecord::new(info, sides);
        peer_record.checks_dropped = peer.map_or(0, |p| p.checks_dropped());
        peer_record
    }
}
