//! The JSON payload btcsniff must write for a message, built from
//! rust-bitcoin's own values (its hashes, sizes and fields, names from
//! the protocol's tables written out here): the differential tests
//! compare the JSON sink's line with it byte for byte.

#![allow(dead_code)]

pub mod script;

use bitcoin::block::Header;
use bitcoin::hashes::Hash;
use bitcoin::p2p::address::{AddrV2, Address};
use bitcoin::p2p::message::NetworkMessage;
use bitcoin::p2p::message_blockdata::Inventory;
use bitcoin::{Network, Transaction};
use serde_json::{Map, Value, json};
use sha3::{Digest, Sha3_256};
use std::net::Ipv6Addr;

/// A hash's bytes as sent, shown reversed (display order).
fn display(mut bytes: [u8; 32]) -> String {
    bytes.reverse();
    hex::encode(bytes)
}

fn services(bits: u64) -> Value {
    const NAMES: [(u32, &str); 7] = [
        (0, "NODE_NETWORK"),
        (1, "NODE_GETUTXO"),
        (2, "NODE_BLOOM"),
        (3, "NODE_WITNESS"),
        (6, "NODE_COMPACT_FILTERS"),
        (10, "NODE_NETWORK_LIMITED"),
        (11, "NODE_P2P_V2"),
    ];
    let names: Vec<String> = (0..64)
        .filter(|b| bits & (1u64 << b) != 0)
        .map(|b| match NAMES.iter().find(|(n, _)| *n == b) {
            Some((_, name)) => name.to_string(),
            None => format!("bit {b}"),
        })
        .collect();
    json!({"bits": bits.to_string(), "names": names})
}

fn ip_text(ip: Ipv6Addr) -> String {
    match ip.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => ip.to_string(),
    }
}

fn net_addr(a: &Address) -> Value {
    json!({
        "services": services(a.services.to_u64()),
        "ip": ip_text(Ipv6Addr::from(a.address)),
        "port": a.port,
    })
}

fn inv_item(item: &Inventory) -> Value {
    let bytes = bitcoin::consensus::serialize(item);
    let type_id = u32::from_le_bytes(bytes[..4].try_into().unwrap());
    let name = match type_id {
        0 => "ERROR",
        1 => "MSG_TX",
        2 => "MSG_BLOCK",
        3 => "MSG_FILTERED_BLOCK",
        4 => "MSG_CMPCT_BLOCK",
        5 => "MSG_WTX",
        0x4000_0001 => "MSG_WITNESS_TX",
        0x4000_0002 => "MSG_WITNESS_BLOCK",
        0x4000_0003 => "MSG_FILTERED_WITNESS_BLOCK",
        _ => "unknown",
    };
    let hash: [u8; 32] = bytes[4..36].try_into().unwrap();
    json!({"type": name, "type_id": type_id, "hash": display(hash)})
}

fn base32(bytes: &[u8]) -> String {
    base32::encode(base32::Alphabet::Rfc4648Lower { padding: false }, bytes)
}

fn addrv2_text(addr: &AddrV2) -> (u8, &'static str, String) {
    match addr {
        AddrV2::Ipv4(ip) => (1, "IPV4", ip.to_string()),
        AddrV2::Ipv6(ip) => (2, "IPV6", ip.to_string()),
        AddrV2::TorV2(b) => (3, "TORV2", format!("{}.onion", base32(b))),
        AddrV2::TorV3(key) => {
            // rend-spec-v3: key, 2 checksum bytes, version 3.
            let sum = Sha3_256::new()
                .chain_update(b".onion checksum")
                .chain_update(key)
                .chain_update([3])
                .finalize();
            let full = [&key[..], &sum[..2], &[3]].concat();
            (4, "TORV3", format!("{}.onion", base32(&full)))
        }
        AddrV2::I2p(b) => (5, "I2P", format!("{}.b32.i2p", base32(b))),
        AddrV2::Cjdns(ip) => (6, "CJDNS", ip.to_string()),
        AddrV2::Unknown(id, b) => (*id, "unknown", hex::encode(b)),
    }
}

/// A transaction: whole, or the summary (no inputs, outputs, nor a segwit
/// transaction's wtxid); with `addresses` (`-v`), each output's script
/// type and address on that network.
pub fn tx(t: &Transaction, full: bool, addresses: Option<Network>) -> Value {
    let wire = bitcoin::consensus::serialize(t);
    let segwit = wire[4] == 0 && wire[5] == 1;
    let mut m = Map::new();
    m.insert("txid".into(), t.compute_txid().to_string().into());
    if full || !segwit {
        m.insert("wtxid".into(), t.compute_wtxid().to_string().into());
    }
    m.insert("version".into(), t.version.0.into());
    m.insert("segwit".into(), segwit.into());
    m.insert("input_count".into(), t.input.len().into());
    m.insert("output_count".into(), t.output.len().into());
    if full {
        let inputs: Vec<Value> = t
            .input
            .iter()
            .map(|i| {
                let witness: Vec<String> = i.witness.iter().map(hex::encode).collect();
                json!({
                    "previous_output": {
                        "txid": i.previous_output.txid.to_string(),
                        "vout": i.previous_output.vout,
                    },
                    "script_sig": hex::encode(i.script_sig.as_bytes()),
                    "sequence": i.sequence.0,
                    "witness": witness,
                })
            })
            .collect();
        let outputs: Vec<Value> = t
            .output
            .iter()
            .map(|o| {
                let mut out = json!({
                    "value": o.value.to_sat(),
                    "script_pubkey": hex::encode(o.script_pubkey.as_bytes()),
                });
                if let Some(network) = addresses {
                    out["script_type"] = script::script_type(&o.script_pubkey).into();
                    if let Some(address) = script::address(&o.script_pubkey, network) {
                        out["address"] = address.into();
                    }
                }
                out
            })
            .collect();
        m.insert("inputs".into(), inputs.into());
        m.insert("outputs".into(), outputs.into());
    }
    m.insert("lock_time".into(), t.lock_time.to_consensus_u32().into());
    m.insert("size".into(), t.total_size().into());
    m.insert("weight".into(), t.weight().to_wu().into());
    m.insert("vsize".into(), t.vsize().into());
    Value::Object(m)
}

fn header_fields(h: &Header) -> Map<String, Value> {
    let v = json!({
        "hash": h.block_hash().to_string(),
        "version": h.version.to_consensus(),
        "prev_block": h.prev_blockhash.to_string(),
        "merkle_root": h.merkle_root.to_string(),
        "time": h.time,
        "bits": h.bits.to_consensus(),
        "nonce": h.nonce,
    });
    let Value::Object(m) = v else { unreachable!() };
    m
}

fn hashes<H: Hash<Bytes = [u8; 32]>>(list: &[H]) -> Vec<String> {
    list.iter().map(|h| display(h.to_byte_array())).collect()
}

/// The payload object btcsniff writes for `msg` (block transactions whole
/// or as summaries, as `full`; `addresses` as in [`tx`]), or None for a
/// message not covered here.
pub fn payload(msg: &NetworkMessage, full: bool, addresses: Option<Network>) -> Option<Value> {
    Some(match msg {
        NetworkMessage::Version(v) => json!({
            "version": v.version as i32,
            "services": services(v.services.to_u64()),
            "timestamp": v.timestamp,
            "addr_recv": net_addr(&v.receiver),
            "addr_from": net_addr(&v.sender),
            "nonce": v.nonce.to_string(),
            "user_agent": v.user_agent,
            "start_height": v.start_height,
            "relay": v.relay,
        }),
        NetworkMessage::Addr(entries) => {
            let list: Vec<Value> = entries
                .iter()
                .map(|(time, a)| {
                    let mut m = Map::new();
                    m.insert("time".into(), (*time).into());
                    let Value::Object(rest) = net_addr(a) else {
                        unreachable!()
                    };
                    m.extend(rest);
                    Value::Object(m)
                })
                .collect();
            json!({ "addresses": list })
        }
        NetworkMessage::AddrV2(entries) => {
            let list: Vec<Value> = entries
                .iter()
                .map(|e| {
                    let (id, network, text) = addrv2_text(&e.addr);
                    json!({
                        "time": e.time,
                        "services": services(e.services.to_u64()),
                        "network_id": id,
                        "network": network,
                        "addr": text,
                        "port": e.port,
                    })
                })
                .collect();
            json!({ "addresses": list })
        }
        NetworkMessage::Inv(items)
        | NetworkMessage::GetData(items)
        | NetworkMessage::NotFound(items) => {
            json!({ "inventory": items.iter().map(inv_item).collect::<Vec<_>>() })
        }
        NetworkMessage::GetBlocks(g) => locator(g.version, &g.locator_hashes, g.stop_hash),
        NetworkMessage::GetHeaders(g) => locator(g.version, &g.locator_hashes, g.stop_hash),
        NetworkMessage::Tx(t) => tx(t, true, addresses),
        NetworkMessage::Block(b) => json!({
            "header": header_fields(&b.header),
            "transactions": b.txdata.iter().map(|t| tx(t, full, addresses)).collect::<Vec<_>>(),
        }),
        NetworkMessage::Headers(hs) => {
            let list: Vec<Value> = hs
                .iter()
                .map(|h| {
                    let mut m = header_fields(h);
                    m.insert("tx_count".into(), 0.into());
                    Value::Object(m)
                })
                .collect();
            json!({ "headers": list })
        }
        NetworkMessage::MerkleBlock(mb) => {
            let bits = mb.txn.bits();
            let mut flags = vec![0u8; bits.len().div_ceil(8)];
            for (i, &bit) in bits.iter().enumerate() {
                flags[i / 8] |= u8::from(bit) << (i % 8);
            }
            json!({
                "header": header_fields(&mb.header),
                "total_transactions": mb.txn.num_transactions(),
                "hashes": hashes(mb.txn.hashes()),
                "flags": hex::encode(flags),
            })
        }
        NetworkMessage::CmpctBlock(c) => {
            let cb = &c.compact_block;
            let mut next = 0u64;
            let prefilled: Vec<Value> = cb
                .prefilled_txs
                .iter()
                .map(|p| {
                    // Differential on the wire: the gap since the previous one.
                    let index = next + u64::from(p.idx);
                    next = index + 1;
                    json!({"index": index, "tx": tx(&p.tx, full, addresses)})
                })
                .collect();
            let short_ids: Vec<String> = cb
                .short_ids
                .iter()
                .map(|s| hex::encode(bitcoin::consensus::serialize(s)))
                .collect();
            json!({
                "header": header_fields(&cb.header),
                "nonce": cb.nonce.to_string(),
                "short_ids": short_ids,
                "prefilled_txs": prefilled,
            })
        }
        NetworkMessage::GetBlockTxn(g) => json!({
            "block_hash": g.txs_request.block_hash.to_string(),
            "indexes": g.txs_request.indexes,
        }),
        NetworkMessage::BlockTxn(b) => json!({
            "block_hash": b.transactions.block_hash.to_string(),
            "transactions": b.transactions.transactions.iter().map(|t| tx(t, full, addresses)).collect::<Vec<_>>(),
        }),
        NetworkMessage::Ping(n) => json!({"nonce": n.to_string()}),
        NetworkMessage::Pong(n) => json!({"nonce": n.to_string()}),
        NetworkMessage::FeeFilter(rate) => json!({
            "fee_rate_sat_per_kvb": rate,
            "fee_rate_sat_per_vb": *rate as f64 / 1000.0,
        }),
        NetworkMessage::SendCmpct(s) => json!({"announce": s.send_compact, "version": s.version}),
        NetworkMessage::FilterLoad(f) => json!({
            "filter": hex::encode(&f.filter),
            "n_hash_funcs": f.hash_funcs,
            "n_tweak": f.tweak,
            "n_flags": bitcoin::consensus::serialize(&f.flags)[0],
        }),
        NetworkMessage::FilterAdd(f) => json!({"data": hex::encode(&f.data)}),
        NetworkMessage::GetCFilters(g) => json!({
            "filter_type": g.filter_type,
            "start_height": g.start_height,
            "stop_hash": g.stop_hash.to_string(),
        }),
        NetworkMessage::GetCFHeaders(g) => json!({
            "filter_type": g.filter_type,
            "start_height": g.start_height,
            "stop_hash": g.stop_hash.to_string(),
        }),
        NetworkMessage::CFilter(c) => json!({
            "filter_type": c.filter_type,
            "block_hash": c.block_hash.to_string(),
            "filter": hex::encode(&c.filter),
        }),
        NetworkMessage::CFHeaders(c) => json!({
            "filter_type": c.filter_type,
            "stop_hash": c.stop_hash.to_string(),
            "previous_filter_header": display(c.previous_filter_header.to_byte_array()),
            "filter_hashes": hashes(&c.filter_hashes),
        }),
        NetworkMessage::GetCFCheckpt(g) => json!({
            "filter_type": g.filter_type,
            "stop_hash": g.stop_hash.to_string(),
        }),
        NetworkMessage::CFCheckpt(c) => json!({
            "filter_type": c.filter_type,
            "stop_hash": c.stop_hash.to_string(),
            "filter_headers": hashes(&c.filter_headers),
        }),
        NetworkMessage::Reject(r) => {
            let code = bitcoin::consensus::serialize(&r.ccode)[0];
            let name = match code {
                0x01 => "REJECT_MALFORMED",
                0x10 => "REJECT_INVALID",
                0x11 => "REJECT_OBSOLETE",
                0x12 => "REJECT_DUPLICATE",
                0x40 => "REJECT_NONSTANDARD",
                0x41 => "REJECT_DUST",
                0x42 => "REJECT_INSUFFICIENTFEE",
                0x43 => "REJECT_CHECKPOINT",
                _ => "unknown",
            };
            json!({
                "message": r.message,
                "ccode": code,
                "ccode_name": name,
                "reason": r.reason,
                "data": display(r.hash.to_byte_array()),
            })
        }
        NetworkMessage::Verack
        | NetworkMessage::GetAddr
        | NetworkMessage::MemPool
        | NetworkMessage::SendHeaders
        | NetworkMessage::FilterClear
        | NetworkMessage::WtxidRelay
        | NetworkMessage::SendAddrV2 => json!({}),
        _ => return None,
    })
}

fn locator(version: u32, locator: &[bitcoin::BlockHash], stop: bitcoin::BlockHash) -> Value {
    json!({
        "version": version,
        "locator_hashes": hashes(locator),
        "hash_stop": stop.to_string(),
    })
}
