//! Differential tests, block data: random tx / block / headers /
//! merkleblock / cmpctblock / getblocktxn / blocktxn values encoded by
//! rust-bitcoin 0.32, decoded by ours, every field compared (txid, wtxid
//! and block hashes as rust-bitcoin computes them), and the JSON line
//! compared with the payload built from rust-bitcoin's values
//! (tests/bitcoin_json).

mod bitcoin_json;
mod script_strategy;

use bitcoin::absolute::LockTime;
use bitcoin::bip152::{BlockTransactions, BlockTransactionsRequest, HeaderAndShortIds};
use bitcoin::bip152::{PrefilledTransaction, ShortId};
use bitcoin::block::{Header, Version as BlockVersion};
use bitcoin::hashes::Hash;
use bitcoin::p2p::Magic;
use bitcoin::p2p::message::{NetworkMessage, RawNetworkMessage};
use bitcoin::p2p::message_compact_blocks::{BlockTxn, CmpctBlock, GetBlockTxn};
use bitcoin::{Amount, BlockHash, CompactTarget, MerkleBlock, OutPoint, ScriptBuf, Sequence};
use bitcoin::{Transaction, TxIn, TxMerkleNode, TxOut, Txid, Witness};
use btcsniff::p2p::frame::{Checksum, Command, FrameDecoder, FrameEvent};
use btcsniff::p2p::message::{self, DecodeContext, Message};
use proptest::prelude::*;

/// Encodes with rust-bitcoin, frames and decodes with ours (full detail,
/// with and without the payload hash the framing decoder kept; and checks
/// the JSON of the summary form too).
fn roundtrip(msg: NetworkMessage, check: impl Fn(&Message<'_>)) {
    roundtrip_on(bitcoin::Network::Bitcoin, msg, check);
}

/// [`roundtrip`] on `network`: with full detail (as `-v`), the JSON's
/// addresses are written for the network of the frame's magic.
fn roundtrip_on(network: bitcoin::Network, msg: NetworkMessage, check: impl Fn(&Message<'_>)) {
    let summary = bitcoin_json::payload(&msg, false, None).expect("covered");
    let whole = bitcoin_json::payload(&msg, true, Some(network)).expect("covered");
    let raw = RawNetworkMessage::new(Magic::from(network), msg);
    let bytes = bitcoin::consensus::serialize(&raw);
    let mut framer = FrameDecoder::new();
    framer.push(&bytes);
    let Some(FrameEvent::Frame(frame)) = framer.next_event() else {
        panic!("rust-bitcoin's message does not frame")
    };
    assert_eq!(frame.checksum, Checksum::Valid);
    let payload = frame.payload;
    assert_eq!(payload, &bytes[24..]);
    let decode = |full_detail, payload_hash| {
        let ctx = DecodeContext {
            peer_version: None,
            full_detail,
            payload_hash,
        };
        let decoded = message::decode(&Command::new(raw.cmd()), payload, &ctx);
        assert!(decoded.anomalies.is_empty(), "{:?}", decoded.anomalies);
        let m = decoded.message.expect("decodes");
        assert_eq!(m.command(), raw.cmd());
        m
    };
    let on = Some(frame.network);
    same_json(&decode(false, None), None, &summary);
    let m = decode(true, None);
    same_json(&m, on, &whole);
    check(&m);
    // As the pipeline decodes: a standalone tx's txid or wtxid then comes
    // from the hash computed for the checksum.
    let m = decode(true, frame.payload_hash);
    same_json(&m, on, &whole);
    check(&m);
}

/// The JSON sink's line is byte for byte the payload built from
/// rust-bitcoin's values.
fn same_json(
    m: &Message<'_>,
    addresses: Option<btcsniff::p2p::Network>,
    expected: &serde_json::Value,
) {
    let mut line = Vec::new();
    btcsniff::output::json::write_payload(&mut line, m, addresses);
    assert_eq!(String::from_utf8(line).unwrap(), expected.to_string());
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn arb_txin() -> impl Strategy<Value = TxIn> {
    (
        any::<[u8; 32]>(),
        any::<u32>(),
        bytes(80),
        any::<u32>(),
        prop::collection::vec(bytes(80), 0..4),
    )
        .prop_map(|(txid, vout, script, seq, witness)| TxIn {
            previous_output: OutPoint {
                txid: Txid::from_byte_array(txid),
                vout,
            },
            script_sig: ScriptBuf::from_bytes(script),
            sequence: Sequence(seq),
            witness: Witness::from_slice(&witness),
        })
}

fn arb_tx() -> impl Strategy<Value = Transaction> {
    // At least one input: a legacy tx without inputs is ambiguous with the
    // segwit marker (Core and rust-bitcoin both read it as segwit).
    (
        any::<i32>(),
        prop::collection::vec(arb_txin(), 1..4),
        prop::collection::vec(
            (0..=i64::MAX as u64, script_strategy::script_pubkey()),
            0..4,
        ),
        any::<u32>(),
    )
        .prop_map(|(version, input, outputs, lock)| Transaction {
            version: bitcoin::transaction::Version(version),
            lock_time: LockTime::from_consensus(lock),
            input,
            output: outputs
                .into_iter()
                .map(|(v, s)| TxOut {
                    value: Amount::from_sat(v),
                    script_pubkey: ScriptBuf::from_bytes(s),
                })
                .collect(),
        })
}

fn arb_network() -> impl Strategy<Value = bitcoin::Network> {
    prop::sample::select(vec![
        bitcoin::Network::Bitcoin,
        bitcoin::Network::Testnet,
        bitcoin::Network::Testnet4,
        bitcoin::Network::Signet,
        bitcoin::Network::Regtest,
    ])
}

fn arb_header() -> impl Strategy<Value = Header> {
    (
        any::<i32>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(v, prev, merkle, time, bits, nonce)| Header {
            version: BlockVersion::from_consensus(v),
            prev_blockhash: BlockHash::from_byte_array(prev),
            merkle_root: TxMerkleNode::from_byte_array(merkle),
            time,
            bits: CompactTarget::from_consensus(bits),
            nonce,
        })
}

fn check_tx(ours: &message::Transaction<'_>, theirs: &Transaction, want_wtxid: bool) {
    assert_eq!(ours.txid.0, theirs.compute_txid().to_byte_array());
    if want_wtxid {
        assert_eq!(
            ours.wtxid.map(|h| h.0),
            Some(theirs.compute_wtxid().to_byte_array())
        );
    }
    assert_eq!(ours.version, theirs.version.0);
    assert_eq!(ours.lock_time, theirs.lock_time.to_consensus_u32());
    assert_eq!(
        ours.segwit,
        theirs.input.iter().any(|i| !i.witness.is_empty())
    );
    assert_eq!(ours.size, theirs.total_size());
    assert_eq!(ours.weight as u64, theirs.weight().to_wu());
    assert_eq!(ours.vsize, theirs.vsize());
    assert_eq!(ours.inputs.len(), theirs.input.len() as u64);
    for (a, b) in ours.inputs.iter().zip(&theirs.input) {
        assert_eq!(
            a.previous_output.txid.0,
            b.previous_output.txid.to_byte_array()
        );
        assert_eq!(a.previous_output.vout, b.previous_output.vout);
        assert_eq!(a.script_sig, b.script_sig.as_bytes());
        assert_eq!(a.sequence, b.sequence.0);
        assert_eq!(a.witness.to_vec(), b.witness.iter().collect::<Vec<_>>());
        assert_eq!(a.witness.len(), b.witness.len() as u64);
    }
    assert_eq!(ours.outputs.len(), theirs.output.len() as u64);
    for (a, b) in ours.outputs.iter().zip(&theirs.output) {
        assert_eq!(a.value as u64, b.value.to_sat());
        assert_eq!(a.script_pubkey, b.script_pubkey.as_bytes());
    }
}

fn check_header(ours: &message::BlockHeader, theirs: &Header) {
    assert_eq!(ours.hash.0, theirs.block_hash().to_byte_array());
    assert_eq!(ours.version, theirs.version.to_consensus());
    assert_eq!(ours.prev_block.0, theirs.prev_blockhash.to_byte_array());
    assert_eq!(ours.merkle_root.0, theirs.merkle_root.to_byte_array());
    assert_eq!(ours.time, theirs.time);
    assert_eq!(ours.bits, theirs.bits.to_consensus());
    assert_eq!(ours.nonce, theirs.nonce);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn tx(t in arb_tx(), network in arb_network()) {
        roundtrip_on(network, NetworkMessage::Tx(t.clone()), |m| {
            let Message::Tx(ours) = m else { panic!("{m:?}") };
            check_tx(ours, &t, true);
        });
    }

    #[test]
    fn block(header in arb_header(), txs in prop::collection::vec(arb_tx(), 0..4), network in arb_network()) {
        let b = bitcoin::Block { header, txdata: txs };
        roundtrip_on(network, NetworkMessage::Block(b.clone()), |m| {
            let Message::Block(ours) = m else { panic!("{m:?}") };
            check_header(&ours.header, &b.header);
            assert_eq!(ours.transactions.len(), b.txdata.len());
            for (a, t) in ours.transactions.iter().zip(&b.txdata) {
                check_tx(a, t, true);
            }
        });
    }

    #[test]
    fn headers(hs in prop::collection::vec(arb_header(), 0..5)) {
        roundtrip(NetworkMessage::Headers(hs.clone()), |m| {
            let Message::Headers(ours) = m else { panic!("{m:?}") };
            assert_eq!(ours.headers.len(), hs.len());
            for (a, b) in ours.headers.iter().zip(&hs) {
                check_header(&a.header, b);
                assert_eq!(a.tx_count, 0);
            }
        });
    }

    #[test]
    fn merkleblock(
        header in arb_header(),
        leaves in prop::collection::vec((any::<[u8; 32]>(), any::<bool>()), 1..12),
    ) {
        let txids: Vec<Txid> = leaves.iter().map(|(h, _)| Txid::from_byte_array(*h)).collect();
        let matches: Vec<bool> = leaves.iter().map(|(_, m)| *m).collect();
        let txn = bitcoin::merkle_tree::PartialMerkleTree::from_txids(&txids, &matches);
        let mb = MerkleBlock { header, txn };
        roundtrip(NetworkMessage::MerkleBlock(mb.clone()), |m| {
            let Message::MerkleBlock(ours) = m else { panic!("{m:?}") };
            check_header(&ours.header, &mb.header);
            assert_eq!(ours.total_transactions, mb.txn.num_transactions());
            let hashes: Vec<[u8; 32]> = mb.txn.hashes().iter().map(|h| h.to_byte_array()).collect();
            assert_eq!(ours.hashes.iter().map(|h| h.0).collect::<Vec<_>>(), hashes);
            // Flags: bits packed LSB first into bytes.
            let mut packed = vec![0u8; mb.txn.bits().len().div_ceil(8)];
            for (i, bit) in mb.txn.bits().iter().enumerate() {
                packed[i / 8] |= u8::from(*bit) << (i % 8);
            }
            assert_eq!(ours.flags, &packed[..]);
        });
    }

    #[test]
    fn cmpctblock(
        header in arb_header(),
        nonce in any::<u64>(),
        short_ids in prop::collection::vec(any::<[u8; 6]>(), 0..6),
        prefilled in prop::collection::vec((0u16..300, arb_tx()), 0..3),
    ) {
        let compact_block = HeaderAndShortIds {
            header,
            nonce,
            short_ids: short_ids.iter().map(|s| ShortId::from(*s)).collect(),
            // rust-bitcoin keeps `idx` in its differential form.
            prefilled_txs: prefilled
                .iter()
                .map(|(idx, tx)| PrefilledTransaction { idx: *idx, tx: tx.clone() })
                .collect(),
        };
        roundtrip(NetworkMessage::CmpctBlock(CmpctBlock { compact_block }), |m| {
            let Message::CmpctBlock(ours) = m else { panic!("{m:?}") };
            check_header(&ours.header, &header);
            assert_eq!(ours.nonce, nonce);
            let mut line = Vec::new();
            btcsniff::output::json::write_payload(&mut line, m, None);
            let json: serde_json::Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(json["nonce"], nonce.to_string());
            assert_eq!(ours.short_ids, short_ids);
            let mut next = 0u32;
            for (a, (diff, tx)) in ours.prefilled_txs.iter().zip(&prefilled) {
                assert_eq!(a.index, next + u32::from(*diff));
                next = a.index + 1;
                check_tx(&a.tx, tx, true);
            }
            assert_eq!(ours.prefilled_txs.len(), prefilled.len());
        });
    }

    #[test]
    fn getblocktxn(hash in any::<[u8; 32]>(), set in prop::collection::btree_set(0u64..=65_535, 0..20)) {
        let indexes: Vec<u64> = set.into_iter().collect();
        let txs_request = BlockTransactionsRequest {
            block_hash: BlockHash::from_byte_array(hash),
            indexes: indexes.clone(),
        };
        roundtrip(NetworkMessage::GetBlockTxn(GetBlockTxn { txs_request }), |m| {
            let Message::GetBlockTxn(ours) = m else { panic!("{m:?}") };
            assert_eq!(ours.block_hash.0, hash);
            assert_eq!(ours.indexes.iter().map(|&i| u64::from(i)).collect::<Vec<_>>(), indexes);
        });
    }

    #[test]
    fn blocktxn(hash in any::<[u8; 32]>(), txs in prop::collection::vec(arb_tx(), 0..4)) {
        let transactions = BlockTransactions {
            block_hash: BlockHash::from_byte_array(hash),
            transactions: txs.clone(),
        };
        roundtrip(NetworkMessage::BlockTxn(BlockTxn { transactions }), |m| {
            let Message::BlockTxn(ours) = m else { panic!("{m:?}") };
            assert_eq!(ours.block_hash.0, hash);
            assert_eq!(ours.transactions.len(), txs.len());
            for (a, t) in ours.transactions.iter().zip(&txs) {
                check_tx(a, t, true);
            }
        });
    }
}

#[test]
fn block_without_full_detail_skips_segwit_wtxids_only() {
    let segwit = Transaction {
        version: bitcoin::transaction::Version(2),
        lock_time: LockTime::from_consensus(0),
        input: vec![TxIn {
            witness: Witness::from_slice(&[[1u8; 3]]),
            ..TxIn::default()
        }],
        output: vec![],
    };
    let b = bitcoin::Block {
        header: Header {
            version: BlockVersion::from_consensus(1),
            prev_blockhash: BlockHash::all_zeros(),
            merkle_root: TxMerkleNode::all_zeros(),
            time: 0,
            bits: CompactTarget::from_consensus(0),
            nonce: 0,
        },
        txdata: vec![segwit.clone()],
    };
    let bytes = bitcoin::consensus::serialize(&b);
    let d = message::decode(&Command::new("block"), &bytes, &DecodeContext::default());
    let Ok(Message::Block(ours)) = d.message else {
        panic!("{d:?}")
    };
    assert_eq!(
        ours.transactions[0].txid.0,
        segwit.compute_txid().to_byte_array()
    );
    assert_eq!(ours.transactions[0].wtxid, None);
    assert!(ours.transactions[0].segwit);
}
