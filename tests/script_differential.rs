//! Differential: the script type and address btcsniff gives a
//! scriptPubKey against rust-bitcoin's (tests/bitcoin_json/script.rs:
//! its template predicates in the order of Core's Solver, and
//! `Address::from_script`), on scripts of every template and their near
//! misses (tests/script_strategy), on every network.

mod bitcoin_json;
mod script_strategy;

use bitcoin::{Network as Theirs, Script};
use btcsniff::p2p::Network;
use btcsniff::p2p::script::{Address, OutputScript};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::collections::BTreeMap;

const NETWORKS: [(Network, Theirs); 5] = [
    (Network::Mainnet, Theirs::Bitcoin),
    (Network::Testnet3, Theirs::Testnet),
    (Network::Testnet4, Theirs::Testnet4),
    (Network::Signet, Theirs::Signet),
    (Network::Regtest, Theirs::Regtest),
];

fn same_as_rust_bitcoin(script: &[u8]) {
    let ours = OutputScript::classify(script);
    let theirs = Script::from_bytes(script);
    assert_eq!(
        ours.script_type.name(),
        bitcoin_json::script::script_type(theirs),
        "script {}",
        hex::encode(script)
    );
    for (network, their_network) in NETWORKS {
        let address = ours
            .destination
            .and_then(|d| Address::new(d, network))
            .map(|a| a.to_string());
        assert_eq!(
            address,
            bitcoin_json::script::address(theirs, their_network),
            "script {} on {network}",
            hex::encode(script)
        );
    }
    // No address where the network's prefixes are unknown.
    let unknown = ours
        .destination
        .and_then(|d| Address::new(d, Network::Unknown([1, 2, 3, 4])));
    assert!(unknown.is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn type_and_address_match_rust_bitcoin(script in script_strategy::script_pubkey()) {
        same_as_rust_bitcoin(&script);
    }
}

/// The generator reaches every type (else the property above would say
/// little about it).
#[test]
fn scripts_of_every_type_are_generated() {
    let mut runner = TestRunner::deterministic();
    let strategy = script_strategy::script_pubkey();
    let mut seen = BTreeMap::<&str, usize>::new();
    for _ in 0..4096 {
        let script = strategy.new_tree(&mut runner).unwrap().current();
        *seen
            .entry(OutputScript::classify(&script).script_type.name())
            .or_default() += 1;
    }
    let all = [
        "nonstandard",
        "anchor",
        "pubkey",
        "pubkeyhash",
        "scripthash",
        "multisig",
        "nulldata",
        "witness_v0_scripthash",
        "witness_v0_keyhash",
        "witness_v1_taproot",
        "witness_unknown",
    ];
    for name in all {
        assert!(
            seen.get(name).copied().unwrap_or(0) >= 10,
            "{name}: {seen:?}"
        );
    }
}

/// Edge cases by hand: every one compared as above.
#[test]
fn edge_cases_match_rust_bitcoin() {
    let key33 = [&[0x02][..], &[0x11; 32]].concat();
    let key65 = [&[0x04][..], &[0x22; 64]].concat();
    let keys = |n: usize| -> Vec<u8> {
        std::iter::repeat_n(script_strategy::push(&key33, 0), n)
            .flatten()
            .collect()
    };
    let mut cases: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x6a],
        vec![0x6a, 0x4c],
        vec![0x6a, 0x4d, 0x01],
        vec![0x6a, 0x4e, 0xff, 0xff, 0xff, 0xff],
        vec![0x6a, 0x50],
        vec![0x6a, 0x4f, 0x60],
        vec![0x6a, 0x61],
        vec![0x51, 0x02, 0x4e, 0x73],
        vec![0x00, 0x02, 0x4e, 0x73],
        vec![0x60, 0x02, 0x00, 0x00],
        vec![0x51, 0x01, 0x00],
        [&[0x51, 0x28][..], &[0x33; 40]].concat(),
        [&[0x51, 0x29][..], &[0x33; 41]].concat(),
        [&[0x00, 0x14][..], &[0x44; 20]].concat(),
        [&[0x00, 0x15][..], &[0x44; 21]].concat(),
        [&[0x41][..], &key65, &[0xac]].concat(),
        [&[0x21][..], &key65[..33], &[0xac]].concat(),
        [&[0x51][..], &keys(1), &[0x51, 0xae]].concat(),
        [
            &[0x51][..],
            &script_strategy::push(&key33, 1),
            &[0x51, 0xae],
        ]
        .concat(),
        [&[0x52][..], &keys(1), &[0x51, 0xae]].concat(),
        [&[0x01, 0x01][..], &keys(1), &[0x51, 0xae]].concat(),
        [&[0x51][..], &keys(16), &[0x60, 0xae]].concat(),
        [&[0x51][..], &keys(17), &[0x01, 0x11, 0xae]].concat(),
        [&[0x01, 0x14][..], &keys(20), &[0x01, 0x14, 0xae]].concat(),
        [&[0x51][..], &keys(21), &[0x01, 0x15, 0xae]].concat(),
        [&[0x51][..], &keys(17), &[0x02, 0x11, 0x00, 0xae]].concat(),
        [&[0x51][..], &keys(1), &[0x51, 0xae, 0xae]].concat(),
        [&[0x51][..], &keys(1), &[0x51]].concat(),
        vec![0x51, 0x00, 0xae],
        vec![0xae],
    ];
    for m in 1..=3u8 {
        for n in m..=3 {
            cases.push([&[0x50 + m][..], &keys(n.into()), &[0x50 + n, 0xae]].concat());
        }
    }
    for script in &cases {
        same_as_rust_bitcoin(script);
    }
}
