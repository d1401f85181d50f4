//! A transaction's inputs, outputs and witnesses as zero-copy views.
//!
//! Decoding walks (and so validates) each part once and keeps only the
//! slice it spans and its count: no allocation per transaction. Iterating
//! reads the validated bytes again, which cannot fail.

use crate::p2p::Hash256;
use crate::p2p::reader::{DecodeError, Reader};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutPoint {
    pub txid: Hash256,
    pub vout: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxIn<'a> {
    pub previous_output: OutPoint,
    pub script_sig: &'a [u8],
    pub sequence: u32,
    /// The witness stack (empty for a non-segwit transaction).
    pub witness: WitnessStack<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxOut<'a> {
    /// Satoshis.
    pub value: i64,
    pub script_pubkey: &'a [u8],
}

/// One input's witness stack: its items (each a CompactSize length and
/// the bytes) after the leading count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WitnessStack<'a> {
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

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let mut r = Reader::new(self.raw);
        (0..self.count).map_while(move |_| r.var_bytes("witness_item").ok())
    }

    pub fn to_vec(&self) -> Vec<&'a [u8]> {
        self.iter().collect()
    }

    /// Reads a count and its items at the reader's position.
    fn read(r: &mut Reader<'a>) -> Result<WitnessStack<'a>, DecodeError> {
        let count = r.count("txin.witness_count", super::MAX_SIZE)?;
        let start = r.position();
        for _ in 0..count {
            r.var_bytes("txin.witness_item")?;
        }
        Ok(WitnessStack {
            raw: r.consumed_since(start),
            count,
        })
    }
}

/// The inputs (after their count) and, for a segwit transaction, the
/// witness stacks that belong to them in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxInputs<'a> {
    raw: &'a [u8],
    witnesses: &'a [u8],
    count: u64,
}

fn read_input<'a>(r: &mut Reader<'a>) -> Result<TxIn<'a>, DecodeError> {
    Ok(TxIn {
        previous_output: OutPoint {
            txid: r.hash("txin.prevout.txid")?,
            vout: r.u32_le("txin.prevout.vout")?,
        },
        script_sig: r.var_bytes("txin.script_sig")?,
        sequence: r.u32_le("txin.sequence")?,
        witness: WitnessStack::default(),
    })
}

impl<'a> TxInputs<'a> {
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = TxIn<'a>> + use<'a> {
        let mut inputs = Reader::new(self.raw);
        let mut witnesses = Reader::new(self.witnesses);
        (0..self.count).map_while(move |_| {
            let mut input = read_input(&mut inputs).ok()?;
            if !witnesses.is_empty() {
                input.witness = WitnessStack::read(&mut witnesses).ok()?;
            }
            Some(input)
        })
    }

    pub fn get(&self, index: usize) -> Option<TxIn<'a>> {
        self.iter().nth(index)
    }

    /// Reads `count` inputs at the reader's position.
    pub(super) fn read(r: &mut Reader<'a>, count: u64) -> Result<TxInputs<'a>, DecodeError> {
        let start = r.position();
        for _ in 0..count {
            read_input(r)?;
        }
        Ok(TxInputs {
            raw: r.consumed_since(start),
            witnesses: &[],
            count,
        })
    }

    /// Reads one witness stack per input; true if any is non-empty.
    pub(super) fn read_witnesses(&mut self, r: &mut Reader<'a>) -> Result<bool, DecodeError> {
        let start = r.position();
        let mut any = false;
        for _ in 0..self.count {
            any |= !WitnessStack::read(r)?.is_empty();
        }
        self.witnesses = r.consumed_since(start);
        Ok(any)
    }
}

/// The outputs (after their count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxOutputs<'a> {
    raw: &'a [u8],
    count: u64,
}

fn read_output<'a>(r: &mut Reader<'a>) -> Result<TxOut<'a>, DecodeError> {
    Ok(TxOut {
        value: r.i64_le("txout.value")?,
        script_pubkey: r.var_bytes("txout.script_pubkey")?,
    })
}

impl<'a> TxOutputs<'a> {
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = TxOut<'a>> + use<'a> {
        let mut r = Reader::new(self.raw);
        (0..self.count).map_while(move |_| read_output(&mut r).ok())
    }

    pub fn get(&self, index: usize) -> Option<TxOut<'a>> {
        self.iter().nth(index)
    }

    /// Reads an output count and the outputs at the reader's position.
    pub(super) fn read(r: &mut Reader<'a>) -> Result<TxOutputs<'a>, DecodeError> {
        let count = r.count("tx.output_count", super::MAX_SIZE)?;
        let start = r.position();
        for _ in 0..count {
            read_output(r)?;
        }
        Ok(TxOutputs {
            raw: r.consumed_since(start),
            count,
        })
    }
}
