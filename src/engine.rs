//! The engine: documents in, hits and grounded prompts out.
//!
//! Owns: the document and chunk lists, calling the embedder, building both indexes, running a
//! query through retrieval and prompt assembly, and (de)serialising the whole index.
//! Must not: read files or know about JavaScript; callers (CLI, wasm edge) do I/O.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::chunk::{chunk_document, Chunk, ChunkOptions};
use crate::embed::{Embedder, EmbedderInfo, EmbedderKind};
use crate::index::bm25::{Bm25, Bm25Params};
use crate::index::dense::{DenseIndex, DenseOptions};
use crate::ingest::Document;
use crate::prompt::{self, Prompt, PromptOptions, Source};
use crate::retrieve::{dedupe, fuse, limit_per_page, Gate, RetrieveOptions};
use crate::tokens::TokenCounter;
use crate::{format, Error, Result};

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
    /// xxh3 fingerprint of the document's extracted text, for incremental re-indexing.
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

/// The evidence the relevance gate looked at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Best dense cosine similarity among the candidates (-1 when there were none).
    pub dense: f32,
    /// Best fraction of the query's IDF mass contained in one of the top lexical hits (0..=1).
    pub coverage: f32,
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

#[derive(Serialize, Deserialize)]
struct Meta {
    docent_version: String,
    embedder: EmbedderInfo,
    options: Options,
    documents: usize,
    chunks: usize,
}

/// The retrieval engine. Build one with [`Docent::new`], add documents, [`Docent::build`], then
/// [`Docent::search`] or [`Docent::assemble`]; or load a built one with [`Docent::from_bytes`].
pub struct Docent {
    options: Options,
    embedder: Arc<dyn Embedder>,
    counter: TokenCounter,
    docs: Vec<DocEntry>,
    chunks: Vec<Chunk>,
    /// Embeddings of `chunks[..vectors.len() / dim]`.
    vectors: Vec<f32>,
    dense: Option<DenseIndex>,
    bm25: Option<Bm25>,
    /// Chunks covered by `dense` (`chunks[..built]`).
    built: usize,
    /// The delta segment: embeddings (row-major, `dim` floats each) of the chunks added since the
    /// last build, `chunks[built..]`, searched by exact scan beside `dense`. Only non-empty once
    /// built; `bm25` already holds these chunks (pushed when they were added).
    delta: Vec<f32>,
}

impl std::fmt::Debug for Docent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docent").field("stats", &self.stats()).finish()
    }
}

const BATCH: usize = 32;

impl Docent {
    /// An empty engine that embeds with `embedder`. Options are validated here.
    pub fn new(embedder: Arc<dyn Embedder>, options: Options) -> Result<Self> {
        options.chunk.validate()?;
        options.retrieve.validate()?;
        let counter = match embedder.tokenizer() {
            Some(t) => TokenCounter::from_tokenizer(t)?,
            None => TokenCounter::Approx,
        };
        Ok(Docent {
            options,
            embedder,
            counter,
            docs: Vec::new(),
            chunks: Vec::new(),
            vectors: Vec::new(),
            dense: None,
            bm25: None,
            built: 0,
            delta: Vec::new(),
        })
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

    /// Adds a document and returns its number of chunks. On error nothing is added.
    ///
    /// Before the first [`Docent::build`] the document is only chunked (embedded by the build).
    /// Once the index is built, its chunks are embedded now and searchable at once: their vectors
    /// go to a delta segment scanned exactly beside the main dense index, their text into BM25;
    /// the next [`Docent::build`] merges the delta into the main index.
    pub fn add_document(&mut self, doc: Document) -> Result<usize> {
        if doc.url.trim().is_empty() {
            return Err(Error::Document { url: "(no url)".into(), reason: "the url is empty".into() });
        }
        if self.docs.iter().any(|d| d.live && d.url == doc.url) {
            return Err(Error::Document {
                url: doc.url,
                reason: "a document with this url is already in the index; remove it first".into(),
            });
        }
        let id = self.docs.len() as u32;
        let chunks = chunk_document(&doc, id, &self.counter, &self.options.chunk)?;
        if chunks.is_empty() {
            return Err(Error::Document {
                url: doc.url,
                reason: "no text to index (the document is empty after extraction)".into(),
            });
        }
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        for s in &doc.sections {
            hasher.update(s.headings.join("\u{1f}").as_bytes());
            hasher.update(b"\x1e");
            hasher.update(s.text.as_bytes());
            hasher.update(b"\x1d");
        }
        let n = chunks.len();
        let title = doc.title;
        // Once built, embed now (before changing anything, so an embedder error adds nothing).
        let new_vectors = if self.dense.is_some() {
            let texts: Vec<String> = chunks.iter().map(|c| c.indexed_text(&title)).collect();
            Some((self.embed_many(&texts)?, texts))
        } else {
            None
        };
        if let (Some((vectors, texts)), Some(bm25)) = (new_vectors, self.bm25.as_mut()) {
            for (t, c) in texts.iter().zip(&chunks) {
                // The same text the build gives BM25 (heading path once more; see `build`).
                bm25.push(&format!("{}\n{t}", c.heading));
            }
            self.delta.extend_from_slice(&vectors);
        }
        self.docs.push(DocEntry {
            url: doc.url,
            title,
            hash: format!("{:016x}", hasher.digest()),
            live: true,
        });
        self.chunks.extend(chunks);
        Ok(n)
    }

    /// Removes the live document with this `url` and returns how many chunks it had. Its chunks
    /// leave search results at once; the next [`Docent::build`] drops them from the dense index's
    /// statistics too. Errors: no live document has this url (nothing changes).
    pub fn remove_document(&mut self, url: &str) -> Result<usize> {
        let Some(id) = self.docs.iter().position(|d| d.live && d.url == url) else {
            return Err(Error::Document {
                url: url.to_string(),
                reason: "no document with this url is in the index".into(),
            });
        };
        self.docs[id].live = false;
        let mut n = 0;
        for (i, c) in self.chunks.iter().enumerate() {
            if c.doc as usize == id {
                n += 1;
                if let Some(bm25) = self.bm25.as_mut() {
                    bm25.remove(i as u32);
                }
            }
        }
        Ok(n)
    }

    /// Exact cosine top-`k` over the delta segment; ids are chunk ids.
    fn search_delta(&self, query: &[f32], k: usize) -> Vec<(u32, f32)> {
        let dim = self.embedder.info().dim;
        if dim == 0 || self.delta.is_empty() {
            return Vec::new();
        }
        let qn = query.iter().map(|x| x * x).sum::<f32>().sqrt();
        let mut hits: Vec<(u32, f32)> = self
            .delta
            .chunks_exact(dim)
            .enumerate()
            .map(|(i, row)| {
                let dot: f32 = row.iter().zip(query).map(|(a, b)| a * b).sum();
                let rn = row.iter().map(|x| x * x).sum::<f32>().sqrt();
                let cos = if qn > 0.0 && rn > 0.0 { (dot / (qn * rn)).clamp(-1.0, 1.0) } else { 0.0 };
                ((self.built + i) as u32, cos)
            })
            .collect();
        sort_by_score(&mut hits);
        hits.truncate(k);
        hits
    }

    /// Embeds every chunk not embedded yet and (re)builds the dense and lexical indexes.
    pub fn build(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<()> {
        let dim = self.embedder.info().dim;
        let total = self.chunks.len();
        // The delta's vectors are the embeddings of `chunks[built..]`: keep them when `vectors`
        // ends exactly at `built` (after a load `vectors` is empty and everything is re-embedded).
        if !self.delta.is_empty() && self.vectors.len() == self.built * dim {
            self.vectors.extend_from_slice(&self.delta);
        }
        self.delta.clear();
        let mut done = self.vectors.len() / dim.max(1);
        progress(Progress { stage: "embed", done, total });
        while done < total {
            let end = (done + BATCH * 4).min(total);
            let texts: Vec<String> = self.chunks[done..end]
                .iter()
                .map(|c| c.indexed_text(&self.docs[c.doc as usize].title))
                .collect();
            let vecs = self.embed_many(&texts)?;
            self.vectors.extend_from_slice(&vecs);
            done = end;
            progress(Progress { stage: "embed", done, total });
        }
        progress(Progress { stage: "dense", done: 0, total });
        let dense = DenseIndex::build(&self.vectors, dim, &self.options.dense)?;
        progress(Progress { stage: "lexical", done: 0, total });
        // BM25 sees the heading path twice (once more than the embedder): a heading names what
        // its section is about, and on the Cargo-book development questions the boost raised
        // lexical recall@5 from 0.52 to 0.56.
        let texts: Vec<String> = self
            .indexed_texts()
            .into_iter()
            .zip(&self.chunks)
            .map(|(t, c)| format!("{}\n{t}", c.heading))
            .collect();
        let mut bm25 = Bm25::build(texts.iter().map(String::as_str), self.options.bm25.clone());
        for (i, c) in self.chunks.iter().enumerate() {
            if !self.docs[c.doc as usize].live {
                bm25.remove(i as u32);
            }
        }
        self.dense = Some(dense);
        self.bm25 = Some(bm25);
        self.built = total;
        progress(Progress { stage: "lexical", done: total, total });
        Ok(())
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn embed_many(&self, texts: &[String]) -> Result<Vec<f32>> {
        use rayon::prelude::*;
        let parts: Vec<Result<Vec<f32>>> = texts
            .par_chunks(BATCH)
            .map(|b| {
                let refs: Vec<&str> = b.iter().map(String::as_str).collect();
                self.embedder.embed(&refs)
            })
            .collect();
        let mut out = Vec::with_capacity(texts.len() * self.embedder.info().dim);
        for p in parts {
            out.extend(p?);
        }
        Ok(out)
    }

    #[cfg(target_arch = "wasm32")]
    fn embed_many(&self, texts: &[String]) -> Result<Vec<f32>> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        self.embedder.embed(&refs)
    }

    /// The text of every chunk as it is embedded and indexed (heading path, then text).
    pub fn indexed_texts(&self) -> Vec<String> {
        self.chunks.iter().map(|c| c.indexed_text(&self.docs[c.doc as usize].title)).collect()
    }

    /// Embeds texts with the index's own embedder: `texts.len() × dim` floats, row-major.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<f32>> {
        self.embedder.embed(texts)
    }

    /// Searches with the index's retrieval options.
    pub fn search(&self, query: &str, k: usize) -> Result<SearchResult> {
        self.search_with(query, k, &self.options.retrieve)
    }

    /// Searches with explicit retrieval options (mode, candidates, gate…).
    pub fn search_with(&self, query: &str, k: usize, opts: &RetrieveOptions) -> Result<SearchResult> {
        opts.validate()?;
        if k == 0 || k > 1000 {
            return Err(Error::invalid("k", format!("expected 1..=1000 results, found {k}")));
        }
        let query = query.trim();
        if query.is_empty() {
            return Err(Error::invalid("query", "expected non-empty text"));
        }
        let (Some(dense), Some(bm25)) = (&self.dense, &self.bm25) else {
            return Err(Error::NotBuilt);
        };
        let cand = opts.candidates.max(k * 2);
        let qv = self.embedder.embed(&[query])?;
        let live = |id: u32| -> bool {
            self.chunks.get(id as usize).is_some_and(|c| self.docs[c.doc as usize].live)
        };
        let mut dense_hits: Vec<(u32, f32)> = dense.search(&qv, cand)?;
        if !self.delta.is_empty() {
            // Main and delta hits compete by score.
            dense_hits.extend(self.search_delta(&qv, cand));
            sort_by_score(&mut dense_hits);
            dense_hits.truncate(cand);
        }
        let dense_hits: Vec<(u32, f32)> = dense_hits.into_iter().filter(|&(id, _)| live(id)).collect();
        let lexical_hits: Vec<(u32, f32)> =
            bm25.search(query, cand).into_iter().filter(|&(id, _)| live(id)).collect();
        let evidence = Evidence {
            dense: dense_hits.iter().map(|h| h.1).fold(-1.0, f32::max),
            coverage: lexical_hits
                .iter()
                .take(5)
                .map(|&(id, _)| bm25.coverage(query, id))
                .fold(0.0, f32::max),
        };
        let gate = opts.gate.unwrap_or_else(|| Gate::for_embedder(self.embedder.info().kind));
        let answerable = gate.passes(evidence.dense, evidence.coverage);
        let fused = fuse(&dense_hits, &lexical_hits, opts.rrf_k, opts.lexical_weight, opts.mode);
        let fused = dedupe(fused, |f| {
            let c = &self.chunks[f.id as usize];
            (c.url.as_str(), c.text.as_str())
        });
        let fused = limit_per_page(fused, opts.max_per_page, |f| &self.chunks[f.id as usize].url);
        let hits = fused
            .into_iter()
            .take(k)
            .map(|f| {
                let c = &self.chunks[f.id as usize];
                Hit {
                    url: c.url.clone(),
                    title: self.docs[c.doc as usize].title.clone(),
                    heading: c.heading.clone(),
                    score: f.score,
                    text: c.text.clone(),
                    dense: f.dense,
                    lexical: f.lexical,
                    chunk: f.id,
                }
            })
            .collect();
        Ok(SearchResult { answerable, hits, evidence })
    }

    /// Retrieves sources for `question` and assembles a grounded prompt.
    pub fn assemble(&self, question: &str, opts: &PromptOptions) -> Result<Prompt> {
        opts.validate()?;
        let result = self.search(question, opts.k)?;
        let sources: Vec<Source> = result
            .hits
            .iter()
            .map(|h| Source {
                n: 0,
                url: h.url.clone(),
                title: h.title.clone(),
                heading: h.heading.clone(),
                text: h.text.clone(),
                score: h.score,
            })
            .collect();
        prompt::assemble(question, &sources, result.answerable, &self.counter, opts)
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

    /// Serialises the built index (see [`crate::format`]), delta segment and removals included.
    /// Fails with [`Error::NotBuilt`] before the first build.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let (Some(dense), Some(bm25)) = (&self.dense, &self.bm25) else {
            return Err(Error::NotBuilt);
        };
        if self.built + self.delta.len() / self.embedder.info().dim.max(1) != self.chunks.len() {
            return Err(Error::NotBuilt);
        }
        let meta = Meta {
            docent_version: env!("CARGO_PKG_VERSION").to_string(),
            embedder: self.embedder.info().clone(),
            options: self.options.clone(),
            documents: self.docs.len(),
            chunks: self.chunks.len(),
        };
        let meta = serde_json::to_vec(&meta).map_err(|e| Error::format("index", e.to_string()))?;
        let docs = format::encode(&self.docs)?;
        let chunks = format::encode(&self.chunks)?;
        let dense = format::encode(dense)?;
        let bm25 = format::encode(bm25)?;
        let delta = format::encode(&self.delta)?;
        let mut sections: Vec<(&str, &[u8])> =
            vec![("meta", &meta), ("docs", &docs), ("chunks", &chunks), ("dense", &dense), ("bm25", &bm25)];
        // Written only when non-empty, so an index without a delta is byte-identical to one
        // written before the section existed (a missing `delta` section reads as empty).
        if !self.delta.is_empty() {
            sections.push(("delta", &delta));
        }
        Ok(format::write(&sections))
    }

    /// Reads the embedder record of a serialised index without loading it, so the caller can
    /// load the right model first. `what` names the file in errors.
    pub fn embedder_of(bytes: &[u8], what: &str) -> Result<EmbedderInfo> {
        let sections = format::read(bytes, what)?;
        let meta: Meta = read_meta(&sections, what)?;
        Ok(meta.embedder)
    }

    /// Loads a serialised index. `embedder` must be the one that built it (same kind, dimension
    /// and weights fingerprint), else [`Error::EmbedderMismatch`]. `what` names the file in errors.
    pub fn from_bytes(bytes: &[u8], embedder: Arc<dyn Embedder>, what: &str) -> Result<Self> {
        let sections = format::read(bytes, what)?;
        let meta = read_meta(&sections, what)?;
        let given = embedder.info();
        if meta.embedder.kind != given.kind
            || meta.embedder.dim != given.dim
            || meta.embedder.fingerprint != given.fingerprint
        {
            return Err(Error::EmbedderMismatch {
                index: meta.embedder.to_string(),
                given: given.to_string(),
            });
        }
        let docs: Vec<DocEntry> = format::decode(format::section(&sections, "docs", what)?, "docs", what)?;
        let chunks: Vec<Chunk> = format::decode(format::section(&sections, "chunks", what)?, "chunks", what)?;
        let dense: DenseIndex = format::decode(format::section(&sections, "dense", what)?, "dense", what)?;
        let bm25: Bm25 = format::decode(format::section(&sections, "bm25", what)?, "bm25", what)?;
        let delta: Vec<f32> = if sections.iter().any(|s| s.name == "delta") {
            format::decode(format::section(&sections, "delta", what)?, "delta", what)?
        } else {
            Vec::new()
        };
        if docs.len() != meta.documents || chunks.len() != meta.chunks {
            return Err(Error::format(
                what,
                format!(
                "inconsistent: the header promises {} documents and {} chunks, the sections hold {} and {}",
                meta.documents, meta.chunks, docs.len(), chunks.len()
            ),
            ));
        }
        let live_chunks = chunks.iter().filter(|c| docs.get(c.doc as usize).is_some_and(|d| d.live)).count();
        if delta.len() % given.dim.max(1) != 0
            || dense.len() + delta.len() / given.dim.max(1) != chunks.len()
            || dense.dim() != given.dim
        {
            return Err(Error::format(what, format!(
                "inconsistent: {} chunks but the dense index holds {} vectors of {} dimensions and the delta {} floats",
                chunks.len(), dense.len(), dense.dim(), delta.len()
            )));
        }
        if bm25.len() != live_chunks {
            return Err(Error::format(
                what,
                format!("inconsistent: {live_chunks} live chunks but BM25 holds {} entries", bm25.len()),
            ));
        }
        if let Some(c) = chunks.iter().find(|c| c.doc as usize >= docs.len()) {
            return Err(Error::format(
                what,
                format!("inconsistent: chunk {} points at document {} of {}", c.url, c.doc, docs.len()),
            ));
        }
        let mut d = Docent::new(embedder, meta.options)?;
        d.built = dense.len();
        d.delta = delta;
        d.docs = docs;
        d.chunks = chunks;
        d.dense = Some(dense);
        d.bm25 = Some(bm25);
        Ok(d)
    }

    /// The embedder family of this index.
    pub fn embedder_kind(&self) -> EmbedderKind {
        self.embedder.info().kind
    }
}

/// Best first; ties by ascending id so results are deterministic.
fn sort_by_score(hits: &mut [(u32, f32)]) {
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
}

fn read_meta(sections: &[format::SectionRef<'_>], what: &str) -> Result<Meta> {
    let body = format::section(sections, "meta", what)?;
    serde_json::from_slice(body)
        .map_err(|e| Error::format(what, format!("section 'meta' could not be decoded: {e}")))
}
