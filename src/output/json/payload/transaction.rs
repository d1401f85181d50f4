//! Transactions (tx, and inside block, cmpctblock, blocktxn): every field,
//! or the summary without `inputs`, `outputs` (and a skipped `wtxid`) when
//! the decoder was not asked for full detail. With `-v` (`addresses`),
//! each output also has its script type (Core's names) and, where it has
//! one, its address on the network the message was sent on.

use super::super::fields::{Fields, array, key};
use crate::p2p::Network;
use crate::p2p::message::Transaction;
use crate::p2p::message::transaction::{TxIn, TxOut};
use crate::p2p::script::{Address, OutputScript};

pub fn transaction<F: Fields>(tx: &Transaction<'_>, addresses: Option<Network>, f: &mut F) {
    f.field_hash(key!("txid"), &tx.txid);
    if let Some(wtxid) = &tx.wtxid {
        f.field_hash(key!("wtxid"), wtxid);
    }
    f.field_i64(key!("version"), i64::from(tx.version));
    f.field_bool(key!("segwit"), tx.segwit);
    f.field_u64(key!("input_count"), tx.inputs.len());
    f.field_u64(key!("output_count"), tx.outputs.len());
    if tx.full_detail {
        f.key(key!("inputs"));
        array(f, tx.inputs.iter(), |f, input| tx_in(&input, f));
        f.key(key!("outputs"));
        array(f, tx.outputs.iter(), |f, output| {
            tx_out(&output, addresses, f)
        });
    }
    f.field_u64(key!("lock_time"), u64::from(tx.lock_time));
    f.field_u64(key!("size"), tx.size as u64);
    f.field_u64(key!("weight"), tx.weight as u64);
    f.field_u64(key!("vsize"), tx.vsize as u64);
}

/// A transaction as an object of its own (in a list).
pub fn transaction_object<F: Fields>(tx: &Transaction<'_>, addresses: Option<Network>, f: &mut F) {
    f.begin_object();
    transaction(tx, addresses, f);
    f.end_object();
}

fn tx_in<F: Fields>(input: &TxIn<'_>, f: &mut F) {
    f.begin_object();
    f.key(key!("previous_output"));
    f.begin_object();
    f.field_hash(key!("txid"), &input.previous_output.txid);
    f.field_u64(key!("vout"), u64::from(input.previous_output.vout));
    f.end_object();
    f.field_hex(key!("script_sig"), input.script_sig);
    f.field_u64(key!("sequence"), u64::from(input.sequence));
    f.key(key!("witness"));
    array(f, input.witness.iter(), |f, item| f.hex(item));
    f.end_object();
}

fn tx_out<F: Fields>(output: &TxOut<'_>, addresses: Option<Network>, f: &mut F) {
    f.begin_object();
    f.field_i64(key!("value"), output.value);
    f.field_hex(key!("script_pubkey"), output.script_pubkey);
    if let Some(network) = addresses {
        script_and_address(output.script_pubkey, network, f);
    }
    f.end_object();
}

/// `script_type`, and `address` where the script has one on `network`.
fn script_and_address<F: Fields>(script_pubkey: &[u8], network: Network, f: &mut F) {
    let script = OutputScript::classify(script_pubkey);
    f.field_name(key!("script_type"), script.script_type.name());
    if let Some(address) = script.destination.and_then(|d| Address::new(d, network)) {
        f.field_str(key!("address"), address.text().as_str());
    }
}
