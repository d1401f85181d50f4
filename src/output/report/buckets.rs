//! Time buckets whose width grows with the capture: the message-rate chart
//! of a minute and of a week both get at most [`MAX_BUCKETS`] points.
//!
//! Widths follow a ladder of round durations (1 ms, 10 ms, 100 ms, 1 s,
//! 10 s, 1 min, 10 min, 1 h, 6 h, 1 day, 1 week, then doubling), each a
//! whole multiple of the one before, and buckets start at whole multiples
//! of their width since the Unix epoch: coarsening merges whole buckets,
//! so the counts stay exact whatever order the messages came in.

/// Most buckets between the first and the last message (the chart's
/// points): enough for a smooth curve across a wide screen, small in the
/// page (~7 numbers each).
pub const MAX_BUCKETS: usize = 1200;

const LADDER_US: [i64; 11] = [
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    60_000_000,
    600_000_000,
    3_600_000_000,
    21_600_000_000,
    86_400_000_000,
    604_800_000_000,
];

/// The finest width of the ladder, in microseconds.
pub const FINEST_US: i64 = LADDER_US[0];

/// The width after `width_us`: the next rung, or twice as wide past the
/// last (saturating: a span of the whole i64 range fits in one bucket).
pub fn coarser(width_us: i64) -> i64 {
    LADDER_US
        .iter()
        .copied()
        .find(|&w| w > width_us)
        .unwrap_or_else(|| width_us.saturating_mul(2))
}

/// Counts per bucket, merged when buckets are.
pub trait Merge: Default {
    fn merge(&mut self, other: Self);
}

/// Buckets of `T`, dense from the first to the last: `values[i]` is the
/// bucket starting at `(base + i) * width_us` microseconds.
#[derive(Debug)]
pub struct TimeBuckets<T> {
    width_us: i64,
    max: usize,
    base: i64,
    values: Vec<T>,
}

impl<T: Merge> TimeBuckets<T> {
    pub fn new(max: usize) -> Self {
        // At the widest width every i64 time falls in one of 4 buckets.
        debug_assert!(max >= 4);
        TimeBuckets {
            width_us: FINEST_US,
            max,
            base: 0,
            values: Vec::new(),
        }
    }

    /// The bucket holding time `t_us` (microseconds since the epoch),
    /// coarsening first if `t_us` would stretch the span beyond the limit.
    pub fn at(&mut self, t_us: i64) -> &mut T {
        let mut index = t_us.div_euclid(self.width_us);
        if self.values.is_empty() {
            self.base = index;
        }
        while !self.fits(index) {
            self.coarsen();
            index = t_us.div_euclid(self.width_us);
        }
        if index < self.base {
            // Rare (inputs out of time order): shift right.
            let missing = (self.base - index) as usize;
            let old = std::mem::take(&mut self.values);
            self.values = (0..missing).map(|_| T::default()).chain(old).collect();
            self.base = index;
        }
        let offset = (index - self.base) as usize;
        if offset >= self.values.len() {
            self.values.resize_with(offset + 1, T::default);
        }
        &mut self.values[offset]
    }

    fn fits(&self, index: i64) -> bool {
        if self.values.is_empty() {
            return true;
        }
        let last = self.base + self.values.len() as i64 - 1;
        let (lo, hi) = (self.base.min(index), last.max(index));
        (i128::from(hi) - i128::from(lo)) < self.max as i128
    }

    fn coarsen(&mut self) {
        let wider = coarser(self.width_us);
        debug_assert!(wider % self.width_us == 0 || wider == i64::MAX);
        let old = std::mem::take(&mut self.values);
        let old_base = self.base;
        let first = old_base.saturating_mul(self.width_us).div_euclid(wider);
        self.base = first;
        for (i, value) in old.into_iter().enumerate() {
            // Start times in microseconds, then the new index: exact for
            // every rung (multiples), saturating at the extremes.
            let start = (old_base + i as i64).saturating_mul(self.width_us);
            let offset = (start.div_euclid(wider) - first) as usize;
            if offset >= self.values.len() {
                self.values.resize_with(offset + 1, T::default);
            }
            self.values[offset].merge(value);
        }
        self.width_us = wider;
    }

    pub fn width_us(&self) -> i64 {
        self.width_us
    }

    /// Every bucket from the first to the last, empty ones as `T::default()`:
    /// (start in microseconds, value).
    pub fn dense(self) -> Vec<(i64, T)> {
        let (base, width) = (self.base, self.width_us);
        self.values
            .into_iter()
            .enumerate()
            .map(|(i, v)| ((base + i as i64).saturating_mul(width), v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Merge for u64 {
        fn merge(&mut self, other: u64) {
            *self += other;
        }
    }

    #[test]
    fn ladder_rungs_are_multiples() {
        for pair in LADDER_US.windows(2) {
            assert_eq!(pair[1] % pair[0], 0, "{pair:?}");
        }
        assert_eq!(coarser(LADDER_US[10]), 2 * LADDER_US[10]);
        assert_eq!(coarser(i64::MAX), i64::MAX);
    }

    #[test]
    fn a_long_span_coarsens_and_keeps_every_count() {
        let mut b = TimeBuckets::<u64>::new(100);
        // One message every 10 ms for 60 s: 6000 messages.
        for i in 0..6000i64 {
            *b.at(1_700_000_000_000_000 + i * 10_000) += 1;
        }
        assert_eq!(b.width_us(), 1_000_000, "60 s in at most 100 buckets: 1 s");
        let dense = b.dense();
        assert!(dense.len() <= 100);
        assert_eq!(dense.iter().map(|(_, c)| c).sum::<u64>(), 6000);
        assert!(dense.iter().all(|(start, _)| start % 1_000_000 == 0));
    }

    #[test]
    fn out_of_order_and_hostile_times_stay_bounded() {
        let mut b = TimeBuckets::<u64>::new(10);
        *b.at(5_000_000) += 1;
        *b.at(0) += 1;
        *b.at(i64::MAX) += 1;
        *b.at(i64::MIN) += 1;
        let dense = b.dense();
        assert!(dense.len() <= 10, "{}", dense.len());
        assert_eq!(dense.iter().map(|(_, c)| c).sum::<u64>(), 4);
    }
}
