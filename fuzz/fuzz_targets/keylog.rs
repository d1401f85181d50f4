//! Fuzz target: see bodies/keylog.rs (also replayed on
//! tests/data/fuzz-regressions/keylog/ by tests/hostile_fuzz_regressions.rs).
#![no_main]

#[path = "../bodies/keylog.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
