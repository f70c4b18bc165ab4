//! Docent's own BERT encoder forward pass for MiniLM: int8 linear layers, f32 everything else.
//!
//! Owns: the layer weights in the layout the kernels want (fused QKV, int8 per output channel
//! widened to i16), the forward pass over a batch of token sequences without padding, mean
//! pooling and L2 normalisation, and the reusable scratch buffers ([`Bert`] keeps a pool of
//! workspaces, so a warm forward allocates nothing).
//! Must not: read files, tokenise, or panic on any token sequence (ids beyond the vocabulary and
//! sequences longer than the position table are errors).
//!
//! # Forward pass
//! Sequences of different lengths are concatenated along rows (`rows = Σ len`), so the linear
//! layers see one `rows × k` matrix and nothing is padded; attention runs per sequence and per
//! head in f32. Per layer (post-LayerNorm BERT):
//! ```text
//! x_q          = quantise_rows(x)                    10-bit per row (kernels::quantize_row)
//! qkv          = x_q · W_qkvᵀ + b                    10×10-bit i16 products summed in i32;
//!                                                    one fused 384→1152 layer
//! ctx[h]       = softmax(q_h k_hᵀ / √32) v_h         f32, per sequence and head
//! a            = LayerNorm(x + ctx_q · W_oᵀ + b_o)   f32 LayerNorm, int8 linear
//! m            = GELU(a_q · W_1ᵀ + b_1)              erf GELU (|erf error| < 1e-6)
//! x'           = LayerNorm(a + m_q · W_2ᵀ + b_2)
//! ```
//! What stays f32, by measurement (64 project chunks of ~128 tokens, `cargo bench --bench
//! minilm_speed`): attention (scores, softmax, weighted values; ~5% of the work at 128 tokens),
//! LayerNorm, residuals, GELU and pooling. All six linear layers of a block run on integers
//! (10-bit weights per output channel, 10-bit activations per row: min cosine to f32 0.9996;
//! int8 × int8 gave 0.9955 at the same speed, see [`kernels::ACT_MAX`]). Embedding lookup
//! dequantises one int8 row of the word table per token.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;

use super::kernels::{self, QLinear};
use crate::{Error, Result};

/// The BERT hyper-parameters docent reads from `config.json` (other fields are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    /// Vocabulary size (rows of the word embedding table).
    pub vocab_size: usize,
    /// Width of the hidden states.
    pub hidden_size: usize,
    /// Transformer blocks.
    pub num_hidden_layers: usize,
    /// Attention heads per block (`hidden_size` must be a multiple).
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Rows of the position table: the longest sequence the model accepts.
    pub max_position_embeddings: usize,
    /// LayerNorm epsilon. Default 1e-12 (BERT's).
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// Activation of the feed-forward layer; only `"gelu"` (exact erf) is supported.
    #[serde(default = "default_act")]
    pub hidden_act: String,
}

fn default_eps() -> f64 {
    1e-12
}

fn default_act() -> String {
    "gelu".into()
}

/// One tensor as stored in `minilm.int8` (before the forward pass's own layout).
#[derive(Debug, Clone)]
pub enum StoredTensor {
    /// f32 values with their shape.
    F32 {
        /// Dimensions.
        shape: Vec<usize>,
        /// Row-major values.
        data: Vec<f32>,
    },
    /// Rank-2 int8 with one scale per `group` consecutive values of a row.
    I8 {
        /// `[rows, cols]`.
        shape: Vec<usize>,
        /// Values per scale (divides `cols`).
        group: usize,
        /// `rows × cols / group` scales.
        scales: Vec<f32>,
        /// Row-major int8 values.
        q: Vec<i8>,
    },
}

impl StoredTensor {
    fn shape(&self) -> &[usize] {
        match self {
            StoredTensor::F32 { shape, .. } | StoredTensor::I8 { shape, .. } => shape,
        }
    }

    /// All values as f32 (int8 dequantised: `q × scale of its group`).
    fn to_f32(&self) -> Vec<f32> {
        match self {
            StoredTensor::F32 { data, .. } => data.clone(),
            StoredTensor::I8 { group, scales, q, .. } => q
                .chunks_exact(*group)
                .zip(scales)
                .flat_map(|(g, &s)| g.iter().map(move |&v| v as f32 * s))
                .collect(),
        }
    }
}

/// The word embedding table: int8 rows with group scales (dequantised per looked-up token).
#[derive(Debug)]
struct WordTable {
    dim: usize,
    group: usize,
    scales: Vec<f32>,
    q: Vec<i8>,
}

impl WordTable {
    fn rows(&self) -> usize {
        self.q.len() / self.dim
    }

    fn add_row(&self, id: usize, out: &mut [f32]) {
        let q = &self.q[id * self.dim..(id + 1) * self.dim];
        let s = &self.scales[id * self.dim / self.group..(id + 1) * self.dim / self.group];
        for ((o, g), &sc) in out.chunks_exact_mut(self.group).zip(q.chunks_exact(self.group)).zip(s) {
            for (o, &v) in o.iter_mut().zip(g) {
                *o += v as f32 * sc;
            }
        }
    }
}

#[derive(Debug)]
struct Layer {
    qkv: QLinear,
    out: QLinear,
    ln1: (Vec<f32>, Vec<f32>),
    up: QLinear,
    down: QLinear,
    ln2: (Vec<f32>, Vec<f32>),
}

/// Scratch buffers of one forward pass, grown to the largest batch seen and then reused.
#[derive(Debug, Default)]
struct Workspace {
    /// `rows × hidden`: the residual stream.
    x: Vec<f32>,
    /// `rows × hidden`: attention context, then the block outputs before LayerNorm.
    ctx: Vec<f32>,
    /// `rows × 3·hidden`: fused query, key and value.
    qkv: Vec<f32>,
    /// `rows × intermediate`: the feed-forward activations.
    mid: Vec<f32>,
    /// Quantised rows (`rows × max(hidden, intermediate)`) and their scales.
    q: Vec<i16>,
    qs: Vec<f32>,
    /// Per head: keys transposed (`head_dim × len`), one row of scores (`len`).
    kt: Vec<f32>,
    scores: Vec<f32>,
}

/// Tokens per forward pass in [`Bert::embed`]: consecutive sequences are concatenated up to this
/// many rows (a longer one runs alone). 256 by measurement in wasm: batch 8 of ~128-token chunks
/// in one 1000-row pass ran slower than one chunk at a time (buffers of several MB leave L2).
const PASS_ROWS: usize = 256;

/// A BERT encoder ready to run (see the module docs).
#[derive(Debug)]
pub struct Bert {
    hidden: usize,
    heads: usize,
    inter: usize,
    eps: f32,
    words: WordTable,
    /// `max_position × hidden`, with the token-type-0 row already added.
    positions: Vec<f32>,
    ln_emb: (Vec<f32>, Vec<f32>),
    layers: Vec<Layer>,
    pool: Mutex<Vec<Workspace>>,
}

impl Bert {
    /// Builds the encoder from the tensors of `minilm.int8` (names as in the safetensors
    /// export). `what` names the weights file in errors.
    pub fn new(cfg: &BertConfig, tensors: &mut HashMap<String, StoredTensor>, what: &str) -> Result<Bert> {
        let (h, inter) = (cfg.hidden_size, cfg.intermediate_size);
        if cfg.hidden_act != "gelu" {
            return Err(Error::model(
                "config.json",
                format!("hidden_act: expected \"gelu\", found {:?}", cfg.hidden_act),
            ));
        }
        if cfg.num_attention_heads == 0 || h % cfg.num_attention_heads != 0 {
            return Err(Error::model(
                "config.json",
                format!(
                    "hidden_size {h} is not a multiple of num_attention_heads {}",
                    cfg.num_attention_heads
                ),
            ));
        }
        for (name, v) in [("hidden_size", h), ("intermediate_size", inter)] {
            // Both are reduction lengths (multiple of K_MULTIPLE, at most K_MAX) and output widths
            // (multiple of N_MULTIPLE); both are powers of two, so the larger is a common multiple.
            let m = kernels::K_MULTIPLE.max(kernels::N_MULTIPLE);
            if v == 0 || v % m != 0 || v > kernels::K_MAX {
                return Err(Error::model(
                    "config.json",
                    format!(
                        "{name}: expected a positive multiple of {m} up to {}, found {v}",
                        kernels::K_MAX
                    ),
                ));
            }
        }
        // Any number of token types; only type 0 is used (single-segment inputs).
        let types_name = "embeddings.token_type_embeddings.weight";
        let types = tensors
            .remove(types_name)
            .ok_or_else(|| Error::model(what, format!("tensor {types_name} is missing")))?;
        if !matches!(types.shape(), [n, d] if *n >= 1 && *d == h) {
            return Err(Error::model(
                what,
                format!("{types_name}: expected shape [n, {h}], found {:?}", types.shape()),
            ));
        }
        let mut take = |name: &str, shape: &[usize]| -> Result<StoredTensor> {
            let t = tensors
                .remove(name)
                .ok_or_else(|| Error::model(what, format!("tensor {name} is missing")))?;
            if t.shape() != shape {
                return Err(Error::model(
                    what,
                    format!("{name}: expected shape {shape:?} (config.json), found {:?}", t.shape()),
                ));
            }
            Ok(t)
        };
        let words = match take("embeddings.word_embeddings.weight", &[cfg.vocab_size, h])? {
            StoredTensor::I8 { group, scales, q, .. } => WordTable { dim: h, group, scales, q },
            StoredTensor::F32 { data, .. } => {
                // An f32 table (not what `prepare` writes): int8 per row, like the stored ones.
                let mut scales = Vec::with_capacity(data.len() / h);
                let mut q = Vec::with_capacity(data.len());
                for row in data.chunks_exact(h) {
                    let max = kernels::max_abs(row);
                    let s = if max > 0.0 && max.is_finite() { max / 127.0 } else { 0.0 };
                    scales.push(s);
                    q.extend(row.iter().map(|&v| {
                        if s > 0.0 {
                            (v / s).round().clamp(-127.0, 127.0) as i8
                        } else {
                            0
                        }
                    }));
                }
                WordTable { dim: h, group: h, scales, q }
            }
        };
        let mut positions =
            take("embeddings.position_embeddings.weight", &[cfg.max_position_embeddings, h])?.to_f32();
        let type0 = types.to_f32();
        for row in positions.chunks_exact_mut(h) {
            row.iter_mut().zip(&type0[..h]).for_each(|(p, t)| *p += t);
        }
        let mut vec1 = |name: &str, n: usize| -> Result<Vec<f32>> { Ok(take(name, &[n])?.to_f32()) };
        let ln_emb = (vec1("embeddings.LayerNorm.weight", h)?, vec1("embeddings.LayerNorm.bias", h)?);
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for l in 0..cfg.num_hidden_layers {
            let p = format!("encoder.layer.{l}.");
            let mut lin = |names: &[&str], n: usize, k: usize| -> Result<QLinear> {
                let mut w = Vec::with_capacity(names.len() * n * k);
                let mut bias = Vec::with_capacity(names.len() * n);
                for name in names {
                    w.extend(take(&format!("{p}{name}.weight"), &[n, k])?.to_f32());
                    bias.extend(take(&format!("{p}{name}.bias"), &[n])?.to_f32());
                }
                let (w, scale) = kernels::quantize_weights(&w, k);
                let n = names.len() * n;
                QLinear::new(n, k, w, scale, bias).ok_or_else(|| {
                    Error::model(
                        "config.json",
                        format!("{p}{}: a {n} × {k} layer the kernels cannot run", names[0]),
                    )
                })
            };
            let qkv = lin(&["attention.self.query", "attention.self.key", "attention.self.value"], h, h)?;
            let out = lin(&["attention.output.dense"], h, h)?;
            let up = lin(&["intermediate.dense"], inter, h)?;
            let down = lin(&["output.dense"], h, inter)?;
            let mut ln = |name: &str| -> Result<(Vec<f32>, Vec<f32>)> {
                Ok((
                    take(&format!("{p}{name}.weight"), &[h])?.to_f32(),
                    take(&format!("{p}{name}.bias"), &[h])?.to_f32(),
                ))
            };
            let ln1 = ln("attention.output.LayerNorm")?;
            let ln2 = ln("output.LayerNorm")?;
            layers.push(Layer { qkv, out, ln1, up, down, ln2 });
        }
        Ok(Bert {
            hidden: h,
            heads: cfg.num_attention_heads,
            inter,
            eps: cfg.layer_norm_eps as f32,
            words,
            positions,
            ln_emb,
            layers,
            pool: Mutex::new(Vec::new()),
        })
    }

    /// Embeds each sequence: forward, mean over its tokens, L2-normalise. Writes
    /// `seqs.len() × hidden` into `out` (cleared first). An empty sequence gives a zero row.
    pub fn embed(&self, seqs: &[&[u32]], out: &mut Vec<f32>) -> Result<()> {
        let h = self.hidden;
        out.clear();
        out.resize(seqs.len() * h, 0.0);
        // Forward passes of at most PASS_ROWS tokens (a longer sequence goes alone): every
        // activation buffer then stays in L2 whatever the batch size.
        let mut first = 0;
        while first < seqs.len() {
            let mut end = first + 1;
            let mut rows = seqs[first].len();
            while end < seqs.len() && rows + seqs[end].len() <= PASS_ROWS {
                rows += seqs[end].len();
                end += 1;
            }
            let group = &seqs[first..end];
            self.with_hidden(group, |x| {
                let mut start = 0;
                for (s, row) in group.iter().zip(out[first * h..end * h].chunks_exact_mut(h)) {
                    for t in 0..s.len() {
                        row.iter_mut()
                            .zip(&x[(start + t) * h..(start + t + 1) * h])
                            .for_each(|(r, v)| *r += v);
                    }
                    let n = s.len().max(1) as f32;
                    row.iter_mut().for_each(|r| *r /= n);
                    start += s.len();
                }
            })?;
            first = end;
        }
        super::normalize_rows(out, h);
        Ok(())
    }

    /// Runs the encoder over `seqs` and calls `f` with the last hidden states of every token,
    /// the sequences concatenated (`Σ len × hidden`, row-major).
    pub fn with_hidden<R>(&self, seqs: &[&[u32]], f: impl FnOnce(&[f32]) -> R) -> Result<R> {
        check_sequences(seqs, self.words.rows(), self.positions.len() / self.hidden)?;
        let mut ws = self.pool.lock().map(|mut p| p.pop()).unwrap_or(None).unwrap_or_default();
        self.forward(seqs, &mut ws);
        let rows: usize = seqs.iter().map(|s| s.len()).sum();
        let r = f(&ws.x[..rows * self.hidden]);
        if let Ok(mut p) = self.pool.lock() {
            p.push(ws);
        }
        Ok(r)
    }

    fn forward(&self, seqs: &[&[u32]], ws: &mut Workspace) {
        let (h, inter) = (self.hidden, self.inter);
        let rows: usize = seqs.iter().map(|s| s.len()).sum();
        let longest = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        let hd = h / self.heads;
        let grow = |v: &mut Vec<f32>, n: usize| {
            if v.len() < n {
                v.resize(n, 0.0);
            }
        };
        grow(&mut ws.x, rows * h);
        grow(&mut ws.ctx, rows * h);
        grow(&mut ws.qkv, rows * 3 * h);
        grow(&mut ws.mid, rows * inter);
        grow(&mut ws.qs, rows);
        grow(&mut ws.kt, hd * longest);
        grow(&mut ws.scores, longest);
        if ws.q.len() < rows * inter.max(h) {
            ws.q.resize(rows * inter.max(h), 0);
        }

        // Embeddings: word row + (position + type-0) row, LayerNorm.
        let mut r = 0;
        for s in seqs {
            for (p, &id) in s.iter().enumerate() {
                let x = &mut ws.x[r * h..(r + 1) * h];
                x.copy_from_slice(&self.positions[p * h..(p + 1) * h]);
                self.words.add_row(id as usize, x);
                kernels::layer_norm(x, &self.ln_emb.0, &self.ln_emb.1, self.eps);
                r += 1;
            }
        }

        // Each row is quantised as soon as it is final (after its LayerNorm or GELU), while it is
        // still in L1, instead of in a second pass over the matrix; the bits are the same.
        let quantize = |src: &[f32], k: usize, q: &mut [i16], qs: &mut [f32]| {
            for ((x, q), s) in src.chunks_exact(k).zip(q.chunks_exact_mut(k)).zip(qs.iter_mut()).take(rows) {
                *s = kernels::quantize_row(x, q);
            }
        };
        quantize(&ws.x[..rows * h], h, &mut ws.q, &mut ws.qs);
        for layer in &self.layers {
            // Fused QKV projection (its input rows were quantised above or by the previous layer).
            kernels::linear(&ws.q, &ws.qs, rows, &layer.qkv, &mut ws.qkv);
            // Attention per sequence and head.
            let mut start = 0;
            for s in seqs {
                self.attention(start, s.len(), ws);
                start += s.len();
            }
            // Output projection, residual, LayerNorm.
            quantize(&ws.ctx[..rows * h], h, &mut ws.q, &mut ws.qs);
            kernels::linear(&ws.q, &ws.qs, rows, &layer.out, &mut ws.ctx);
            let rows_q = ws.q.chunks_exact_mut(h).zip(ws.qs.iter_mut());
            for ((x, c), (q, qs)) in
                ws.x[..rows * h].chunks_exact_mut(h).zip(ws.ctx.chunks_exact(h)).zip(rows_q)
            {
                x.iter_mut().zip(c).for_each(|(x, c)| *x += c);
                kernels::layer_norm(x, &layer.ln1.0, &layer.ln1.1, self.eps);
                *qs = kernels::quantize_row(x, q);
            }
            // Feed-forward: up, GELU, down, residual, LayerNorm.
            kernels::linear(&ws.q, &ws.qs, rows, &layer.up, &mut ws.mid);
            let rows_q = ws.q.chunks_exact_mut(inter).zip(ws.qs.iter_mut());
            for (m, (q, qs)) in ws.mid[..rows * inter].chunks_exact_mut(inter).zip(rows_q) {
                kernels::gelu(m);
                *qs = kernels::quantize_row(m, q);
            }
            kernels::linear(&ws.q, &ws.qs, rows, &layer.down, &mut ws.ctx);
            let rows_q = ws.q.chunks_exact_mut(h).zip(ws.qs.iter_mut());
            for ((x, c), (q, qs)) in
                ws.x[..rows * h].chunks_exact_mut(h).zip(ws.ctx.chunks_exact(h)).zip(rows_q)
            {
                x.iter_mut().zip(c).for_each(|(x, c)| *x += c);
                kernels::layer_norm(x, &layer.ln2.0, &layer.ln2.1, self.eps);
                // The next layer's QKV input (unused after the last layer: one row pass, no more).
                *qs = kernels::quantize_row(x, q);
            }
        }
    }

    /// Self-attention of one sequence (rows `start..start + len` of `ws.qkv`) into `ws.ctx`.
    fn attention(&self, start: usize, len: usize, ws: &mut Workspace) {
        let h = self.hidden;
        let hd = h / self.heads;
        let scale = 1.0 / (hd as f32).sqrt();
        let w3 = 3 * h;
        for head in 0..self.heads {
            let (qo, ko, vo) = (head * hd, h + head * hd, 2 * h + head * hd);
            // Keys of this head transposed (hd × len): scores become `len`-long axpys.
            for j in 0..len {
                let k = &ws.qkv[(start + j) * w3 + ko..(start + j) * w3 + ko + hd];
                for (d, &v) in k.iter().enumerate() {
                    ws.kt[d * len + j] = v;
                }
            }
            for i in 0..len {
                let q = &ws.qkv[(start + i) * w3 + qo..(start + i) * w3 + qo + hd];
                let scores = &mut ws.scores[..len];
                if hd == MINILM_HEAD {
                    scores_fixed::<MINILM_HEAD>(q, scale, &ws.kt[..hd * len], scores);
                } else {
                    scores.fill(0.0);
                    for (d, &qd) in q.iter().enumerate() {
                        let qd = qd * scale;
                        scores.iter_mut().zip(&ws.kt[d * len..(d + 1) * len]).for_each(|(s, k)| *s += qd * k);
                    }
                }
                let max = scores.iter().fold(f32::NEG_INFINITY, |m, &v| kernels::max_of(m, v));
                scores.iter_mut().for_each(|s| *s = kernels::exp(*s - max));
                let inv = 1.0 / kernels::sum(scores);
                let ctx = &mut ws.ctx[(start + i) * h + qo..(start + i) * h + qo + hd];
                let values = &ws.qkv[start * w3 + vo..];
                if hd == MINILM_HEAD {
                    weighted_sum_fixed::<MINILM_HEAD>(scores, values, w3, ctx);
                } else {
                    ctx.fill(0.0);
                    for (j, &p) in scores.iter().enumerate() {
                        ctx.iter_mut().zip(&values[j * w3..j * w3 + hd]).for_each(|(c, v)| *c += p * v);
                    }
                }
                ctx.iter_mut().for_each(|c| *c *= inv);
            }
        }
    }
}

/// MiniLM's head width (384 / 12): attention has register-resident paths for it.
const MINILM_HEAD: usize = 32;

/// `scores[j] = Σ_d (q[d]·scale)·kt[d][j]` (keys transposed, `D × len`), eight keys at a time with
/// the eight sums in registers; each sum runs over `d` in order from 0, exactly as the generic
/// loop does, so both give the same bits.
#[inline(always)]
fn scores_fixed<const D: usize>(q: &[f32], scale: f32, kt: &[f32], scores: &mut [f32]) {
    let len = scores.len();
    let qs: [f32; D] = std::array::from_fn(|d| q[d] * scale);
    let full = len / 8 * 8;
    for jb in (0..full).step_by(8) {
        let mut acc = [0f32; 8];
        for (d, &qd) in qs.iter().enumerate() {
            let k = &kt[d * len + jb..d * len + jb + 8];
            for l in 0..8 {
                acc[l] += qd * k[l];
            }
        }
        scores[jb..jb + 8].copy_from_slice(&acc);
    }
    for (j, s) in scores.iter_mut().enumerate().skip(full) {
        let mut acc = 0f32;
        for (d, &qd) in qs.iter().enumerate() {
            acc += qd * kt[d * len + j];
        }
        *s = acc;
    }
}

/// `ctx = Σ_j p[j]·v_j` where `v_j = values[j·stride..][..D]`, the `D` sums in registers (the same
/// order of additions as the generic loop).
#[inline(always)]
fn weighted_sum_fixed<const D: usize>(p: &[f32], values: &[f32], stride: usize, ctx: &mut [f32]) {
    let mut acc = [0f32; D];
    for (j, &pj) in p.iter().enumerate() {
        let v = &values[j * stride..j * stride + D];
        for c in 0..D {
            acc[c] += pj * v[c];
        }
    }
    ctx[..D].copy_from_slice(&acc);
}

/// Checks token sequences before a forward pass (this one or the f32 reference's): each at most
/// `max_len` tokens (the model's positions) and every id below `vocab`.
pub(super) fn check_sequences(seqs: &[&[u32]], vocab: usize, max_len: usize) -> Result<()> {
    for s in seqs {
        if s.len() > max_len {
            return Err(Error::invalid(
                "token sequence",
                format!("{} tokens, but the model accepts at most {max_len}", s.len()),
            ));
        }
        if let Some(&id) = s.iter().find(|&&id| id as usize >= vocab) {
            return Err(Error::invalid("token id", format!("{id} is outside the vocabulary of {vocab}")));
        }
    }
    Ok(())
}
