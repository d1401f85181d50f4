//! One direction of a TCP connection: segments in, ordered bytes and gaps out.
//!
//! - Sequence numbers are compared by signed 32-bit distance to the next
//!   expected one (`wrapping_sub` as `i32`), so wraparound at 2^32 is
//!   ordinary, and a segment more than 2^31 behind is "ahead" (as in TCP).
//! - The first segment seen sets the initial sequence number; a SYN consumes
//!   one (its data, if any, starts at `seq + 1`). A capture that starts mid-
//!   stream thus starts delivering at its first segment.
//! - In-order data is handed out straight from the packet (no copy). Out-of-
//!   order data is copied into a bounded buffer and handed out when the hole
//!   before it fills.
//! - Overlaps: the first bytes to arrive win. Bytes already delivered cannot
//!   be taken back, so "first wins" is the only policy that is the same for
//!   delivered and buffered data. Conflicting retransmissions are therefore
//!   ignored (counted as retransmitted bytes).
//! - A hole is given up on and reported as [`Chunk::Gap`] of its exact size
//!   when: buffering the next segment would exceed the byte budget, a
//!   segment arrives beyond the reach (`max_buffered` bytes past the next
//!   expected byte), or the stream is flushed (FIN, RST, timeout, end of
//!   input). Bytes lost after the last received byte are only reported when
//!   a FIN told where the stream ends.
//! - A segment beyond the reach with nothing buffered is dropped (it may be
//!   garbage); after [`FAR_RESYNC_STRIKES`] such segments in a row the stream
//!   jumps to them, reporting the skipped bytes as a gap.

use std::collections::BTreeMap;

/// Consecutive far-ahead segments after which the stream jumps forward.
pub const FAR_RESYNC_STRIKES: u32 = 3;
/// Bookkeeping cost charged per buffered segment against the byte budget,
/// so that many tiny segments cannot cost more memory than the budget says
/// (a map entry plus a `Vec` header is about this size).
pub const SEGMENT_OVERHEAD: usize = 64;

/// What the reassembler hands out, in stream order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    Data(&'a [u8]),
    /// This many bytes of the stream were never seen.
    Gap(u64),
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
    /// `None` until the first segment fixes the sequence space.
    next_seq: Option<u32>,
    /// Stream offset of `next_seq`: bytes delivered plus gaps so far.
    next_off: u64,
    /// Out-of-order data by stream offset.
    ///
    /// Invariant: every key is > `next_off`; entries are non-empty and do
    /// not overlap; `cost` == sum of (len + SEGMENT_OVERHEAD) <= `max_buffered`;
    /// every entry ends at most `max_buffered` bytes past `next_off`.
    pending: BTreeMap<u64, Vec<u8>>,
    cost: usize,
    max_buffered: usize,
    /// Stream offset of the FIN, once seen.
    fin_off: Option<u64>,
    far_strikes: u32,
    stats: ReassemblyStats,
}

impl Reassembler {
    /// `max_buffered`: the out-of-order byte budget and reach (see module).
    pub fn new(max_buffered: usize) -> Reassembler {
        Reassembler {
            next_seq: None,
            next_off: 0,
            pending: BTreeMap::new(),
            cost: 0,
            max_buffered,
            fin_off: None,
            far_strikes: 0,
            stats: ReassemblyStats::default(),
        }
    }

    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    /// A FIN has been seen in this direction.
    pub fn fin_seen(&self) -> bool {
        self.fin_off.is_some()
    }

    /// Bytes currently held out of order.
    pub fn buffered_bytes(&self) -> usize {
        self.pending.values().map(Vec::len).sum()
    }

    /// The sequence number expected next, once known.
    pub fn next_seq(&self) -> Option<u32> {
        self.next_seq
    }

    /// Takes one segment; hands out whatever became contiguous.
    pub fn segment(
        &mut self,
        seq: u32,
        syn: bool,
        fin: bool,
        payload: &[u8],
        emit: &mut impl FnMut(Chunk<'_>),
    ) {
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        if self.next_seq.is_none() {
            self.next_seq = Some(data_seq);
        }
        if fin && self.fin_off.is_none() {
            let end = self.distance(data_seq).saturating_add(payload.len() as i64);
            if let Some(off) = self.next_off.checked_add_signed(end) {
                self.fin_off = Some(off);
            }
        }
        let mut payload = payload;
        let mut seq = data_seq;
        loop {
            if payload.is_empty() {
                return;
            }
            let len = payload.len() as i64;
            let dist = self.distance(seq);
            if dist.saturating_add(len) <= 0 {
                self.stats.retransmitted_bytes = self
                    .stats
                    .retransmitted_bytes
                    .saturating_add(payload.len() as u64);
                return;
            }
            if dist < 0 {
                // Starts before the next expected byte: keep the new part.
                let skip = dist.unsigned_abs() as usize;
                self.stats.retransmitted_bytes =
                    self.stats.retransmitted_bytes.saturating_add(skip as u64);
                payload = payload.get(skip..).unwrap_or_default();
                seq = seq.wrapping_add(skip as u32);
                continue;
            }
            if dist == 0 {
                self.far_strikes = 0;
                // Up to the first buffered entry, which arrived first and wins.
                let room = match self.pending.first_key_value() {
                    Some((&k, _)) => {
                        usize::try_from(k.saturating_sub(self.next_off)).unwrap_or(usize::MAX)
                    }
                    None => usize::MAX,
                };
                let (now, rest) = payload.split_at(payload.len().min(room));
                self.deliver(now, emit);
                self.drain(emit);
                payload = rest;
                seq = seq.wrapping_add(now.len() as u32);
                continue;
            }
            let start = self.next_off.saturating_add(dist.unsigned_abs());
            let end = start.saturating_add(payload.len() as u64);
            let within_reach = end.saturating_sub(self.next_off) <= self.max_buffered as u64;
            let pieces = if within_reach {
                self.uncovered(start, end)
            } else {
                Vec::new()
            };
            let added: u64 = pieces
                .iter()
                .map(|(from, to)| {
                    to.saturating_sub(*from)
                        .saturating_add(SEGMENT_OVERHEAD as u64)
                })
                .sum();
            let fits = within_reach
                && (self.cost as u64).saturating_add(added) <= self.max_buffered as u64;
            if fits {
                self.far_strikes = 0;
                self.insert(start, payload, &pieces);
                return;
            }
            if !self.pending.is_empty() {
                // The oldest hole will not be filled in time: give it up.
                self.skip_first_hole(emit);
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
            self.gap(dist as u64, emit);
        }
    }

    /// Gives up on every hole: buffered data is handed out after gaps, and
    /// if the FIN position is known, lost bytes before it are a last gap.
    pub fn flush(&mut self, emit: &mut impl FnMut(Chunk<'_>)) {
        while !self.pending.is_empty() {
            self.skip_first_hole(emit);
        }
        if let Some(fin) = self.fin_off
            && fin > self.next_off
        {
            self.gap(fin.saturating_sub(self.next_off), emit);
        }
    }

    /// Signed distance from the next expected sequence number.
    fn distance(&self, seq: u32) -> i64 {
        let next = self.next_seq.unwrap_or(seq);
        i64::from(seq.wrapping_sub(next) as i32)
    }

    fn advance(&mut self, n: u64) {
        self.next_off = self.next_off.saturating_add(n);
        // Truncation to u32 is the point: sequence space is mod 2^32.
        self.next_seq = self.next_seq.map(|s| s.wrapping_add(n as u32));
    }

    fn deliver(&mut self, bytes: &[u8], emit: &mut impl FnMut(Chunk<'_>)) {
        if bytes.is_empty() {
            return;
        }
        emit(Chunk::Data(bytes));
        self.stats.delivered_bytes = self
            .stats
            .delivered_bytes
            .saturating_add(bytes.len() as u64);
        self.advance(bytes.len() as u64);
    }

    fn gap(&mut self, n: u64, emit: &mut impl FnMut(Chunk<'_>)) {
        emit(Chunk::Gap(n));
        self.stats.gap_bytes = self.stats.gap_bytes.saturating_add(n);
        self.advance(n);
    }

    /// Hands out buffered entries that the next expected byte has reached.
    fn drain(&mut self, emit: &mut impl FnMut(Chunk<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            let start = *entry.key();
            if start > self.next_off {
                break;
            }
            let bytes = entry.remove();
            self.cost = self
                .cost
                .saturating_sub(bytes.len().saturating_add(SEGMENT_OVERHEAD));
            let skip = usize::try_from(self.next_off.saturating_sub(start)).unwrap_or(usize::MAX);
            match bytes.get(skip..) {
                Some(rest) if !rest.is_empty() => {
                    self.stats.retransmitted_bytes =
                        self.stats.retransmitted_bytes.saturating_add(skip as u64);
                    self.deliver(rest, emit);
                }
                _ => {
                    self.stats.retransmitted_bytes = self
                        .stats
                        .retransmitted_bytes
                        .saturating_add(bytes.len() as u64)
                }
            }
        }
    }

    /// Reports the hole before the first buffered entry as a gap and hands
    /// out what follows it.
    fn skip_first_hole(&mut self, emit: &mut impl FnMut(Chunk<'_>)) {
        if let Some((&start, _)) = self.pending.first_key_value() {
            self.gap(start.saturating_sub(self.next_off), emit);
            self.drain(emit);
        }
    }

    /// The parts of `[start, end)` no buffered entry covers yet.
    fn uncovered(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        // The entry starting at or before `start` may reach into it.
        let mut cursor = start;
        if let Some((&k, v)) = self.pending.range(..=start).next_back() {
            cursor = cursor.max(k.saturating_add(v.len() as u64));
        }
        let mut pieces = Vec::new();
        for (&k, v) in self.pending.range(start..end) {
            if k > cursor {
                pieces.push((cursor, k));
            }
            cursor = cursor.max(k.saturating_add(v.len() as u64));
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        pieces
    }

    /// Buffers the `pieces` (from [`Self::uncovered`]) of `bytes`, which
    /// starts at stream offset `start`: first arrival wins.
    fn insert(&mut self, start: u64, bytes: &[u8], pieces: &[(u64, u64)]) {
        let mut kept = 0u64;
        for &(from, to) in pieces {
            let slice = bytes
                .get(offset_in(from, start)..offset_in(to, start))
                .unwrap_or_default();
            kept = kept.saturating_add(slice.len() as u64);
            self.cost = self
                .cost
                .saturating_add(slice.len().saturating_add(SEGMENT_OVERHEAD));
            self.pending.insert(from, slice.to_vec());
        }
        self.stats.retransmitted_bytes = self
            .stats
            .retransmitted_bytes
            .saturating_add((bytes.len() as u64).saturating_sub(kept));
    }
}

/// Where stream offset `at` falls in a slice starting at stream offset
/// `start` (`at >= start` by the caller's invariant; 0 otherwise).
fn offset_in(at: u64, start: u64) -> usize {
    usize::try_from(at.saturating_sub(start)).unwrap_or(usize::MAX)
}
