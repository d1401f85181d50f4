//! The out-of-order buffer of one direction: byte ranges by stream offset,
//! each with the capture time of the segment that brought it, and an index
//! by arrival time (how long the oldest hole has been visible).

use crate::capture::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

/// Bookkeeping cost charged per buffered range against the byte budget, so
/// that many tiny segments cannot cost more memory than the budget says: a
/// map entry with its `Vec` header and timestamp, the arrival-index entry,
/// and B-tree slack are about this size.
pub const SEGMENT_OVERHEAD: usize = 128;

/// Bytes that arrived at `ts`.
#[derive(Debug)]
pub(super) struct Range {
    pub ts: Timestamp,
    pub bytes: Vec<u8>,
}

/// Invariant: ranges are non-empty and do not overlap; `arrivals` holds
/// exactly one `(ts, start)` per range; `cost` is the sum of
/// `len + SEGMENT_OVERHEAD` over the ranges.
#[derive(Debug, Default)]
pub(super) struct Pending {
    ranges: BTreeMap<u64, Range>,
    arrivals: BTreeSet<(Timestamp, u64)>,
    cost: usize,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn cost(&self) -> usize {
        self.cost
    }

    /// Bytes held (without bookkeeping).
    pub fn bytes(&self) -> usize {
        self.ranges.values().map(|r| r.bytes.len()).sum()
    }

    /// Stream offset of the first buffered byte.
    pub fn first_start(&self) -> Option<u64> {
        self.ranges.first_key_value().map(|(&k, _)| k)
    }

    /// When the oldest buffered range arrived: the first hole has been
    /// visible (data behind it seen) since then at least.
    pub fn oldest_arrival(&self) -> Option<Timestamp> {
        self.arrivals.first().map(|&(ts, _)| ts)
    }

    /// Removes and returns the first range.
    pub fn pop_first(&mut self) -> Option<(u64, Range)> {
        let (start, range) = self.ranges.pop_first()?;
        self.arrivals.remove(&(range.ts, start));
        self.cost = self
            .cost
            .saturating_sub(range.bytes.len().saturating_add(SEGMENT_OVERHEAD));
        Some((start, range))
    }

    /// The parts of `[start, end)` no buffered range covers yet.
    pub fn uncovered(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        // The range starting at or before `start` may reach into it.
        let mut cursor = start;
        if let Some((&k, r)) = self.ranges.range(..=start).next_back() {
            cursor = cursor.max(k.saturating_add(r.bytes.len() as u64));
        }
        let mut pieces = Vec::new();
        for (&k, r) in self.ranges.range(start..end) {
            if k > cursor {
                pieces.push((cursor, k));
            }
            cursor = cursor.max(k.saturating_add(r.bytes.len() as u64));
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        pieces
    }

    /// What buffering `pieces` would cost.
    pub fn cost_of(pieces: &[(u64, u64)]) -> u64 {
        pieces
            .iter()
            .map(|(from, to)| {
                to.saturating_sub(*from)
                    .saturating_add(SEGMENT_OVERHEAD as u64)
            })
            .sum()
    }

    /// Buffers the `pieces` (from [`Self::uncovered`]) of `bytes`, which
    /// starts at stream offset `start` and arrived at `ts`. Returns how many
    /// bytes were kept (the rest was already buffered: first arrival wins).
    pub fn insert(
        &mut self,
        ts: Timestamp,
        start: u64,
        bytes: &[u8],
        pieces: &[(u64, u64)],
    ) -> u64 {
        let mut kept = 0u64;
        for &(from, to) in pieces {
            let slice = bytes
                .get(offset_in(from, start)..offset_in(to, start))
                .unwrap_or_default();
            if slice.is_empty() {
                continue;
            }
            kept = kept.saturating_add(slice.len() as u64);
            self.cost = self
                .cost
                .saturating_add(slice.len().saturating_add(SEGMENT_OVERHEAD));
            self.arrivals.insert((ts, from));
            self.ranges.insert(
                from,
                Range {
                    ts,
                    bytes: slice.to_vec(),
                },
            );
        }
        kept
    }
}

/// Where stream offset `at` falls in a slice starting at stream offset
/// `start` (`at >= start` by the caller's invariant; 0 otherwise).
fn offset_in(at: u64, start: u64) -> usize {
    usize::try_from(at.saturating_sub(start)).unwrap_or(usize::MAX)
}
