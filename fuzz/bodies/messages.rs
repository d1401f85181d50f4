//! Every message decoder on arbitrary payloads, then JSON and text
//! rendering of whatever decoded: no panic anywhere, the JSON writer's
//! line is JSON, and where rust-bitcoin decodes the same payload without
//! a doubt (no anomaly on our side, every byte used on its side) the line
//! is byte for byte the payload built from rust-bitcoin's values.
use btcsniff::p2p::frame::Command;
use btcsniff::p2p::message::{self, DecodeContext, Message};
use btcsniff::p2p::{Hash256, sha256d};

#[path = "../../tests/bitcoin_json/mod.rs"]
mod bitcoin_json;

/// Every known command, plus one that is not.
const COMMANDS: [&str; 38] = {
    let mut all = ["unknowncmd"; 38];
    let mut i = 0;
    while i < message::KNOWN_COMMANDS.len() {
        all[i] = message::KNOWN_COMMANDS[i];
        i += 1;
    }
    all
};

/// One fuzz input (shared by the fuzz target and the regression test).
pub fn run(data: &[u8]) {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let name = COMMANDS[usize::from(selector) % COMMANDS.len()];
    let command = Command::new(name);
    for (peer_version, full_detail) in [(None, false), (Some(31_000), true), (None, true)] {
        let ctx = DecodeContext {
            peer_version,
            full_detail,
            payload_hash: None,
        };
        let decoded = message::decode(&command, payload, &ctx);
        // With the payload's hash known (as the framing decoder passes
        // it), the result must be the same.
        let known = DecodeContext {
            payload_hash: Some(Hash256(sha256d(payload))),
            ..ctx
        };
        let with_hash = message::decode(&command, payload, &known);
        assert_eq!(with_hash.message, decoded.message);
        assert_eq!(with_hash.anomalies, decoded.anomalies);
        if let Ok(m) = &decoded.message {
            let mut line = Vec::new();
            btcsniff::output::json::write_payload(
                &mut line,
                m,
                full_detail.then_some(btcsniff::p2p::Network::Mainnet),
            );
            let json: serde_json::Value =
                serde_json::from_slice(&line).expect("the JSON writer writes JSON");
            assert!(json.is_object(), "a payload is an object");
            if peer_version.is_none() && decoded.anomalies.is_empty() {
                same_as_rust_bitcoin(name, payload, m, full_detail, &line);
            }
            let mut text = String::new();
            btcsniff::output::summary::summarize(m, &mut text);
        }
    }
}

/// Families whose wire format rust-bitcoin reads exactly as Core does
/// (others differ on optional or legacy fields).
const COMPARED: [&str; 14] = [
    "inv",
    "getdata",
    "notfound",
    "getblocks",
    "getheaders",
    "tx",
    "block",
    "ping",
    "pong",
    "getcfilters",
    "cfilter",
    "getcfheaders",
    "cfheaders",
    "cfcheckpt",
];

fn same_as_rust_bitcoin(name: &str, payload: &[u8], m: &Message<'_>, full: bool, line: &[u8]) {
    use bitcoin::consensus::Decodable;
    if !COMPARED.contains(&name) {
        return;
    }
    // A whole v1 message around the payload, as rust-bitcoin reads one.
    let mut wire = bitcoin::p2p::Magic::BITCOIN.to_bytes().to_vec();
    wire.extend(Command::new(name).0);
    wire.extend((payload.len() as u32).to_le_bytes());
    wire.extend(&sha256d(payload)[..4]);
    wire.extend(payload);
    let mut reader = &wire[..];
    let Ok(raw) = bitcoin::p2p::message::RawNetworkMessage::consensus_decode(&mut reader) else {
        return;
    };
    if !reader.is_empty() || raw.cmd() != m.command() {
        return;
    }
    let Some(expected) = bitcoin_json::payload(
        raw.payload(),
        full,
        full.then_some(bitcoin::Network::Bitcoin),
    ) else {
        return;
    };
    assert_eq!(
        String::from_utf8_lossy(line),
        expected.to_string(),
        "{name} payload {}",
        hex::encode(payload)
    );
}
