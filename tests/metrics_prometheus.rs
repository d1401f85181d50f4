//! `live --metrics` scraped by a real Prometheus (Debian's package, installed
//! by scripts/setup.sh) beside two real nodes (bcoin regtest), in a network
//! namespace that has nothing but lo: runs scripts/test-prometheus.sh, which
//! asks Prometheus's HTTP query API and compares every counter with what the
//! JSON output of the same `live` run says. Needs root, `unshare`,
//! `prometheus`, node, jq and bcoin; without them it says SKIPPED loudly
//! (and fails under CI=true, where it must run).

mod support;

use support::live;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The script bounds each step; this is the last resort.
const RUN_BOUND: Duration = Duration::from_secs(300);

fn missing_prerequisite() -> Option<String> {
    if !live::can_use_namespaces() {
        return Some("cannot make a network namespace (needs root and unshare)".into());
    }
    if let Some(tool) = live::first_missing_tool(&["ip", "node", "jq", "prometheus"]) {
        return Some(format!("`{tool}` not found (scripts/setup.sh installs it)"));
    }
    live::bcoin_missing()
}

/// With worker threads (each worker's sink counts, the merge publishes
/// the first announcers).
#[test]
fn prometheus_scrapes_the_counters_the_json_output_shows() {
    scrape_beside_three_nodes("prometheus", "--threads 2");
}

/// On one thread (the analyzer counts and publishes).
#[test]
fn prometheus_scrapes_the_same_on_one_thread() {
    scrape_beside_three_nodes("prometheus-1", "--threads 1");
}

/// One run at a time: each starts three nodes and a Prometheus.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn scrape_beside_three_nodes(name: &str, live_args: &str) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(reason) = missing_prerequisite() {
        live::skip(&format!("SKIPPED metrics_prometheus: {reason}"));
        return;
    }
    let out = support::scratch_dir(name);
    let mut cmd = Command::new("bash");
    cmd.env("LIVE_ARGS", live_args);
    cmd.arg(repo.join("scripts/test-prometheus.sh"))
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
    // The checks that matter, by name: each compares Prometheus with the JSON.
    for check in [
        "ok: target up:",
        "ok: messages: Prometheus ",
        "ok: by_command_direction: ",
        "ok: bytes_by_command: ",
        "ok: flows_by_transport: ",
        "ok: build_info: ",
        "ok: README recipe ",
        "ok: first announcer: node A first for all ",
        "ok: first announcer: Prometheus == --stats",
        "ok: peer records: per-command counts",
        "ok: peer records: 3 node-to-node flows",
        "ok: snapshot: 3 open node-to-node flows",
        "ok: snapshot: each before its end record",
    ] {
        assert!(stdout.contains(check), "missing '{check}':\n{stdout}");
    }
}
