//! Embedders: text in, L2-normalised vectors out.
//!
//! Owns: the [`Embedder`] trait, the embedder record stored in every index ([`EmbedderInfo`]),
//! and the implementations: `minilm` (docent's int8 BERT forward, `bert` + `kernels`), `static` (a distilled
//! token table), `hashing` (deterministic feature hashing for tests). Also the offline model
//! preparation that `docent model` runs (native only).
//! Must not: know about chunks, indexes or prompts.
//!
//! Design: `docs/design.md`, "From a page to a prompt", step 3.

use serde::{Deserialize, Serialize};

#[cfg(feature = "models")]
pub(crate) mod bert;
#[cfg(all(feature = "models", not(target_arch = "wasm32")))]
pub(crate) mod bert_f32;
pub mod hashing;
/// The numeric kernels of the BERT forward; public so that the wasm tests hold the SIMD128 back end
/// to the same reference as the native ones ([`kernels::check_linear`]).
#[cfg(feature = "models")]
pub mod kernels;
#[cfg(feature = "models")]
pub mod minilm;
#[cfg(all(feature = "models", not(target_arch = "wasm32")))]
pub mod prepare;
#[cfg(feature = "models")]
pub mod static_table;

/// The names of the prepared model files, defined once: the site folder's file table and the
/// browser's downloads need them with or without the `models` feature (the embedders themselves).
mod file_names {
    /// File name of MiniLM's int8 weights in a prepared model directory.
    pub const MINILM_WEIGHTS: &str = "minilm.int8";
    /// File name of the tokenizer (MiniLM's, also read by the static table).
    pub const TOKENIZER: &str = "tokenizer.json";
    /// File name of MiniLM's BERT config.
    pub const MINILM_CONFIG: &str = "config.json";
    /// File name of the static table.
    pub const STATIC_TABLE: &str = "static.bin";
}

/// Without the `models` feature: only the names of MiniLM's model files (the embedder needs the
/// feature).
#[cfg(not(feature = "models"))]
pub mod minilm {
    pub use super::file_names::{
        MINILM_CONFIG as CONFIG_FILE, MINILM_WEIGHTS as WEIGHTS_FILE, TOKENIZER as TOKENIZER_FILE,
    };
}

/// Without the `models` feature: only the name of the static table's file (the embedder needs
/// the feature).
#[cfg(not(feature = "models"))]
pub mod static_table {
    pub use super::file_names::STATIC_TABLE as TABLE_FILE;
}

/// Which family of embedder built an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbedderKind {
    /// sentence-transformers all-MiniLM-L6-v2 through docent's own int8 BERT forward, 384-d.
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

    /// The prepared model files (names inside a model directory) an embedder of this kind is
    /// built from, which a browser must download to embed queries: `minilm` → `minilm.int8`,
    /// `tokenizer.json`, `config.json`; `static` → `static.bin`, `tokenizer.json`; none for
    /// `hashing` and `vectors`. `docent index` copies them into its output's `model/` folder,
    /// where `loadDocent` (pkg/docent.js, through [`crate::site::model_files`]) fetches them.
    pub fn model_files(self) -> &'static [&'static str] {
        match self {
            EmbedderKind::MiniLm => &[minilm::WEIGHTS_FILE, minilm::TOKENIZER_FILE, minilm::CONFIG_FILE],
            EmbedderKind::Static => &[static_table::TABLE_FILE, minilm::TOKENIZER_FILE],
            EmbedderKind::Hashing | EmbedderKind::Vectors => &[],
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
    #[cfg(feature = "models")]
    fn tokenizer(&self) -> Option<&tokenizers::Tokenizer> {
        None
    }
}

/// Reads one file of a prepared model directory: its bytes and its path for error messages.
/// A missing file says how to prepare the directory.
#[cfg(all(feature = "models", not(target_arch = "wasm32")))]
pub(crate) fn read_model_file(dir: &std::path::Path, name: &str) -> crate::Result<(Vec<u8>, String)> {
    let p = dir.join(name);
    let bytes = std::fs::read(&p).map_err(|e| {
        crate::Error::model(
            p.display().to_string(),
            format!(
                "cannot read: {e} (prepare the model with `docent model --from <DIR> --out {}`)",
                dir.display()
            ),
        )
    })?;
    Ok((bytes, p.display().to_string()))
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

#[cfg(feature = "models")]
/// A little-endian cursor over the bytes of a model file (`minilm.int8`, `static.bin`).
///
/// Every read that runs past the end reports the file, the field being read, the offset and how
/// many bytes were left, so that a truncated download gives an actionable error.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'a str,
}

#[cfg(feature = "models")]
impl<'a> Reader<'a> {
    /// A reader over `buf`, a file named `what` in error messages.
    pub(crate) fn new(buf: &'a [u8], what: &'a str) -> Self {
        Reader { buf, pos: 0, what }
    }

    /// The current byte offset.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Takes the next `n` bytes, or a [`crate::Error::Model`] saying the file is truncated.
    pub(crate) fn take(&mut self, n: usize, field: &str) -> crate::Result<&'a [u8]> {
        let left = self.buf.len() - self.pos;
        if n > left {
            return Err(crate::Error::model(
                self.what,
                format!(
                    "truncated file: needed {n} bytes for {field} at offset {}, only {left} left (re-run `docent model` or re-download the file)",
                    self.pos
                ),
            ));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Reads a `u8`.
    pub(crate) fn u8(&mut self, field: &str) -> crate::Result<u8> {
        Ok(self.take(1, field)?[0])
    }

    /// Reads a little-endian `u16`.
    pub(crate) fn u16(&mut self, field: &str) -> crate::Result<u16> {
        let b = self.take(2, field)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// Reads a little-endian `u32`.
    pub(crate) fn u32(&mut self, field: &str) -> crate::Result<u32> {
        let b = self.take(4, field)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a little-endian `u64`.
    pub(crate) fn u64(&mut self, field: &str) -> crate::Result<u64> {
        let b = self.take(8, field)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// Reads `n` little-endian `f32`s.
    pub(crate) fn f32s(&mut self, n: usize, field: &str) -> crate::Result<Vec<f32>> {
        let bytes = n
            .checked_mul(4)
            .ok_or_else(|| crate::Error::model(self.what, format!("{field}: length {n} overflows")))?;
        let b = self.take(bytes, field)?;
        Ok(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }
}

#[cfg(feature = "models")]
/// Checks a model file's fixed header: magic bytes, then a `u32` version equal to `version`.
/// Returns a reader positioned after the version.
pub(crate) fn check_magic<'a>(
    buf: &'a [u8],
    what: &'a str,
    magic: &[u8; 8],
    version: u32,
    expected: &str,
) -> crate::Result<Reader<'a>> {
    let mut r = Reader::new(buf, what);
    let found = r.take(8, "magic bytes")?;
    if found != magic {
        return Err(crate::Error::model(
            what,
            format!(
                "not {expected}: expected magic bytes {:?}, found {:?}",
                String::from_utf8_lossy(magic),
                String::from_utf8_lossy(found)
            ),
        ));
    }
    let v = r.u32("format version")?;
    if v != version {
        return Err(crate::Error::model(
            what,
            format!("unsupported format version {v} (this build of docent reads version {version}); re-run `docent model`"),
        ));
    }
    Ok(r)
}

#[cfg(feature = "models")]
/// Checks that `body` is the `body_len` bytes the header announced ("truncated" or "trailing
/// bytes" otherwise) and hashes to `expected` (xxh3-64; "corrupted" otherwise), naming the file.
pub(crate) fn check_body(what: &str, body: &[u8], body_len: u64, expected: u64) -> crate::Result<()> {
    let left = body.len() as u64;
    if left != body_len {
        return Err(crate::Error::model(
            what,
            if left < body_len {
                format!("truncated file: the header announces a {body_len}-byte body, found {left} bytes (re-run `docent model` or re-download the file)")
            } else {
                format!("{} unexpected trailing bytes after the {body_len}-byte body", left - body_len)
            },
        ));
    }
    let found = xxhash_rust::xxh3::xxh3_64(body);
    if found != expected {
        return Err(crate::Error::model(
            what,
            format!(
                "corrupted file: checksum of the {} body bytes is {found:016x}, the header says {expected:016x} (re-run `docent model` or re-download the file)",
                body.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(all(feature = "models", not(target_arch = "wasm32")))] // only `prepare` (native) writes model files
/// Per-row symmetric int8 quantisation of a row-major `rows × cols` matrix: one scale per row
/// (`max |x| / 127`, 0 for an all-zero row), values rounded to the nearest step in `-127..=127`.
/// With `cols` set to a group size that divides the row length, this is grouped quantisation.
pub(crate) fn quantize_rows(data: &[f32], cols: usize) -> (Vec<f32>, Vec<i8>) {
    let rows = data.len().checked_div(cols).unwrap_or(0);
    let mut scales = Vec::with_capacity(rows);
    let mut q = Vec::with_capacity(data.len());
    for row in data.chunks_exact(cols.max(1)).take(rows) {
        let max = row.iter().fold(0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 0.0 };
        scales.push(scale);
        for &x in row {
            let v = if scale > 0.0 { (x / scale).round().clamp(-127.0, 127.0) } else { 0.0 };
            q.push(v as i8);
        }
    }
    (scales, q)
}
