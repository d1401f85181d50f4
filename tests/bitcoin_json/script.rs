//! A scriptPubKey's type under Core's name and its address, from
//! rust-bitcoin: its template predicates (`is_p2sh`, `is_p2wpkh`, …),
//! witness programs, instruction parser and script numbers, combined in
//! the order of Core's `Solver`, with Core's rules where rust-bitcoin's
//! predicate is looser (P2PK and multisig check the key's header byte,
//! multisig counts as Core's `GetScriptNumber`); the address is
//! rust-bitcoin's `Address::from_script`.

use bitcoin::script::{Instruction, read_scriptint};
use bitcoin::{Address, Network, Script, WitnessProgram};

/// Core's `TxoutType` name of `s`.
pub fn script_type(s: &Script) -> &'static str {
    if s.is_p2sh() {
        return "scripthash";
    }
    if let Some(version) = s.witness_version() {
        return match WitnessProgram::new(version, &s.as_bytes()[2..]) {
            Ok(p) if p.is_p2wpkh() => "witness_v0_keyhash",
            Ok(p) if p.is_p2wsh() => "witness_v0_scripthash",
            Ok(p) if p.is_p2tr() => "witness_v1_taproot",
            Ok(p) if p.is_p2a() => "anchor",
            _ if version.to_num() != 0 => "witness_unknown",
            _ => "nonstandard",
        };
    }
    let bytes = s.as_bytes();
    if s.is_op_return() && Script::from_bytes(&bytes[1..]).is_push_only() {
        return "nulldata";
    }
    if s.is_p2pk() && valid_key_size(&bytes[1..bytes.len() - 1]) {
        return "pubkey";
    }
    if s.is_p2pkh() {
        return "pubkeyhash";
    }
    if multisig(s) {
        return "multisig";
    }
    "nonstandard"
}

/// The address of `s` on `network`, where it has one.
pub fn address(s: &Script, network: Network) -> Option<String> {
    Address::from_script(s, network).ok().map(|a| a.to_string())
}

/// Core's `CPubKey::ValidSize`.
fn valid_key_size(key: &[u8]) -> bool {
    match key.first() {
        Some(2 | 3) => key.len() == 33,
        Some(4 | 6 | 7) => key.len() == 65,
        _ => false,
    }
}

/// Core's `CheckMinimalPush` for a push of `data` by `opcode`.
fn minimal_push(data: &[u8], opcode: u8) -> bool {
    match data {
        [] => opcode == 0x00,
        [n @ 1..=16] => opcode == 0x50 + n,
        [0x81] => opcode == 0x4f,
        _ if data.len() <= 75 => usize::from(opcode) == data.len(),
        _ if data.len() <= 255 => opcode == 0x4c,
        _ if data.len() <= 65535 => opcode == 0x4d,
        _ => true,
    }
}

/// Core's `GetScriptNumber`: OP_1..OP_16, or a minimal push of a minimal
/// number, in `min..=max`.
fn script_number(
    s: &Script,
    at: usize,
    instruction: &Instruction<'_>,
    min: i64,
    max: i64,
) -> Option<i64> {
    let n = match instruction {
        Instruction::Op(op) if (0x51..=0x60).contains(&op.to_u8()) => i64::from(op.to_u8() - 0x50),
        Instruction::PushBytes(data) if !data.is_empty() => {
            let data = data.as_bytes();
            if !minimal_push(data, s.as_bytes()[at]) {
                return None;
            }
            read_scriptint(data).ok()?
        }
        _ => return None,
    };
    (min..=max).contains(&n).then_some(n)
}

/// Core's `MatchMultisig`, over rust-bitcoin's instruction parser.
fn multisig(s: &Script) -> bool {
    if s.as_bytes().last() != Some(&0xae) {
        return false;
    }
    let mut ops = s.instruction_indices();
    let Some(Ok((at, first))) = ops.next() else {
        return false;
    };
    let Some(required) = script_number(s, at, &first, 1, 20) else {
        return false;
    };
    let mut keys = 0;
    let mut last = None;
    for op in ops.by_ref() {
        match op {
            Ok((_, Instruction::PushBytes(data))) if valid_key_size(data.as_bytes()) => keys += 1,
            Ok(other) => {
                last = Some(other);
                break;
            }
            Err(_) => return false,
        }
    }
    let Some((at, instruction)) = last else {
        return false;
    };
    let Some(n) = script_number(s, at, &instruction, required, 20) else {
        return false;
    };
    // Exactly OP_CHECKMULTISIG after the count.
    n == keys
        && matches!(ops.next(), Some(Ok((_, Instruction::Op(op)))) if op.to_u8() == 0xae)
        && ops.next().is_none()
}
