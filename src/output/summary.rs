//! The few facts a reader wants at a glance, one line per message
//! (`inv 3 items: 2 tx, 1 block`, `version 70016 /Satoshi:27.0.0/ height
//! 870000`, `tx <txid> 2 in 3 out 0.5 BTC`). Peer strings are escaped.

use super::escape::escape_bytes;
use crate::p2p::Hash256;
use crate::p2p::message::{InvItems, Message, Transaction};
use std::fmt::Write;

/// Appends the summary of `message` to `out`.
pub fn summarize(message: &Message<'_>, out: &mut String) {
    match message {
        Message::Version(v) => {
            let _ = write!(out, "version {}", v.version);
            if let Some(ua) = v.user_agent.filter(|ua| !ua.is_empty()) {
                let _ = write!(out, " {}", escape_bytes(ua));
            }
            if let Some(h) = v.start_height {
                let _ = write!(out, " height {h}");
            }
            let _ = write!(out, " services 0x{:x}", v.services.0);
            match v.relay {
                Some(true) => out.push_str(" relay"),
                Some(false) => out.push_str(" no-relay"),
                None => {}
            }
        }
        Message::Inv(inv) | Message::GetData(inv) | Message::NotFound(inv) => {
            inventory(&inv.inventory, out)
        }
        Message::Tx(tx) => transaction(tx, out),
        Message::Block(b) => {
            let _ = write!(
                out,
                "{} {} prev {}",
                b.header.hash,
                Count(b.transactions.len(), "tx", "txs"),
                b.header.prev_block
            );
        }
        Message::Headers(h) => {
            let _ = write!(out, "{}", Count(h.headers.len(), "header", "headers"));
            if let Some(last) = h.headers.last() {
                let _ = write!(out, " last {}", last.header.hash);
            }
        }
        Message::Addr(a) => {
            let _ = write!(out, "{}", Count(a.addresses.len(), "address", "addresses"));
            if let Some(first) = a.addresses.first() {
                let ip = first
                    .ip
                    .to_ipv4_mapped()
                    .map(|v4| v4.to_string())
                    .unwrap_or_else(|| format!("[{}]", first.ip));
                let _ = write!(out, " first {ip}:{}", first.port);
            }
        }
        Message::AddrV2(a) => {
            let _ = write!(out, "{}", Count(a.addresses.len(), "address", "addresses"));
            let mut networks: Vec<(&str, usize)> = Vec::new();
            for e in &a.addresses {
                match networks.iter_mut().find(|(n, _)| *n == e.network) {
                    Some((_, c)) => *c += 1,
                    None => networks.push((e.network, 1)),
                }
            }
            counts(&networks, out);
        }
        Message::GetBlocks(l) | Message::GetHeaders(l) => {
            let n = l.locator_hashes.len();
            let _ = write!(out, "{}", Count(n, "locator hash", "locator hashes"));
            if let Some(first) = l.locator_hashes.first() {
                let _ = write!(out, " from {first}");
            }
            if l.hash_stop != Hash256::default() {
                let _ = write!(out, " stop {}", l.hash_stop);
            }
        }
        Message::Ping(p) => match p.nonce {
            Some(n) => {
                let _ = write!(out, "nonce {n}");
            }
            None => out.push_str("no nonce (pre-BIP31)"),
        },
        Message::Pong(p) => {
            let _ = write!(out, "nonce {}", p.nonce);
        }
        Message::FeeFilter(f) => {
            let _ = write!(
                out,
                "{} sat/kvB ({} sat/vB)",
                f.fee_rate_sat_per_kvb, f.fee_rate_sat_per_vb
            );
        }
        Message::SendCmpct(s) => {
            let _ = write!(out, "announce {} version {}", s.announce, s.version);
        }
        Message::CmpctBlock(c) => {
            let _ = write!(
                out,
                "{} {} {} prefilled",
                c.header.hash,
                Count(c.short_ids.len(), "short id", "short ids"),
                c.prefilled_txs.len()
            );
        }
        Message::GetBlockTxn(g) => {
            let indexes = Count(g.indexes.len(), "index", "indexes");
            let _ = write!(out, "{} {indexes}", g.block_hash);
        }
        Message::BlockTxn(b) => {
            let txs = Count(b.transactions.len(), "tx", "txs");
            let _ = write!(out, "{} {txs}", b.block_hash);
        }
        Message::MerkleBlock(m) => {
            let _ = write!(
                out,
                "{} {} {}",
                m.header.hash,
                Count(m.total_transactions as usize, "tx", "txs"),
                Count(m.hashes.len(), "hash", "hashes")
            );
        }
        Message::FilterLoad(f) => {
            let _ = write!(
                out,
                "{} {} tweak {} flags {}",
                Count(f.filter.len(), "byte", "bytes"),
                Count(f.n_hash_funcs as usize, "hash func", "hash funcs"),
                f.n_tweak,
                f.n_flags
            );
        }
        Message::FilterAdd(f) => {
            let _ = write!(out, "{}", Count(f.data.len(), "byte", "bytes"));
        }
        Message::GetCFilters(g) => {
            let _ = write!(
                out,
                "type {} from height {} stop {}",
                g.filter_type, g.start_height, g.stop_hash
            );
        }
        Message::CFilter(c) => {
            let _ = write!(
                out,
                "type {} block {} {}",
                c.filter_type,
                c.block_hash,
                Count(c.filter.len(), "byte", "bytes")
            );
        }
        Message::GetCFHeaders(g) => {
            let _ = write!(
                out,
                "type {} from height {} stop {}",
                g.filter_type, g.start_height, g.stop_hash
            );
        }
        Message::CFHeaders(c) => {
            let _ = write!(
                out,
                "type {} stop {} {}",
                c.filter_type,
                c.stop_hash,
                Count(c.filter_hashes.len(), "filter hash", "filter hashes")
            );
        }
        Message::GetCFCheckpt(g) => {
            let _ = write!(out, "type {} stop {}", g.filter_type, g.stop_hash);
        }
        Message::CFCheckpt(c) => {
            let _ = write!(
                out,
                "type {} stop {} {}",
                c.filter_type,
                c.stop_hash,
                Count(c.filter_headers.len(), "header", "headers")
            );
        }
        Message::SendTxRcncl(s) => {
            let _ = write!(out, "version {} salt {}", s.version, s.salt);
        }
        Message::Reject(r) => {
            let _ = write!(
                out,
                "{} {} {}",
                escape_bytes(r.message),
                r.ccode_name,
                escape_bytes(r.reason)
            );
            if let Some(h) = r.data {
                let _ = write!(out, " {h}");
            }
        }
        Message::Alert(a) => {
            let _ = write!(out, "{} signed", Count(a.payload.len(), "byte", "bytes"));
        }
        Message::Unknown { payload, .. } => {
            let _ = write!(
                out,
                "unknown command, {}",
                Count(payload.len(), "byte", "bytes")
            );
        }
        Message::Verack
        | Message::SendAddrV2
        | Message::GetAddr
        | Message::MemPool
        | Message::FilterClear
        | Message::SendHeaders
        | Message::WtxidRelay => {}
    }
}

/// `1 address`, `2 addresses`: a count and its noun, singular for one.
pub(crate) struct Count(pub usize, pub &'static str, pub &'static str);

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Count(n, one, many) = *self;
        write!(f, "{n} {}", if n == 1 { one } else { many })
    }
}

/// `3 items: 2 tx, 1 block` (one item: its hash too).
fn inventory(items: &InvItems<'_>, out: &mut String) {
    let _ = write!(out, "{}", Count(items.len(), "item", "items"));
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for item in items.iter() {
        let name = short_inv_name(item.type_name);
        match kinds.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => kinds.push((name, 1)),
        }
    }
    counts(&kinds, out);
    if let (1, Some(only)) = (items.len(), items.get(0)) {
        let _ = write!(out, " {}", only.hash);
    }
}

fn counts(kinds: &[(&str, usize)], out: &mut String) {
    for (i, (name, n)) in kinds.iter().enumerate() {
        out.push_str(if i == 0 { ": " } else { ", " });
        let _ = write!(out, "{n} {name}");
    }
}

fn short_inv_name(type_name: &str) -> &str {
    type_name
        .strip_prefix("MSG_")
        .map(|s| match s {
            "TX" => "tx",
            "BLOCK" => "block",
            "WTX" => "wtx",
            "WITNESS_TX" => "witness tx",
            "WITNESS_BLOCK" => "witness block",
            "CMPCT_BLOCK" => "cmpct block",
            "FILTERED_BLOCK" => "filtered block",
            "FILTERED_WITNESS_BLOCK" => "filtered witness block",
            other => other,
        })
        .unwrap_or(type_name)
}

/// `<txid> 2 in 3 out 0.5 BTC`.
fn transaction(tx: &Transaction<'_>, out: &mut String) {
    let total: i128 = tx.outputs.iter().map(|o| i128::from(o.value)).sum();
    let _ = write!(
        out,
        "{} {} in {} out {} BTC",
        tx.txid,
        tx.inputs.len(),
        tx.outputs.len(),
        btc(total)
    );
    if tx.segwit {
        out.push_str(" segwit");
    }
}

/// Satoshis as BTC without trailing zeros (`0.5`, `50`, `0.00001`).
fn btc(sats: i128) -> String {
    let sign = if sats < 0 { "-" } else { "" };
    let sats = sats.unsigned_abs();
    let whole = sats / 100_000_000;
    let frac = sats % 100_000_000;
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let digits = format!("{frac:08}");
        format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_singular_for_one() {
        assert_eq!(Count(1, "address", "addresses").to_string(), "1 address");
        assert_eq!(Count(0, "address", "addresses").to_string(), "0 addresses");
        assert_eq!(Count(2, "tx", "txs").to_string(), "2 txs");
    }

    #[test]
    fn btc_amounts() {
        assert_eq!(btc(50_000_000), "0.5");
        assert_eq!(btc(5_000_000_000), "50");
        assert_eq!(btc(1_000), "0.00001");
        assert_eq!(btc(-150_000_000), "-1.5");
    }
}
