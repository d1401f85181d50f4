//! The first-announcer table: recent block hashes and txids, who announced
//! each and when, and per peer what that adds up to.
//!
//! Memory is bounded by constants: two rings of recent hashes (each a
//! vector of fixed-size entries plus a hash index), at most [`MAX_PEERS`]
//! peer tallies, and at most [`DELAY_WINDOW`] delays kept per peer and
//! kind. A ring evicts the hash it first saw longest ago (FIFO by first
//! sight: a hash is announced in the seconds after it appears, not an
//! hour later), and an entry's figures count for its peers only when it
//! leaves the ring (evicted, or at the end of the input): that is when
//! its first announcement is known for sure, whatever order the messages
//! were decoded in.

use super::Kind;
use super::ring::{Entry, Ring};
use crate::capture::Timestamp;
use crate::p2p::Hash256;
use std::collections::HashMap;
use std::net::SocketAddr;

/// The hasher of the indexes. Hashes in `inv` are whatever a peer chose
/// (not necessarily hashes of anything), so the index hash is seeded per
/// process, as the flow table's (src/flow/table.rs).
pub(super) type IndexHasher = foldhash::quality::RandomState;

/// Recent txids and wtxids remembered (about 140 bytes each with the
/// index: ~14 MB when full).
pub const TX_CAPACITY: usize = 100_000;
/// Recent block hashes remembered (about 470 bytes each: ~0.5 MB).
pub const BLOCK_CAPACITY: usize = 1_000;
/// Peers remembered per txid: a tx is relayed by a node's ~10 outbound
/// peers, fewer of them announce it before the node has it.
pub const TX_PEER_SLOTS: usize = 8;
/// Peers remembered per block hash: every peer of a node announces each
/// block (headers, cmpctblock or inv); 64 covers a node's usual peers.
pub const BLOCK_PEER_SLOTS: usize = 64;
/// Announcing peers tallied one by one; announcements of further peers are
/// tallied together (see [`OTHER_PEERS`]).
pub const MAX_PEERS: usize = 4_096;
/// Delays behind the first kept per peer and kind: the median is that of
/// the most recent ones (exact while a peer has fewer).
pub const DELAY_WINDOW: usize = 1_024;

/// Who announced: the sending endpoint of a flow direction, or a peer of
/// Core's message capture as its folder names it (`local`: the capturing
/// node).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Announcer {
    Addr(SocketAddr),
    Named(Box<str>),
}

impl std::fmt::Display for Announcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Announcer::Addr(a) => a.fmt(f),
            Announcer::Named(n) => f.write_str(n),
        }
    }
}

/// The tally index of every peer beyond [`MAX_PEERS`], together.
pub const OTHER_PEERS: u16 = u16::MAX;

/// A peer's figures for one kind (txs or blocks).
#[derive(Debug, Clone, Default)]
pub struct KindTally {
    /// Hashes it announced (each counted once however often it did).
    pub announced: u64,
    /// Of those, how many it announced first (earliest packet time; on a
    /// tie, the one decoded first).
    pub first: u64,
    /// Delays behind the first, in microseconds, of its announcements
    /// that were not first: the last [`DELAY_WINDOW`] (a ring).
    delays: Vec<u32>,
    /// Where the next delay goes once `delays` is full.
    next: usize,
    /// Announcements that were not first (all of them, not only those
    /// kept).
    pub behind: u64,
}

impl KindTally {
    fn delay(&mut self, micros: u32) {
        self.behind += 1;
        if self.delays.len() < DELAY_WINDOW {
            self.delays.push(micros);
        } else if let Some(slot) = self.delays.get_mut(self.next) {
            *slot = micros;
            self.next = (self.next + 1) % DELAY_WINDOW;
        }
    }

    /// The (lower) median of the kept delays, in microseconds.
    pub fn median_delay_micros(&self) -> Option<u32> {
        if self.delays.is_empty() {
            return None;
        }
        let mut sorted = self.delays.clone();
        let mid = (sorted.len() - 1) / 2;
        let (_, median, _) = sorted.select_nth_unstable(mid);
        Some(*median)
    }
}

/// One peer's tally: `None` for [`OTHER_PEERS`].
#[derive(Debug, Clone)]
pub struct PeerTally {
    pub peer: Option<Announcer>,
    /// Indexed by [`Kind`].
    pub kinds: [KindTally; 2],
}

/// What the summary shows of a block hash still remembered.
#[derive(Debug, Clone)]
pub struct BlockSeen {
    pub hash: Hash256,
    pub first_micros: i64,
    pub first_peer: Option<Announcer>,
    /// Announcing peers (those beyond the slots included).
    pub peers: u64,
    /// Microseconds between the first and the last announcement.
    pub spread_micros: u64,
}

/// The table. Fed observation by observation in the single-threaded
/// order; [`Table::finish`] makes the summary.
pub struct Table {
    txs: Ring<TX_PEER_SLOTS>,
    blocks: Ring<BLOCK_PEER_SLOTS>,
    peer_index: HashMap<Announcer, u16, IndexHasher>,
    /// The flow peer of the last observation and its index.
    last_peer: Option<(SocketAddr, u16)>,
    peers: Vec<PeerTally>,
    /// Tally of every peer beyond [`MAX_PEERS`].
    others: Option<PeerTally>,
    /// Announcements not tallied: their hash's peer slots were full.
    pub beyond_slots: u64,
    /// Every announcement observed (for the publisher: has it changed?).
    observed: u64,
    /// Where the standings go while running (`live --metrics`).
    publisher: Option<super::board::Publisher>,
}

impl Default for Table {
    fn default() -> Self {
        Table::with_capacity(TX_CAPACITY, BLOCK_CAPACITY)
    }
}

impl Table {
    /// A table remembering `txs` txids and `blocks` block hashes (tests
    /// use small ones).
    pub fn with_capacity(txs: usize, blocks: usize) -> Self {
        Table {
            txs: Ring::new(txs),
            blocks: Ring::new(blocks),
            peer_index: HashMap::default(),
            last_peer: None,
            peers: Vec::new(),
            others: None,
            beyond_slots: 0,
            observed: 0,
            publisher: None,
        }
    }

    /// Publishes the standings on `board` (see [`Table::publish_if_due`]).
    pub fn publish_on(&mut self, board: super::Board) {
        self.publisher = Some(super::board::Publisher::new(board));
    }

    /// Publishes the standings if asked to, at most once a second (the
    /// owner calls it at each round of output).
    pub fn publish_if_due(&mut self) {
        if let Some(mut publisher) = self.publisher.take() {
            publisher.publish_if_due(self, self.observed);
            self.publisher = Some(publisher);
        }
    }

    /// Each peer's counts so far: the tallies of the hashes gone, plus the
    /// hashes held now as they stand (their first announcer so far).
    pub fn standings(&self) -> Vec<super::Standing> {
        let mut standings: Vec<super::Standing> = self
            .peers
            .iter()
            .chain(&self.others)
            .map(|p| super::Standing {
                peer: p.peer.clone(),
                announced: [p.kinds[0].announced, p.kinds[1].announced],
                first: [p.kinds[0].first, p.kinds[1].first],
            })
            .collect();
        let others = self.peers.len();
        let mut add = |kind: Kind, peers: &[u16], first: usize| {
            for (i, &peer) in peers.iter().enumerate() {
                let at = if peer == OTHER_PEERS {
                    others
                } else {
                    usize::from(peer)
                };
                if let Some(s) = standings.get_mut(at) {
                    s.announced[kind as usize] += 1;
                    s.first[kind as usize] += u64::from(i == first);
                }
            }
        };
        for e in self.txs.in_order() {
            add(Kind::Tx, &e.peers[..usize::from(e.len)], e.first().0);
        }
        for e in self.blocks.in_order() {
            add(Kind::Block, &e.peers[..usize::from(e.len)], e.first().0);
        }
        standings
    }

    /// `peer` announced (or delivered) `hash` in a message whose last byte
    /// was captured at `ts`.
    pub fn observe(&mut self, kind: Kind, hash: Hash256, peer: SocketAddr, ts: Timestamp) {
        let peer = self.peer(peer);
        self.observe_by(kind, hash, peer, ts);
    }

    /// The same for a peer of Core's message capture (or `local`).
    pub fn observe_named(&mut self, kind: Kind, hash: Hash256, name: &str, ts: Timestamp) {
        let peer = self.peer_index_of(Announcer::Named(name.into()));
        self.observe_by(kind, hash, peer, ts);
    }

    fn observe_by(&mut self, kind: Kind, hash: Hash256, peer: u16, ts: Timestamp) {
        self.observed += 1;
        let micros = ts
            .secs
            .saturating_mul(1_000_000)
            .saturating_add(i64::from(ts.nanos / 1_000));
        let Table {
            txs,
            blocks,
            peers,
            others,
            beyond_slots,
            ..
        } = self;
        let stored = match kind {
            Kind::Tx => txs.observe(hash, peer, micros, |e| tally(peers, others, kind, e)),
            Kind::Block => blocks.observe(hash, peer, micros, |e| tally(peers, others, kind, e)),
        };
        if !stored {
            *beyond_slots += 1;
        }
    }

    fn peer(&mut self, addr: SocketAddr) -> u16 {
        // The entries of one inv come from one peer: look it up once.
        if let Some((last, i)) = self.last_peer
            && last == addr
        {
            return i;
        }
        let i = self.peer_index_of(Announcer::Addr(addr));
        self.last_peer = Some((addr, i));
        i
    }

    fn peer_index_of(&mut self, peer: Announcer) -> u16 {
        if let Some(&i) = self.peer_index.get(&peer) {
            return i;
        }
        if self.peers.len() >= MAX_PEERS {
            self.others.get_or_insert_with(|| PeerTally {
                peer: None,
                kinds: Default::default(),
            });
            return OTHER_PEERS;
        }
        let i = self.peers.len() as u16;
        self.peer_index.insert(peer.clone(), i);
        self.peers.push(PeerTally {
            peer: Some(peer),
            kinds: Default::default(),
        });
        i
    }

    /// Hashes remembered now (txs, blocks): never above the capacities.
    pub fn remembered(&self) -> (usize, usize) {
        (self.txs.len(), self.blocks.len())
    }

    /// Ends the table: every remembered entry counts for its peers, and
    /// the summary is made.
    pub fn finish(mut self) -> super::AnnounceSummary {
        let blocks: Vec<BlockSeen> = self
            .blocks
            .in_order()
            .map(|e| {
                let (first, earliest, latest) = e.first();
                BlockSeen {
                    hash: e.hash,
                    first_micros: e.base.saturating_add(earliest.into()),
                    first_peer: self.peer_addr(e.peers[first]),
                    peers: u64::from(e.len) + u64::from(e.overflow),
                    spread_micros: (i64::from(latest) - i64::from(earliest)) as u64,
                }
            })
            .collect();
        let Table {
            txs,
            blocks: block_ring,
            peers,
            others,
            ..
        } = &mut self;
        for e in txs.in_order() {
            tally(peers, others, Kind::Tx, e);
        }
        for e in block_ring.in_order() {
            tally(peers, others, Kind::Block, e);
        }
        let mut announcers = std::mem::take(&mut self.peers);
        // Most often first (blocks, then txs) first; stable: ties stay in
        // the order the peers first announced something.
        announcers.sort_by_key(|p| {
            let [tx, block] = &p.kinds;
            std::cmp::Reverse((block.first, tx.first, block.announced + tx.announced))
        });
        announcers.extend(self.others.take());
        super::AnnounceSummary {
            tx_capacity: self.txs.capacity as u64,
            block_capacity: self.blocks.capacity as u64,
            txs_seen: self.txs.seen,
            blocks_seen: self.blocks.seen,
            txs_evicted: self.txs.evicted,
            blocks_evicted: self.blocks.evicted,
            beyond_slots: self.beyond_slots,
            announcers,
            blocks,
        }
    }

    fn peer_addr(&self, i: u16) -> Option<Announcer> {
        self.peers.get(usize::from(i)).and_then(|p| p.peer.clone())
    }
}

/// An entry leaving the table: its first announcer and the others' delays
/// count for them.
fn tally<const K: usize>(
    peers: &mut [PeerTally],
    others: &mut Option<PeerTally>,
    kind: Kind,
    entry: &Entry<K>,
) {
    let (first, earliest, _) = entry.first();
    for (i, (&peer, &offset)) in entry.peers.iter().zip(&entry.offsets).enumerate() {
        if i >= usize::from(entry.len) {
            break;
        }
        let tally = match peer {
            OTHER_PEERS => others.as_mut(),
            p => peers.get_mut(usize::from(p)),
        };
        let Some(t) = tally.and_then(|t| t.kinds.get_mut(kind as usize)) else {
            continue;
        };
        t.announced += 1;
        if i == first {
            t.first += 1;
        } else {
            let behind = i64::from(offset) - i64::from(earliest);
            t.delay(u32::try_from(behind).unwrap_or(u32::MAX));
        }
    }
}
