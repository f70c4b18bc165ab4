//! Answers without a language model.
//!
//! Owns: the extractive "offline" answer: the sentences of an assembled prompt's sources that
//! share the most (stemmed) words with the question, each cited as `[n]`, or the "not covered"
//! text ([`crate::prompt::NOT_COVERED`]). The CLI (`docent ask --provider offline`) and the
//! browser (through the wasm edge) call this same code, so they give the same answer for the same
//! prompt. Words are stemmed by the BM25 analyzer ([`crate::index::bm25::Bm25::analyze`]), the one
//! stemmer of docent.
//! Must not: search, assemble prompts, call an LLM, or render anything.
//!
//! Design: `docs/design.md`, "From a page to a prompt", step 9.

mod offline;
mod sentences;

pub use offline::{offline_answer, offline_answer_for, question_of, Answer, Passage};
/// The sentences of a text as the offline answer cuts them (the gate's calibration queries are
/// made from them).
pub(crate) use sentences::sentences as sentences_of;

#[cfg(test)]
mod tests;
