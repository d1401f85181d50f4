//! Which worker a new flow goes to. Flows of one client address to one
//! server go to the same worker while one of them is open and for the v1
//! fallback window after the last one ended: Core's v1 retry after a
//! failed v2 attempt (analyzer/v2/fallback.rs) is recognised by the worker
//! that saw the attempt. Any other flow goes to the worker with the fewest
//! open flows, so that a few busy flows (four flows of blocks) spread over
//! the workers rather than land where a hash puts them.

use crate::analyzer::v2::fallback::FALLBACK_WINDOW_MS;
use crate::capture::Timestamp;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Client address and server of a flow.
type Pair = (IpAddr, SocketAddr);

/// Pairs remembered after their last flow ended, at most (beyond it the
/// oldest are forgotten: a v1 retry may then be analysed by another
/// worker than its attempt, and its fallback finding missed). Open flows
/// are bounded by `--max-flows`.
const MAX_ENDED_PAIRS: usize = 65_536;

struct Placed {
    worker: usize,
    open: u32,
    /// When the last flow of the pair ended (meaningful when `open` is 0).
    ended: Timestamp,
}

pub struct Affinity {
    pairs: HashMap<Pair, Placed, foldhash::quality::RandomState>,
    /// Pairs in the order their last flow ended.
    ended: VecDeque<(Pair, Timestamp)>,
    /// Open flows per worker.
    open: Vec<u64>,
}

impl Affinity {
    pub fn new(workers: usize) -> Affinity {
        Affinity {
            pairs: HashMap::default(),
            ended: VecDeque::new(),
            open: vec![0; workers.max(1)],
        }
    }

    /// The worker for a flow from `client` to `server` starting at `now`.
    pub fn start(&mut self, client: SocketAddr, server: SocketAddr, now: Timestamp) -> usize {
        self.forget(now);
        let pair = (client.ip(), server);
        let open = &mut self.open;
        let placed = self.pairs.entry(pair).or_insert_with(|| {
            let worker = (0..open.len()).min_by_key(|&w| open[w]).unwrap_or(0);
            Placed {
                worker,
                open: 0,
                ended: Timestamp::default(),
            }
        });
        placed.open += 1;
        if let Some(n) = open.get_mut(placed.worker) {
            *n += 1;
        }
        placed.worker
    }

    /// A flow from `client` to `server` ended at `now`.
    pub fn end(&mut self, client: SocketAddr, server: SocketAddr, now: Timestamp) {
        let pair = (client.ip(), server);
        let Some(placed) = self.pairs.get_mut(&pair) else {
            return;
        };
        placed.open = placed.open.saturating_sub(1);
        if let Some(n) = self.open.get_mut(placed.worker) {
            *n = n.saturating_sub(1);
        }
        if placed.open == 0 {
            placed.ended = now;
            self.ended.push_back((pair, now));
        }
    }

    /// Forgets pairs without open flows whose window has passed at `now`
    /// (and the oldest beyond [`MAX_ENDED_PAIRS`]).
    fn forget(&mut self, now: Timestamp) {
        let window = Duration::from_millis(FALLBACK_WINDOW_MS + 1000);
        while let Some(&(pair, ended)) = self.ended.front() {
            if self.ended.len() <= MAX_ENDED_PAIRS && crate::flow::after(ended, window) >= now {
                break;
            }
            self.ended.pop_front();
            if let Some(p) = self.pairs.get(&pair)
                && p.open == 0
                && p.ended == ended
            {
                self.pairs.remove(&pair);
            }
        }
    }
}
