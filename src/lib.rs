//! Docent: retrieval-augmented generation that runs in the browser.
//!
//! One Rust core, compiled natively for the `docent` CLI (index a site at build time, evaluate,
//! benchmark) and to WebAssembly for the browser. The pipeline:
//!
//! ```text
//! HTML / Markdown / text ─ ingest ─► sections (heading anchors, titles, urls)
//!   ─ chunk ─► token-budgeted chunks that keep `url#anchor` and their heading path
//!   ─ embed ─► MiniLM (own int8 forward) | static table | hashing | caller's vectors
//!   ─ index ─► dense (int8, flat scan or HNSW) + BM25
//!   ─ retrieve ─► reciprocal rank fusion, relevance gate, per-page diversity
//!   ─ prompt ─► numbered, delimited sources with citations, fitted to a token budget
//! ```
//!
//! Why it is built this way:
//! - **Build time and query time are separate.** Indexing (embedding every chunk) is the
//!   expensive part and happens once, natively and multi-threaded; the browser only loads the
//!   index and embeds the question. The same index file serves both ([`mod@format`]).
//! - **Hybrid retrieval.** Small embedding models miss exact names (`CARGO_HOME`, a flag); BM25
//!   misses paraphrases. Fusing ranks (not scores) needs no score calibration between them.
//! - **An honest "not in the documents".** Retrieval always returns *something*; the relevance
//!   gate ([`retrieve::Gate`]) decides whether it is evidence, and the prompt then asks the model
//!   to say the documents do not cover the question instead of inventing an answer.
//! - **Every index records its embedder** (kind, dimension, weights fingerprint): querying with
//!   another model is an error, never silent junk.
//! - **The core knows nothing of JavaScript.** Only `src/wasm/` does; errors are one enum
//!   ([`Error`]) whose `Display` is the user-facing text everywhere.
//! - **The engine does not ask which target it was compiled for.** What differs between the CLI
//!   and the browser is chosen at the edge: size limits are data ([`Limits::NATIVE`] by default,
//!   [`Limits::BROWSER`] set by the wasm edge), and using every core is the `parallel` cargo
//!   feature (rayon; on by default, off in the wasm32 build). Neither changes an index's bytes.
//!
//! ```no_run
//! use std::sync::Arc;
//! use docent::engine::{Docent, Options};
//! use docent::embed::hashing::Hashing;
//! use docent::ingest::{self, Format, Ingested};
//! use docent::prompt::PromptOptions;
//!
//! let mut engine = Docent::new(Arc::new(Hashing::default()), Options::default())?;
//! if let Ingested::Document(doc) = ingest::parse("guide.md", "guide", "# Guide\n\nRun `docent index`.", Format::Markdown)? {
//!     engine.add_document(doc)?;
//! }
//! engine.build(&mut |_| {})?;
//! let prompt = engine.assemble("How do I index?", &PromptOptions::default())?;
//! println!("{}", prompt.user);
//! # Ok::<(), docent::Error>(())
//! ```
//!
//! Design: `docs/design.md`, "Layers" and "From a page to a prompt".
#![deny(missing_docs)]

pub mod answer;
pub mod chunk;
pub mod conversation;
pub mod embed;
pub mod engine;
pub mod error;
pub mod eval;
pub mod format;
pub mod fragments;
pub mod gaps;
pub mod gate;
pub mod index;
pub mod ingest;
// Native only, with the `http` feature (ureq).
#[cfg(all(not(target_arch = "wasm32"), feature = "http"))]
pub mod llm;
pub mod prompt;
pub mod retrieve;
pub mod site;
pub mod tokens;
pub mod units;
#[cfg(all(target_arch = "wasm32", not(feature = "pdf-module")))]
pub mod wasm;
/// The PDF module's edge instead of the full one (`docent_pdf`: only `extractPdf`).
#[cfg(all(target_arch = "wasm32", feature = "pdf-module"))]
#[path = "wasm/pdf.rs"]
pub mod wasm;

pub use engine::{Docent, Limits, Options};
pub use error::{Error, Result};
