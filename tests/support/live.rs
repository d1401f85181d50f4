//! For the live-capture tests: namespaces, the example programs, and
//! skipping loudly (never under CI).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Whether this process may make network namespaces (root, `unshare --net`):
/// the live tests run only inside namespaces of their own.
pub fn can_use_namespaces() -> bool {
    std::process::Command::new("unshare")
        .args(["--net", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// The first of `tools` not found on the PATH.
pub fn first_missing_tool<'a>(tools: &[&'a str]) -> Option<&'a str> {
    tools.iter().copied().find(|tool| {
        !std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Why the tests with a real bcoin node cannot run, when it is not
/// installed where scripts/bcoin/install.sh puts it.
pub fn bcoin_missing() -> Option<String> {
    let package =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/bcoin/node_modules/bcoin/package.json");
    (!package.exists()).then(|| {
        format!(
            "bcoin not installed ({} missing: run scripts/bcoin/install.sh)",
            package.display()
        )
    })
}

/// An example program, built beside the binary under test (`cargo test`
/// builds the examples).
pub fn example(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_btcsniff"))
        .parent()
        .expect("target directory")
        .join("examples")
        .join(name);
    assert!(
        path.is_file(),
        "{} is not built (cargo build --release --examples)",
        path.display()
    );
    path
}

/// Says loudly that a test is skipped for want of `msg`'s tools; under
/// CI=true every test must run, so there it fails instead.
pub fn skip(msg: &str) {
    eprintln!("\n*** {msg} ***\n");
    assert!(
        std::env::var_os("CI").is_none(),
        "{msg}, and CI must run it"
    );
}
