//! One direction of a TCP connection: segments and the peer's ACKs in,
//! ordered bytes and gaps out, each stamped with a capture time.
//!
//! - Sequence numbers are compared by signed 32-bit distance to the next
//!   expected one (`wrapping_sub` as `i32`), so wraparound at 2^32 is
//!   ordinary, and a segment more than 2^31 behind is "ahead" (as in TCP).
//! - A SYN anchors the stream (its data, if any, starts at `seq + 1`). A
//!   direction joined mid-stream is anchored by its data segments: they are
//!   held for [`START_HOLD`] of capture time (or [`START_HOLD_BYTES`]) and
//!   the stream starts at the lowest of their sequence numbers, so a header
//!   captured just after its payload still frames (module `start`). Empty
//!   segments never anchor (a keep-alive sits one byte back), but a bare
//!   FIN is held with the data (and anchors a direction that sent none).
//! - In-order data is handed out straight from the packet (no copy), with
//!   the packet's time. Out-of-order data is copied into a bounded buffer
//!   with its own arrival time and handed out, with that time, when the
//!   hole before it closes.
//! - Overlaps: the first bytes to arrive win. Bytes already delivered cannot
//!   be taken back, so "first wins" is the only policy that is the same for
//!   delivered and buffered data. Conflicting retransmissions are therefore
//!   ignored (counted as retransmitted bytes).
//!
//! When a hole is given up ([`Chunk::Gap`], exact offset and size), in the
//! order these are checked:
//! 1. **The peer acknowledged bytes past it** ([`Reassembler::ack`]): the
//!    receiver has bytes the capture missed, nobody will send them again, so
//!    the hole is a gap at once, stamped with the ACK's time. (Zeek and
//!    Suricata do the same.) An ACK ending inside a hole leaves it waiting
//!    (its rest may still come): one hole, one gap. An ACK beyond
//!    everything seen marks a lost tail: it becomes a gap when data after
//!    it arrives or the stream ends.
//! 2. **Out of budget**: the out-of-order bytes would exceed the budget:
//!    `max_buffered` when the peer's ACKs for this direction are visible
//!    (then a hole the peer has not acknowledged is one the peer is missing
//!    too, and its retransmission is coming), else the much smaller
//!    `unacked_budget` (a one-sided capture cannot tell a lost packet from a
//!    late one). A segment landing more than `max_buffered` past the next
//!    expected byte is out of reach the same way.
//! 3. **Out of time**: capture time passes `gap_timeout` after data behind
//!    the hole was first seen ([`Reassembler::deadline`],
//!    [`Reassembler::expire`]); the gap is stamped with that deadline.
//! 4. **The stream ends** ([`Reassembler::flush`]: FIN, RST, timeout, end
//!    of input). Bytes lost after the last one received are reported when a
//!    FIN or the peer's ACK told where the stream ends.
//!
//! A retransmission that fills a hole before any of these wins: no gap.
//! A segment beyond the reach with nothing buffered is dropped (it may be
//! garbage); after [`FAR_RESYNC_STRIKES`] such segments in a row the stream
//! jumps to them, reporting the skipped bytes as a gap.

mod limits;
mod pending;
mod start;

pub use limits::{
    DEFAULT_GAP_TIMEOUT, DEFAULT_UNACKED_BUDGET, ReassemblyLimits, START_HOLD, START_HOLD_BYTES,
};
pub use pending::SEGMENT_OVERHEAD;

use crate::capture::Timestamp;
use pending::Pending;
use start::StartHold;

/// Consecutive far-ahead segments after which the stream jumps forward.
pub const FAR_RESYNC_STRIKES: u32 = 3;

/// ACKs further behind the next expected byte than this are not ACKs of
/// this stream (2^30: a quarter of the sequence space).
const MAX_ACK_BEHIND: i64 = 1 << 30;

/// What the reassembler hands out, in stream order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes that arrived in a packet captured at `ts`.
    Data { ts: Timestamp, bytes: &'a [u8] },
    /// `bytes` bytes at stream offset `offset` were never seen; `ts` is
    /// when that was decided.
    Gap {
        ts: Timestamp,
        offset: u64,
        bytes: u64,
    },
}

/// Counters for one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    pub delivered_bytes: u64,
    pub gap_bytes: u64,
    /// Bytes received again after they were delivered or buffered.
    pub retransmitted_bytes: u64,
    /// Bytes of far-ahead segments that were dropped.
    pub dropped_bytes: u64,
}

/// Reassembles one direction. See the module docs.
#[derive(Debug)]
pub struct Reassembler {
    limits: ReassemblyLimits,
    /// `None` until the stream is anchored.
    next_seq: Option<u32>,
    /// Stream offset of `next_seq`: bytes delivered plus gaps so far.
    next_off: u64,
    /// Out-of-order data. Invariant: every range starts after `next_off`
    /// and ends at most `max_buffered` bytes past it; the cost is within
    /// the budget in force when the range was added (at most
    /// `max_buffered`).
    pending: Pending,
    /// A mid-stream start not anchored yet (`next_seq` is `None`).
    start: Option<StartHold>,
    /// Stream offset of the FIN, once seen.
    fin_off: Option<u64>,
    /// Highest stream offset the peer acknowledged (0: none yet).
    acked_off: u64,
    /// An ACK of the peer for this direction was seen.
    peer_acks: bool,
    /// End of the furthest data received (delivered or buffered).
    seen_end: u64,
    far_strikes: u32,
    stats: ReassemblyStats,
}

impl Reassembler {
    pub fn new(limits: ReassemblyLimits) -> Reassembler {
        Reassembler {
            limits,
            next_seq: None,
            next_off: 0,
            pending: Pending::default(),
            start: None,
            fin_off: None,
            acked_off: 0,
            peer_acks: false,
            seen_end: 0,
            far_strikes: 0,
            stats: ReassemblyStats::default(),
        }
    }

    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    /// A FIN has been seen in this direction (placed, or held at a
    /// mid-stream start).
    pub fn fin_seen(&self) -> bool {
        self.fin_off.is_some()
            || self
                .start
                .as_ref()
                .is_some_and(|h| h.segments.iter().any(|s| s.fin))
    }

    /// Bytes currently held: out of order, or at a mid-stream start.
    pub fn buffered_bytes(&self) -> usize {
        let held: usize = self
            .start
            .as_ref()
            .map_or(0, |h| h.segments.iter().map(|s| s.bytes.len()).sum());
        self.pending.bytes().saturating_add(held)
    }

    /// The sequence number expected next, once anchored.
    pub fn next_seq(&self) -> Option<u32> {
        self.next_seq
    }

    /// When [`Self::expire`] must next be called: the end of the start
    /// hold, or when the oldest hole times out.
    pub fn deadline(&self) -> Option<Timestamp> {
        let hold = self
            .start
            .as_ref()
            .map(|h| super::after(h.since, self.limits.start_hold));
        let hole = self
            .pending
            .oldest_arrival()
            .map(|t| super::after(t, self.limits.gap_timeout));
        match (hold, hole) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Takes one segment captured at `ts`; hands out whatever became
    /// contiguous.
    pub fn segment(
        &mut self,
        ts: Timestamp,
        seq: u32,
        syn: bool,
        fin: bool,
        payload: &[u8],
        emit: &mut impl FnMut(Chunk<'_>),
    ) {
        if self.next_seq.is_none() {
            if syn {
                self.anchor(seq.wrapping_add(1), emit);
            } else {
                if !payload.is_empty() || fin {
                    self.hold(ts, seq, fin, payload, emit);
                }
                return;
            }
        }
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        self.place(ts, data_seq, fin, payload, emit);
    }

    /// The peer acknowledged everything before `ack` (a segment of the
    /// other direction captured at `ts` with the ACK flag): holes below it
    /// are gaps at once.
    pub fn ack(&mut self, ts: Timestamp, ack: u32, emit: &mut impl FnMut(Chunk<'_>)) {
        if self.next_seq.is_none() {
            return;
        }
        let dist = self.distance(ack);
        // A plausible ACK lies behind the next expected byte, or past it by
        // at most the reach beyond the furthest data seen (a lost tail).
        let seen_ahead = self.seen_end.saturating_sub(self.next_off);
        let reach = seen_ahead.saturating_add(self.limits.max_buffered as u64);
        if dist < -MAX_ACK_BEHIND || (dist > 0 && dist.unsigned_abs() > reach) {
            return;
        }
        self.peer_acks = true;
        if dist > 0 {
            let mut off = self.next_off.saturating_add(dist.unsigned_abs());
            // A FIN takes a sequence number of its own: its ACK is one past
            // the last byte.
            if let Some(fin) = self.fin_off {
                off = off.min(fin);
            }
            self.acked_off = self.acked_off.max(off);
            self.give_up_acked(ts, emit);
        }
    }

    /// Gives up what capture time `now` has passed the deadline of: the
    /// start hold, then holes open for longer than the gap timeout (each
    /// gap stamped with its own deadline).
    pub fn expire(&mut self, now: Timestamp, emit: &mut impl FnMut(Chunk<'_>)) {
        if let Some(h) = &self.start
            && super::after(h.since, self.limits.start_hold) <= now
        {
            self.release_start(emit);
        }
        while let Some(oldest) = self.pending.oldest_arrival() {
            let deadline = super::after(oldest, self.limits.gap_timeout);
            if deadline > now {
                break;
            }
            self.skip_first_hole(deadline, emit);
        }
    }

    /// Gives up on every hole at time `ts` (the stream ended): buffered
    /// data is handed out after gaps, and if the end is known (FIN, or the
    /// peer's ACK), lost bytes before it are a last gap.
    pub fn flush(&mut self, ts: Timestamp, emit: &mut impl FnMut(Chunk<'_>)) {
        self.release_start(emit);
        while !self.pending.is_empty() {
            self.skip_first_hole(ts, emit);
        }
        let end = match self.fin_off {
            Some(fin) => fin,
            // One byte acknowledged past the end is the sequence number of
            // a FIN the capture missed, not data.
            None if self.acked_off == self.next_off.saturating_add(1) => self.next_off,
            None => self.acked_off,
        };
        if end > self.next_off {
            self.gap(ts, end.saturating_sub(self.next_off), emit);
        }
    }

    /// Places data starting at `seq` (the stream is anchored).
    fn place(
        &mut self,
        ts: Timestamp,
        seq: u32,
        fin: bool,
        payload: &[u8],
        emit: &mut impl FnMut(Chunk<'_>),
    ) {
        if fin && self.fin_off.is_none() {
            let end = self.distance(seq).saturating_add(payload.len() as i64);
            if let Some(off) = self.next_off.checked_add_signed(end) {
                self.fin_off = Some(off);
            }
        }
        let mut payload = payload;
        let mut seq = seq;
        loop {
            if payload.is_empty() {
                return;
            }
            let len = payload.len() as i64;
            let dist = self.distance(seq);
            if dist.saturating_add(len) <= 0 {
                self.count_retransmitted(payload.len() as u64);
                return;
            }
            if dist < 0 {
                // Starts before the next expected byte: keep the new part.
                let skip = dist.unsigned_abs() as usize;
                self.count_retransmitted(skip as u64);
                payload = payload.get(skip..).unwrap_or_default();
                seq = seq.wrapping_add(skip as u32);
                continue;
            }
            if dist == 0 {
                self.far_strikes = 0;
                // Up to the first buffered range, which arrived first and wins.
                let room = match self.pending.first_start() {
                    Some(k) => {
                        usize::try_from(k.saturating_sub(self.next_off)).unwrap_or(usize::MAX)
                    }
                    None => usize::MAX,
                };
                let (now, rest) = payload.split_at(payload.len().min(room));
                self.deliver(ts, now, emit);
                self.drain(emit);
                payload = rest;
                seq = seq.wrapping_add(now.len() as u32);
                continue;
            }
            let start = self.next_off.saturating_add(dist.unsigned_abs());
            let end = start.saturating_add(payload.len() as u64);
            let within_reach = end.saturating_sub(self.next_off) <= self.limits.max_buffered as u64;
            if !within_reach {
                if !self.pending.is_empty() {
                    // The oldest hole will not be filled in time.
                    self.skip_first_hole(ts, emit);
                    continue;
                }
                self.far_strikes = self.far_strikes.saturating_add(1);
                if self.far_strikes < FAR_RESYNC_STRIKES {
                    self.stats.dropped_bytes = self
                        .stats
                        .dropped_bytes
                        .saturating_add(payload.len() as u64);
                    return;
                }
                self.far_strikes = 0;
                self.gap(ts, dist.unsigned_abs(), emit);
                continue;
            }
            let pieces = self.pending.uncovered(start, end);
            let cost = (self.pending.cost() as u64).saturating_add(Pending::cost_of(&pieces));
            if cost <= self.budget() as u64 {
                self.far_strikes = 0;
                let kept = self.pending.insert(ts, start, payload, &pieces);
                self.count_retransmitted((payload.len() as u64).saturating_sub(kept));
                self.seen_end = self.seen_end.max(end);
                self.give_up_acked(ts, emit);
                return;
            }
            if !self.pending.is_empty() {
                // Out of budget: the oldest hole goes first.
                self.skip_first_hole(ts, emit);
                continue;
            }
            // Alone over the budget: the hole before it is given up now.
            self.gap(ts, dist.unsigned_abs(), emit);
        }
    }

    /// The out-of-order budget in force (see the module docs).
    fn budget(&self) -> usize {
        if self.peer_acks {
            self.limits.max_buffered
        } else {
            self.limits.unacked_budget.min(self.limits.max_buffered)
        }
    }

    /// Holes the peer acknowledged bytes past can never be filled: each is
    /// a gap, followed by the data behind it. A hole the ACK ends inside
    /// waits (the rest of it may still come, and a gap before it would
    /// free nothing); a lost tail with nothing behind it waits for data or
    /// the end.
    fn give_up_acked(&mut self, ts: Timestamp, emit: &mut impl FnMut(Chunk<'_>)) {
        while let Some(first) = self.pending.first_start() {
            if self.acked_off < first {
                return;
            }
            self.gap(ts, first.saturating_sub(self.next_off), emit);
            self.drain(emit);
        }
    }

    /// Signed distance from the next expected sequence number.
    fn distance(&self, seq: u32) -> i64 {
        let next = self.next_seq.unwrap_or(seq);
        i64::from(seq.wrapping_sub(next) as i32)
    }

    fn advance(&mut self, n: u64) {
        self.next_off = self.next_off.saturating_add(n);
        self.seen_end = self.seen_end.max(self.next_off);
        // Truncation to u32 is the point: sequence space is mod 2^32.
        self.next_seq = self.next_seq.map(|s| s.wrapping_add(n as u32));
    }

    fn count_retransmitted(&mut self, n: u64) {
        self.stats.retransmitted_bytes = self.stats.retransmitted_bytes.saturating_add(n);
    }

    fn deliver(&mut self, ts: Timestamp, bytes: &[u8], emit: &mut impl FnMut(Chunk<'_>)) {
        if bytes.is_empty() {
            return;
        }
        emit(Chunk::Data { ts, bytes });
        self.stats.delivered_bytes = self
            .stats
            .delivered_bytes
            .saturating_add(bytes.len() as u64);
        self.advance(bytes.len() as u64);
    }

    fn gap(&mut self, ts: Timestamp, n: u64, emit: &mut impl FnMut(Chunk<'_>)) {
        if n == 0 {
            return;
        }
        emit(Chunk::Gap {
            ts,
            offset: self.next_off,
            bytes: n,
        });
        self.stats.gap_bytes = self.stats.gap_bytes.saturating_add(n);
        self.advance(n);
    }

    /// Hands out buffered ranges that the next expected byte has reached,
    /// each with its own arrival time.
    fn drain(&mut self, emit: &mut impl FnMut(Chunk<'_>)) {
        while self
            .pending
            .first_start()
            .is_some_and(|start| start <= self.next_off)
        {
            let Some((start, range)) = self.pending.pop_first() else {
                return;
            };
            let skip = usize::try_from(self.next_off.saturating_sub(start)).unwrap_or(usize::MAX);
            match range.bytes.get(skip..) {
                Some(rest) if !rest.is_empty() => {
                    self.count_retransmitted(skip as u64);
                    self.deliver(range.ts, rest, emit);
                }
                _ => self.count_retransmitted(range.bytes.len() as u64),
            }
        }
    }

    /// Reports the hole before the first buffered range as a gap decided
    /// at `ts` and hands out what follows it.
    fn skip_first_hole(&mut self, ts: Timestamp, emit: &mut impl FnMut(Chunk<'_>)) {
        if let Some(start) = self.pending.first_start() {
            self.gap(ts, start.saturating_sub(self.next_off), emit);
            self.drain(emit);
        }
    }
}
