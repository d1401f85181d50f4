//! The start of a direction joined mid-stream (no SYN seen): its first
//! data segments are held briefly before the stream is anchored, because
//! the capture may show them out of order (a message's payload segment
//! captured just before the segment with its header, at the same
//! timestamp). Anchoring at the first segment seen would make the header
//! "old" and lose the message; anchoring at the lowest sequence number of
//! the held segments keeps it.

use super::pending::SEGMENT_OVERHEAD;
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
