//! Static token-table embedder: a table distilled from MiniLM, queried by lookups only.
//!
//! Owns: the `static.bin` format (reading it, and encoding it for `prepare`) and embedding by a
//! SIF-weighted mean of int8 token rows. ~1000× cheaper than MiniLM; weaker alone, meant to be
//! paired with BM25.
//! Must not: run candle or any model in the query path; touch the filesystem outside the
//! native-only [`StaticTable::load`]; panic on input.
//!
//! # `static.bin`, format version 1
//! All integers little-endian.
//! ```text
//! 0   8 bytes  magic "DOCENTST"
//! 8   u32      format version (1)
//! 12  u32      dim (columns per row)
//! 16  u32      vocabulary size V (rows; must equal the tokenizer's vocabulary)
//! 20  u64      body length in bytes (= V*4 + V*4 + V*dim)
//! 28  u64      xxh3-64 of the body
//! 36  body:    V × f32 row scales, V × f32 SIF token weights, V × dim i8 rows
//! ```
//! Row `t` is token `t`'s PCA-reduced MiniLM output, int8 with scale `scales[t]`; its weight is
//! `a / (a + p(t))` (0 for special tokens). A text's embedding is `Σ w_t · row_t` over its tokens,
//! L2-normalised.

use tokenizers::{Tokenizer, TruncationParams};

use super::{check_body, check_magic, fingerprint, Embedder, EmbedderInfo, EmbedderKind};
use crate::{Error, Result};

/// Model id recorded in indexes built with this embedder.
pub const MODEL_ID: &str = "docent static table distilled from all-MiniLM-L6-v2";
pub use super::file_names::STATIC_TABLE as TABLE_FILE;
/// Texts are truncated to this many tokens.
pub const MAX_TOKENS: usize = 512;

const MAGIC: &[u8; 8] = b"DOCENTST";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 36;

/// The static token-table embedder.
pub struct StaticTable {
    info: EmbedderInfo,
    dim: usize,
    scales: Vec<f32>,
    weights: Vec<f32>,
    rows: Vec<i8>,
    /// Padding and truncation off, for counting.
    count_tokenizer: Tokenizer,
    /// Padding off, truncation at [`MAX_TOKENS`].
    embed_tokenizer: Tokenizer,
}

impl std::fmt::Debug for StaticTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticTable").field("info", &self.info).finish_non_exhaustive()
    }
}

impl StaticTable {
    /// Builds the embedder from the bytes of `static.bin` and the `tokenizer.json` it was
    /// distilled with. Errors name the file that is truncated, corrupted or does not match.
    pub fn from_bytes(table: &[u8], tokenizer_json: &[u8]) -> Result<Self> {
        Self::from_bytes_labeled(table, tokenizer_json, TABLE_FILE, "tokenizer.json")
    }

    /// Reads `static.bin` and `tokenizer.json` from a prepared model directory. Native only.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load(dir: &std::path::Path) -> Result<Self> {
        let read = |name: &str| super::read_model_file(dir, name);
        let (t, tl) = read(TABLE_FILE)?;
        let (k, kl) = read("tokenizer.json")?;
        Self::from_bytes_labeled(&t, &k, &tl, &kl)
    }

    fn from_bytes_labeled(table: &[u8], tokenizer_json: &[u8], what: &str, tok_label: &str) -> Result<Self> {
        let mut r = check_magic(table, what, MAGIC, VERSION, "a docent static table (static.bin)")?;
        let dim = r.u32("dimension")? as usize;
        let vocab = r.u32("vocabulary size")? as usize;
        let body_len = r.u64("body length")?;
        let checksum = r.u64("checksum")?;
        if dim == 0 || vocab == 0 {
            return Err(Error::model(what, format!("empty table: dimension {dim}, vocabulary {vocab}")));
        }
        let expected = vocab.checked_mul(dim + 8).map(|n| n as u64);
        if expected != Some(body_len) {
            return Err(Error::model(
                what,
                format!("header is inconsistent: {vocab} rows of {dim} need a body of {} bytes, header says {body_len}", vocab as u64 * (dim as u64 + 8)),
            ));
        }
        assert_eq!(r.pos(), HEADER_LEN, "static table header read");
        check_body(what, &table[HEADER_LEN..], body_len, checksum)?;
        let scales = r.f32s(vocab, "row scales")?;
        let weights = r.f32s(vocab, "token weights")?;
        let rows: Vec<i8> = r.take(vocab * dim, "rows")?.iter().map(|&b| b as i8).collect();

        let mut count = Tokenizer::from_bytes(tokenizer_json)
            .map_err(|e| Error::model(tok_label, format!("not a readable tokenizer.json: {e}")))?;
        count.with_padding(None);
        count
            .with_truncation(None)
            .map_err(|e| Error::model(tok_label, format!("cannot switch truncation off: {e}")))?;
        let tv = count.get_vocab_size(true);
        if tv != vocab {
            return Err(Error::model(
                what,
                format!("table has {vocab} rows but {tok_label} has {tv} tokens: the table was distilled with another tokenizer"),
            ));
        }
        let mut embed = count.clone();
        embed
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| {
                Error::model(tok_label, format!("cannot set truncation to {MAX_TOKENS} tokens: {e}"))
            })?;
        Ok(StaticTable {
            info: EmbedderInfo {
                kind: EmbedderKind::Static,
                model: MODEL_ID.to_string(),
                dim,
                fingerprint: fingerprint(table),
            },
            dim,
            scales,
            weights,
            rows,
            count_tokenizer: count,
            embed_tokenizer: embed,
        })
    }

    /// The SIF weight of token `id` (0 for special tokens and ids outside the table).
    pub fn weight(&self, id: u32) -> f32 {
        self.weights.get(id as usize).copied().unwrap_or(0.0)
    }

    fn embed_ids(&self, ids: &[u32], row: &mut [f32]) {
        for &id in ids {
            let t = id as usize;
            let (Some(&w), Some(&s)) = (self.weights.get(t), self.scales.get(t)) else {
                continue;
            };
            let ws = w * s;
            if ws == 0.0 {
                continue;
            }
            let q = &self.rows[t * self.dim..(t + 1) * self.dim];
            row.iter_mut().zip(q).for_each(|(r, &v)| *r += ws * v as f32);
        }
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|x| *x /= norm);
        }
    }
}

impl Embedder for StaticTable {
    fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<f32>> {
        let mut out = vec![0f32; texts.len() * self.dim];
        for (text, row) in texts.iter().zip(out.chunks_exact_mut(self.dim)) {
            let enc = self
                .embed_tokenizer
                .encode(*text, false)
                .map_err(|e| Error::Tokenizer { reason: format!("cannot tokenise text: {e}") })?;
            self.embed_ids(enc.get_ids(), row);
        }
        Ok(out)
    }

    fn tokenizer(&self) -> Option<&Tokenizer> {
        Some(&self.count_tokenizer)
    }
}

#[cfg(not(target_arch = "wasm32"))] // only `prepare` (native) writes model files
/// Encodes a `static.bin` file (see the module docs) from f32 rows (`weights.len() × dim`,
/// quantised here to int8 per row) and per-token weights.
pub(crate) fn encode_table(rows: &[f32], weights: &[f32], dim: usize) -> Result<Vec<u8>> {
    let vocab = weights.len();
    if dim == 0 || rows.len() != vocab * dim {
        return Err(Error::invalid(
            "static table",
            format!("expected {vocab} rows of {dim} values, found {} values", rows.len()),
        ));
    }
    let (scales, q) = super::quantize_rows(rows, dim);
    let mut body = Vec::with_capacity(vocab * (dim + 8));
    scales.iter().for_each(|s| body.extend_from_slice(&s.to_le_bytes()));
    weights.iter().for_each(|w| body.extend_from_slice(&w.to_le_bytes()));
    body.extend(q.iter().map(|&v| v as u8));
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(dim as u32).to_le_bytes());
    out.extend_from_slice(&(vocab as u32).to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&body).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}
