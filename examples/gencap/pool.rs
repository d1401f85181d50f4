//! The message pool: every message the capture carries is built once here,
//! framed with its v1 header (magic, command, length, checksum), and reused
//! by the flows. Building a pool once keeps 1 GB of output cheap.

use crate::rng::Rng;
use crate::txgen::{build_block, compact_size, write_relay_tx};
use btcsniff::p2p::hash::{checksum, sha256d};
use btcsniff::p2p::network::Network;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Command {
    Version,
    Verack,
    Inv,
    Getdata,
    Tx,
    Block,
    Ping,
    Pong,
    Addr,
}

impl Command {
    pub const ALL: [Command; 9] = [
        Command::Version,
        Command::Verack,
        Command::Inv,
        Command::Getdata,
        Command::Tx,
        Command::Block,
        Command::Ping,
        Command::Pong,
        Command::Addr,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Command::Version => "version",
            Command::Verack => "verack",
            Command::Inv => "inv",
            Command::Getdata => "getdata",
            Command::Tx => "tx",
            Command::Block => "block",
            Command::Ping => "ping",
            Command::Pong => "pong",
            Command::Addr => "addr",
        }
    }
}

/// A framed message: 24-byte header followed by the payload.
pub struct Framed {
    pub bytes: Vec<u8>,
    pub command: Command,
    /// Bytes a dissector hashes for txids (non-witness tx serializations).
    pub txid_bytes: u64,
    /// Transactions in the message (each one txid to hash).
    pub txids: u64,
}

impl Framed {
    pub fn payload_len(&self) -> u64 {
        (self.bytes.len() - 24) as u64
    }
}

pub type MsgId = u32;

/// All messages, plus per-kind lists of ids into `msgs`.
pub struct Pool {
    pub msgs: Vec<Framed>,
    pub version_client: MsgId,
    pub version_server: MsgId,
    pub verack: MsgId,
    pub inv_tx: Vec<MsgId>,
    /// `getdata_tx[i]` asks (by wtxid) for the transactions `tx_groups[i]`.
    pub getdata_tx: Vec<MsgId>,
    pub tx_groups: Vec<Vec<MsgId>>,
    pub txs: Vec<MsgId>,
    /// `pongs[i]` echoes the nonce of `pings[i]`.
    pub pings: Vec<MsgId>,
    pub pongs: Vec<MsgId>,
    pub addrs: Vec<MsgId>,
    pub inv_block: Vec<MsgId>,
    pub getdata_block: Vec<MsgId>,
    pub blocks: Vec<MsgId>,
    /// Transaction count of each pool block, for the summary.
    pub block_tx_counts: Vec<usize>,
}

// Inventory types (PROTOCOL.md, "Inventory types").
const MSG_TX: u32 = 1;
const MSG_BLOCK: u32 = 2;
const MSG_WITNESS_BLOCK: u32 = 0x4000_0002;
const MSG_WTX: u32 = 5;

/// NODE_NETWORK | NODE_WITNESS | NODE_NETWORK_LIMITED
const SERVICES: u64 = 0x409;

fn frame(command: Command, payload: &[u8], txid_bytes: u64, txids: u64) -> Framed {
    let mut bytes = Vec::with_capacity(24 + payload.len());
    bytes.extend_from_slice(&Network::Mainnet.magic());
    let mut name = [0u8; 12];
    name[..command.name().len()].copy_from_slice(command.name().as_bytes());
    bytes.extend_from_slice(&name);
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&checksum(payload));
    bytes.extend_from_slice(payload);
    Framed {
        bytes,
        command,
        txid_bytes,
        txids,
    }
}

/// A network address without the timestamp: services, IPv4-mapped IPv6,
/// big-endian port.
fn net_addr(out: &mut Vec<u8>, ip: [u8; 4], port: u16) {
    out.extend_from_slice(&SERVICES.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
    out.extend_from_slice(&ip);
    out.extend_from_slice(&port.to_be_bytes());
}

fn version_payload(rng: &mut Rng, user_agent: &str, start_height: i32) -> Vec<u8> {
    let mut p = Vec::with_capacity(128);
    p.extend_from_slice(&70016i32.to_le_bytes());
    p.extend_from_slice(&SERVICES.to_le_bytes());
    p.extend_from_slice(&1_732_000_000i64.to_le_bytes());
    net_addr(&mut p, [203, 0, 113, 7], 8333);
    // Core sends an empty addr_from.
    net_addr(&mut p, [0, 0, 0, 0], 0);
    p.extend_from_slice(&rng.next_u64().to_le_bytes());
    compact_size(&mut p, user_agent.len() as u64);
    p.extend_from_slice(user_agent.as_bytes());
    p.extend_from_slice(&start_height.to_le_bytes());
    p.push(1);
    p
}

fn inventory_payload(rng: &mut Rng, count: usize, inv_type: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(1 + count * 36);
    compact_size(&mut p, count as u64);
    for _ in 0..count {
        p.extend_from_slice(&inv_type.to_le_bytes());
        rng.extend(&mut p, 32);
    }
    p
}

/// A one-entry inventory naming a known hash.
fn single_inventory(inv_type: u32, hash: &[u8; 32]) -> Vec<u8> {
    let mut p = Vec::with_capacity(37);
    p.push(1);
    p.extend_from_slice(&inv_type.to_le_bytes());
    p.extend_from_slice(hash);
    p
}

fn addr_payload(rng: &mut Rng, count: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(1 + count * 30);
    compact_size(&mut p, count as u64);
    for _ in 0..count {
        p.extend_from_slice(&(1_731_990_000 + rng.range(0, 10_000) as u32).to_le_bytes());
        let ip = rng.public_ipv4();
        net_addr(&mut p, ip, 8333);
    }
    p
}

/// Relay inv sizes: mostly a handful, sometimes a full trickle batch of 35.
fn relay_inv_count(rng: &mut Rng) -> usize {
    match rng.range(0, 99) {
        0..=49 => rng.range_usize(1, 3),
        50..=84 => rng.range_usize(4, 15),
        _ => rng.range_usize(16, 35),
    }
}

/// Makes a generated block one that the passive checks accept, as real
/// blocks are: the witness commitment over its wtxids, the merkle root
/// over its txids, and a regtest-easy proof of work (bits 0x207fffff: half
/// of all hashes meet it).
fn make_valid(payload: &mut [u8]) {
    use btcsniff::p2p::Hash256;
    use btcsniff::p2p::frame::Command as WireCommand;
    use btcsniff::p2p::merkle::{WITNESS_COMMITMENT_PREFIX, merkle_root, witness_commitment};
    use btcsniff::p2p::message::{DecodeContext, Message, decode};
    let decoded = |payload: &[u8]| {
        let ctx = DecodeContext {
            full_detail: true,
            ..DecodeContext::default()
        };
        match decode(&WireCommand::new("block"), payload, &ctx).message {
            Ok(Message::Block(b)) => b
                .transactions
                .iter()
                .map(|tx| (tx.txid, tx.wtxid.expect("full detail")))
                .collect::<Vec<_>>(),
            other => panic!("generated block does not decode: {other:?}"),
        }
    };
    let ids = decoded(payload);
    let mut wtxids: Vec<Hash256> = ids.iter().map(|(_, w)| *w).collect();
    wtxids[0] = Hash256::default();
    let root = merkle_root(&wtxids).expect("transactions").root;
    let commitment = witness_commitment(&root, &[0u8; 32]);
    let at = payload
        .windows(WITNESS_COMMITMENT_PREFIX.len())
        .position(|w| w == WITNESS_COMMITMENT_PREFIX)
        .expect("coinbase commitment")
        + WITNESS_COMMITMENT_PREFIX.len();
    payload[at..at + 32].copy_from_slice(&commitment.0);
    let txids: Vec<Hash256> = decoded(payload).iter().map(|(t, _)| *t).collect();
    let merkle = merkle_root(&txids).expect("transactions").root;
    payload[36..68].copy_from_slice(&merkle.0);
    payload[72..76].copy_from_slice(&0x207f_ffffu32.to_le_bytes());
    // The last hash byte is the most significant: below 0x7f meets it.
    while sha256d(&payload[..80])[31] >= 0x7f {
        let nonce = u32::from_le_bytes(payload[76..80].try_into().unwrap());
        payload[76..80].copy_from_slice(&nonce.wrapping_add(1).to_le_bytes());
    }
}

/// Number of distinct small messages of each kind in the pool.
const SMALL_POOL: usize = 2_000;

pub fn build(rng: &mut Rng, block_count: usize) -> Pool {
    let mut msgs = Vec::with_capacity(SMALL_POOL + block_count * 3 + 8);
    let mut push = |f: Framed| {
        msgs.push(f);
        (msgs.len() - 1) as MsgId
    };
    let version_client = push(frame(
        Command::Version,
        &version_payload(rng, "/Satoshi:27.1.0/", 0),
        0,
        0,
    ));
    let version_server = push(frame(
        Command::Version,
        &version_payload(rng, "/Satoshi:28.0.0/", 872_345),
        0,
        0,
    ));
    let verack = push(frame(Command::Verack, &[], 0, 0));

    // Shares of the small pool: 30% inv, 15% getdata, 40% tx, 5% ping (+
    // matching pongs), 5% addr.
    let mut inv_tx = Vec::new();
    for _ in 0..SMALL_POOL * 30 / 100 {
        let inv_type = if rng.chance(80) { MSG_WTX } else { MSG_TX };
        let n = relay_inv_count(rng);
        inv_tx.push(push(frame(
            Command::Inv,
            &inventory_payload(rng, n, inv_type),
            0,
            0,
        )));
    }
    let mut txs = Vec::new();
    let mut wtxids = Vec::new();
    for _ in 0..SMALL_POOL * 40 / 100 {
        let mut tx = Vec::with_capacity(400);
        let base = write_relay_tx(&mut tx, rng) as u64;
        wtxids.push(sha256d(&tx));
        txs.push(push(frame(Command::Tx, &tx, base, 1)));
    }
    // Each getdata names (by wtxid, as Core since 0.21) the 1-3
    // transactions that answer it, so the traffic is what a node sees:
    // nothing delivered unasked.
    let (mut getdata_tx, mut tx_groups) = (Vec::new(), Vec::new());
    for _ in 0..SMALL_POOL * 15 / 100 {
        let n = rng.range_usize(1, 3);
        let mut p = Vec::with_capacity(1 + n * 36);
        compact_size(&mut p, n as u64);
        let mut group = Vec::with_capacity(n);
        let first = rng.range_usize(0, txs.len() - 1);
        for k in 0..n {
            // Distinct transactions (each delivered once).
            let i = (first + k) % txs.len();
            p.extend_from_slice(&MSG_WTX.to_le_bytes());
            p.extend_from_slice(&wtxids[i]);
            group.push(txs[i]);
        }
        getdata_tx.push(push(frame(Command::Getdata, &p, 0, 0)));
        tx_groups.push(group);
    }
    let (mut pings, mut pongs) = (Vec::new(), Vec::new());
    for _ in 0..SMALL_POOL * 5 / 100 {
        let nonce = rng.next_u64().to_le_bytes();
        pings.push(push(frame(Command::Ping, &nonce, 0, 0)));
        pongs.push(push(frame(Command::Pong, &nonce, 0, 0)));
    }
    let mut addrs = Vec::new();
    for _ in 0..SMALL_POOL * 5 / 100 {
        let n = if rng.chance(80) {
            rng.range_usize(1, 3)
        } else {
            rng.range_usize(4, 10)
        };
        addrs.push(push(frame(Command::Addr, &addr_payload(rng, n), 0, 0)));
    }
    let (mut inv_block, mut getdata_block, mut blocks) = (Vec::new(), Vec::new(), Vec::new());
    let mut block_tx_counts = Vec::new();
    for i in 0..block_count {
        let target = rng.range_usize(1_000_000, 1_450_000);
        let (mut payload, tx_count, txid_bytes) = build_block(rng, 872_346 + i as u32, target);
        make_valid(&mut payload);
        // Announce and request the block by its real hash.
        let hash = sha256d(&payload[..80]);
        inv_block.push(push(frame(
            Command::Inv,
            &single_inventory(MSG_BLOCK, &hash),
            0,
            0,
        )));
        getdata_block.push(push(frame(
            Command::Getdata,
            &single_inventory(MSG_WITNESS_BLOCK, &hash),
            0,
            0,
        )));
        blocks.push(push(frame(
            Command::Block,
            &payload,
            txid_bytes,
            tx_count as u64,
        )));
        block_tx_counts.push(tx_count);
    }
    Pool {
        msgs,
        version_client,
        version_server,
        verack,
        inv_tx,
        getdata_tx,
        tx_groups,
        txs,
        pings,
        pongs,
        addrs,
        inv_block,
        getdata_block,
        blocks,
        block_tx_counts,
    }
}
