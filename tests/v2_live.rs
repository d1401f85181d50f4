//! `live --keylog` for real: inside a network namespace of its own (lo
//! only), btcsniff captures BIP324 sessions between two v2peer processes
//! (the `bip324` crate), whose clients log their keys while the capture
//! runs (the key log does not even exist when it starts). Every message is
//! decrypted live, and the `-w` file read back with the key log gives the
//! same messages. Needs root and `unshare`; without them it says SKIPPED
//! loudly (and fails under CI=true, where it must run).

#[path = "support/live.rs"]
mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const CONNECTIONS: usize = 2;

fn parse(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// (src is the server, command) of every message.
fn messages(lines: &[Value]) -> Vec<(bool, String)> {
    lines
        .iter()
        .filter(|v| v["type"] == "message")
        .map(|v| {
            assert_eq!(v["transport"], "v2");
            (
                v["src"].as_str().unwrap().ends_with(":18444"),
                v["command"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn live_decrypts_v2_sessions_whose_keys_are_logged_during_the_capture() {
    if !support::can_use_namespaces() {
        let msg = "SKIPPED live v2 test: needs root and network namespaces (unshare --net)";
        support::skip(msg);
        return;
    }
    let v2peer = support::example("v2peer");
    assert!(
        v2peer.exists(),
        "{} missing: cargo test builds examples",
        v2peer.display()
    );
    let out = std::env::temp_dir().join(format!("btcsniff-live-v2-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-live-v2.sh");
    let status = Command::new("timeout")
        .arg("120")
        .args(["unshare", "--net", "--", "bash"])
        .arg(&script)
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_btcsniff"))
        .arg(&v2peer)
        .arg(CONNECTIONS.to_string())
        .status()
        .expect("run test-live-v2.sh");
    assert!(
        status.success(),
        "test-live-v2.sh failed: see {}",
        out.display()
    );

    let live = parse(&std::fs::read_to_string(out.join("live.jsonl")).unwrap());
    let findings: Vec<&Value> = live.iter().filter(|v| v["type"] == "finding").collect();
    assert!(findings.is_empty(), "{findings:?}");
    let got = messages(&live);
    let one: Vec<(bool, String)> = [
        (false, "version"),
        (true, "version"),
        (true, "verack"),
        (false, "verack"),
        (false, "ping"),
        (true, "pong"),
    ]
    .iter()
    .map(|(s, c)| (*s, c.to_string()))
    .collect();
    let mut want_client: Vec<String> = Vec::new();
    let mut want_server: Vec<String> = Vec::new();
    for _ in 0..CONNECTIONS {
        for (server, c) in &one {
            if *server {
                want_server.push(c.clone());
            } else {
                want_client.push(c.clone());
            }
        }
    }
    let of = |server: bool| -> Vec<String> {
        got.iter()
            .filter(|m| m.0 == server)
            .map(|m| m.1.clone())
            .collect()
    };
    assert_eq!(of(false), want_client);
    assert_eq!(of(true), want_server);
    let ends: Vec<&Value> = live
        .iter()
        .filter(|v| v["type"] == "flow" && v["event"] == "end")
        .collect();
    assert_eq!(ends.len(), CONNECTIONS);
    for end in &ends {
        assert_eq!(end["v2"]["decryption"], "decrypted");
        assert_eq!(end["v2"]["handshake"], "captured");
        assert_eq!(end["network"], "regtest");
        assert_eq!(end["v2"]["garbage"]["c2s"], 41);
        assert_eq!(end["v2"]["garbage"]["s2c"], 23);
        assert_eq!(end["v2"]["decoys"]["s2c"], 1);
    }

    // The -w file, read back with the key log the clients wrote.
    let output = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .arg(out.join("live.pcap"))
        .args(["--format", "json", "--keylog"])
        .arg(out.join("keys.log"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let read = messages(&parse(&String::from_utf8_lossy(&output.stdout)));
    // Per direction the same (live, a session held while its key was not
    // logged yet is decrypted direction by direction when it arrives).
    for server in [false, true] {
        let of = |list: &[(bool, String)]| -> Vec<String> {
            list.iter()
                .filter(|m| m.0 == server)
                .map(|m| m.1.clone())
                .collect()
        };
        assert_eq!(of(&read), of(&got));
    }
    let _ = std::fs::remove_dir_all(out);
}
