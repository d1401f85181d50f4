//! Transactions (tx, and inside block / cmpctblock / blocktxn).
//!
//! txid and wtxid are hashed over the payload's own bytes: the txid of a
//! segwit transaction is sha256d over three slices (version, inputs and
//! outputs, lock time) that skip the marker, flag and witnesses.

use super::MAX_SIZE;
use super::text;
use crate::p2p::Hash256;
use crate::p2p::hash::{as_hex, sha256d, sha256d_parts};
use crate::p2p::reader::{DecodeError, Reader};
use serde::Serialize;

/// Weight units per non-witness byte (BIP141 WITNESS_SCALE_FACTOR).
pub const WITNESS_SCALE_FACTOR: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutPoint {
    pub txid: Hash256,
    pub vout: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TxIn<'a> {
    pub previous_output: OutPoint,
    #[serde(serialize_with = "as_hex")]
    pub script_sig: &'a [u8],
    pub sequence: u32,
    /// The witness stack (empty for a non-segwit transaction).
    pub witness: WitnessStack<'a>,
}

/// A witness stack kept as its wire bytes (count already read, items
/// validated), so decoding allocates nothing per input; items are read
/// again on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WitnessStack<'a> {
    /// The items, each a CompactSize length and its bytes.
    raw: &'a [u8],
    count: u64,
}

impl<'a> WitnessStack<'a> {
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The items' bytes (raw excludes the leading count).
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let mut r = Reader::new(self.raw);
        (0..self.count).map_while(move |_| r.var_bytes("witness_item").ok())
    }

    pub fn to_vec(&self) -> Vec<&'a [u8]> {
        self.iter().collect()
    }
}

impl Serialize for WitnessStack<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        text::hex_list(&self.to_vec(), s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TxOut<'a> {
    /// Satoshis.
    pub value: i64,
    #[serde(serialize_with = "as_hex")]
    pub script_pubkey: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction<'a> {
    pub txid: Hash256,
    /// None when the caller asked to skip it (blocks without full detail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wtxid: Option<Hash256>,
    pub version: i32,
    /// Serialised with the BIP144 marker and flag.
    pub segwit: bool,
    pub inputs: Vec<TxIn<'a>>,
    pub outputs: Vec<TxOut<'a>>,
    pub lock_time: u32,
    /// Bytes on the wire, witness included.
    pub size: usize,
    pub weight: usize,
    pub vsize: usize,
}

fn read_inputs<'a>(r: &mut Reader<'a>, count: u64) -> Result<Vec<TxIn<'a>>, DecodeError> {
    // Smallest input: outpoint 36, script length 1, sequence 4.
    let mut inputs = Vec::with_capacity(r.capacity_for(count, 41));
    for _ in 0..count {
        inputs.push(TxIn {
            previous_output: OutPoint {
                txid: r.hash("txin.prevout.txid")?,
                vout: r.u32_le("txin.prevout.vout")?,
            },
            script_sig: r.var_bytes("txin.script_sig")?,
            sequence: r.u32_le("txin.sequence")?,
            witness: WitnessStack::default(),
        });
    }
    Ok(inputs)
}

fn read_outputs<'a>(r: &mut Reader<'a>) -> Result<Vec<TxOut<'a>>, DecodeError> {
    let count = r.count("tx.output_count", MAX_SIZE)?;
    // Smallest output: value 8, script length 1.
    let mut outputs = Vec::with_capacity(r.capacity_for(count, 9));
    for _ in 0..count {
        outputs.push(TxOut {
            value: r.i64_le("txout.value")?,
            script_pubkey: r.var_bytes("txout.script_pubkey")?,
        });
    }
    Ok(outputs)
}

/// Decodes one transaction at the reader's position, Core's way: an empty
/// input vector followed by a non-zero byte means BIP144 (that byte is the
/// flag); an empty input vector followed by 0 is a transaction without
/// inputs and outputs. `want_wtxid` false skips the wtxid hash of a segwit
/// transaction (for a legacy one it equals the txid and costs nothing).
pub fn read_transaction<'a>(
    r: &mut Reader<'a>,
    want_wtxid: bool,
) -> Result<Transaction<'a>, DecodeError> {
    let start = r.position();
    let version = r.i32_le("tx.version")?;
    let mut body_start = r.position();
    let mut input_count = r.count("tx.input_count", MAX_SIZE)?;
    let mut segwit = false;
    let mut outputs = Vec::new();
    let mut inputs = Vec::new();
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
            inputs = read_inputs(r, input_count)?;
            outputs = read_outputs(r)?;
        }
        // flag 0: that byte was the (empty) output count.
    } else {
        inputs = read_inputs(r, input_count)?;
        outputs = read_outputs(r)?;
    }
    let body = r.consumed_since(body_start);
    let witness_start = r.position();
    if segwit {
        let mut any_witness = false;
        for input in &mut inputs {
            let count = r.count("txin.witness_count", MAX_SIZE)?;
            let items_start = r.position();
            for _ in 0..count {
                r.var_bytes("txin.witness_item")?;
            }
            input.witness = WitnessStack {
                raw: r.consumed_since(items_start),
                count,
            };
            any_witness |= count > 0;
        }
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
    let lock_time_bytes = r.bytes(4, "tx.lock_time")?;
    let lock_time = u32::from_le_bytes(lock_time_bytes.try_into().unwrap_or([0; 4]));
    let whole = r.consumed_since(start);
    let size = whole.len();
    let (txid, wtxid) = if segwit {
        let version_bytes = whole.get(..4).unwrap_or(&[]);
        let txid = Hash256(sha256d_parts(&[version_bytes, body, lock_time_bytes]));
        (txid, want_wtxid.then(|| Hash256(sha256d(whole))))
    } else {
        let txid = Hash256(sha256d(whole));
        (txid, Some(txid))
    };
    // Stripped size: without marker, flag and witnesses.
    let base_size = if segwit {
        size.saturating_sub(2 + witness_len)
    } else {
        size
    };
    let weight = base_size * (WITNESS_SCALE_FACTOR - 1) + size;
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
    })
}
