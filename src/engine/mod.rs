//! The engine: documents in, hits and grounded prompts out (split by concern into the files of
//! this folder; see `build.rs` for now).

mod build;

pub use build::*;
