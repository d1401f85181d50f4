//! The passive pipeline: packets -> flows -> reassembled bytes -> frames ->
//! messages and findings -> one event stream to a sink. Shared by `read`
//! and `live`.

pub mod announce;
mod chunk_times;
pub mod classify;
pub mod event;
mod finding;
mod flow_state;
pub mod framed;
mod message_stage;
pub mod parallel;
pub mod peer;
mod pipeline;
mod sink;
pub mod stats;
pub mod v2;
pub mod verify;

pub use pipeline::{Pipeline, SharedSource};

use crate::capture::{Packet, Timestamp};
use crate::flow::{FlowLimits, FlowTable};
pub use event::{Event, Finding, FlowRecord, Meta, PeerMeta};
use flow_state::{FlowState, Handler};
pub use sink::Sink;
pub use stats::Stats;
use std::io;

/// What the analyzer was asked to do (resolved from the command line).
#[derive(Debug, Clone, Default)]
pub struct AnalyzerConfig {
    pub limits: FlowLimits,
    /// Ports marked as Bitcoin besides the five default ports (`--port`).
    pub extra_ports: Vec<u16>,
    /// Show only these commands (`--command`); all when `None`.
    pub commands: Option<Vec<String>>,
    /// `-v`: decode everything (e.g. wtxids of block transactions).
    pub verbose: bool,
    /// Stop after this many messages shown (`--count`).
    pub max_messages: Option<u64>,
    /// BIP324 v2 decryption (the key log itself: [`Analyzer::set_keylog`]).
    pub v2: v2::V2Options,
    /// Keep the first-announcer table (`--stats` shows it; off, the
    /// announcing messages cost nothing more).
    pub announce: bool,
    /// Where the table publishes its standings while running (`live
    /// --metrics`); needs `announce`.
    pub announce_board: Option<announce::Board>,
}

/// Whether to go on after a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Continue,
    /// `--count` reached.
    Done,
}

pub struct Analyzer<'s> {
    table: FlowTable<FlowState>,
    handler: Handler<'s>,
    warnings: Vec<String>,
    /// Peers of already-framed sources (framed.rs).
    peers: framed::Peers,
}

impl<'s> Analyzer<'s> {
    pub fn new(config: AnalyzerConfig, sink: &'s mut dyn Sink) -> Self {
        Analyzer {
            table: FlowTable::new(config.limits, &config.extra_ports),
            handler: Handler::new(config, sink),
            warnings: Vec::new(),
            peers: framed::Peers::default(),
        }
    }

    /// Feeds one captured packet. An `Err` is an output error (e.g. a
    /// closed pipe), never a problem of the traffic.
    pub fn packet(&mut self, packet: &Packet<'_>) -> io::Result<Progress> {
        self.handler.stats.packets += 1;
        match crate::net::parse_tcp(packet.link_type, packet.data) {
            Ok(segment) => {
                self.handler.now = packet.ts;
                self.table.segment(packet.ts, &segment, &mut self.handler);
            }
            Err(skip) => self.skipped(packet, skip),
        }
        self.handler.take_error()?;
        Ok(if self.handler.done() {
            Progress::Done
        } else {
            Progress::Continue
        })
    }

    /// Decrypt v2 sessions whose keys this log holds.
    pub fn set_keylog(&mut self, keylog: crate::p2p::v2::KeyLog) {
        self.handler.v2.set_keylog(keylog);
    }

    /// The key log, to add what a growing file appended (live); `None`
    /// without `set_keylog`. Flows waiting for their key look again on
    /// their next packet or at their end.
    pub fn append_keylog(&mut self, bytes: &[u8]) {
        if let Some(log) = self.handler.v2.keylog_mut() {
            let before = log.entries;
            log.push(bytes);
            if log.entries != before {
                self.handler.v2.keylog_grew();
            }
        }
    }

    /// Whether v2 flows hold bytes waiting for their key to be logged
    /// (live: the key log is then worth a look before every packet).
    pub fn keys_awaited(&self) -> bool {
        self.handler.v2.keys_awaited()
    }

    /// Writes out what the sink holds (live: once per batch of packets).
    /// Every open flow's record as it stands, in order of creation (live,
    /// on SIGUSR1).
    pub fn snapshot(&mut self) -> io::Result<()> {
        let handler = &mut self.handler;
        self.table
            .each_open(|info, state| handler.snapshot(info, state));
        self.handler.take_error()
    }

    pub fn flush_output(&mut self) -> io::Result<()> {
        if let announce::Recorder::Table(table) = &mut self.handler.announce {
            table.publish_if_due();
        }
        self.handler.sink.flush()
    }

    /// A note from the source (e.g. live capture's drop notices), in the
    /// event stream between the messages around it.
    pub fn note(
        &mut self,
        ts: crate::capture::Timestamp,
        source: &'static str,
        text: &str,
    ) -> io::Result<()> {
        self.handler.sink.event(&Event::Note { ts, source, text })
    }

    fn skipped(&mut self, packet: &Packet<'_>, skip: crate::net::Skip) {
        count_skipped(&mut self.handler.stats, &mut self.warnings, packet, skip);
    }

    /// Warnings about the input not yet shown (one line each).
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Brings capture time to `now` while no packet comes (a live capture
    /// on a quiet link): holes whose gap timeout passed are given up and
    /// the data behind them decoded, idle flows end. Packets drive time
    /// otherwise; `now` earlier than what they brought changes nothing.
    pub fn advance(&mut self, now: Timestamp) -> io::Result<()> {
        self.handler.now = self.handler.now.max(now);
        self.table.advance(now, &mut self.handler);
        self.handler.take_error()
    }

    /// Statistics so far (e.g. for libpcap counters to be added).
    pub fn stats_mut(&mut self) -> &mut Stats {
        &mut self.handler.stats
    }

    /// Ends every TCP flow (their input is over: end_of_input), so that
    /// what they still hold is shown before sources read after them.
    pub fn end_flows(&mut self) -> io::Result<()> {
        self.table.finish(&mut self.handler);
        self.handler.take_error()
    }

    /// Ends every flow (end of input), flushes and returns the statistics.
    pub fn finish(mut self) -> io::Result<Stats> {
        self.table.finish(&mut self.handler);
        self.peers.record_stats(&mut self.handler.stats);
        if let announce::Recorder::Table(table) = std::mem::take(&mut self.handler.announce) {
            self.handler.stats.announce = table.finish();
        }
        self.handler.take_error()?;
        self.handler.sink.flush()?;
        Ok(self.handler.stats)
    }
}

/// Counts a packet that is not TCP/IP as we can read it, and says why
/// once where a person must know (a link type we cannot parse).
fn count_skipped(
    stats: &mut Stats,
    warnings: &mut Vec<String>,
    packet: &Packet<'_>,
    skip: crate::net::Skip,
) {
    stats.packets_skipped += 1;
    match skip {
        crate::net::Skip::UnsupportedLinkType(link) => {
            let seen = stats.unsupported_link_types.entry(link).or_insert(0);
            if *seen == 0 {
                warnings.push(format!(
                    "link type {link} is not supported: its packets are skipped \
                     (supported: Ethernet, Linux cooked SLL/SLL2, BSD loopback, raw IP)"
                ));
            }
            *seen += 1;
        }
        crate::net::Skip::Truncated(_) if packet.data.len() < packet.orig_len as usize => {
            stats.packets_cut_by_snaplen += 1;
        }
        _ => {}
    }
}
