//! Docent's own f32 BERT forward over the original weights (`model.safetensors`): the reference
//! MiniLM that `prepare` checks the int8 model against and distils the static table from.
//!
//! Owns: the f32 layer weights as the safetensors file holds them (linear weights `out × in`,
//! row-major), the forward pass over a batch of token sequences without padding (sequences are
//! concatenated along rows, attention runs per sequence), and the f32 matrix product it needs.
//! Must not: read files, tokenise, or panic on any token sequence (ids beyond the vocabulary and
//! sequences longer than the position table are errors).
//!
//! # Why not a library
//! candle's BERT did this job before; it is now only the independent check of this forward
//! (tests and `bench/minilm_speed.rs`, cargo feature `reference`), so building the CLI and
//! preparing the model no longer compile candle. The arithmetic is the same model in f32:
//! products summed in f32 in eight fixed lanes (the same bits with or without AVX: the wider
//! path only runs the same lanes at once, with no fused multiply-add), LayerNorm statistics in
//! f64, softmax with `f32::exp`, GELU with an f64 `erf` (|error| < 1.5·10⁻⁷). Against candle's
//! forward the outputs agree to a cosine of 0.99999+ (`tests/embed.rs`), far inside the int8
//! rounding that follows in `prepare`.

use std::collections::HashMap;

#[cfg(feature = "parallel")]
use rayon::prelude::*;

use super::bert::BertConfig;
use crate::{Error, Result};

/// One f32 linear layer: `y = x · wᵀ + b`, `w` is `n × k` (output channels × inputs).
#[derive(Debug)]
struct Linear {
    n: usize,
    k: usize,
    w: Vec<f32>,
    b: Vec<f32>,
}

#[derive(Debug)]
struct Layer {
    /// Query, key and value fused: `3·hidden × hidden`.
    qkv: Linear,
    out: Linear,
    ln1: (Vec<f32>, Vec<f32>),
    up: Linear,
    down: Linear,
    ln2: (Vec<f32>, Vec<f32>),
}

/// The f32 BERT encoder (see the module docs).
#[derive(Debug)]
pub struct BertF32 {
    hidden: usize,
    heads: usize,
    inter: usize,
    eps: f64,
    /// `vocab × hidden`.
    words: Vec<f32>,
    /// `max_position × hidden`.
    positions: Vec<f32>,
    /// The token-type-0 row.
    type0: Vec<f32>,
    ln_emb: (Vec<f32>, Vec<f32>),
    layers: Vec<Layer>,
}

/// Rows of activations per unit of parallel work in [`matmul`] (with the `parallel` feature).
const ROW_BLOCK: usize = 16;

impl BertF32 {
    /// Builds the encoder from f32 tensors named as in the safetensors export
    /// (`embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`, …).
    /// `what` names the weights file in errors; shapes are checked against `cfg`.
    pub fn new(
        cfg: &BertConfig,
        tensors: &mut HashMap<String, (Vec<usize>, Vec<f32>)>,
        what: &str,
    ) -> Result<Self> {
        let (h, inter) = (cfg.hidden_size, cfg.intermediate_size);
        if cfg.hidden_act != "gelu" {
            return Err(Error::model(
                "config.json",
                format!("hidden_act: expected \"gelu\", found {:?}", cfg.hidden_act),
            ));
        }
        if h == 0 || cfg.num_attention_heads == 0 || h % cfg.num_attention_heads != 0 {
            return Err(Error::model(
                "config.json",
                format!(
                    "hidden_size {h} is not a multiple of num_attention_heads {}",
                    cfg.num_attention_heads
                ),
            ));
        }
        let types_name = "embeddings.token_type_embeddings.weight";
        let (types_shape, types) = tensors
            .remove(types_name)
            .ok_or_else(|| Error::model(what, format!("tensor {types_name} is missing")))?;
        if !matches!(types_shape.as_slice(), [n, d] if *n >= 1 && *d == h) {
            return Err(Error::model(
                what,
                format!("{types_name}: expected shape [n, {h}], found {types_shape:?}"),
            ));
        }
        let type0 = types[..h].to_vec();
        let mut take = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            let (s, data) = tensors
                .remove(name)
                .ok_or_else(|| Error::model(what, format!("tensor {name} is missing")))?;
            if s != shape {
                return Err(Error::model(
                    what,
                    format!("{name}: expected shape {shape:?} (config.json), found {s:?}"),
                ));
            }
            Ok(data)
        };
        let words = take("embeddings.word_embeddings.weight", &[cfg.vocab_size, h])?;
        let positions = take("embeddings.position_embeddings.weight", &[cfg.max_position_embeddings, h])?;
        let ln_emb = (take("embeddings.LayerNorm.weight", &[h])?, take("embeddings.LayerNorm.bias", &[h])?);
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for l in 0..cfg.num_hidden_layers {
            let p = format!("encoder.layer.{l}.");
            let mut lin = |names: &[&str], n: usize, k: usize| -> Result<Linear> {
                let mut w = Vec::with_capacity(names.len() * n * k);
                let mut b = Vec::with_capacity(names.len() * n);
                for name in names {
                    w.extend(take(&format!("{p}{name}.weight"), &[n, k])?);
                    b.extend(take(&format!("{p}{name}.bias"), &[n])?);
                }
                Ok(Linear { n: names.len() * n, k, w, b })
            };
            let qkv = lin(&["attention.self.query", "attention.self.key", "attention.self.value"], h, h)?;
            let out = lin(&["attention.output.dense"], h, h)?;
            let up = lin(&["intermediate.dense"], inter, h)?;
            let down = lin(&["output.dense"], h, inter)?;
            let mut ln = |name: &str| -> Result<(Vec<f32>, Vec<f32>)> {
                Ok((take(&format!("{p}{name}.weight"), &[h])?, take(&format!("{p}{name}.bias"), &[h])?))
            };
            let (ln1, ln2) = (ln("attention.output.LayerNorm")?, ln("output.LayerNorm")?);
            layers.push(Layer { qkv, out, ln1, up, down, ln2 });
        }
        Ok(BertF32 {
            hidden: h,
            heads: cfg.num_attention_heads,
            inter,
            eps: cfg.layer_norm_eps,
            words,
            positions,
            type0,
            ln_emb,
            layers,
        })
    }

    /// The last hidden states of every token of `seqs`, the sequences concatenated
    /// (`Σ len × hidden`, row-major).
    pub fn forward(&self, seqs: &[&[u32]]) -> Result<Vec<f32>> {
        let (h, inter) = (self.hidden, self.inter);
        let vocab = self.words.len() / h;
        let max_len = self.positions.len() / h;
        super::bert::check_sequences(seqs, vocab, max_len)?;
        let rows: usize = seqs.iter().map(|s| s.len()).sum();
        let mut x = vec![0f32; rows * h];
        let mut r = 0;
        for s in seqs {
            for (p, &id) in s.iter().enumerate() {
                let row = &mut x[r * h..(r + 1) * h];
                let (w, pos) = (&self.words[id as usize * h..][..h], &self.positions[p * h..][..h]);
                for (((o, w), t), p) in row.iter_mut().zip(w).zip(&self.type0).zip(pos) {
                    *o = (w + t) + p;
                }
                layer_norm(row, &self.ln_emb, self.eps);
                r += 1;
            }
        }
        let mut qkv = vec![0f32; rows * 3 * h];
        let mut ctx = vec![0f32; rows * h];
        let mut tmp = vec![0f32; rows * h];
        let mut mid = vec![0f32; rows * inter];
        for layer in &self.layers {
            matmul(&x, rows, &layer.qkv, &mut qkv);
            let mut start = 0;
            for s in seqs {
                self.attention(
                    &qkv[start * 3 * h..(start + s.len()) * 3 * h],
                    s.len(),
                    &mut ctx[start * h..(start + s.len()) * h],
                );
                start += s.len();
            }
            matmul(&ctx, rows, &layer.out, &mut tmp);
            residual_norm(&mut x, &tmp, h, &layer.ln1, self.eps);
            matmul(&x, rows, &layer.up, &mut mid);
            mid.iter_mut().for_each(|v| *v = gelu(*v));
            matmul(&mid, rows, &layer.down, &mut tmp);
            residual_norm(&mut x, &tmp, h, &layer.ln2, self.eps);
        }
        Ok(x)
    }

    /// Self-attention of one sequence: `qkv` is `len × 3·hidden`, `ctx` receives `len × hidden`.
    fn attention(&self, qkv: &[f32], len: usize, ctx: &mut [f32]) {
        let h = self.hidden;
        let hd = h / self.heads;
        let scale = (hd as f32).sqrt();
        let mut scores = vec![0f32; len];
        for head in 0..self.heads {
            let (qo, ko, vo) = (head * hd, h + head * hd, 2 * h + head * hd);
            for i in 0..len {
                let q = &qkv[i * 3 * h + qo..][..hd];
                for (j, s) in scores.iter_mut().enumerate() {
                    *s = dot(q, &qkv[j * 3 * h + ko..][..hd]) / scale;
                }
                let max = scores.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                scores.iter_mut().for_each(|s| *s = (*s - max).exp());
                let total: f32 = scores.iter().sum();
                let out = &mut ctx[i * h + qo..][..hd];
                out.fill(0.0);
                for (j, &p) in scores.iter().enumerate() {
                    let p = p / total;
                    out.iter_mut().zip(&qkv[j * 3 * h + vo..][..hd]).for_each(|(o, v)| *o += p * v);
                }
            }
        }
    }
}

/// `x ← LayerNorm(x + add)` row by row.
fn residual_norm(x: &mut [f32], add: &[f32], h: usize, ln: &(Vec<f32>, Vec<f32>), eps: f64) {
    for (row, a) in x.chunks_exact_mut(h).zip(add.chunks_exact(h)) {
        row.iter_mut().zip(a).for_each(|(x, a)| *x += a);
        layer_norm(row, ln, eps);
    }
}

/// LayerNorm of one row in place (biased variance), statistics in f64.
fn layer_norm(x: &mut [f32], (gamma, beta): &(Vec<f32>, Vec<f32>), eps: f64) {
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = x.iter().map(|&v| (v as f64 - mean) * (v as f64 - mean)).sum::<f64>() / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in x.iter_mut().zip(gamma).zip(beta) {
        *v = ((*v as f64 - mean) * inv) as f32 * g + b;
    }
}

/// Exact (erf) GELU: `x · ½(1 + erf(x/√2))`, computed in f64.
fn gelu(x: f32) -> f32 {
    let x = x as f64;
    (x * 0.5 * (1.0 + erf(x * std::f64::consts::FRAC_1_SQRT_2))) as f32
}

/// The error function in f64, |error| < 1.5·10⁻⁷ (Abramowitz & Stegun 7.1.26).
fn erf(x: f64) -> f64 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    (1.0 - poly * (-a * a).exp()).copysign(x)
}

/// `Σ a[i]·b[i]` in eight fixed lanes, then a fixed tree.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut s = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            s[l] += x[l] * y[l];
        }
    }
    lanes(s) + tail
}

#[inline(always)]
fn lanes(s: [f32; 8]) -> f32 {
    ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
}

/// `out = a · wᵀ + b` for `rows` rows of `a` (`rows × w.k`), `out` is `rows × w.n`. Every output
/// is one [`dot`]-ordered sum, so the result does not depend on the blocking, the thread count or
/// the instruction set.
fn matmul(a: &[f32], rows: usize, w: &Linear, out: &mut [f32]) {
    let (n, k) = (w.n, w.k);
    let block = |(bi, o): (usize, &mut [f32])| {
        let r0 = bi * ROW_BLOCK;
        let rs = o.len() / n;
        block_product(&a[r0 * k..(r0 + rs) * k], rs, w, o);
    };
    let out = &mut out[..rows * n];
    #[cfg(feature = "parallel")]
    out.par_chunks_mut(ROW_BLOCK * n).enumerate().for_each(block);
    #[cfg(not(feature = "parallel"))]
    out.chunks_mut(ROW_BLOCK * n).enumerate().for_each(block);
}

fn block_product(a: &[f32], rows: usize, w: &Linear, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: AVX is present (checked just above).
        return block_product_with(a, rows, w, out, |x, w| unsafe { tile_avx(x, w) });
    }
    block_product_with(a, rows, w, out, tile)
}

/// Tiles of 4 rows × 2 output channels (eight 8-lane sums in registers), then the leftovers
/// one by one; each sum is the same [`dot`] order.
#[inline(always)]
fn block_product_with(
    a: &[f32],
    rows: usize,
    w: &Linear,
    out: &mut [f32],
    tile: impl Fn([&[f32]; 4], [&[f32]; 2]) -> [[f32; 2]; 4],
) {
    let (n, k) = (w.n, w.k);
    let row = |r: usize| &a[r * k..(r + 1) * k];
    let col = |j: usize| &w.w[j * k..(j + 1) * k];
    let full_r = rows / 4 * 4;
    let full_n = n / 2 * 2;
    for r in (0..full_r).step_by(4) {
        let x = [row(r), row(r + 1), row(r + 2), row(r + 3)];
        for j in (0..full_n).step_by(2) {
            let t = tile(x, [col(j), col(j + 1)]);
            for (m, t) in t.iter().enumerate() {
                out[(r + m) * n + j] = t[0] + w.b[j];
                out[(r + m) * n + j + 1] = t[1] + w.b[j + 1];
            }
        }
        for j in full_n..n {
            for m in 0..4 {
                out[(r + m) * n + j] = dot(x[m], col(j)) + w.b[j];
            }
        }
    }
    for r in full_r..rows {
        for j in 0..n {
            out[r * n + j] = dot(row(r), col(j)) + w.b[j];
        }
    }
}

/// The 4 × 2 tile in portable code: per lane `acc += x·w` (a multiply, then an add).
#[inline(always)]
fn tile(x: [&[f32]; 4], w: [&[f32]; 2]) -> [[f32; 2]; 4] {
    let k = x[0].len();
    let full = k / 8 * 8;
    let mut acc = [[[0f32; 8]; 2]; 4];
    for c in (0..full).step_by(8) {
        let wv: [[f32; 8]; 2] = std::array::from_fn(|j| std::array::from_fn(|l| w[j][c + l]));
        for m in 0..4 {
            let xv: [f32; 8] = std::array::from_fn(|l| x[m][c + l]);
            for j in 0..2 {
                for l in 0..8 {
                    acc[m][j][l] += xv[l] * wv[j][l];
                }
            }
        }
    }
    finish(x, w, full, acc)
}

/// The 4 × 2 tile with 256-bit vectors: the same lanes and the same operations as [`tile`]
/// (a multiply, then an add: no fused multiply-add), so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn tile_avx(x: [&[f32]; 4], w: [&[f32]; 2]) -> [[f32; 2]; 4] {
    use std::arch::x86_64::*;
    let k = x[0].len();
    assert!(x.iter().all(|r| r.len() == k) && w.iter().all(|r| r.len() == k), "tile rows of unequal length");
    let full = k / 8 * 8;
    let mut acc = [[_mm256_setzero_ps(); 2]; 4];
    for c in (0..full).step_by(8) {
        // SAFETY: c + 8 <= full <= k, the length of every row (asserted above).
        let (w0, w1) = (_mm256_loadu_ps(w[0].as_ptr().add(c)), _mm256_loadu_ps(w[1].as_ptr().add(c)));
        for m in 0..4 {
            let xv = _mm256_loadu_ps(x[m].as_ptr().add(c));
            acc[m][0] = _mm256_add_ps(acc[m][0], _mm256_mul_ps(xv, w0));
            acc[m][1] = _mm256_add_ps(acc[m][1], _mm256_mul_ps(xv, w1));
        }
    }
    let lanes: [[[f32; 8]; 2]; 4] = std::array::from_fn(|m| {
        std::array::from_fn(|j| {
            let mut v = [0f32; 8];
            _mm256_storeu_ps(v.as_mut_ptr(), acc[m][j]);
            v
        })
    });
    finish(x, w, full, lanes)
}

/// Each tile sum's eight lanes reduced in [`dot`]'s order, plus the products past the last
/// full group of eight.
#[inline(always)]
fn finish(x: [&[f32]; 4], w: [&[f32]; 2], full: usize, acc: [[[f32; 8]; 2]; 4]) -> [[f32; 2]; 4] {
    std::array::from_fn(|m| {
        std::array::from_fn(|j| {
            let tail: f32 = x[m][full..].iter().zip(&w[j][full..]).map(|(p, q)| p * q).sum();
            lanes(acc[m][j]) + tail
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_equal_one_dot_per_output() {
        // 7 rows × 5 outputs × 40 inputs: full tiles and every kind of leftover.
        let (rows, n, k) = (7, 5, 40);
        let val = |i: usize| ((i * 7919 % 1000) as f32 - 500.0) / 250.0;
        let a: Vec<f32> = (0..rows * k).map(val).collect();
        let w = Linear {
            n,
            k,
            w: (0..n * k).map(|i| val(i + 3)).collect(),
            b: (0..n).map(|i| i as f32).collect(),
        };
        let mut out = vec![0f32; rows * n];
        matmul(&a, rows, &w, &mut out);
        for r in 0..rows {
            for j in 0..n {
                let want = dot(&a[r * k..(r + 1) * k], &w.w[j * k..(j + 1) * k]) + w.b[j];
                assert_eq!(out[r * n + j].to_bits(), want.to_bits(), "row {r}, output {j}");
            }
        }
    }

    #[test]
    fn erf_is_accurate() {
        // Reference values of erf (15 digits).
        for (x, want) in [
            (0.0, 0.0),
            (0.5, 0.520_499_877_813_047),
            (1.0, 0.842_700_792_949_715),
            (-2.0, -0.995_322_265_018_953),
        ] {
            assert!((erf(x) - want).abs() < 1.5e-7, "erf({x}) = {}, want {want}", erf(x));
        }
    }
}
