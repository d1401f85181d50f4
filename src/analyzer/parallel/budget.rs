//! How much formatted output may wait for the merge. Rounds in flight are
//! bounded in number, but one round's output is not: a round that ends
//! blocks written with `-v` is megabytes of JSON. A worker therefore
//! waits before a round while the output not yet written is over
//! [`OUTPUT_IN_FLIGHT`], unless its round is the next the merge writes.
//!
//! That exception is what keeps it from locking up: the merge writes
//! rounds in order, and every worker with operations in the next round
//! has that round next in its queue (its earlier ones were written), so
//! the next round is always made, and the merge always gets on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Output bytes made but not written before workers wait: 8 MiB of JSON
/// is the output of 2.7 MiB of inv traffic, and more than a full window
/// of blocks makes (their output is a fraction of their input). On 1 GB
/// of inv, 2 threads, 32 rounds: peak RSS 62 MiB with 16 MiB, 51 MiB with
/// 8 MiB.
pub const OUTPUT_IN_FLIGHT: usize = 8 << 20;

#[derive(Default)]
pub struct OutputBudget {
    /// Bytes made by workers, not yet written by the merge.
    in_flight: Mutex<usize>,
    /// Signalled by the merge after each round.
    written_cv: Condvar,
    /// Rounds the merge has written.
    pub written: AtomicU64,
}

impl OutputBudget {
    /// The bytes in flight, locked (a panicked holder left a count that
    /// is still right: every update is one statement).
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps until the merge writes a round.
    fn wait<'a>(&self, guard: MutexGuard<'a, usize>) -> MutexGuard<'a, usize> {
        self.written_cv
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Before a worker makes `round`: waits while it may not.
    pub fn wait_turn(&self, round: u64) {
        let mut in_flight = self.lock();
        while *in_flight > OUTPUT_IN_FLIGHT && round > self.written.load(Ordering::Acquire) {
            in_flight = self.wait(in_flight);
        }
    }

    /// Before the reading thread sends `round`: while `most` rounds are in
    /// flight, waits until no more than half are. It then makes a burst of
    /// rounds and sleeps through the workers' burst, instead of waking for
    /// each round a worker takes (a context switch each, on both sides).
    pub fn wait_for_room(&self, round: u64, most: u64) {
        let in_flight = |written: &AtomicU64| round.saturating_sub(written.load(Ordering::Acquire));
        if in_flight(&self.written) < most {
            return;
        }
        let mut guard = self.lock();
        while in_flight(&self.written) > most / 2 {
            guard = self.wait(guard);
        }
    }

    /// A worker made `bytes` of output.
    pub fn made(&self, bytes: usize) {
        let mut in_flight = self.lock();
        *in_flight = in_flight.saturating_add(bytes);
    }

    /// The merge wrote a round of `bytes`.
    pub fn wrote(&self, bytes: usize) {
        let mut in_flight = self.lock();
        *in_flight = in_flight.saturating_sub(bytes);
        self.written.fetch_add(1, Ordering::Release);
        drop(in_flight);
        self.written_cv.notify_all();
    }

    /// The merge stopped (the end, or an output error): nobody waits.
    pub fn close(&self) {
        let in_flight = self.lock();
        self.written.store(u64::MAX, Ordering::Release);
        drop(in_flight);
        self.written_cv.notify_all();
    }
}

/// Closes the budget when dropped (however the merge ends).
pub struct CloseOnDrop<'a>(pub &'a OutputBudget);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn over_budget_only_the_next_round_is_made() {
        let budget = Arc::new(OutputBudget::default());
        budget.made(OUTPUT_IN_FLIGHT + 1);
        // Round 0 is the next to be written: it goes on at once.
        budget.wait_turn(0);
        let waiting = Arc::clone(&budget);
        let later = std::thread::spawn(move || waiting.wait_turn(1));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!later.is_finished(), "round 1 made while over budget");
        budget.wrote(OUTPUT_IN_FLIGHT + 1);
        later.join().unwrap();
    }

    #[test]
    fn a_full_window_waits_until_half_of_it_is_written() {
        let budget = Arc::new(OutputBudget::default());
        budget.wait_for_room(3, 4); // 3 rounds in flight: room
        let waiting = Arc::clone(&budget);
        let front = std::thread::spawn(move || waiting.wait_for_room(4, 4));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!front.is_finished(), "went on with 4 of 4 rounds in flight");
        budget.wrote(0); // 3 in flight: still more than half
        std::thread::sleep(Duration::from_millis(50));
        assert!(!front.is_finished(), "went on with 3 of 4 rounds in flight");
        budget.wrote(0); // 2 in flight
        front.join().unwrap();
    }

    #[test]
    fn a_closed_budget_lets_every_round_go() {
        let budget = Arc::new(OutputBudget::default());
        budget.made(OUTPUT_IN_FLIGHT + 1);
        let waiting = Arc::clone(&budget);
        let later = std::thread::spawn(move || waiting.wait_turn(5));
        drop(CloseOnDrop(&budget));
        later.join().unwrap();
    }
}
