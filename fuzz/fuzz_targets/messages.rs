//! Fuzz target: see bodies/messages.rs (also replayed on
//! tests/data/fuzz-regressions/messages/ by tests/hostile_fuzz_regressions.rs).
#![no_main]

#[path = "../bodies/messages.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
