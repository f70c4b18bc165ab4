//! The IVF (inverted file) layout of the dense rows: the form the fragmented site index stores
//! them in, so that a browser fetches the centroids once and then only the `nprobe` partitions
//! nearest to each question, instead of every row or an HNSW walk over HTTP.
//!
//! Owns: training the centroids (spherical k-means, deterministic), assigning rows to them,
//! probing them with a query, the partitions (the int8 rows of one centroid's chunks) and
//! scoring a query against a set of partitions, and checking centroids and partitions read from
//! a file. The row arithmetic (quantizing, the int8 and f32 × int8 dot products) is `rows.rs`,
//! the query's two forms and the two-stage scoring rules are `dense.rs`'s, so a partition scores
//! a row exactly as [`DenseIndex::search`] does. Must not: fetch, name or hash files (that is the
//! fragment writer and reader), embed text or know what a chunk is (rows are plain `u32` ids).
//!
//! # Layout and scores
//! Centroids are stored like rows: L2-normalised and int8-quantized (`scale = max|x| / 127`),
//! a quarter of the bytes of f32 and precise enough to rank centroids (the probe is coarse by
//! design). A partition holds the ids (ascending), scales and int8 codes of its rows, the same
//! codes and scales as the monolithic index. A search over some partitions is the flat scan of
//! `dense.rs` restricted to their rows: the best [`rescored`]`(k)` rows by the int8 query, then
//! those rescored with the f32 query (`scale × dot(q, codes)`), so a row's score is bit-identical
//! to the one [`DenseIndex::search`] gives it, and probing every partition returns exactly the
//! flat scan's top k.
//!
//! # Training
//! Spherical k-means on the int8 rows: each row goes to the centroid of highest int8 dot product
//! (`scale_c × dot_i8(row, c)`, exact integer arithmetic, ties to the lower centroid), each
//! centroid becomes the normalised sum of its rows (summed in f64 in row order, then quantized).
//! Initial centroids are distinct rows of a seeded shuffle; a centroid left without rows takes
//! the row farthest from its own centroid (in a cluster of at least two). The first iteration
//! compares every row with every centroid; later ones only with the [`NEIGHBOURS`] centroids
//! nearest to the row's previous one (where a moving row lands), which cut training at 20,000
//! rows × 566 centroids several times over. Above
//! [`TRAIN_PER_LIST`] rows per centroid, training runs on a seeded sample of that many and only
//! the final assignment sees every row. Nothing depends on the thread count (the `parallel`
//! feature only splits the assignment step), so native and wasm builds are byte-identical.
//!
//! [`DenseIndex::search`]: super::dense::DenseIndex::search

use serde::{Deserialize, Serialize};

use super::dense::{rescored, top, Query};
use super::hnsw::SplitMix;
use super::rows::{check_dim, dot_i8, quantize, quantize_rows, similarity, MAX_DIM};
use crate::{Error, Result};

/// The most partitions an [`Ivf`] may have (options and files): far above the default's 1,024,
/// which keeps a site's file count bounded.
pub const MAX_NLIST: usize = 65_536;
/// Training sample per centroid: above `TRAIN_PER_LIST × nlist` rows, k-means trains on a seeded
/// sample of that size (every row is still assigned). 64 rows per centroid lose nothing
/// measurable in recall and bound a 1,024-centroid training to 65,536 rows.
pub const TRAIN_PER_LIST: usize = 64;
/// Below this many rows, one partition (a probe would save nothing worth a round trip).
pub const SINGLE_BELOW: usize = 512;
/// k-means iterations after the first compare a row only with this many centroids: those
/// nearest to the centroid it had (see [`Centroids::nearest_near`]).
const NEIGHBOURS: usize = 32;
/// The default's largest `nlist`.
pub const DEFAULT_MAX_NLIST: usize = 1_024;

/// How an [`Ivf`] is trained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IvfOptions {
    /// Number of partitions (centroids).
    ///
    /// Default `None` = [`default_nlist`] of the row count. Range 1..=[`MAX_NLIST`]; more than
    /// the row count is lowered to it. More partitions make each probe fetch fewer rows but the
    /// centroid file larger (`nlist × (dim + 4)` bytes) and need a larger `nprobe` for the same
    /// recall.
    pub nlist: Option<usize>,
    /// Seed of the sample and of the initial centroids. Default 0x5EED; any value.
    pub seed: u64,
    /// Most k-means iterations (training stops earlier when no row changes centroid).
    ///
    /// Default 10. Range 0..=1000: 0 keeps the initial centroids (random rows), each iteration
    /// costs one pass of the training sample against every centroid.
    pub iterations: usize,
}

impl Default for IvfOptions {
    fn default() -> Self {
        IvfOptions { nlist: None, seed: 0x5EED, iterations: 10 }
    }
}

/// The default number of partitions for `n` rows: 1 below [`SINGLE_BELOW`] rows, else
/// `round(4·sqrt(n))` up to [`DEFAULT_MAX_NLIST`] (2,408 rows: 196; 20,000: 566; from 65,536: 1,024).
///
/// `4·sqrt(n)` partitions of `sqrt(n)/4` rows each keep the centroid file and the partitions of
/// one question of comparable size at the probe counts recall needs (see [`default_nprobe`]).
pub fn default_nlist(n: usize) -> usize {
    if n < SINGLE_BELOW {
        return 1;
    }
    ((4.0 * (n as f64).sqrt()).round() as usize).clamp(1, DEFAULT_MAX_NLIST)
}

/// The default number of partitions a query probes for an index of `nlist` partitions: a third of
/// them, at least 24 and at most 64 (all of them below 24).
///
/// Held-out query chunks (`ann ivf`, bench/ann/ivf.rs: MiniLM embeddings of toolchain-doc
/// chunks, `toolchain-20k` and its first 2,408 rows, recall@10 against the exact f32 brute force,
/// which the monolithic flat scan reaches at 0.993-0.994; raw bytes of the probed partitions per
/// question, the centroid fragment comes once on top: 76 kB at 2,408 rows, 220 kB at 20,000):
///
/// | rows, nlist | nprobe 8 | 12 | 16 | 24 | 32 |
/// |---|---:|---:|---:|---:|---:|
/// | 2,408, 196 | 0.914 / 53 kB | 0.946 / 77 kB | 0.961 / 101 kB | 0.977 / 149 kB | 0.985 / 195 kB |
/// | 20,000, 566 | 0.940 / 140 kB | 0.956 / 205 kB | 0.967 / 268 kB | 0.975 / 392 kB | 0.980 / 512 kB |
///
/// Reader questions are harder than query chunks. The Cargo book (2,511 MiniLM chunks, 200
/// partitions), `docent eval --fragments` on `bench/eval/cargo-book.jsonl` (95 answerable
/// questions), recall@5 through the fragments against the monolithic index's 0.716 (dense) and
/// 0.726 (hybrid):
///
/// | nprobe | 48 | 64 | 96 | 128 |
/// |---|---:|---:|---:|---:|
/// | dense | 0.705 | 0.705 | 0.716 | 0.716 |
/// | hybrid | 0.705 | 0.716 | 0.716 | 0.726 |
///
/// (An earlier build of the same book, before the training's speed-up, gave 0.674 and 0.684 at
/// nprobe 16.)
///
/// So a site probes a third of its partitions, at least 24 and at most 64: within 0.01 of the
/// monolithic hybrid recall on a book (MRR@10 equal), and the cap bounds a question's bytes on
/// large sites, where the partitions are larger (about 3.5 kB each on the book, 380 kB at 1M
/// chunks: there the int8 layout cannot stay small, see bench/README.md).
pub fn default_nprobe(nlist: usize) -> usize {
    nlist.div_ceil(3).clamp(24, 64).min(nlist).max(1)
}

/// Centroids of the partitions: int8 rows like the dense index's (see the module docs).
///
/// Deserialising one checks it first: a file is untrusted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "IvfParts")]
pub struct Ivf {
    dim: usize,
    /// One scale per centroid.
    scales: Vec<f32>,
    /// Row-major int8 codes, `scales.len() × dim`.
    codes: Vec<i8>,
}

/// An [`Ivf`] as read from a file, before the checks of its `TryFrom`.
#[derive(Deserialize)]
struct IvfParts {
    dim: usize,
    scales: Vec<f32>,
    codes: Vec<i8>,
}

impl TryFrom<IvfParts> for Ivf {
    type Error = String;

    fn try_from(p: IvfParts) -> std::result::Result<Self, String> {
        check_rows("corrupted IVF centroids", p.dim, p.scales.len(), &p.scales, p.codes.len())
            .map_err(crate::format::invalid)?;
        if p.scales.is_empty() || p.scales.len() > MAX_NLIST {
            return Err(crate::format::invalid(format!(
                "corrupted IVF centroids: {} centroids (expected 1..={MAX_NLIST})",
                p.scales.len()
            )));
        }
        Ok(Ivf { dim: p.dim, scales: p.scales, codes: p.codes })
    }
}

/// The checks shared by centroids, partitions and rows passed in (errors start with `what`): `dim` in range, `codes` = `len × dim`, every
/// scale finite and not negative.
fn check_rows(
    what: &str,
    dim: usize,
    len: usize,
    scales: &[f32],
    codes: usize,
) -> std::result::Result<(), String> {
    if !(1..=MAX_DIM).contains(&dim) {
        return Err(format!("{what}: dimension {dim} (expected 1..={MAX_DIM})"));
    }
    if scales.len() != len {
        return Err(format!("{what}: {len} rows but {} scales", scales.len()));
    }
    if Some(codes) != len.checked_mul(dim) {
        return Err(format!("{what}: {len} rows of {dim} dimensions but {codes} codes"));
    }
    if let Some(i) = scales.iter().position(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(format!("{what}: row {i} has scale {}", scales[i]));
    }
    Ok(())
}

/// Trains an [`Ivf`] on `vectors`: row-major `n × dim` f32 (normalised here, so any length
/// works; zero rows are allowed). The same as [`train_quantized`] on [`quantize_rows`] of them.
///
/// Errors: as [`quantize_rows`] (dim, shape, non-finite values) and [`train_quantized`] (options).
///
/// [`quantize_rows`]: super::dense::quantize_rows
pub fn train(vectors: &[f32], dim: usize, opts: &IvfOptions) -> Result<Ivf> {
    let (codes, scales) = quantize_rows(vectors, dim)?;
    train_quantized(&codes, &scales, dim, opts)
}

/// Trains an [`Ivf`] on rows that are already quantized (`codes` row-major `n × dim`, one scale
/// per row, as [`DenseIndex::quantized_rows`] returns them): how a built index is split.
///
/// Errors: `dim` is 0 or above [`MAX_DIM`]; `codes.len()` is not `scales.len() × dim`; a scale is
/// negative or not finite; `opts.nlist` is `Some(0)` or above [`MAX_NLIST`]; `opts.iterations`
/// is above 1000; there are more than `u32::MAX` rows.
///
/// [`DenseIndex::quantized_rows`]: super::dense::DenseIndex::quantized_rows
pub fn train_quantized(codes: &[i8], scales: &[f32], dim: usize, opts: &IvfOptions) -> Result<Ivf> {
    check_dim(dim)?;
    check_rows("rows", dim, scales.len(), scales, codes.len()).map_err(|reason| Error::Vector { reason })?;
    if let Some(nlist) = opts.nlist {
        if !(1..=MAX_NLIST).contains(&nlist) {
            return Err(Error::invalid("nlist", format!("expected 1..={MAX_NLIST}, found {nlist}")));
        }
    }
    if opts.iterations > 1000 {
        return Err(Error::invalid("iterations", format!("expected 0..=1000, found {}", opts.iterations)));
    }
    let n = scales.len();
    if u32::try_from(n).is_err() {
        return Err(Error::Vector { reason: format!("{n} rows; at most {} fit u32 ids", u32::MAX) });
    }
    let nlist = opts.nlist.unwrap_or_else(|| default_nlist(n)).min(n).max(1);
    if n == 0 {
        return Ok(Ivf { dim, scales: vec![0.0], codes: vec![0; dim] });
    }
    // A seeded shuffle of the row ids: its first `nlist` are the initial centroids, its first
    // `sample` (sorted back into row order) the training rows.
    let mut order: Vec<u32> = (0..n as u32).collect();
    shuffle(&mut order, opts.seed);
    let sample_len = n.min(TRAIN_PER_LIST.saturating_mul(nlist));
    let mut cents = Ivf { dim, scales: Vec::with_capacity(nlist), codes: Vec::with_capacity(nlist * dim) };
    for &i in &order[..nlist] {
        let i = i as usize;
        cents.scales.push(scales[i]);
        cents.codes.extend_from_slice(&codes[i * dim..(i + 1) * dim]);
    }
    let mut sample = order[..sample_len].to_vec();
    sample.sort_unstable();
    let rows = RowSet { codes, scales, dim, ids: &sample };
    let mut previous: Option<Vec<u32>> = None;
    for _ in 0..opts.iterations {
        let nearest = match &previous {
            None => cents.centroids().nearest_all(&rows),
            Some(previous) => cents.centroids().nearest_near(&rows, previous),
        };
        let assigned: Vec<u32> = nearest.iter().map(|&(c, _)| c).collect();
        if previous.as_ref() == Some(&assigned) {
            break;
        }
        cents = update(&rows, &nearest, nlist);
        previous = Some(assigned);
    }
    Ok(cents)
}

/// A view of centroids (the layout of [`Ivf`]).
struct Centroids<'a> {
    dim: usize,
    scales: &'a [f32],
    codes: &'a [i8],
}

impl Centroids<'_> {
    fn row(&self, c: u32) -> (f32, &[i8]) {
        let c = c as usize;
        (self.scales[c], &self.codes[c * self.dim..(c + 1) * self.dim])
    }

    /// Of the centroids `among`, the one of highest int8 similarity to the row `codes` and that
    /// similarity without the row's scale (which multiplies every candidate alike); ties to the
    /// lower centroid.
    fn nearest_in(&self, codes: &[i8], among: impl Iterator<Item = u32>) -> (u32, f32) {
        let mut best = (0u32, f32::NEG_INFINITY);
        for c in among {
            let (cs, cc) = self.row(c);
            let s = cs * dot_i8(codes, cc) as f32;
            if s > best.1 || (s == best.1 && c < best.0) {
                best = (c, s);
            }
        }
        best
    }

    /// The nearest centroid of every row of `rows` (and its similarity), in order.
    fn nearest_all(&self, rows: &RowSet<'_>) -> Vec<(u32, f32)> {
        let all = self.scales.len() as u32;
        par_map(rows.ids, |&i| {
            let (c, s) = self.nearest_in(rows.codes(i), 0..all);
            (c, s * rows.scales[i as usize])
        })
    }

    /// [`Centroids::nearest_all`] for a k-means iteration after the first: each row looks only
    /// at the [`NEIGHBOURS`] centroids nearest to the one it had (`previous`, one per row of
    /// `rows`), where a row that moves almost always lands, at a fraction of the cost of all
    /// `nlist` of them.
    fn nearest_near(&self, rows: &RowSet<'_>, previous: &[u32]) -> Vec<(u32, f32)> {
        let near = self.neighbours();
        let width = NEIGHBOURS.min(self.scales.len());
        let pairs: Vec<(u32, u32)> = rows.ids.iter().copied().zip(previous.iter().copied()).collect();
        par_map(&pairs, |&(i, p)| {
            let among = near[p as usize * width..(p as usize + 1) * width].iter().copied();
            let (c, s) = self.nearest_in(rows.codes(i), among);
            (c, s * rows.scales[i as usize])
        })
    }

    /// For every centroid, the [`NEIGHBOURS`] (or all, if fewer) most similar centroids, itself
    /// first, then by similarity (ties by index): row-major `nlist × width`.
    fn neighbours(&self) -> Vec<u32> {
        let nlist = self.scales.len() as u32;
        let width = NEIGHBOURS.min(nlist as usize);
        let ids: Vec<u32> = (0..nlist).collect();
        let lists = par_map(&ids, |&c| {
            let (_, cc) = self.row(c);
            let mut sims: Vec<(u32, f32)> = (0..nlist)
                .map(|o| {
                    let (os, oc) = self.row(o);
                    (o, if o == c { f32::INFINITY } else { os * dot_i8(cc, oc) as f32 })
                })
                .collect();
            top(&mut sims, width);
            sims.into_iter().map(|(o, _)| o).collect::<Vec<u32>>()
        });
        lists.concat()
    }
}

/// `f` of every item, in order: on rayon's threads with the `parallel` feature.
fn par_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.iter().map(f).collect()
    }
}

/// Some rows of a quantized set, by id.
struct RowSet<'a> {
    codes: &'a [i8],
    scales: &'a [f32],
    dim: usize,
    ids: &'a [u32],
}

impl RowSet<'_> {
    fn codes(&self, i: u32) -> &[i8] {
        let i = i as usize;
        &self.codes[i * self.dim..(i + 1) * self.dim]
    }
}

/// One k-means update: every centroid becomes the normalised sum of its rows; a centroid left
/// without rows takes the row farthest from its centroid among clusters of two or more.
fn update(rows: &RowSet<'_>, nearest: &[(u32, f32)], nlist: usize) -> Ivf {
    let dim = rows.dim;
    let mut assigned: Vec<u32> = nearest.iter().map(|&(c, _)| c).collect();
    let mut count = vec![0usize; nlist];
    for &c in &assigned {
        count[c as usize] += 1;
    }
    let empty: Vec<usize> = (0..nlist).filter(|&c| count[c] == 0).collect();
    if !empty.is_empty() {
        // Farthest first (lowest similarity), ties by position: deterministic.
        let mut far: Vec<usize> = (0..nearest.len()).collect();
        far.sort_by(|&a, &b| nearest[a].1.total_cmp(&nearest[b].1).then(a.cmp(&b)));
        let mut far = far.into_iter();
        for c in empty {
            for j in far.by_ref() {
                let old = assigned[j] as usize;
                if count[old] >= 2 {
                    count[old] -= 1;
                    count[c] = 1;
                    assigned[j] = c as u32;
                    break;
                }
            }
        }
    }
    let mut sums = vec![0f64; nlist * dim];
    for (&i, &c) in rows.ids.iter().zip(&assigned) {
        let scale = f64::from(rows.scales[i as usize]);
        let sum = &mut sums[c as usize * dim..(c as usize + 1) * dim];
        for (s, &x) in sum.iter_mut().zip(rows.codes(i)) {
            *s += scale * f64::from(x);
        }
    }
    let mut out = Ivf { dim, scales: vec![0.0; nlist], codes: vec![0; nlist * dim] };
    let mut row = vec![0f32; dim];
    for ((sum, codes), scale) in
        sums.chunks_exact(dim).zip(out.codes.chunks_exact_mut(dim)).zip(&mut out.scales)
    {
        for (r, &s) in row.iter_mut().zip(sum) {
            *r = s as f32;
        }
        *scale = quantize(&row, codes);
    }
    out
}

impl Ivf {
    /// Number of centroids (partitions).
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// Never true: an [`Ivf`] has at least one centroid.
    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// The dimension of the centroids (and of rows and queries).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The partition a vector belongs to: the centroid of highest similarity to its int8 form,
    /// ties to the lower index (exactly how [`Ivf::partition_rows`] places rows).
    ///
    /// Errors: `v` has the wrong dimension or a non-finite value.
    pub fn assign(&self, v: &[f32]) -> Result<u32> {
        let q = Query::new(v, self.dim)?;
        Ok(self.centroids().nearest_in(&q.codes, 0..self.len() as u32).0)
    }

    /// The `nprobe` partitions nearest to `query` (f32; normalised here), nearest first, ties
    /// by ascending index: the partitions a search fetches. `nprobe` above [`Ivf::len`] gives
    /// every partition; 0 gives none.
    ///
    /// The centroids are scored with the f32 query against their int8 codes (as rows are
    /// rescored), so the order is the same on every target and moves continuously with the query.
    ///
    /// Errors: `query` has the wrong dimension or a non-finite value.
    pub fn probe(&self, query: &[f32], nprobe: usize) -> Result<Vec<u32>> {
        let q = Query::new(query, self.dim)?;
        let mut scored: Vec<(u32, f32)> = (0..self.len())
            .map(|c| (c as u32, q.score(self.scales[c], &self.codes[c * self.dim..(c + 1) * self.dim])))
            .collect();
        top(&mut scored, nprobe.min(self.len()));
        Ok(scored.into_iter().map(|(c, _)| c).collect())
    }

    /// Splits quantized rows (`codes` row-major `n × dim`, one scale per row; row `i` has id `i`)
    /// into one [`Partition`] per centroid, by [`Ivf::assign`]'s rule; a partition may be empty.
    /// The rows keep their codes and scales exactly.
    ///
    /// Errors: `codes.len()` is not `scales.len() × dim`, a scale is negative or not finite, or
    /// there are more than `u32::MAX` rows.
    pub fn partition_rows(&self, codes: &[i8], scales: &[f32]) -> Result<Vec<Partition>> {
        let dim = self.dim;
        check_rows("rows", dim, scales.len(), scales, codes.len())
            .map_err(|reason| Error::Vector { reason })?;
        let n = u32::try_from(scales.len()).map_err(|_| Error::Vector {
            reason: format!("{} rows; at most {} fit u32 ids", scales.len(), u32::MAX),
        })?;
        let ids: Vec<u32> = (0..n).collect();
        let nearest = self.centroids().nearest_all(&RowSet { codes, scales, dim, ids: &ids });
        let mut parts: Vec<Partition> = (0..self.len())
            .map(|_| Partition { dim, ids: Vec::new(), scales: Vec::new(), codes: Vec::new() })
            .collect();
        for (i, &(c, _)) in nearest.iter().enumerate() {
            let p = &mut parts[c as usize];
            p.ids.push(i as u32);
            p.scales.push(scales[i]);
            p.codes.extend_from_slice(&codes[i * dim..(i + 1) * dim]);
        }
        Ok(parts)
    }

    /// Centroid `c`: its scale and int8 codes. Panics if `c >= len()`.
    pub(crate) fn centroid(&self, c: usize) -> (f32, &[i8]) {
        (self.scales[c], &self.codes[c * self.dim..(c + 1) * self.dim])
    }

    fn centroids(&self) -> Centroids<'_> {
        Centroids { dim: self.dim, scales: &self.scales, codes: &self.codes }
    }
}

/// The rows of one partition: ids ascending, with their int8 codes and scales (the dense
/// index's own).
///
/// Deserialising one checks it first: a file is untrusted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PartitionParts")]
pub struct Partition {
    dim: usize,
    /// Row ids, strictly ascending.
    ids: Vec<u32>,
    /// One scale per row.
    scales: Vec<f32>,
    /// Row-major int8 codes, `ids.len() × dim`.
    codes: Vec<i8>,
}

/// A [`Partition`] as read from a file, before the checks of its `TryFrom`.
#[derive(Deserialize)]
struct PartitionParts {
    dim: usize,
    ids: Vec<u32>,
    scales: Vec<f32>,
    codes: Vec<i8>,
}

impl TryFrom<PartitionParts> for Partition {
    type Error = String;

    fn try_from(p: PartitionParts) -> std::result::Result<Self, String> {
        check_rows("corrupted IVF partition", p.dim, p.ids.len(), &p.scales, p.codes.len())
            .map_err(crate::format::invalid)?;
        if let Some(i) = p.ids.windows(2).position(|w| w[0] >= w[1]) {
            return Err(crate::format::invalid(format!(
                "corrupted IVF partition: row ids not ascending at position {} ({} then {})",
                i + 1,
                p.ids[i],
                p.ids[i + 1]
            )));
        }
        Ok(Partition { dim: p.dim, ids: p.ids, scales: p.scales, codes: p.codes })
    }
}

impl Partition {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the partition has no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The dimension of its rows.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Its row ids, ascending.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Top-k rows of this partition: [`search`] over it alone.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<(u32, f32)>> {
        search(&[self], query, k)
    }

    /// Row `j` (by position): its scale and int8 codes.
    pub(crate) fn row(&self, j: usize) -> (f32, &[i8]) {
        (self.scales[j], &self.codes[j * self.dim..(j + 1) * self.dim])
    }
}

/// Top-k rows of several partitions by cosine similarity, best first, ties by ascending id:
/// the flat scan of the dense index over their rows (the best [`rescored`]`(k)` by the int8
/// query, rescored with the f32 query), so every score equals [`DenseIndex::search`]'s for that
/// row, and all the partitions of an [`Ivf`] give exactly the flat scan's top k. A row id found
/// in two partitions counts once. No partitions give nothing.
///
/// Errors: the partitions differ in dimension, or the query has the wrong dimension or a
/// non-finite value.
///
/// [`DenseIndex::search`]: super::dense::DenseIndex::search
pub fn search(partitions: &[&Partition], query: &[f32], k: usize) -> Result<Vec<(u32, f32)>> {
    let Some(first) = partitions.first() else {
        return Ok(Vec::new());
    };
    let dim = first.dim;
    if let Some(p) = partitions.iter().find(|p| p.dim != dim) {
        return Err(Error::Vector {
            reason: format!("IVF partitions of {dim} and {} dimensions cannot be searched together", p.dim),
        });
    }
    let q = Query::new(query, dim)?;
    // (id, partition, position), sorted by id without repeats: a candidate's index in it orders
    // like its id, so ties by index are ties by id.
    let mut rows: Vec<(u32, u32, u32)> = partitions
        .iter()
        .enumerate()
        .flat_map(|(pi, p)| p.ids.iter().enumerate().map(move |(j, &id)| (id, pi as u32, j as u32)))
        .collect();
    rows.sort_unstable();
    rows.dedup_by_key(|r| r.0);
    let row = |&(_, pi, j): &(u32, u32, u32)| partitions[pi as usize].row(j as usize);
    let mut hits: Vec<(u32, f32)> = rows
        .iter()
        .enumerate()
        .map(|(at, r)| {
            let (s, c) = row(r);
            (at as u32, similarity(q.scale, &q.codes, s, c))
        })
        .collect();
    top(&mut hits, rescored(k));
    let mut hits: Vec<(u32, f32)> = hits
        .into_iter()
        .map(|(at, _)| {
            let r = &rows[at as usize];
            let (s, c) = row(r);
            (r.0, q.score(s, c))
        })
        .collect();
    top(&mut hits, k);
    Ok(hits)
}

/// Fisher–Yates shuffle driven by the graph's seeded generator (integer arithmetic only, so
/// every target shuffles alike).
fn shuffle(v: &mut [u32], seed: u64) {
    let mut rng = SplitMix(seed);
    for i in (1..v.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}
