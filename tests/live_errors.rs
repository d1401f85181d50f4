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
