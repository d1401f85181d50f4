//! Checks every pool message with rust-bitcoin (the test oracle): it must
//! decode (magic, checksum, payload), re-serialize to the same bytes, and
//! for tx/block the non-witness sizes must match what the pool recorded.

use crate::pool::Pool;
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::p2p::Magic;
use bitcoin::p2p::message::{NetworkMessage, RawNetworkMessage};

pub fn check(pool: &Pool) -> Result<(), String> {
    for (id, msg) in pool.msgs.iter().enumerate() {
        let what = format!("pool message {id} ({})", msg.command.name());
        let raw: RawNetworkMessage =
            deserialize(&msg.bytes).map_err(|e| format!("{what}: rust-bitcoin rejects it: {e}"))?;
        if *raw.magic() != Magic::BITCOIN {
            return Err(format!("{what}: magic {} is not mainnet", raw.magic()));
        }
        if raw.cmd() != msg.command.name() {
            return Err(format!("{what}: decoded as {}", raw.cmd()));
        }
        if serialize(&raw) != msg.bytes {
            return Err(format!("{what}: does not re-serialize to the same bytes"));
        }
        let base: u64 = match raw.payload() {
            NetworkMessage::Tx(tx) => tx.base_size() as u64,
            NetworkMessage::Block(block) => {
                block.txdata.iter().map(|tx| tx.base_size() as u64).sum()
            }
            _ => 0,
        };
        if base != msg.txid_bytes {
            return Err(format!(
                "{what}: txid bytes {} but rust-bitcoin says {base}",
                msg.txid_bytes
            ));
        }
        if let NetworkMessage::Block(block) = raw.payload() {
            let n = block.txdata.len();
            if !(2_000..=4_000).contains(&n) {
                eprintln!("gencap: note: {what} has {n} transactions");
            }
        }
    }
    Ok(())
}
