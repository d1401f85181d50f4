//! sha256d and 32-byte hashes shown in display order.

use std::fmt;

/// sha256(sha256(data)), the hash behind checksums, txids and block hashes.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    sha256_of_hash(&sha256(data))
}

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// SHA-256 of `parts` as if concatenated, through the `sha2` crate's
/// compression function: whole blocks straight from each part, the bytes
/// between parts through a one-block carry, then the padded tail. Most
/// messages are a few blocks long, where the streaming API's buffering
/// costs as much as the compression itself.
fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut state = SHA256_IV;
    let mut carry = [0u8; 64];
    let mut carried = 0usize;
    let mut total = 0u64;
    for part in parts {
        total = total.wrapping_add(part.len() as u64);
        let mut rest = *part;
        if carried > 0 {
            let take = (64usize.saturating_sub(carried)).min(rest.len());
            let (head, tail) = rest.split_at(take);
            if let Some(dst) = carry.get_mut(carried..carried.saturating_add(take)) {
                dst.copy_from_slice(head);
            }
            carried = carried.saturating_add(take);
            rest = tail;
            if carried < 64 {
                continue;
            }
            // The carry is full: compress it; the part's tail refills it.
            sha2::block_api::compress256(&mut state, &[carry]);
        }
        let (blocks, tail) = rest.as_chunks::<64>();
        sha2::block_api::compress256(&mut state, blocks);
        if let Some(dst) = carry.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
        }
        carried = tail.len();
    }
    // Padding: 0x80, zeros, then the length in bits as a big-endian u64,
    // in one block if the tail leaves room for 9 bytes, else in two.
    let mut last = [0u8; 128];
    if let (Some(dst), Some(src)) = (last.get_mut(..carried), carry.get(..carried)) {
        dst.copy_from_slice(src);
    }
    if let Some(marker) = last.get_mut(carried) {
        *marker = 0x80;
    }
    let padded_len: usize = if carried < 56 { 64 } else { 128 };
    let bits = total.wrapping_mul(8);
    if let Some(len_field) = last.get_mut(padded_len.saturating_sub(8)..padded_len) {
        len_field.copy_from_slice(&bits.to_be_bytes());
    }
    let (padded, _) = last.split_at(padded_len.min(128));
    sha2::block_api::compress256(&mut state, padded.as_chunks::<64>().0);
    state_bytes(&state)
}

fn sha256(data: &[u8]) -> [u8; 32] {
    sha256_parts(&[data])
}

/// The second SHA-256 of sha256d hashes exactly 32 bytes: one block whose
/// padding is known in advance.
fn sha256_of_hash(hash: &[u8; 32]) -> [u8; 32] {
    let mut block = [0u8; 64];
    let (head, pad) = block.split_at_mut(32);
    head.copy_from_slice(hash);
    // 0x80, zeros, and 256 bits as a big-endian u64 in the last 8 bytes.
    pad.copy_from_slice(&[
        0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0,
    ]);
    let mut state = SHA256_IV;
    sha2::block_api::compress256(&mut state, &[block]);
    state_bytes(&state)
}

fn state_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (dst, word) in out.chunks_exact_mut(4).zip(state) {
        dst.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// sha256d over several slices, as if concatenated (txid of a segwit tx
/// skips the marker, flag and witnesses without copying the rest).
pub fn sha256d_parts(parts: &[&[u8]]) -> [u8; 32] {
    sha256_of_hash(&sha256_parts(parts))
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
    use sha2::{Digest, Sha256};

    #[test]
    fn sha256_matches_the_streaming_api_at_every_padding_boundary() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 + i / 7) as u8).collect();
        for len in (0..=200).chain([255, 256, 511, 512, 513, 1000]) {
            let expected: [u8; 32] = Sha256::digest(&data[..len]).into();
            assert_eq!(sha256(&data[..len]), expected, "length {len}");
            let twice: [u8; 32] = Sha256::digest(expected).into();
            assert_eq!(sha256d(&data[..len]), twice, "length {len}");
        }
    }

    #[test]
    fn sha256_parts_matches_the_streaming_api_for_every_split() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 13 + 7) as u8).collect();
        for len in [0, 3, 55, 56, 63, 64, 65, 119, 120, 128, 200, 300] {
            let expected: [u8; 32] = Sha256::digest(&data[..len]).into();
            for a in 0..=len.min(70) {
                for b in [a, (a + 1).min(len), (a + 64).min(len), len] {
                    let parts = [&data[..a], &data[a..b], &data[b..len]];
                    assert_eq!(sha256_parts(&parts), expected, "{len} split at {a}, {b}");
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
        assert_eq!(out, hex::encode(&every).into_bytes());
        for len in 0..40 {
            let mut out = b"x".to_vec();
            write_hex(&mut out, &every[200..200 + len]);
            assert_eq!(&out[1..], hex::encode(&every[200..200 + len]).as_bytes());
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
            assert_eq!(Hex(&bytes[..len]).to_string(), hex::encode(&bytes[..len]));
        }
    }
}
