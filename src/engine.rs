//! The engine: documents in, hits and grounded prompts out.
//!
//! Owns: the document and chunk lists, calling the embedder, building both indexes, running a
//! query through retrieval and prompt assembly, and (de)serialising the whole index.
//! Must not: read files or know about JavaScript; callers (CLI, wasm edge) do I/O.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::chunk::{chunk_document, Chunk, ChunkOptions};
use crate::embed::{Embedder, EmbedderInfo, EmbedderKind};
use crate::index::bm25::{is_invisible, Bm25, Bm25Params};
use crate::index::dense::{quantize_rows, DenseIndex, DenseOptions};
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

/// Size limits that keep an index inside the memory it runs in, checked before the work that
/// would need the memory: [`Docent::add_document`] refuses a document that is too large or would
/// push the index past `max_chunks`, [`Docent::from_bytes`] refuses an index that holds more
/// chunks. Both fail with a message naming the limit, never with an out-of-memory abort.
///
/// The defaults depend on the target. Natively they are what the data types hold (chunk ids and
/// byte offsets are `u32`). In WebAssembly (wasm32: one linear memory of at most 4 GiB, and an
/// allocation that fails there aborts the whole module) they come from measurements of the
/// browser build (`node bench/wasm_memory.mjs`, see `bench/README.md`). At 495,646 chunks of 384
/// dimensions (the layout of a MiniLM index; HNSW) the memory peaked at 1.42 GiB in `build()`,
/// 2.10 GiB in `toBytes()` and 2.40 GiB in `fromBytes()` (whose input is copied in whole), plus
/// 0.12 GiB for the MiniLM model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most chunks one index holds. Default [`Limits::MAX_CHUNKS_WASM`] in wasm32,
    /// `u32::MAX` natively. Range 1..=`u32::MAX`.
    pub max_chunks: usize,
    /// Most bytes of UTF-8 text in one document (all its sections, headings and title), checked
    /// before it is chunked. Default [`Limits::MAX_DOCUMENT_BYTES_WASM`] in wasm32, `u32::MAX`
    /// natively (chunk offsets are `u32`). Range 1..=`u32::MAX`.
    pub max_document_bytes: usize,
}

impl Limits {
    /// The default `max_chunks` of the browser build: 500,000 chunks (a few hundred MB of text)
    /// peak at about 2.5 GiB with the MiniLM model (see above), which leaves a quarter of the
    /// 4 GiB for the caller's copies, fragmentation and larger chunks.
    pub const MAX_CHUNKS_WASM: usize = 500_000;
    /// The default `max_document_bytes` of the browser build: 64 MiB (a page of 50 MB of text
    /// makes about 40,000 chunks and passes through the HTML parser and the tokenizer whole).
    pub const MAX_DOCUMENT_BYTES_WASM: usize = 64 * 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        if cfg!(target_arch = "wasm32") {
            Limits { max_chunks: Self::MAX_CHUNKS_WASM, max_document_bytes: Self::MAX_DOCUMENT_BYTES_WASM }
        } else {
            Limits { max_chunks: u32::MAX as usize, max_document_bytes: u32::MAX as usize }
        }
    }
}

impl Limits {
    /// Checks the size of a document's content (`bytes` of text) before it is parsed or chunked.
    pub fn check_document(&self, url: &str, bytes: usize) -> Result<()> {
        if bytes > self.max_document_bytes {
            return Err(Error::Document {
                url: url.to_string(),
                reason: format!(
                    "{bytes} bytes of text; at most {} bytes{} fit in one document{}; split it into several documents",
                    self.max_document_bytes,
                    human_bytes(self.max_document_bytes),
                    where_limit()
                ),
            });
        }
        Ok(())
    }

    /// Checks that an index of `chunks` chunks fits; `what` is what holds them.
    fn check_chunks(&self, what: impl FnOnce() -> Error, chunks: usize) -> Result<()> {
        if chunks > self.max_chunks {
            return Err(what());
        }
        Ok(())
    }
}

/// " in the browser build (wasm32 memory is at most 4 GiB)" in wasm32, nothing natively.
fn where_limit() -> &'static str {
    if cfg!(target_arch = "wasm32") {
        " in the browser build (wasm32 memory is at most 4 GiB)"
    } else {
        ""
    }
}

/// ` (64 MiB)`, ` (1.5 GiB)`: a size of 1 KiB or more in binary units, for messages; empty below.
fn human_bytes(n: usize) -> String {
    if n < 1 << 10 {
        String::new()
    } else {
        format!(" ({})", crate::site::human_bytes(n as u64, crate::site::Units::Binary))
    }
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

/// The reusable work of a previous index, held from [`Docent::reuse_from`] until the next
/// [`Docent::build`].
struct Previous {
    docs: Vec<DocEntry>,
    chunks: Vec<Chunk>,
    /// The chunks of each document (a document's chunks are contiguous).
    ranges: Vec<Range<usize>>,
    /// Live documents by url.
    by_url: HashMap<String, usize>,
    /// int8 codes of every chunk, row-major `chunks.len() × dim`.
    codes: Vec<i8>,
    /// The scale of every chunk's row.
    scales: Vec<f32>,
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
}

impl std::fmt::Debug for Docent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docent").field("stats", &self.stats()).finish()
    }
}

/// Texts per embedder call when a build embeds chunks, on every platform (natively these calls
/// run in parallel), and so the size of a [`PendingGroup`]: the embedder sorts and batches within
/// one call, so a chunk's vector depends on the group of `BATCH` it came in.
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
            limits: Limits::default(),
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

    /// Adds a document and returns its number of chunks. On error nothing is added.
    ///
    /// Before the first [`Docent::build`] the document is only chunked (embedded by the build).
    /// Once the index is built, its chunks are embedded now and searchable at once: their vectors
    /// go to a delta segment scanned exactly beside the main dense index, their text into BM25;
    /// the next [`Docent::build`] merges the delta into the main index.
    ///
    /// After [`Docent::reuse_from`], a document whose url and [`document_hash`] match a live
    /// document of the previous index takes that document's chunks and vectors instead (no
    /// chunking now, no embedding in the build).
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
        let size = doc.title.len()
            + doc
                .sections
                .iter()
                .map(|s| s.text.len() + s.headings.iter().map(String::len).sum::<usize>())
                .sum::<usize>();
        self.limits.check_document(&doc.url, size)?;
        let id = self.docs.len() as u32;
        let hash = document_hash(&doc);
        if let Some(n) = self.add_reused(&doc, &hash) {
            return Ok(n);
        }
        let chunks = chunk_document(&doc, id, &self.counter, &self.options.chunk)?;
        if chunks.is_empty() {
            return Err(Error::Document {
                url: doc.url,
                reason: "no text to index (the document is empty after extraction)".into(),
            });
        }
        let total = self.chunks.len() + chunks.len();
        let limits = self.limits;
        limits.check_chunks(
            || Error::Document {
                url: doc.url.clone(),
                reason: format!(
                    "its {} chunks would make the index hold {total}; at most {} fit{}; index large sites natively with `docent index`, or split the corpus",
                    chunks.len(),
                    limits.max_chunks,
                    where_limit()
                ),
            },
            total,
        )?;
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
        self.docs.push(DocEntry { url: doc.url, title, hash, live: true });
        self.chunks.extend(chunks);
        self.reuse.embedded += 1;
        self.reuse.embedded_chunks += n;
        Ok(n)
    }

    /// Adds `doc` with the chunks and rows of the previous index's document of the same url,
    /// when there is one with the same hash; returns its number of chunks, or `None` (nothing
    /// added) when the document has to be chunked and embedded.
    fn add_reused(&mut self, doc: &Document, hash: &str) -> Option<usize> {
        let prev = self.previous.as_deref()?;
        let &pid = prev.by_url.get(&doc.url)?;
        if prev.docs[pid].hash != hash || self.chunks.len() + prev.ranges[pid].len() > self.limits.max_chunks
        {
            return None;
        }
        let id = self.docs.len() as u32;
        let dim = self.embedder.info().dim;
        let range = prev.ranges[pid].clone();
        let n = range.len();
        for i in range {
            self.carried.push((self.chunks.len() as u32, prev.scales[i]));
            self.carried_codes.extend_from_slice(&prev.codes[i * dim..(i + 1) * dim]);
            self.chunks.push(Chunk { doc: id, ..prev.chunks[i].clone() });
        }
        self.docs.push(DocEntry {
            url: doc.url.clone(),
            title: doc.title.clone(),
            hash: hash.to_string(),
            live: true,
        });
        self.reuse.reused += 1;
        self.reuse.reused_chunks += n;
        Some(n)
    }

    /// Lets the documents added next reuse the work stored in `previous`, typically the index
    /// built from the same site before: [`Docent::add_document`] gives a document whose url and
    /// [`document_hash`] match a live document of `previous` that document's chunks and quantized
    /// vectors (bit for bit), so [`Docent::build`] embeds only new and changed documents, and
    /// documents not added again are simply gone. The result is the index a full build would
    /// give (chunking and embedding are deterministic for one embedder, chunk options and docent
    /// version).
    ///
    /// Call it on an empty engine, before adding documents (else an error, and nothing changes).
    /// When `previous` cannot be reused — another embedder (kind, dimension or weights
    /// fingerprint), other chunk options, another docent version, or not built — nothing of it is
    /// kept, every document is embedded anew, and [`Reuse::rebuild`] says why.
    pub fn reuse_from(&mut self, previous: Docent) -> Result<()> {
        self.start_reuse()?;
        match Previous::take(previous, self.embedder.info(), &self.options) {
            Ok(p) => self.previous = Some(Box::new(p)),
            Err(reason) => self.reuse.rebuild = Some(reason),
        }
        Ok(())
    }

    /// Checks that reuse may start (an empty, unbuilt engine) and forgets an earlier previous.
    fn start_reuse(&mut self) -> Result<()> {
        if !self.docs.is_empty() || self.dense.is_some() {
            return Err(Error::invalid(
                "reuse_from",
                "expected an empty engine (call it before adding documents and before building)",
            ));
        }
        self.previous = None;
        self.reuse = Reuse::default();
        Ok(())
    }

    /// [`Docent::reuse_from`] with a serialised index (e.g. the `index.bin` an earlier run
    /// wrote), loaded with this engine's embedder. An index that cannot be loaded — corrupted,
    /// truncated, another format version, another embedder — is not an error: nothing is reused
    /// and [`Reuse::rebuild`] says why. `what` names the file in that reason.
    pub fn reuse_from_bytes(&mut self, bytes: &[u8], what: &str) -> Result<()> {
        self.start_reuse()?;
        match Docent::from_bytes(bytes, self.embedder.clone(), what) {
            Ok(previous) => self.reuse_from(previous),
            Err(e) => {
                self.reuse.rebuild = Some(match e {
                    Error::EmbedderMismatch { index, given } => {
                        format!("the previous index was built with {index}; this one uses {given}")
                    }
                    e => format!("the previous index could not be loaded: {e}"),
                });
                Ok(())
            }
        }
    }

    /// What the documents added so far reused (see [`Docent::reuse_from`]). Without a previous
    /// index every document counts as embedded. `removed` is filled in by [`Docent::build`].
    pub fn reuse_report(&self) -> &Reuse {
        &self.reuse
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
    ///
    /// Chunks already in the dense index, in the delta segment or carried over from a previous
    /// index ([`Docent::reuse_from`]) are not embedded again: their int8 rows are reused as they
    /// are. On error the engine is left as it was (documents added since the last build stay
    /// pending).
    pub fn build(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<()> {
        let dim = self.embedder.info().dim;
        let total = self.chunks.len();
        // Every chunk's row: those of the main dense index (`chunks[..built]`), then the delta's
        // (`chunks[built..]`, f32: quantized as a build always does), then carried rows.
        let (mut codes, mut scales) = match &self.dense {
            Some(d) => d.quantized_rows(),
            None => (Vec::new(), Vec::new()),
        };
        let mut known = vec![true; scales.len()];
        if !self.delta.is_empty() {
            let (c, s) = quantize_rows(&self.delta, dim)?;
            codes.extend_from_slice(&c);
            scales.extend_from_slice(&s);
            known.resize(scales.len(), true);
        }
        if scales.len() > total {
            return Err(Error::format(
                "index",
                format!("inconsistent: {} vectors for {total} chunks", scales.len()),
            ));
        }
        codes.resize(total * dim, 0);
        scales.resize(total, 0.0);
        known.resize(total, false);
        for (i, &(chunk, scale)) in self.carried.iter().enumerate() {
            let c = chunk as usize;
            if c < total {
                codes[c * dim..(c + 1) * dim].copy_from_slice(&self.carried_codes[i * dim..(i + 1) * dim]);
                scales[c] = scale;
                known[c] = true;
            }
        }
        let missing: Vec<usize> = (0..total).filter(|&i| !known[i]).collect();
        let mut done = total - missing.len();
        progress(Progress { stage: "embed", done, total });
        for batch in missing.chunks(BATCH * 4) {
            let texts: Vec<String> = batch
                .iter()
                .map(|&i| self.chunks[i].indexed_text(&self.docs[self.chunks[i].doc as usize].title))
                .collect();
            let (c, s) = quantize_rows(&self.embed_many(&texts)?, dim)?;
            for (j, &i) in batch.iter().enumerate() {
                codes[i * dim..(i + 1) * dim].copy_from_slice(&c[j * dim..(j + 1) * dim]);
                scales[i] = s[j];
            }
            done += batch.len();
            progress(Progress { stage: "embed", done, total });
        }
        progress(Progress { stage: "dense", done: 0, total });
        let dense = DenseIndex::from_quantized(codes, scales, dim, &self.options.dense)?;
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
        self.delta.clear();
        self.carried.clear();
        self.carried_codes.clear();
        if let Some(prev) = self.previous.take() {
            let live: HashSet<&str> = self.docs.iter().filter(|d| d.live).map(|d| d.url.as_str()).collect();
            self.reuse.removed = prev.by_url.keys().filter(|u| !live.contains(u.as_str())).count();
        }
        progress(Progress { stage: "lexical", done: total, total });
        Ok(())
    }

    /// Chunks without a vector yet, ascending: past the main dense index and the delta segment,
    /// and not carried over (reused or given by [`Docent::set_vectors`]). The chunks the next
    /// [`Docent::build`] embeds.
    fn pending_chunks(&self) -> Vec<usize> {
        let dim = self.embedder.info().dim.max(1);
        let have = self.built + self.delta.len() / dim;
        let carried: HashSet<u32> = self.carried.iter().map(|&(c, _)| c).collect();
        (have..self.chunks.len()).filter(|&i| !carried.contains(&(i as u32))).collect()
    }

    /// The chunks the next [`Docent::build`] would embed, with their texts, in the groups it
    /// would give the embedder in one call each (at most 32 chunks). Lets a caller embed them
    /// elsewhere — e.g. in several Web Workers, each with the same model — and hand the vectors
    /// back with [`Docent::set_vectors`]: embedding each group with one `embed(texts)` call of the
    /// same embedder gives exactly the vectors, and so the index bytes, that `build` would.
    ///
    /// Empty once built: documents added after a build are embedded by `add_document` itself.
    pub fn pending_embeddings(&self) -> Vec<PendingGroup> {
        self.pending_chunks()
            .chunks(BATCH)
            .map(|group| PendingGroup {
                chunks: group.iter().map(|&i| i as u32).collect(),
                texts: group
                    .iter()
                    .map(|&i| self.chunks[i].indexed_text(&self.docs[self.chunks[i].doc as usize].title))
                    .collect(),
            })
            .collect()
    }

    /// Gives the vectors of pending chunks (see [`Docent::pending_embeddings`]), row-major
    /// `chunks.len() × dim`, computed by this index's embedder elsewhere; [`Docent::build`] then
    /// quantizes them as it quantizes its own and embeds only the chunks still without one.
    ///
    /// The vectors must come from the same embedder (same model and weights): only their shape
    /// and values are checked here. Errors, with nothing stored: a length other than
    /// `chunks.len() × dim`, a value that is not finite, or a chunk id that is not pending
    /// (unknown, already embedded or given, or repeated).
    pub fn set_vectors(&mut self, chunks: &[u32], vectors: &[f32]) -> Result<()> {
        let dim = self.embedder.info().dim;
        let want = chunks.len().saturating_mul(dim);
        if vectors.len() != want {
            return Err(Error::Vector {
                reason: format!(
                    "{} floats given for {} chunks; expected {} × {dim} = {want} (one {dim}-wide row per chunk)",
                    vectors.len(),
                    chunks.len(),
                    chunks.len()
                ),
            });
        }
        if let Some(i) = vectors.iter().position(|v| !v.is_finite()) {
            return Err(Error::Vector {
                reason: format!(
                    "the vector of chunk {} holds {} (column {}); every value must be finite",
                    chunks[i / dim.max(1)],
                    vectors[i],
                    i % dim.max(1)
                ),
            });
        }
        let pending: HashSet<u32> = self.pending_chunks().into_iter().map(|i| i as u32).collect();
        let mut seen = HashSet::with_capacity(chunks.len());
        for &c in chunks {
            if !seen.insert(c) {
                return Err(Error::Vector { reason: format!("chunk {c} is given twice") });
            }
            if !pending.contains(&c) {
                let why = if (c as usize) < self.chunks.len() {
                    "already has a vector (embedded, reused or given before)"
                } else {
                    "does not exist"
                };
                return Err(Error::Vector {
                    reason: format!(
                        "chunk {c} {why}; pendingEmbeddings() lists the {} chunks that need one",
                        pending.len()
                    ),
                });
            }
        }
        let (codes, scales) = quantize_rows(vectors, dim)?;
        self.carried.extend(chunks.iter().copied().zip(scales));
        self.carried_codes.extend_from_slice(&codes);
        Ok(())
    }

    /// Embeds `texts` (in parallel natively) and checks the embedder's output.
    fn embed_many(&self, texts: &[String]) -> Result<Vec<f32>> {
        let out = self.embed_unchecked(texts)?;
        self.check_vectors(&out, texts.len())?;
        Ok(out)
    }

    /// Checks what the embedder returned for `n` texts: `n × dim` floats, all finite. A broken
    /// embedder (wrong dimension, NaN weights) gives an error naming it, before anything of its
    /// output is stored.
    fn check_vectors(&self, out: &[f32], n: usize) -> Result<()> {
        let info = self.embedder.info();
        let dim = info.dim;
        if out.len() != n.saturating_mul(dim) {
            return Err(Error::Vector {
                reason: format!(
                    "the embedder {info} returned {} floats for {n} texts; expected {n} × {dim} = {}",
                    out.len(),
                    n.saturating_mul(dim)
                ),
            });
        }
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(Error::Vector {
                reason: format!(
                    "the embedder {info} returned {} for text {} (column {}); every value must be finite",
                    out[i],
                    i / dim.max(1),
                    i % dim.max(1)
                ),
            });
        }
        Ok(())
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn embed_unchecked(&self, texts: &[String]) -> Result<Vec<f32>> {
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

    /// One embedder call per `BATCH` texts, as natively (so a build gives the groups
    /// [`Docent::pending_embeddings`] lists).
    #[cfg(target_arch = "wasm32")]
    fn embed_unchecked(&self, texts: &[String]) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(texts.len() * self.embedder.info().dim);
        for batch in texts.chunks(BATCH) {
            let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
            out.extend(self.embedder.embed(&refs)?);
        }
        Ok(out)
    }

    /// The text of every chunk as it is embedded and indexed (heading path, then text).
    pub fn indexed_texts(&self) -> Vec<String> {
        self.chunks.iter().map(|c| c.indexed_text(&self.docs[c.doc as usize].title)).collect()
    }

    /// Embeds texts with the index's own embedder: `texts.len() × dim` floats, row-major.
    ///
    /// Errors: the embedder's own, or an [`Error::Vector`] naming the embedder when its output
    /// is not `texts.len() × dim` finite floats.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<f32>> {
        let out = self.embedder.embed(texts)?;
        self.check_vectors(&out, texts.len())?;
        Ok(out)
    }

    /// Searches with the index's retrieval options.
    pub fn search(&self, query: &str, k: usize) -> Result<SearchResult> {
        self.search_with(query, k, &self.options.retrieve)
    }

    /// Searches with explicit retrieval options (mode, candidates, gate…).
    ///
    /// Errors: `k` outside 1..=1000; a query that is empty or made only of whitespace and
    /// invisible format characters ([`is_invisible`]); the index is not built; the embedder
    /// failed or returned an unusable vector. `k` above the number of chunks returns them all.
    pub fn search_with(&self, query: &str, k: usize, opts: &RetrieveOptions) -> Result<SearchResult> {
        opts.validate()?;
        if k == 0 || k > 1000 {
            return Err(Error::invalid("k", format!("expected 1..=1000 results, found {k}")));
        }
        let query = query.trim();
        if query.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
            return Err(Error::invalid("query", "expected non-empty text"));
        }
        let (Some(dense), Some(bm25)) = (&self.dense, &self.bm25) else {
            return Err(Error::NotBuilt);
        };
        let cand = opts.candidates.max(k * 2);
        let qv = self.embed(&[query])?;
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
        // Written only when non-empty, so an index without a delta is byte-identical to one
        // written before the section existed (a missing `delta` section reads as empty).
        let mut names = vec!["meta", "docs", "chunks", "dense", "bm25"];
        if !self.delta.is_empty() {
            names.push("delta");
        }
        // Encoded straight into the file (sized exactly first): serialising costs the file's
        // size once, not twice; in wasm this was the peak of an index's life (7.2 kB per chunk
        // at 500,000 384-d chunks, against 3.0 kB after build()).
        let size = meta.len()
            + format::encoded_size(&self.docs)?
            + format::encoded_size(&self.chunks)?
            + format::encoded_size(dense)?
            + format::encoded_size(bm25)?
            + if self.delta.is_empty() { 0 } else { format::encoded_size(&self.delta)? };
        format::write_with(&names, size, |i, out| match names[i] {
            "meta" => {
                out.extend_from_slice(&meta);
                Ok(())
            }
            "docs" => format::encode_into(&self.docs, out),
            "chunks" => format::encode_into(&self.chunks, out),
            "dense" => format::encode_into(dense, out),
            "bm25" => format::encode_into(bm25, out),
            _ => format::encode_into(&self.delta, out),
        })
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
        Self::from_bytes_with_limits(bytes, embedder, what, Limits::default())
    }

    /// [`Docent::from_bytes`] with explicit size limits (see [`Limits`]); an index that holds more
    /// chunks than `limits.max_chunks` is refused before its sections are decoded.
    pub fn from_bytes_with_limits(
        bytes: &[u8],
        embedder: Arc<dyn Embedder>,
        what: &str,
        limits: Limits,
    ) -> Result<Self> {
        let sections = format::read(bytes, what)?;
        let meta = read_meta(&sections, what)?;
        limits.check_chunks(
            || {
                Error::format(
                    what,
                    format!(
                        "the index holds {} chunks; at most {} can be loaded{}; search it natively with `docent search`, or split the corpus",
                        meta.chunks,
                        limits.max_chunks,
                        where_limit()
                    ),
                )
            },
            meta.chunks,
        )?;
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
        d.limits = limits;
        d.version = meta.docent_version;
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

/// The content hash of a document, as [`DocEntry::hash`] stores it: xxh3-64 (16 hex digits)
/// over its url, title, and every section's anchor, heading path and text, length-prefixed so
/// that no two different documents are encoded alike. That is everything chunking and
/// embedding read from a document; the rest of their input (embedder, chunk options, docent
/// version) is the same for a whole index and compared once by [`Docent::reuse_from`].
pub fn document_hash(doc: &Document) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut field = |b: &[u8]| {
        h.update(&(b.len() as u64).to_le_bytes());
        h.update(b);
    };
    field(b"docent-document-v1");
    field(doc.url.as_bytes());
    field(doc.title.as_bytes());
    field(&(doc.sections.len() as u64).to_le_bytes());
    for s in &doc.sections {
        match &s.anchor {
            Some(a) => {
                field(b"#");
                field(a.as_bytes());
            }
            None => field(b""),
        }
        field(&(s.headings.len() as u64).to_le_bytes());
        for heading in &s.headings {
            field(heading.as_bytes());
        }
        field(s.text.as_bytes());
    }
    format!("{:016x}", h.digest())
}

impl Previous {
    /// The reusable parts of `previous`, or why it cannot be reused by an engine with this
    /// embedder and these options.
    fn take(
        previous: Docent,
        embedder: &EmbedderInfo,
        options: &Options,
    ) -> std::result::Result<Self, String> {
        let was = previous.embedder.info();
        if was.kind != embedder.kind || was.dim != embedder.dim || was.fingerprint != embedder.fingerprint {
            return Err(format!("the previous index was built with {was}; this one uses {embedder}"));
        }
        let (a, b) = (&previous.options.chunk, &options.chunk);
        if a != b {
            return Err(format!(
                "the previous index was cut into chunks of {} tokens with {} of overlap; this one uses {} and {}",
                a.max_tokens, a.overlap_tokens, b.max_tokens, b.overlap_tokens
            ));
        }
        if previous.version != env!("CARGO_PKG_VERSION") {
            return Err(format!(
                "the previous index was written by docent {}; this is docent {} (its chunking may differ)",
                previous.version,
                env!("CARGO_PKG_VERSION")
            ));
        }
        let Some(dense) = &previous.dense else {
            return Err("the previous index was never built".to_string());
        };
        let dim = embedder.dim;
        let (mut codes, mut scales) = dense.quantized_rows();
        if !previous.delta.is_empty() {
            let (c, s) = quantize_rows(&previous.delta, dim).map_err(|e| e.to_string())?;
            codes.extend_from_slice(&c);
            scales.extend_from_slice(&s);
        }
        if scales.len() != previous.chunks.len() {
            return Err(format!(
                "the previous index is inconsistent: {} vectors for {} chunks",
                scales.len(),
                previous.chunks.len()
            ));
        }
        let mut ranges = vec![0..0; previous.docs.len()];
        for (i, c) in previous.chunks.iter().enumerate() {
            let r = &mut ranges[c.doc as usize];
            if r.start == r.end {
                *r = i..i + 1;
            } else if r.end == i {
                r.end = i + 1;
            } else {
                return Err(
                    "the previous index is inconsistent: a document's chunks are not contiguous".into()
                );
            }
        }
        let by_url = previous
            .docs
            .iter()
            .enumerate()
            .filter(|(i, d)| d.live && ranges[*i].start < ranges[*i].end)
            .map(|(i, d)| (d.url.clone(), i))
            .collect();
        Ok(Previous { docs: previous.docs, chunks: previous.chunks, ranges, by_url, codes, scales })
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
