//! Script types and addresses of transaction outputs through the binary:
//! a `tx` and a `block` on each network (the address prefixes follow the
//! flow's magic), every output's `script_type` and `address` as
//! rust-bitcoin gives them (tests/bitcoin_json/script.rs), the `-v` text
//! tree showing the same values as the JSON, and none of it without `-v`
//! (the `tx` message's outputs keep value and script only).

mod bitcoin_json;
mod support;

use bitcoin::absolute::LockTime;
use bitcoin::block::{Header, Version as BlockVersion};
use bitcoin::hashes::Hash;
use bitcoin::{
    Amount, BlockHash, CompactTarget, ScriptBuf, Transaction, TxIn, TxMerkleNode, TxOut,
};
use serde_json::Value;
use support::run::{json_lines, of_type, run, scratch_dir};
use support::{Conn, Pcap, frame};

/// One script of each type (and a v0 program of an odd size).
fn scripts() -> Vec<Vec<u8>> {
    let key33 = [&[0x03][..], &[0x5a; 32]].concat();
    let key65 = [&[0x04][..], &[0x6b; 64]].concat();
    vec![
        [&[0x76, 0xa9, 0x14][..], &[0x11; 20], &[0x88, 0xac]].concat(),
        [&[0xa9, 0x14][..], &[0x22; 20], &[0x87]].concat(),
        [&[0x00, 0x14][..], &[0x33; 20]].concat(),
        [&[0x00, 0x20][..], &[0x44; 32]].concat(),
        [&[0x51, 0x20][..], &[0x55; 32]].concat(),
        vec![0x51, 0x02, 0x4e, 0x73],
        [&[0x52, 0x10][..], &[0x66; 16]].concat(),
        [&[0x00, 0x18][..], &[0x77; 24]].concat(),
        vec![0x6a, 0x04, 0xde, 0xad, 0xbe, 0xef],
        [&[0x51, 0x21][..], &key33, &[0x41], &key65, &[0x52, 0xae]].concat(),
        [&[0x41][..], &key65, &[0xac]].concat(),
        vec![],
        vec![0x61],
    ]
}

fn transaction() -> Transaction {
    Transaction {
        version: bitcoin::transaction::Version(2),
        lock_time: LockTime::from_consensus(0),
        input: vec![TxIn::default()],
        output: scripts()
            .into_iter()
            .enumerate()
            .map(|(i, s)| TxOut {
                value: Amount::from_sat(1000 + i as u64),
                script_pubkey: ScriptBuf::from_bytes(s),
            })
            .collect(),
    }
}

/// A capture of one flow on `magic`'s network: the tx, then a block of it.
fn capture(name: &str, magic: [u8; 4], port: u16) -> std::path::PathBuf {
    let tx = transaction();
    let block = bitcoin::Block {
        header: Header {
            version: BlockVersion::from_consensus(4),
            prev_blockhash: BlockHash::all_zeros(),
            merkle_root: TxMerkleNode::all_zeros(),
            time: 1_700_000_000,
            bits: CompactTarget::from_consensus(0x207f_ffff),
            nonce: 0,
        },
        txdata: vec![tx.clone()],
    };
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:40000", &format!("10.0.0.2:{port}"));
    conn.handshake(&mut pcap);
    conn.s2c(
        &mut pcap,
        &frame(magic, "tx", &bitcoin::consensus::serialize(&tx)),
    );
    conn.s2c(
        &mut pcap,
        &frame(magic, "block", &bitcoin::consensus::serialize(&block)),
    );
    let path = scratch_dir("cli_addresses").join(format!("{name}.pcap"));
    pcap.write(&path);
    path
}

/// `(script_type, address)` of every output the JSON lines show.
fn json_outputs(lines: &[Value]) -> Vec<(String, Option<String>)> {
    let mut all = Vec::new();
    for m in of_type(lines, "message") {
        let payload = &m["payload"];
        let txs = match m["command"].as_str() {
            Some("tx") => vec![payload.clone()],
            _ => payload["transactions"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        };
        for tx in txs {
            for out in tx["outputs"].as_array().into_iter().flatten() {
                all.push((
                    out["script_type"].as_str().unwrap().to_string(),
                    out["address"].as_str().map(str::to_string),
                ));
            }
        }
    }
    all
}

/// The same pairs from the `-v` tree: an `address:` line belongs to the
/// `script_type:` line above it.
fn text_outputs(text: &str) -> Vec<(String, Option<String>)> {
    let mut all: Vec<(String, Option<String>)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(t) = line.strip_prefix("script_type: ") {
            all.push((t.to_string(), None));
        } else if let Some(a) = line.strip_prefix("address: ") {
            all.last_mut().expect("address after script_type").1 = Some(a.to_string());
        }
    }
    all
}

#[test]
fn outputs_show_type_and_address_of_the_flows_network() {
    let networks = [
        (
            "mainnet",
            [0xf9, 0xbe, 0xb4, 0xd9],
            8333,
            bitcoin::Network::Bitcoin,
        ),
        (
            "testnet3",
            [0x0b, 0x11, 0x09, 0x07],
            18333,
            bitcoin::Network::Testnet,
        ),
        (
            "testnet4",
            [0x1c, 0x16, 0x3f, 0x28],
            48333,
            bitcoin::Network::Testnet4,
        ),
        (
            "signet",
            [0x0a, 0x03, 0xcf, 0x40],
            38333,
            bitcoin::Network::Signet,
        ),
        (
            "regtest",
            [0xfa, 0xbf, 0xb5, 0xda],
            18444,
            bitcoin::Network::Regtest,
        ),
    ];
    for (name, magic, port, theirs) in networks {
        let path = capture(name, magic, port);
        let path = path.to_str().unwrap();
        let expected: Vec<(String, Option<String>)> = scripts()
            .iter()
            .map(|s| {
                let s = bitcoin::Script::from_bytes(s);
                (
                    bitcoin_json::script::script_type(s).to_string(),
                    bitcoin_json::script::address(s, theirs),
                )
            })
            .collect();
        // The tx, and with -v the block's copy of it.
        let json = run(&["read", path, "--format", "json", "-v"]);
        assert!(json.status.success(), "{json:?}");
        let lines = json_lines(&json);
        assert!(
            of_type(&lines, "message")
                .iter()
                .all(|m| m["network"] == name)
        );
        let outputs = json_outputs(&lines);
        assert_eq!(
            outputs,
            [expected.clone(), expected.clone()].concat(),
            "{name}"
        );
        let text = run(&["read", path, "-v"]);
        assert!(text.status.success(), "{text:?}");
        assert_eq!(
            text_outputs(&String::from_utf8_lossy(&text.stdout)),
            outputs,
            "{name}"
        );
        // Without -v: the tx's outputs without type or address (the
        // block's transactions are summaries), and no tree in the text.
        let summary = run(&["read", path, "--format", "json"]);
        let summary = json_lines(&summary);
        let tx = of_type(&summary, "message")
            .into_iter()
            .find(|m| m["command"] == "tx")
            .expect("the tx");
        let outputs = tx["payload"]["outputs"].as_array().unwrap();
        assert_eq!(outputs.len(), expected.len());
        for out in outputs {
            let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["value", "script_pubkey"], "{name}");
        }
        let text = run(&["read", path]);
        assert!(!String::from_utf8_lossy(&text.stdout).contains("address"));
    }
}

/// Every type appears above, and an address where Core gives one.
#[test]
fn the_scripts_cover_every_type() {
    let types: Vec<&str> = scripts()
        .iter()
        .map(|s| bitcoin_json::script::script_type(bitcoin::Script::from_bytes(s)))
        .collect();
    for name in [
        "pubkeyhash",
        "scripthash",
        "witness_v0_keyhash",
        "witness_v0_scripthash",
        "witness_v1_taproot",
        "anchor",
        "witness_unknown",
        "nulldata",
        "multisig",
        "pubkey",
        "nonstandard",
    ] {
        assert!(types.contains(&name), "{name}");
    }
}

/// With -v, addresses and all, the bytes do not depend on --threads.
#[test]
fn verbose_output_is_the_same_with_any_thread_count() {
    let path = capture("threads", [0xfa, 0xbf, 0xb5, 0xda], 18444);
    let path = path.to_str().unwrap();
    for format in ["json", "text"] {
        let out = |threads: &str| {
            let out = run(&[
                "read",
                path,
                "-q",
                "-v",
                "--format",
                format,
                "--threads",
                threads,
            ]);
            assert!(out.status.success(), "{out:?}");
            out.stdout
        };
        let one = out("1");
        assert!(String::from_utf8_lossy(&one).contains("bcrt1"));
        for threads in ["2", "3"] {
            assert!(out(threads) == one, "{format}: --threads {threads} differs");
        }
    }
}
