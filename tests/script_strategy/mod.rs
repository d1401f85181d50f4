//! scriptPubKeys of every template for the differential tests: each
//! template with random keys and hashes, its near misses (wrong sizes,
//! key headers, counts, non-minimal numbers, pushes past the end) and
//! random bytes.

#![allow(dead_code)]

use proptest::collection::vec;
use proptest::prelude::*;

/// `data` pushed by a direct push (when it fits), OP_PUSHDATA1, 2 or 4.
pub fn push(data: &[u8], form: u8) -> Vec<u8> {
    let len = data.len();
    let mut out = match form % 4 {
        0 if len <= 75 => vec![len as u8],
        0 | 1 if len <= 255 => vec![0x4c, len as u8],
        0..=2 => [&[0x4d][..], &(len as u16).to_le_bytes()].concat(),
        _ => [&[0x4e][..], &(len as u32).to_le_bytes()].concat(),
    };
    out.extend_from_slice(data);
    out
}

/// A multisig count: mostly minimal (OP_0, OP_N, a one-byte push above
/// 16), else a one-byte push or OP_PUSHDATA1 of one byte.
fn number(n: u8, form: u8) -> Vec<u8> {
    match (form % 8, n) {
        (0..=5, 0) => vec![0x00],
        (0..=5, 1..=16) => vec![0x50 + n],
        (0..=6, _) => vec![0x01, n],
        _ => vec![0x4c, 0x01, n],
    }
}

/// A public key of a valid size for its header byte, or (header 5) not.
fn key() -> impl Strategy<Value = Vec<u8>> {
    key_of(vec![2, 3, 4, 6, 7, 5])
}

fn valid_key() -> impl Strategy<Value = Vec<u8>> {
    key_of(vec![2, 3, 4, 6, 7])
}

fn key_of(headers: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    (prop::sample::select(headers), any::<[u8; 64]>()).prop_map(|(h, body)| {
        let len = if matches!(h, 4 | 6 | 7) { 64 } else { 32 };
        [&[h][..], &body[..len]].concat()
    })
}

fn p2pkh() -> impl Strategy<Value = Vec<u8>> {
    any::<[u8; 20]>().prop_map(|h| [&[0x76, 0xa9, 0x14][..], &h, &[0x88, 0xac]].concat())
}

fn p2sh() -> impl Strategy<Value = Vec<u8>> {
    any::<[u8; 20]>().prop_map(|h| [&[0xa9, 0x14][..], &h, &[0x87]].concat())
}

/// A version opcode and one direct push: every version, the sizes that
/// mean something (20, 32) and every other size up to one past the limit.
fn witness() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![2 => Just(0u8), 1 => Just(1), 2 => 0u8..=16],
        prop_oneof![Just(20usize), Just(32), 0usize..=41],
        any::<[u8; 41]>(),
    )
        .prop_map(|(version, len, body)| {
            let op = if version == 0 { 0 } else { 0x50 + version };
            [&[op, len as u8][..], &body[..len]].concat()
        })
}

fn anchor() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(vec![0x51, 0x02, 0x4e, 0x73]),
        Just(vec![0x00, 0x02, 0x4e, 0x73])
    ]
}

/// OP_RETURN and pushes, numbers, OP_RESERVED, now and then another
/// opcode.
fn null_data() -> impl Strategy<Value = Vec<u8>> {
    let element = prop_oneof![
        4 => (vec(any::<u8>(), 0..90), any::<u8>()).prop_map(|(d, form)| push(&d, form)),
        2 => (0x4fu8..=0x60).prop_map(|op| vec![op]),
        1 => Just(vec![0x00]),
        1 => prop::sample::select(vec![0x61u8, 0x6a, 0xac, 0xff]).prop_map(|op| vec![op]),
    ];
    vec(element, 0..4).prop_map(|parts| [vec![0x6a], parts.concat()].concat())
}

fn p2pk() -> impl Strategy<Value = Vec<u8>> {
    key().prop_map(|k| [&[k.len() as u8][..], &k, &[0xac]].concat())
}

/// `m <key>… n OP_CHECKMULTISIG` with m and n from 0 to 21 in every
/// encoding: mostly 1 ≤ m ≤ n = the number of keys, all valid.
fn multisig() -> impl Strategy<Value = Vec<u8>> {
    let keys = prop_oneof![
        3 => vec((valid_key(), any::<u8>()), 1..=20),
        1 => vec((key(), any::<u8>()), 0..=21),
    ];
    (keys, any::<u8>(), any::<u8>(), any::<u8>(), 0u8..6).prop_map(
        |(keys, pick, m_form, n_form, how)| {
            let k = keys.len() as u8;
            let (m, n) = match how {
                0 => (pick % 22, k),
                1 => (1 + pick % k.max(1), pick % 22),
                _ => (1 + pick % k.max(1), k),
            };
            let mut s = number(m, m_form);
            for (k, form) in &keys {
                s.extend(push(k, form % 2));
            }
            s.extend(number(n, n_form));
            s.push(0xae);
            s
        },
    )
}

fn template() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        p2pkh(),
        p2sh(),
        witness(),
        anchor(),
        null_data(),
        p2pk(),
        multisig(),
        Just(vec![]),
        vec(any::<u8>(), 0..60),
    ]
}

/// A template, or a template with its last byte dropped, one byte added
/// or one byte changed.
pub fn script_pubkey() -> impl Strategy<Value = Vec<u8>> {
    (template(), 0u8..8, any::<u8>(), any::<usize>()).prop_map(|(mut s, how, byte, at)| {
        match how {
            0 => {
                s.pop();
            }
            1 => s.push(byte),
            2 if !s.is_empty() => {
                let at = at % s.len();
                s[at] = byte;
            }
            _ => {}
        }
        s
    })
}
