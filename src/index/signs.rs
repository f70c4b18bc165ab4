//! Sign codes of IVF residuals: one bit per dimension and two numbers per row, from which a
//! query estimates its cosine with the row without the row's int8 codes.
//!
//! A row `x` (its int8 codes times their scale) in the partition of centroid `c` (likewise) is
//! stored as the signs of its residual `r = x − c`, the residual's length `|r|` and the
//! *alignment* `a = Σ|r_i| / (√D·|r|)` (the cosine between `r` and its sign vector, in
//! `[1/√D, 1]`). For a unit query `q` the estimate of `q·x` is
//!
//! `q·c + |r| · (q·s/√D) / a`, `s` the ±1 sign vector,
//!
//! the estimator of RaBitQ (Gao and Long, SIGMOD 2024) without its random rotation: exact when
//! the residual is its own sign vector scaled, and good enough to pick the few dozen rows worth
//! fetching whole (`fragments::dense`'s ranged partitions rescore those with the int8 codes). A
//! code is `⌈D/8⌉` bytes, an eighth of an int8 row.
//!
//! Must not: know about fragments or files; the layout of a code on disk is the caller's.

use super::rows::dot_f32_i8;

/// Bytes of the sign code of a `dim`-dimensional row.
pub fn code_bytes(dim: usize) -> usize {
    dim.div_ceil(8)
}

/// The sign code of the row `(scale, codes)` against the centroid `(c_scale, c_codes)`: the
/// signs written to `bits` (bit `i % 8` of byte `i / 8` set when `r_i ≥ 0`; `bits` is
/// [`code_bytes`] long), and `(|r|, alignment)`. A row equal to its centroid gives `(0, 1)`.
pub fn encode(scale: f32, codes: &[i8], c_scale: f32, c_codes: &[i8], bits: &mut [u8]) -> (f32, f32) {
    bits.iter_mut().for_each(|b| *b = 0);
    let (mut sq, mut abs) = (0f64, 0f64);
    for (i, (&x, &c)) in codes.iter().zip(c_codes).enumerate() {
        let r = f64::from(scale) * f64::from(x) - f64::from(c_scale) * f64::from(c);
        if r >= 0.0 {
            bits[i / 8] |= 1 << (i % 8);
        }
        sq += r * r;
        abs += r.abs();
    }
    let norm = sq.sqrt();
    if norm == 0.0 {
        return (0.0, 1.0);
    }
    let align = abs / ((codes.len() as f64).sqrt() * norm);
    (norm as f32, (align as f32).clamp(f32::MIN_POSITIVE, 1.0))
}

/// A unit query prepared for sign codes: per code byte, the sum `Σ ±q_i` of its eight
/// dimensions for each of the 256 byte values (`⌈D/8⌉ × 256` floats; 96 kB at 384 dimensions).
pub struct SignQuery {
    table: Vec<f32>,
    inv_sqrt_dim: f32,
}

impl SignQuery {
    /// Prepares `unit` (an L2-normalised query).
    pub fn new(unit: &[f32]) -> SignQuery {
        let bytes = code_bytes(unit.len());
        let mut table = vec![0f32; bytes * 256];
        for (t, block) in table.chunks_exact_mut(256).enumerate() {
            let dims = &unit[t * 8..(t * 8 + 8).min(unit.len())];
            for (v, out) in block.iter_mut().enumerate() {
                *out = dims.iter().enumerate().map(|(j, &q)| if v >> j & 1 == 1 { q } else { -q }).sum();
            }
        }
        SignQuery { table, inv_sqrt_dim: 1.0 / (unit.len().max(1) as f32).sqrt() }
    }

    /// The estimated cosine of the query with a row of sign code `bits`, residual length
    /// `norm` and alignment `align`, in a partition whose centroid scores `q_c` with the query
    /// (`q·c`, see [`centroid_score`]).
    #[inline]
    pub fn estimate(&self, q_c: f32, bits: &[u8], norm: f32, align: f32) -> f32 {
        let dot: f32 = bits.iter().enumerate().map(|(t, &b)| self.table[t * 256 + b as usize]).sum();
        q_c + norm * dot * self.inv_sqrt_dim / align
    }
}

/// `q·c` for a unit query and a centroid `(scale, codes)`, unclamped: the first term of
/// [`SignQuery::estimate`].
pub fn centroid_score(unit: &[f32], scale: f32, codes: &[i8]) -> f32 {
    scale * dot_f32_i8(unit, codes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::hnsw::SplitMix;
    use crate::index::rows::{normalise, quantize};

    fn random_unit(rng: &mut SplitMix, dim: usize) -> Vec<f32> {
        let v: Vec<f32> = (0..dim).map(|_| (rng.next() % 2001) as f32 / 1000.0 - 1.0).collect();
        normalise(&v)
    }

    fn int8(v: &[f32]) -> (f32, Vec<i8>) {
        let mut c = vec![0i8; v.len()];
        let s = quantize(v, &mut c);
        (s, c)
    }

    #[test]
    fn a_residual_along_its_own_signs_is_estimated_exactly() {
        // r = x − c is ±0.1 in every dimension: its sign vector is r itself, scaled.
        let dim = 20;
        let c: Vec<f32> = (0..dim).map(|i| if i % 3 == 0 { 0.3 } else { 0.0 }).collect();
        let (cs, cc) = int8(&c);
        let cd: Vec<f32> = cc.iter().map(|&v| cs * f32::from(v)).collect();
        let x: Vec<f32> =
            cd.iter().enumerate().map(|(i, v)| v + if i % 2 == 0 { 0.1 } else { -0.1 }).collect();
        // The row on a fine grid (scale 0.004: up to ±0.508), so its int8 form is x up to 0.002
        // per dimension.
        let xs = 0.004f32;
        let xc: Vec<i8> = x.iter().map(|v| (v / xs).round().clamp(-127.0, 127.0) as i8).collect();
        let xd: Vec<f32> = xc.iter().map(|&v| xs * f32::from(v)).collect();
        let mut bits = vec![0u8; code_bytes(dim)];
        let (norm, align) = encode(xs, &xc, cs, &cc, &mut bits);
        let r: Vec<f32> = xd.iter().zip(&cd).map(|(a, b)| a - b).collect();
        let want_norm = r.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - want_norm).abs() < 1e-5, "{norm} vs {want_norm}");
        assert!(align > 0.99, "alignment {align}");
        let mut rng = SplitMix(7);
        let q = random_unit(&mut rng, dim);
        let sq = SignQuery::new(&q);
        let est = sq.estimate(centroid_score(&q, cs, &cc), &bits, norm, align);
        let exact: f32 = q.iter().zip(&xd).map(|(a, b)| a * b).sum();
        assert!((est - exact).abs() < 0.02, "estimate {est}, exact {exact}");
    }

    #[test]
    fn estimates_rank_rows_close_to_their_exact_order() {
        // 400 rows around one centroid; of the best 10 by exact cosine, 9 or more on average are
        // among the best 64 by estimate (what the ranged partitions rescore), over 20 queries.
        let dim = 128;
        let mut rng = SplitMix(11);
        let centre = random_unit(&mut rng, dim);
        let (cs, cc) = int8(&centre);
        let rows: Vec<(f32, Vec<i8>)> = (0..400)
            .map(|_| {
                let noise = random_unit(&mut rng, dim);
                let v: Vec<f32> = centre.iter().zip(&noise).map(|(c, n)| c + 0.6 * n).collect();
                int8(&normalise(&v))
            })
            .collect();
        let codes: Vec<(Vec<u8>, f32, f32)> = rows
            .iter()
            .map(|(s, c)| {
                let mut bits = vec![0u8; code_bytes(dim)];
                let (n, a) = encode(*s, c, cs, &cc, &mut bits);
                (bits, n, a)
            })
            .collect();
        let mut found = 0;
        for _ in 0..20 {
            let q = random_unit(&mut rng, dim);
            let sq = SignQuery::new(&q);
            let qc = centroid_score(&q, cs, &cc);
            let mut exact: Vec<(usize, f32)> =
                rows.iter().enumerate().map(|(i, (s, c))| (i, s * dot_f32_i8(&q, c))).collect();
            let mut est: Vec<(usize, f32)> =
                codes.iter().enumerate().map(|(i, (b, n, a))| (i, sq.estimate(qc, b, *n, *a))).collect();
            exact.sort_by(|a, b| b.1.total_cmp(&a.1));
            est.sort_by(|a, b| b.1.total_cmp(&a.1));
            let shortlist: Vec<usize> = est[..64].iter().map(|e| e.0).collect();
            found += exact[..10].iter().filter(|e| shortlist.contains(&e.0)).count();
        }
        assert!(found >= 180, "{found} of the 200 exact top-10 rows in the estimate's top 64");
    }

    #[test]
    fn a_row_at_its_centroid_estimates_the_centroid_score() {
        let dim = 16;
        let mut rng = SplitMix(3);
        let (cs, cc) = int8(&random_unit(&mut rng, dim));
        let mut bits = vec![0u8; code_bytes(dim)];
        assert_eq!(encode(cs, &cc, cs, &cc, &mut bits), (0.0, 1.0));
        let q = random_unit(&mut rng, dim);
        let qc = centroid_score(&q, cs, &cc);
        assert_eq!(SignQuery::new(&q).estimate(qc, &bits, 0.0, 1.0), qc);
    }
}
