//! The dense vector index: int8 rows searched by an exact flat scan for small collections and
//! through an HNSW graph (`hnsw.rs`) above.
//!
//! Owns: the rows of an index and checking them when read from a file, the flat scan, the f32
//! rescoring, choosing the HNSW parameters. The row arithmetic (quantizing, the int8 and f32 ×
//! int8 dot products) is `rows.rs`, shared with the graph. Must not: embed text, know about
//! chunks or documents (rows are plain `u32` ids), or decide what is relevant.
//!
//! # Storage and scores
//! Every row is L2-normalised, then quantized symmetrically to int8: `scale = max|x| / 127`,
//! `code = round(x / scale)`. All rows live in one contiguous `Vec<i8>` (plus a `Vec<f32>` of
//! scales) whether or not there is a graph; the graph holds only links. A search has two stages:
//! 1. *Candidates* by the query quantized the same way: `scale_q * scale_row * dot_i8(q, row)`,
//!    accumulated in `i32` (SIMD on wasm). The flat scan keeps the best [`rescored`]`(k)` =
//!    `max(4k, 64)` rows; HNSW walks its graph with this similarity and keeps its `ef`
//!    nearest (`ef` per query, default the index's `ef_search`, never below `k`).
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
//!
//! # Determinism
//! The flat store and the graph are deterministic: the graph depends only on the rows and the
//! options (not on the thread count), so native and wasm builds of the same rows are identical.

use serde::{Deserialize, Serialize};

pub use super::hnsw::Params as HnswParams;
use super::hnsw::{self, Graph};
use super::rows::{check_dim, normalise, quantize, similarity, QueryCodes, Rows};
pub use super::rows::{dot_f32_i8, quantize_rows, MAX_DIM};
// Public only for `tests/wasm.rs`, which checks in wasm that the SIMD128 version of
// `dot_f32_i8` adds in exactly the portable version's order; not part of the API.
#[doc(hidden)]
pub use super::rows::dot_f32_i8_portable;
use crate::{Error, Result};

/// How a [`DenseIndex`] is built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseOptions {
    /// Below this many vectors an exact flat scan is used; at or above, HNSW.
    ///
    /// Default 10 000. Range 0..=usize::MAX: 0 always builds HNSW, `usize::MAX` never does.
    /// The flat scan costs about 45 µs per 1 000 rows of 384 dimensions natively; up to 10k
    /// rows it stays under 1 ms, is exact and costs nothing to build.
    pub flat_threshold: usize,
    /// HNSW `M`: links per node on the upper layers; layer 0 keeps `2·m`.
    ///
    /// Default 0 = chosen by the number of rows (see [`DenseOptions::params_for`]). Range 0 or
    /// 2..=64. Memory per row grows by `8·m` bytes; higher reaches higher recall at the cost of
    /// more work per visited node.
    pub m: usize,
    /// HNSW `efConstruction`: candidates kept while linking each new node.
    ///
    /// Default 0 = chosen by the number of rows. Range 0 or 1..: higher builds a better graph
    /// more slowly (build time about linear in it).
    pub ef_construction: usize,
    /// HNSW `ef` of a search that does not give its own: candidates kept while walking layer 0
    /// (then rescored in f32). Stored in the index.
    ///
    /// Default 0 = chosen by the number of rows. Range 0 or 1..: higher is slower and more
    /// accurate; a search for `k` results uses at least `k`.
    pub ef_search: usize,
    /// Seed of the random level assignment of HNSW nodes. Default 0x5EED; any value.
    pub seed: u64,
    /// Use the neighbour-selection heuristic of the HNSW paper (keep a candidate only if it is
    /// closer to the node than to every neighbour kept so far)?
    ///
    /// Default true. Without it, clustered data falls apart into one component per cluster: on
    /// 5 000 × 64 vectors in 100 clusters at m 16, recall@10 was 0.72 at ef 64 and 0.76 at 256
    /// without it, 1.000 at ef 32 with it (build 0.24 s vs 0.83 s; the data of
    /// `tests/index.rs`'s recall test, measured once with a throwaway probe, not kept).
    pub heuristic: bool,
}

impl Default for DenseOptions {
    fn default() -> Self {
        DenseOptions {
            flat_threshold: 10_000,
            m: 0,
            ef_construction: 0,
            ef_search: 0,
            seed: 0x5EED,
            heuristic: true,
        }
    }
}

impl DenseOptions {
    /// The HNSW parameters for `len` rows: each field that is 0 gets its size-dependent
    /// default, the others are taken as given (`m` clamped to 2..=64).
    pub fn params_for(&self, len: usize) -> HnswParams {
        let (m, efc, efs) = default_params(len);
        let pick = |v: usize, d: usize| if v == 0 { d } else { v };
        HnswParams {
            m: pick(self.m, m).clamp(2, 64) as u32,
            ef_construction: pick(self.ef_construction, efc).min(u32::MAX as usize) as u32,
            ef_search: pick(self.ef_search, efs).min(u32::MAX as usize) as u32,
            heuristic: self.heuristic,
            seed: self.seed,
        }
    }
}

/// Default `(m, ef_construction, ef_search)` by number of rows.
///
/// Set from `bench/ann` (see `bench/README.md`): 20,000 MiniLM embeddings of toolchain-doc chunks
/// and 1,000 held-out query chunks, recall@10 against the f32 brute force, median µs per query,
/// docent in wasm under Node, 2026-11-24, on a loaded machine (times are rough):
///
/// | m, ef_construction | build | ef 16 | ef 32 | ef 48 | ef 64 | ef 128 |
/// |---|---:|---:|---:|---:|---:|---:|
/// | 16, 100 | 6.2 s | 0.968 / 24 | 0.985 / 37 | 0.990 / 63 | 0.991 / 97 | 0.993 / 153 |
/// | 12, 100 | 3.4 s | 0.964 / 31 | 0.983 / 42 | 0.989 / 53 | 0.990 / 60 | 0.992 / 124 |
/// | 24, 100 | 3.8 s | 0.971 / 26 | 0.984 / 49 | 0.990 / 69 | 0.991 / 74 | 0.993 / 156 |
/// | 16, 64 | 2.2 s | 0.963 / 32 | 0.981 / 38 | 0.988 / 49 | 0.990 / 71 | 0.993 / 120 |
/// | 16, 200 | 5.7 s | 0.976 / 28 | 0.988 / 46 | 0.991 / 57 | 0.992 / 69 | 0.993 / 112 |
///
/// The first and last rows are configurations every `DOCENT_BENCH=ann ./build.sh bench` measures
/// (its "defaults" and "M16 efc200"); the m 12, m 24 and ef_construction 64 rows were single runs
/// with those values added to `configs()` in `bench/ann/native.rs` and to the variants in
/// `bench/ann/wasm.mjs`, which is how to measure them again.
///
/// Recall stops near 0.993 whatever the graph: the rest is int8 rounding of the rows among
/// near-ties. m 16 with ef_construction 100 is within 0.003 of the best at every ef, and ef 64
/// sits past the knee (0.99). A larger graph needs a wider search for the same recall (more
/// nodes between a query and its neighbours), so from 50,000 rows on ef_construction and
/// ef_search grow by half. At 100,000 rows (`toolchain-100k`, `bench/results/latest.md`) these
/// defaults reach recall@10 0.990 at ef 96 (120 µs natively, 109 µs in wasm under Node), within
/// 0.004 of ef_construction 200 at every ef. The query chunks of this benchmark resemble its base
/// rows more than a reader's questions do; questions need a wider search for the same recall.
fn default_params(len: usize) -> (usize, usize, usize) {
    if len < 50_000 {
        (16, 100, 64)
    } else {
        (16, 150, 96)
    }
}

/// A set of vectors searchable by cosine similarity, best first.
///
/// Deserialising one checks it first (`DenseParts`): a file is untrusted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "DenseParts")]
pub struct DenseIndex {
    dim: usize,
    /// Row-major int8 codes (`len × dim`).
    codes: Vec<i8>,
    /// One scale per row.
    scales: Vec<f32>,
    /// The HNSW graph over the rows, when there are at least `flat_threshold` of them.
    graph: Option<Graph>,
}

/// A [`DenseIndex`] as read from a file, before the checks of its `TryFrom`: the dimension, the
/// codes, the scales and the graph must agree, or searches would index out of bounds.
#[derive(Deserialize)]
struct DenseParts {
    dim: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
    graph: Option<Graph>,
}

impl TryFrom<DenseParts> for DenseIndex {
    type Error = String;

    fn try_from(p: DenseParts) -> std::result::Result<Self, String> {
        p.check().map_err(crate::format::invalid)
    }
}

impl DenseParts {
    fn check(self) -> std::result::Result<DenseIndex, String> {
        let DenseParts { dim, codes, scales, graph } = self;
        if !(1..=MAX_DIM).contains(&dim) {
            return Err(format!("corrupted dense index: dimension {dim} (expected 1..={MAX_DIM})"));
        }
        let len = scales.len();
        if Some(codes.len()) != len.checked_mul(dim) {
            return Err(format!(
                "corrupted dense index: {len} scales of {dim} dimensions but {} codes",
                codes.len()
            ));
        }
        if let Some(i) = scales.iter().position(|s| !(s.is_finite() && *s >= 0.0)) {
            return Err(format!("corrupted dense index: row {i} has scale {}", scales[i]));
        }
        if let Some(g) = &graph {
            g.check(len).map_err(|e| format!("corrupted dense index: {e}"))?;
        }
        Ok(DenseIndex { dim, codes, scales, graph })
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
    /// Errors: `dim` is 0 or above [`MAX_DIM`], `codes.len()` is not `scales.len() × dim`, a
    /// scale is negative or not finite (the message names its row), or `opts.m` is outside
    /// 0 or 2..=64.
    pub fn from_quantized(codes: Vec<i8>, scales: Vec<f32>, dim: usize, opts: &DenseOptions) -> Result<Self> {
        check_dim(dim)?;
        if opts.m == 1 || opts.m > 64 {
            return Err(Error::invalid("m", format!("expected 0 (by size) or 2..=64, found {}", opts.m)));
        }
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
        let graph = (len >= opts.flat_threshold)
            .then(|| hnsw::build(&Rows { codes: &codes, scales: &scales, dim }, opts.params_for(len)));
        Ok(DenseIndex { dim, codes, scales, graph })
    }

    /// Every row's int8 codes (row-major, `len × dim`) and scales, in row-id order: the input
    /// of [`DenseIndex::from_quantized`].
    pub fn quantized_rows(&self) -> (Vec<i8>, Vec<f32>) {
        (self.codes.clone(), self.scales.clone())
    }

    /// Top-k rows by cosine similarity, best first: `(row id, similarity in -1..=1)`; ties by
    /// ascending id. `k = 0` gives nothing, `k > len` gives every row. An HNSW index searches
    /// with its stored `ef_search` (see [`DenseIndex::search_with`]).
    ///
    /// Errors: the query has the wrong dimension or a non-finite value.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<(u32, f32)>> {
        let ef = self.graph.as_ref().map_or(0, |g| g.params.ef_search as usize);
        self.search_with(query, k, ef)
    }

    /// Top-k with an explicit HNSW `ef` (candidates kept on layer 0; `max(ef, k)` is used).
    ///
    /// Two stages (see the module docs): candidates by the int8 query against the int8 rows
    /// (a flat scan keeps the best [`rescored`]`(k)` = `max(4k, 64)` and ignores `ef`; HNSW keeps
    /// the `ef` nearest it finds), then those candidates rescored with the f32 query and returned
    /// with that score. The score of a row depends only on the query and the row, so it is the
    /// same as [`DenseIndex::search_exact`] gives it, and it moves continuously with the query.
    ///
    /// Errors: the query has the wrong dimension or a non-finite value.
    pub fn search_with(&self, query: &[f32], k: usize, ef: usize) -> Result<Vec<(u32, f32)>> {
        let q = self.prepare_query(query)?;
        let k = k.min(self.len());
        if k == 0 {
            return Ok(Vec::new());
        }
        let mut hits = match &self.graph {
            Some(graph) => graph
                .search(&self.rows(), &QueryCodes { scale: q.scale, codes: &q.codes }, ef.max(k))
                .into_iter()
                .map(|(i, _)| {
                    let (s, c) = self.row(i as usize);
                    (i, q.score(s, c))
                })
                .collect(),
            None => self.two_stage(&q, k),
        };
        top(&mut hits, k);
        Ok(hits)
    }

    /// Exact top-k over all rows by the score [`DenseIndex::search`] returns (the f32 query
    /// against every int8 row, no candidate stage): the reference for recall checks. Same
    /// ordering, `k` rules and errors as [`DenseIndex::search`]; a row both return has the same
    /// score in both.
    pub fn search_exact(&self, query: &[f32], k: usize) -> Result<Vec<(u32, f32)>> {
        let q = self.prepare_query(query)?;
        let mut hits: Vec<(u32, f32)> = (0..self.len())
            .map(|i| {
                let (s, c) = self.row(i);
                (i as u32, q.score(s, c))
            })
            .collect();
        top(&mut hits, k.min(self.len()));
        Ok(hits)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// Whether the index has no rows.
    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// The dimension of every row (and of queries).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `"flat"` or `"hnsw"`.
    pub fn kind(&self) -> &'static str {
        if self.graph.is_some() {
            "hnsw"
        } else {
            "flat"
        }
    }

    /// The HNSW parameters the graph was built with (`None` for a flat index).
    pub fn hnsw_params(&self) -> Option<HnswParams> {
        self.graph.as_ref().map(|g| g.params)
    }

    /// Nodes per HNSW level (index 0: nodes only on layer 0); empty for a flat index.
    pub fn hnsw_levels(&self) -> Vec<usize> {
        self.graph.as_ref().map(Graph::level_counts).unwrap_or_default()
    }

    /// Bytes held by the vectors and the graph.
    pub fn memory_bytes(&self) -> usize {
        self.codes.len() + 4 * self.scales.len() + self.graph.as_ref().map_or(0, Graph::memory_bytes)
    }

    fn rows(&self) -> Rows<'_> {
        Rows { codes: &self.codes, scales: &self.scales, dim: self.dim }
    }

    #[inline]
    fn row(&self, i: usize) -> (f32, &[i8]) {
        (self.scales[i], &self.codes[i * self.dim..(i + 1) * self.dim])
    }

    /// Checks the query and prepares both of its forms.
    fn prepare_query(&self, query: &[f32]) -> Result<Query> {
        Query::new(query, self.dim)
    }

    /// The flat search: the best [`rescored`]`(k)` rows by the int8 query, rescored by the f32
    /// query (unsorted; the caller keeps the top k).
    fn two_stage(&self, q: &Query, k: usize) -> Vec<(u32, f32)> {
        let mut candidates: Vec<(u32, f32)> = (0..self.len())
            .map(|i| {
                let (s, c) = self.row(i);
                (i as u32, similarity(q.scale, &q.codes, s, c))
            })
            .collect();
        top(&mut candidates, rescored(k));
        candidates
            .into_iter()
            .map(|(i, _)| {
                let (s, c) = self.row(i as usize);
                (i, q.score(s, c))
            })
            .collect()
    }
}

/// How many int8 candidates the flat scan hands to the f32 rescoring for a top-`k` search:
/// `max(4k, 64)`. The margin above `k` absorbs int8 rank swaps: an int8 query moves a score by
/// about 1e-3 (see the module docs), while the 4k-th candidate of a real query is typically
/// several hundredths below the k-th. Rescoring 64 rows of 384 dimensions costs a few µs.
pub fn rescored(k: usize) -> usize {
    k.saturating_mul(4).max(64)
}

/// A checked query in its two forms (also what the IVF partitions of `ivf.rs` score with, so
/// their scores are this index's scores).
pub(crate) struct Query {
    /// L2-normalised f32 query (all zeros for a zero query): the final scores.
    unit: Vec<f32>,
    /// int8 scale and codes, like a stored row: candidate generation.
    pub(crate) scale: f32,
    pub(crate) codes: Vec<i8>,
}

impl Query {
    /// Checks `query` against the index dimension `dim` and prepares both of its forms.
    ///
    /// Errors: the query has the wrong dimension or a non-finite value.
    pub(crate) fn new(query: &[f32], dim: usize) -> Result<Query> {
        if query.len() != dim {
            return Err(Error::Vector {
                reason: format!("query has {} dimensions; the index has {dim}", query.len()),
            });
        }
        if let Some(c) = query.iter().position(|v| !v.is_finite()) {
            return Err(Error::Vector {
                reason: format!("query column {c} is {}; every value must be finite", query[c]),
            });
        }
        let mut codes = vec![0i8; dim];
        let scale = quantize(query, &mut codes);
        Ok(Query { unit: normalise(query), scale, codes })
    }

    /// Cosine similarity of the f32 query and the int8 row `scale × codes`, clamped.
    #[inline]
    pub(crate) fn score(&self, scale: f32, codes: &[i8]) -> f32 {
        clamp(scale * dot_f32_i8(&self.unit, codes))
    }
}

/// Keeps the best `k` of `hits`, sorted best first (ties by ascending id).
pub(crate) fn top(hits: &mut Vec<(u32, f32)>, k: usize) {
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
