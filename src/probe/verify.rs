//! Checks that what a peer returned is what was asked for: a transaction's
//! txid, a block's hash and its merkle root recomputed from its txids (the
//! merkle code itself is the codec's, shared with the passive checks).
//!
//! Nothing here trusts a hash the peer claims: the block hash is sha256d of
//! the 80 header bytes as received, the merkle root is rebuilt from the
//! txids the decoder computed over the payload's own bytes.

pub use crate::p2p::merkle::{MerkleRoot, merkle_root};
use crate::p2p::message::{Block, Transaction};
use crate::p2p::{Hash256, sha256d};
use std::fmt;

/// Size of a serialised block header (the bytes the block hash covers).
const BLOCK_HEADER_LEN: usize = 80;

/// Why a returned object was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The peer sent another object than the one requested.
    WrongHash {
        expected: Hash256,
        got: Hash256,
    },
    /// The block payload is shorter than a header (cannot happen after a
    /// successful decode, reported rather than assumed).
    ShortHeader {
        bytes: usize,
    },
    /// The header's hash as decoded differs from sha256d of its bytes.
    HeaderHashDiffers {
        decoded: Hash256,
        computed: Hash256,
    },
    NoTransactions,
    MerkleRoot {
        header: Hash256,
        computed: Hash256,
    },
    MutatedMerkleTree {
        transactions: usize,
    },
    /// The payload of the answer could not be decoded.
    Undecodable {
        command: &'static str,
        error: String,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::WrongHash { expected, got } => {
                write!(f, "the peer returned {got} instead of {expected}")
            }
            Mismatch::ShortHeader { bytes } => {
                write!(f, "block payload of {bytes} bytes is shorter than a header")
            }
            Mismatch::HeaderHashDiffers { decoded, computed } => {
                write!(
                    f,
                    "header hash {decoded} differs from sha256d of its bytes {computed}"
                )
            }
            Mismatch::NoTransactions => f.write_str("block has no transactions"),
            Mismatch::MerkleRoot { header, computed } => write!(
                f,
                "merkle root mismatch: header says {header}, transactions give {computed}"
            ),
            Mismatch::MutatedMerkleTree { transactions } => write!(
                f,
                "merkle tree of the {transactions} transactions pairs two equal hashes \
                 (duplicated transactions, CVE-2012-2459)"
            ),
            Mismatch::Undecodable { command, error } => {
                write!(f, "the {command} answer could not be decoded: {error}")
            }
        }
    }
}

/// Checks a transaction against the txid requested. With witness requests
/// the txid (not the wtxid) is what identifies the transaction.
pub fn verify_tx(tx: &Transaction<'_>, requested: &Hash256) -> Result<(), Mismatch> {
    if tx.txid == *requested {
        Ok(())
    } else {
        Err(Mismatch::WrongHash {
            expected: *requested,
            got: tx.txid,
        })
    }
}

/// sha256d of the first 80 bytes of a block payload.
pub fn block_hash(payload: &[u8]) -> Result<Hash256, Mismatch> {
    payload
        .get(..BLOCK_HEADER_LEN)
        .map(|header| Hash256(sha256d(header)))
        .ok_or(Mismatch::ShortHeader {
            bytes: payload.len(),
        })
}

/// Checks a block against the hash requested: the hash of its header bytes
/// and the merkle root of its transactions.
pub fn verify_block(
    block: &Block<'_>,
    payload: &[u8],
    requested: &Hash256,
) -> Result<(), Mismatch> {
    let computed = block_hash(payload)?;
    if computed != block.header.hash {
        return Err(Mismatch::HeaderHashDiffers {
            decoded: block.header.hash,
            computed,
        });
    }
    if computed != *requested {
        return Err(Mismatch::WrongHash {
            expected: *requested,
            got: computed,
        });
    }
    let txids: Vec<Hash256> = block.transactions.iter().map(|tx| tx.txid).collect();
    let merkle = merkle_root(&txids).ok_or(Mismatch::NoTransactions)?;
    if merkle.root != block.header.merkle_root {
        return Err(Mismatch::MerkleRoot {
            header: block.header.merkle_root,
            computed: merkle.root,
        });
    }
    if merkle.mutated {
        return Err(Mismatch::MutatedMerkleTree {
            transactions: txids.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_block_payload_is_reported() {
        assert_eq!(
            block_hash(&[0u8; 79]),
            Err(Mismatch::ShortHeader { bytes: 79 })
        );
    }
}
