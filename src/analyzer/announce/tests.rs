//! The table on known timings: who is first, the delays behind the first,
//! the bound on what it remembers.

use super::*;
use std::net::SocketAddr;

fn peer(i: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, i], 8333))
}

fn hash(i: u32) -> Hash256 {
    let mut h = [0u8; 32];
    h[..4].copy_from_slice(&i.to_le_bytes());
    Hash256(h)
}

/// 1_700_000_000 s plus `ms` milliseconds.
fn at(ms: u32) -> Timestamp {
    Timestamp::new(
        1_700_000_000 + i64::from(ms / 1000),
        (ms % 1000) * 1_000_000,
    )
}

fn tally_of(s: &AnnounceSummary, p: SocketAddr) -> &PeerTally {
    s.announcers
        .iter()
        .find(|t| t.peer == Some(Announcer::Addr(p)))
        .expect("peer listed")
}

#[test]
fn three_peers_first_counts_and_median_delays() {
    let mut t = Table::default();
    let (a, b, c) = (peer(1), peer(2), peer(3));
    // Block 1: a, then b 100 ms and c 250 ms behind.
    t.observe(Kind::Block, hash(1), a, at(1_000));
    t.observe(Kind::Block, hash(1), b, at(1_100));
    t.observe(Kind::Block, hash(1), c, at(1_250));
    // Block 2: b, then a 50 ms and c 100 ms behind.
    t.observe(Kind::Block, hash(2), b, at(5_000));
    t.observe(Kind::Block, hash(2), a, at(5_050));
    t.observe(Kind::Block, hash(2), c, at(5_100));
    // a announces block 2 again (the block itself): its first time counts.
    t.observe(Kind::Block, hash(2), a, at(5_300));
    // Txs: a first twice, c behind by 30 and 10 ms.
    t.observe(Kind::Tx, hash(10), a, at(2_000));
    t.observe(Kind::Tx, hash(10), c, at(2_030));
    t.observe(Kind::Tx, hash(11), a, at(3_000));
    t.observe(Kind::Tx, hash(11), c, at(3_010));
    let s = t.finish();
    assert_eq!((s.blocks_seen, s.txs_seen), (2, 2));
    assert_eq!((s.blocks_evicted, s.txs_evicted, s.beyond_slots), (0, 0, 0));
    let [ta, tb, tc] = [a, b, c].map(|p| tally_of(&s, p).clone());
    let block = |t: &PeerTally| {
        let k = &t.kinds[Kind::Block as usize];
        (k.announced, k.first, k.behind, k.median_delay_micros())
    };
    assert_eq!(block(&ta), (2, 1, 1, Some(50_000)));
    assert_eq!(block(&tb), (2, 1, 1, Some(100_000)));
    // c: 250 and 100 ms behind; the lower median of two is the smaller.
    assert_eq!(block(&tc), (2, 0, 2, Some(100_000)));
    let tx = |t: &PeerTally| {
        let k = &t.kinds[Kind::Tx as usize];
        (k.announced, k.first, k.median_delay_micros())
    };
    assert_eq!(tx(&ta), (2, 2, None));
    assert_eq!(tx(&tc), (2, 0, Some(10_000)));
    assert_eq!(tx(&tb), (0, 0, None));
    // Most often first first: a and b one block each, a more txs.
    let order: Vec<_> = s.announcers.iter().map(|t| t.peer.clone()).collect();
    let addr = |p| Some(Announcer::Addr(p));
    assert_eq!(order, [addr(a), addr(b), addr(c)]);
    // The blocks, oldest first, with their spread.
    let blocks: Vec<_> = s
        .blocks
        .iter()
        .map(|b| (b.hash, b.first_peer.clone(), b.peers, b.spread_micros))
        .collect();
    assert_eq!(
        blocks,
        [
            (hash(1), addr(a), 3, 250_000),
            (hash(2), addr(b), 3, 100_000)
        ]
    );
    assert_eq!(s.blocks[0].first_micros, 1_700_000_001_000_000);
}

/// The first is the earliest packet time, also when its message was
/// decoded after a later one (another flow's reassembly held it back).
#[test]
fn first_is_the_earliest_time_not_the_first_decoded() {
    let mut t = Table::default();
    t.observe(Kind::Block, hash(1), peer(1), at(1_200));
    t.observe(Kind::Block, hash(1), peer(2), at(1_000));
    let s = t.finish();
    assert_eq!(s.blocks[0].first_peer, Some(Announcer::Addr(peer(2))));
    assert_eq!(s.blocks[0].spread_micros, 200_000);
    let p1 = &tally_of(&s, peer(1)).kinds[Kind::Block as usize];
    assert_eq!((p1.first, p1.median_delay_micros()), (0, Some(200_000)));
}

/// More hashes than the table holds: the oldest go, the evictions are
/// counted, what is remembered stays at the capacity, and an evicted
/// hash's figures still count for its peers.
#[test]
fn more_hashes_than_capacity_are_evicted_and_counted() {
    let mut t = Table::with_capacity(10, 3);
    for i in 0..25 {
        t.observe(Kind::Tx, hash(i), peer(1), at(i * 10));
        t.observe(Kind::Tx, hash(i), peer(2), at(i * 10 + 5));
        assert!(t.remembered().0 <= 10);
    }
    for i in 0..7 {
        t.observe(Kind::Block, hash(100 + i), peer(2), at(i));
    }
    assert_eq!(t.remembered(), (10, 3));
    // An evicted hash seen again is new to the table.
    t.observe(Kind::Tx, hash(0), peer(3), at(1_000));
    let s = t.finish();
    assert_eq!((s.txs_seen, s.txs_evicted), (26, 16));
    assert_eq!((s.blocks_seen, s.blocks_evicted), (7, 4));
    let kept: Vec<_> = s.blocks.iter().map(|b| b.hash).collect();
    assert_eq!(kept, [hash(104), hash(105), hash(106)]);
    let p1 = &tally_of(&s, peer(1)).kinds[Kind::Tx as usize];
    let p2 = &tally_of(&s, peer(2)).kinds[Kind::Tx as usize];
    assert_eq!((p1.announced, p1.first), (25, 25));
    assert_eq!((p2.announced, p2.first, p2.behind), (25, 0, 25));
    assert_eq!(p2.median_delay_micros(), Some(5_000));
}

/// A hash announced by more peers than it has slots: the rest are counted
/// (`beyond_slots`, the block's peers), not tallied.
#[test]
fn peers_beyond_the_slots_are_counted_not_tallied() {
    let mut t = Table::default();
    let n = TX_PEER_SLOTS as u8 + 3;
    for i in 0..n {
        t.observe(Kind::Tx, hash(1), peer(i), at(u32::from(i)));
    }
    let s = t.finish();
    assert_eq!(s.beyond_slots, 3);
    let tallied: u64 = s.announcers.iter().map(|p| p.kinds[0].announced).sum();
    assert_eq!(tallied, TX_PEER_SLOTS as u64);
}

/// Peers beyond MAX_PEERS are tallied together.
#[test]
fn peers_beyond_the_limit_are_tallied_together() {
    let mut t = Table::default();
    for i in 0..MAX_PEERS as u32 + 2 {
        let p = SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 8333));
        t.observe(Kind::Tx, hash(i), p, at(0));
    }
    let s = t.finish();
    assert_eq!(s.announcers.len(), MAX_PEERS + 1);
    let others = s.announcers.last().expect("others");
    assert_eq!((&others.peer, others.kinds[0].announced), (&None, 2));
}

/// The delays kept per peer are bounded: the median is of the latest.
#[test]
fn delay_window_keeps_the_latest() {
    let mut t = Table::default();
    for i in 0..(DELAY_WINDOW as u32 * 3) {
        t.observe(Kind::Tx, hash(i), peer(1), at(i * 10));
        // Behind by 1 ms for the first two windows, 3 ms for the last.
        let behind = if i < 2 * DELAY_WINDOW as u32 { 1 } else { 3 };
        t.observe(Kind::Tx, hash(i), peer(2), at(i * 10 + behind));
    }
    let s = t.finish();
    let p2 = &tally_of(&s, peer(2)).kinds[0];
    assert_eq!(p2.behind, 3 * DELAY_WINDOW as u64);
    assert_eq!(p2.median_delay_micros(), Some(3_000));
}

#[test]
fn inventory_types_and_what_they_announce() {
    assert_eq!(inv_kind(1), Some(Kind::Tx));
    assert_eq!(inv_kind(5), Some(Kind::Tx));
    assert_eq!(inv_kind(0x4000_0001), Some(Kind::Tx));
    assert_eq!(inv_kind(2), Some(Kind::Block));
    assert_eq!(inv_kind(0x4000_0002), Some(Kind::Block));
    assert_eq!(inv_kind(0), None);
    assert_eq!(inv_kind(7), None);
}

/// Peers of Core's message capture by name (`local`: the node itself),
/// beside flow peers.
#[test]
fn named_peers_and_flow_peers_in_one_table() {
    let mut t = Table::default();
    t.observe_named(Kind::Block, hash(1), "peer.onion:8333", at(0));
    t.observe_named(Kind::Block, hash(1), "local", at(20));
    t.observe(Kind::Block, hash(1), peer(1), at(30));
    let s = t.finish();
    let named = |n: &str| Some(Announcer::Named(n.into()));
    assert_eq!(s.blocks[0].first_peer, named("peer.onion:8333"));
    assert_eq!(s.blocks[0].peers, 3);
    let local = s
        .announcers
        .iter()
        .find(|p| p.peer == named("local"))
        .expect("local");
    let k = &local.kinds[Kind::Block as usize];
    assert_eq!((k.first, k.median_delay_micros()), (0, Some(20_000)));
    assert_eq!(
        s.announcers[0]
            .peer
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("peer.onion:8333")
    );
}

/// The standings while running (live --metrics) count the hashes still
/// held as they stand, so they equal the summary made at the end, and
/// the board shows them once published.
#[test]
fn standings_while_running_equal_the_summary_at_the_end() {
    let mut t = Table::with_capacity(3, 2);
    let board = Board::default();
    t.publish_on(board.clone());
    let (a, b, c) = (peer(1), peer(2), peer(3));
    // More hashes than the capacities: some are settled by eviction,
    // some are still held when the standings are taken.
    for i in 0..5u32 {
        let ms = i * 1_000;
        t.observe(Kind::Block, hash(i), a, at(ms + 5));
        t.observe(Kind::Block, hash(i), b, at(ms + i % 2));
        t.observe(Kind::Tx, hash(100 + i), c, at(ms));
        t.observe(Kind::Tx, hash(100 + i), a, at(ms + 7));
    }
    assert!(board.read().is_empty(), "nothing published before asked");
    t.publish_if_due();
    let running = board.read();
    assert_eq!(running, t.standings());
    let summary = t.finish();
    let at_end: Vec<Standing> = summary
        .announcers
        .iter()
        .map(|p| Standing {
            peer: p.peer.clone(),
            announced: [p.kinds[0].announced, p.kinds[1].announced],
            first: [p.kinds[0].first, p.kinds[1].first],
        })
        .collect();
    for s in &running {
        assert!(at_end.contains(s), "{s:?} not in {at_end:?}");
    }
    assert_eq!(running.len(), at_end.len());
    // b announced every block 4 or 5 ms before a; c every tx before a.
    let now = |p| {
        running
            .iter()
            .find(|s| s.peer == Some(Announcer::Addr(p)))
            .unwrap()
    };
    assert_eq!(
        (
            now(b).first_of(Kind::Block),
            now(b).announced_of(Kind::Block)
        ),
        (5, 5)
    );
    assert_eq!(
        (
            now(a).first_of(Kind::Block),
            now(a).announced_of(Kind::Block)
        ),
        (0, 5)
    );
    assert_eq!(
        (now(c).first_of(Kind::Tx), now(a).first_of(Kind::Tx)),
        (5, 0)
    );
}
