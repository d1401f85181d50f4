//! Nothing to find at build time: libpcap is loaded at run time (see
//! src/capture/libpcap), so the build needs no system library.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
}
