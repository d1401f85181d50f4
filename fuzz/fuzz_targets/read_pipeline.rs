//! Fuzz target: see bodies/read_pipeline.rs (also replayed on
//! tests/data/fuzz-regressions/read_pipeline/ by tests/hostile_fuzz_regressions.rs).
#![no_main]

#[path = "../bodies/read_pipeline.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
