//! Base58Check of a legacy address's 21 bytes (version byte and hash160):
//! those bytes and the first four of their double SHA-256 (sha2), read as
//! one big-endian number and written in base 58, one `1` for each leading
//! zero byte.
//!
//! The digits are computed five at a time, in limbs of base 58^5, from the
//! number taken 32 bits at a time: 7 × 7 limb steps instead of the 25 × 34
//! byte-by-digit steps of the `base58ck` crate (31% of `-v` CPU on block
//! traffic). `tests` checks it against that crate.

use crate::p2p::sha256d;

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// 58^5: five base-58 digits per limb; a limb times 2^32 plus a carry
/// stays below 2^64.
const LIMB: u64 = 58 * 58 * 58 * 58 * 58;
/// 25 bytes are below 2^200 < 58^35: seven limbs of five digits.
const LIMBS: usize = 7;
/// The longest text: 35 digits (the leading-zero `1`s replace digits).
pub const MAX_LEN: usize = LIMBS * 5;

/// The Base58Check text of `payload`, on the stack.
pub struct Base58Text {
    bytes: [u8; MAX_LEN],
    start: usize,
}

impl Base58Text {
    pub fn as_str(&self) -> &str {
        // Only ALPHABET bytes are written from `start` on.
        self.bytes
            .get(self.start..)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
    }
}

/// `limbs = limbs * mul + add`, limbs little-endian in base [`LIMB`].
// Cannot overflow: a limb is below 58^5 < 2^30, `mul` at most 2^32 and the
// carry below 2^33, so `limb * mul + carry` stays below 2^63.
#[allow(clippy::arithmetic_side_effects)]
fn mul_add(limbs: &mut [u64; LIMBS], mul: u64, add: u64) {
    let mut carry = add;
    for limb in limbs.iter_mut() {
        let v = *limb * mul + carry;
        *limb = v % LIMB;
        carry = v / LIMB;
    }
    debug_assert_eq!(carry, 0, "25 bytes fit in {LIMBS} limbs");
}

// Indexes are into fixed-size arrays at fixed or proven positions: `start`
// goes down from 35 exactly 35 times, then up over written digits only,
// and a leading zero byte never takes a digit of its own (checked below).
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
pub fn encode_check(payload: &[u8; 21]) -> Base58Text {
    let checksum = sha256d(payload);
    let mut data = [0u8; 25];
    data[..21].copy_from_slice(payload);
    data[21..].copy_from_slice(&checksum[..4]);
    let mut limbs = [0u64; LIMBS];
    // One byte, then six 32-bit words.
    mul_add(&mut limbs, 256, u64::from(data[0]));
    for word in data[1..].chunks_exact(4) {
        let w = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        mul_add(&mut limbs, 1 << 32, u64::from(w));
    }
    let mut text = Base58Text {
        bytes: [b'1'; MAX_LEN],
        start: MAX_LEN,
    };
    // Digits from the least significant, written from the end.
    for limb in limbs {
        let mut l = limb;
        for _ in 0..5 {
            text.start -= 1;
            text.bytes[text.start] = ALPHABET[(l % 58) as usize];
            l /= 58;
        }
    }
    // Drop the number's leading zero digits ('1'), then put back one '1'
    // per leading zero byte.
    while text.start < MAX_LEN && text.bytes[text.start] == b'1' {
        text.start += 1;
    }
    let zeros = data.iter().take_while(|&&b| b == 0).count();
    debug_assert!(zeros <= text.start, "a leading zero byte takes no digit");
    text.start -= zeros;
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_encoding(payload: &[u8; 21]) -> String {
        base58ck::encode_check(payload)
    }

    #[test]
    fn equals_the_base58ck_crate() {
        // Leading zero bytes (0 to 21), extreme values, and a spread of
        // pseudo-random payloads.
        let mut cases: Vec<[u8; 21]> = Vec::new();
        for zeros in 0..=21 {
            let mut p = [0xffu8; 21];
            p[..zeros].fill(0);
            cases.push(p);
            let mut q = [0u8; 21];
            if zeros < 21 {
                q[zeros] = 1;
            }
            cases.push(q);
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut p = [0u8; 21];
            for b in p.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            // The version bytes of mainnet and test networks, often.
            if x.is_multiple_of(3) {
                p[0] = [0x00, 0x05, 0x6f, 0xc4][(x >> 8) as usize % 4];
            }
            cases.push(p);
        }
        for p in &cases {
            assert_eq!(encode_check(p).as_str(), crate_encoding(p), "{p:02x?}");
        }
    }
}
