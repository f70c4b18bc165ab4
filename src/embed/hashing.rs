//! Feature-hashing embedder: deterministic vectors without any model file.
//!
//! Owns: the `hashing-v1` feature set (words, word bigrams, character trigrams hashed into signed
//! buckets). It exists so that tests and quick experiments never need model weights.
//! Must not: depend on platform word size, hash-map iteration order or floating-point functions
//! whose last bit varies between platforms (only `+`, `*` and `sqrt`, which IEEE 754 fixes), so a
//! vector computed natively equals the one computed in wasm.

use super::{normalize_rows, Embedder, EmbedderInfo, EmbedderKind};
use crate::{Error, Result};

/// Model id recorded in indexes built with this embedder.
pub const MODEL_ID: &str = "hashing-v1";
/// Default dimension.
pub const DEFAULT_DIM: usize = 256;
/// Smallest accepted dimension.
pub const MIN_DIM: usize = 8;
/// Largest accepted dimension.
pub const MAX_DIM: usize = 4096;

/// Weight of a whole word.
const WORD_WEIGHT: f32 = 1.0;
/// Weight of a pair of consecutive words.
const BIGRAM_WEIGHT: f32 = 0.5;
/// Weight of each character trigram of a word (with `<` and `>` marking its ends), so that
/// related forms (`index`, `indexing`) share some mass.
const TRIGRAM_WEIGHT: f32 = 0.25;

const SEED_WORD: u64 = 0x646f_6365_6e74_0001;
const SEED_BIGRAM: u64 = 0x646f_6365_6e74_0002;
const SEED_TRIGRAM: u64 = 0x646f_6365_6e74_0003;

/// Deterministic feature-hashing embedder (`hashing-v1`).
///
/// Features of a text: its words (maximal runs of Unicode alphanumeric characters, lowercased),
/// each at weight 1; each pair of consecutive words at weight 0.5; each character trigram of each
/// word (ends marked) at weight 0.25. A feature is hashed with xxh3 (fixed seed) to a bucket
/// (`hash mod dim`) and a sign (the hash's top bit); the vector is L2-normalised. A text without
/// any alphanumeric character gives a zero row.
#[derive(Debug, Clone)]
pub struct Hashing {
    info: EmbedderInfo,
}

impl Hashing {
    /// A hashing embedder of `dim` dimensions.
    ///
    /// `dim`: default [`DEFAULT_DIM`] (256), range [`MIN_DIM`]..=[`MAX_DIM`] (8..=4096). Small
    /// dimensions make unrelated texts collide (cosine noise grows like `1/sqrt(dim)`); large ones
    /// cost memory and distance time without helping much past a few hundred.
    pub fn new(dim: usize) -> Result<Self> {
        if !(MIN_DIM..=MAX_DIM).contains(&dim) {
            return Err(Error::invalid(
                "hashing dimension",
                format!("expected a dimension in {MIN_DIM}..={MAX_DIM}, found {dim}"),
            ));
        }
        Ok(Hashing {
            info: EmbedderInfo {
                kind: EmbedderKind::Hashing,
                model: MODEL_ID.to_string(),
                dim,
                fingerprint: format!("{:016x}", dim as u64),
            },
        })
    }

    fn add(&self, row: &mut [f32], bytes: &[u8], seed: u64, weight: f32) {
        let h = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, seed);
        let bucket = (h % row.len() as u64) as usize;
        let sign = if h >> 63 == 1 { -1.0 } else { 1.0 };
        row[bucket] += sign * weight;
    }

    fn embed_one(&self, text: &str, row: &mut [f32]) {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.to_lowercase())
            .collect();
        let mut buf = String::new();
        for (i, w) in words.iter().enumerate() {
            self.add(row, w.as_bytes(), SEED_WORD, WORD_WEIGHT);
            if let Some(next) = words.get(i + 1) {
                buf.clear();
                buf.push_str(w);
                buf.push(' ');
                buf.push_str(next);
                self.add(row, buf.as_bytes(), SEED_BIGRAM, BIGRAM_WEIGHT);
            }
            let chars: Vec<char> =
                std::iter::once('<').chain(w.chars()).chain(std::iter::once('>')).collect();
            for tri in chars.windows(3) {
                buf.clear();
                buf.extend(tri.iter());
                self.add(row, buf.as_bytes(), SEED_TRIGRAM, TRIGRAM_WEIGHT);
            }
        }
    }
}

impl Default for Hashing {
    /// A [`DEFAULT_DIM`]-dimensional (256) hashing embedder.
    fn default() -> Self {
        Hashing {
            info: EmbedderInfo {
                kind: EmbedderKind::Hashing,
                model: MODEL_ID.to_string(),
                dim: DEFAULT_DIM,
                fingerprint: format!("{:016x}", DEFAULT_DIM as u64),
            },
        }
    }
}

impl Embedder for Hashing {
    fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<f32>> {
        let dim = self.info.dim;
        let mut out = vec![0f32; texts.len() * dim];
        for (text, row) in texts.iter().zip(out.chunks_exact_mut(dim)) {
            self.embed_one(text, row);
        }
        normalize_rows(&mut out, dim);
        Ok(out)
    }
}
