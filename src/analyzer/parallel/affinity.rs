//! Which worker a new flow goes to. Flows of one client address to one
//! server go to the same worker while one of them is open, and for the v1
//! fallback window after one that may have been a failed v2 attempt
//! ended: Core's v1 retry (analyzer/v2/fallback.rs) is then recognised by
//! the worker that saw the attempt. Any other flow goes to the worker with
//! the fewest open flows, so that a few busy flows (four flows of blocks)
//! spread over the workers rather than land where a hash puts them.

use crate::analyzer::v2::fallback::FALLBACK_WINDOW_MS;
use crate::capture::Timestamp;
use crate::flow::{EndReason, FlowInfo};
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::time::Duration;

/// Ended attempts remembered at once, as the fallback tracker does
/// (beyond it both forget the oldest).
const MAX_ATTEMPTS: usize = 4096;

struct Placed {
    worker: usize,
    open: u32,
    /// When the last attempt of the pair ended, if it is remembered.
    attempt_ended: Option<Timestamp>,
}

pub struct Affinity {
    /// By a hash of (client address, server): two pairs that collide share
    /// a worker, which only moves load.
    pairs: HashMap<u64, Placed, foldhash::quality::RandomState>,
    hasher: foldhash::quality::RandomState,
    /// Remembered attempts, in the order they ended.
    attempts: VecDeque<(u64, Timestamp)>,
    /// Open flows per worker.
    open: Vec<u64>,
}

impl Affinity {
    pub fn new(workers: usize) -> Affinity {
        Affinity {
            pairs: HashMap::default(),
            hasher: foldhash::quality::RandomState::default(),
            attempts: VecDeque::new(),
            open: vec![0; workers.max(1)],
        }
    }

    fn pair(&self, info: &FlowInfo) -> u64 {
        self.hasher.hash_one((info.client.ip(), info.server))
    }

    /// The worker for a new flow, starting at `now`.
    pub fn start(&mut self, info: &FlowInfo, now: Timestamp) -> usize {
        self.forget(now);
        let pair = self.pair(info);
        let open = &mut self.open;
        let placed = self.pairs.entry(pair).or_insert_with(|| Placed {
            worker: (0..open.len()).min_by_key(|&w| open[w]).unwrap_or(0),
            open: 0,
            attempt_ended: None,
        });
        placed.open += 1;
        if let Some(n) = open.get_mut(placed.worker) {
            *n += 1;
        }
        placed.worker
    }

    /// A flow ended at `now`.
    pub fn end(&mut self, info: &FlowInfo, reason: EndReason, now: Timestamp) {
        let pair = self.pair(info);
        let Some(placed) = self.pairs.get_mut(&pair) else {
            return;
        };
        placed.open = placed.open.saturating_sub(1);
        if let Some(n) = self.open.get_mut(placed.worker) {
            *n = n.saturating_sub(1);
        }
        // What the analyzer requires of a failed v2 attempt besides being
        // v2 (FlowState's note_v2_attempt), which only the worker knows.
        let closed = matches!(reason, EndReason::Fin | EndReason::Rst);
        let maybe_attempt = info.syn_seen
            && closed
            && info.to_client.payload_bytes == 0
            && info.to_server.payload_bytes > 0;
        if maybe_attempt {
            placed.attempt_ended = Some(now);
            self.attempts.push_back((pair, now));
        } else if placed.open == 0 && placed.attempt_ended.is_none() {
            self.pairs.remove(&pair);
        }
    }

    /// Forgets attempts whose window has passed at `now` (and the oldest
    /// beyond [`MAX_ATTEMPTS`]).
    fn forget(&mut self, now: Timestamp) {
        let window = Duration::from_millis(FALLBACK_WINDOW_MS + 1000);
        while let Some(&(pair, ended)) = self.attempts.front() {
            if self.attempts.len() <= MAX_ATTEMPTS && crate::flow::after(ended, window) >= now {
                break;
            }
            self.attempts.pop_front();
            if let Some(p) = self.pairs.get_mut(&pair)
                && p.attempt_ended == Some(ended)
            {
                p.attempt_ended = None;
                if p.open == 0 {
                    self.pairs.remove(&pair);
                }
            }
        }
    }
}
