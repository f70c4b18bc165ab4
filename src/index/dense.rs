//! The dense vector index: exact flat scan for small collections, HNSW (instant-distance) above.
//!
//! Owns: L2-normalising and int8-quantizing vectors, the int8 dot product (SIMD on wasm, an
//! auto-vectorised portable loop elsewhere), building and searching the flat store or the HNSW
//! graph. Must not: embed text, know about chunks or documents (rows are plain `u32` ids), or
//! decide what is relevant.
//!
//! # Storage and scores
//! Every row is L2-normalised, then quantized symmetrically to int8: `scale = max|x| / 127`,
//! `code = round(x / scale)`. A search has two stages:
//! 1. *Candidates* by the query quantized the same way: `scale_q * scale_row * dot_i8(q, row)`,
//!    accumulated in `i32` (SIMD on wasm). The flat scan keeps the best [`rescored`]`(k)` =
//!    `max(4k, 64)` rows; HNSW walks its graph with this similarity and keeps its `ef_search`
//!    nearest.
//! 2. *Scores*: each candidate is rescored with the L2-normalised f32 query against its int8
//!    row, `scale_row * dot(q_f32, codes)` ([`dot_f32_i8`], asymmetric), and that is the score
//!    returned. It approximates cosine similarity with only the row's quantization error.
//!
//! Why not return the int8 scores: quantizing the query makes the score a step function of it. A
//! query change of 1e-6 (MiniLM in wasm and natively differ by that much) can flip one query code
//! and move every score by about 1e-3, so wasm and native disagreed in the third decimal. With the
//! f32 stage, a query change of ε moves the scores by about ε, and identical queries give
//! bit-identical scores on every target ([`dot_f32_i8`] fixes its order of additions).
//! Why not scan every row in f32: the f32 × int8 dot costs about twice the int8 one (10k × 384
//! rows: 925–967 vs 430–447 µs per query natively), and rescoring `max(4k, 64)` int8 candidates
//! found the same top 10 as the full f32 scan for 200 of 200 queries (`examples/dense_bench.rs`).
//! On its clustered 20 000 × 384 data, recall@10 against f32 brute force went from 0.9785 (int8
//! scores) to 0.9805 (flat) and from 0.9785 to 0.9795 (HNSW at the defaults); the f32 stage costs
//! a few µs per query on the flat path (1k rows, k 10: 45–51 → 52 µs; none measurable at 10k)
//! and about 10 µs on HNSW, which rescores all `ef_search` candidates (20k rows: 116 → 127 µs).
//!
//! Small indexes keep the codes in one contiguous `Vec<i8>` (plus a `Vec<f32>` of scales) and
//! are scanned in full. Large ones move the rows into an instant-distance `HnswMap` whose points
//! each own a boxed `[i8]`: `Point::distance` receives no context, so a point cannot be a mere
//! row number into shared storage. That costs one heap allocation (and 16 bytes of box header)
//! per row, and the rows are not kept a second time: [`DenseIndex::search_exact`] walks the
//! graph's points instead.
//!
//! # Determinism
//! The flat store is fully deterministic. instant-distance inserts points in parallel (rayon)
//! on native targets, so two native builds of the same HNSW may differ slightly in their graph
//! (never in the scores of the rows they return); wasm builds are single-threaded.
//! instant-distance calls rayon unconditionally; on wasm32 without threads rayon runs the work on
//! the calling thread.

use std::fmt;
use std::sync::Arc;

use instant_distance::{Builder, HnswMap, Point, Search};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// How a [`DenseIndex`] is built.
///
/// The defaults come from `examples/dense_bench.rs` (release build, x86_64, 2 shared cores):
/// 20 000 × 384 vectors from 200 Gaussian clusters (noise σ 0.8 per coordinate, i.e. cosine
/// ≈ 0.78 to the centre), 200 held-out queries, recall@10 against f32 brute force and against
/// the exact int8 scan. These were measured with int8 scores, before the f32 rescoring stage (see
/// the module docs), which lifts the flat cap from 0.9785 to 0.9805 and costs a few µs per
/// query. int8 quantization alone caps recall@10 against f32 at 0.979 on this data; isotropic random vectors (the worst case) give recall 0.43 at the defaults,
/// where only the flat scan is reliable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseOptions {
    /// Below this many vectors an exact flat scan is used; at or above, HNSW.
    ///
    /// Default 10 000. Range 0..=usize::MAX: 0 always builds HNSW, `usize::MAX` never does.
    /// Measured per query (384-d, k 10), flat vs HNSW at the defaults: 1k rows 72 vs 118 µs,
    /// 2k 143 vs 172 µs, 5k 357 vs 223 µs, 10k 713 vs 192 µs, 20k 1 427 vs 147 µs; HNSW build
    /// 0.08 / 0.18 / 0.72 / 1.6 / 3.1 s (native, 2 threads; wasm is single-threaded and slower).
    /// The flat scan is slower from about 3k rows on, but up to 10k it stays under 1 ms, is
    /// exact (HNSW is not, and fails badly on unclustered data) and costs nothing to build, so
    /// the threshold is 10k rather than the 3k crossover.
    pub flat_threshold: usize,
    /// The HNSW `efConstruction`: candidates kept while linking each new point.
    ///
    /// Default 100. Range 1..: higher builds a better graph more slowly (build time about
    /// linear in it). At ef_search 64 without the heuristic, recall@10 against the exact int8
    /// scan was 0.947 at 40, 0.9995 at 100 and 0.9985 at 200, build 2.3 s, 6.4 s and 12.8 s
    /// (those three on a loaded machine; 2.9 s for 100 when quiet). Below 64 (= 2·M, the
    /// layer-0 degree) the graph is visibly worse.
    pub ef_construction: usize,
    /// The HNSW `ef` at query time: candidates kept while searching. Fixed when the index is
    /// built (instant-distance stores it in the graph).
    ///
    /// Default 64. Range 1..: higher is slower and more accurate. A search for more than
    /// `ef_search` results scans every row instead (the flat path's two stages). At
    /// ef_construction 100: recall@10 against the exact int8 scan 0.9990 / 0.9995 / 0.9990 at
    /// 32 / 64 / 128, 108 / 142 / 286 µs per query. 64 costs little over 32 and keeps k up to 64 (fusion candidates) on the graph.
    pub ef_search: usize,
    /// Seed of the random layer assignment of HNSW points. Default 0x5EED; any value.
    pub seed: u64,
    /// Use the neighbour-selection heuristic of the HNSW paper (slower build)?
    ///
    /// Default false. With it, builds took 16 / 47 / 42 s at ef_construction 40 / 100 / 200
    /// (same loaded machine as above: 2–7× slower) for recall@10 against the exact scan of
    /// 0.9985 / 1.0000 / 1.0000 at ef_search 64, i.e. +0.0005 at the default ef_construction.
    /// It helps more on unclustered data (0.43 → 0.52) but not enough to matter there. In wasm,
    /// where the build is single-threaded, its cost matters most.
    pub heuristic: bool,
}

impl Default for DenseOptions {
    fn default() -> Self {
        DenseOptions {
            flat_threshold: 10_000,
            ef_construction: 100,
            ef_search: 64,
            seed: 0x5EED,
            heuristic: false,
        }
    }
}

/// A set of vectors searchable by cosine similarity, best first.
///
/// Deserialising one checks it first ([`DenseParts`]): a file is untrusted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "DenseParts")]
pub struct DenseIndex {
    dim: usize,
    len: usize,
    storage: Storage,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Storage {
    /// Row-major int8 codes (`len * dim`) and one scale per row.
    Flat { codes: Vec<i8>, scales: Vec<f32> },
    /// The HNSW graph; its map values are row ids.
    Hnsw { graph: Graph, ef_search: usize },
}

/// One quantized row as an instant-distance point.
#[derive(Clone, Serialize, Deserialize)]
struct QPoint {
    scale: f32,
    codes: Box<[i8]>,
}

impl QPoint {
    #[inline]
    fn similarity(&self, other: &QPoint) -> f32 {
        similarity(self.scale, &self.codes, other.scale, &other.codes)
    }
}

impl Point for QPoint {
    #[inline]
    fn distance(&self, other: &Self) -> f32 {
        1.0 - self.similarity(other)
    }
}

/// `HnswMap` is neither `Clone` nor `Debug`; share it behind an `Arc` (it is immutable).
#[derive(Clone)]
struct Graph(Arc<HnswMap<QPoint, u32>>);

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Graph({} points)", self.0.values.len())
    }
}

impl Serialize for Graph {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.as_ref().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Graph {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        super::hnsw_check::deserialize_checked(d).map(|m| Graph(Arc::new(m)))
    }
}

/// A [`DenseIndex`] as read from a file, before the checks of its `TryFrom`: the row count, the
/// dimension and the storage must agree (rows × dim codes, one finite non-negative scale per
/// row, graph values a permutation of the row ids), or searches would index out of bounds.
#[derive(Deserialize)]
struct DenseParts {
    dim: usize,
    len: usize,
    storage: Storage,
}

impl TryFrom<DenseParts> for DenseIndex {
    type Error = String;

    fn try_from(p: DenseParts) -> std::result::Result<Self, String> {
        p.check().map_err(crate::format::invalid)
    }
}

impl DenseParts {
    fn check(self) -> std::result::Result<DenseIndex, String> {
        let DenseParts { dim, len, storage } = self;
        let scale_ok = |s: f32| s.is_finite() && s >= 0.0;
        if !(1..=MAX_DIM).contains(&dim) {
            return Err(format!("corrupted dense index: dimension {dim} (expected 1..={MAX_DIM})"));
        }
        match &storage {
            Storage::Flat { codes, scales } => {
                if scales.len() != len || Some(codes.len()) != len.checked_mul(dim) {
                    return Err(format!(
                        "corrupted dense index: {len} rows of {dim} dimensions but {} codes and {} scales",
                        codes.len(),
                        scales.len()
                    ));
                }
                if let Some(i) = scales.iter().position(|&s| !scale_ok(s)) {
                    return Err(format!("corrupted dense index: row {i} has scale {}", scales[i]));
                }
            }
            Storage::Hnsw { graph, .. } => {
                let map = &graph.0;
                if map.values.len() != len {
                    return Err(format!(
                        "corrupted dense index: {len} rows but {} graph points",
                        map.values.len()
                    ));
                }
                let mut seen = vec![false; len];
                for &v in &map.values {
                    match seen.get_mut(v as usize) {
                        Some(s) if !*s => *s = true,
                        _ => {
                            return Err(format!(
                                "corrupted dense index: graph value {v} is not a free row id of {len}"
                            ))
                        }
                    }
                }
                if let Some((pid, p)) = map.iter().find(|(_, p)| p.codes.len() != dim || !scale_ok(p.scale)) {
                    return Err(format!(
                        "corrupted dense index: graph point {} has {} codes of {dim} and scale {}",
                        pid.into_inner(),
                        p.codes.len(),
                        p.scale
                    ));
                }
            }
        }
        Ok(DenseIndex { dim, len, storage })
    }
}

impl DenseIndex {
    /// Builds an index over `vectors`: row-major n×dim f32. Rows are L2-normalised here (cosine
    /// similarity); zero rows are allowed (they score 0 against everything).
    ///
    /// Errors: `dim` is 0, `vectors.len()` is not a multiple of `dim`, or a value is NaN or
    /// infinite (the message names its row and column).
    pub fn build(vectors: &[f32], dim: usize, opts: &DenseOptions) -> Result<Self> {
        let (codes, scales) = quantize_rows(vectors, dim)?;
        DenseIndex::from_quantized(codes, scales, dim, opts)
    }

    /// Builds an index over rows that are already quantized: `codes` row-major `n × dim` int8
    /// codes and one `scale` per row, as [`quantize_rows`] makes them and
    /// [`DenseIndex::quantized_rows`] returns them. No row is quantized again, so rows taken from
    /// another index keep exactly their codes and scales (and scores); this is how an
    /// incremental re-index reuses the vectors of unchanged documents.
    ///
    /// Errors: `dim` is 0 or above [`MAX_DIM`], `codes.len()` is not `scales.len() × dim`, or a
    /// scale is negative or not finite (the message names its row).
    pub fn from_quantized(codes: Vec<i8>, scales: Vec<f32>, dim: usize, opts: &DenseOptions) -> Result<Self> {
        check_dim(dim)?;
        if codes.len() != scales.len() * dim {
            return Err(Error::Vector {
                reason: format!(
                    "{} int8 codes for {} rows of dim {dim}; expected {}",
                    codes.len(),
                    scales.len(),
                    scales.len() * dim
                ),
            });
        }
        if let Some(i) = scales.iter().position(|s| !s.is_finite() || *s < 0.0) {
            return Err(Error::Vector {
                reason: format!(
                    "row {i} has scale {}; every scale must be finite and not negative",
                    scales[i]
                ),
            });
        }
        let len = scales.len();
        let storage = if len < opts.flat_threshold {
            Storage::Flat { codes, scales }
        } else {
            let ef_search = opts.ef_search.max(1);
            let points: Vec<QPoint> = codes
                .chunks_exact(dim)
                .zip(&scales)
                .map(|(c, &scale)| QPoint { scale, codes: c.into() })
                .collect();
            drop(codes);
            let values: Vec<u32> = (0..len as u32).collect();
            let mut builder = Builder::default()
                .ef_construction(opts.ef_construction.max(1))
                .ef_search(ef_search)
                .seed(opts.seed);
            if !opts.heuristic {
                builder = builder.select_heuristic(None);
            }
            let map = builder.build(points, values);
            Storage::Hnsw { graph: Graph(Arc::new(map)), ef_search }
        };
        Ok(DenseIndex { dim, len, storage })
    }

    /// Every row's int8 codes (row-major, `len × dim`) and scales, in row-id order: the input
    /// of [`DenseIndex::from_quantized`]. Copies them out of the flat store or the graph's points.
    pub fn quantized_rows(&self) -> (Vec<i8>, Vec<f32>) {
        match &self.storage {
            Storage::Flat { codes, scales } => (codes.clone(), scales.clone()),
            Storage::Hnsw { graph, .. } => {
                let mut codes = vec![0i8; self.len * self.dim];
                let mut scales = vec![0f32; self.len];
                for (pid, p) in graph.0.iter() {
                    let Some(&row) = graph.0.values.get(pid.into_inner() as usize) else { continue };
                    let row = row as usize;
                    if row < self.len && p.codes.len() == self.dim {
                        codes[row * self.dim..(row + 1) * self.dim].copy_from_slice(&p.codes);
                        scales[row] = p.scale;
                    }
                }
                (codes, scales)
            }
        }
    }

    /// Top-k rows by cosine similarity, best first: `(row id, similarity in -1..=1)`; ties by
    /// ascending id. `k = 0` gives nothing, `k > len` gives every row.
    ///
    /// Two stages (see the module docs): candidates by the int8 query against the int8 rows
    /// (a flat scan keeps the best [`rescored`]`(k)` = `max(4k, 64)`; HNSW keeps the graph's
    /// `ef_search` nearest), then those candidates rescored with the f32 query and returned with
    /// that score. The score of a row depends only on the query and the row, so it is the same
    /// as [`DenseIndex::search_exact`] gives it, and it moves continuously with the query. A `k`
    /// above the build's `ef_search` uses the flat two-stage scan on an HNSW index too.
    ///
    /// Errors: the query has the wrong dimension or a non-finite value.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<(u32, f32)>> {
        let q = self.prepare_query(query)?;
        let k = k.min(self.len);
        if k == 0 {
            return Ok(Vec::new());
        }
        let mut hits = match &self.storage {
            Storage::Hnsw { graph, ef_search } if k <= *ef_search => {
                let mut search = Search::default();
                graph
                    .0
                    .search(&q.codes, &mut search)
                    .map(|item| (*item.value, q.score(item.point.scale, &item.point.codes)))
                    .collect()
            }
            _ => self.two_stage(&q, k),
        };
        top(&mut hits, k);
        Ok(hits)
    }

    /// Exact top-k over all rows by the score [`DenseIndex::search`] returns (the f32 query
    /// against every int8 row, no candidate stage): the reference for recall checks. Same
    /// ordering, `k` rules and errors as [`DenseIndex::search`]; a row both return has the same
    /// score in both. `search` can miss a row of this top-k only when that row is outside the
    /// int8 candidates, which a margin of `max(4k, 64)` makes rare (never seen on the data of
    /// `examples/dense_bench.rs`).
    pub fn search_exact(&self, query: &[f32], k: usize) -> Result<Vec<(u32, f32)>> {
        let q = self.prepare_query(query)?;
        let mut hits = self.scan(|s, c| q.score(s, c));
        top(&mut hits, k.min(self.len));
        Ok(hits)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the index has no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The dimension of every row (and of queries).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `"flat"` or `"hnsw"`.
    pub fn kind(&self) -> &'static str {
        match self.storage {
            Storage::Flat { .. } => "flat",
            Storage::Hnsw { .. } => "hnsw",
        }
    }

    /// Approximate bytes held by the vectors and the graph, for stats.
    pub fn memory_bytes(&self) -> usize {
        match &self.storage {
            Storage::Flat { codes, scales } => codes.len() + scales.len() * 4,
            Storage::Hnsw { .. } => {
                // Per point: codes, box header, scale; graph: layer 0 has 2M = 64 u32 links per
                // point, upper layers (about 1/M of the points in total) M links; map value.
                let m = 32;
                let per_point = self.dim + 16 + 4 + 2 * m * 4 + 4;
                let upper = self.len / m * m * 4;
                self.len * per_point + upper
            }
        }
    }

    /// Checks the query and prepares both of its forms.
    fn prepare_query(&self, query: &[f32]) -> Result<Query> {
        if query.len() != self.dim {
            return Err(Error::Vector {
                reason: format!("query has {} dimensions; the index has {}", query.len(), self.dim),
            });
        }
        if let Some(c) = query.iter().position(|v| !v.is_finite()) {
            return Err(Error::Vector {
                reason: format!("query column {c} is {}; every value must be finite", query[c]),
            });
        }
        let mut codes = vec![0i8; self.dim];
        let scale = quantize(query, &mut codes);
        Ok(Query { unit: normalise(query), codes: QPoint { scale, codes: codes.into() } })
    }

    /// `score(scale, codes)` of every row, as `(row id, score)` in storage order.
    fn scan(&self, score: impl Fn(f32, &[i8]) -> f32) -> Vec<(u32, f32)> {
        match &self.storage {
            Storage::Flat { codes, scales } => codes
                .chunks_exact(self.dim.max(1))
                .zip(scales)
                .enumerate()
                .map(|(i, (c, &s))| (i as u32, score(s, c)))
                .collect(),
            Storage::Hnsw { graph, .. } => graph
                .0
                .iter()
                .filter_map(|(pid, p)| {
                    let row = *graph.0.values.get(pid.into_inner() as usize)?;
                    Some((row, score(p.scale, &p.codes)))
                })
                .collect(),
        }
    }

    /// The flat search: the best [`rescored`]`(k)` rows by the int8 query, rescored by the f32
    /// query (unsorted; the caller keeps the top k).
    fn two_stage(&self, q: &Query, k: usize) -> Vec<(u32, f32)> {
        let m = rescored(k);
        let int8 = |s: f32, c: &[i8]| similarity(q.codes.scale, &q.codes.codes, s, c);
        match &self.storage {
            Storage::Flat { codes, scales } => {
                let row = |i: usize| (scales[i], &codes[i * self.dim..(i + 1) * self.dim]);
                let mut candidates: Vec<(u32, f32)> = (0..self.len)
                    .map(|i| {
                        let (s, c) = row(i);
                        (i as u32, int8(s, c))
                    })
                    .collect();
                top(&mut candidates, m);
                candidates
                    .into_iter()
                    .map(|(i, _)| {
                        let (s, c) = row(i as usize);
                        (i, q.score(s, c))
                    })
                    .collect()
            }
            Storage::Hnsw { graph, .. } => {
                // The graph has no random access by row: list its points once, then candidates
                // are positions in that list.
                let points: Vec<(u32, &QPoint)> = graph
                    .0
                    .iter()
                    .filter_map(|(pid, p)| Some((*graph.0.values.get(pid.into_inner() as usize)?, p)))
                    .collect();
                let mut candidates: Vec<(u32, f32)> = points
                    .iter()
                    .enumerate()
                    .map(|(pos, (_, p))| (pos as u32, int8(p.scale, &p.codes)))
                    .collect();
                top(&mut candidates, m);
                candidates
                    .into_iter()
                    .map(|(pos, _)| {
                        let (row, p) = points[pos as usize];
                        (row, q.score(p.scale, &p.codes))
                    })
                    .collect()
            }
        }
    }
}

/// How many int8 candidates the flat scan hands to the f32 rescoring for a top-`k` search:
/// `max(4k, 64)`. The margin above `k` absorbs int8 rank swaps: an int8 query moves a score by
/// about 1e-3 (see the module docs), while the 4k-th candidate of a real query is typically
/// several hundredths below the k-th. Rescoring 64 rows of 384 dimensions costs a few µs.
pub fn rescored(k: usize) -> usize {
    k.saturating_mul(4).max(64)
}

/// A checked query in its two forms.
struct Query {
    /// L2-normalised f32 query (all zeros for a zero query): the final scores.
    unit: Vec<f32>,
    /// int8 codes and scale, like a stored row: candidate generation.
    codes: QPoint,
}

impl Query {
    /// Cosine similarity of the f32 query and the int8 row `scale × codes`, clamped.
    #[inline]
    fn score(&self, scale: f32, codes: &[i8]) -> f32 {
        clamp(scale * dot_f32_i8(&self.unit, codes))
    }
}

/// Keeps the best `k` of `hits`, sorted best first.
fn top(hits: &mut Vec<(u32, f32)>, k: usize) {
    if k == 0 {
        hits.clear();
        return;
    }
    if k < hits.len() {
        hits.select_nth_unstable_by(k - 1, cmp_hits);
        hits.truncate(k);
    }
    sort_hits(hits);
}

/// Best first, ties by ascending id.
fn cmp_hits(a: &(u32, f32), b: &(u32, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

fn sort_hits(hits: &mut [(u32, f32)]) {
    hits.sort_unstable_by(cmp_hits);
}

/// Into -1..=1 (int8 rounding can overshoot slightly), and -0.0 to 0.0 so ties sort by id.
fn clamp(s: f32) -> f32 {
    s.clamp(-1.0, 1.0) + 0.0
}

/// The largest vector dimension: int8 dot products accumulate in `i32`, which holds any sum of
/// 65 536 products of codes in -127..=127 (and about twice that many), and no embedding model
/// comes near it.
pub const MAX_DIM: usize = 65_536;

fn check_dim(dim: usize) -> Result<()> {
    if dim == 0 {
        return Err(Error::invalid("dim", "expected a dimension of at least 1, found 0"));
    }
    if dim > MAX_DIM {
        return Err(Error::invalid("dim", format!("expected a dimension of at most {MAX_DIM}, found {dim}")));
    }
    Ok(())
}

/// L2-normalises and int8-quantizes row-major `n × dim` vectors (see the module docs): the
/// codes (`n × dim`) and one scale per row, the input of [`DenseIndex::from_quantized`].
/// Zero rows are allowed (scale 0).
///
/// Errors: `dim` is 0 or above [`MAX_DIM`], `vectors.len()` is not a multiple of `dim`, or a
/// value is NaN or infinite (the message names its row and column).
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
fn quantize(row: &[f32], out: &mut [i8]) -> f32 {
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
fn normalise(row: &[f32]) -> Vec<f32> {
    let norm = row.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return vec![0.0; row.len()];
    }
    row.iter().map(|&x| (f64::from(x) / norm) as f32).collect()
}

/// Quantized cosine similarity.
#[inline]
fn similarity(sa: f32, a: &[i8], sb: f32, b: &[i8]) -> f32 {
    sa * sb * dot_i8(a, b) as f32
}

/// Dot product of two int8 vectors (over the shorter length), accumulated in `i32`.
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
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
