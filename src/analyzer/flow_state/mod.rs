//! Per-flow state of the analyzer and the handler the flow table calls.

mod class;

use super::AnalyzerConfig;
use super::chunk_times::ChunkTimes;
use super::classify::{Class, FirstBytes, V1_PREFIX_LEN};
use crate::capture::Timestamp;
use crate::flow::{Direction, EndReason, FlowHandler, FlowInfo, StreamEvent};
use crate::output::event::{PerDirection, Transport};
use crate::output::{Event, Finding, FlowRecord, Meta, Sink, Stats};
use crate::p2p::frame::{Checksum, Frame, FrameDecoder, FrameEvent, HEADER_LEN, LEGACY_HEADER_LEN};
use crate::p2p::message::{self, DecodeContext, Message};
use crate::p2p::network::BITCOIN_PORTS;
use std::io;

/// Findings held back while a flow is not yet known to be Bitcoin (so that
/// non-Bitcoin traffic stays silent); beyond this many they are counted.
const MAX_PENDING_FINDINGS: usize = 16;

/// Commands that belong between version and verack (PROTOCOL.md): Core
/// disconnects a peer that sends wtxidrelay after its verack.
const PRE_VERACK_COMMANDS: [&str; 3] = ["wtxidrelay", "sendaddrv2", "sendtxrcncl"];

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
    /// Protocol version each direction's sender announced.
    version: [Option<i32>; 2],
    verack_sent: [bool; 2],
    messages: [u64; 2],
}

pub struct FlowState {
    dirs: [DirState; 2],
    meta: FlowMeta,
}

pub struct Handler<'s> {
    pub sink: &'s mut dyn Sink,
    pub stats: Stats,
    /// Capture time of the packet being handled (flow end records).
    pub now: Timestamp,
    config: AnalyzerConfig,
    error: Option<io::Error>,
    shown: u64,
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

    fn emit(&mut self, event: Event<'_, '_>) {
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

    fn wants(&self, command: &str) -> bool {
        match &self.config.commands {
            None => true,
            Some(list) => list.iter().any(|c| c == command),
        }
    }

    fn finding(&mut self, info: &FlowInfo, dir: Direction, ts: Timestamp, finding: Finding) {
        self.stats.count_finding(finding.kind());
        if let Finding::Gap { bytes, .. } = finding {
            self.stats.gaps += 1;
            self.stats.gap_bytes += bytes;
        }
        let meta = event_meta(info, dir, ts);
        self.emit(Event::Finding {
            meta: &meta,
            finding: &finding,
        });
    }

    fn record(
        &self,
        info: &FlowInfo,
        meta: &FlowMeta,
        event: &'static str,
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
                c2s: meta.messages[0],
                s2c: meta.messages[1],
            },
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

    /// One framed message: count it, decode it if shown (or if it is a
    /// `version`, whose protocol version shapes later decoding), emit it.
    fn message(
        &mut self,
        info: &FlowInfo,
        meta: &mut FlowMeta,
        dir: Direction,
        ts: Timestamp,
        frame: &Frame<'_>,
    ) {
        let i = dir_index(dir);
        meta.messages[i] += 1;
        if meta.network.is_none() {
            meta.network = Some(frame.network.name());
        }
        let command = String::from_utf8_lossy(frame.command.as_bytes());
        self.stats.count_message(&command, u64::from(frame.length));
        match frame.checksum {
            Checksum::Valid => {}
            Checksum::Invalid { .. } => self.stats.checksum_invalid += 1,
            Checksum::Absent => self.stats.checksum_absent += 1,
        }
        let wanted = self.wants(&command);
        if !wanted && command != "version" && command != "verack" {
            return;
        }
        let order_finding = self.handshake_order(meta, i, &command);
        let peer_version = match meta.version {
            [Some(a), Some(b)] => Some(a.min(b)),
            [a, b] => a.or(b),
        };
        let ctx = DecodeContext {
            peer_version,
            full_detail: self.config.verbose,
            payload_hash: frame.payload_hash,
        };
        let decoded = message::decode(&frame.command, frame.payload, &ctx);
        if let Ok(Message::Version(v)) = &decoded.message {
            meta.version[i] = Some(v.version);
        }
        if !wanted {
            return;
        }
        let m = event_meta(info, dir, ts);
        self.emit(Event::Message {
            meta: &m,
            frame,
            message: &decoded.message,
        });
        for anomaly in &decoded.anomalies {
            self.finding(info, dir, ts, Finding::from_anomaly(&command, anomaly));
        }
        if let Err(e) = &decoded.message {
            self.stats.decode_errors += 1;
            let finding = Finding::DecodeError {
                command: command.to_string(),
                error: e.to_string(),
            };
            self.finding(info, dir, ts, finding);
        }
        if let Some(f) = order_finding {
            self.finding(info, dir, ts, f);
        }
        self.shown += 1;
    }

    /// Notes a handshake-only message sent after the sender's own verack.
    fn handshake_order(&self, meta: &mut FlowMeta, i: usize, command: &str) -> Option<Finding> {
        if command == "verack" {
            meta.verack_sent[i] = true;
            return None;
        }
        if meta.verack_sent[i] && PRE_VERACK_COMMANDS.contains(&command) {
            return Some(Finding::HandshakeOrder {
                command: command.to_string(),
                detail: "sent after the sender's verack; belongs between version and verack"
                    .to_string(),
            });
        }
        None
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
                version: [None; 2],
                verack_sent: [false; 2],
                messages: [0; 2],
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
        if state.meta.class == Class::V1 {
            let FlowState { dirs, meta } = &mut state;
            for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                let DirState { decoder, times, .. } = &mut dirs[dir_index(dir)];
                // finish() returns the first end-of-stream finding; a frame
                // ending exactly at the end (a legacy verack) follows it.
                if let Some(f) = decoder.finish() {
                    self.finding(info, dir, self.now, Finding::from(&f));
                }
                while let Some(event) = decoder.next_event() {
                    self.frame_event(info, meta, dir, times, self.now, event);
                }
            }
        }
        let mut record = self.record(info, &state.meta, "end", self.now);
        record.reason = Some(reason.name());
        self.stats.record_flow_end(&record);
        self.emit(Event::Flow(&record));
    }
}
