//! Fuzz target: see bodies/v2_decoder.rs (also replayed on
//! tests/data/fuzz-regressions/v2_decoder/ by tests/hostile_fuzz_regressions.rs).
#![no_main]

#[path = "../bodies/v2_decoder.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
