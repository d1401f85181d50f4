//! Transactions (tx, and inside block / cmpctblock / blocktxn).
//!
//! txid and wtxid are hashed over the payload's own bytes: the txid of a
//! segwit transaction is sha256d over three slices (version, inputs and
//! outputs, lock time) that skip the marker, flag and witnesses.
//!
//! A standalone `tx` message usually needs no hash of its own for one of
//! them: the v1 header checksum is the first four bytes of
//! sha256d(payload), and when the payload is exactly one transaction that
//! sha256d is the txid of a legacy transaction (sha256d of its
//! serialisation) or the wtxid of a segwit one (BIP141: sha256d of the
//! serialisation with marker, flag and witnesses, i.e. the bytes as sent).
//! The framing decoder keeps the whole hash ([`read_tx_payload`]).

use super::MAX_SIZE;
pub use super::tx_parts::{OutPoint, TxIn, TxInputs, TxOut, TxOutputs, WitnessStack};
use crate::p2p::Hash256;
use crate::p2p::hash::{sha256d, sha256d_parts};
use crate::p2p::reader::{DecodeError, Reader};

/// Weight units per non-witness byte (BIP141 WITNESS_SCALE_FACTOR).
pub const WITNESS_SCALE_FACTOR: usize = 4;

/// A decoded transaction. How much of it is shown depends on
/// `full_detail`: a standalone `tx` is shown whole; the thousands inside a
/// block, cmpctblock or blocktxn are shown as a summary unless `-v` asks
/// for everything, as Core's `getblock` verbosity 1 and 2 (in JSON the
/// whole form is about three times the block's size, mostly scripts and
/// witnesses in hex). The summary is every field but `inputs`, `outputs`
/// and a segwit transaction's `wtxid` (one more hash of the whole
/// transaction); `input_count` and `output_count` are in both forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction<'a> {
    pub txid: Hash256,
    /// None when the caller asked to skip it (blocks without full detail).
    pub wtxid: Option<Hash256>,
    pub version: i32,
    /// Serialised with the BIP144 marker and flag.
    pub segwit: bool,
    pub inputs: TxInputs<'a>,
    pub outputs: TxOutputs<'a>,
    pub lock_time: u32,
    /// Bytes on the wire, witness included.
    pub size: usize,
    pub weight: usize,
    pub vsize: usize,
    /// Shown whole (inputs, outputs, witnesses), or as a summary.
    pub full_detail: bool,
}

/// Decodes one transaction at the reader's position, Core's way: an empty
/// input vector followed by a non-zero byte means BIP144 (that byte is the
/// flag); an empty input vector followed by 0 is a transaction without
/// inputs and outputs. `full_detail` false makes a summary (see
/// [`Transaction`]) and skips the wtxid hash of a segwit transaction (for
/// a legacy one it equals the txid and costs nothing).
pub fn read_transaction<'a>(
    r: &mut Reader<'a>,
    full_detail: bool,
) -> Result<Transaction<'a>, DecodeError> {
    read(r, full_detail, None)
}

/// Decodes the payload of a standalone `tx` message (full detail).
/// `payload_hash`: sha256d of the reader's entire input, when the caller
/// already computed it (the framing decoder does, for the checksum). It
/// stands for the hash of the transaction's bytes only when the
/// transaction is the entire input (starts at 0, nothing after it);
/// otherwise (trailing bytes, or a reader not at the start) the
/// transaction is hashed as usual.
pub fn read_tx_payload<'a>(
    r: &mut Reader<'a>,
    payload_hash: Option<Hash256>,
) -> Result<Transaction<'a>, DecodeError> {
    read(r, true, payload_hash)
}

/// `input_hash`: sha256d of the reader's entire input, if known.
fn read<'a>(
    r: &mut Reader<'a>,
    full_detail: bool,
    input_hash: Option<Hash256>,
) -> Result<Transaction<'a>, DecodeError> {
    let start = r.position();
    let version_bytes: [u8; 4] = r.array("tx.version")?;
    let version = i32::from_le_bytes(version_bytes);
    let mut body_start = r.position();
    let mut input_count = r.count("tx.input_count", MAX_SIZE)?;
    let mut segwit = false;
    let mut outputs = TxOutputs::default();
    let mut inputs = TxInputs::default();
    if input_count == 0 {
        let flag_offset = r.position();
        let flag = r.u8("tx.flag")?;
        if flag != 0 {
            // BIP144: only flag 1 (witness) is defined; Core refuses others.
            if flag != 1 {
                return Err(DecodeError::Invalid {
                    what: "tx.flag",
                    offset: flag_offset,
                    detail: format!("unknown transaction optional data flag {flag:#04x}"),
                });
            }
            segwit = true;
            body_start = r.position();
            input_count = r.count("tx.input_count", MAX_SIZE)?;
            inputs = TxInputs::read(r, input_count)?;
            outputs = TxOutputs::read(r)?;
        }
        // flag 0: that byte was the (empty) output count.
    } else {
        inputs = TxInputs::read(r, input_count)?;
        outputs = TxOutputs::read(r)?;
    }
    let body = r.consumed_since(body_start);
    let witness_start = r.position();
    if segwit {
        let any_witness = inputs.read_witnesses(r)?;
        if !any_witness {
            // Core: "Superfluous witness record".
            return Err(DecodeError::Invalid {
                what: "tx.witness",
                offset: witness_start,
                detail: "segwit flag set but every witness is empty".into(),
            });
        }
    }
    let witness_len = r.position().saturating_sub(witness_start);
    let lock_time_bytes: [u8; 4] = r.array("tx.lock_time")?;
    let lock_time = u32::from_le_bytes(lock_time_bytes);
    let whole = r.consumed_since(start);
    let size = whole.len();
    // sha256d(whole): the input's hash when `whole` is the entire input.
    let spans_input = start == 0 && r.remaining() == 0;
    let known = input_hash.filter(|_| spans_input);
    let hash_whole = || known.unwrap_or_else(|| Hash256(sha256d(whole)));
    let (txid, wtxid) = if segwit {
        let txid = Hash256(sha256d_parts(&[&version_bytes, body, &lock_time_bytes]));
        (txid, full_detail.then(hash_whole))
    } else {
        let txid = hash_whole();
        (txid, Some(txid))
    };
    // Stripped size: without marker, flag and witnesses.
    let base_size = if segwit {
        size.saturating_sub(witness_len.saturating_add(2))
    } else {
        size
    };
    let weight = base_size
        .saturating_mul(WITNESS_SCALE_FACTOR - 1)
        .saturating_add(size);
    Ok(Transaction {
        txid,
        wtxid,
        version,
        segwit,
        inputs,
        outputs,
        lock_time,
        size,
        weight,
        vsize: weight.div_ceil(WITNESS_SCALE_FACTOR),
        full_detail,
    })
}
