//! The fuzz targets' bodies: `tests/fuzz_harness.rs`, shared with the regression tests that
//! replay saved inputs in `cargo test` (see `tests/hostile.rs`).

#[path = "../../tests/fuzz_harness.rs"]
mod harness;

pub use harness::*;
