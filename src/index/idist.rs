//! instant-distance's HNSW (the crate the dense index was designed around) as the second dense
//! graph, chosen with [`super::dense::GraphKind::InstantDistance`]; only with the cargo feature
//! `instant-distance`.
//!
//! Owns: building the crate's graph over the dense index's int8 rows, searching it for int8
//! candidates, and its own section of the index file (encoding, and checking a section read
//! from a file before the crate sees it). Must not: own or quantize rows, rescore in f32 (the
//! dense index does both, as for its own graph), or know what a chunk is.
//!
//! # Points over the shared rows
//! The crate stores one `Point` per row and computes distances between two points alone, so a
//! point here is the row's id plus a reference-counted pointer to the dense index's rows
//! ([`RowStore`]): 16 bytes per row natively, 8 in wasm, and no second copy of any vector. The
//! distance is `1 - similarity` of the two int8 rows, the similarity docent's own graph walks
//! with. A query is a point over a one-row store holding its int8 codes.
//!
//! # What differs from docent's graph
//! - `M` is the crate's constant 32 (layer 0 keeps 64 links: 256 bytes per row, twice docent's
//!   default m 16).
//! - `ef_search` is fixed when the graph is built (the crate has no per-query ef): a search
//!   returns at most that many candidates, and the dense index answers a search for more rows
//!   than that with its flat scan.
//! - The crate inserts the nodes of every layer but the top one in parallel (rayon), so with
//!   more than one thread the links depend on the threads' timing: two builds of the same rows
//!   can differ (recall does not move by more than noise). In wasm rayon runs everything on the
//!   module's one thread.
//!
//! # The file section
//! postcard of `(Params, Hnsw<RowPoint>)`, each point written as its row id. A section read from
//! a file is first decoded into a plain mirror of the crate's layout ([`Mirror`]) and checked
//! (points a permutation of the rows, every link in range, layers nested), because the crate
//! indexes its arrays with the stored ids and would panic on a corrupted file.

use std::cell::RefCell;
use std::sync::Arc;

use instant_distance::{Hnsw, Point, Search};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::rows::{similarity, QueryCodes, RowStore};
use crate::{format, Result};

/// Links per node on the upper layers (the crate's constant `M`); layer 0 keeps twice as many.
pub const M: usize = 32;
/// An unused link slot in the crate's layout.
const INVALID: u32 = u32::MAX;

/// How the graph was built; stored with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// Candidates kept while linking a node. ≥ 1.
    pub ef_construction: u32,
    /// Candidates a search keeps on layer 0, fixed at build. ≥ 1.
    pub ef_search: u32,
    /// The crate's neighbour heuristic (its default: keep pruned, no extended candidates) or none.
    pub heuristic: bool,
    /// Seed of the crate's layer draws.
    pub seed: u64,
}

/// A row of the dense index as the crate sees it.
#[derive(Clone)]
pub(crate) struct RowPoint {
    rows: Arc<RowStore>,
    id: u32,
}

impl Point for RowPoint {
    #[inline]
    fn distance(&self, other: &Self) -> f32 {
        let (sa, a) = self.rows.view().row(self.id);
        let (sb, b) = other.rows.view().row(other.id);
        1.0 - similarity(sa, a, sb, b)
    }
}

impl Serialize for RowPoint {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u32(self.id)
    }
}

thread_local! {
    /// The rows the section being decoded on this thread points into ([`decode`] sets it).
    static DECODING: RefCell<Option<Arc<RowStore>>> = const { RefCell::new(None) };
}

impl<'de> Deserialize<'de> for RowPoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let id = u32::deserialize(d)?;
        let rows = DECODING.with(|r| r.borrow().clone());
        rows.map(|rows| RowPoint { rows, id })
            .ok_or_else(|| de::Error::custom("an instant-distance graph decoded without its rows"))
    }
}

/// The crate's graph over the rows of one dense index.
pub struct Graph {
    /// What it was built with.
    pub params: Params,
    hnsw: Hnsw<RowPoint>,
    /// Rows (points) in the graph.
    len: usize,
    /// Nodes on the layers above 0, for [`Graph::memory_bytes`].
    upper: usize,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("idist::Graph").field("params", &self.params).field("len", &self.len).finish()
    }
}

thread_local! {
    /// The crate's search scratch, reused by every search on this thread.
    static SEARCH: RefCell<Search> = RefCell::new(Search::default());
}

/// Builds the crate's graph over every row of `rows`.
pub(crate) fn build(rows: &Arc<RowStore>, params: Params) -> Graph {
    let len = rows.len();
    let points: Vec<RowPoint> = (0..len as u32).map(|id| RowPoint { rows: Arc::clone(rows), id }).collect();
    let b = Hnsw::<RowPoint>::builder()
        .ef_construction(params.ef_construction as usize)
        .ef_search(params.ef_search as usize)
        .seed(params.seed);
    let b = if params.heuristic { b } else { b.select_heuristic(None) };
    let (hnsw, _) = b.build_hnsw(points);
    let upper = upper_nodes(len);
    Graph { params, hnsw, len, upper }
}

/// Nodes on layers ≥ 1 of a graph of `len` nodes: the crate sizes its layers by `len · ml^l`
/// with `ml = 1 / ln M`, stopping below M nodes.
fn upper_nodes(len: usize) -> usize {
    let ml = 1.0 / (M as f32).ln();
    let (mut num, mut total) = (len, 0);
    loop {
        let next = (num as f32 * ml) as usize;
        if next < M {
            return total;
        }
        total += next;
        num = next;
    }
}

impl Graph {
    /// The row ids of the (at most `ef_search`) nodes the search finds most similar to `q`.
    pub(crate) fn search(&self, q: &QueryCodes<'_>) -> Vec<u32> {
        let dim = q.codes.len();
        let rows = Arc::new(RowStore { dim, codes: q.codes.to_vec(), scales: vec![q.scale] });
        let point = RowPoint { rows, id: 0 };
        SEARCH.with(|s| self.hnsw.search(&point, &mut s.borrow_mut()).map(|item| item.point.id).collect())
    }

    /// Bytes held by the graph: links (256 per row on layer 0, 128 per upper node) and the
    /// points (a pointer and an id each; the rows themselves belong to the dense index).
    pub fn memory_bytes(&self) -> usize {
        self.len * (4 * 2 * M + std::mem::size_of::<RowPoint>()) + self.upper * 4 * M
    }

    /// Appends the section body (see the module docs).
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) -> Result<()> {
        format::encode_into(&(&self.params, &self.hnsw), out)
    }

    /// Size of the section body.
    pub(crate) fn encoded_size(&self) -> Result<usize> {
        format::encoded_size(&(&self.params, &self.hnsw))
    }
}

/// Decodes a section written by [`Graph::encode_into`] over `rows`, after checking it.
pub(crate) fn decode(body: &[u8], rows: &Arc<RowStore>, section: &str, what: &str) -> Result<Graph> {
    let (params, mirror): (Params, Mirror) = format::decode(body, section, what)?;
    let upper = mirror.check(&params, rows.len()).map_err(|e| {
        crate::Error::format(what, format!("section '{section}': corrupted instant-distance graph: {e}"))
    })?;
    DECODING.with(|r| *r.borrow_mut() = Some(Arc::clone(rows)));
    let decoded = format::decode::<(Params, Hnsw<RowPoint>)>(body, section, what);
    DECODING.with(|r| *r.borrow_mut() = None);
    let (params, hnsw) = decoded?;
    Ok(Graph { params, hnsw, len: rows.len(), upper })
}

/// The crate's serialized layout in plain types: `Hnsw { ef_search, points, zero, layers }`,
/// a point as its row id, a layer-0 node as 2M ids, an upper node as M ids.
#[derive(Deserialize)]
struct Mirror {
    ef_search: usize,
    points: Vec<u32>,
    zero: Vec<Links<{ 2 * M }>>,
    layers: Vec<Vec<Links<M>>>,
}

/// `N` link ids, written as a fixed-size tuple (no length).
struct Links<const N: usize>([u32; N]);

impl<'de, const N: usize> Deserialize<'de> for Links<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = Links<N>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{N} link ids")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Links<N>, A::Error> {
                let mut out = [0u32; N];
                for (i, slot) in out.iter_mut().enumerate() {
                    *slot = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                Ok(Links(out))
            }
        }
        d.deserialize_tuple(N, V::<N>)
    }
}

impl Mirror {
    /// Checks the graph against `len` rows; returns the number of upper-layer nodes.
    fn check(&self, params: &Params, len: usize) -> std::result::Result<usize, String> {
        if params.ef_construction == 0 || params.ef_search == 0 || self.ef_search != params.ef_search as usize
        {
            return Err(format!(
                "ef_construction {}, ef_search {} (stored twice: {}); expected both at least 1",
                params.ef_construction, params.ef_search, self.ef_search
            ));
        }
        if self.points.len() != len || self.zero.len() != len {
            return Err(format!(
                "{} points and {} layer-0 nodes for {len} rows",
                self.points.len(),
                self.zero.len()
            ));
        }
        let mut seen = vec![false; len];
        for &p in &self.points {
            match seen.get_mut(p as usize) {
                Some(s) if !*s => *s = true,
                _ => return Err(format!("point {p} out of range or repeated ({len} rows)")),
            }
        }
        let in_range = |links: &[u32], n: usize| links.iter().all(|&l| l == INVALID || (l as usize) < n);
        if !self.zero.iter().all(|z| in_range(&z.0, len)) {
            return Err(format!("a layer-0 link beyond the {len} nodes"));
        }
        let mut below = len;
        for (i, layer) in self.layers.iter().enumerate() {
            if layer.len() > below || !layer.iter().all(|u| in_range(&u.0, layer.len())) {
                return Err(format!(
                    "layer {} has {} nodes (the layer below {below}) or a link beyond them",
                    i + 1,
                    layer.len()
                ));
            }
            below = layer.len();
        }
        Ok(self.layers.iter().map(Vec::len).sum())
    }
}
