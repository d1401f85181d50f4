//! Typed messages: one variant per command, decoded from a payload.
//!
//! Decoding borrows every variable-length field from the payload, hashes
//! transactions and headers over the payload's own bytes (never
//! re-serialised), and reports what Core would object to as [`Anomaly`]s
//! while going on. A payload that cannot be decoded at all yields a
//! [`DecodeError`] with its offset; the caller keeps the raw bytes.
//!
//! Types here are plain data: how they are shown is up to
//! [`crate::output`].

pub mod address;
pub mod block;
pub mod bloom;
pub mod compact;
pub mod filters;
pub mod inventory;
pub mod legacy;
pub mod network;
pub mod transaction;
pub mod tx_parts;

use super::Hash256;
use super::frame::Command;
use super::reader::{Anomaly, DecodeError, Reader};

pub use address::{AddrEntry, AddrV2Entry, Addresses, AddressesV2};
pub use block::{Block, BlockHeader, Headers, MerkleBlock};
pub use bloom::{FilterAdd, FilterLoad};
pub use compact::{BlockTxn, CmpctBlock, GetBlockTxn, SendCmpct};
pub use filters::{CFCheckpt, CFHeaders, CFilter, GetCFCheckpt, GetCFHeaders, GetCFilters};
pub use inventory::{BlockLocator, InvItem, InvItems, Inventory};
pub use legacy::{Alert, Reject};
pub use network::{FeeFilter, NetAddr, Ping, Pong, SendTxRcncl, Services, Version};
pub use transaction::Transaction;

/// Core's MAX_SIZE (serialize.h): the largest CompactSize Core accepts for
/// any vector length; used as the limit where Core has no tighter one.
pub const MAX_SIZE: u64 = 0x0200_0000;

/// Every command with a variant of its own: the 35 Bitcoin Core speaks,
/// plus reject and alert (anything else decodes as `Unknown`).
pub const KNOWN_COMMANDS: [&str; 37] = [
    "version",
    "verack",
    "addr",
    "addrv2",
    "sendaddrv2",
    "inv",
    "getdata",
    "notfound",
    "getblocks",
    "getheaders",
    "tx",
    "block",
    "headers",
    "getaddr",
    "ping",
    "pong",
    "mempool",
    "merkleblock",
    "filterload",
    "filteradd",
    "filterclear",
    "sendheaders",
    "feefilter",
    "sendcmpct",
    "cmpctblock",
    "getblocktxn",
    "blocktxn",
    "getcfilters",
    "cfilter",
    "getcfheaders",
    "cfheaders",
    "getcfcheckpt",
    "cfcheckpt",
    "wtxidrelay",
    "sendtxrcncl",
    "reject",
    "alert",
];

/// How to decode one direction's messages, and what is already known of
/// the payload at hand. `DecodeContext::default()`: modern peer, summaries,
/// nothing known.
#[derive(Debug, Default, Clone, Copy)]
pub struct DecodeContext {
    /// Protocol version this direction's sender announced in its `version`
    /// (None: unknown, assume modern).
    pub peer_version: Option<i32>,
    /// When false, blocks skip computing their transactions' wtxids (the
    /// costliest optional hash). txids are always computed.
    pub full_detail: bool,
    /// sha256d of exactly the payload passed to [`decode`] with this
    /// context, when the caller has it: the framing decoder computes it
    /// for the checksum ([`Frame::payload_hash`](super::frame::Frame)).
    /// A `tx` that spans the whole payload takes its txid (legacy) or
    /// wtxid (segwit) from it instead of hashing again. It is trusted as
    /// given: pass only a hash computed over these bytes (never the
    /// header's claimed checksum), or None.
    pub payload_hash: Option<Hash256>,
}

/// The result of decoding one payload.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub message: Result<Message<'a>, DecodeError>,
    /// What Core would object to, noticed while decoding (also on error).
    pub anomalies: Vec<Anomaly>,
}

/// One decoded payload, by command.
#[derive(Debug, Clone, PartialEq)]
pub enum Message<'a> {
    Version(Version<'a>),
    Verack,
    Addr(Addresses),
    AddrV2(AddressesV2<'a>),
    SendAddrV2,
    Inv(Inventory<'a>),
    GetData(Inventory<'a>),
    NotFound(Inventory<'a>),
    GetBlocks(BlockLocator),
    GetHeaders(BlockLocator),
    Tx(Transaction<'a>),
    Block(Block<'a>),
    Headers(Headers),
    GetAddr,
    Ping(Ping),
    Pong(Pong),
    MemPool,
    MerkleBlock(MerkleBlock<'a>),
    FilterLoad(FilterLoad<'a>),
    FilterAdd(FilterAdd<'a>),
    FilterClear,
    SendHeaders,
    FeeFilter(FeeFilter),
    SendCmpct(SendCmpct),
    CmpctBlock(CmpctBlock<'a>),
    GetBlockTxn(GetBlockTxn),
    BlockTxn(BlockTxn<'a>),
    GetCFilters(GetCFilters),
    CFilter(CFilter<'a>),
    GetCFHeaders(GetCFHeaders),
    CFHeaders(CFHeaders),
    GetCFCheckpt(GetCFCheckpt),
    CFCheckpt(CFCheckpt),
    WtxidRelay,
    SendTxRcncl(SendTxRcncl),
    /// BIP61, removed from Core in 0.20; still in old captures.
    Reject(Reject<'a>),
    /// Removed at protocol version 70013; still in old captures.
    Alert(Alert<'a>),
    /// A command this decoder does not know, kept whole.
    Unknown {
        command: Command,
        payload: &'a [u8],
    },
}

impl Message<'_> {
    /// The command this message is sent under ("" for an unknown command
    /// that is not printable ASCII).
    pub fn command(&self) -> &str {
        match self {
            Message::Version(_) => "version",
            Message::Verack => "verack",
            Message::Addr(_) => "addr",
            Message::AddrV2(_) => "addrv2",
            Message::SendAddrV2 => "sendaddrv2",
            Message::Inv(_) => "inv",
            Message::GetData(_) => "getdata",
            Message::NotFound(_) => "notfound",
            Message::GetBlocks(_) => "getblocks",
            Message::GetHeaders(_) => "getheaders",
            Message::Tx(_) => "tx",
            Message::Block(_) => "block",
            Message::Headers(_) => "headers",
            Message::GetAddr => "getaddr",
            Message::Ping(_) => "ping",
            Message::Pong(_) => "pong",
            Message::MemPool => "mempool",
            Message::MerkleBlock(_) => "merkleblock",
            Message::FilterLoad(_) => "filterload",
            Message::FilterAdd(_) => "filteradd",
            Message::FilterClear => "filterclear",
            Message::SendHeaders => "sendheaders",
            Message::FeeFilter(_) => "feefilter",
            Message::SendCmpct(_) => "sendcmpct",
            Message::CmpctBlock(_) => "cmpctblock",
            Message::GetBlockTxn(_) => "getblocktxn",
            Message::BlockTxn(_) => "blocktxn",
            Message::GetCFilters(_) => "getcfilters",
            Message::CFilter(_) => "cfilter",
            Message::GetCFHeaders(_) => "getcfheaders",
            Message::CFHeaders(_) => "cfheaders",
            Message::GetCFCheckpt(_) => "getcfcheckpt",
            Message::CFCheckpt(_) => "cfcheckpt",
            Message::WtxidRelay => "wtxidrelay",
            Message::SendTxRcncl(_) => "sendtxrcncl",
            Message::Reject(_) => "reject",
            Message::Alert(_) => "alert",
            Message::Unknown { command, .. } => command.as_str().unwrap_or(""),
        }
    }
}

/// Decodes `payload` as the payload of `command`.
pub fn decode<'a>(command: &Command, payload: &'a [u8], ctx: &DecodeContext) -> Decoded<'a> {
    let mut r = Reader::new(payload);
    match decode_payload(command, &mut r, ctx) {
        Ok(message) => Decoded {
            message: Ok(message),
            anomalies: r.finish(),
        },
        Err(e) => Decoded {
            message: Err(e),
            anomalies: r.take_anomalies(),
        },
    }
}

fn decode_payload<'a>(
    command: &Command,
    r: &mut Reader<'a>,
    ctx: &DecodeContext,
) -> Result<Message<'a>, DecodeError> {
    Ok(match command.as_bytes() {
        b"version" => Message::Version(network::read_version(r)?),
        b"verack" => Message::Verack,
        b"addr" => Message::Addr(address::read_addr(r, ctx)?),
        b"addrv2" => Message::AddrV2(address::read_addrv2(r)?),
        b"sendaddrv2" => Message::SendAddrV2,
        b"inv" => Message::Inv(inventory::read_inventory(r)?),
        b"getdata" => Message::GetData(inventory::read_inventory(r)?),
        b"notfound" => Message::NotFound(inventory::read_inventory(r)?),
        b"getblocks" => Message::GetBlocks(inventory::read_locator(r)?),
        b"getheaders" => Message::GetHeaders(inventory::read_locator(r)?),
        b"tx" => Message::Tx(transaction::read_tx_payload(r, ctx.payload_hash)?),
        b"block" => Message::Block(block::read_block(r, ctx.full_detail)?),
        b"headers" => Message::Headers(block::read_headers(r)?),
        b"getaddr" => Message::GetAddr,
        b"ping" => Message::Ping(network::read_ping(r)?),
        b"pong" => Message::Pong(network::read_pong(r)?),
        b"mempool" => Message::MemPool,
        b"merkleblock" => Message::MerkleBlock(block::read_merkle_block(r)?),
        b"filterload" => Message::FilterLoad(bloom::read_filter_load(r)?),
        b"filteradd" => Message::FilterAdd(bloom::read_filter_add(r)?),
        b"filterclear" => Message::FilterClear,
        b"sendheaders" => Message::SendHeaders,
        b"feefilter" => Message::FeeFilter(network::read_fee_filter(r)?),
        b"sendcmpct" => Message::SendCmpct(compact::read_send_cmpct(r)?),
        b"cmpctblock" => Message::CmpctBlock(compact::read_cmpct_block(r, ctx.full_detail)?),
        b"getblocktxn" => Message::GetBlockTxn(compact::read_get_block_txn(r)?),
        b"blocktxn" => Message::BlockTxn(compact::read_block_txn(r, ctx.full_detail)?),
        b"getcfilters" => Message::GetCFilters(filters::read_get_cfilters(r)?),
        b"cfilter" => Message::CFilter(filters::read_cfilter(r)?),
        b"getcfheaders" => Message::GetCFHeaders(filters::read_get_cfheaders(r)?),
        b"cfheaders" => Message::CFHeaders(filters::read_cfheaders(r)?),
        b"getcfcheckpt" => Message::GetCFCheckpt(filters::read_get_cfcheckpt(r)?),
        b"cfcheckpt" => Message::CFCheckpt(filters::read_cfcheckpt(r)?),
        b"wtxidrelay" => Message::WtxidRelay,
        b"sendtxrcncl" => Message::SendTxRcncl(network::read_send_txrcncl(r)?),
        b"reject" => Message::Reject(legacy::read_reject(r)?),
        b"alert" => Message::Alert(legacy::read_alert(r)?),
        _ => Message::Unknown {
            command: *command,
            payload: r.bytes(r.remaining(), "payload")?,
        },
    })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_mainnet;
#[cfg(test)]
mod tests_payload_hash;
