//! Docent: retrieval-augmented generation that runs in the browser. (Crate docs being written.)
#![warn(missing_docs)]

pub mod chunk;
pub mod embed;
pub mod error;
pub mod format;
pub mod index;
pub mod ingest;
#[cfg(not(target_arch = "wasm32"))]
pub mod llm;
pub mod prompt;
pub mod retrieve;
pub mod tokens;

pub use error::{Error, Result};
