//! Fuzz target: see bodies/framing.rs (also replayed on
//! tests/data/fuzz-regressions/framing/ by tests/hostile_fuzz_regressions.rs).
#![no_main]

#[path = "../bodies/framing.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
