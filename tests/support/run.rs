//! Running the real binary on test data: where the data and scratch
//! directories are, the output as JSON lines, golden files.

use serde_json::Value;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The btcsniff binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_btcsniff"))
}

/// A file of tests/data.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Runs btcsniff with `args` to its end.
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> Output {
    bin().args(args).output().expect("run btcsniff")
}

/// Runs btcsniff with `args` to its end, which must be a success; its
/// standard output.
pub fn run_ok<S: AsRef<OsStr>>(args: &[S]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `btcsniff read` with `args` (paths and flags mixed) to its end.
pub fn read(args: &[&dyn AsRef<OsStr>]) -> Output {
    bin()
        .arg("read")
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("run btcsniff")
}

/// The btcsniff binary under GNU time, which writes its peak resident set
/// size (KiB) to `rss_file` (read it with [`peak_rss_kb`]).
pub fn bin_under_time(rss_file: &Path) -> Command {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(rss_file)
        .arg(env!("CARGO_BIN_EXE_btcsniff"));
    cmd
}

/// The peak RSS in KiB that [`bin_under_time`] wrote.
pub fn peak_rss_kb(rss_file: &Path) -> u64 {
    let rss = fs::read_to_string(rss_file).expect("read /usr/bin/time output");
    rss.lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RSS in {rss:?}"))
}

/// An empty directory of this test process for `name`.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("btcsniff-test-{}-{name}", std::process::id()));
    fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Every stdout line parsed as JSON.
pub fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

/// The records of one `type`.
pub fn of_type<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["type"] == kind).collect()
}

/// Compares with a golden file of tests/golden, or writes it under
/// BTCSNIFF_BLESS=1.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("BTCSNIFF_BLESS").is_some() {
        fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (BTCSNIFF_BLESS=1 creates it)", path.display()));
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from the golden file at line {}:\n  expected: {}\n  actual:   {}",
            first + 1,
            expected.lines().nth(first).unwrap_or("<end>"),
            actual.lines().nth(first).unwrap_or("<end>")
        );
    }
}
