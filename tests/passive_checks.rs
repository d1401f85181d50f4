//! Passive verification (README, "Passive checks"): real blocks pass;
//! doctored ones (a byte flipped, the frame's checksum recomputed so that
//! only the block itself is wrong) fail with the values involved. Blocks
//! are built and mined (regtest target) with rust-bitcoin, the reference
//! the checks are compared with.

mod support;

use bitcoin::absolute::LockTime;
use bitcoin::block::{Header, Version};
use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::transaction::Version as TxVersion;
use bitcoin::{
    Amount, Block, BlockHash, CompactTarget, OutPoint, ScriptBuf, Sequence, Transaction, TxIn,
    TxMerkleNode, TxOut, Txid, Witness,
};
use serde_json::Value;
use support::{Conn, Pcap, REGTEST, frame, scratch_dir};

fn tx(prev: u8, witness: Option<Vec<u8>>, outputs: Vec<TxOut>) -> Transaction {
    Transaction {
        version: TxVersion::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(Txid::from_byte_array([prev; 32]), 0),
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: witness
                .map(|w| Witness::from_slice(&[w]))
                .unwrap_or_default(),
        }],
        output: outputs,
    }
}

fn pay(sats: u64) -> TxOut {
    TxOut {
        value: Amount::from_sat(sats),
        script_pubkey: ScriptBuf::from_bytes(vec![0x51]),
    }
}

/// A mined regtest block: a coinbase committing to a segwit spend's
/// witness, the segwit spend, a legacy spend.
fn segwit_block() -> Block {
    let mut coinbase = tx(0, Some(vec![0u8; 32]), vec![pay(50)]);
    coinbase.input[0].previous_output = OutPoint::null();
    coinbase.input[0].script_sig = ScriptBuf::from_bytes(vec![0x01, 0x01]);
    let spends = vec![
        tx(1, Some(vec![0xab; 72]), vec![pay(10), pay(20)]),
        tx(2, None, vec![pay(30)]),
    ];
    let mut block = Block {
        header: Header {
            version: Version::TWO,
            prev_blockhash: BlockHash::all_zeros(),
            merkle_root: TxMerkleNode::all_zeros(),
            time: 1_700_000_000,
            bits: CompactTarget::from_consensus(0x207f_ffff),
            nonce: 0,
        },
        txdata: [vec![coinbase], spends].concat(),
    };
    let root = block.witness_root().unwrap();
    let commitment = Block::compute_witness_commitment(&root, &[0u8; 32]);
    let mut script = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
    script.extend_from_slice(commitment.as_byte_array());
    block.txdata[0].output.push(TxOut {
        value: Amount::ZERO,
        script_pubkey: ScriptBuf::from_bytes(script),
    });
    block.header.merkle_root = block.compute_merkle_root().unwrap();
    mine(&mut block.header);
    assert!(block.check_merkle_root() && block.check_witness_commitment());
    block
}

fn mine(header: &mut Header) {
    while header.validate_pow(header.target()).is_err() {
        header.nonce += 1;
    }
}

/// Where `needle` starts in `haystack` (once).
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle in haystack")
}

/// A connection from its SYN: versions, then the client's messages and
/// the server's, one after the other; returns the JSON lines of
/// `btcsniff read`.
fn run(name: &str, exchange: &[(bool, Vec<u8>)]) -> Vec<Value> {
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:50000", "10.0.0.2:18444");
    conn.handshake(&mut pcap);
    conn.versions(&mut pcap, b"/client:1/", b"/server:2/");
    conn.c2s(&mut pcap, &frame(REGTEST, "verack", &[]));
    conn.s2c(&mut pcap, &frame(REGTEST, "verack", &[]));
    for (from_client, bytes) in exchange {
        if *from_client {
            conn.c2s(&mut pcap, bytes);
        } else {
            conn.s2c(&mut pcap, bytes);
        }
    }
    conn.close(&mut pcap);
    let dir = scratch_dir(name);
    let path = dir.join("c.pcap");
    pcap.write(&path);
    let path = path.to_str().expect("UTF-8 path");
    support::run::run_ok(&["read", "--format", "json", path])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn findings(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|l| l["type"] == "finding").collect()
}

fn getdata(type_id: u32, hash: [u8; 32]) -> Vec<u8> {
    let mut p = vec![1u8];
    p.extend_from_slice(&type_id.to_le_bytes());
    p.extend_from_slice(&hash);
    frame(REGTEST, "getdata", &p)
}

fn block_exchange(payload: &[u8], hash: [u8; 32]) -> Vec<(bool, Vec<u8>)> {
    vec![
        (true, getdata(0x4000_0002, hash)),
        (false, frame(REGTEST, "block", payload)),
    ]
}

#[test]
fn a_valid_segwit_block_passes_every_check() {
    let block = segwit_block();
    let hash = block.block_hash().to_byte_array();
    let lines = run("verify-ok", &block_exchange(&serialize(&block), hash));
    assert_eq!(findings(&lines), Vec::<&Value>::new());
    let message = lines.iter().find(|l| l["command"] == "block").unwrap();
    assert_eq!(
        message["payload"]["header"]["hash"],
        block.block_hash().to_string()
    );
}

#[test]
fn a_flipped_transaction_byte_breaks_the_merkle_root() {
    let block = segwit_block();
    let mut payload = serialize(&block);
    // The legacy spend's output value: part of its txid, not of a witness.
    let legacy = serialize(&block.txdata[2]);
    let at = find(&payload, &legacy) + legacy.len() - 4 - 8 - 2;
    payload[at] ^= 0x01;
    let hash = block.block_hash().to_byte_array();
    let lines = run("verify-merkle", &block_exchange(&payload, hash));
    let found = findings(&lines);
    // A legacy transaction's wtxid is its txid: the commitment breaks too.
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0]["kind"], "merkle_root_mismatch");
    assert_eq!(found[0]["header"], block.header.merkle_root.to_string());
    assert_eq!(found[0]["transactions"], 3);
    assert_ne!(found[0]["computed"], found[0]["header"]);
    assert_eq!(found[1]["kind"], "witness_commitment_mismatch");
}

#[test]
fn a_flipped_witness_byte_breaks_the_witness_commitment_only() {
    let block = segwit_block();
    let mut payload = serialize(&block);
    let at = find(&payload, &[0xab; 72]) + 10;
    payload[at] ^= 0x01;
    let hash = block.block_hash().to_byte_array();
    let lines = run("verify-witness", &block_exchange(&payload, hash));
    let found = findings(&lines);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["kind"], "witness_commitment_mismatch");
    assert_eq!(found[0]["detail"], "commitment differs from the witnesses");
    assert_ne!(found[0]["committed"], found[0]["computed"]);
}

#[test]
fn a_header_above_its_target_fails_proof_of_work() {
    let mut block = segwit_block();
    // Mainnet's difficulty 1: a regtest nonce does not meet it (one
    // chance in 2^32).
    block.header.bits = CompactTarget::from_consensus(0x1d00_ffff);
    assert!(block.header.validate_pow(block.header.target()).is_err());
    let hash = block.block_hash().to_byte_array();
    let lines = run("verify-pow", &block_exchange(&serialize(&block), hash));
    let found = findings(&lines);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["kind"], "pow_above_target");
    assert_eq!(found[0]["bits"], "1d00ffff");
    assert_eq!(found[0]["block"], block.block_hash().to_string());
    assert_eq!(
        found[0]["target"],
        "00000000ffff0000000000000000000000000000000000000000000000000000"
    );
}

#[test]
fn headers_that_do_not_chain_are_reported_at_the_break() {
    let first = segwit_block().header;
    let mut second = first;
    second.prev_blockhash = first.block_hash();
    second.time += 600;
    mine(&mut second);
    let mut stray = second;
    stray.prev_blockhash = BlockHash::from_byte_array([9; 32]);
    mine(&mut stray);
    let mut payload = vec![3u8];
    for h in [first, second, stray] {
        payload.extend_from_slice(&serialize(&h));
        payload.push(0);
    }
    let lines = run(
        "verify-headers",
        &[(false, frame(REGTEST, "headers", &payload))],
    );
    let found = findings(&lines);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["kind"], "headers_not_chained");
    assert_eq!(found[0]["index"], 2);
    assert_eq!(found[0]["expected"], second.block_hash().to_string());
    assert_eq!(found[0]["prev_block"], stray.prev_blockhash.to_string());
}

#[test]
fn unsolicited_tx_and_unmatched_pong_but_not_what_was_asked() {
    let asked = tx(5, None, vec![pay(1)]);
    let pushed = tx(6, None, vec![pay(2)]);
    let ping = |n: u64| frame(REGTEST, "ping", &n.to_le_bytes());
    let pong = |n: u64| frame(REGTEST, "pong", &n.to_le_bytes());
    let lines = run(
        "verify-unsolicited",
        &[
            (true, getdata(1, asked.compute_txid().to_byte_array())),
            (false, frame(REGTEST, "tx", &serialize(&asked))),
            (false, frame(REGTEST, "tx", &serialize(&pushed))),
            (true, ping(77)),
            (false, pong(77)),
            (false, pong(78)),
        ],
    );
    let found = findings(&lines);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0]["kind"], "unsolicited");
    assert_eq!(found[0]["command"], "tx");
    assert_eq!(found[0]["hash"], pushed.compute_txid().to_string());
    assert_eq!(found[0]["src"], "10.0.0.2:18444");
    assert_eq!(found[1]["kind"], "unmatched_pong");
    assert_eq!(found[1]["nonce"], "78");
    let end = lines.iter().find(|l| l["event"] == "end").unwrap();
    assert_eq!(end["peer"]["client"]["ping_rtt_ms"]["count"], 1);
    assert_eq!(end["peer"]["server"]["tx"], 2);
}

#[test]
fn real_blocks_and_headers_pass() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut checked = 0;
    for file in [
        data.join("mainnet-2011-ndpi.pcap"),
        data.join("jnewbery-regtest/block.pcap"),
        data.join("jnewbery-regtest/cmpctblock.pcap"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_btcsniff"))
            .args(["read", "--format", "json"])
            .arg(&file)
            .output()
            .unwrap();
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            if matches!(v["command"].as_str(), Some("block" | "cmpctblock")) {
                checked += 1;
            }
            let kind = v["kind"].as_str().unwrap_or("");
            assert!(
                !matches!(
                    kind,
                    "merkle_root_mismatch"
                        | "merkle_tree_mutated"
                        | "pow_above_target"
                        | "bits_invalid"
                        | "witness_commitment_mismatch"
                        | "headers_not_chained"
                        | "unsolicited"
                        | "unmatched_pong"
                ),
                "{}: {line}",
                file.display()
            );
        }
    }
    assert!(checked >= 3, "only {checked} blocks checked");
}
