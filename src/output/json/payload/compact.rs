//! BIP152 compact blocks: sendcmpct, cmpctblock, getblocktxn, blocktxn.

use super::super::fields::{Fields, array, key};
use super::block::header;
use super::transaction::transaction_object;
use crate::p2p::Network;
use crate::p2p::message::{BlockTxn, CmpctBlock, GetBlockTxn, SendCmpct};

pub fn send_cmpct<F: Fields>(m: &SendCmpct, f: &mut F) {
    f.field_bool(key!("announce"), m.announce);
    f.field_u64(key!("version"), m.version);
}

pub fn cmpct_block<F: Fields>(block: &CmpctBlock<'_>, addresses: Option<Network>, f: &mut F) {
    header(&block.header, f);
    // With the header, the key of the short ids' SipHash.
    f.key(key!("nonce"));
    f.id64(block.nonce);
    // Each short id as its 6 wire bytes.
    f.key(key!("short_ids"));
    array(f, &block.short_ids, |f, id| f.hex(id));
    f.key(key!("prefilled_txs"));
    array(f, &block.prefilled_txs, |f, prefilled| {
        f.begin_object();
        f.field_u64(key!("index"), u64::from(prefilled.index));
        f.key(key!("tx"));
        transaction_object(&prefilled.tx, addresses, f);
        f.end_object();
    });
}

pub fn get_block_txn<F: Fields>(m: &GetBlockTxn, f: &mut F) {
    f.field_hash(key!("block_hash"), &m.block_hash);
    f.key(key!("indexes"));
    array(f, &m.indexes, |f, &i| f.u64(u64::from(i)));
}

pub fn block_txn<F: Fields>(m: &BlockTxn<'_>, addresses: Option<Network>, f: &mut F) {
    f.field_hash(key!("block_hash"), &m.block_hash);
    f.key(key!("transactions"));
    array(f, &m.transactions, |f, tx| {
        transaction_object(tx, addresses, f)
    });
}
