//! The passive pipeline: packets -> flows -> reassembled bytes -> frames ->
//! messages and findings -> one event stream to a sink. Shared by `read`
//! and `live`.

mod chunk_times;
pub mod classify;
mod flow_state;

use crate::capture::{Packet, Timestamp};
use crate::flow::{FlowLimits, FlowTable};
use crate::output::{Sink, Stats};
use flow_state::{FlowState, Handler};
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
}

impl<'s> Analyzer<'s> {
    pub fn new(config: AnalyzerConfig, sink: &'s mut dyn Sink) -> Self {
        Analyzer {
            table: FlowTable::new(config.limits, &config.extra_ports),
            handler: Handler::new(config, sink),
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
            Err(_) => self.handler.stats.packets_skipped += 1,
        }
        self.handler.take_error()?;
        Ok(if self.handler.done() {
            Progress::Done
        } else {
            Progress::Continue
        })
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

    /// Ends every flow (end of input), flushes and returns the statistics.
    pub fn finish(mut self) -> io::Result<Stats> {
        self.table.finish(&mut self.handler);
        self.handler.take_error()?;
        self.handler.sink.flush()?;
        Ok(self.handler.stats)
    }
}
