//! Merkle roots (BIP 0 / block header), the witness commitment (BIP141)
//! and proof of work against a header's compact target: what a block
//! proves about itself. Shared by the probe (answers it asked for) and the
//! passive checks (what crosses the wire).

use super::Hash256;
use crate::p2p::hash::sha256d_parts;

/// The merkle root of a list of txids, and whether the tree is "mutated".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MerkleRoot {
    pub root: Hash256,
    /// Two equal siblings were hashed together somewhere (CVE-2012-2459):
    /// a block with duplicated trailing transactions has the same root as
    /// the real one, so a matching root alone does not prove the list.
    pub mutated: bool,
}

/// The merkle root over `hashes` (wire byte order): pairwise sha256d of
/// the 64-byte concatenation, the last hash paired with itself when a
/// level has an odd count. `None` for an empty list (a block always has a
/// coinbase).
pub fn merkle_root(hashes: &[Hash256]) -> Option<MerkleRoot> {
    merkle_root_iter(hashes.iter().copied(), hashes.len())
}

/// [`merkle_root`] over an iterator of `count` hashes (no list built by
/// the caller).
pub fn merkle_root_iter(hashes: impl Iterator<Item = Hash256>, count: usize) -> Option<MerkleRoot> {
    let mut level: Vec<[u8; 32]> = Vec::with_capacity(count);
    level.extend(hashes.map(|h| h.0));
    if level.is_empty() {
        return None;
    }
    let mut mutated = false;
    while level.len() > 1 {
        // In place: pair i goes to slot i (written behind the reads).
        let pairs = level.len().div_ceil(2);
        for i in 0..pairs {
            let l = i.saturating_mul(2);
            let left = level.get(l).copied().unwrap_or_default();
            let right = match level.get(l.saturating_add(1)) {
                Some(r) => {
                    // Only a real pair counts: the odd duplicate is by design.
                    mutated |= left == *r;
                    *r
                }
                None => left,
            };
            if let Some(slot) = level.get_mut(i) {
                *slot = sha256d_parts(&[&left, &right]);
            }
        }
        level.truncate(pairs);
    }
    level.first().map(|root| MerkleRoot {
        root: Hash256(*root),
        mutated,
    })
}

/// The 6 bytes that start a witness commitment output script (BIP141):
/// OP_RETURN, push 36, and the tag 0xaa21a9ed.
pub const WITNESS_COMMITMENT_PREFIX: [u8; 6] = [0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];

/// The 32-byte commitment in an output script, if it is one.
pub fn witness_commitment_in(script: &[u8]) -> Option<Hash256> {
    let rest = script.strip_prefix(&WITNESS_COMMITMENT_PREFIX[..])?;
    let bytes: [u8; 32] = rest.get(..32)?.try_into().ok()?;
    Some(Hash256(bytes))
}

/// The commitment BIP141 asks for: sha256d(witness merkle root || witness
/// reserved value), the root over wtxids with the coinbase's as zero.
pub fn witness_commitment(witness_root: &Hash256, reserved: &[u8; 32]) -> Hash256 {
    Hash256(sha256d_parts(&[&witness_root.0, reserved]))
}

/// A header's compact target (`bits`) expanded, as Core's
/// `arith_uint256::SetCompact` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The target as a 256-bit little-endian number (the byte order of a
    /// hash on the wire).
    Valid([u8; 32]),
    /// The sign bit is set with a non-zero mantissa.
    Negative,
    /// More than 256 bits.
    Overflow,
    /// Zero: no hash can meet it.
    Zero,
}

impl Target {
    pub fn from_bits(bits: u32) -> Target {
        let exponent = bits >> 24;
        let mut mantissa = bits & 0x007f_ffff;
        if mantissa != 0 && bits & 0x0080_0000 != 0 {
            return Target::Negative;
        }
        if mantissa != 0
            && (exponent > 34
                || (mantissa > 0xff && exponent > 33)
                || (mantissa > 0xffff && exponent > 32))
        {
            return Target::Overflow;
        }
        let mut target = [0u8; 32];
        if exponent <= 3 {
            mantissa >>= 8u32.saturating_mul(3u32.saturating_sub(exponent));
            for (slot, byte) in target.iter_mut().zip(mantissa.to_le_bytes()) {
                *slot = byte;
            }
        } else {
            // Byte i of the mantissa lands at position exponent - 3 + i;
            // the overflow check above keeps the non-zero ones in range.
            let shift = exponent.saturating_sub(3) as usize;
            for (i, byte) in mantissa.to_le_bytes().into_iter().take(3).enumerate() {
                if let Some(slot) = target.get_mut(shift.saturating_add(i)) {
                    *slot = byte;
                }
            }
        }
        if target == [0u8; 32] {
            Target::Zero
        } else {
            Target::Valid(target)
        }
    }
}

/// Whether a block hash (wire order, a little-endian number) is at most
/// the target.
pub fn meets_target(hash: &Hash256, target: &[u8; 32]) -> bool {
    // Most significant byte last: compare from the end.
    for (h, t) in hash.0.iter().rev().zip(target.iter().rev()) {
        if h != t {
            return h < t;
        }
    }
    true
}

/// A 256-bit little-endian number in display (big-endian) hex.
pub fn target_hex(target: &[u8; 32]) -> String {
    Hash256(*target).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::p2p::sha256d;

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
    fn targets_match_rust_bitcoin() {
        for bits in [
            0x1d00_ffffu32,
            0x207f_ffff,
            0x1703_4e8a,
            0x1b04_864c,
            0x0300_ffff,
            0x0200_8000,
            0x2100_00ff,
            0x2200_00ff,
        ] {
            let oracle =
                bitcoin::Target::from_compact(bitcoin::CompactTarget::from_consensus(bits));
            let Target::Valid(ours) = Target::from_bits(bits) else {
                panic!("{bits:#x} should be valid");
            };
            assert_eq!(ours, oracle.to_le_bytes(), "{bits:#x}");
        }
        assert_eq!(Target::from_bits(0x0480_0001), Target::Negative);
        assert_eq!(Target::from_bits(0xff12_3456), Target::Overflow);
        assert_eq!(Target::from_bits(0x2301_0000), Target::Overflow);
        assert_eq!(Target::from_bits(0), Target::Zero);
        assert_eq!(Target::from_bits(0x0100_7fff), Target::Zero);
    }

    #[test]
    fn genesis_meets_its_target_and_not_a_smaller_one() {
        // Mainnet genesis block hash, display order.
        let genesis = Hash256::from_display_hex(
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
        )
        .unwrap();
        let Target::Valid(t) = Target::from_bits(0x1d00_ffff) else {
            panic!()
        };
        assert!(meets_target(&genesis, &t));
        let Target::Valid(small) = Target::from_bits(0x1900_ffff) else {
            panic!()
        };
        assert!(!meets_target(&genesis, &small));
        assert_eq!(
            target_hex(&t),
            "00000000ffff0000000000000000000000000000000000000000000000000000"
        );
    }
}
