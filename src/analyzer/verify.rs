//! Passive verification of what a message proves about itself: a block's
//! merkle root and witness commitment against its transactions, every
//! header's proof of work against its `bits`, a headers message's chain.
//! Stateless: what depends on earlier messages of the flow (pongs, getdata)
//! is in [`super::peer`]. Each check reports a finding with the values
//! involved; none stops processing.

use crate::analyzer::Finding;
use crate::p2p::hash::sha256d;
use crate::p2p::merkle::{
    Target, meets_target, merkle_root_iter, target_hex, witness_commitment, witness_commitment_in,
};
use crate::p2p::message::block::{Block, BlockHeader, HEADER_SIZE, Headers};
use crate::p2p::message::{Message, Transaction};
use crate::p2p::{Hash256, Reader};

/// Blocks whose exact bytes passed every check, remembered by payload hash
/// (which the framing decoder computed for the checksum): a node serving
/// the same block to many peers, or a block relayed on several watched
/// links, is checked once. Bytes, not the header hash, are the key: a
/// doctored copy of a good block has its hash and is checked anew.
pub const PASSED_BLOCKS_KEPT: usize = 64;

#[derive(Default)]
pub struct PassedBlocks {
    order: std::collections::VecDeque<[u8; 32]>,
    set: foldhash::HashSet<[u8; 32]>,
}

impl PassedBlocks {
    fn contains(&self, payload_hash: &Hash256) -> bool {
        self.set.contains(&payload_hash.0)
    }

    fn insert(&mut self, payload_hash: &Hash256) {
        if self.order.len() >= PASSED_BLOCKS_KEPT
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        if self.set.insert(payload_hash.0) {
            self.order.push_back(payload_hash.0);
        }
    }
}

/// Findings about `message` (payload `payload`, its sha256d if known),
/// appended to `out`.
pub fn check_message(
    message: &Message<'_>,
    payload: &[u8],
    payload_hash: Option<Hash256>,
    passed: &mut PassedBlocks,
    out: &mut Vec<Finding>,
) {
    if let (Message::Block(_), Some(hash)) = (message, payload_hash) {
        if passed.contains(&hash) {
            return;
        }
        let before = out.len();
        check(message, payload, out);
        if out.len() == before {
            passed.insert(&hash);
        }
        return;
    }
    check(message, payload, out);
}

/// Findings about `message` (payload `payload`), appended to `out`.
pub fn check(message: &Message<'_>, payload: &[u8], out: &mut Vec<Finding>) {
    match message {
        Message::Block(block) => {
            proof_of_work("block", &block.header, out);
            merkle(block, out);
            witness(block, payload, out);
        }
        Message::Headers(headers) => check_headers(headers, out),
        Message::CmpctBlock(c) => proof_of_work("cmpctblock", &c.header, out),
        Message::MerkleBlock(m) => proof_of_work("merkleblock", &m.header, out),
        _ => {}
    }
}

fn proof_of_work(command: &'static str, header: &BlockHeader, out: &mut Vec<Finding>) {
    let detail = match Target::from_bits(header.bits) {
        Target::Valid(target) if meets_target(&header.hash, &target) => return,
        Target::Valid(target) => {
            out.push(Finding::PowAboveTarget {
                command,
                block: header.hash,
                bits: header.bits,
                target: target_hex(&target),
            });
            return;
        }
        Target::Negative => "negative",
        Target::Overflow => "overflow",
        Target::Zero => "zero",
    };
    out.push(Finding::BitsInvalid {
        command,
        block: header.hash,
        bits: header.bits,
        detail,
    });
}

fn check_headers(headers: &Headers, out: &mut Vec<Finding>) {
    let mut previous: Option<&Hash256> = None;
    for (index, entry) in headers.headers.iter().enumerate() {
        let header = &entry.header;
        proof_of_work("headers", header, out);
        if let Some(expected) = previous
            && header.prev_block != *expected
        {
            out.push(Finding::HeadersNotChained {
                index,
                block: header.hash,
                prev_block: header.prev_block,
                expected: *expected,
            });
        }
        previous = Some(&header.hash);
    }
}

fn merkle(block: &Block<'_>, out: &mut Vec<Finding>) {
    let txs = &block.transactions;
    // A count of 0 decodes; Core rejects such a block (bad-blk-length):
    // reported as a mismatch with a zero computed root.
    let Some(merkle) = merkle_root_iter(txs.iter().map(|tx| tx.txid), txs.len()) else {
        out.push(Finding::MerkleRootMismatch {
            block: block.header.hash,
            header: block.header.merkle_root,
            computed: Hash256::default(),
            transactions: 0,
        });
        return;
    };
    if merkle.root != block.header.merkle_root {
        out.push(Finding::MerkleRootMismatch {
            block: block.header.hash,
            header: block.header.merkle_root,
            computed: merkle.root,
            transactions: txs.len(),
        });
    } else if merkle.mutated {
        out.push(Finding::MerkleTreeMutated {
            block: block.header.hash,
            transactions: txs.len(),
        });
    }
}

/// BIP141: the last coinbase output starting with the commitment prefix
/// commits to the witness merkle root (coinbase wtxid taken as zero) and
/// the coinbase's single 32-byte witness item. A block with witness data
/// must have one.
fn witness(block: &Block<'_>, payload: &[u8], out: &mut Vec<Finding>) {
    let Some(coinbase) = block.transactions.first() else {
        return;
    };
    let committed = coinbase
        .outputs
        .iter()
        .filter_map(|o| witness_commitment_in(o.script_pubkey))
        .last();
    let any_witness = block.transactions.iter().any(|tx| tx.segwit);
    let mismatch = |committed, computed, detail| Finding::WitnessCommitmentMismatch {
        block: block.header.hash,
        committed,
        computed,
        detail,
    };
    let Some(committed) = committed else {
        if any_witness {
            out.push(mismatch(None, None, "witness data without a commitment"));
        }
        return;
    };
    let reserved = coinbase
        .inputs
        .get(0)
        .and_then(|input| {
            let mut items = input.witness.iter();
            let first = items.next()?;
            items.next().is_none().then_some(first)
        })
        .and_then(|item| <[u8; 32]>::try_from(item).ok());
    let Some(reserved) = reserved else {
        out.push(mismatch(
            Some(committed),
            None,
            "coinbase witness is not one 32-byte reserved value",
        ));
        return;
    };
    let Some(wtxids) = wtxids(block, payload) else {
        return; // Payload and decoded block disagree: cannot happen.
    };
    let count = wtxids.len();
    let Some(root) = merkle_root_iter(wtxids.into_iter(), count) else {
        return;
    };
    let computed = witness_commitment(&root.root, &reserved);
    if computed != committed {
        out.push(mismatch(
            Some(committed),
            Some(computed),
            "commitment differs from the witnesses",
        ));
    }
}

/// Every transaction's wtxid, the coinbase's as zero (BIP141). Segwit
/// transactions not hashed whole by the decoder are hashed here from their
/// span of the payload.
fn wtxids(block: &Block<'_>, payload: &[u8]) -> Option<Vec<Hash256>> {
    let mut r = Reader::new(payload.get(HEADER_SIZE..)?);
    r.compact_size("block.tx_count").ok()?;
    let mut offset = HEADER_SIZE.checked_add(r.position())?;
    let mut out = Vec::with_capacity(block.transactions.len());
    for (i, tx) in block.transactions.iter().enumerate() {
        let end = offset.checked_add(tx.size)?;
        out.push(if i == 0 {
            Hash256::default()
        } else {
            wtxid(tx, payload.get(offset..end)?)
        });
        offset = end;
    }
    Some(out)
}

fn wtxid(tx: &Transaction<'_>, bytes: &[u8]) -> Hash256 {
    match tx.wtxid {
        Some(w) => w,
        None => Hash256(sha256d(bytes)),
    }
}
