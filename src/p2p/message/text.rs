//! serde helpers shared by the message families: text forms computed when
//! JSON is written, so decoding itself builds no strings.

use crate::p2p::hash::Hex;
use serde::Serializer;
use serde::ser::SerializeSeq;

/// Network-supplied bytes as a lossy UTF-8 string (the raw bytes are kept
/// next to it for anyone who needs them exactly).
pub fn lossy<S: Serializer>(bytes: &&[u8], s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&String::from_utf8_lossy(bytes))
}

/// A 64-bit identifier (a nonce, a salt, service bits) as a decimal
/// string. I-JSON (RFC 7493) keeps numbers to what a double holds exactly
/// (2^53): jq 1.6 and JavaScript round larger ones, and these use all 64
/// bits. Quantities stay numbers.
pub fn id64<S: Serializer>(n: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(n)
}

/// [`id64`] of an optional identifier (`null` when absent).
pub fn id64_opt<S: Serializer>(n: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match n {
        Some(n) => s.collect_str(n),
        None => s.serialize_none(),
    }
}

/// A list of network-supplied byte strings as lossy UTF-8 strings.
pub fn lossy_list<S: Serializer>(items: &[&[u8]], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(items.len()))?;
    for item in items {
        seq.serialize_element(&String::from_utf8_lossy(item))?;
    }
    seq.end()
}

/// A list of byte strings as a list of hex strings.
pub fn hex_list<S: Serializer, T: AsRef<[u8]>>(items: &[T], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(items.len()))?;
    for item in items {
        seq.serialize_element(&Hex(item.as_ref()))?;
    }
    seq.end()
}

/// RFC 4648 base32, lowercase, without padding (as Tor and I2P write
/// their addresses).
pub fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(data.len().div_ceil(5).saturating_mul(8));
    let symbol = |v: u32| char::from(ALPHABET.get((v & 0x1f) as usize).copied().unwrap_or(b'?'));
    // `acc` holds the `bits` (< 5) bits not written yet, in its low bits.
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in data {
        acc = (acc << 8) | u32::from(b);
        bits = bits.wrapping_add(8);
        while let Some(rest) = bits.checked_sub(5) {
            bits = rest;
            out.push(symbol(acc >> bits));
        }
        acc &= (1u32 << bits).wrapping_sub(1);
    }
    if let Some(pad) = 5u32.checked_sub(bits).filter(|_| bits > 0) {
        out.push(symbol(acc << pad));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base32;

    #[test]
    fn base32_rfc4648_vectors() {
        // RFC 4648 section 10, lowercased, padding removed.
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "my");
        assert_eq!(base32(b"fo"), "mzxq");
        assert_eq!(base32(b"foo"), "mzxw6");
        assert_eq!(base32(b"foob"), "mzxw6yq");
        assert_eq!(base32(b"fooba"), "mzxw6ytb");
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }
}
