//! `btcsniff probe` against a real node (bcoin regtest) in a network
//! namespace of its own: runs scripts/test-probe-bcoin.sh when root,
//! `unshare` and the bcoin install (scripts/bcoin/install.sh) are all
//! available; otherwise says SKIPPED loudly (never a silent pass).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The script bounds each step; this is the last resort.
const RUN_BOUND: Duration = Duration::from_secs(300);

fn missing_prerequisite(repo: &Path) -> Option<String> {
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
    for tool in ["unshare", "ip", "node"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Some(format!("`{tool}` not found"));
        }
    }
    let bcoin = repo.join(".cache/bcoin/node_modules/bcoin/package.json");
    if !bcoin.exists() {
        return Some(format!(
            "bcoin not installed ({} missing: run scripts/bcoin/install.sh)",
            bcoin.display()
        ));
    }
    None
}

#[test]
fn probe_against_bcoin_regtest() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(reason) = missing_prerequisite(repo) {
        eprintln!("\n*** SKIPPED probe_against_bcoin_regtest: {reason} ***\n");
        return;
    }
    let out = std::env::temp_dir().join(format!("btcsniff-probe-bcoin-{}", std::process::id()));
    let mut child = Command::new("bash")
        .arg(repo.join("scripts/test-probe-bcoin.sh"))
        .arg(env!("CARGO_BIN_EXE_btcsniff"))
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run scripts/test-probe-bcoin.sh");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > RUN_BOUND {
            let _ = child.kill();
            panic!("test-probe-bcoin.sh did not end within {RUN_BOUND:?}");
        }
        thread::sleep(Duration::from_millis(100));
    };
    let stdout = out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
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
        "ok: wrong-network: exit 1",
    ] {
        assert!(stdout.contains(check), "missing '{check}':\n{stdout}");
    }
    let _ = std::fs::remove_dir_all(&out);
}
