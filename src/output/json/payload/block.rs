//! block, headers, merkleblock, and the header they share.

use super::super::fields::{Fields, array, hash_list, key};
use super::transaction::transaction_object;
use crate::p2p::Network;
use crate::p2p::message::{Block, BlockHeader, Headers, MerkleBlock};

/// The header's fields (inside an object the caller opened).
fn header_fields<F: Fields>(header: &BlockHeader, f: &mut F) {
    f.field_hash(key!("hash"), &header.hash);
    f.field_i64(key!("version"), i64::from(header.version));
    f.field_hash(key!("prev_block"), &header.prev_block);
    f.field_hash(key!("merkle_root"), &header.merkle_root);
    f.field_u64(key!("time"), u64::from(header.time));
    f.field_u64(key!("bits"), u64::from(header.bits));
    f.field_u64(key!("nonce"), u64::from(header.nonce));
}

/// `"header": {…}`.
pub fn header<F: Fields>(header: &BlockHeader, f: &mut F) {
    f.key(key!("header"));
    f.begin_object();
    header_fields(header, f);
    f.end_object();
}

pub fn block<F: Fields>(block: &Block<'_>, addresses: Option<Network>, f: &mut F) {
    header(&block.header, f);
    f.key(key!("transactions"));
    array(f, &block.transactions, |f, tx| {
        transaction_object(tx, addresses, f)
    });
}

pub fn headers<F: Fields>(headers: &Headers, f: &mut F) {
    f.key(key!("headers"));
    array(f, &headers.headers, |f, entry| {
        f.begin_object();
        header_fields(&entry.header, f);
        f.field_u64(key!("tx_count"), entry.tx_count);
        f.end_object();
    });
}

pub fn merkle_block<F: Fields>(block: &MerkleBlock<'_>, f: &mut F) {
    header(&block.header, f);
    f.field_u64(
        key!("total_transactions"),
        u64::from(block.total_transactions),
    );
    hash_list(f, key!("hashes"), &block.hashes);
    f.field_hex(key!("flags"), block.flags);
}
