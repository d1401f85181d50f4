//! Segwit addresses: bech32 (BIP173, witness version 0) and bech32m
//! (BIP350, versions 1 to 16), written straight into a byte buffer.
//!
//! The `bech32` crate (rust-bitcoin's encoder) was 16% of a `-v` run on
//! blocks (`perf record`): its encoder is a chain of iterator adaptors
//! that hands each character to `fmt::Write` on its own. This one packs the
//! program into 5-bit groups and computes the checksum in one loop; its
//! unit test checks it equal to the crate on every version and program
//! length, and `tests/script_differential.rs` checks whole addresses
//! against rust-bitcoin's `Address::from_script`.

/// BIP173's alphabet, indexed by a 5-bit value.
const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
/// The BCH code's generator (BIP173).
const GENERATOR: [u32; 5] = [
    0x3b6a_57b2,
    0x2650_8e6d,
    0x1ea1_19fa,
    0x3d42_33dd,
    0x2a14_62b3,
];
/// What the checksum is XORed with: bech32 for version 0, bech32m after.
const BECH32_CONSTANT: u32 = 1;
const BECH32M_CONSTANT: u32 = 0x2bc8_30a3;

/// Longest text: a 40-byte program on the longest prefix ("bcrt") is 76
/// characters; BIP173 allows 90.
pub const MAX_LEN: usize = 90;

/// The generator terms to XOR in for each value of the checksum's top 5
/// bits (one lookup instead of five tests per character).
// Evaluated when compiling: an index out of bounds would fail the build.
#[allow(clippy::indexing_slicing)]
const GENERATOR_TERMS: [u32; 32] = {
    let mut terms = [0u32; 32];
    let mut top = 0;
    while top < 32 {
        let mut bit = 0;
        while bit < 5 {
            if (top >> bit) & 1 == 1 {
                terms[top] ^= GENERATOR[bit];
            }
            bit += 1;
        }
        top += 1;
    }
    terms
};

// Shifts and XORs of 32-bit values, the top 5 bits shifted out on purpose
// (masked first); the top is below 32, the table's length.
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
fn polymod_step(checksum: u32, value: u8) -> u32 {
    let top = (checksum >> 25) as usize;
    ((checksum & 0x01ff_ffff) << 5) ^ u32::from(value) ^ GENERATOR_TERMS[top]
}

// Indexes are below `len`, checked against the buffer's size first: `at`
// goes up by one per character written, and exactly `len` are written
// (the hrp, '1', the version, ceil(8 * program / 5) groups, 6 checksum
// characters); values indexing CHARSET are masked to 5 bits.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
pub fn encode(hrp: &str, version: u8, program: &[u8], out: &mut [u8; MAX_LEN]) -> Option<usize> {
    debug_assert!(version <= 16 && (2..=40).contains(&program.len()));
    // hrp, '1', version, the program in 5-bit groups, 6 checksum chars.
    let len = hrp.len() + 1 + 1 + (program.len() * 8).div_ceil(5) + 6;
    if len > MAX_LEN || version > 16 {
        return None;
    }
    let mut checksum = 1u32;
    for &c in hrp.as_bytes() {
        checksum = polymod_step(checksum, c >> 5);
    }
    checksum = polymod_step(checksum, 0);
    for &c in hrp.as_bytes() {
        checksum = polymod_step(checksum, c & 31);
    }
    out[..hrp.len()].copy_from_slice(hrp.as_bytes());
    out[hrp.len()] = b'1';
    let mut at = hrp.len() + 1;
    let mut push = |value: u8, checksum: &mut u32| {
        *checksum = polymod_step(*checksum, value);
        out[at] = CHARSET[usize::from(value)];
        at += 1;
    };
    push(version, &mut checksum);
    // Bytes to 5-bit groups, most significant first, the last padded with
    // zero bits (BIP173's convertbits(8, 5, pad=true)).
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &byte in program {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            push(((acc >> bits) & 31) as u8, &mut checksum);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        push(((acc << (5 - bits)) & 31) as u8, &mut checksum);
    }
    for _ in 0..6 {
        checksum = polymod_step(checksum, 0);
    }
    checksum ^= if version == 0 {
        BECH32_CONSTANT
    } else {
        BECH32M_CONSTANT
    };
    for i in 0..6 {
        out[at] = CHARSET[((checksum >> (5 * (5 - i))) & 31) as usize];
        at += 1;
    }
    debug_assert_eq!(at, len);
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bech32::{Fe32, Hrp};

    fn ours(hrp: &str, version: u8, program: &[u8]) -> String {
        let mut out = [0u8; MAX_LEN];
        let len = encode(hrp, version, program, &mut out).unwrap();
        String::from_utf8(out[..len].to_vec()).unwrap()
    }

    fn reference(hrp: &str, version: u8, program: &[u8]) -> String {
        let mut text = String::new();
        bech32::segwit::encode_lower_to_fmt_unchecked(
            &mut text,
            Hrp::parse(hrp).unwrap(),
            Fe32::try_from(version).unwrap(),
            program,
        )
        .unwrap();
        text
    }

    /// BIP173's and BIP350's test vectors.
    #[test]
    fn bip_vectors() {
        let p2wpkh = hex::decode("751e76e8199196d454941c45d1b3a323f1433bd6").unwrap();
        assert_eq!(
            ours("bc", 0, &p2wpkh),
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
        );
        let v1 = hex::decode(
            "751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
        )
        .unwrap();
        assert_eq!(
            ours("bc", 1, &v1),
            "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y"
        );
        assert_eq!(
            ours("bc", 16, &hex::decode("751e").unwrap()),
            "bc1sw50qgdz25j"
        );
    }

    /// Every version, every program length, three networks, against the
    /// `bech32` crate.
    #[test]
    fn equal_to_the_bech32_crate() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut cases = 0;
        for hrp in ["bc", "tb", "bcrt"] {
            for version in 0..=16u8 {
                for len in 2..=40usize {
                    for _ in 0..4 {
                        let program: Vec<u8> = (0..len)
                            .map(|_| {
                                seed ^= seed << 13;
                                seed ^= seed >> 7;
                                seed ^= seed << 17;
                                seed as u8
                            })
                            .collect();
                        assert_eq!(
                            ours(hrp, version, &program),
                            reference(hrp, version, &program),
                            "{hrp} v{version} {}",
                            hex::encode(&program)
                        );
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 3 * 17 * 39 * 4);
    }
}
