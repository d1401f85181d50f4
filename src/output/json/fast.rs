//! Hand-written JSON for the payloads most traffic is made of: inv,
//! getdata, notfound, tx, block and addr. Byte for byte what the serde path
//! writes (tests/messages_differential*.rs compare the two on random
//! messages, the goldens on real captures, the `messages` fuzz target on
//! arbitrary payloads), but without serde's per-field
//! calls: every key and the punctuation around it is one constant-size
//! copy, hashes are one 64-byte copy. Other payloads take the serde path.

use super::envelope::write_ipv4;
use super::ser::{write_i64, write_u64};
use crate::p2p::hash::{write_hash_hex, write_hex};
use crate::p2p::message::Message;
use crate::p2p::message::address::{AddrEntry, Addresses};
use crate::p2p::message::block::{Block, BlockHeader};
use crate::p2p::message::inventory::{InvItem, Inventory};
use crate::p2p::message::network::{ServiceName, Services};
use crate::p2p::message::transaction::{Transaction, TxIn, TxOut};
use std::io::Write;
use std::net::Ipv6Addr;

/// Writes `message`'s payload object and returns true, or returns false
/// (writing nothing) for the payloads left to serde.
pub fn write_payload(out: &mut Vec<u8>, message: &Message<'_>) -> bool {
    match message {
        Message::Inv(inv) | Message::GetData(inv) | Message::NotFound(inv) => {
            write_inventory(out, inv)
        }
        Message::Tx(tx) => write_tx(out, tx),
        Message::Block(block) => write_block(out, block),
        Message::Addr(addr) => write_addresses(out, addr),
        _ => return false,
    }
    true
}

fn write_inventory(out: &mut Vec<u8>, inv: &Inventory<'_>) {
    out.extend_from_slice(b"{\"inventory\":[");
    write_elements(out, inv.inventory.iter(), |out, item| {
        write_inv_item(out, &item)
    });
    out.extend_from_slice(b"]}");
}

fn write_inv_item(out: &mut Vec<u8>, item: &InvItem) {
    // The common types as one constant each; the rest field by field.
    match item.type_id {
        1 => out.extend_from_slice(b"{\"type\":\"MSG_TX\",\"type_id\":1,\"hash\":\""),
        2 => out.extend_from_slice(b"{\"type\":\"MSG_BLOCK\",\"type_id\":2,\"hash\":\""),
        5 => out.extend_from_slice(b"{\"type\":\"MSG_WTX\",\"type_id\":5,\"hash\":\""),
        _ => {
            // Type names are this crate's constants: nothing to escape.
            out.extend_from_slice(b"{\"type\":\"");
            out.extend_from_slice(item.type_name.as_bytes());
            out.extend_from_slice(b"\",\"type_id\":");
            write_u64(out, u64::from(item.type_id));
            out.extend_from_slice(b",\"hash\":\"");
        }
    }
    write_hash_hex(out, &item.hash.0);
    out.extend_from_slice(b"\"}");
}

fn write_hex_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    write_hex(out, bytes);
    out.push(b'"');
}

fn write_usize(out: &mut Vec<u8>, n: usize) {
    write_u64(out, n as u64);
}

fn write_tx(out: &mut Vec<u8>, tx: &Transaction<'_>) {
    out.extend_from_slice(b"{\"txid\":\"");
    write_hash_hex(out, &tx.txid.0);
    if let Some(wtxid) = &tx.wtxid {
        out.extend_from_slice(b"\",\"wtxid\":\"");
        write_hash_hex(out, &wtxid.0);
    }
    out.extend_from_slice(b"\",\"version\":");
    write_i64(out, i64::from(tx.version));
    if tx.segwit {
        out.extend_from_slice(b",\"segwit\":true,\"input_count\":");
    } else {
        out.extend_from_slice(b",\"segwit\":false,\"input_count\":");
    }
    write_u64(out, tx.inputs.len());
    out.extend_from_slice(b",\"output_count\":");
    write_u64(out, tx.outputs.len());
    if tx.full_detail {
        out.extend_from_slice(b",\"inputs\":[");
        write_elements(out, tx.inputs.iter(), |out, input| write_input(out, &input));
        out.extend_from_slice(b"],\"outputs\":[");
        write_elements(out, tx.outputs.iter(), |out, output| {
            write_output(out, &output)
        });
        out.push(b']');
    }
    out.extend_from_slice(b",\"lock_time\":");
    write_u64(out, u64::from(tx.lock_time));
    out.extend_from_slice(b",\"size\":");
    write_usize(out, tx.size);
    out.extend_from_slice(b",\"weight\":");
    write_usize(out, tx.weight);
    out.extend_from_slice(b",\"vsize\":");
    write_usize(out, tx.vsize);
    out.push(b'}');
}

fn write_input(out: &mut Vec<u8>, input: &TxIn<'_>) {
    out.extend_from_slice(b"{\"previous_output\":{\"txid\":\"");
    write_hash_hex(out, &input.previous_output.txid.0);
    out.extend_from_slice(b"\",\"vout\":");
    write_u64(out, u64::from(input.previous_output.vout));
    out.extend_from_slice(b"},\"script_sig\":");
    write_hex_string(out, input.script_sig);
    out.extend_from_slice(b",\"sequence\":");
    write_u64(out, u64::from(input.sequence));
    out.extend_from_slice(b",\"witness\":[");
    write_elements(out, input.witness.iter(), |out, item| {
        write_hex_string(out, item)
    });
    out.extend_from_slice(b"]}");
}

fn write_output(out: &mut Vec<u8>, output: &TxOut<'_>) {
    out.extend_from_slice(b"{\"value\":");
    write_i64(out, output.value);
    out.extend_from_slice(b",\"script_pubkey\":");
    write_hex_string(out, output.script_pubkey);
    out.push(b'}');
}

fn write_block(out: &mut Vec<u8>, block: &Block<'_>) {
    out.extend_from_slice(b"{\"header\":");
    write_header(out, &block.header);
    out.extend_from_slice(b",\"transactions\":[");
    write_elements(out, block.transactions.iter(), |out, tx| write_tx(out, tx));
    out.extend_from_slice(b"]}");
}

fn write_header(out: &mut Vec<u8>, header: &BlockHeader) {
    out.extend_from_slice(b"{\"hash\":\"");
    write_hash_hex(out, &header.hash.0);
    out.extend_from_slice(b"\",\"version\":");
    write_i64(out, i64::from(header.version));
    out.extend_from_slice(b",\"prev_block\":\"");
    write_hash_hex(out, &header.prev_block.0);
    out.extend_from_slice(b"\",\"merkle_root\":\"");
    write_hash_hex(out, &header.merkle_root.0);
    out.extend_from_slice(b"\",\"time\":");
    write_u64(out, u64::from(header.time));
    out.extend_from_slice(b",\"bits\":");
    write_u64(out, u64::from(header.bits));
    out.extend_from_slice(b",\"nonce\":");
    write_u64(out, u64::from(header.nonce));
    out.push(b'}');
}

fn write_addresses(out: &mut Vec<u8>, addr: &Addresses) {
    out.extend_from_slice(b"{\"addresses\":[");
    write_elements(out, addr.addresses.iter(), |out, entry| {
        write_addr_entry(out, entry)
    });
    out.extend_from_slice(b"]}");
}

fn write_addr_entry(out: &mut Vec<u8>, entry: &AddrEntry) {
    match entry.time {
        Some(time) => {
            out.extend_from_slice(b"{\"time\":");
            write_u64(out, u64::from(time));
            out.extend_from_slice(b",\"services\":");
        }
        None => out.extend_from_slice(b"{\"services\":"),
    }
    write_services(out, &entry.services);
    out.extend_from_slice(b",\"ip\":\"");
    write_ip(out, &entry.ip);
    out.extend_from_slice(b"\",\"port\":");
    write_u64(out, u64::from(entry.port));
    out.push(b'}');
}

fn write_services(out: &mut Vec<u8>, services: &Services) {
    // A 64-bit field: a decimal string (text::id64).
    out.extend_from_slice(b"{\"bits\":\"");
    write_u64(out, services.0);
    out.extend_from_slice(b"\",\"names\":[");
    for (i, name) in services.iter_names().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        match name {
            // Names are this crate's constants: nothing to escape.
            ServiceName::Known(name) => out.extend_from_slice(name.as_bytes()),
            ServiceName::Bit(bit) => {
                out.extend_from_slice(b"bit ");
                write_u64(out, u64::from(bit));
            }
        }
        out.push(b'"');
    }
    out.extend_from_slice(b"]}");
}

/// As `network::ip_text`: IPv4-mapped addresses dotted, others as IPv6.
fn write_ip(out: &mut Vec<u8>, ip: &Ipv6Addr) {
    match ip.to_ipv4_mapped() {
        Some(v4) => write_ipv4(out, v4),
        None => {
            let _ = write!(out, "{ip}");
        }
    }
}

/// The elements of a JSON array (between its brackets), comma-separated.
fn write_elements<T>(
    out: &mut Vec<u8>,
    items: impl Iterator<Item = T>,
    mut write: impl FnMut(&mut Vec<u8>, T),
) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
}
