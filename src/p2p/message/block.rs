//! Block data: block, headers, merkleblock (BIP37), and the 80-byte header
//! they share.

use super::MAX_SIZE;
use super::transaction::{Transaction, read_transaction};
use crate::p2p::Hash256;
use crate::p2p::hash::sha256d;
use crate::p2p::reader::{Anomaly, DecodeError, Reader};

/// Core's MAX_HEADERS_RESULTS (net_processing.cpp): a headers message with
/// more entries makes Core treat the peer as misbehaving.
pub const MAX_HEADERS_RESULTS: u64 = 2_000;

/// Size of a serialised block header.
pub const HEADER_SIZE: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    /// sha256d of the 80 header bytes, display order.
    pub hash: Hash256,
    pub version: i32,
    pub prev_block: Hash256,
    pub merkle_root: Hash256,
    pub time: u32,
    /// Compact target ("nBits").
    pub bits: u32,
    pub nonce: u32,
}

/// Reads an 80-byte header and hashes it in place.
pub fn read_header(r: &mut Reader<'_>) -> Result<BlockHeader, DecodeError> {
    let raw = r.bytes(HEADER_SIZE, "block_header")?;
    let mut h = Reader::new(raw);
    Ok(BlockHeader {
        hash: Hash256(sha256d(raw)),
        version: h.i32_le("header.version")?,
        prev_block: h.hash("header.prev_block")?,
        merkle_root: h.hash("header.merkle_root")?,
        time: h.u32_le("header.time")?,
        bits: h.u32_le("header.bits")?,
        nonce: h.u32_le("header.nonce")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    pub header: BlockHeader,
    pub transactions: Vec<Transaction<'a>>,
}

/// Reads a count of transactions and the transactions themselves.
pub(super) fn read_transactions<'a>(
    r: &mut Reader<'a>,
    field: &'static str,
    full_detail: bool,
) -> Result<Vec<Transaction<'a>>, DecodeError> {
    let count = r.count(field, MAX_SIZE)?;
    // Smallest transaction: 10 bytes (no inputs, no outputs).
    let mut txs = Vec::with_capacity(r.capacity_for(count, 10).min(4096));
    for _ in 0..count {
        txs.push(read_transaction(r, full_detail)?);
    }
    Ok(txs)
}

pub(super) fn read_block<'a>(
    r: &mut Reader<'a>,
    full_detail: bool,
) -> Result<Block<'a>, DecodeError> {
    Ok(Block {
        header: read_header(r)?,
        transactions: read_transactions(r, "block.tx_count", full_detail)?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderEntry {
    pub header: BlockHeader,
    /// Always 0 in a headers message (Core ignores the value).
    pub tx_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    pub headers: Vec<HeaderEntry>,
}

pub(super) fn read_headers(r: &mut Reader<'_>) -> Result<Headers, DecodeError> {
    let count = r.count("headers.count", MAX_HEADERS_RESULTS)?;
    let mut headers = Vec::with_capacity(r.capacity_for(count, HEADER_SIZE + 1));
    for _ in 0..count {
        let header = read_header(r)?;
        let tx_count = r.compact_size("headers.tx_count")?;
        if tx_count != 0 {
            // A header in `headers` carries no transactions; Core reads the
            // count and ignores it, so note it as over its limit of 0.
            r.note(Anomaly::CountOverLimit {
                field: "headers.tx_count",
                count: tx_count,
                limit: 0,
            });
        }
        headers.push(HeaderEntry { header, tx_count });
    }
    Ok(Headers { headers })
}

/// BIP37 filtered block: header plus a partial merkle tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleBlock<'a> {
    pub header: BlockHeader,
    pub total_transactions: u32,
    pub hashes: Vec<Hash256>,
    /// Bit flags of the partial merkle tree, as sent.
    pub flags: &'a [u8],
}

pub(super) fn read_merkle_block<'a>(r: &mut Reader<'a>) -> Result<MerkleBlock<'a>, DecodeError> {
    let header = read_header(r)?;
    let total_transactions = r.u32_le("merkleblock.total_transactions")?;
    let count = r.count("merkleblock.hash_count", MAX_SIZE)?;
    let mut hashes = Vec::with_capacity(r.capacity_for(count, 32));
    for _ in 0..count {
        hashes.push(r.hash("merkleblock.hash")?);
    }
    Ok(MerkleBlock {
        header,
        total_transactions,
        hashes,
        flags: r.var_bytes("merkleblock.flags")?,
    })
}
