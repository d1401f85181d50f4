//! The bounds that decide when a hole is given up and how long a
//! mid-stream start is held; each with where its number comes from.

use super::pending::SEGMENT_OVERHEAD;
use std::time::Duration;

/// Out-of-order budget while the peer's ACKs are not visible: four
/// maximal (TSO/GRO-coalesced, 64 KiB) segments, or about 180 segments of
/// an Ethernet MSS. A quarter of the default `max_buffered`.
pub const DEFAULT_UNACKED_BUDGET: usize = 256 * 1024;

/// How long a hole may stay open, in capture time, once data behind it
/// was seen. A lost segment is sent again after about one round trip (fast
/// retransmit) or one RTO (at least 200 ms on Linux, 1 s initially per RFC
/// 6298), so 3 s covers a retransmission and one backoff on ordinary
/// paths, while keeping a one-sided capture's delay to a few seconds.
pub const DEFAULT_GAP_TIMEOUT: Duration = Duration::from_secs(3);

/// How long the first data segments of a direction joined mid-stream are
/// held before the stream is anchored. Segments captured out of order at
/// a sensor are microseconds apart; 200 ms also covers reordering on most
/// paths, while delaying a mid-stream flow's first output only briefly.
pub const START_HOLD: Duration = Duration::from_millis(200);

/// Bytes of a mid-stream start held at most (one 64 KiB segment always
/// fits, with its bookkeeping).
pub const START_HOLD_BYTES: usize = 64 * 1024 + 2 * SEGMENT_OVERHEAD;

/// When holes are given up (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Hard cap on buffered out-of-order bytes (plus [`SEGMENT_OVERHEAD`]
    /// per range), and the reach: how far past the next expected byte a
    /// segment may land and still be buffered.
    pub max_buffered: usize,
    /// The budget while no ACK of the peer for this direction was seen
    /// (capped by `max_buffered`).
    pub unacked_budget: usize,
    /// Capture time a hole may stay open once data behind it was seen.
    pub gap_timeout: Duration,
    /// Capture time a mid-stream start is held before it is anchored.
    pub start_hold: Duration,
    /// Bytes a mid-stream start may hold (capped by `max_buffered`).
    pub start_hold_bytes: usize,
}

impl ReassemblyLimits {
    /// `max_buffered` and `gap_timeout` as given, the rest by default.
    pub fn new(max_buffered: usize, gap_timeout: Duration) -> ReassemblyLimits {
        ReassemblyLimits {
            max_buffered,
            unacked_budget: DEFAULT_UNACKED_BUDGET,
            gap_timeout,
            start_hold: START_HOLD,
            start_hold_bytes: START_HOLD_BYTES,
        }
    }
}
