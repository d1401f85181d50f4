//! The start of a direction joined mid-stream (no SYN seen): its first
//! data segments are held briefly before the stream is anchored, because
//! the capture may show them out of order (a message's payload segment
//! captured just before the segment with its header, at the same
//! timestamp). Anchoring at the first segment seen would make the header
//! "old" and lose the message; anchoring at the lowest sequence number of
//! the held segments keeps it.

use super::pending::SEGMENT_OVERHEAD;
use super::{Chunk, Reassembler};
use crate::capture::Timestamp;

/// One held segment (data, or a bare FIN), as it arrived.
#[derive(Debug)]
pub(super) struct HeldSegment {
    pub ts: Timestamp,
    pub seq: u32,
    pub fin: bool,
    pub bytes: Vec<u8>,
}

/// Segments held until the start is anchored. Invariant: `segments` is
/// non-empty and in arrival order; `cost` is the sum of
/// `len + SEGMENT_OVERHEAD`.
#[derive(Debug)]
pub(super) struct StartHold {
    /// Arrival of the first held segment.
    pub since: Timestamp,
    pub cost: usize,
    pub segments: Vec<HeldSegment>,
}

impl StartHold {
    pub fn new(first: HeldSegment) -> StartHold {
        StartHold {
            since: first.ts,
            cost: first.bytes.len().saturating_add(SEGMENT_OVERHEAD),
            segments: vec![first],
        }
    }

    pub fn push(&mut self, seg: HeldSegment) {
        self.cost = self
            .cost
            .saturating_add(seg.bytes.len().saturating_add(SEGMENT_OVERHEAD));
        self.segments.push(seg);
    }

    /// Where the stream starts: the lowest sequence number among the held
    /// segments that lie at most `reach` bytes before the first one (one
    /// further back is garbage or a stray retransmission of old data, not
    /// the segment the others follow).
    pub fn anchor(&self, reach: usize) -> Option<u32> {
        // Data anchors; a bare FIN only when no data came.
        let data = || self.segments.iter().filter(|s| !s.bytes.is_empty());
        let base = data().next().or(self.segments.first())?.seq;
        let reach = i64::try_from(reach).unwrap_or(i64::MAX);
        let lowest = data()
            .map(|s| i64::from(s.seq.wrapping_sub(base) as i32))
            .filter(|&d| d >= reach.saturating_neg())
            .min()
            .unwrap_or(0);
        // Truncation to u32 is the point: sequence space is mod 2^32.
        Some(base.wrapping_add(lowest as u32))
    }
}

impl Reassembler {
    /// Holds a data segment of a mid-stream start; anchors once the hold
    /// exceeds its byte allowance.
    pub(super) fn hold(
        &mut self,
        ts: Timestamp,
        seq: u32,
        fin: bool,
        payload: &[u8],
        emit: &mut impl FnMut(Chunk<'_>),
    ) {
        let seg = HeldSegment {
            ts,
            seq,
            fin,
            bytes: payload.to_vec(),
        };
        let cost = match &mut self.start {
            Some(h) => {
                h.push(seg);
                h.cost
            }
            None => self.start.insert(StartHold::new(seg)).cost,
        };
        if cost > self.limits.start_hold_bytes.min(self.limits.max_buffered) {
            self.release_start(emit);
        }
    }

    /// Ends a start hold: anchors at its lowest segment and places the
    /// held segments in arrival order, each with its own time.
    pub(super) fn release_start(&mut self, emit: &mut impl FnMut(Chunk<'_>)) {
        let Some(hold) = self.start.take() else {
            return;
        };
        if self.next_seq.is_none()
            && let Some(anchor) = hold.anchor(self.limits.max_buffered)
        {
            self.next_seq = Some(anchor);
        }
        for s in hold.segments {
            self.place(s.ts, s.seq, s.fin, &s.bytes, emit);
        }
    }

    /// Anchors at `seq` (a SYN), placing any segments held before it.
    pub(super) fn anchor(&mut self, seq: u32, emit: &mut impl FnMut(Chunk<'_>)) {
        self.next_seq = Some(seq);
        self.release_start(emit);
    }
}
