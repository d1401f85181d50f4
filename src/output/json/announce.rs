//! The first-announcer part of the `--stats` record (README, "Who was
//! first"): the table's counters, each announcing peer's figures, and the
//! block hashes still remembered.

use super::fields::{Fields, Key, array, key};
use crate::analyzer::announce::{
    AnnounceSummary, BLOCK_PEER_SLOTS, DELAY_WINDOW, KindTally, TX_PEER_SLOTS,
};

/// How the summary names the peers beyond the table's peer limit.
pub const OTHER_PEERS: &str = "(other peers)";

pub fn announce<F: Fields>(s: &AnnounceSummary, f: &mut F) {
    f.key(key!("announce_table"));
    f.begin_object();
    f.field_u64(key!("tx_capacity"), s.tx_capacity);
    f.field_u64(key!("block_capacity"), s.block_capacity);
    f.field_u64(key!("tx_peer_slots"), TX_PEER_SLOTS as u64);
    f.field_u64(key!("block_peer_slots"), BLOCK_PEER_SLOTS as u64);
    f.field_u64(key!("delay_window"), DELAY_WINDOW as u64);
    f.field_u64(key!("txs_seen"), s.txs_seen);
    f.field_u64(key!("blocks_seen"), s.blocks_seen);
    f.field_u64(key!("txs_evicted"), s.txs_evicted);
    f.field_u64(key!("blocks_evicted"), s.blocks_evicted);
    f.field_u64(key!("beyond_slots"), s.beyond_slots);
    f.end_object();
    f.key(key!("announcers"));
    array(f, &s.announcers, |f, p| {
        f.begin_object();
        f.key(key!("peer"));
        match &p.peer {
            Some(peer) => f.display(peer),
            None => f.str(OTHER_PEERS),
        }
        kind(f, key!("txs"), &p.kinds[0]);
        kind(f, key!("blocks"), &p.kinds[1]);
        f.end_object();
    });
    f.key(key!("blocks_first_seen"));
    array(f, &s.blocks, |f, b| {
        f.begin_object();
        f.field_hash(key!("hash"), &b.hash);
        f.key(key!("first_ts"));
        f.f64(unix_seconds(b.first_micros));
        f.key(key!("first_peer"));
        match &b.first_peer {
            Some(peer) => f.display(peer),
            None => f.str(OTHER_PEERS),
        }
        f.field_u64(key!("peers"), b.peers);
        f.key(key!("spread_ms"));
        f.f64(millis(b.spread_micros));
        f.end_object();
    });
}

fn kind<F: Fields>(f: &mut F, key: Key, t: &KindTally) {
    f.key(key);
    f.begin_object();
    f.field_u64(key!("announced"), t.announced);
    f.field_u64(key!("first"), t.first);
    f.field_u64(key!("behind"), t.behind);
    f.key(key!("median_delay_ms"));
    match t.median_delay_micros() {
        Some(us) => f.f64(millis(u64::from(us))),
        None => f.null(),
    }
    f.end_object();
}

/// Microseconds as milliseconds (exact to the microsecond in the shortest
/// form: 1234 µs is 1.234).
pub fn millis(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// Microseconds since the epoch as Unix seconds, the number the `ts` of
/// records shows (`secs.micros`, parsed so that the nearest double is
/// written in its shortest form).
fn unix_seconds(micros: i64) -> f64 {
    let text = format!(
        "{}.{:06}",
        micros.div_euclid(1_000_000),
        micros.rem_euclid(1_000_000)
    );
    text.parse().unwrap_or(f64::NAN)
}
