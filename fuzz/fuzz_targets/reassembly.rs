//! Fuzz target: see bodies/reassembly.rs (also replayed on
//! tests/data/fuzz-regressions/reassembly/ by tests/hostile_fuzz_regressions.rs).
#![no_main]

#[path = "../bodies/reassembly.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
