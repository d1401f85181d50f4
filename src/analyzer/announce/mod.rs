//! Who was first: across flows, the time each peer first announced each
//! block hash and txid (inv, headers, cmpctblock) or delivered it (tx,
//! block), and per peer how often it was first and how far behind the
//! first it was otherwise. A peer is the sending endpoint (`ip:port`) of
//! the flow direction that carried the message; a message's time is that
//! of the packet with its last byte (as shown on its line).
//!
//! With worker threads each worker only sees its own flows: workers note
//! their observations with the operation they came from, and the merge
//! feeds the table in the single-threaded order (see parallel/merge.rs),
//! so the summary is the same whatever `--threads`.

mod board;
mod record;
mod ring;
mod table;

pub use board::{Board, Standing};

pub use table::{
    Announcer, BLOCK_CAPACITY, BLOCK_PEER_SLOTS, BlockSeen, DELAY_WINDOW, KindTally, MAX_PEERS,
    PeerTally, TX_CAPACITY, TX_PEER_SLOTS, Table,
};

use crate::capture::Timestamp;
use crate::p2p::message::Message;
use crate::p2p::{Hash256, sha256d};
use std::net::SocketAddr;

/// What was announced: a transaction (txid or wtxid) or a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tx = 0,
    Block = 1,
}

/// One announcement, as a worker hands it to the merge.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    pub kind: Kind,
    pub hash: Hash256,
    pub peer: SocketAddr,
    pub ts: Timestamp,
}

/// The commands that announce or deliver a hash.
pub const ANNOUNCING_COMMANDS: [&str; 5] = ["inv", "headers", "cmpctblock", "tx", "block"];

/// The kind an inventory type announces (protocol.h GetDataMsg): `None`
/// for types that announce nothing (ERROR, unknown types).
pub fn inv_kind(type_id: u32) -> Option<Kind> {
    match type_id {
        // MSG_TX, MSG_WTX, MSG_WITNESS_TX
        1 | 5 | 0x4000_0001 => Some(Kind::Tx),
        // MSG_BLOCK, MSG_FILTERED_BLOCK, MSG_CMPCT_BLOCK, and witness forms
        2..=4 | 0x4000_0002 | 0x4000_0003 => Some(Kind::Block),
        _ => None,
    }
}

/// Calls `each` for every hash a decoded message announces or delivers.
/// A delivered tx counts under its txid and, when it differs (segwit),
/// its wtxid: MSG_TX announces the one, MSG_WTX (BIP339) the other.
pub fn announced(message: &Message<'_>, mut each: impl FnMut(Kind, Hash256)) {
    match message {
        Message::Inv(inv) => {
            for item in inv.inventory.iter() {
                if let Some(kind) = inv_kind(item.type_id) {
                    each(kind, item.hash);
                }
            }
        }
        Message::Headers(h) => {
            for entry in &h.headers {
                each(Kind::Block, entry.header.hash);
            }
        }
        Message::CmpctBlock(c) => each(Kind::Block, c.header.hash),
        Message::Block(b) => each(Kind::Block, b.header.hash),
        Message::Tx(tx) => {
            each(Kind::Tx, tx.txid);
            if let Some(wtxid) = tx.wtxid.filter(|w| *w != tx.txid) {
                each(Kind::Tx, wtxid);
            }
        }
        _ => {}
    }
}

/// The hash of a block or cmpctblock payload without decoding it (its
/// first 80 bytes are the header): for messages `--command` leaves
/// undecoded, whose transactions need not be hashed.
pub fn header_hash(payload: &[u8]) -> Option<Hash256> {
    payload.get(..80).map(|h| Hash256(sha256d(h)))
}

/// Where a handler's observations go: the table itself (one thread), or
/// the round's list, with the operation each came from (a worker).
#[derive(Default)]
pub enum Recorder {
    /// Not asked for (no `--stats`).
    #[default]
    Off,
    Table(Box<Table>),
    Round(Vec<(u32, Observation)>),
}

impl Recorder {
    /// The recorder of a handler on one thread (publishing on `board`
    /// while it runs, if given).
    pub fn new(on: bool, board: Option<&Board>) -> Self {
        if on {
            let mut table = Box::<Table>::default();
            if let Some(board) = board {
                table.publish_on(board.clone());
            }
            Recorder::Table(table)
        } else {
            Recorder::Off
        }
    }
}

/// The summary's part: the table's counters, each announcing peer's
/// figures and the block hashes still remembered, oldest first.
#[derive(Debug, Clone, Default)]
pub struct AnnounceSummary {
    pub tx_capacity: u64,
    pub block_capacity: u64,
    /// Distinct hashes seen (each counted again if seen after eviction).
    pub txs_seen: u64,
    pub blocks_seen: u64,
    pub txs_evicted: u64,
    pub blocks_evicted: u64,
    /// Announcements not tallied: their hash's peer slots were full.
    pub beyond_slots: u64,
    /// In the order peers first announced something; the peers beyond
    /// [`MAX_PEERS`] last, together (`peer: None`).
    pub announcers: Vec<PeerTally>,
    pub blocks: Vec<BlockSeen>,
}

#[cfg(test)]
mod tests;
