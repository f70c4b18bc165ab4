//! Embedders: text in, L2-normalised vectors out.
//!
//! Owns: the [`Embedder`] trait, the embedder record stored in every index ([`EmbedderInfo`]),
//! and the implementations: `minilm` (candle BERT over int8 weights), `static` (a distilled
//! token table), `hashing` (deterministic feature hashing for tests). Also the offline model
//! preparation that `docent model` runs (native only).
//! Must not: know about chunks, indexes or prompts.

use serde::{Deserialize, Serialize};

pub mod hashing;
pub mod minilm;
pub mod static_table;
#[cfg(not(target_arch = "wasm32"))]
pub mod prepare;

/// Which family of embedder built an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbedderKind {
    /// sentence-transformers all-MiniLM-L6-v2 through candle's BERT, int8 weights, 384-d.
    MiniLm,
    /// A static token table distilled from MiniLM (PCA to 256-d, SIF weights, int8).
    Static,
    /// Deterministic feature hashing; no model files. For tests and quick experiments.
    Hashing,
    /// Vectors supplied by the caller (any dimension).
    Vectors,
}

impl EmbedderKind {
    /// The name used on the command line and in manifests: `minilm`, `static`, `hashing`, `vectors`.
    pub fn name(self) -> &'static str {
        match self {
            EmbedderKind::MiniLm => "minilm",
            EmbedderKind::Static => "static",
            EmbedderKind::Hashing => "hashing",
            EmbedderKind::Vectors => "vectors",
        }
    }

    /// Parses a name given by [`EmbedderKind::name`].
    pub fn from_name(name: &str) -> crate::Result<Self> {
        match name {
            "minilm" => Ok(EmbedderKind::MiniLm),
            "static" => Ok(EmbedderKind::Static),
            "hashing" => Ok(EmbedderKind::Hashing),
            "vectors" => Ok(EmbedderKind::Vectors),
            other => Err(crate::Error::invalid(
                "embedder",
                format!("expected one of minilm, static, hashing, vectors; found {other:?}"),
            )),
        }
    }
}

/// The record of an embedder that every index stores, so that a query is never embedded by a
/// different model than the one that built the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedderInfo {
    /// The embedder family.
    pub kind: EmbedderKind,
    /// A model id, e.g. `sentence-transformers/all-MiniLM-L6-v2 (int8)`.
    pub model: String,
    /// Output dimension.
    pub dim: usize,
    /// 64-bit xxh3 hash of the weight bytes (0 for embedders without weights), as 16 hex digits.
    pub fingerprint: String,
}

impl std::fmt::Display for EmbedderInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {}-d, fingerprint {})", self.kind.name(), self.model, self.dim, self.fingerprint)
    }
}

/// Turns texts into vectors.
pub trait Embedder: Send + Sync {
    /// This embedder's record.
    fn info(&self) -> &EmbedderInfo;

    /// Embeds `texts` into one flat row-major buffer of `texts.len() × info().dim` floats; each
    /// row is L2-normalised (an empty or all-unknown text gives a zero row).
    fn embed(&self, texts: &[&str]) -> crate::Result<Vec<f32>>;

    /// The tokenizer this embedder reads text with, when it has one; used to count tokens for
    /// chunk and prompt budgets.
    fn tokenizer(&self) -> Option<&tokenizers::Tokenizer> {
        None
    }
}

/// The xxh3-64 fingerprint of some bytes as 16 lowercase hex digits.
pub fn fingerprint(bytes: &[u8]) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(bytes))
}

/// L2-normalises each `dim`-long row of `v` in place; zero rows stay zero.
pub fn normalize_rows(v: &mut [f32], dim: usize) {
    for row in v.chunks_exact_mut(dim) {
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|x| *x /= norm);
        }
    }
}
