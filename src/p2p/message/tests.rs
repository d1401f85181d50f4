//! Real-network vectors. Payloads were taken from the captures in
//! tests/data/ (`tshark -r F -T fields -e tcp.payload`, 24-byte header
//! stripped); expected hashes were computed independently (Python
//! hashlib) or are well known.

use super::*;
use crate::p2p::frame::Command;

pub(super) fn dec(command: &str, payload_hex: &str) -> (Message<'static>, Vec<Anomaly>) {
    let payload: &'static [u8] = Box::leak(hex::decode(payload_hex).unwrap().into_boxed_slice());
    let d = decode(&Command::new(command), payload, &DecodeContext::default());
    (d.message.unwrap(), d.anomalies)
}

pub(super) fn h(s: &str) -> Hash256 {
    Hash256::from_display_hex(s).unwrap()
}

use crate::p2p::Hash256;

// tests/data/jnewbery-regtest/version1.pcap
const VERSION1: &str = "7f1101000500000000000000134c59580000000000000000000000000000000000000000000000000000000000000500000000000000000000000000000000000000000000000000cb26f42f485334e1112f5361746f7368693a302e31332e39392f0000000001";

/// The payload as the JSON sink writes it (these tests also pin the
/// output contract of the decoded values).
pub(super) fn to_json(m: &Message<'_>) -> serde_json::Value {
    let mut line = Vec::new();
    crate::output::json::write_payload(&mut line, m, None);
    serde_json::from_slice(&line).expect("the JSON sink writes JSON")
}

#[test]
fn version1_fields() {
    let (m, anomalies) = dec("version", VERSION1);
    assert!(anomalies.is_empty());
    let Message::Version(v) = m else {
        panic!("{m:?}")
    };
    assert_eq!(v.version, 70015);
    assert_eq!(v.services.names(), ["NODE_NETWORK", "NODE_BLOOM"]);
    assert_eq!(v.timestamp, 0x5859_4c13);
    assert_eq!(v.addr_from.services.0, 5);
    assert_eq!(v.nonce, Some(0xe134_5348_2ff4_26cb));
    assert_eq!(v.user_agent, Some(&b"/Satoshi:0.13.99/"[..]));
    assert_eq!(v.start_height, Some(0));
    assert_eq!(v.relay, Some(true));
    let json = to_json(&Message::Version(v));
    assert_eq!(json["user_agent"], "/Satoshi:0.13.99/");
    assert_eq!(json["services"]["bits"], "5");
    assert_eq!(json["addr_recv"]["ip"], "::");
}

// tests/data/jnewbery-regtest/version2.pcap: no relay byte.
#[test]
fn version2_without_relay_byte() {
    let (m, anomalies) = dec("version", &VERSION1[..VERSION1.len() - 2]);
    assert!(anomalies.is_empty());
    let Message::Version(v) = m else { panic!() };
    assert_eq!(v.relay, None);
    assert_eq!(v.start_height, Some(0));
    let json = to_json(&Message::Version(v)).to_string();
    assert!(!json.contains("relay"));
}

#[test]
fn empty_messages_and_trailing_bytes() {
    // verack.pcap and sendheaders.pcap: empty payloads.
    let (m, a) = dec("verack", "");
    assert_eq!((m.command(), a.len()), ("verack", 0));
    assert_eq!(to_json(&m).to_string(), "{}");
    let (m, a) = dec("sendheaders", "00ff");
    assert_eq!(m, Message::SendHeaders);
    assert_eq!(a, vec![Anomaly::TrailingBytes { bytes: 2 }]);
}

#[test]
fn ping_pong_feefilter_sendcmpct() {
    // ping.pcap, pong.pcap
    let (m, _) = dec("ping", "c7c5f1c5de373ff7");
    assert_eq!(
        m,
        Message::Ping(network::Ping {
            nonce: Some(0xf73f_37de_c5f1_c5c7)
        })
    );
    let (m, _) = dec("ping", "");
    assert_eq!(m, Message::Ping(network::Ping { nonce: None }));
    let (m, _) = dec("pong", "ac0a3a9160a19854");
    assert_eq!(
        m,
        Message::Pong(network::Pong {
            nonce: 0x5498_a160_913a_0aac
        })
    );
    // feefilter.pcap: 15000 sat/kvB.
    let (m, _) = dec("feefilter", "983a000000000000");
    let json = to_json(&m);
    assert_eq!(json["fee_rate_sat_per_kvb"], 15000);
    assert_eq!(json["fee_rate_sat_per_vb"], 15.0);
    // sendcmpct.pcap: low-bandwidth, version 2.
    let (m, _) = dec("sendcmpct", "000200000000000000");
    assert_eq!(
        m,
        Message::SendCmpct(SendCmpct {
            announce: false,
            version: 2
        })
    );
}

// tests/data/jnewbery-regtest/block.pcap
const REGTEST_BLOCK: &str = "0400000006226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f3c7551a04560944eedf4236788a21b117e60adbf21111a7cc79734f853b3cde9dbe5494dffff7f20010000000101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff020101ffffffff0100f2052a01000000015100000000";

#[test]
fn regtest_block() {
    let (m, a) = dec("block", REGTEST_BLOCK);
    assert!(a.is_empty());
    let Message::Block(b) = m else { panic!() };
    assert_eq!(
        b.header.hash,
        h("0e62777bcd921a6eda5bb816a26b20bc66f8ac771c2c2be864fd66a8d6bc5156")
    );
    let coinbase = h("e9cdb353f83497c77c1a1121bfad607e111ba2886723f4ed4e946045a051753c");
    assert_eq!(b.header.merkle_root, coinbase);
    assert_eq!(b.transactions.len(), 1);
    let tx = &b.transactions[0];
    assert_eq!(tx.txid, coinbase);
    // Without full detail, a legacy tx still gets its wtxid (= txid) free.
    assert_eq!(tx.wtxid, Some(coinbase));
    assert_eq!((tx.size, tx.weight, tx.vsize), (63, 252, 63));
    assert_eq!(tx.outputs.get(0).unwrap().value, 50 * 100_000_000);
    assert_eq!(tx.outputs.get(0).unwrap().script_pubkey, &[0x51]);
}

#[test]
fn regtest_cmpctblock() {
    // cmpctblock.pcap: no short ids, the coinbase prefilled at index 0.
    let (m, a) = dec(
        "cmpctblock",
        "0000002097ee31cb0d9cc3e068bf18f1acbddce9cdb7fcce2ca66c9e928ce17545201f5ffe1f8d91d363ea15c0ada48464d2425e7487da71e5c3044eb07e4a39e233039c254c5958ffff7f200300000009587a994afbb32700010001000000010000000000000000000000000000000000000000000000000000000000000000ffffffff04016b0101ffffffff0100f2052a0100000023210307394f288a38051c2725751bed89452ed160dd5cfb80eeca3308e7dce200d9bcac00000000",
    );
    assert!(a.is_empty());
    let Message::CmpctBlock(c) = m else { panic!() };
    assert_eq!(
        c.header.hash,
        h("668c208370ac2e3b6aa56379093140c762c26206955cc3ba7818fac842ad88fb")
    );
    assert_eq!(
        c.nonce,
        u64::from_le_bytes([0x09, 0x58, 0x7a, 0x99, 0x4a, 0xfb, 0xb3, 0x27])
    );
    // The short ids' key: a decimal string in JSON (I-JSON).
    let json = to_json(&Message::CmpctBlock(c.clone()));
    assert_eq!(json["nonce"], c.nonce.to_string());
    assert!(c.short_ids.is_empty());
    assert_eq!(c.prefilled_txs.len(), 1);
    assert_eq!(c.prefilled_txs[0].index, 0);
    let txid = h("9c0333e2394a7eb04e04c3e571da87745e42d26484a4adc015ea63d3918d1ffe");
    assert_eq!(c.prefilled_txs[0].tx.txid, txid);
    assert_eq!(c.header.merkle_root, txid);
}

#[test]
fn regtest_getblocktxn_and_blocktxn() {
    let block = h("0daed86a6bbf881e9c9f5f81c81430a209ab358d160252c5934ae955f965d4e7");
    // getblocktxn.pcap
    let (m, _) = dec(
        "getblocktxn",
        "e7d465f955e94a93c55202168d35ab09a23014c8815f9f9c1e88bf6b6ad8ae0d0100",
    );
    assert_eq!(
        m,
        Message::GetBlockTxn(GetBlockTxn {
            block_hash: block,
            indexes: vec![0]
        })
    );
    // blocktxn.pcap
    let (m, _) = dec(
        "blocktxn",
        "e7d465f955e94a93c55202168d35ab09a23014c8815f9f9c1e88bf6b6ad8ae0d0101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff03024601ffffffff01807c814a00000000015100000000",
    );
    let Message::BlockTxn(b) = m else { panic!() };
    assert_eq!(b.block_hash, block);
    assert_eq!(
        b.transactions[0].txid,
        h("9c9e526d81d6ff8388856bb8dbe717d986668bd261db1fdc308d8ce37c4bfe20")
    );
    assert_eq!(b.transactions[0].outputs.get(0).unwrap().value, 0x4a81_7c80);
}

#[test]
fn differential_indexes() {
    let hash = "00".repeat(32);
    // Differences 0, 2, 0 -> absolute 0, 3, 4.
    let (m, _) = dec("getblocktxn", &format!("{hash}03000200"));
    let Message::GetBlockTxn(g) = m else { panic!() };
    assert_eq!(g.indexes, vec![0, 3, 4]);
    // 0xffff then +0 -> 65536: beyond Core's 16 bits.
    let payload = hex::decode(format!("{hash}02fdffff00")).unwrap();
    let d = decode(
        &Command::new("getblocktxn"),
        &payload,
        &DecodeContext::default(),
    );
    assert!(
        matches!(d.message, Err(DecodeError::Invalid { offset: 36, .. })),
        "{d:?}"
    );
}

// The genesis block (well known).
const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c0101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";

#[test]
fn genesis_block() {
    let (m, a) = dec("block", GENESIS);
    assert!(a.is_empty());
    let Message::Block(b) = m else { panic!() };
    assert_eq!(
        b.header.hash,
        h("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f")
    );
    assert_eq!(
        (b.header.time, b.header.bits, b.header.nonce),
        (1231006505, 0x1d00ffff, 2083236893)
    );
    let txid = h("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b");
    assert_eq!(b.transactions[0].txid, txid);
    assert_eq!(b.header.merkle_root, txid);
    let json = to_json(&Message::Block(b));
    assert_eq!(
        json["header"]["hash"],
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    );
    // Without -v, transactions inside a block are summaries...
    let coinbase = &json["transactions"][0];
    assert_eq!(
        (
            coinbase["input_count"].as_u64(),
            coinbase["output_count"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert!(coinbase.get("outputs").is_none() && coinbase.get("inputs").is_none());
    // ...and whole with it.
    let payload = hex::decode(GENESIS).unwrap();
    let full = DecodeContext {
        full_detail: true,
        ..DecodeContext::default()
    };
    let m = decode(&Command::new("block"), &payload, &full)
        .message
        .unwrap();
    let json = to_json(&m);
    assert_eq!(
        json["transactions"][0]["outputs"][0]["value"],
        5_000_000_000u64
    );
}

/// The JSON shape is the output contract: pin two whole objects.
#[test]
fn json_contract_version_and_tx() {
    let (m, _) = dec("version", VERSION1);
    let expected = serde_json::json!({
        "version": 70015,
        "services": {"bits": "5", "names": ["NODE_NETWORK", "NODE_BLOOM"]},
        "timestamp": 1482247187,
        "addr_recv": {"services": {"bits": "0", "names": []}, "ip": "::", "port": 0},
        "addr_from": {"services": {"bits": "5", "names": ["NODE_NETWORK", "NODE_BLOOM"]}, "ip": "::", "port": 0},
        // Identifiers of 64 bits are decimal strings (I-JSON, RFC 7493).
        "nonce": "16227686926830020299",
        "user_agent": "/Satoshi:0.13.99/",
        "start_height": 0,
        "relay": true,
    });
    assert_eq!(to_json(&m).to_string(), expected.to_string());
    // The coinbase of block.pcap as a standalone tx.
    let (m, _) = dec("tx", &REGTEST_BLOCK[162..]);
    let txid = "e9cdb353f83497c77c1a1121bfad607e111ba2886723f4ed4e946045a051753c";
    let expected = serde_json::json!({
        "txid": txid,
        "wtxid": txid,
        "version": 1,
        "segwit": false,
        "input_count": 1,
        "output_count": 1,
        "inputs": [{
            "previous_output": {"txid": "00".repeat(32), "vout": 0xffff_ffffu32},
            "script_sig": "0101",
            "sequence": 0xffff_ffffu32,
            "witness": [],
        }],
        "outputs": [{"value": 5_000_000_000u64, "script_pubkey": "51"}],
        "lock_time": 0,
        "size": 63,
        "weight": 252,
        "vsize": 63,
    });
    assert_eq!(to_json(&m).to_string(), expected.to_string());
}

#[test]
fn sendtxrcncl_salt_is_a_decimal_string() {
    let (m, a) = dec("sendtxrcncl", "01000000ffffffffffffffff");
    assert!(a.is_empty());
    let json = to_json(&m);
    assert_eq!(
        json,
        serde_json::json!({"version": 1, "salt": "18446744073709551615"})
    );
}

#[test]
fn every_known_command_has_a_variant_of_its_own() {
    for name in KNOWN_COMMANDS {
        let decoded = decode(&Command::new(name), &[], &DecodeContext::default());
        // Empty payloads fail for most commands; what matters is that none
        // falls through to Unknown, and a decoded one names itself.
        match decoded.message {
            Ok(Message::Unknown { .. }) => panic!("{name} decodes as Unknown"),
            Ok(m) => assert_eq!(m.command(), name),
            Err(_) => {}
        }
    }
    let other = decode(&Command::new("checkorder"), &[], &DecodeContext::default());
    assert!(matches!(other.message, Ok(Message::Unknown { .. })));
}
