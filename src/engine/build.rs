//! Filling an engine: adding and removing documents, reusing the work of a previous index,
//! embedding (checked, in parallel with the `parallel` feature) and [`Docent::build`].

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::{DocEntry, Docent, Options, PendingGroup, Progress, Reuse};
use crate::chunk::{chunk_document, Chunk};
use crate::embed::EmbedderInfo;
use crate::index::bm25::Bm25;
use crate::index::dense::{quantize_rows, DenseIndex};
use crate::ingest::Document;
use crate::{Error, Result};

/// Texts per embedder call when a build embeds chunks, with or without the `parallel` feature
/// (with it these calls run in parallel), and so the size of a [`PendingGroup`]: the embedder
/// sorts and batches within one call, so a chunk's vector depends on the group of `BATCH` it
/// came in.
const BATCH: usize = 32;

/// The reusable work of a previous index, held from [`Docent::reuse_from`] until the next
/// [`Docent::build`].
pub(super) struct Previous {
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

impl Docent {
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
                    limits.in_scope()
                ),
            },
            total,
        )?;
        let n = chunks.len();
        let title = doc.title;
        // Once built, embed now (before changing anything, so an embedder error adds nothing).
        let new_vectors = if self.dense.is_some() {
            let texts: Vec<String> = chunks.iter().map(|c| c.indexed_text(&title)).collect();
            Some(self.embed_many(&texts)?)
        } else {
            None
        };
        if let (Some(vectors), Some(bm25)) = (new_vectors, self.bm25.as_mut()) {
            for c in &chunks {
                bm25.push_fields(c.fields(&title));
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
    /// wrote), loaded with this engine's embedder and [`Limits`](super::Limits). An index that
    /// cannot be loaded — corrupted, truncated, another format version, another embedder, more
    /// chunks than `max_chunks` — is not an error: nothing is reused and [`Reuse::rebuild`] says
    /// why. `what` names the file in that reason.
    pub fn reuse_from_bytes(&mut self, bytes: &[u8], what: &str) -> Result<()> {
        self.start_reuse()?;
        match Docent::from_bytes_with_limits(bytes, self.embedder.clone(), what, self.limits) {
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
        let bm25 = self.lexical_index(self.options.bm25.clone());
        self.dense = Some(dense);
        self.bm25 = Some(bm25);
        self.built = total;
        self.delta.clear();
        self.carried.clear();
        self.carried_codes.clear();
        // A rebuild drops the calibration of the previous corpus; `calibrate_gate` fits a new one.
        self.site_gate = None;
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

    /// Embeds `texts` (in parallel with the `parallel` feature) and checks the embedder's output.
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

    /// One embedder call per `BATCH` texts, so a build gives the groups
    /// [`Docent::pending_embeddings`] lists. With the `parallel` feature the calls run on rayon's
    /// threads and every one runs before an error is returned; without it they run one after the
    /// other and stop at the first error. Either way the error is the first one in text order.
    fn embed_unchecked(&self, texts: &[String]) -> Result<Vec<f32>> {
        let call = |batch: &[String]| -> Result<Vec<f32>> {
            let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
            self.embedder.embed(&refs)
        };
        #[cfg(feature = "parallel")]
        let parts: Vec<Result<Vec<f32>>> = {
            use rayon::prelude::*;
            texts.par_chunks(BATCH).map(call).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let parts = texts.chunks(BATCH).map(call);
        let mut out = Vec::with_capacity(texts.len() * self.embedder.info().dim);
        for p in parts {
            out.extend(p?);
        }
        Ok(out)
    }

    /// The BM25F index of every chunk (title, heading path and text as its fields; see
    /// [`Chunk::fields`]), the chunks of removed documents marked deleted.
    pub(crate) fn lexical_index(&self, params: crate::index::bm25::Bm25Params) -> Bm25 {
        let mut bm25 = Bm25::build_fields(
            self.chunks.iter().map(|c| c.fields(&self.docs[c.doc as usize].title)),
            params,
        );
        for (i, c) in self.chunks.iter().enumerate() {
            if !self.docs[c.doc as usize].live {
                bm25.remove(i as u32);
            }
        }
        bm25
    }

    /// Rebuilds the lexical index with other BM25F parameters (field weights, length
    /// normalisation), keeping every chunk and vector: what an index built with these
    /// parameters would hold, without embedding anything again. The parameters are stored with
    /// the index. Errors: parameters out of range ([`Bm25Params::validate`]); the index is not
    /// built.
    ///
    /// [`Bm25Params::validate`]: crate::index::bm25::Bm25Params::validate
    pub fn set_bm25_params(&mut self, params: crate::index::bm25::Bm25Params) -> Result<()> {
        params.validate()?;
        if self.bm25.is_none() {
            return Err(Error::NotBuilt);
        }
        self.bm25 = Some(self.lexical_index(params.clone()));
        self.options.bm25 = params;
        Ok(())
    }

    /// The text of every chunk as it is embedded (title and heading path, then text).
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
