//! `read`'s progress bar (on a pseudo-terminal, `script -qec`) and Ctrl-C
//! during a read.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::*;

/// Shows the bar at the first look at the clock instead of after 500 ms.
const TIMING_ENV: &str = "BTCSNIFF_PROGRESS_AFTER_MS";

fn have_script() -> bool {
    let found = Command::new("script").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "script(1) missing under CI"
        );
        eprintln!("SKIPPED: script(1) (util-linux) not installed");
    }
    found
}

/// One flow of `pings` ping messages, one per packet.
fn ping_capture(path: &Path, pings: u64) {
    let mut out = PcapStream::create(path);
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8333");
    conn.handshake(&mut out);
    conn.c2s(
        &mut out,
        &frame(MAINNET, "version", &version_payload(b"/p:1/")),
    );
    for n in 0..pings {
        conn.c2s(&mut out, &frame(MAINNET, "ping", &n.to_le_bytes()));
    }
    conn.close(&mut out);
    out.finish();
}

/// What a terminal shows for `shell` (run by sh on a pseudo-terminal).
fn on_terminal(shell: &str) -> String {
    let out = Command::new("script")
        .args(["-qec", shell, "/dev/null"])
        .env(TIMING_ENV, "0")
        .env("TERM", "xterm-256color")
        .output()
        .expect("run script");
    assert!(out.status.success(), "{shell}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn progress_bar_on_a_terminal_only_when_the_output_goes_elsewhere() {
    if !have_script() {
        return;
    }
    let dir = scratch_dir("progress-bar");
    let cap = dir.join("pings.pcap");
    ping_capture(&cap, 5_000);
    let bin = env!("CARGO_BIN_EXE_btcsniff");
    let cap = cap.to_str().unwrap();
    // stderr the terminal, stdout a file: the bar, cleared at the end.
    let shown = on_terminal(&format!("'{bin}' read '{cap}' --format json > /dev/null"));
    assert!(shown.contains(" messages ETA "), "{shown:?}");
    assert!(shown.contains("B/s"), "{shown:?}");
    let total = std::fs::metadata(cap).unwrap().len();
    assert!(shown.contains(&format!("/{}", decimal(total))), "{shown:?}");
    assert!(shown.trim_end().ends_with("\x1b[2K"), "cleared: {shown:?}");
    // -q: nothing.
    let quiet = on_terminal(&format!("'{bin}' read '{cap}' -q > /dev/null"));
    assert_eq!(quiet, "");
    // stdout the terminal too: the messages are the progress.
    let lines = on_terminal(&format!("'{bin}' read '{cap}' -c 3"));
    assert!(!lines.contains("ETA"), "{lines:?}");
    // stderr not a terminal: nothing.
    let piped = Command::new(bin)
        .args(["read", cap, "--format", "json"])
        .env(TIMING_ENV, "0")
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert!(piped.stderr.is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

/// indicatif's decimal_total_bytes: `NNN.NN kB` style with SI units.
fn decimal(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.2} {}", units[unit])
    }
}

/// Ctrl-C during `read -`: what was read is shown and summed up, exit 130,
/// while the writer still holds the pipe open (not an end of input).
#[test]
fn interrupt_prints_the_summary_and_exits_130() {
    let mut pcap = Pcap::new();
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:8333");
    conn.handshake(&mut pcap);
    conn.c2s(
        &mut pcap,
        &frame(MAINNET, "version", &version_payload(b"/i:1/")),
    );
    conn.c2s(&mut pcap, &frame(MAINNET, "ping", &1u64.to_le_bytes()));
    let before = pcap.len();
    conn.c2s(&mut pcap, &frame(MAINNET, "ping", &2u64.to_le_bytes()));
    let bytes = pcap.bytes().to_vec();

    let mut child = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .args(["read", "-", "--format", "json", "--stats"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    stdin.write_all(&bytes[..before]).unwrap();
    stdin.flush().unwrap();
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.contains(r#""command":"ping""#))
    {
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the first ping shown before the interrupt");
        seen.push(line);
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    // The read is blocked on the pipe: the next packet wakes it.
    std::thread::sleep(Duration::from_millis(200));
    stdin.write_all(&bytes[before..]).unwrap();
    stdin.flush().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("read did not stop after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    lines.join().unwrap();
    seen.extend(rx.try_iter());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    let last: serde_json::Value = serde_json::from_str(seen.last().unwrap()).unwrap();
    assert_eq!(last["type"], "stats", "{seen:?}");
    let shown = seen
        .iter()
        .filter(|l| l.contains(r#""type":"message""#))
        .count();
    assert_eq!(last["messages"].as_u64().unwrap() as usize, shown);
    assert!(shown >= 2, "{seen:?}");
    // The flow was ended as at the end of input.
    assert!(
        seen.iter()
            .any(|l| l.contains(r#""reason":"end_of_input""#)),
        "{seen:?}"
    );
    assert!(
        stderr.contains(&format!(
            "btcsniff: interrupted: read {} bytes",
            bytes.len()
        )),
        "{stderr}"
    );
}
