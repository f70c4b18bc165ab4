//! Reading an instant-distance HNSW graph from an untrusted index file.
//!
//! Owns: checking the links of a serialised `HnswMap` before instant-distance sees them.
//! instant-distance trusts its own files: a neighbour id past the end of its layer, or an upper
//! layer larger than the one below it, makes its search index out of bounds (a panic natively, an
//! abort of the whole module in wasm). Checksums do not help against a crafted file (xxh3 is not a
//! signature), so the graph is first decoded into a mirror of instant-distance's serde layout,
//! checked, and only then handed over. Must not: build or search graphs (that is `dense`).
//!
//! The mirror follows instant-distance 0.6's derived serde layout: `HnswMap { hnsw: Hnsw {
//! ef_search, points, zero: [[PointId; 64]], layers: [[[PointId; 32]]] }, values }`, where a
//! `PointId` is a newtype of `u32` and `u32::MAX` marks an empty link slot. Handing over re-encodes
//! the mirror with postcard (the index format's encoding) and decodes the real map from that, so
//! loading an HNSW index briefly needs about twice the graph's memory.

use std::fmt;

use instant_distance::{HnswMap, Point};
use serde::de::{self, DeserializeOwned, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// instant-distance's `M`: links per node in the upper layers (twice that in layer 0).
const M: usize = 32;
/// An empty link slot.
const INVALID: u32 = u32::MAX;

/// A fixed-size array of links, (de)serialised as a tuple like instant-distance's arrays.
struct Links<const N: usize>([u32; N]);

impl<const N: usize> Serialize for Links<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(N)?;
        for id in &self.0 {
            t.serialize_element(id)?;
        }
        t.end()
    }
}

impl<'de, const N: usize> Deserialize<'de> for Links<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = Links<N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{N} neighbour ids")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Links<N>, A::Error> {
                let mut out = [INVALID; N];
                for (i, slot) in out.iter_mut().enumerate() {
                    *slot = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                Ok(Links(out))
            }
        }
        d.deserialize_tuple(N, V::<N>)
    }
}

/// `instant_distance::Hnsw` as serialised.
#[derive(Serialize, Deserialize)]
struct RawHnsw<P> {
    ef_search: usize,
    points: Vec<P>,
    zero: Vec<Links<{ 2 * M }>>,
    layers: Vec<Vec<Links<M>>>,
}

/// `instant_distance::HnswMap<P, u32>` as serialised.
#[derive(Serialize, Deserialize)]
struct RawMap<P> {
    hnsw: RawHnsw<P>,
    values: Vec<u32>,
}

impl<P> RawMap<P> {
    /// Whether instant-distance can search this graph without indexing out of bounds: one layer-0
    /// node and one value per point; every upper layer non-empty and no larger than the layer
    /// below (layer sizes shrink upwards, nodes are the first points); every link inside its own
    /// layer (or empty).
    fn check(&self) -> Result<(), String> {
        let h = &self.hnsw;
        let n = h.points.len();
        if h.zero.len() != n || self.values.len() != n {
            return Err(format!(
                "{n} points but {} layer-0 nodes and {} values",
                h.zero.len(),
                self.values.len()
            ));
        }
        let mut below = n;
        for (l, layer) in h.layers.iter().enumerate() {
            if layer.is_empty() || layer.len() > below {
                return Err(format!(
                    "layer {} has {} nodes; expected 1..={below} (the layer below has {below})",
                    l + 1,
                    layer.len()
                ));
            }
            below = layer.len();
        }
        let bad = |links: &[u32], size: usize| {
            links.iter().find(|&&id| id != INVALID && id as usize >= size).copied()
        };
        for (i, node) in h.zero.iter().enumerate() {
            if let Some(id) = bad(&node.0, n) {
                return Err(format!("layer 0 node {i} links to point {id} of {n}"));
            }
        }
        for (l, layer) in h.layers.iter().enumerate() {
            for (i, node) in layer.iter().enumerate() {
                if let Some(id) = bad(&node.0, layer.len()) {
                    return Err(format!("layer {} node {i} links to node {id} of {}", l + 1, layer.len()));
                }
            }
        }
        Ok(())
    }
}

/// Deserialises an `HnswMap<P, u32>` whose links were checked (see the module docs). A graph
/// that fails the check is a deserialisation error saying what is wrong.
pub(crate) fn deserialize_checked<'de, D, P>(d: D) -> Result<HnswMap<P, u32>, D::Error>
where
    D: Deserializer<'de>,
    P: Point + Serialize + DeserializeOwned,
{
    let raw: RawMap<P> = RawMap::deserialize(d)?;
    raw.check()
        .map_err(|e| de::Error::custom(crate::format::invalid(format!("corrupted HNSW graph: {e}"))))?;
    let bytes = postcard::to_stdvec(&raw).map_err(de::Error::custom)?;
    drop(raw);
    postcard::from_bytes(&bytes).map_err(de::Error::custom)
}
