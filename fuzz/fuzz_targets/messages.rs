//! Every message decoder on arbitrary payloads, then JSON and text
//! rendering of whatever decoded: no panic anywhere.
#![no_main]

use btcsniff::p2p::frame::Command;
use btcsniff::p2p::message::{self, DecodeContext};
use libfuzzer_sys::fuzz_target;

const COMMANDS: [&str; 38] = [
    "version", "verack", "addr", "addrv2", "sendaddrv2", "inv", "getdata", "notfound",
    "getblocks", "getheaders", "tx", "block", "headers", "getaddr", "ping", "pong", "mempool",
    "merkleblock", "filterload", "filteradd", "filterclear", "sendheaders", "feefilter",
    "sendcmpct", "cmpctblock", "getblocktxn", "blocktxn", "getcfilters", "cfilter",
    "getcfheaders", "cfheaders", "getcfcheckpt", "cfcheckpt", "wtxidrelay", "sendtxrcncl",
    "reject", "alert", "unknowncmd",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let command = Command::new(COMMANDS[usize::from(selector) % COMMANDS.len()]);
    for (peer_version, full_detail) in [(None, false), (Some(31_000), true)] {
        let ctx = DecodeContext {
            peer_version,
            full_detail,
        };
        let decoded = message::decode(&command, payload, &ctx);
        if let Ok(m) = &decoded.message {
            let _ = serde_json::to_vec(m).expect("every message serializes");
            let mut line = String::new();
            btcsniff::output::summary::summarize(m, &mut line);
        }
    }
});
