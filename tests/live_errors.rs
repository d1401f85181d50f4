//! Live capture's one-line errors: unknown interface (with the real ones
//! listed), bad BPF filter (libpcap's message), no permission (what to do).

use std::process::Command;

fn btcsniff() -> Command {
    Command::new(env!("CARGO_BIN_EXE_btcsniff"))
}

fn one_line_error(out: &std::process::Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err
}

#[test]
fn unknown_interface_lists_the_real_ones() {
    let out = btcsniff().args(["live", "-i", "nosuch0"]).output().unwrap();
    let err = one_line_error(&out);
    assert!(err.contains("no such interface: nosuch0"), "{err}");
    assert!(err.contains("lo"), "{err}");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

#[test]
fn bad_filter_and_missing_permission_are_one_line_errors() {
    if !is_root() {
        eprintln!(
            "\n*** SKIPPED live error test: needs root (to open lo, and to drop to nobody) ***\n"
        );
        assert!(std::env::var_os("CI").is_none(), "CI must run it");
        return;
    }
    let out = btcsniff()
        .args(["live", "-i", "lo", "-f", "tcp port"])
        .output()
        .unwrap();
    let err = one_line_error(&out);
    assert!(err.contains("bad capture filter 'tcp port'"), "{err}");
    assert!(err.contains("syntax error"), "{err}");

    // The same binary as user nobody: no capture rights.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_btcsniff"))
        .args(["live", "-i", "lo"])
        .output()
        .unwrap();
    let err = one_line_error(&out);
    assert!(err.contains("capture needs root"), "{err}");
    assert!(err.contains("CAP_NET_RAW"), "{err}");
}

/// The interface going away (a veth deleted mid-capture, inside a network
/// namespace of the test's own) ends the run with its summary and exit 1.
#[test]
fn interface_going_away_ends_the_run_with_its_summary() {
    let can = Command::new("unshare")
        .args(["--net", "true"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !can {
        eprintln!("\n*** SKIPPED interface-down test: needs root and network namespaces ***\n");
        assert!(std::env::var_os("CI").is_none(), "CI must run it");
        return;
    }
    let script = r#"
        set -u
        ip link set lo up
        ip link add d0 type veth peer name d1
        ip link set d1 up
        ip link set d0 up
        "$0" live -i d0 --stats &
        cap=$!
        sleep 1
        ip link del d0
        for _ in $(seq 50); do kill -0 "$cap" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$cap" 2>/dev/null; then kill -KILL "$cap"; exit 99; fi
        wait "$cap"
    "#;
    let out = Command::new("timeout")
        .args(["60", "unshare", "--net", "--", "bash", "-c", script])
        .arg(env!("CARGO_BIN_EXE_btcsniff"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("capture ended: d0"), "{err}");
    assert!(text.contains("== summary"), "{text}");
}
