//! Finds libpcap for linking without libpcap-dev.
//!
//! The `pcap` crate links with `-lpcap`, which needs the unversioned
//! `libpcap.so` that only libpcap-dev installs. A machine with just the
//! runtime (Debian's libpcap0.8) has `libpcap.so.0.8` (or `.so.1`): when the
//! unversioned name is missing we link against the versioned runtime through
//! a `libpcap.so` symlink in OUT_DIR. `LIBPCAP_LIBDIR` overrides the search.

use std::env;
use std::path::{Path, PathBuf};

const LIB_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
];

const RUNTIME_NAMES: &[&str] = &["libpcap.so.1", "libpcap.so.0.8"];

fn main() {
    println!("cargo:rerun-if-env-changed=LIBPCAP_LIBDIR");
    println!("cargo:rerun-if-changed=build.rs");
    if env::var_os("LIBPCAP_LIBDIR").is_some() {
        return; // the pcap crate's own build script uses it
    }
    let dirs: Vec<&Path> = LIB_DIRS.iter().map(Path::new).collect();
    if dirs.iter().any(|d| d.join("libpcap.so").exists()) {
        return; // libpcap-dev is installed: plain -lpcap works
    }
    let runtime = dirs
        .iter()
        .flat_map(|d| RUNTIME_NAMES.iter().map(move |n| d.join(n)))
        .find(|p| p.exists());
    let Some(runtime) = runtime else {
        println!(
            "cargo:warning=libpcap not found: install the runtime (apt-get install libpcap0.8) \
             or set LIBPCAP_LIBDIR; linking will fail"
        );
        return;
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("pcap-link");
    std::fs::create_dir_all(&out).expect("create OUT_DIR/pcap-link");
    let link = out.join("libpcap.so");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&runtime, &link).expect("symlink libpcap.so");
    println!("cargo:rustc-link-search=native={}", out.display());
}
