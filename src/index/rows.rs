//! int8 rows: the form every dense vector is stored and compared in, shared by the flat scan
//! ([`super::dense`]) and the HNSW graph (`hnsw.rs`), which both import it and not each other.
//!
//! Owns: L2-normalising and int8-quantizing vectors (`scale = max|x| / 127`, `code = round(x /
//! scale)`, see the dense module docs), the borrowed row view ([`Rows`]) and a query's int8 form
//! ([`QueryCodes`]), and the dot products over rows: int8 × int8 for candidates
//! ([`similarity`], accumulated in `i32`; wasm SIMD128 or a portable loop LLVM vectorises) and
//! f32 × int8 for the final scores ([`dot_f32_i8`], the same order of additions on every target).
//! Must not: own rows (callers pass slices in), search, rank or know what a row stands for.

use crate::{Error, Result};

/// A view of int8 rows: contiguous codes, `dim` per row, and one scale per row (how the dense
/// index stores them and what the HNSW graph links).
#[derive(Clone, Copy)]
pub(crate) struct Rows<'a> {
    /// Row-major codes, `scales.len() × dim`.
    pub(crate) codes: &'a [i8],
    /// One scale per row.
    pub(crate) scales: &'a [f32],
    /// Codes per row.
    pub(crate) dim: usize,
}

impl<'a> Rows<'a> {
    #[inline]
    pub(crate) fn row(&self, i: u32) -> (f32, &'a [i8]) {
        let i = i as usize;
        (self.scales[i], &self.codes[i * self.dim..(i + 1) * self.dim])
    }

    /// Quantized cosine similarity of rows `a` and `b`.
    #[inline]
    pub(crate) fn sim(&self, a: u32, b: u32) -> f32 {
        let (sa, ca) = self.row(a);
        let (sb, cb) = self.row(b);
        similarity(sa, ca, sb, cb)
    }

    #[inline]
    pub(crate) fn sim_to(&self, q: &QueryCodes<'_>, b: u32) -> f32 {
        let (sb, cb) = self.row(b);
        similarity(q.scale, q.codes, sb, cb)
    }

    pub(crate) fn len(&self) -> usize {
        self.scales.len()
    }

    /// Reads one byte of every 64 of row `i` (and its scale), so that the row is on its way
    /// into the cache before it is needed; returns a value to keep the loads alive.
    #[inline]
    pub(crate) fn touch(&self, i: u32) -> u32 {
        let (scale, codes) = self.row(i);
        let mut acc = scale.to_bits();
        for c in codes.iter().step_by(64) {
            acc = acc.wrapping_add(*c as u32);
        }
        acc
    }
}

/// Owned int8 rows: what a dense index keeps (behind an `Arc`, which the points of an
/// instant-distance graph share, `idist.rs`).
#[derive(Debug, Default)]
pub(crate) struct RowStore {
    /// Codes per row.
    pub(crate) dim: usize,
    /// Row-major codes, `scales.len() × dim`.
    pub(crate) codes: Vec<i8>,
    /// One scale per row.
    pub(crate) scales: Vec<f32>,
}

impl RowStore {
    #[inline]
    pub(crate) fn view(&self) -> Rows<'_> {
        Rows { codes: &self.codes, scales: &self.scales, dim: self.dim }
    }

    pub(crate) fn len(&self) -> usize {
        self.scales.len()
    }
}

/// A query in the rows' int8 form.
pub(crate) struct QueryCodes<'a> {
    /// The query's scale.
    pub(crate) scale: f32,
    /// Its `dim` codes.
    pub(crate) codes: &'a [i8],
}

/// The largest vector dimension: int8 dot products accumulate in `i32`, which holds any sum of
/// 65 536 products of codes in -127..=127 (and about twice that many), and no embedding model
/// comes near it.
pub const MAX_DIM: usize = 65_536;

pub(crate) fn check_dim(dim: usize) -> Result<()> {
    if dim == 0 {
        return Err(Error::invalid("dim", "expected a dimension of at least 1, found 0"));
    }
    if dim > MAX_DIM {
        return Err(Error::invalid("dim", format!("expected a dimension of at most {MAX_DIM}, found {dim}")));
    }
    Ok(())
}

/// L2-normalises and int8-quantizes row-major `n × dim` vectors (see the [`dense`] module
/// docs): the codes (`n × dim`) and one scale per row, the input of
/// [`DenseIndex::from_quantized`]. Zero rows are allowed (scale 0).
///
/// Errors: `dim` is 0 or above [`MAX_DIM`], `vectors.len()` is not a multiple of `dim`, or a
/// value is NaN or infinite (the message names its row and column).
///
/// [`dense`]: super::dense
/// [`DenseIndex::from_quantized`]: super::dense::DenseIndex::from_quantized
pub fn quantize_rows(vectors: &[f32], dim: usize) -> Result<(Vec<i8>, Vec<f32>)> {
    check_dim(dim)?;
    if vectors.len() % dim != 0 {
        return Err(Error::Vector {
            reason: format!("vectors has {} floats, not a multiple of dim {dim}", vectors.len()),
        });
    }
    if let Some(i) = vectors.iter().position(|v| !v.is_finite()) {
        return Err(Error::Vector {
            reason: format!(
                "vectors row {} column {} is {}; every value must be finite",
                i / dim,
                i % dim,
                vectors[i]
            ),
        });
    }
    let mut codes = vec![0i8; vectors.len()];
    let mut scales = vec![0f32; vectors.len() / dim];
    for ((row, out), scale) in
        vectors.chunks_exact(dim).zip(codes.chunks_exact_mut(dim)).zip(scales.iter_mut())
    {
        *scale = quantize(row, out);
    }
    Ok((codes, scales))
}

/// L2-normalises `row` and quantizes it into `out`; returns the scale (0 for a zero row).
/// `row` must be finite.
pub(crate) fn quantize(row: &[f32], out: &mut [i8]) -> f32 {
    // f64 so that squares of large finite f32 values cannot overflow.
    let norm = row.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    if norm == 0.0 || !norm.is_finite() {
        out.iter_mut().for_each(|c| *c = 0);
        return 0.0;
    }
    let max = row.iter().fold(0f64, |m, &x| m.max(f64::from(x).abs())) / norm;
    if max == 0.0 {
        out.iter_mut().for_each(|c| *c = 0);
        return 0.0;
    }
    let inv = 127.0 / (max * norm);
    for (o, &x) in out.iter_mut().zip(row) {
        *o = (f64::from(x) * inv).round().clamp(-127.0, 127.0) as i8;
    }
    (max / 127.0) as f32
}

/// `row / |row|` in f32 (the norm in f64, as [`quantize`] takes it); all zeros for a zero row.
/// `row` must be finite.
pub(crate) fn normalise(row: &[f32]) -> Vec<f32> {
    let norm = row.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return vec![0.0; row.len()];
    }
    row.iter().map(|&x| (f64::from(x) / norm) as f32).collect()
}

/// Quantized cosine similarity.
#[inline]
pub(crate) fn similarity(sa: f32, a: &[i8], sb: f32, b: &[i8]) -> f32 {
    sa * sb * dot_i8(a, b) as f32
}

/// Dot product of two int8 vectors (over the shorter length), accumulated in `i32`.
#[inline]
pub(crate) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        dot_i8_simd128(a, b)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        dot_i8_portable(a, b)
    }
}

/// Portable int8 dot product: 16 independent `i32` lanes that LLVM turns into SSE2/AVX2/NEON
/// multiply-adds. Products of two int8 codes fit easily in `i32`; sums wrap instead of panicking
/// (only reachable beyond 130 000 dimensions).
#[cfg_attr(all(target_arch = "wasm32", target_feature = "simd128"), allow(dead_code))]
#[inline]
fn dot_i8_portable(a: &[i8], b: &[i8]) -> i32 {
    const LANES: usize = 16;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0i32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..LANES {
            acc[i] = acc[i].wrapping_add(i32::from(x[i]).wrapping_mul(i32::from(y[i])));
        }
    }
    let mut sum = acc.iter().fold(0i32, |s, &v| s.wrapping_add(v));
    for (&x, &y) in ca.remainder().iter().zip(cb.remainder()) {
        sum = sum.wrapping_add(i32::from(x) * i32::from(y));
    }
    sum
}

/// wasm SIMD int8 dot product: widen 16 codes to two i16x8 halves, multiply-add pairs into
/// i32x4 with `i32x4.dot_i16x8_s`, two accumulators.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline]
fn dot_i8_simd128(a: &[i8], b: &[i8]) -> i32 {
    use core::arch::wasm32::*;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc0 = i32x4_splat(0);
    let mut acc1 = i32x4_splat(0);
    let mut ca = a.chunks_exact(16);
    let mut cb = b.chunks_exact(16);
    for (x, y) in (&mut ca).zip(&mut cb) {
        // SAFETY: `x` and `y` are exactly 16 bytes long; wasm loads need no alignment.
        let (va, vb) =
            unsafe { (v128_load(x.as_ptr() as *const v128), v128_load(y.as_ptr() as *const v128)) };
        acc0 = i32x4_add(acc0, i32x4_dot_i16x8(i16x8_extend_low_i8x16(va), i16x8_extend_low_i8x16(vb)));
        acc1 = i32x4_add(acc1, i32x4_dot_i16x8(i16x8_extend_high_i8x16(va), i16x8_extend_high_i8x16(vb)));
    }
    let acc = i32x4_add(acc0, acc1);
    let mut sum = i32x4_extract_lane::<0>(acc)
        .wrapping_add(i32x4_extract_lane::<1>(acc))
        .wrapping_add(i32x4_extract_lane::<2>(acc))
        .wrapping_add(i32x4_extract_lane::<3>(acc));
    for (&x, &y) in ca.remainder().iter().zip(cb.remainder()) {
        sum = sum.wrapping_add(i32::from(x) * i32::from(y));
    }
    sum
}

/// Dot product of an f32 vector and an int8 vector (over the shorter length), in f32.
///
/// Both implementations add in the same order, so native and wasm give bit-identical results
/// for the same inputs: 16 lanes, lane `l` summing the products of elements `l, l + 16, …`
/// (one rounding per product, one per addition: Rust never fuses them into FMA), then lanes
/// `(l + 0 + 4) + (l + 8 + 12)` for `l` in 0..4, then `(0 + 1) + (2 + 3)`, then the remainder in
/// order.
#[inline]
pub fn dot_f32_i8(q: &[f32], c: &[i8]) -> f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        dot_f32_i8_simd128(q, c)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        dot_f32_i8_portable(q, c)
    }
}

/// Portable f32 × int8 dot product: 16 independent lanes, which LLVM vectorises (SSE2/AVX2/NEON)
/// without reassociating anything. Public (hidden) only so that the wasm tests can check that
/// the SIMD128 version adds in exactly this order (`tests/wasm.rs`).
#[doc(hidden)]
#[inline]
pub fn dot_f32_i8_portable(q: &[f32], c: &[i8]) -> f32 {
    const LANES: usize = 16;
    let n = q.len().min(c.len());
    let (q, c) = (&q[..n], &c[..n]);
    let mut acc = [0f32; LANES];
    let mut cq = q.chunks_exact(LANES);
    let mut cc = c.chunks_exact(LANES);
    for (x, y) in (&mut cq).zip(&mut cc) {
        for l in 0..LANES {
            acc[l] += x[l] * f32::from(y[l]);
        }
    }
    let t: [f32; 4] = std::array::from_fn(|l| (acc[l] + acc[l + 4]) + (acc[l + 8] + acc[l + 12]));
    let mut sum = (t[0] + t[1]) + (t[2] + t[3]);
    for (&x, &y) in cq.remainder().iter().zip(cc.remainder()) {
        sum += x * f32::from(y);
    }
    sum
}

/// wasm SIMD f32 × int8 dot product: 16 codes widened to four i32x4 and converted to f32x4,
/// four f32x4 accumulators (lanes 0–3, 4–7, 8–11, 12–15 of the portable version).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline]
fn dot_f32_i8_simd128(q: &[f32], c: &[i8]) -> f32 {
    use core::arch::wasm32::*;
    let n = q.len().min(c.len());
    let (q, c) = (&q[..n], &c[..n]);
    let mut acc = [f32x4_splat(0.0); 4];
    let mut cq = q.chunks_exact(16);
    let mut cc = c.chunks_exact(16);
    for (x, y) in (&mut cq).zip(&mut cc) {
        // SAFETY: `x` holds exactly 16 f32 and `y` exactly 16 i8; wasm loads need no alignment.
        let codes = unsafe { v128_load(y.as_ptr() as *const v128) };
        let (lo, hi) = (i16x8_extend_low_i8x16(codes), i16x8_extend_high_i8x16(codes));
        let wide = [
            i32x4_extend_low_i16x8(lo),
            i32x4_extend_high_i16x8(lo),
            i32x4_extend_low_i16x8(hi),
            i32x4_extend_high_i16x8(hi),
        ];
        for (j, (a, w)) in acc.iter_mut().zip(wide).enumerate() {
            // SAFETY: `x[4j..4j + 4]` is in bounds (j < 4, x has 16 elements).
            let v = unsafe { v128_load(x.as_ptr().add(4 * j) as *const v128) };
            *a = f32x4_add(*a, f32x4_mul(v, f32x4_convert_i32x4(w)));
        }
    }
    let s = f32x4_add(f32x4_add(acc[0], acc[1]), f32x4_add(acc[2], acc[3]));
    let mut sum = (f32x4_extract_lane::<0>(s) + f32x4_extract_lane::<1>(s))
        + (f32x4_extract_lane::<2>(s) + f32x4_extract_lane::<3>(s));
    for (&x, &y) in cq.remainder().iter().zip(cc.remainder()) {
        sum += x * f32::from(y);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_naive_for_all_lengths() {
        let a: Vec<i8> = (0..100).map(|i| ((i * 37) % 255 - 127) as i8).collect();
        let b: Vec<i8> = (0..100).map(|i| ((i * 91 + 5) % 255 - 127) as i8).collect();
        for n in 0..100 {
            let naive: i32 = a[..n].iter().zip(&b[..n]).map(|(&x, &y)| x as i32 * y as i32).sum();
            assert_eq!(dot_i8(&a[..n], &b[..n]), naive, "length {n}");
        }
    }

    #[test]
    fn dot_f32_i8_matches_naive_for_all_lengths() {
        let q: Vec<f32> = (0..100).map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0).collect();
        let c: Vec<i8> = (0..100).map(|i| ((i * 91 + 5) % 255 - 127) as i8).collect();
        for n in 0..100 {
            let naive: f64 = q[..n].iter().zip(&c[..n]).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum();
            let got = dot_f32_i8(&q[..n], &c[..n]);
            assert!((f64::from(got) - naive).abs() < 1e-3, "length {n}: {got} vs {naive}");
        }
    }

    #[test]
    fn quantize_keeps_direction() {
        let row = [3.0f32, -4.0, 0.0, 0.5];
        let mut codes = [0i8; 4];
        let scale = quantize(&row, &mut codes);
        assert_eq!(codes[1], -127);
        let sim = similarity(scale, &codes, scale, &codes);
        assert!((sim - 1.0).abs() < 5e-3, "self-similarity {sim}");
    }
}
