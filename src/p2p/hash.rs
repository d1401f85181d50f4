//! sha256d and 32-byte hashes shown in display order.

use sha2::{Digest, Sha256};
use std::fmt;

/// sha256(sha256(data)), the hash behind checksums, txids and block hashes.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
}

/// sha256d over several slices, as if concatenated (txid of a segwit tx
/// skips the marker, flag and witnesses without copying the rest).
pub fn sha256d_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut first = Sha256::new();
    for part in parts {
        first.update(part);
    }
    Sha256::digest(first.finalize()).into()
}

/// The first four bytes of sha256d(payload): the v1 header checksum.
pub fn checksum(payload: &[u8]) -> [u8; 4] {
    checksum_of(&sha256d(payload))
}

/// The v1 header checksum from an already computed sha256d(payload).
pub fn checksum_of(hash: &[u8; 32]) -> [u8; 4] {
    let [a, b, c, d, ..] = *hash;
    [a, b, c, d]
}

/// A 32-byte hash as sent on the wire (internal byte order). People read
/// txids and block hashes reversed ("display order"); `Display`, `to_hex`
/// and JSON use display order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash256(pub [u8; 32]);

impl Hash256 {
    pub fn from_wire(bytes: [u8; 32]) -> Hash256 {
        Hash256(bytes)
    }

    /// Parses display-order hex (as users type txids and block hashes).
    pub fn from_display_hex(s: &str) -> Option<Hash256> {
        let mut bytes: [u8; 32] = hex::decode(s).ok()?.try_into().ok()?;
        bytes.reverse();
        Some(Hash256(bytes))
    }

    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let out = display_hex(&self.0);
        // The buffer holds only ASCII hex digits.
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash256({self})")
    }
}

/// The two hex digits of `b`.
// A u8 always indexes inside the 256-entry table.
#[allow(clippy::indexing_slicing)]
fn hex_pair(b: u8) -> [u8; 2] {
    HEX_PAIRS[usize::from(b)]
}

/// The two lowercase hex digits of every byte value (built at compile
/// time: indexes are bounded by the loop).
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 0x0f]];
        i += 1;
    }
    table
};

/// The 16 lowercase hex digits of eight bytes, eight at a time in a
/// register (SWAR): the hex of scripts, witnesses and hashes is most of
/// what the JSON output writes.
#[inline]
fn hex_of_eight(bytes: [u8; 8]) -> [u8; 16] {
    let word = u64::from_le_bytes(bytes);
    let low = hex_of_four(word as u32);
    let high = hex_of_four((word >> 32) as u32);
    let mut out = [0u8; 16];
    let (a, b) = out.split_at_mut(8);
    a.copy_from_slice(&low.to_le_bytes());
    b.copy_from_slice(&high.to_le_bytes());
    out
}

/// Four bytes (little-endian in `word`) to eight ASCII hex digits
/// (little-endian in the result: the first byte's high nibble first).
#[inline]
fn hex_of_four(word: u32) -> u64 {
    const NIBBLES: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Spread the four bytes to every other byte...
    let mut x = u64::from(word);
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    // ...then each byte's high nibble first, low nibble in the next byte.
    let nibbles = ((x >> 4) | (x << 8)) & NIBBLES;
    // Digits 10-15 get 'a' - '0' - 10 = 39 more: n + 0x76 has its high
    // bit set exactly when n >= 10. No byte overflows into the next, so
    // the wrapping operations never wrap.
    let letters = (nibbles.wrapping_add(ONES * 0x76) >> 7) & ONES;
    nibbles
        .wrapping_add(ONES * u64::from(b'0'))
        .wrapping_add(letters.wrapping_mul(39))
}

/// A hash's 64 hex digits in display order (its bytes reversed).
#[inline]
pub fn display_hex(wire: &[u8; 32]) -> [u8; 64] {
    let mut display_order = *wire;
    display_order.reverse();
    let mut digits = [0u8; 64];
    hex_into(&mut digits, &display_order);
    digits
}

/// Appends a hash's 64 hex digits in display order to `out`: one
/// fixed-size copy.
#[inline]
pub fn write_hash_hex(out: &mut Vec<u8>, wire: &[u8; 32]) {
    out.extend_from_slice(&display_hex(wire));
}

/// The hex digits of `src` into the first `2 * src.len()` bytes of `dst`
/// (fewer if `dst` is shorter).
#[inline]
fn hex_into(dst: &mut [u8], src: &[u8]) {
    let mut digits = dst.chunks_exact_mut(16);
    let mut eights = src.chunks_exact(8);
    for (d, chunk) in digits.by_ref().zip(eights.by_ref()) {
        if let Ok(eight) = <[u8; 8]>::try_from(chunk) {
            d.copy_from_slice(&hex_of_eight(eight));
        }
    }
    let tail = dst.get_mut(
        src.len()
            .saturating_sub(eights.remainder().len())
            .saturating_mul(2)..,
    );
    for (pair, &b) in tail
        .unwrap_or(&mut [])
        .chunks_exact_mut(2)
        .zip(eights.remainder())
    {
        pair.copy_from_slice(&hex_pair(b));
    }
}

/// Appends `bytes` as lowercase hex to `out`.
pub fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len().saturating_mul(2));
    let mut chunks = bytes.chunks_exact(8);
    for chunk in chunks.by_ref() {
        if let Ok(eight) = <[u8; 8]>::try_from(chunk) {
            out.extend_from_slice(&hex_of_eight(eight));
        }
    }
    for &b in chunks.remainder() {
        out.extend_from_slice(&hex_pair(b));
    }
}

/// `bytes` as a lowercase hex string (the crate's one hex encoder; the
/// `hex` crate only decodes).
pub fn to_hex(bytes: impl AsRef<[u8]>) -> String {
    Hex(bytes.as_ref()).to_string()
}

/// Bytes shown as lowercase hex (`Display`), written in chunks from a
/// stack buffer: no allocation however long.
#[derive(Clone, Copy)]
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const CHUNK: usize = 256;
        let mut out = [0u8; 2 * CHUNK];
        for chunk in self.0.chunks(CHUNK) {
            hex_into(&mut out, chunk);
            let text = out.get(..chunk.len().saturating_mul(2)).unwrap_or(&[]);
            // The buffer holds only ASCII hex digits.
            f.write_str(std::str::from_utf8(text).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoder_agrees_with_the_hex_crate() {
        let data: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
        for len in (0..40).chain([255, 256, 257, 511, 512]) {
            let expected = hex::encode(&data[..len]);
            assert_eq!(to_hex(&data[..len]), expected, "length {len}");
            let mut out = Vec::new();
            write_hex(&mut out, &data[..len]);
            assert_eq!(out, expected.as_bytes(), "length {len}");
        }
    }

    #[test]
    fn sha256d_of_nothing() {
        let expected = "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456";
        assert_eq!(crate::p2p::hash::to_hex(sha256d(&[])), expected);
    }

    #[test]
    fn sha256d_parts_is_sha256d_of_the_concatenation() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 13 + 7) as u8).collect();
        for len in [0, 3, 55, 56, 63, 64, 65, 119, 120, 128, 200, 300] {
            let expected = sha256d(&data[..len]);
            for a in 0..=len.min(70) {
                for b in [a, (a + 1).min(len), (a + 64).min(len), len] {
                    let parts = [&data[..a], &data[a..b], &data[b..len]];
                    assert_eq!(sha256d_parts(&parts), expected, "{len} split at {a}, {b}");
                }
            }
        }
    }

    #[test]
    fn empty_payload_checksum() {
        // Every empty-payload message (verack, getaddr, ...) carries 5df6e0e2.
        assert_eq!(checksum(&[]), [0x5d, 0xf6, 0xe0, 0xe2]);
    }

    #[test]
    fn display_order_round_trip() {
        let s = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
        let h = Hash256::from_display_hex(s).unwrap();
        assert_eq!(h.0[31], 0x00);
        assert_eq!(h.0[0], 0x6f);
        assert_eq!(h.to_string(), s);
        assert!(Hash256::from_display_hex("00").is_none());
    }

    #[test]
    fn write_hex_matches_the_hex_crate_for_every_byte_and_length() {
        let every: Vec<u8> = (0..=255u8).collect();
        let mut out = Vec::new();
        write_hex(&mut out, &every);
        assert_eq!(out, crate::p2p::hash::to_hex(&every).into_bytes());
        for len in 0..40 {
            let mut out = b"x".to_vec();
            write_hex(&mut out, &every[200..200 + len]);
            assert_eq!(
                &out[1..],
                crate::p2p::hash::to_hex(&every[200..200 + len]).as_bytes()
            );
        }
    }

    #[test]
    fn hash_hex_is_display_order() {
        let h = Hash256(std::array::from_fn(|i| (i * 37 + 5) as u8));
        let mut out = Vec::new();
        write_hash_hex(&mut out, &h.0);
        assert_eq!(String::from_utf8(out).unwrap(), h.to_string());
    }

    #[test]
    fn hex_matches_the_hex_crate_across_chunks() {
        let bytes: Vec<u8> = (0..1500u32).map(|i| (i * 7 + i / 256) as u8).collect();
        for len in [0, 1, 511, 512, 513, 1024, 1500] {
            assert_eq!(
                Hex(&bytes[..len]).to_string(),
                crate::p2p::hash::to_hex(&bytes[..len])
            );
        }
    }
}
