//! Fuzz target: see bodies/core_capture.rs (also replayed on
//! tests/data/fuzz-regressions/core_capture/ by tests/hostile_fuzz_regressions.rs).
#![no_main]

#[path = "../bodies/core_capture.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
