//! An engine as bytes: the index file ([`crate::format`] sections `meta`, `docs`, `chunks`,
//! `dense`, `bm25` and, when non-empty, `delta` and `gate`), written by [`Docent::to_bytes`] and
//! checked section by section by [`Docent::from_bytes`] before anything is used. A version-2 file is
//! read too: its `bm25` section (one bag of words per chunk) is replaced by the BM25F index of
//! its chunks (its stored `k1` and `b`, the default field weights), so it searches as if this
//! version had built it with those options.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{DocEntry, Docent, Limits, Options};
use crate::chunk::Chunk;
use crate::embed::{Embedder, EmbedderInfo};
use crate::index::bm25::Bm25;
use crate::index::dense::DenseIndex;
use crate::{format, Error, Result};

/// The `meta` section (JSON): what built the index and how big it is, read before the rest.
#[derive(Serialize, Deserialize)]
struct Meta {
    docent_version: String,
    embedder: EmbedderInfo,
    options: Options,
    documents: usize,
    chunks: usize,
}

impl Docent {
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
        if dense.has_separate_graph() {
            names.push(DenseIndex::SEPARATE_GRAPH_SECTION);
        }
        if !self.delta.is_empty() {
            names.push("delta");
        }
        let gate = self.gate_section()?;
        if gate.is_some() {
            names.push("gate");
        }
        // Encoded straight into the file (sized exactly first): serialising costs the file's
        // size once, not twice; in wasm this was the peak of an index's life (7.2 kB per chunk
        // at 500,000 384-d chunks, against 3.0 kB after build()).
        let size = meta.len()
            + format::encoded_size(&self.docs)?
            + format::encoded_size(&self.chunks)?
            + format::encoded_size(dense)?
            + format::encoded_size(bm25)?
            + dense.separate_graph_size()?
            + if self.delta.is_empty() { 0 } else { format::encoded_size(&self.delta)? }
            + gate.as_ref().map_or(0, Vec::len);
        format::write_with(&names, size, |i, out| match names[i] {
            "meta" => {
                out.extend_from_slice(&meta);
                Ok(())
            }
            "docs" => format::encode_into(&self.docs, out),
            "chunks" => format::encode_into(&self.chunks, out),
            "dense" => format::encode_into(dense, out),
            "bm25" => format::encode_into(bm25, out),
            DenseIndex::SEPARATE_GRAPH_SECTION => dense.encode_separate_graph(out),
            "gate" => {
                out.extend_from_slice(gate.as_deref().unwrap_or_default());
                Ok(())
            }
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

    /// Loads a serialised index, with the size limits [`Limits::NATIVE`]. `embedder` must be the
    /// one that built it (same kind, dimension and weights fingerprint), else
    /// [`Error::EmbedderMismatch`]. `what` names the file in errors.
    pub fn from_bytes(bytes: &[u8], embedder: Arc<dyn Embedder>, what: &str) -> Result<Self> {
        Self::from_bytes_with_limits(bytes, embedder, what, Limits::NATIVE)
    }

    /// [`Docent::from_bytes`] with explicit size limits (see [`Limits`]); an index that holds more
    /// chunks than `limits.max_chunks` is refused before its sections are decoded.
    pub fn from_bytes_with_limits(
        bytes: &[u8],
        embedder: Arc<dyn Embedder>,
        what: &str,
        limits: Limits,
    ) -> Result<Self> {
        let (version, sections) = format::read_versioned(bytes, what)?;
        let meta = read_meta(&sections, what)?;
        limits.check_chunks(
            || {
                Error::format(
                    what,
                    format!(
                        "the index holds {} chunks; at most {} can be loaded{}; search it natively with `docent search`, or split the corpus",
                        meta.chunks,
                        limits.max_chunks,
                        limits.in_scope()
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
        let mut dense: DenseIndex =
            format::decode(format::section(&sections, "dense", what)?, "dense", what)?;
        if let Some(s) = sections.iter().find(|s| s.name == DenseIndex::SEPARATE_GRAPH_SECTION) {
            dense.attach_separate_graph(s.body, what)?;
        }
        // Version 2 held one bag of words per chunk: its BM25 is rebuilt below, from the chunks.
        let bm25: Option<Bm25> = if version >= 3 {
            Some(format::decode(format::section(&sections, "bm25", what)?, "bm25", what)?)
        } else {
            format::section(&sections, "bm25", what)?;
            None
        };
        let delta: Vec<f32> = if sections.iter().any(|s| s.name == "delta") {
            format::decode(format::section(&sections, "delta", what)?, "delta", what)?
        } else {
            Vec::new()
        };
        let site_gate = read_gate(&sections, what)?;
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
        if bm25.as_ref().is_some_and(|b| b.len() != live_chunks) {
            return Err(Error::format(
                what,
                format!(
                    "inconsistent: {live_chunks} live chunks but BM25 holds {} entries",
                    bm25.as_ref().map_or(0, Bm25::len)
                ),
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
        d.bm25 = Some(match bm25 {
            Some(bm25) => bm25,
            None => d.lexical_index(d.options.bm25.clone()),
        });
        d.site_gate = site_gate;
        Ok(d)
    }

    /// The `gate` section (JSON of the site's calibrated gate), when there is one. A separate
    /// optional section, not a change of the others: an index without it is read as before (the
    /// fixed gate decides), and writing it needs no format version of its own.
    fn gate_section(&self) -> Result<Option<Vec<u8>>> {
        self.site_gate
            .as_ref()
            .map(|g| serde_json::to_vec(g).map_err(|e| Error::format("index", format!("gate: {e}"))))
            .transpose()
    }
}

/// The site gate of an index file's optional `gate` section: `None` when the section is absent
/// (an index written before calibrated gates) or of another gate version.
fn read_gate(sections: &[format::SectionRef<'_>], what: &str) -> Result<Option<crate::gate::SiteGate>> {
    if !sections.iter().any(|s| s.name == "gate") {
        return Ok(None);
    }
    crate::gate::SiteGate::from_json(format::section(sections, "gate", what)?, what)
}

fn read_meta(sections: &[format::SectionRef<'_>], what: &str) -> Result<Meta> {
    let body = format::section(sections, "meta", what)?;
    serde_json::from_slice(body)
        .map_err(|e| Error::format(what, format!("section 'meta' could not be decoded: {e}")))
}
