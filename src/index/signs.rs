//! Sign codes of IVF residuals: one bit per dimension and two numbers per row, from which a
//! query estimates its cosine with the row without the row's int8 codes.
//!
//! A row `x` (its int8 codes times their scale) in the partition of centroid `c` (likewise) is
//! stored as the signs of its rotated residual `R·r`, `r = x − c` ([`rotate`]: a fixed
//! orthogonal transform), the residual's length `|r|` and the *alignment*
//! `a = Σ|(R·r)_i| / (√D·|r|)` (the cosine between `R·r` and its sign vector, in `[1/√D, 1]`).
//! For a unit query `q` the estimate of `q·x` is
//!
//! `q·c + |r| · ((R·q)·s/√D) / a`, `s` the ±1 sign vector,
//!
//! the estimator of RaBitQ (Gao and Long, SIGMOD 2024), with a structured rotation in place of
//! its random matrix: exact when the rotated residual is its own sign vector scaled, and good
//! enough to pick the few dozen rows worth fetching whole (`fragments::dense`'s ranged partitions rescore those with the int8 codes). A
//! code is `⌈D/8⌉` bytes, an eighth of an int8 row.
//!
//! Must not: know about fragments or files; the layout of a code on disk is the caller's.

use super::rows::dot_f32_i8;

/// Bytes of the sign code of a `dim`-dimensional row.
pub fn code_bytes(dim: usize) -> usize {
    dim.div_ceil(8)
}

/// The sign code of the row `(scale, codes)` against the centroid `(c_scale, c_codes)`: the
/// signs of the rotated residual `R·r` ([`rotate`]) written to `bits` (bit `i % 8` of byte
/// `i / 8` set when `(R·r)_i ≥ 0`; `bits` is [`code_bytes`] long), and `(|r|, alignment)`. A row
/// equal to its centroid gives `(0, 1)`.
pub fn encode(scale: f32, codes: &[i8], c_scale: f32, c_codes: &[i8], bits: &mut [u8]) -> (f32, f32) {
    bits.iter_mut().for_each(|b| *b = 0);
    let mut r: Vec<f64> = codes
        .iter()
        .zip(c_codes)
        .map(|(&x, &c)| f64::from(scale) * f64::from(x) - f64::from(c_scale) * f64::from(c))
        .collect();
    rotate(&mut r);
    let (mut sq, mut abs) = (0f64, 0f64);
    for (i, &v) in r.iter().enumerate() {
        if v >= 0.0 {
            bits[i / 8] |= 1 << (i % 8);
        }
        sq += v * v;
        abs += v.abs();
    }
    let norm = sq.sqrt();
    if norm == 0.0 {
        return (0.0, 1.0);
    }
    let align = abs / ((r.len() as f64).sqrt() * norm);
    (norm as f32, (align as f32).clamp(f32::MIN_POSITIVE, 1.0))
}

/// Seed of the sign flips of [`rotate`]: part of the format (a reader rotates queries with the
/// writer's transform).
const ROTATION_SEED: u64 = 0x5167_C0DE;

/// Applies a fixed orthogonal transform `R` to `v` in place: three rounds of random sign flips
/// (seeded by [`ROTATION_SEED`]) each followed by a normalised Walsh–Hadamard transform, over the
/// first `B` coordinates, then the last `B`, then the first again (`B` the largest power of two
/// up to the length, so every coordinate is mixed with every other). Residuals of real
/// embeddings lean on a few coordinates; spread over all of them, their signs keep more of their
/// direction (RaBitQ's random rotation, in `O(D log D)` and without a stored matrix). Lengths and
/// dot products are unchanged: `(R·q)·(R·r) = q·r`. The same bits on every target (f64, a fixed
/// order of operations).
pub fn rotate(v: &mut [f64]) {
    let d = v.len();
    if d < 2 {
        return;
    }
    let b = 1usize << (usize::BITS - 1 - d.leading_zeros());
    let mut rng = super::hnsw::SplitMix(ROTATION_SEED);
    for round in 0..3 {
        for x in v.iter_mut() {
            if rng.next() & 1 == 1 {
                *x = -*x;
            }
        }
        let start = if round == 1 { d - b } else { 0 };
        hadamard(&mut v[start..start + b]);
    }
}

/// The normalised Walsh–Hadamard transform of `v` (length a power of two) in place.
fn hadamard(v: &mut [f64]) {
    let n = v.len();
    let mut h = 1;
    while h < n {
        for i in (0..n).step_by(2 * h) {
            for j in i..i + h {
                let (a, b) = (v[j], v[j + h]);
                v[j] = a + b;
                v[j + h] = a - b;
            }
        }
        h *= 2;
    }
    let scale = 1.0 / (n as f64).sqrt();
    v.iter_mut().for_each(|x| *x *= scale);
}

/// A unit query prepared for sign codes: per code byte, the sum `Σ ±q_i` of its eight
/// dimensions for each of the 256 byte values (`⌈D/8⌉ × 256` floats; 96 kB at 384 dimensions).
pub struct SignQuery {
    table: Vec<f32>,
    inv_sqrt_dim: f32,
}

impl SignQuery {
    /// Prepares `unit` (an L2-normalised query), rotated like the residuals ([`rotate`]).
    pub fn new(unit: &[f32]) -> SignQuery {
        let mut q: Vec<f64> = unit.iter().map(|&x| f64::from(x)).collect();
        rotate(&mut q);
        let unit: Vec<f32> = q.iter().map(|&x| x as f32).collect();
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

    /// `R⁻¹·v`: the rounds of [`rotate`] undone in reverse order (each Hadamard transform is its
    /// own inverse, each sign flip too).
    fn unrotate(v: &mut [f64]) {
        let d = v.len();
        let b = 1usize << (usize::BITS - 1 - d.leading_zeros());
        let mut rng = SplitMix(ROTATION_SEED);
        let flips: Vec<Vec<bool>> = (0..3).map(|_| (0..d).map(|_| rng.next() & 1 == 1).collect()).collect();
        for round in (0..3).rev() {
            let start = if round == 1 { d - b } else { 0 };
            hadamard(&mut v[start..start + b]);
            for (x, &f) in v.iter_mut().zip(&flips[round]) {
                if f {
                    *x = -*x;
                }
            }
        }
    }

    #[test]
    fn the_rotation_keeps_lengths_and_dot_products_and_mixes_every_coordinate() {
        let mut rng = SplitMix(5);
        for dim in [2, 8, 20, 256, 384] {
            let a: Vec<f64> = random_unit(&mut rng, dim).iter().map(|&x| f64::from(x)).collect();
            let b: Vec<f64> = random_unit(&mut rng, dim).iter().map(|&x| f64::from(x)).collect();
            let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
            let (mut ra, mut rb) = (a.clone(), b.clone());
            rotate(&mut ra);
            rotate(&mut rb);
            assert!((dot(&ra, &ra) - dot(&a, &a)).abs() < 1e-9, "{dim}");
            assert!((dot(&ra, &rb) - dot(&a, &b)).abs() < 1e-9, "{dim}");
            let mut back = ra.clone();
            unrotate(&mut back);
            assert!(back.iter().zip(&a).all(|(x, y)| (x - y).abs() < 1e-9), "{dim}");
            // A unit axis spreads over the coordinates: none keeps half of it, most get some.
            let mut e = vec![0.0; dim];
            e[dim - 1] = 1.0;
            rotate(&mut e);
            let nonzero = e.iter().filter(|&&x| x != 0.0).count();
            assert!(e.iter().all(|&x| x.abs() < 0.75) && nonzero * 4 >= dim * 3, "{dim}: {e:?}");
        }
    }

    #[test]
    fn a_residual_whose_rotation_is_a_sign_vector_is_estimated_exactly() {
        // R·r is ±0.1 in every dimension: its sign vector is R·r itself, scaled. The centroid is
        // the zero row, so the row is r.
        let dim = 20;
        let mut r: Vec<f64> = (0..dim).map(|i| if i % 3 == 0 { 0.1 } else { -0.1 }).collect();
        unrotate(&mut r);
        // The row on a fine grid (scale 0.005: up to ±0.635), so its int8 form is r up to 0.0025
        // per dimension.
        let xs = 0.005f32;
        let xc: Vec<i8> = r.iter().map(|&v| (v / f64::from(xs)).round().clamp(-127.0, 127.0) as i8).collect();
        let xd: Vec<f32> = xc.iter().map(|&v| xs * f32::from(v)).collect();
        let zero = vec![0i8; dim];
        let mut bits = vec![0u8; code_bytes(dim)];
        let (norm, align) = encode(xs, &xc, 0.0, &zero, &mut bits);
        let want_norm = xd.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - want_norm).abs() < 1e-5, "{norm} vs {want_norm}");
        assert!(align > 0.99, "alignment {align}");
        let mut rng = SplitMix(7);
        let q = random_unit(&mut rng, dim);
        let est = SignQuery::new(&q).estimate(centroid_score(&q, 0.0, &zero), &bits, norm, align);
        let exact: f32 = q.iter().zip(&xd).map(|(a, b)| a * b).sum();
        assert!((est - exact).abs() < 0.02, "estimate {est}, exact {exact}");
    }

    #[test]
    fn estimates_rank_rows_close_to_their_exact_order() {
        // 400 rows around one centroid; of the best 10 by exact cosine, 8.5 or more on average
        // are among the best 64 by estimate (what the ranged partitions rescore), over 20 queries
        // (a shortlist drawn at random would hold 1.6).
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
        assert!(found >= 170, "{found} of the 200 exact top-10 rows in the estimate's top 64");
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
