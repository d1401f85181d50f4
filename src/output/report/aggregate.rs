//! Events in, the report's model out: time buckets by command family,
//! lanes per flow with capped marks, peers, commands, findings. No HTML
//! here (html.rs renders the [`Report`]).

use super::buckets::{MAX_BUCKETS, Merge, TimeBuckets};
use super::family::{Family, is_block_transfer};
use super::lanes::{FindingMark, Lane, MAX_FINDING_MARKS_PER_LANE, MAX_MARKS_PER_LANE, Mark};
use super::model::{CommandRow, FindingRow, LaneOut, Limits, Overview, Rate, Report};
use crate::analyzer::event::{Event, Finding, FlowRecord, LOCAL_ENDPOINT};
use crate::analyzer::stats::{MAX_LISTED_COMMANDS, OTHER_COMMANDS, Stats};
use crate::capture::Timestamp;
use crate::capture::core_capture::MessageDirection;
use crate::output::escape::escape_bytes;
use crate::p2p::DecodeError;
use crate::p2p::frame::Frame;
use crate::p2p::message::Message;
use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;

/// Keys here are flow numbers and command names: fast hashing, seeded
/// per map (foldhash, as the flow table).
type Hasher = foldhash::quality::RandomState;

/// Most lanes (flows or peers) drawn and listed; later flows are counted
/// in every total but get no lane or peers row.
pub const MAX_LANES: usize = 300;
/// Most findings listed one by one (all are counted by kind).
pub const MAX_FINDINGS_LISTED: usize = 1000;
/// Longest decisive value kept for a mark's tooltip, in bytes.
const MAX_DETAIL_BYTES: usize = 120;

/// Messages per family in one time bucket.
#[derive(Debug, Default, Clone, Copy)]
pub struct FamilyCounts {
    pub messages: [u64; 7],
    pub bytes: u64,
}

impl Merge for FamilyCounts {
    fn merge(&mut self, other: Self) {
        for (a, b) in self.messages.iter_mut().zip(other.messages) {
            *a += b;
        }
        self.bytes += other.bytes;
    }
}

/// Collects what the report shows from the event stream.
pub struct Aggregator {
    first_us: Option<i64>,
    last_us: Option<i64>,
    buckets: TimeBuckets<FamilyCounts>,
    command_names: Vec<String>,
    command_index: HashMap<[u8; 12], u16, Hasher>,
    lanes: Vec<Lane>,
    lane_index: HashMap<u64, usize, Hasher>,
    /// Flow numbers seen beyond [`MAX_LANES`] (the highest, to count
    /// each once: flow numbers grow in order of appearance).
    flows_not_drawn: u64,
    highest_undrawn: Option<u64>,
    networks: BTreeSet<&'static str>,
    findings: Vec<FindingRow>,
    findings_not_listed: u64,
    stats: Option<Stats>,
}

impl Default for Aggregator {
    fn default() -> Self {
        Aggregator::new()
    }
}

fn micros(ts: Timestamp) -> i64 {
    ts.secs
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(ts.nanos / 1_000))
}

/// Where a message or finding belongs.
#[derive(Clone, Copy)]
enum Origin<'a> {
    /// A packet flow: sender and receiver.
    Packet { src: SocketAddr, dst: SocketAddr },
    /// A peer of Core's message capture, and which way the message went.
    Core {
        peer: &'a str,
        direction: MessageDirection,
        source: &'static str,
    },
}

impl Origin<'_> {
    /// Side 0 and side 1 of a new lane.
    fn ends(self) -> ([String; 2], Option<SocketAddr>) {
        match self {
            Origin::Packet { src, dst } => ([src.to_string(), dst.to_string()], Some(src)),
            Origin::Core { peer, .. } => ([LOCAL_ENDPOINT.to_string(), peer.to_string()], None),
        }
    }

    fn transport(self) -> &'static str {
        match self {
            // Corrected by the flow's own record.
            Origin::Packet { .. } => "v1",
            Origin::Core { source, .. } => source,
        }
    }

    /// Which side of `lane` sent.
    fn sender(self, lane: &Lane) -> u8 {
        match self {
            Origin::Packet { src, .. } => u8::from(Some(src) != lane.client),
            Origin::Core {
                direction: MessageDirection::Sent,
                ..
            } => 0,
            Origin::Core { .. } => 1,
        }
    }
}

impl Aggregator {
    pub fn new() -> Aggregator {
        Aggregator {
            first_us: None,
            last_us: None,
            buckets: TimeBuckets::new(MAX_BUCKETS),
            command_names: Vec::new(),
            command_index: HashMap::default(),
            lanes: Vec::new(),
            lane_index: HashMap::default(),
            flows_not_drawn: 0,
            highest_undrawn: None,
            networks: BTreeSet::new(),
            findings: Vec::new(),
            findings_not_listed: 0,
            stats: None,
        }
    }

    pub fn event(&mut self, event: &Event<'_, '_>) {
        match event {
            Event::Message {
                meta,
                frame,
                message,
            } => {
                let origin = Origin::Packet {
                    src: meta.src,
                    dst: meta.dst,
                };
                self.message(micros(meta.ts), meta.flow, origin, frame, message);
            }
            Event::PeerMessage {
                meta,
                frame,
                message,
            } => {
                let origin = Origin::Core {
                    peer: meta.peer,
                    direction: meta.direction,
                    source: meta.source,
                };
                self.message(micros(meta.ts), meta.flow, origin, frame, message);
            }
            Event::Finding { meta, finding } => {
                let origin = Origin::Packet {
                    src: meta.src,
                    dst: meta.dst,
                };
                self.finding(micros(meta.ts), meta.flow, origin, finding);
            }
            Event::PeerFinding { meta, finding } => {
                let origin = Origin::Core {
                    peer: meta.peer,
                    direction: meta.direction,
                    source: meta.source,
                };
                self.finding(micros(meta.ts), meta.flow, origin, finding);
            }
            Event::Flow(record) => self.flow(record),
            Event::Note { .. } => {}
            Event::Stats(stats) => self.stats = Some((*stats).clone()),
        }
    }

    /// The statistics of the whole read (the analyzer's `finish`).
    pub fn set_stats(&mut self, stats: Stats) {
        self.stats = Some(stats);
    }

    fn span(&mut self, t_us: i64) {
        self.first_us = Some(self.first_us.map_or(t_us, |f| f.min(t_us)));
        self.last_us = Some(self.last_us.map_or(t_us, |l| l.max(t_us)));
    }

    /// The lane of `flow`, made if there is room; `None` beyond the cap.
    fn lane(&mut self, flow: u64, origin: Origin<'_>, t_us: i64) -> Option<&mut Lane> {
        if let Some(&i) = self.lane_index.get(&flow) {
            return self.lanes.get_mut(i);
        }
        if self.lanes.len() >= MAX_LANES {
            if self.highest_undrawn.is_none_or(|h| flow > h) {
                self.highest_undrawn = Some(flow);
                self.flows_not_drawn += 1;
            }
            return None;
        }
        let (ends, client) = origin.ends();
        self.lane_index.insert(flow, self.lanes.len());
        let mut lane = Lane::new(flow, origin.transport(), ends, t_us);
        lane.client = client;
        self.lanes.push(lane);
        self.lanes.last_mut()
    }

    fn command(&mut self, key: [u8; 12], command: &[u8]) -> u16 {
        if let Some(&i) = self.command_index.get(&key) {
            return i;
        }
        let name = if self.command_names.len() >= MAX_LISTED_COMMANDS {
            OTHER_COMMANDS.to_string()
        } else {
            escape_bytes(command)
        };
        if let Some(i) = self.command_names.iter().position(|n| *n == name) {
            return u16::try_from(i).unwrap_or(u16::MAX);
        }
        let i = u16::try_from(self.command_names.len()).unwrap_or(u16::MAX);
        self.command_names.push(name);
        if self.command_index.len() < MAX_LISTED_COMMANDS {
            self.command_index.insert(key, i);
        }
        i
    }

    fn message(
        &mut self,
        t_us: i64,
        flow: u64,
        origin: Origin<'_>,
        frame: &Frame<'_>,
        message: &Result<Message<'_>, DecodeError>,
    ) {
        self.span(t_us);
        self.networks.insert(frame.network.name());
        let command_bytes = frame.command.as_bytes();
        let family = Family::of(command_bytes);
        let counts = self.buckets.at(t_us);
        counts.messages[family.index()] += 1;
        counts.bytes += u64::from(frame.length);
        let command = self.command(frame.command.0, command_bytes);
        let Some(lane) = self.lane(flow, origin, t_us) else {
            return;
        };
        lane.touch(t_us);
        let dir = origin.sender(lane);
        let side = usize::from(dir);
        let sender = &mut lane.sides[side];
        sender.messages += 1;
        sender.bytes += u64::from(frame.length);
        match message {
            Ok(Message::Version(v)) => {
                sender.version = Some(v.version);
                sender.user_agent = v.user_agent.map(escape_bytes);
                sender.start_height = v.start_height;
                sender.services = Some(v.services.0);
            }
            Ok(Message::Ping(p)) => {
                if let Some(nonce) = p.nonce {
                    sender.ping(nonce, t_us);
                }
            }
            Ok(Message::Pong(p)) => lane.sides[1 - side].pong(p.nonce, t_us),
            _ => {}
        }
        let mark = Mark {
            first_us: t_us,
            last_us: t_us,
            family,
            dir,
            command,
            length: frame.length,
            count: 1,
            bytes: u64::from(frame.length),
            block: is_block_transfer(command_bytes),
            detail: None,
        };
        lane.marks.add(mark, || detail(message));
    }

    fn finding(&mut self, t_us: i64, flow: u64, origin: Origin<'_>, finding: &Finding) {
        self.span(t_us);
        let listed = if self.findings.len() < MAX_FINDINGS_LISTED {
            self.findings.push(FindingRow {
                t_us,
                flow,
                kind: finding.kind(),
                finding: finding.clone(),
            });
            Some(self.findings.len() - 1)
        } else {
            self.findings_not_listed += 1;
            None
        };
        let kind = finding.kind();
        if let Some(lane) = self.lane(flow, origin, t_us) {
            lane.finding(FindingMark { t_us, kind, listed });
        }
    }

    fn flow(&mut self, record: &FlowRecord) {
        let t_us = record.ts.map(micros);
        if let Some(t) = t_us {
            self.span(t);
        }
        let origin = Origin::Packet {
            src: record.client,
            dst: record.server,
        };
        let Some(lane) = self.lane(record.flow, origin, t_us.unwrap_or(0)) else {
            return;
        };
        if let Some(t) = t_us {
            lane.touch(t);
        }
        // The flow's own record knows its client and server for sure.
        lane.transport = record.transport.name();
        lane.client = Some(record.client);
        lane.sides[0].address = record.client.to_string();
        lane.sides[1].address = record.server.to_string();
        if let Some(v2) = &record.v2 {
            lane.decryption = Some(v2.decryption);
        }
    }

    /// The model the page is drawn from.
    pub fn finish(self, command_line: String) -> Report {
        let stats = self.stats.unwrap_or_default();
        let t0 = self.first_us.unwrap_or(0);
        let width_us = self.buckets.width_us();
        let dense = self.buckets.dense();
        let rate = Rate {
            start_us: dense.first().map_or(t0, |(s, _)| *s),
            width_us,
            messages: (0..Family::ALL.len())
                .map(|f| dense.iter().map(|(_, c)| c.messages[f]).collect())
                .collect(),
            bytes: dense.iter().map(|(_, c)| c.bytes).collect(),
        };
        let lanes = self
            .lanes
            .into_iter()
            .map(|l| LaneOut::new(l, t0))
            .collect();
        let v2_decrypted = stats.flows_v2_decrypted;
        let overview = Overview {
            first_us: self.first_us,
            last_us: self.last_us,
            packets: stats.packets,
            flows_v1: stats.flows_v1,
            flows_v2_decrypted: v2_decrypted,
            flows_v2_encrypted: stats.flows_v2.saturating_sub(v2_decrypted),
            flows_other: stats.flows_unknown,
            core_peers: stats.peers.len() as u64 + stats.peers_not_listed,
            messages: stats.messages,
            message_bytes: stats.message_bytes,
            checksum_invalid: stats.checksum_invalid,
            decode_errors: stats.decode_errors,
            gaps: stats.gaps,
            gap_bytes: stats.gap_bytes,
            findings: stats.findings.iter().map(|(k, v)| (*k, *v)).collect(),
            networks: self.networks.into_iter().collect(),
        };
        let commands = stats
            .by_command
            .iter()
            .map(|(name, c)| CommandRow {
                command: escape_bytes(name.as_bytes()),
                count: c.count,
                bytes: c.bytes,
            })
            .collect();
        Report {
            version: env!("CARGO_PKG_VERSION"),
            command: command_line,
            t0_us: t0,
            families: Family::ALL.map(Family::name),
            overview,
            rate,
            commands,
            command_names: self.command_names,
            lanes,
            lanes_not_drawn: self.flows_not_drawn,
            findings: self.findings,
            findings_not_listed: self.findings_not_listed,
            limits: Limits {
                max_buckets: MAX_BUCKETS,
                max_lanes: MAX_LANES,
                max_marks_per_lane: MAX_MARKS_PER_LANE,
                max_finding_marks_per_lane: MAX_FINDING_MARKS_PER_LANE,
                max_findings_listed: MAX_FINDINGS_LISTED,
            },
        }
    }
}

/// A message's decisive value for a tooltip: the one-line summary of the
/// text output (hash, user agent, counts), cut to [`MAX_DETAIL_BYTES`].
fn detail(message: &Result<Message<'_>, DecodeError>) -> Option<Box<str>> {
    let mut out = String::new();
    match message {
        Ok(m) => crate::output::summary::summarize(m, &mut out),
        Err(e) => out.push_str(&format!("decode error: {e}")),
    }
    if out.is_empty() {
        return None;
    }
    if out.len() > MAX_DETAIL_BYTES {
        let mut end = MAX_DETAIL_BYTES;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push('…');
    }
    Some(out.into_boxed_str())
}
