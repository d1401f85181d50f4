//! The first-announcer standings while a capture runs, for `live
//! --metrics`: the table's owner (the analyzer on one thread, the merge
//! with workers) publishes each peer's counts so far at most once a
//! second, and the metrics server reads the last published at a scrape.
//! The table settles a hash's first announcer only when the hash leaves
//! it; the standings count the hashes it still holds as they stand.

use super::{Announcer, Kind, Table};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Publishing copies every peer's figures: not more often than this.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// One peer's counts so far, indexed by [`Kind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// `None`: the peers beyond [`super::MAX_PEERS`], together.
    pub peer: Option<Announcer>,
    /// Hashes it announced (each once).
    pub announced: [u64; 2],
    /// Of those, the ones it announced first.
    pub first: [u64; 2],
}

impl Standing {
    pub fn first_of(&self, kind: Kind) -> u64 {
        self.first[kind as usize]
    }
    pub fn announced_of(&self, kind: Kind) -> u64 {
        self.announced[kind as usize]
    }
}

/// Where the standings are published; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Board {
    standings: Arc<Mutex<Vec<Standing>>>,
}

impl Board {
    /// The last standings published (empty before the first).
    pub fn read(&self) -> Vec<Standing> {
        self.standings.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The table's side: what it publishes to, and when it last did.
#[derive(Debug)]
pub(super) struct Publisher {
    board: Board,
    last: Option<Instant>,
    /// The table's observation count at the last publishing.
    published_at: u64,
}

impl Publisher {
    pub(super) fn new(board: Board) -> Self {
        Publisher {
            board,
            last: None,
            published_at: 0,
        }
    }

    /// Publishes `table`'s standings if it changed and the last publishing
    /// is a second old.
    pub(super) fn publish_if_due(&mut self, table: &Table, observed: u64) {
        if observed == self.published_at || self.last.is_some_and(|t| t.elapsed() < PUBLISH_EVERY) {
            return;
        }
        let standings = table.standings();
        if let Ok(mut board) = self.board.standings.lock() {
            *board = standings;
        }
        self.last = Some(Instant::now());
        self.published_at = observed;
    }
}
