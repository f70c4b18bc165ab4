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

use std::sync::Arc;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

pub use super::hnsw::Params as HnswParams;
use super::hnsw::{self, Graph};
#[cfg(feature = "instant-distance")]
pub use super::idist::Params as InstantDistanceParams;
use super::rows::{check_dim, normalise, quantize, similarity, QueryCodes, RowStore, Rows};
pub use super::rows::{dot_f32_i8, quantize_rows, MAX_DIM};
// Public only for `tests/wasm.rs`, which checks in wasm that the SIMD128 version of
// `dot_f32_i8` adds in exactly the portable version's order; not part of the API.
#[doc(hidden)]
pub use super::rows::dot_f32_i8_portable;
use crate::{Error, Result};

mod options;
pub use options::{DenseOptions, GraphKind, IDIST_MIN_EF_SEARCH};

/// A set of vectors searchable by cosine similarity, best first.
///
/// Deserialising one checks it first (`DenseParts`): a file is untrusted.
///
/// Its own serialization (the `dense` section) holds the rows and docent's graph; an
/// instant-distance graph goes into a section of its own ([`DenseIndex::SEPARATE_GRAPH_SECTION`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "DenseParts")]
pub struct DenseIndex {
    /// The int8 rows (shared with the points of an instant-distance graph).
    rows: Arc<RowStore>,
    /// docent's HNSW graph over the rows, when there are at least `flat_threshold` of them.
    graph: Option<Graph>,
    /// instant-distance's graph instead, when built so (or attached from its section).
    #[cfg(feature = "instant-distance")]
    idist: Option<Arc<super::idist::Graph>>,
}

/// The same fields, in the same order, as before the rows were shared: `dim`, `codes`, `scales`,
/// `graph` (a file written by either reads the same).
impl Serialize for DenseIndex {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("DenseIndex", 4)?;
        st.serialize_field("dim", &self.rows.dim)?;
        st.serialize_field("codes", &self.rows.codes)?;
        st.serialize_field("scales", &self.rows.scales)?;
        st.serialize_field("graph", &self.graph)?;
        st.end()
    }
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
        Ok(DenseIndex::assemble(RowStore { dim, codes, scales }, graph))
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
        opts.graph.check_available()?;
        let len = scales.len();
        let mut index = DenseIndex::assemble(RowStore { dim, codes, scales }, None);
        if len >= opts.flat_threshold {
            match opts.graph {
                GraphKind::Hnsw => index.graph = Some(hnsw::build(&index.rows(), opts.params_for(len))),
                #[cfg(feature = "instant-distance")]
                GraphKind::InstantDistance => {
                    index.idist = Some(Arc::new(super::idist::build(
                        &index.rows,
                        opts.instant_distance_params_for(len),
                    )))
                }
                #[cfg(not(feature = "instant-distance"))]
                GraphKind::InstantDistance => unreachable!("checked by check_available"),
            }
        }
        Ok(index)
    }

    fn assemble(rows: RowStore, graph: Option<Graph>) -> DenseIndex {
        DenseIndex {
            rows: Arc::new(rows),
            graph,
            #[cfg(feature = "instant-distance")]
            idist: None,
        }
    }

    /// Every row's int8 codes (row-major, `len × dim`) and scales, in row-id order: the input
    /// of [`DenseIndex::from_quantized`].
    pub fn quantized_rows(&self) -> (Vec<i8>, Vec<f32>) {
        (self.rows.codes.clone(), self.rows.scales.clone())
    }

    /// The name of the section an instant-distance graph is stored in, beside the `dense` (or
    /// `vectors`) section of the rows.
    pub const SEPARATE_GRAPH_SECTION: &'static str = "dense_idist";

    /// Whether the index has a graph stored in [`DenseIndex::SEPARATE_GRAPH_SECTION`] (an
    /// instant-distance graph).
    pub fn has_separate_graph(&self) -> bool {
        #[cfg(feature = "instant-distance")]
        return self.idist.is_some();
        #[cfg(not(feature = "instant-distance"))]
        false
    }

    /// The size of that section's body (0 without one).
    pub fn separate_graph_size(&self) -> Result<usize> {
        #[cfg(feature = "instant-distance")]
        if let Some(g) = &self.idist {
            return g.encoded_size();
        }
        Ok(0)
    }

    /// Appends that section's body to `out` (nothing without one).
    pub fn encode_separate_graph(&self, out: &mut Vec<u8>) -> Result<()> {
        #[cfg(feature = "instant-distance")]
        if let Some(g) = &self.idist {
            return g.encode_into(out);
        }
        let _ = out;
        Ok(())
    }

    /// Attaches the graph of a [`DenseIndex::SEPARATE_GRAPH_SECTION`] read from a file, after
    /// checking it against the rows (`what` names the file in errors). A build without the
    /// `instant-distance` feature (the lean wasm module) keeps the index flat: its searches scan
    /// every row, which is exact.
    ///
    /// Errors: the section does not decode, or its graph does not fit the rows (a point or link
    /// out of range, layers that do not nest), or the index already has a graph.
    pub fn attach_separate_graph(&mut self, body: &[u8], what: &str) -> Result<()> {
        if self.graph.is_some() || self.has_separate_graph() {
            return Err(Error::format(
                what,
                format!(
                    "section '{}' beside a dense index that already has a graph",
                    Self::SEPARATE_GRAPH_SECTION
                ),
            ));
        }
        #[cfg(feature = "instant-distance")]
        {
            self.idist =
                Some(Arc::new(super::idist::decode(body, &self.rows, Self::SEPARATE_GRAPH_SECTION, what)?));
        }
        let _ = body;
        Ok(())
    }

    /// Top-k rows by cosine similarity, best first: `(row id, similarity in -1..=1)`; ties by
    /// ascending id. `k = 0` gives nothing, `k > len` gives every row. An HNSW index searches
    /// with its stored `ef_search` (see [`DenseIndex::search_with`]).
    ///
    /// Errors: the query has the wrong dimension or a non-finite value.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<(u32, f32)>> {
        let ef = self.graph.as_ref().map_or(0, |g| g.params.ef_search as usize);
        #[cfg(feature = "instant-distance")]
        let ef = self.idist.as_ref().map_or(ef, |g| g.params.ef_search as usize);
        self.search_with(query, k, ef)
    }

    /// Top-k with an explicit HNSW `ef` (candidates kept on layer 0; `max(ef, k)` is used).
    /// An instant-distance graph searches with the `ef_search` it was built with whatever `ef`
    /// is, and a search for more rows than that `ef_search` is a flat scan.
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
            None => match self.separate_candidates(&q, k) {
                Some(ids) => ids
                    .into_iter()
                    .map(|i| {
                        let (s, c) = self.row(i as usize);
                        (i, q.score(s, c))
                    })
                    .collect(),
                None => self.two_stage(&q, k),
            },
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
        self.rows.len()
    }

    /// Whether the index has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.len() == 0
    }

    /// The dimension of every row (and of queries).
    pub fn dim(&self) -> usize {
        self.rows.dim
    }

    /// `"flat"`, `"hnsw"` or `"instant-distance"`.
    pub fn kind(&self) -> &'static str {
        if self.graph.is_some() {
            "hnsw"
        } else if self.has_separate_graph() {
            "instant-distance"
        } else {
            "flat"
        }
    }

    /// The instant-distance parameters the graph was built with (`None` without that graph).
    #[cfg(feature = "instant-distance")]
    pub fn instant_distance_params(&self) -> Option<InstantDistanceParams> {
        self.idist.as_ref().map(|g| g.params)
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
        #[cfg(feature = "instant-distance")]
        let separate = self.idist.as_ref().map_or(0, |g| g.memory_bytes());
        #[cfg(not(feature = "instant-distance"))]
        let separate = 0;
        self.rows.codes.len() + 4 * self.len() + self.graph.as_ref().map_or(0, Graph::memory_bytes) + separate
    }

    fn rows(&self) -> Rows<'_> {
        self.rows.view()
    }

    #[inline]
    fn row(&self, i: usize) -> (f32, &[i8]) {
        self.rows.view().row(i as u32)
    }

    /// Checks the query and prepares both of its forms.
    fn prepare_query(&self, query: &[f32]) -> Result<Query> {
        Query::new(query, self.rows.dim)
    }

    /// The candidates of an instant-distance graph, when there is one and it returns at least
    /// `k` (its `ef_search` is at least `k`).
    fn separate_candidates(&self, q: &Query, k: usize) -> Option<Vec<u32>> {
        #[cfg(feature = "instant-distance")]
        if let Some(g) = self.idist.as_ref().filter(|g| g.params.ef_search as usize >= k) {
            return Some(g.search(&QueryCodes { scale: q.scale, codes: &q.codes }));
        }
        let _ = (q, k);
        None
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

pub(crate) fn sort_hits(hits: &mut [(u32, f32)]) {
    hits.sort_unstable_by(cmp_hits);
}

/// Into -1..=1 (int8 rounding can overshoot slightly), and -0.0 to 0.0 so ties sort by id.
fn clamp(s: f32) -> f32 {
    s.clamp(-1.0, 1.0) + 0.0
}
