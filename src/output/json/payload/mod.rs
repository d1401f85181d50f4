//! One payload walk per message family: the keys and values of every
//! decoded payload, in output order. A payload is an object; the command
//! is in the envelope. An unknown command's payload is `{"raw": hex}`,
//! an empty message's `{}`. With `-v`, transaction outputs also show
//! their script type and address, written for the network of the frame's
//! magic (`addresses`: `Some(network)`; `None` without `-v`, where the
//! base58 and bech32 encoding would cost more than the rest of a `tx`).

mod address;
mod block;
mod bloom;
mod compact;
mod filters;
mod inventory;
mod legacy;
mod network;
mod transaction;

pub use address::network_address_text;

use super::fields::{Fields, key};
use crate::p2p::Network;
use crate::p2p::message::Message;

/// Walks `message`'s payload object; `addresses`: see the module.
pub fn payload<F: Fields>(message: &Message<'_>, addresses: Option<Network>, f: &mut F) {
    f.begin_object();
    match message {
        Message::Inv(m) | Message::GetData(m) | Message::NotFound(m) => inventory::inventory(m, f),
        Message::GetBlocks(m) | Message::GetHeaders(m) => inventory::locator(m, f),
        Message::Tx(m) => transaction::transaction(m, addresses, f),
        Message::Block(m) => block::block(m, addresses, f),
        Message::Headers(m) => block::headers(m, f),
        Message::MerkleBlock(m) => block::merkle_block(m, f),
        Message::Addr(m) => address::addresses(m, f),
        Message::AddrV2(m) => address::addresses_v2(m, f),
        Message::Version(m) => network::version(m, f),
        Message::Ping(m) => network::ping(m, f),
        Message::Pong(m) => network::pong(m, f),
        Message::FeeFilter(m) => network::fee_filter(m, f),
        Message::SendTxRcncl(m) => network::send_txrcncl(m, f),
        Message::SendCmpct(m) => compact::send_cmpct(m, f),
        Message::CmpctBlock(m) => compact::cmpct_block(m, addresses, f),
        Message::GetBlockTxn(m) => compact::get_block_txn(m, f),
        Message::BlockTxn(m) => compact::block_txn(m, addresses, f),
        Message::GetCFilters(m) => filters::get_cfilters(m, f),
        Message::CFilter(m) => filters::cfilter(m, f),
        Message::GetCFHeaders(m) => filters::get_cfheaders(m, f),
        Message::CFHeaders(m) => filters::cfheaders(m, f),
        Message::GetCFCheckpt(m) => filters::get_cfcheckpt(m, f),
        Message::CFCheckpt(m) => filters::cfcheckpt(m, f),
        Message::FilterLoad(m) => bloom::filter_load(m, f),
        Message::FilterAdd(m) => bloom::filter_add(m, f),
        Message::Reject(m) => legacy::reject(m, f),
        Message::Alert(m) => legacy::alert(m, f),
        Message::Unknown { payload, .. } => f.field_hex(key!("raw"), payload),
        Message::Verack
        | Message::SendAddrV2
        | Message::GetAddr
        | Message::MemPool
        | Message::FilterClear
        | Message::SendHeaders
        | Message::WtxidRelay => {}
    }
    f.end_object();
}
