//! TCP flows: which connection a segment belongs to, which way it goes, and
//! the reassembled byte stream of each direction.
//!
//! [`FlowTable`] owns every connection's state; the application (the Bitcoin
//! layer) sees a flow only through a [`FlowHandler`] it passes to each call:
//! `new_flow` creates its per-flow state `S`, `event` hands it ordered stream
//! data (with the capture time of the packet each byte came in) or gaps
//! (with the capture time they were decided), `end` gives the state back
//! when the flow ends. Passing the
//! handler per call (rather than storing it) keeps borrows simple: the
//! handler can hold `&mut` to the output sink while the table holds the
//! flows.
//!
//! Everything is driven by capture time: idle expiry and gap timeouts
//! compare packet timestamps, never the wall clock, so a file gives the
//! same result however fast it is read. Timers (a hole's timeout, the end
//! of a mid-stream start hold) fire when a packet, or
//! [`FlowTable::advance`], brings capture time past them, before that
//! packet is handled, in order of deadline and flow id.
// Bytes from the wire reach this module: no panic by construction (no
// unwrap/expect, no unchecked indexing or arithmetic). Tests may.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod reassembly;
mod table;

pub use reassembly::{Chunk, Reassembler, ReassemblyLimits, ReassemblyStats};
pub use table::{FlowTable, TableStats};

use crate::capture::Timestamp;
use std::net::SocketAddr;
use std::time::Duration;

/// Resource limits of the flow table; each is a CLI flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowLimits {
    /// Flows tracked at once; when full, the least recently active flow is
    /// ended ([`EndReason::Evicted`]) to make room.
    pub max_flows: usize,
    /// Out-of-order bytes buffered per direction at most (also how far
    /// ahead of the next expected byte a segment may land and still be
    /// buffered). Without the peer's ACKs in the capture, the smaller
    /// [`reassembly::DEFAULT_UNACKED_BUDGET`] applies.
    pub max_buffered_per_direction: usize,
    /// Capture time a hole in a stream may stay open once data behind it
    /// was seen; then it is reported as a gap and the data after it is
    /// decoded.
    pub gap_timeout: Duration,
    /// Capture-time seconds without a packet after which a flow ends
    /// ([`EndReason::IdleTimeout`]).
    pub idle_timeout_secs: u64,
}

impl FlowLimits {
    /// A busy node has ~125 connections; 65,536 covers a capture of a large
    /// network segment while bounding the table to about 110 MB without
    /// buffered data (~1.6 KiB per flow with its analyzer state, measured
    /// under a flood of 1,000,000 SYNs in tests/hostile_captures.rs).
    pub const DEFAULT_MAX_FLOWS: usize = 65_536;
    /// 1 MiB holds the data in flight of a 100 Mbit/s link at 80 ms RTT, the
    /// common case for a block relayed across continents, so one segment
    /// lost on the network (which the receiver's ACKs show it is missing
    /// too) does not turn into a gap before its retransmission arrives.
    /// Worst case over all flows is `max_flows * 2 * this`: lower it for
    /// very large captures.
    pub const DEFAULT_MAX_BUFFERED: usize = 1 << 20;
    /// Bitcoin Core pings every 2 minutes and drops a peer after 20 minutes
    /// of silence; 10 minutes without a single packet means the capture lost
    /// the connection's end.
    pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 600;
}

impl Default for FlowLimits {
    fn default() -> Self {
        FlowLimits {
            max_flows: Self::DEFAULT_MAX_FLOWS,
            max_buffered_per_direction: Self::DEFAULT_MAX_BUFFERED,
            gap_timeout: reassembly::DEFAULT_GAP_TIMEOUT,
            idle_timeout_secs: Self::DEFAULT_IDLE_TIMEOUT_SECS,
        }
    }
}

/// A connection's identity, the same for both directions: the two
/// endpoints in a fixed (sorted) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub lo: SocketAddr,
    pub hi: SocketAddr,
}

impl FlowKey {
    /// The key of a segment from `src` to `dst`, and whether `src` is `lo`.
    pub fn new(src: SocketAddr, dst: SocketAddr) -> (FlowKey, bool) {
        if src <= dst {
            (FlowKey { lo: src, hi: dst }, true)
        } else {
            (FlowKey { lo: dst, hi: src }, false)
        }
    }
}

/// Which way bytes travel. The client is the SYN sender, or for a capture
/// that joins mid-stream, the sender of the first segment seen unless that
/// segment comes from a Bitcoin port to a non-Bitcoin port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }
}

/// Counters for one direction of a flow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirStats {
    /// Segments seen, including empty ones and retransmissions.
    pub packets: u64,
    /// TCP payload bytes seen, including retransmissions.
    pub payload_bytes: u64,
    /// What reassembly made of them.
    pub reassembly: ReassemblyStats,
}

/// What the table knows about a flow; handed to every handler call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowInfo {
    /// Sequential from 1 in order of creation.
    pub id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// The connection's start (a SYN) was captured.
    pub syn_seen: bool,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    pub to_server: DirStats,
    pub to_client: DirStats,
    /// When the three-way handshake's segments passed the sensor.
    pub handshake: TcpHandshake,
}

/// Capture times of the SYN, the SYN-ACK and the client's first ACK after
/// it (each the first one seen): the sensor's view of the TCP round trip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpHandshake {
    pub syn: Option<Timestamp>,
    pub syn_ack: Option<Timestamp>,
    pub ack: Option<Timestamp>,
}

impl TcpHandshake {
    /// Notes a segment of direction `dir` with these flags.
    pub fn segment(&mut self, ts: Timestamp, dir: Direction, syn: bool, ack: bool) {
        match (dir, syn, ack) {
            (Direction::ClientToServer, true, false) => {
                self.syn.get_or_insert(ts);
            }
            (Direction::ServerToClient, true, true) if self.syn.is_some() => {
                self.syn_ack.get_or_insert(ts);
            }
            (Direction::ClientToServer, false, true) if self.syn_ack.is_some() => {
                self.ack.get_or_insert(ts);
            }
            _ => {}
        }
    }
}

impl FlowInfo {
    pub fn stats(&self, dir: Direction) -> &DirStats {
        match dir {
            Direction::ClientToServer => &self.to_server,
            Direction::ServerToClient => &self.to_client,
        }
    }
}

/// Reassembled stream content, in order per direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// Bytes that arrived in a packet captured at `ts` (buffered bytes keep
    /// the time of their own packet, however late they are handed out).
    Data {
        dir: Direction,
        ts: Timestamp,
        bytes: &'a [u8],
    },
    /// `bytes` bytes of this direction at stream offset `offset` were never
    /// captured; `ts` is when that was decided (the peer's ACK, the budget,
    /// the timeout or the flow's end).
    Gap {
        dir: Direction,
        ts: Timestamp,
        offset: u64,
        bytes: u64,
    },
}

/// `ts + d`, saturating.
pub fn after(ts: Timestamp, d: Duration) -> Timestamp {
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    // Both below 10^9: the sum fits, and `new` carries the second out.
    let nanos = ts.nanos.saturating_add(d.subsec_nanos());
    Timestamp::new(ts.secs.saturating_add(secs), nanos)
}

/// Why a flow ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// Both sides sent FIN.
    Fin,
    Rst,
    IdleTimeout,
    /// The table was full and this flow was the least recently active.
    Evicted,
    /// The capture ended.
    EndOfInput,
}

impl EndReason {
    /// The name used in output (`fin`, `rst`, `idle_timeout`, ...).
    pub fn name(self) -> &'static str {
        match self {
            EndReason::Fin => "fin",
            EndReason::Rst => "rst",
            EndReason::IdleTimeout => "idle_timeout",
            EndReason::Evicted => "evicted",
            EndReason::EndOfInput => "end_of_input",
        }
    }
}

/// The application side of the flow table.
pub trait FlowHandler<S> {
    /// A flow starts; return its state.
    fn new_flow(&mut self, info: &FlowInfo) -> S;
    /// Stream content for the flow.
    fn event(&mut self, info: &FlowInfo, state: &mut S, ev: StreamEvent<'_>);
    /// The flow ended; buffered data has been delivered before this call.
    fn end(&mut self, info: &FlowInfo, state: S, reason: EndReason);
}
