//! When a message happened: the capture time of the packet that completed
//! it, i.e. the latest time among the packets its bytes came in. Bytes
//! handed out late (held behind a hole) keep their own packet's time, and a
//! legacy `version`/`verack`, which the framing decoder only recognizes
//! when the next header's magic follows, still gets the time of its own
//! last byte.

use crate::capture::Timestamp;
use std::collections::VecDeque;

/// Spans kept per direction; beyond this the oldest two merge (latest time
/// wins), which can only date a message later, never earlier. A message is
/// usually a few segments; only a flood of tiny segments inside one large
/// message reaches this.
const MAX_SPANS: usize = 64;

/// The stream ranges fed to a framing decoder that it may not have framed
/// yet, with their capture times. Offsets are the reassembler's (gaps
/// included), as in `Frame::stream_offset`.
#[derive(Debug, Default)]
pub struct ChunkTimes {
    /// `(start, end, ts)`, in stream order, contiguous.
    spans: VecDeque<(u64, u64, Timestamp)>,
    /// Offset after the last byte (or gap) seen.
    fed: u64,
}

impl ChunkTimes {
    /// `len` bytes captured at `ts` follow.
    pub fn data(&mut self, len: usize, ts: Timestamp) {
        let end = self.fed.saturating_add(len as u64);
        if self.spans.len() >= MAX_SPANS
            && let (Some(a), Some(b)) = (self.spans.pop_front(), self.spans.pop_front())
        {
            self.spans.push_front((a.0, b.1, a.2.max(b.2)));
        }
        self.spans.push_back((self.fed, end, ts));
        self.fed = end;
    }

    /// `bytes` bytes were never captured. The bytes before them may still
    /// frame (a legacy message ending right at the gap), so their spans
    /// stay until a later message passes them.
    pub fn gap(&mut self, bytes: u64) {
        self.fed = self.fed.saturating_add(bytes);
    }

    /// The decoder holds nothing unframed.
    pub fn clear(&mut self) {
        self.spans.clear();
    }

    /// The time of a message occupying `[start, end)`: the latest among
    /// the spans it overlaps (`fallback` if none, which the contiguity of
    /// the spans rules out). Spans entirely before `end` are dropped.
    pub fn message(&mut self, start: u64, end: u64, fallback: Timestamp) -> Timestamp {
        let ts = self
            .spans
            .iter()
            .filter(|&&(s, e, _)| s < end.max(start.saturating_add(1)) && e > start)
            .map(|&(_, _, ts)| ts)
            .max()
            .unwrap_or(fallback);
        while self.spans.front().is_some_and(|&(_, e, _)| e <= end) {
            self.spans.pop_front();
        }
        ts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::new(s, 0)
    }

    #[test]
    fn a_message_takes_the_latest_time_of_its_bytes() {
        let mut c = ChunkTimes::default();
        c.data(10, t(5)); // 0..10
        c.data(10, t(3)); // 10..20, held behind a hole, arrived earlier
        c.data(10, t(4)); // 20..30
        assert_eq!(c.message(0, 8, t(9)), t(5));
        assert_eq!(c.message(8, 12, t(9)), t(5));
        // A legacy message ending at 20, decided when 20..24 came.
        assert_eq!(c.message(12, 20, t(9)), t(3));
        assert_eq!(c.message(20, 30, t(9)), t(4));
        c.gap(5);
        c.data(10, t(7)); // 35..45
        assert_eq!(c.message(35, 45, t(9)), t(7));
    }

    #[test]
    fn many_tiny_spans_merge_and_stay_bounded() {
        let mut c = ChunkTimes::default();
        for i in 0..1000 {
            c.data(1, t(i));
        }
        assert!(c.spans.len() <= MAX_SPANS);
        assert_eq!(c.message(0, 1000, t(0)), t(999));
        assert!(c.spans.is_empty());
    }
}
