//! Every message decoder on arbitrary payloads, then JSON and text
//! rendering of whatever decoded: no panic anywhere, and the JSON sink's
//! own writer byte-identical to serde_json.
use btcsniff::p2p::frame::Command;
use btcsniff::p2p::message::{self, DecodeContext};
use btcsniff::p2p::{Hash256, sha256d};

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
    let command = Command::new(COMMANDS[usize::from(selector) % COMMANDS.len()]);
    for (peer_version, full_detail) in [(None, false), (Some(31_000), true)] {
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
            let reference = serde_json::to_vec(m).expect("every message serializes");
            // The JSON sink's hand-written payloads equal serde_json's.
            let mut sink = Vec::new();
            btcsniff::output::json::write_payload(&mut sink, m);
            assert_eq!(sink, reference);
            let mut line = String::new();
            btcsniff::output::summary::summarize(m, &mut line);
        }
    }
}
