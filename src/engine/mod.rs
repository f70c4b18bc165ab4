//! The engine: documents in, hits and grounded prompts out.
//!
//! Owns: the document and chunk lists, calling the embedder, building both indexes, running a
//! query through retrieval and prompt assembly, and (de)serialising the whole index.
//! Must not: read files or know about JavaScript; callers (CLI, wasm edge) do I/O. Nothing here
//! depends on the target: what differs between the CLI and the browser is data ([`Limits`]) or
//! the `parallel` cargo feature, both chosen by the caller.
//!
//! This file holds the [`Docent`] struct and the types it hands out; its methods are spread by
//! concern over `build.rs` (adding and removing documents, reusing a previous index, embedding,
//! [`Docent::build`]), `query.rs` (search and prompt assembly), `store.rs` (the index file) and
//! `limits.rs` (the size [`Limits`]).
//!
//! Design: `docs/design.md`, "From a page to a prompt".

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::chunk::{Chunk, ChunkOptions};
use crate::embed::{Embedder, EmbedderInfo, EmbedderKind};
use crate::index::bm25::{Bm25, Bm25Params};
use crate::index::dense::{DenseIndex, DenseOptions};
use crate::retrieve::RetrieveOptions;
use crate::tokens::TokenCounter;
use crate::Result;

mod build;
mod judge;
mod limits;
mod query;
mod store;

pub use build::document_hash;
use build::Previous;
pub use limits::Limits;
pub(crate) use query::{check_search, prompt_of};

/// Every tuning knob of an index, stored inside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Options {
    /// How documents are cut into chunks.
    pub chunk: ChunkOptions,
    /// Dense index parameters.
    pub dense: DenseOptions,
    /// BM25 parameters.
    pub bm25: Bm25Params,
    /// Fusion, gate and diversity.
    pub retrieve: RetrieveOptions,
}

/// A document as the engine keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocEntry {
    /// The document url (no anchor).
    pub url: String,
    /// Its title.
    pub title: String,
    /// The document's content hash ([`document_hash`]), for incremental re-indexing.
    pub hash: String,
    /// False once the document was removed.
    pub live: bool,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// `url#anchor` of the chunk.
    pub url: String,
    /// Document title.
    pub title: String,
    /// Heading path, ` > `-joined.
    pub heading: String,
    /// Fused score (reciprocal rank fusion in hybrid mode; cosine or BM25 in single modes).
    pub score: f32,
    /// Chunk text.
    pub text: String,
    /// Dense cosine similarity, when the chunk was a dense candidate.
    pub dense: Option<f32>,
    /// BM25 score, when the chunk was a lexical candidate.
    pub lexical: Option<f32>,
    /// The chunk's id in the index.
    pub chunk: u32,
}

/// The evidence the relevance gate looked at (the signals of [`crate::gate`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Best dense cosine similarity among the candidates (-1 when there were none).
    pub dense: f32,
    /// Best fraction of the query's IDF mass contained in one of the top lexical hits (0..=1).
    pub coverage: f32,
    /// The best dense similarity minus the 10th (or last) one: how much the best stands out
    /// (0 without dense candidates).
    #[serde(default, rename = "denseGap")]
    pub dense_gap: f32,
    /// The fraction of the query's IDF mass the first fused hit (the best chunk) contains.
    #[serde(default, rename = "topCoverage")]
    pub top_coverage: f32,
    /// The share (0..=1) of the idf mass of the query's salient terms that occurs in the corpus
    /// at all (a term one edit away from a corpus term counts as present); 1 without salient
    /// terms.
    #[serde(default = "one")]
    pub present: f32,
    /// The best BM25 score over the query's ideal one (Σ idf · (k1 + 1)), 0..=1.
    #[serde(default)]
    pub lexical: f32,
    /// The first hit's reciprocal-rank-fusion score over its largest possible value, 0..=1 (1:
    /// first in both rankings); 0 without a dense ranking.
    #[serde(default)]
    pub fused: f32,
}

fn one() -> f32 {
    1.0
}

impl Evidence {
    /// Evidence with only the two signals of the fixed gate (the others neutral).
    pub fn of(dense: f32, coverage: f32) -> Evidence {
        Evidence {
            dense,
            coverage,
            dense_gap: 0.0,
            top_coverage: coverage,
            present: 1.0,
            lexical: 0.0,
            fused: 0.0,
        }
    }
}

/// The result of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The relevance gate's verdict: does the corpus cover this query?
    pub answerable: bool,
    /// Hits, best first.
    pub hits: Vec<Hit>,
    /// What the gate saw.
    pub evidence: Evidence,
    /// The query's salient terms that occur nowhere in the corpus, as the reader wrote them
    /// (see [`crate::gate::salient_terms`]); when the gate flagged the query for them, the
    /// answer names them ([`crate::prompt::not_mentioned`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// Progress of a long operation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    /// `embed`, `dense` or `lexical`.
    pub stage: &'static str,
    /// Units done (chunks for `embed`).
    pub done: usize,
    /// Units in all.
    pub total: usize,
}

/// Counts describing an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Live documents.
    pub documents: usize,
    /// Chunks (of live documents).
    pub chunks: usize,
    /// Chunks not yet merged into the main dense index by `build()`. Before the first build
    /// these are not searchable; after it, documents added go to a delta segment that is
    /// searched at once (exact scan) and merged into the main index by the next `build()`.
    pub pending: usize,
    /// The embedder that built the index.
    pub embedder: EmbedderInfo,
    /// `flat` or `hnsw` (empty before build).
    pub dense_kind: String,
    /// Bytes of dense vectors and graph in memory.
    pub dense_bytes: usize,
}

/// What an incremental re-index did (see [`Docent::reuse_from`]): counts of the documents
/// added to this engine, by whether their work was taken from the previous index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reuse {
    /// Documents whose chunks and vectors were taken unchanged from the previous index.
    pub reused: usize,
    /// Documents chunked and embedded here: new or changed ones, or all of them when there was no
    /// usable previous index.
    pub embedded: usize,
    /// Live documents of the previous index that were not added again (deleted pages, or pages
    /// that are now skipped). Counted by [`Docent::build`]; 0 before it.
    pub removed: usize,
    /// Chunks of the reused documents.
    pub reused_chunks: usize,
    /// Chunks of the documents embedded here.
    pub embedded_chunks: usize,
    /// Why a previous index was given but nothing of it could be reused (different embedder,
    /// chunk options or docent version, unreadable file…); `None` when it was reused or when
    /// there was none.
    pub rebuild: Option<String>,
}

/// Chunks that the next [`Docent::build`] would embed in one call of the embedder, with the texts
/// it would embed (see [`Docent::pending_embeddings`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingGroup {
    /// Chunk ids, ascending.
    pub chunks: Vec<u32>,
    /// The text embedded for each chunk (heading path, then text), in the order of `chunks`.
    pub texts: Vec<String>,
}

/// The retrieval engine. Build one with [`Docent::new`], add documents, [`Docent::build`], then
/// [`Docent::search`] or [`Docent::assemble`]; or load a built one with [`Docent::from_bytes`].
pub struct Docent {
    options: Options,
    /// The docent version that chunked the documents: this build's, or the one recorded in a
    /// loaded index.
    version: String,
    embedder: Arc<dyn Embedder>,
    counter: TokenCounter,
    docs: Vec<DocEntry>,
    chunks: Vec<Chunk>,
    dense: Option<DenseIndex>,
    bm25: Option<Bm25>,
    /// Chunks covered by `dense` (`chunks[..built]`).
    built: usize,
    /// The delta segment: embeddings (row-major, `dim` floats each) of the chunks added since the
    /// last build, `chunks[built..]`, searched by exact scan beside `dense`. Only non-empty once
    /// built; `bm25` already holds these chunks (pushed when they were added).
    delta: Vec<f32>,
    /// Quantized rows for chunks not embedded yet (only before the first build), taken from a
    /// previous index or given by [`Docent::set_vectors`]: `(chunk id, scale)` in the order they
    /// came, and their int8 codes (row-major, `dim` each) in the same order. `build` embeds only
    /// the chunks without a row.
    carried: Vec<(u32, f32)>,
    carried_codes: Vec<i8>,
    /// The previous index whose work `add_document` reuses (see [`Docent::reuse_from`]).
    previous: Option<Box<Previous>>,
    /// Counts for [`Docent::reuse_report`].
    reuse: Reuse,
    /// Size limits checked before work that needs memory.
    limits: Limits,
    /// The gate calibrated on this corpus by the last build (or read from the index file);
    /// `None`: the fixed per-embedder gate decides.
    site_gate: Option<crate::gate::SiteGate>,
}

impl std::fmt::Debug for Docent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docent").field("stats", &self.stats()).finish()
    }
}

impl Docent {
    /// An empty engine that embeds with `embedder`, with the size limits [`Limits::NATIVE`]
    /// (see [`Docent::set_limits`]). Options are validated here.
    pub fn new(embedder: Arc<dyn Embedder>, options: Options) -> Result<Self> {
        options.chunk.validate()?;
        options.retrieve.validate()?;
        options.bm25.validate()?;
        let counter = TokenCounter::for_embedder(embedder.as_ref())?;
        Ok(Docent {
            options,
            version: env!("CARGO_PKG_VERSION").to_string(),
            embedder,
            counter,
            docs: Vec::new(),
            chunks: Vec::new(),
            dense: None,
            bm25: None,
            built: 0,
            delta: Vec::new(),
            carried: Vec::new(),
            carried_codes: Vec::new(),
            previous: None,
            reuse: Reuse::default(),
            limits: Limits::NATIVE,
            site_gate: None,
        })
    }

    /// The size limits in force (see [`Limits`]).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Replaces the size limits (see [`Limits`]); they apply to documents added from now on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The options this index was built with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The embedder's record.
    pub fn embedder_info(&self) -> &EmbedderInfo {
        self.embedder.info()
    }

    /// The token counter used for chunk and prompt budgets.
    pub fn counter(&self) -> &TokenCounter {
        &self.counter
    }

    /// Replaces the token counter used for prompt budgets (e.g. the target LLM's tokenizer).
    pub fn set_prompt_counter(&mut self, counter: TokenCounter) {
        self.counter = counter;
    }

    /// The documents, in insertion order (removed ones have `live == false`).
    pub fn documents(&self) -> &[DocEntry] {
        &self.docs
    }

    /// Counts describing the index.
    pub fn stats(&self) -> Stats {
        Stats {
            documents: self.docs.iter().filter(|d| d.live).count(),
            chunks: self.chunks.iter().filter(|c| self.docs[c.doc as usize].live).count(),
            pending: self.chunks.len() - self.built,
            embedder: self.embedder.info().clone(),
            dense_kind: self.dense.as_ref().map(|d| d.kind().to_string()).unwrap_or_default(),
            dense_bytes: self.dense.as_ref().map_or(0, |d| d.memory_bytes()),
        }
    }

    /// The embedder family of this index.
    pub fn embedder_kind(&self) -> EmbedderKind {
        self.embedder.info().kind
    }

    /// The chunks of live documents in id order, each with its id and document (the fragment
    /// writer numbers them 0..n in this order).
    pub(crate) fn live_chunks(&self) -> impl Iterator<Item = (u32, &Chunk, &DocEntry)> + '_ {
        self.chunks.iter().enumerate().filter_map(|(i, c)| {
            let d = &self.docs[c.doc as usize];
            d.live.then_some((i as u32, c, d))
        })
    }

    /// The gate calibrated on this corpus (`None`: an index written before calibrated gates, a
    /// corpus too small to calibrate on, or caller-given vectors; the fixed gate decides).
    pub fn site_gate(&self) -> Option<&crate::gate::SiteGate> {
        self.site_gate.as_ref()
    }

    /// Fits the site's gate on calibration queries generated from the corpus
    /// ([`crate::gate`]) and keeps it (stored by [`Docent::to_bytes`] and the fragment writer);
    /// `docent index` calls it after [`Docent::build`], `docent eval --refit` on a loaded index.
    /// A separate step, not part of `build`: it embeds about 300 queries, and a build's embedder
    /// calls stay exactly the chunks it embeds. Nothing is kept for an index of caller-given
    /// vectors or a corpus too small to calibrate on (the fixed gate decides then).
    ///
    /// Errors: the embedder's, or [`crate::Error::NotBuilt`] when documents were added after the
    /// last build.
    pub fn calibrate_gate(&mut self) -> Result<()> {
        self.calibrate_gate_with(&[])
    }

    /// [`Docent::calibrate_gate`], with `words` counted as common words beside the embedder's
    /// vocabulary: an English word list's ([`crate::gate::dictionary_words`]), so that an
    /// ordinary word the corpus lacks ("coworker", "unbearably", rarer than the vocabulary's
    /// whole words) weighs as a plain word and not as a missing name. Empty: the vocabulary
    /// alone, as `calibrate_gate`.
    pub fn calibrate_gate_with(&mut self, words: &[&str]) -> Result<()> {
        if self.stats().pending > 0 || !self.delta.is_empty() {
            return Err(crate::Error::NotBuilt);
        }
        self.site_gate = self.fit_gate(words)?;
        Ok(())
    }

    /// The BM25 index (`None` before the first build).
    pub(crate) fn bm25_index(&self) -> Option<&Bm25> {
        self.bm25.as_ref()
    }

    /// The main dense index (`None` before the first build); it covers every chunk when
    /// [`Stats::pending`] is 0.
    pub(crate) fn dense_index(&self) -> Option<&DenseIndex> {
        self.dense.as_ref()
    }
}
