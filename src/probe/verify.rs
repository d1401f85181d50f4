//! Checks that what a peer returned is what was asked for: a transaction's
//! txid, a block's hash and its merkle root recomputed from its txids.
//!
//! Nothing here trusts a hash the peer claims: the block hash is sha256d of
//! the 80 header bytes as received, the merkle root is rebuilt from the
//! txids the decoder computed over the payload's own bytes.

use crate::p2p::message::{Block, Transaction};
use crate::p2p::{Hash256, sha256d};
use std::fmt;

/// Size of a serialised block header (the bytes the block hash covers).
const BLOCK_HEADER_LEN: usize = 80;

/// The merkle root of a list of txids, and whether the tree is "mutated".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MerkleRoot {
    pub root: Hash256,
    /// Two equal siblings were hashed together somewhere (CVE-2012-2459):
    /// a block with duplicated trailing transactions has the same root as
    /// the real one, so a matching root alone does not prove the list.
    pub mutated: bool,
}

/// The merkle root over `txids` (wire byte order): pairwise sha256d of the
/// 64-byte concatenation, the last hash paired with itself when a level has
/// an odd count. `None` for an empty list (a block always has a coinbase).
pub fn merkle_root(txids: &[Hash256]) -> Option<MerkleRoot> {
    if txids.is_empty() {
        return None;
    }
    let mut level: Vec<[u8; 32]> = txids.iter().map(|h| h.0).collect();
    let mut mutated = false;
    let mut pair = [0u8; 64];
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for chunk in level.chunks(2) {
            let (left, right) = match chunk {
                [l, r] => {
                    // Only a real pair counts: the odd duplicate is by design.
                    mutated |= l == r;
                    (l, r)
                }
                [l] => (l, l),
                _ => continue,
            };
            pair[..32].copy_from_slice(left);
            pair[32..].copy_from_slice(right);
            next.push(sha256d(&pair));
        }
        level = next;
    }
    level.first().map(|root| MerkleRoot {
        root: Hash256(*root),
        mutated,
    })
}

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

    fn h(byte: u8) -> Hash256 {
        Hash256([byte; 32])
    }

    fn pair(a: &Hash256, b: &Hash256) -> Hash256 {
        let mut buf = [0u8; 64];
        buf[..32].copy_from_slice(&a.0);
        buf[32..].copy_from_slice(&b.0);
        Hash256(sha256d(&buf))
    }

    #[test]
    fn single_txid_is_its_own_root() {
        let m = merkle_root(&[h(7)]).unwrap();
        assert_eq!(m.root, h(7));
        assert!(!m.mutated);
        assert!(merkle_root(&[]).is_none());
    }

    #[test]
    fn odd_levels_duplicate_the_last_hash() {
        let (a, b, c) = (h(1), h(2), h(3));
        let expected = pair(&pair(&a, &b), &pair(&c, &c));
        let m = merkle_root(&[a, b, c]).unwrap();
        assert_eq!(m.root, expected);
        assert!(!m.mutated, "the odd duplicate is not a mutation");
    }

    #[test]
    fn duplicated_tail_has_the_same_root_but_is_flagged() {
        let (a, b, c) = (h(1), h(2), h(3));
        let honest = merkle_root(&[a, b, c]).unwrap();
        let forged = merkle_root(&[a, b, c, c]).unwrap();
        assert_eq!(honest.root, forged.root);
        assert!(forged.mutated);
    }

    #[test]
    fn matches_rust_bitcoin_for_many_sizes() {
        use bitcoin::hashes::Hash;
        for n in 1u32..40 {
            let txids: Vec<Hash256> = (0..n).map(|i| Hash256(sha256d(&i.to_le_bytes()))).collect();
            let oracle = bitcoin::merkle_tree::calculate_root(
                txids.iter().map(|t| bitcoin::Txid::from_byte_array(t.0)),
            )
            .unwrap();
            let ours = merkle_root(&txids).unwrap();
            assert_eq!(ours.root.0, oracle.to_byte_array(), "n = {n}");
            assert!(!ours.mutated);
        }
    }

    #[test]
    fn short_block_payload_is_reported() {
        assert_eq!(
            block_hash(&[0u8; 79]),
            Err(Mismatch::ShortHeader { bytes: 79 })
        );
    }
}
