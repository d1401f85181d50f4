//! Byte-level builders for transactions and blocks with mainnet-like shapes
//! (input/output counts, script templates, signature sizes). Signatures,
//! keys and hashes are random bytes: the result parses but does not verify.

use crate::rng::Rng;

/// How an input is spent; decides scriptSig and witness sizes.
#[derive(Clone, Copy)]
pub enum Spend {
    /// scriptSig `<sig> <pubkey>` (~107 bytes), no witness.
    P2pkh,
    /// scriptSig pushes the 22-byte redeem script; witness `<sig> <pubkey>`.
    P2shP2wpkh,
    /// empty scriptSig, witness `<sig> <pubkey>`.
    P2wpkh,
    /// empty scriptSig, witness one 64-byte Schnorr signature (key path).
    P2tr,
}

impl Spend {
    fn has_witness(self) -> bool {
        !matches!(self, Spend::P2pkh)
    }
}

/// Output script template.
#[derive(Clone, Copy)]
pub enum Pay {
    P2pkh,
    P2sh,
    P2wpkh,
    P2tr,
    OpReturn,
}

pub fn compact_size(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// A length-prefixed DER ECDSA signature plus SIGHASH_ALL (71 or 72 bytes);
/// the prefix works both as a script push opcode and a witness item length.
fn push_ecdsa_sig(out: &mut Vec<u8>, rng: &mut Rng) {
    // r is 33 bytes when its top bit is set (DER adds a 0x00), about half
    // of the time; low-S rule keeps s at 32 bytes.
    let r_len = if rng.chance(50) { 33 } else { 32 };
    let der_len = 4 + r_len + 2 + 32;
    out.push((der_len + 1) as u8);
    out.extend_from_slice(&[0x30, (der_len - 2) as u8, 0x02, r_len as u8]);
    if r_len == 33 {
        out.push(0x00);
        out.push(0x80 | rng.next_u32() as u8);
        rng.extend(out, 31);
    } else {
        out.push(0x7f & rng.next_u32() as u8);
        rng.extend(out, 31);
    }
    out.extend_from_slice(&[0x02, 0x20]);
    out.push(0x7f & rng.next_u32() as u8);
    rng.extend(out, 31);
    out.push(0x01);
}

fn push_pubkey(out: &mut Vec<u8>, rng: &mut Rng) {
    out.push(33);
    out.push(if rng.chance(50) { 0x02 } else { 0x03 });
    rng.extend(out, 32);
}

fn write_script_sig(out: &mut Vec<u8>, rng: &mut Rng, spend: Spend) {
    match spend {
        Spend::P2pkh => {
            let mut script = Vec::with_capacity(108);
            push_ecdsa_sig(&mut script, rng);
            push_pubkey(&mut script, rng);
            compact_size(out, script.len() as u64);
            out.extend_from_slice(&script);
        }
        Spend::P2shP2wpkh => {
            // push(22) of the redeem script OP_0 <20-byte key hash>
            out.extend_from_slice(&[23, 22, 0x00, 20]);
            rng.extend(out, 20);
        }
        Spend::P2wpkh | Spend::P2tr => out.push(0),
    }
}

fn write_witness(out: &mut Vec<u8>, rng: &mut Rng, spend: Spend) {
    match spend {
        Spend::P2pkh => out.push(0),
        Spend::P2shP2wpkh | Spend::P2wpkh => {
            out.push(2);
            push_ecdsa_sig(out, rng);
            push_pubkey(out, rng);
        }
        Spend::P2tr => {
            out.push(1);
            out.push(64);
            rng.extend(out, 64);
        }
    }
}

fn write_script_pubkey(out: &mut Vec<u8>, rng: &mut Rng, pay: Pay) {
    match pay {
        Pay::P2pkh => {
            out.extend_from_slice(&[25, 0x76, 0xa9, 20]);
            rng.extend(out, 20);
            out.extend_from_slice(&[0x88, 0xac]);
        }
        Pay::P2sh => {
            out.extend_from_slice(&[23, 0xa9, 20]);
            rng.extend(out, 20);
            out.push(0x87);
        }
        Pay::P2wpkh => {
            out.extend_from_slice(&[22, 0x00, 20]);
            rng.extend(out, 20);
        }
        Pay::P2tr => {
            out.extend_from_slice(&[34, 0x51, 32]);
            rng.extend(out, 32);
        }
        Pay::OpReturn => {
            let data = rng.range_usize(20, 75);
            out.extend_from_slice(&[(data + 2) as u8, 0x6a, data as u8]);
            rng.extend(out, data);
        }
    }
}

/// An output amount, spread over several orders of magnitude (satoshis).
fn amount(rng: &mut Rng, pay: Pay) -> u64 {
    if matches!(pay, Pay::OpReturn) {
        return 0;
    }
    let scale = 10u64.pow(rng.range(3, 9) as u32);
    rng.range(1, 9) * scale + rng.range(0, scale - 1)
}

/// Appends one transaction to `out`; returns the size of its non-witness
/// serialization (what a txid is hashed over).
pub fn write_tx(out: &mut Vec<u8>, rng: &mut Rng, spends: &[Spend], pays: &[Pay]) -> usize {
    let start = out.len();
    let segwit = spends.iter().any(|s| s.has_witness());
    out.extend_from_slice(&(if rng.chance(80) { 2u32 } else { 1u32 }).to_le_bytes());
    if segwit {
        out.extend_from_slice(&[0x00, 0x01]);
    }
    compact_size(out, spends.len() as u64);
    for &spend in spends {
        rng.extend(out, 32);
        out.extend_from_slice(&(rng.range(0, 3) as u32).to_le_bytes());
        write_script_sig(out, rng, spend);
        let sequence: u32 = if rng.chance(70) {
            0xffff_fffd
        } else {
            0xffff_ffff
        };
        out.extend_from_slice(&sequence.to_le_bytes());
    }
    compact_size(out, pays.len() as u64);
    for &pay in pays {
        out.extend_from_slice(&amount(rng, pay).to_le_bytes());
        write_script_pubkey(out, rng, pay);
    }
    let witness_start = out.len();
    if segwit {
        for &spend in spends {
            write_witness(out, rng, spend);
        }
    }
    let witness_len = out.len() - witness_start;
    let locktime: u32 = if rng.chance(40) {
        870_000 + rng.range(0, 5_000) as u32
    } else {
        0
    };
    out.extend_from_slice(&locktime.to_le_bytes());
    let total = out.len() - start;
    if segwit {
        total - 2 - witness_len
    } else {
        total
    }
}

fn random_pay(rng: &mut Rng) -> Pay {
    match rng.range(0, 99) {
        0..=34 => Pay::P2wpkh,
        35..=54 => Pay::P2tr,
        55..=74 => Pay::P2pkh,
        _ => Pay::P2sh,
    }
}

/// One wallet style per transaction, with a few mixed-input ones.
fn random_spends(rng: &mut Rng, n: usize, spends: &mut Vec<Spend>) {
    spends.clear();
    let style = match rng.range(0, 99) {
        0..=24 => Spend::P2pkh,
        25..=34 => Spend::P2shP2wpkh,
        35..=74 => Spend::P2wpkh,
        _ => Spend::P2tr,
    };
    let mixed = rng.chance(5);
    for _ in 0..n {
        spends.push(if mixed {
            *rng.pick(&[Spend::P2pkh, Spend::P2shP2wpkh, Spend::P2wpkh, Spend::P2tr])
        } else {
            style
        });
    }
}

fn random_pays(rng: &mut Rng, n: usize, pays: &mut Vec<Pay>) {
    pays.clear();
    for _ in 0..n {
        pays.push(random_pay(rng));
    }
    // Some transactions carry data (runes, commitments) in an OP_RETURN.
    if rng.chance(3) {
        pays.push(Pay::OpReturn);
    }
}

/// A transaction as found in blocks: mostly 1-2 inputs and 2 outputs, with a
/// tail of consolidations and batched payouts.
pub fn write_block_tx(out: &mut Vec<u8>, rng: &mut Rng) -> usize {
    let n_in = match rng.range(0, 99) {
        0..=59 => 1,
        60..=79 => 2,
        80..=87 => 3,
        88..=96 => rng.range_usize(4, 9),
        _ => rng.range_usize(10, 25),
    };
    let n_out = match rng.range(0, 99) {
        0..=19 => 1,
        20..=81 => 2,
        82..=93 => rng.range_usize(3, 5),
        _ => rng.range_usize(6, 25),
    };
    let (mut spends, mut pays) = (Vec::new(), Vec::new());
    random_spends(rng, n_in, &mut spends);
    random_pays(rng, n_out, &mut pays);
    write_tx(out, rng, &spends, &pays)
}

/// A relayed mempool transaction of about 250 bytes (1-2 in, 1-2 out).
pub fn write_relay_tx(out: &mut Vec<u8>, rng: &mut Rng) -> usize {
    let n_in = if rng.chance(75) { 1 } else { 2 };
    let n_out = if rng.chance(80) { 2 } else { 1 };
    let (mut spends, mut pays) = (Vec::new(), Vec::new());
    random_spends(rng, n_in, &mut spends);
    random_pays(rng, n_out, &mut pays);
    write_tx(out, rng, &spends, &pays)
}

/// A segwit coinbase: BIP34 height, payout, witness commitment, and the
/// 32-byte witness reserved value.
fn write_coinbase(out: &mut Vec<u8>, rng: &mut Rng, height: u32) -> usize {
    let start = out.len();
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&[0x00, 0x01, 1]);
    out.extend_from_slice(&[0u8; 32]);
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    let extra = rng.range_usize(20, 60);
    compact_size(out, 4 + extra as u64);
    out.push(3);
    out.extend_from_slice(&height.to_le_bytes()[..3]);
    rng.extend(out, extra);
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.push(2);
    out.extend_from_slice(&(312_500_000 + rng.range(0, 20_000_000)).to_le_bytes());
    write_script_pubkey(out, rng, Pay::P2wpkh);
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&[38, 0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed]);
    rng.extend(out, 32);
    let witness_start = out.len();
    out.extend_from_slice(&[1, 32]);
    out.extend_from_slice(&[0u8; 32]);
    let witness_len = out.len() - witness_start;
    out.extend_from_slice(&0u32.to_le_bytes());
    out.len() - start - 2 - witness_len
}

/// A block payload of about `target_size` bytes. Returns the payload, the
/// number of transactions and the sum of their non-witness sizes. The
/// merkle root is random: nothing here is meant to validate.
pub fn build_block(rng: &mut Rng, height: u32, target_size: usize) -> (Vec<u8>, usize, u64) {
    let mut txs = Vec::with_capacity(target_size + 100_000);
    let mut txid_bytes = write_coinbase(&mut txs, rng, height) as u64;
    let mut count = 1;
    while txs.len() < target_size {
        txid_bytes += write_block_tx(&mut txs, rng) as u64;
        count += 1;
    }
    let mut block = Vec::with_capacity(txs.len() + 90);
    block.extend_from_slice(&(0x2000_0000u32 | (rng.next_u32() & 0x1fff_e000)).to_le_bytes());
    // previous block hash: wire order, so the display-order leading zeros
    // are the trailing bytes here.
    rng.extend(&mut block, 22);
    block.extend_from_slice(&[0u8; 10]);
    rng.extend(&mut block, 32);
    block.extend_from_slice(&(1_730_000_000 + height.wrapping_mul(600)).to_le_bytes());
    block.extend_from_slice(&0x1703_4219u32.to_le_bytes());
    block.extend_from_slice(&rng.next_u32().to_le_bytes());
    compact_size(&mut block, count as u64);
    block.extend_from_slice(&txs);
    (block, count, txid_bytes)
}
