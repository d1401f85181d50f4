//! BIP152 compact blocks: sendcmpct, cmpctblock, getblocktxn, blocktxn.

use super::MAX_SIZE;
use super::block::{BlockHeader, read_header, read_transactions};
use super::transaction::{Transaction, read_transaction};
use crate::p2p::Hash256;
use crate::p2p::reader::{DecodeError, Reader};

/// Short transaction ids are 6 bytes (BIP152).
pub const SHORT_ID_SIZE: usize = 6;

/// Core keeps compact-block indexes as uint16_t; its DifferenceFormatter
/// (blockencodings.h) refuses a message whose absolute index would not
/// fit ("differential value overflow").
pub const MAX_COMPACT_INDEX: u64 = u16::MAX as u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendCmpct {
    /// true: announce new blocks with cmpctblock (high bandwidth mode).
    pub announce: bool,
    pub version: u64,
}

pub(super) fn read_send_cmpct(r: &mut Reader<'_>) -> Result<SendCmpct, DecodeError> {
    Ok(SendCmpct {
        announce: r.u8("sendcmpct.announce")? != 0,
        version: r.u64_le("sendcmpct.version")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefilledTransaction<'a> {
    /// Absolute index in the block (decoded from the differential form).
    pub index: u32,
    pub tx: Transaction<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmpctBlock<'a> {
    pub header: BlockHeader,
    /// With the header, the key of the short ids' SipHash (BIP152).
    pub nonce: u64,
    /// Each short id as its 6 wire bytes, hex.
    pub short_ids: Vec<[u8; SHORT_ID_SIZE]>,
    pub prefilled_txs: Vec<PrefilledTransaction<'a>>,
}

/// Turns the next differentially encoded index into an absolute one:
/// each is the gap since the previous index plus one.
struct DifferentialIndexes {
    next: u64,
}

impl DifferentialIndexes {
    fn read(&mut self, r: &mut Reader<'_>, what: &'static str) -> Result<u32, DecodeError> {
        let offset = r.position();
        let diff = r.compact_size(what)?;
        let absolute = self
            .next
            .checked_add(diff)
            .filter(|&i| i <= MAX_COMPACT_INDEX);
        match absolute {
            Some(index) => {
                // index <= MAX_COMPACT_INDEX: no overflow.
                self.next = index.saturating_add(1);
                Ok(index as u32)
            }
            None => Err(DecodeError::Invalid {
                what,
                offset,
                detail: format!(
                    "index {} + {diff} overflows 16 bits (Core's limit)",
                    self.next
                ),
            }),
        }
    }
}

pub(super) fn read_cmpct_block<'a>(
    r: &mut Reader<'a>,
    full_detail: bool,
) -> Result<CmpctBlock<'a>, DecodeError> {
    let header = read_header(r)?;
    let nonce = r.u64_le("cmpctblock.nonce")?;
    let count = r.count("cmpctblock.short_id_count", MAX_SIZE)?;
    let mut short_ids = Vec::with_capacity(r.capacity_for(count, SHORT_ID_SIZE));
    for _ in 0..count {
        short_ids.push(r.array::<SHORT_ID_SIZE>("cmpctblock.short_id")?);
    }
    let count = r.count("cmpctblock.prefilled_count", MAX_SIZE)?;
    let mut prefilled_txs = Vec::with_capacity(r.capacity_for(count, 11).min(4096));
    let mut indexes = DifferentialIndexes { next: 0 };
    for _ in 0..count {
        let index = indexes.read(r, "cmpctblock.prefilled_index")?;
        prefilled_txs.push(PrefilledTransaction {
            index,
            tx: read_transaction(r, full_detail)?,
        });
    }
    Ok(CmpctBlock {
        header,
        nonce,
        short_ids,
        prefilled_txs,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetBlockTxn {
    pub block_hash: Hash256,
    /// Absolute indexes (decoded from the differential form).
    pub indexes: Vec<u32>,
}

pub(super) fn read_get_block_txn(r: &mut Reader<'_>) -> Result<GetBlockTxn, DecodeError> {
    let block_hash = r.hash("getblocktxn.block_hash")?;
    let count = r.count("getblocktxn.index_count", MAX_SIZE)?;
    let mut indexes = Vec::with_capacity(r.capacity_for(count, 1));
    let mut decoder = DifferentialIndexes { next: 0 };
    for _ in 0..count {
        indexes.push(decoder.read(r, "getblocktxn.index")?);
    }
    Ok(GetBlockTxn {
        block_hash,
        indexes,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockTxn<'a> {
    pub block_hash: Hash256,
    pub transactions: Vec<Transaction<'a>>,
}

pub(super) fn read_block_txn<'a>(
    r: &mut Reader<'a>,
    full_detail: bool,
) -> Result<BlockTxn<'a>, DecodeError> {
    Ok(BlockTxn {
        block_hash: r.hash("blocktxn.block_hash")?,
        transactions: read_transactions(r, "blocktxn.tx_count", full_detail)?,
    })
}
