//! Inventory vectors (inv, getdata, notfound) and block locators
//! (getblocks, getheaders).

use crate::p2p::Hash256;
use crate::p2p::reader::{DecodeError, Reader};

/// Core's MAX_INV_SZ (net_processing.cpp): inv/getdata/notfound with more
/// entries make Core treat the peer as misbehaving.
pub const MAX_INV_SZ: u64 = 50_000;

/// Core's MAX_LOCATOR_SZ (net_processing.cpp): a longer locator in
/// getblocks/getheaders makes Core disconnect the peer.
pub const MAX_LOCATOR_SZ: u64 = 101;

/// Inventory type names (protocol.h GetDataMsg).
pub fn inv_type_name(type_id: u32) -> &'static str {
    match type_id {
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
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvItem {
    pub type_name: &'static str,
    pub type_id: u32,
    pub hash: Hash256,
}

/// An inventory vector (inv, getdata, notfound): its items as sent, 36
/// bytes each, borrowed from the payload (no allocation per message:
/// these are the most frequent messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inventory<'a> {
    pub inventory: InvItems<'a>,
}

/// The items of an inventory vector: `raw` holds whole 36-byte items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InvItems<'a> {
    raw: &'a [u8],
}

/// One inventory item on the wire: 4-byte type, 32-byte hash.
const INV_ITEM_SIZE: usize = 36;

impl<'a> InvItems<'a> {
    pub fn len(&self) -> usize {
        self.raw.len() / INV_ITEM_SIZE
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = InvItem> + use<'a> {
        let (items, _) = self.raw.as_chunks::<INV_ITEM_SIZE>();
        items.iter().map(|&[t0, t1, t2, t3, hash @ ..]| {
            let type_id = u32::from_le_bytes([t0, t1, t2, t3]);
            InvItem {
                type_name: inv_type_name(type_id),
                type_id,
                hash: Hash256(hash),
            }
        })
    }

    /// Each item's type id alone (counting by type without the hashes).
    pub fn type_ids(&self) -> impl Iterator<Item = u32> + use<'a> {
        self.raw.chunks_exact(INV_ITEM_SIZE).map(|item| {
            item.first_chunk::<4>()
                .map_or(0, |b| u32::from_le_bytes(*b))
        })
    }

    pub fn get(&self, index: usize) -> Option<InvItem> {
        self.iter().nth(index)
    }
}

pub(super) fn read_inventory<'a>(r: &mut Reader<'a>) -> Result<Inventory<'a>, DecodeError> {
    let count = r.count("inv.count", MAX_INV_SZ)?;
    // Whole items only: a short last item is an error at its own offset,
    // as when reading item by item.
    let start = r.position();
    for _ in 0..count {
        r.u32_le("inv.type")?;
        r.hash("inv.hash")?;
    }
    Ok(Inventory {
        inventory: InvItems {
            raw: r.consumed_since(start),
        },
    })
}

/// getblocks / getheaders payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLocator {
    /// The sender's protocol version (Core ignores it).
    pub version: u32,
    pub locator_hashes: Vec<Hash256>,
    /// All zero: as many as the reply allows.
    pub hash_stop: Hash256,
}

pub(super) fn read_locator(r: &mut Reader<'_>) -> Result<BlockLocator, DecodeError> {
    let version = r.u32_le("locator.version")?;
    let count = r.count("locator.count", MAX_LOCATOR_SZ)?;
    let mut locator_hashes = Vec::with_capacity(r.capacity_for(count, 32));
    for _ in 0..count {
        locator_hashes.push(r.hash("locator.hash")?);
    }
    Ok(BlockLocator {
        version,
        locator_hashes,
        hash_stop: r.hash("locator.hash_stop")?,
    })
}
