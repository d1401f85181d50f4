//! A terminal is not a pipe: on a pseudo-terminal (`script -qec`, util-linux)
//! text output is coloured, aligned and marks UTC times with `Z`; `--color`,
//! `NO_COLOR` and `--time-format` change it as documented; piped output is
//! byte for byte the golden files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_btcsniff")
}

fn data(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(path)
        .to_str()
        .unwrap()
        .to_string()
}

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

/// Runs btcsniff with `args` on a pseudo-terminal; stdout as the terminal
/// saw it, line ends back to `\n`.
fn on_terminal(args: &[&str], env: &[(&str, &str)]) -> String {
    let quoted: Vec<String> = std::iter::once(bin())
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &quoted.join(" "), "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run script");
    assert!(out.status.success(), "{args:?}: {:?}", out);
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

fn piped(args: &[&str]) -> Output {
    let out = Command::new(bin())
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run btcsniff");
    assert!(out.status.success(), "{out:?}");
    out
}

/// The text without ANSI SGR sequences (`ESC [ ... m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn message_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.contains(" -> ") && !l.contains(" ! "))
        .collect()
}

/// Where each message line's command column starts (after the network).
fn command_columns(text: &str) -> Vec<usize> {
    message_lines(text)
        .iter()
        .map(|l| l.find(" regtest ").expect("network") + " regtest  ".len())
        .collect()
}

#[test]
fn terminal_output_is_coloured_aligned_and_marked_utc() {
    if !have_script() {
        return;
    }
    let sync = data("samples/bcoin-regtest-sync.pcap");
    let tty = on_terminal(&["read", &sync], &[]);
    // Command names by family.
    assert!(tty.contains("\x1b[34mversion\x1b[0m"), "{tty}");
    assert!(tty.contains("\x1b[32minv\x1b[0m"), "{tty}");
    assert!(tty.contains("\x1b[35mblock\x1b[0m"), "{tty}");
    assert!(tty.contains("\x1b[36maddr\x1b[0m"), "{tty}");
    let plain = strip_ansi(&tty);
    // The same lines as piped, with UTC marked.
    let pipe = String::from_utf8(piped(&["read", &sync]).stdout).unwrap();
    assert_eq!(plain.lines().count(), pipe.lines().count());
    for (t, p) in plain.lines().zip(pipe.lines()) {
        assert_eq!(&t[..26], &p[..26]);
        assert_eq!(&t[26..27], "Z", "{t}");
        let words = |s: &str| s.split_whitespace().skip(2).collect::<Vec<_>>().join(" ");
        assert_eq!(words(t), words(p), "the same fields");
    }
    // Aligned: every command starts in the same column, every length ends
    // in the same one.
    let columns = command_columns(&plain);
    assert!(columns.len() > 100);
    assert!(columns.iter().all(|&c| c == columns[0]), "{columns:?}");
    let length_ends: Vec<usize> = message_lines(&plain)
        .iter()
        .map(|l| l.find("B ok").expect("length"))
        .collect();
    assert!(length_ends.iter().all(|&c| c == length_ends[0]));
}

#[test]
fn bad_checksums_and_findings_stand_out() {
    if !have_script() {
        return;
    }
    let bad = on_terminal(
        &["read", &data("tests/data/jnewbery-regtest/version2.pcap")],
        &[],
    );
    assert!(
        bad.contains("\x1b[1m\x1b[31mBAD-CHECKSUM(header 8084b609 computed 186f7ab3)\x1b[0m"),
        "{bad}"
    );
    let mainnet = on_terminal(&["read", &data("tests/data/mainnet-2011-ndpi.pcap")], &[]);
    assert!(
        mainnet.contains("\x1b[1m\x1b[33m! gap offset=125 bytes=7240\x1b[0m"),
        "{mainnet}"
    );
    // Flow lines are dimmed.
    assert!(mainnet.contains("\x1b[2mflow 1 start "), "{mainnet}");
}

#[test]
fn no_color_and_color_never_keep_the_layout_without_colour() {
    if !have_script() {
        return;
    }
    let sync = data("samples/bcoin-regtest-sync.pcap");
    let coloured = strip_ansi(&on_terminal(&["read", &sync], &[]));
    for (args, env) in [
        (vec!["read", &sync], vec![("NO_COLOR", "1")]),
        (vec!["read", &sync, "--color", "never"], vec![]),
        (vec!["read", &sync], vec![("TERM", "dumb")]),
    ] {
        let out = on_terminal(&args, &env);
        assert!(!out.contains('\x1b'), "{args:?} {env:?}: {out}");
        assert_eq!(out, coloured, "{args:?} {env:?}");
    }
    // An empty NO_COLOR does not count (no-color.org).
    let out = on_terminal(&["read", &sync], &[("NO_COLOR", "")]);
    assert!(out.contains('\x1b'));
    // --color always wins over NO_COLOR.
    let out = on_terminal(&["read", &sync, "--color", "always"], &[("NO_COLOR", "1")]);
    assert!(out.contains('\x1b'));
}

#[test]
fn json_on_a_terminal_is_plain_json() {
    if !have_script() {
        return;
    }
    let sync = data("samples/bcoin-regtest-sync.pcap");
    let tty = on_terminal(&["read", &sync, "--format", "json"], &[]);
    let pipe = piped(&["read", &sync, "--format", "json"]);
    assert_eq!(tty, String::from_utf8(pipe.stdout).unwrap());
}

/// Piped output is what it always was, whatever NO_COLOR says, and
/// `--color always` into a pipe colours it (for `less -R`).
#[test]
fn piped_output_equals_the_goldens() {
    let mainnet = data("tests/data/mainnet-2011-ndpi.pcap");
    let golden = |name: &str| -> String {
        let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    };
    for extra in [
        &[][..],
        &["--color", "auto"],
        &["--time-format", "utc"],
        &["--color", "never"],
    ] {
        let mut args = vec!["read", &mainnet, "--stats"];
        args.extend(extra);
        let out = piped(&args);
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            golden("mainnet-2011.txt"),
            "{extra:?}"
        );
        let mut json = args.clone();
        json.extend(["--format", "json"]);
        let out = piped(&json);
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            golden("mainnet-2011.jsonl"),
            "{extra:?}"
        );
    }
    let always = piped(&["read", &mainnet, "--color", "always"]);
    let always = String::from_utf8(always.stdout).unwrap();
    assert!(always.contains("\x1b[32minv\x1b[0m"));
    assert!(
        strip_ansi(&always)
            .lines()
            .next()
            .unwrap()
            .starts_with("2011-03-28 15:58:57.725033Z ")
    );
}

#[test]
fn time_formats() {
    let sync = data("samples/bcoin-regtest-sync.pcap");
    let times = |format: &str| -> Vec<String> {
        let out = piped(&["read", &sync, "--time-format", format, "-c", "3"]);
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect()
    };
    let json = piped(&["read", &sync, "--format", "json", "-c", "3"]);
    let ts: Vec<String> = String::from_utf8(json.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!("{:.6}", v["ts"].as_f64().unwrap())
        })
        .collect();
    // Unix seconds are the JSON `ts`.
    assert_eq!(times("unix"), ts);
    // The first line is the flow start; relative and delta count from it.
    let secs = |s: &str| -> f64 { s.parse().unwrap() };
    let unix: Vec<f64> = ts.iter().map(|s| secs(s)).collect();
    let relative = times("relative");
    assert_eq!(relative[0], "0.000000");
    for (r, u) in relative.iter().zip(&unix) {
        assert!((secs(r) - (u - unix[0])).abs() < 2e-6, "{r} {u}");
    }
    let delta = times("delta");
    assert_eq!(delta[0], "0.000000");
    for i in 1..delta.len() {
        assert!((secs(&delta[i]) - (unix[i] - unix[i - 1])).abs() < 2e-6);
    }
    // An unknown format is a usage error naming the choices.
    let out = Command::new(bin())
        .args(["read", &sync, "--time-format", "local"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("relative"));
}
