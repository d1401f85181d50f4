//! `btcsniff probe` against a real node (bcoin regtest) in a network
//! namespace of its own: runs scripts/test-probe-bcoin.sh when root,
//! `unshare` and the bcoin install (scripts/bcoin/install.sh) are all
//! available; otherwise says SKIPPED loudly (never a silent pass).

mod support;

use std::path::Path;
use std::process::Command;

use std::time::Duration;

/// The script bounds each step; this is the last resort.
const RUN_BOUND: Duration = Duration::from_secs(300);

fn missing_prerequisite() -> Option<String> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        });
    if uid.as_deref() != Some("0") {
        return Some("not root (unshare --net needs it)".into());
    }
    if let Some(tool) = support::live::first_missing_tool(&["unshare", "ip", "node"]) {
        return Some(format!("`{tool}` not found"));
    }
    support::live::bcoin_missing()
}

#[test]
fn probe_against_bcoin_regtest() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(reason) = missing_prerequisite() {
        eprintln!("\n*** SKIPPED probe_against_bcoin_regtest: {reason} ***\n");
        return;
    }
    let out = std::env::temp_dir().join(format!("btcsniff-probe-bcoin-{}", std::process::id()));
    let mut cmd = Command::new("bash");
    cmd.arg(repo.join("scripts/test-probe-bcoin.sh"))
        .arg(env!("CARGO_BIN_EXE_btcsniff"))
        .arg(&out);
    let support::Finished {
        status,
        stdout,
        stderr,
    } = support::run_bounded(cmd, RUN_BOUND);
    println!("{stdout}");
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    // The checks that matter, by name: a real node's answers.
    for check in [
        "ok: mempool-tx-and-block: exit 0",
        "ok: block-with-tx: exit 0",
        "ok: confirmed-tx: exit 3",
        "ok: unknown-tx: exit 3",
        "ok: read probe.pcap: the same",
        "ok: text: says ' probe: transport: v1 (fallback: the peer refused v2: '",
        "ok: v2-only: exit 1",
        "ok: wrong-network: exit 1",
    ] {
        assert!(stdout.contains(check), "missing '{check}':\n{stdout}");
    }
    let _ = std::fs::remove_dir_all(&out);
}
