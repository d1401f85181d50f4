//! Hostile input: random and truncated payloads never panic, lying counts
//! do not allocate, and what Core would object to is reported.

use btcsniff::p2p::frame::Command;
use btcsniff::p2p::message::{self, DecodeContext, Decoded, Message};
use btcsniff::p2p::{Anomaly, DecodeError};
use proptest::prelude::*;

/// Every known command, plus one that is not.
const COMMANDS: [&str; 38] = {
    let mut all = ["checkorder"; 38];
    let mut i = 0;
    while i < message::KNOWN_COMMANDS.len() {
        all[i] = message::KNOWN_COMMANDS[i];
        i += 1;
    }
    all
};

// The genesis block (well known).
const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c0101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";

fn dec<'a>(cmd: &str, payload: &'a [u8]) -> Decoded<'a> {
    message::decode(&Command::new(cmd), payload, &DecodeContext::default())
}

fn offset_of(e: &DecodeError) -> usize {
    match e {
        DecodeError::UnexpectedEnd { offset, .. } | DecodeError::Invalid { offset, .. } => *offset,
    }
}

/// The payload's JSON line, parsed (it must be JSON).
fn json_of(m: &Message<'_>) -> serde_json::Value {
    let mut line = Vec::new();
    btcsniff::output::json::write_payload(&mut line, m, Some(btcsniff::p2p::Network::Mainnet));
    serde_json::from_slice(&line).expect("the JSON writer writes JSON")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_payloads_never_panic(cmd in 0usize..COMMANDS.len(), payload in prop::collection::vec(any::<u8>(), 0..400)) {
        let d = dec(COMMANDS[cmd], &payload);
        match &d.message {
            Ok(m) => { json_of(m); }
            Err(e) => prop_assert!(offset_of(e) <= payload.len()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Valid payloads with a few bytes overwritten reach deeper states than
    /// random bytes do.
    #[test]
    fn mutated_payloads_never_panic(
        which in 0usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let (cmd, hex_payload) = [("block", GENESIS), ("version", VERSION), ("cmpctblock", CMPCT)][which];
        let mut payload = hex::decode(hex_payload).unwrap();
        for (at, byte) in edits {
            let i = at.index(payload.len());
            payload[i] = byte;
        }
        let d = dec(cmd, &payload);
        match &d.message {
            Ok(m) => { json_of(m); }
            Err(e) => prop_assert!(offset_of(e) <= payload.len()),
        }
    }
}

// tests/data/jnewbery-regtest/version1.pcap and cmpctblock.pcap payloads.
const VERSION: &str = "7f1101000500000000000000134c59580000000000000000000000000000000000000000000000000000000000000500000000000000000000000000000000000000000000000000cb26f42f485334e1112f5361746f7368693a302e31332e39392f0000000001";
const CMPCT: &str = "0000002097ee31cb0d9cc3e068bf18f1acbddce9cdb7fcce2ca66c9e928ce17545201f5ffe1f8d91d363ea15c0ada48464d2425e7487da71e5c3044eb07e4a39e233039c254c5958ffff7f200300000009587a994afbb32700010001000000010000000000000000000000000000000000000000000000000000000000000000ffffffff04016b0101ffffffff0100f2052a0100000023210307394f288a38051c2725751bed89452ed160dd5cfb80eeca3308e7dce200d9bcac00000000";

#[test]
fn every_truncation_of_a_block_is_an_error_at_a_valid_offset() {
    let block = hex::decode(GENESIS).unwrap();
    for cut in 0..block.len() {
        let d = dec("block", &block[..cut]);
        match d.message {
            Err(DecodeError::UnexpectedEnd { offset, needed, .. }) => {
                assert!(offset <= cut && needed > 0, "cut {cut}: offset {offset}");
            }
            other => panic!("cut {cut}: {other:?}"),
        }
    }
    assert!(dec("block", &block).message.is_ok());
}

#[test]
fn lying_counts_run_out_of_input_not_memory() {
    // inv claiming u64::MAX entries, then one entry: over MAX_INV_SZ,
    // noted, then the payload ends.
    let mut p = vec![0xff; 9];
    p.extend([1, 0, 0, 0]);
    p.extend([0u8; 32]);
    let d = dec("inv", &p);
    assert!(matches!(
        d.message,
        Err(DecodeError::UnexpectedEnd { offset: 45, .. })
    ));
    assert_eq!(
        d.anomalies,
        vec![Anomaly::CountOverLimit {
            field: "inv.count",
            count: u64::MAX,
            limit: 50_000
        }]
    );
    // A tx claiming 2^32-1 inputs.
    let d = dec("tx", &[1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0]);
    assert!(d.message.is_err());
}

#[test]
fn non_canonical_count_is_noted_and_decoding_goes_on() {
    // inv count 1 written as fd 01 00.
    let mut p = vec![0xfd, 0x01, 0x00, 0x02, 0, 0, 0];
    p.extend([7u8; 32]);
    let d = dec("inv", &p);
    let Ok(Message::Inv(inv)) = &d.message else {
        panic!("{d:?}")
    };
    assert_eq!(inv.inventory.len(), 1);
    assert_eq!(
        d.anomalies,
        vec![Anomaly::NonCanonicalCompactSize {
            offset: 0,
            value: 1
        }]
    );
}

#[test]
fn segwit_edge_cases_follow_core() {
    // Empty input vector then flag 0: a tx without inputs or outputs.
    let p = hex::decode("0200000000000a000000").unwrap();
    let d = dec("tx", &p);
    let Ok(Message::Tx(tx)) = &d.message else {
        panic!("{d:?}")
    };
    assert!(!tx.segwit && tx.inputs.is_empty() && tx.outputs.is_empty());
    assert_eq!(tx.lock_time, 10);
    // Flag 2: unknown optional data, refused.
    let p = hex::decode("020000000002").unwrap();
    let d = dec("tx", &p);
    assert!(
        matches!(
            d.message,
            Err(DecodeError::Invalid {
                what: "tx.flag",
                offset: 5,
                ..
            })
        ),
        "{d:?}"
    );
    // Marker and flag, one input, no outputs, an empty witness: refused
    // ("superfluous witness record").
    let mut p = hex::decode("020000000001").unwrap();
    p.extend([1]);
    p.extend([0u8; 36]);
    p.extend([0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0]);
    let d = dec("tx", &p);
    assert!(
        matches!(
            d.message,
            Err(DecodeError::Invalid {
                what: "tx.witness",
                ..
            })
        ),
        "{d:?}"
    );
}

#[test]
fn limits_core_enforces_become_anomalies() {
    // headers: one header with tx_count 1.
    let mut p = vec![1];
    p.extend([0u8; 80]);
    p.push(1);
    let d = dec("headers", &p);
    assert!(d.message.is_ok());
    assert_eq!(
        d.anomalies,
        vec![Anomaly::CountOverLimit {
            field: "headers.tx_count",
            count: 1,
            limit: 0
        }]
    );
    // filterload: empty filter, 51 hash functions.
    let d = dec("filterload", &[0, 51, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert!(d.message.is_ok());
    assert_eq!(
        d.anomalies,
        vec![Anomaly::CountOverLimit {
            field: "filterload.n_hash_funcs",
            count: 51,
            limit: 50
        }]
    );
    // getheaders with 102 locator hashes.
    let mut p = vec![0x7f, 0x11, 0x01, 0x00, 102];
    p.extend([0u8; 32 * 103]);
    let d = dec("getheaders", &p);
    assert!(d.message.is_ok());
    assert_eq!(
        d.anomalies,
        vec![Anomaly::CountOverLimit {
            field: "locator.count",
            count: 102,
            limit: 101
        }]
    );
}

#[test]
fn unknown_commands_are_kept_whole() {
    let d = dec("checkorder", &[1, 2, 3]);
    let Ok(m) = &d.message else { panic!() };
    assert_eq!(m.command(), "checkorder");
    assert!(matches!(
        m,
        Message::Unknown {
            payload: [1, 2, 3],
            ..
        }
    ));
    assert_eq!(json_of(m).to_string(), r#"{"raw":"010203"}"#);
    assert!(d.anomalies.is_empty());
}

#[test]
fn reject_with_and_without_hash() {
    // "tx", REJECT_INSUFFICIENTFEE, "low fee", txid.
    let mut p = hex::decode("0274784207").unwrap();
    p.extend(b"low fee");
    p.extend([0xab; 32]);
    let d = dec("reject", &p);
    let Ok(m) = &d.message else { panic!("{d:?}") };
    let json = json_of(m);
    assert_eq!(json["message"], "tx");
    assert_eq!(json["ccode_name"], "REJECT_INSUFFICIENTFEE");
    assert_eq!(json["reason"], "low fee");
    assert_eq!(json["data"], "ab".repeat(32));
    let d = dec("reject", &p[..p.len() - 32]);
    let Ok(Message::Reject(r)) = d.message else {
        panic!()
    };
    assert_eq!(r.data, None);
}
