//! Output scripts by template: the type Bitcoin Core's `Solver`
//! (script/solver.cpp) gives a scriptPubKey, under the names of Core's
//! `decodescript` / `getrawtransaction` `type`, and the destination an
//! address is made from ([`address`]).
//!
//! Core's checks, in its order: P2SH, then any witness program (a v0
//! program of another size than 20 or 32 bytes is nonstandard, not a
//! witness type), OP_RETURN followed by pushes only, P2PK, P2PKH, bare
//! multisig; anything else is nonstandard.

pub mod address;
mod base58;
mod segwit;

pub use address::Address;

const OP_0: u8 = 0x00;
const OP_PUSHDATA1: u8 = 0x4c;
const OP_PUSHDATA2: u8 = 0x4d;
const OP_PUSHDATA4: u8 = 0x4e;
const OP_1: u8 = 0x51;
const OP_16: u8 = 0x60;
const OP_RETURN: u8 = 0x6a;
const OP_DUP: u8 = 0x76;
const OP_EQUAL: u8 = 0x87;
const OP_EQUALVERIFY: u8 = 0x88;
const OP_HASH160: u8 = 0xa9;
const OP_CHECKSIG: u8 = 0xac;
const OP_CHECKMULTISIG: u8 = 0xae;

/// Core's MAX_PUBKEYS_PER_MULTISIG.
const MAX_PUBKEYS_PER_MULTISIG: u8 = 20;

/// Core's `TxoutType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptType {
    NonStandard,
    /// Pay to anchor (BIP 431's P2A): `OP_1 <0x4e73>`.
    Anchor,
    PubKey,
    PubKeyHash,
    ScriptHash,
    Multisig,
    /// OP_RETURN and pushes only.
    NullData,
    WitnessV0ScriptHash,
    WitnessV0KeyHash,
    WitnessV1Taproot,
    /// A witness program of version 1 to 16 without a meaning yet (and a
    /// v1 program that is neither taproot nor anchor).
    WitnessUnknown,
}

impl ScriptType {
    /// Core's name (`GetTxnOutputType`).
    pub fn name(self) -> &'static str {
        match self {
            ScriptType::NonStandard => "nonstandard",
            ScriptType::Anchor => "anchor",
            ScriptType::PubKey => "pubkey",
            ScriptType::PubKeyHash => "pubkeyhash",
            ScriptType::ScriptHash => "scripthash",
            ScriptType::Multisig => "multisig",
            ScriptType::NullData => "nulldata",
            ScriptType::WitnessV0ScriptHash => "witness_v0_scripthash",
            ScriptType::WitnessV0KeyHash => "witness_v0_keyhash",
            ScriptType::WitnessV1Taproot => "witness_v1_taproot",
            ScriptType::WitnessUnknown => "witness_unknown",
        }
    }
}

/// What an address encodes (Core's `CTxDestination` of the types that
/// have one; a P2PK output has none since Core 26).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination<'a> {
    PubKeyHash(&'a [u8; 20]),
    ScriptHash(&'a [u8; 20]),
    /// A witness program: version 0 to 16, 2 to 40 bytes (20 or 32 for
    /// version 0).
    Witness {
        version: u8,
        program: &'a [u8],
    },
}

/// A scriptPubKey's type and, where it has one, its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputScript<'a> {
    pub script_type: ScriptType,
    pub destination: Option<Destination<'a>>,
}

impl<'a> OutputScript<'a> {
    pub fn classify(script: &'a [u8]) -> OutputScript<'a> {
        let (script_type, destination) = classify(script);
        OutputScript {
            script_type,
            destination,
        }
    }
}

fn classify(script: &[u8]) -> (ScriptType, Option<Destination<'_>>) {
    if let Ok([OP_HASH160, 20, hash @ .., OP_EQUAL]) = <&[u8; 23]>::try_from(script) {
        return (ScriptType::ScriptHash, Some(Destination::ScriptHash(hash)));
    }
    if let Some((version, program)) = witness_program(script) {
        let script_type = match (version, program.len()) {
            (0, 20) => ScriptType::WitnessV0KeyHash,
            (0, 32) => ScriptType::WitnessV0ScriptHash,
            (0, _) => return (ScriptType::NonStandard, None),
            (1, 32) => ScriptType::WitnessV1Taproot,
            (1, _) if program == [0x4e, 0x73] => ScriptType::Anchor,
            _ => ScriptType::WitnessUnknown,
        };
        return (script_type, Some(Destination::Witness { version, program }));
    }
    if let [OP_RETURN, rest @ ..] = script
        && is_push_only(rest)
    {
        return (ScriptType::NullData, None);
    }
    if is_pay_to_pubkey(script) {
        return (ScriptType::PubKey, None);
    }
    if let Ok(
        [
            OP_DUP,
            OP_HASH160,
            20,
            hash @ ..,
            OP_EQUALVERIFY,
            OP_CHECKSIG,
        ],
    ) = <&[u8; 25]>::try_from(script)
    {
        return (ScriptType::PubKeyHash, Some(Destination::PubKeyHash(hash)));
    }
    if is_multisig(script) {
        return (ScriptType::Multisig, None);
    }
    (ScriptType::NonStandard, None)
}

/// Core's `IsWitnessProgram`: a version opcode (OP_0, OP_1..OP_16) and one
/// direct push of 2 to 40 bytes that ends the script.
fn witness_program(script: &[u8]) -> Option<(u8, &[u8])> {
    let [version_op, push, program @ ..] = script else {
        return None;
    };
    let version = match *version_op {
        OP_0 => 0,
        op @ OP_1..=OP_16 => op.wrapping_sub(OP_1 - 1),
        _ => return None,
    };
    ((2..=40).contains(&program.len()) && usize::from(*push) == program.len())
        .then_some((version, program))
}

/// Core's `CPubKey::ValidSize`: 33 bytes after 0x02/0x03, 65 after
/// 0x04/0x06/0x07 (a header check, not a curve check).
fn is_pubkey_size(key: &[u8]) -> bool {
    match key.first() {
        Some(2 | 3) => key.len() == 33,
        Some(4 | 6 | 7) => key.len() == 65,
        _ => false,
    }
}

/// `<pubkey> OP_CHECKSIG` with the key's direct push.
fn is_pay_to_pubkey(script: &[u8]) -> bool {
    match script {
        [push @ (33 | 65), key @ .., OP_CHECKSIG] => {
            usize::from(*push) == key.len() && is_pubkey_size(key)
        }
        _ => false,
    }
}

/// One operation of a script (Core's `GetScriptOp`): its opcode, the
/// bytes it pushes (empty for other opcodes) and the rest of the script;
/// `None` when a push runs past the end.
fn next_op(script: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&opcode, rest) = script.split_first()?;
    let (size, rest) = match opcode {
        0..OP_PUSHDATA1 => (usize::from(opcode), rest),
        OP_PUSHDATA1 => {
            let (&n, rest) = rest.split_first()?;
            (usize::from(n), rest)
        }
        OP_PUSHDATA2 => {
            let (n, rest) = rest.split_first_chunk::<2>()?;
            (usize::from(u16::from_le_bytes(*n)), rest)
        }
        OP_PUSHDATA4 => {
            let (n, rest) = rest.split_first_chunk::<4>()?;
            (usize::try_from(u32::from_le_bytes(*n)).ok()?, rest)
        }
        _ => return Some((opcode, &[], rest)),
    };
    let (data, rest) = rest.split_at_checked(size)?;
    Some((opcode, data, rest))
}

/// Core's `IsPushOnly`: every operation parses and is a push or a number
/// (OP_RESERVED included, as Core counts everything up to OP_16).
fn is_push_only(mut script: &[u8]) -> bool {
    while !script.is_empty() {
        match next_op(script) {
            Some((opcode, _, rest)) if opcode <= OP_16 => script = rest,
            _ => return false,
        }
    }
    true
}

/// A key count of a multisig script (Core's `GetScriptNumber` between 1
/// and 20): OP_1..OP_16, or 17 to 20 as the minimal push of one byte
/// (any other push of a number up to 20 is not minimal).
fn multisig_number(opcode: u8, data: &[u8]) -> Option<u8> {
    match (opcode, data) {
        (OP_1..=OP_16, _) => Some(opcode.wrapping_sub(OP_1 - 1)),
        (1, &[n @ 17..=MAX_PUBKEYS_PER_MULTISIG]) => Some(n),
        _ => None,
    }
}

/// Core's `MatchMultisig`: `m <key>… n OP_CHECKMULTISIG` with n keys of a
/// valid size (pushed in any push form), 1 ≤ m ≤ n ≤ 20.
fn is_multisig(script: &[u8]) -> bool {
    if script.last() != Some(&OP_CHECKMULTISIG) {
        return false;
    }
    let Some((opcode, data, mut rest)) = next_op(script) else {
        return false;
    };
    let Some(required) = multisig_number(opcode, data) else {
        return false;
    };
    let mut keys: usize = 0;
    loop {
        let Some((opcode, data, after)) = next_op(rest) else {
            return false;
        };
        rest = after;
        if is_pubkey_size(data) {
            keys = keys.saturating_add(1);
            continue;
        }
        return match multisig_number(opcode, data) {
            Some(n) => n >= required && usize::from(n) == keys && rest == [OP_CHECKMULTISIG],
            None => false,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_of(hex: &str) -> ScriptType {
        OutputScript::classify(&hex::decode(hex).unwrap()).script_type
    }

    #[test]
    fn templates() {
        let key33 = format!("02{}", "11".repeat(32));
        let key65 = format!("04{}", "22".repeat(64));
        let h20 = "33".repeat(20);
        let h32 = "44".repeat(32);
        assert_eq!(type_of(""), ScriptType::NonStandard);
        assert_eq!(type_of(&format!("76a914{h20}88ac")), ScriptType::PubKeyHash);
        assert_eq!(type_of(&format!("a914{h20}87")), ScriptType::ScriptHash);
        assert_eq!(type_of(&format!("0014{h20}")), ScriptType::WitnessV0KeyHash);
        assert_eq!(
            type_of(&format!("0020{h32}")),
            ScriptType::WitnessV0ScriptHash
        );
        assert_eq!(type_of(&format!("0015{h20}55")), ScriptType::NonStandard);
        assert_eq!(type_of(&format!("5120{h32}")), ScriptType::WitnessV1Taproot);
        assert_eq!(type_of("51024e73"), ScriptType::Anchor);
        assert_eq!(type_of("52024e73"), ScriptType::WitnessUnknown);
        assert_eq!(
            type_of(&format!("6028{}", "55".repeat(40))),
            ScriptType::WitnessUnknown
        );
        assert_eq!(type_of("6a"), ScriptType::NullData);
        assert_eq!(type_of("6a0401020304"), ScriptType::NullData);
        assert_eq!(
            type_of("6a4c0101"),
            ScriptType::NullData,
            "non-minimal push"
        );
        assert_eq!(type_of("6a50"), ScriptType::NullData, "OP_RESERVED");
        assert_eq!(
            type_of("6a0401"),
            ScriptType::NonStandard,
            "push past the end"
        );
        assert_eq!(type_of("6a61"), ScriptType::NonStandard, "OP_NOP");
        assert_eq!(type_of(&format!("21{key33}ac")), ScriptType::PubKey);
        assert_eq!(type_of(&format!("41{key65}ac")), ScriptType::PubKey);
        assert_eq!(
            type_of(&format!("21{}ac", "05".repeat(33))),
            ScriptType::NonStandard
        );
        assert_eq!(type_of(&format!("5121{key33}51ae")), ScriptType::Multisig);
        assert_eq!(
            type_of(&format!("5121{key33}41{key65}52ae")),
            ScriptType::Multisig
        );
        assert_eq!(
            type_of(&format!("524c21{key33}21{key33}52ae")),
            ScriptType::Multisig
        );
        assert_eq!(
            type_of(&format!("5221{key33}51ae")),
            ScriptType::NonStandard,
            "m > n"
        );
        assert_eq!(
            type_of(&format!("0021{key33}51ae")),
            ScriptType::NonStandard,
            "m = 0"
        );
        assert_eq!(
            type_of(&format!("5121{key33}52ae")),
            ScriptType::NonStandard,
            "n ≠ keys"
        );
        assert_eq!(
            type_of(&format!("5121{key33}51aeae")),
            ScriptType::NonStandard
        );
        let keys17 = format!("21{key33}").repeat(17);
        assert_eq!(type_of(&format!("51{keys17}0111ae")), ScriptType::Multisig);
        assert_eq!(
            type_of(&format!("51{keys17}4c0111ae")),
            ScriptType::NonStandard
        );
    }

    #[test]
    fn destinations() {
        let script = hex::decode(format!("5108{}", "ab".repeat(8))).unwrap();
        assert_eq!(
            OutputScript::classify(&script).destination,
            Some(Destination::Witness {
                version: 1,
                program: &[0xab; 8]
            })
        );
        let script = hex::decode(format!("76a914{}88ac", "cd".repeat(20))).unwrap();
        assert_eq!(
            OutputScript::classify(&script).destination,
            Some(Destination::PubKeyHash(&[0xcd; 20]))
        );
        assert_eq!(OutputScript::classify(&[OP_RETURN]).destination, None);
    }
}
