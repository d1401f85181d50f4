//! The first-announcer part of the text `--stats` summary: the table's
//! counters, the announcers most often first, the latest blocks. The JSON
//! summary has all of them.
//!
//! ```text
//!    announced: 3 blocks (0 evicted, 1000 kept), 40 txs (0 evicted, 100000 kept), 0 beyond peer slots
//!    announcer                        blocks first/of  median ms    txs first/of  median ms
//!    10.0.0.1:8333                               2/3        0.000          10/40      250.000
//!    block 00000000…  first 2024-05-01 12:00:00.000001 10.0.0.1:8333, 3 peers, spread 12.500 ms
//! ```

use super::TextSink;
use crate::analyzer::announce::{AnnounceSummary, KindTally};
use crate::output::escape::escape_str;
use crate::output::json::announce::{OTHER_PEERS, millis};
use crate::output::summary::Count;
use crate::output::time::format_utc;
use std::fmt::Write as _;
use std::io::Write;

/// Announcers and blocks shown in text (the JSON summary lists all).
const SHOWN: usize = 10;

impl<W: Write> TextSink<W> {
    pub(super) fn announce_summary(&mut self, s: &AnnounceSummary) {
        if s.txs_seen == 0 && s.blocks_seen == 0 {
            return;
        }
        let _ = writeln!(
            self.line,
            "   announced: {} blocks ({} evicted, {} kept), {} txs ({} evicted, {} kept), {} beyond peer slots",
            s.blocks_seen,
            s.blocks_evicted,
            s.block_capacity,
            s.txs_seen,
            s.txs_evicted,
            s.tx_capacity,
            s.beyond_slots
        );
        let _ = writeln!(
            self.line,
            "   {:<32} {:>15} {:>10} {:>15} {:>10}",
            "announcer", "blocks first/of", "median ms", "txs first/of", "median ms"
        );
        for p in s.announcers.iter().take(SHOWN) {
            let peer = p
                .peer
                .as_ref()
                .map_or(OTHER_PEERS.to_string(), |a| escape_str(&a.to_string()));
            let [tx, block] = &p.kinds;
            let _ = writeln!(
                self.line,
                "   {:<32} {:>15} {:>10} {:>15} {:>10}",
                peer,
                format!("{}/{}", block.first, block.announced),
                median(block),
                format!("{}/{}", tx.first, tx.announced),
                median(tx)
            );
        }
        if s.announcers.len() > SHOWN {
            let _ = writeln!(
                self.line,
                "   ({} more announcers in the JSON summary)",
                s.announcers.len() - SHOWN
            );
        }
        let skip = s.blocks.len().saturating_sub(SHOWN);
        for b in s.blocks.iter().skip(skip) {
            let mut first = String::new();
            let ts = crate::capture::Timestamp {
                secs: b.first_micros.div_euclid(1_000_000),
                nanos: (b.first_micros.rem_euclid(1_000_000) * 1_000) as u32,
            };
            format_utc(ts, &mut first);
            let peer = b
                .first_peer
                .as_ref()
                .map_or(OTHER_PEERS.to_string(), |a| escape_str(&a.to_string()));
            let _ = writeln!(
                self.line,
                "   block {} first {first} {peer}, {}, spread {:.3} ms",
                b.hash,
                Count(
                    usize::try_from(b.peers).unwrap_or(usize::MAX),
                    "peer",
                    "peers"
                ),
                millis(b.spread_micros)
            );
        }
    }
}

fn median(t: &KindTally) -> String {
    match t.median_delay_micros() {
        Some(us) => format!("{:.3}", millis(u64::from(us))),
        None => "-".to_string(),
    }
}
