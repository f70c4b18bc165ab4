//! The `VectorIndex` class: bring your own vectors, a cosine-similarity index over them.

use js_sys::{Object, Reflect};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::from_js;
use crate::index::dense::{DenseIndex, DenseOptions, GraphKind};
use crate::{format, Error, Result};

#[wasm_bindgen(typescript_custom_section)]
const TS_VECTOR_INDEX: &'static str = r#"
export interface VectorIndexOptions {
  /** Below this many vectors an exact flat scan is used; at or above, HNSW. Default 10000. */
  flatThreshold?: number;
  /** HNSW M: links per node on the upper layers, 2·M on layer 0. 2..=64; default (0) by size. */
  m?: number;
  /** HNSW efConstruction. Default (0) by size. */
  efConstruction?: number;
  /** HNSW ef of a search that does not pass its own (stored in the index). Default (0) by size. */
  efSearch?: number;
  /** Seed of HNSW level assignment. Default 0x5EED. */
  seed?: number;
  /** Neighbour-selection heuristic of the HNSW paper. Default true. */
  heuristic?: boolean;
  /**
   * The graph built at or above flatThreshold vectors: docent's own "hnsw" (default) or
   * "instant-distance" (the crate's M 32, efSearch fixed at build and at least 128 by default;
   * `m` does not apply, a search's `ef` is ignored, and a search for more than efSearch rows scans
   * every row). Not in the lean module (docent_search), which reads such an index as a flat one.
   */
  graph?: "hnsw" | "instant-distance";
}

export interface VectorSearchResult {
  /** Row ids, best first. */
  ids: Uint32Array;
  /** Cosine similarities, same order. */
  scores: Float32Array;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `VectorIndexOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "VectorIndexOptions")]
    pub type JsVectorIndexOptions;
    /// `VectorSearchResult` in TypeScript.
    #[wasm_bindgen(typescript_type = "VectorSearchResult")]
    pub type JsVectorSearchResult;
}

/// The keys of `VectorIndexOptions`.
const VECTOR_FIELDS: &[&str] =
    &["flatThreshold", "m", "efConstruction", "efSearch", "seed", "heuristic", "graph"];

/// `VectorIndexOptions`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct VectorIndexOptions {
    flat_threshold: Option<usize>,
    m: Option<usize>,
    ef_construction: Option<usize>,
    ef_search: Option<usize>,
    seed: Option<u64>,
    heuristic: Option<bool>,
    graph: Option<String>,
}

/// Checks `k` of `VectorIndex.search` with the same rule and message as the engine's search.
fn check_k(k: usize) -> Result<()> {
    if k == 0 || k > 1000 {
        return Err(Error::invalid("k", format!("expected 1..=1000 results, found {k}")));
    }
    Ok(())
}

/// The section name of a serialised `VectorIndex` inside the [`crate::format`] container.
const VECTORS_SECTION: &str = "vectors";
/// How a serialised `VectorIndex` is named in errors.
const VECTORS_WHAT: &str = "vector index";

/// Bring your own vectors: a cosine-similarity index over caller-supplied embeddings.
#[wasm_bindgen(js_name = VectorIndex)]
pub struct JsVectorIndex {
    inner: DenseIndex,
}

#[wasm_bindgen(js_class = VectorIndex)]
impl JsVectorIndex {
    /// Builds an index over `vectors` (row-major `n × dim`). Rows are L2-normalised.
    pub fn build(
        vectors: &[f32],
        dim: usize,
        options: Option<JsVectorIndexOptions>,
    ) -> std::result::Result<JsVectorIndex, JsError> {
        let o: VectorIndexOptions = from_js(options.as_deref(), "vector index options", VECTOR_FIELDS)?;
        let d = DenseOptions::default();
        let opts = DenseOptions {
            flat_threshold: o.flat_threshold.unwrap_or(d.flat_threshold),
            m: o.m.unwrap_or(d.m),
            ef_construction: o.ef_construction.unwrap_or(d.ef_construction),
            ef_search: o.ef_search.unwrap_or(d.ef_search),
            seed: o.seed.unwrap_or(d.seed),
            heuristic: o.heuristic.unwrap_or(d.heuristic),
            graph: o.graph.as_deref().map_or(Ok(d.graph), GraphKind::parse)?,
        };
        Ok(JsVectorIndex { inner: DenseIndex::build(vectors, dim, &opts)? })
    }

    /// The `k` rows most similar to `query`: `{ids: Uint32Array, scores: Float32Array}`. `ef`
    /// (HNSW candidates, at least `k` is used) defaults to the index's `efSearch`; a flat index
    /// ignores it.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        ef: Option<usize>,
    ) -> std::result::Result<JsVectorSearchResult, JsError> {
        check_k(k)?;
        let hits = match ef {
            Some(ef) => self.inner.search_with(query, k, ef)?,
            None => self.inner.search(query, k)?,
        };
        let ids: Vec<u32> = hits.iter().map(|h| h.0).collect();
        let scores: Vec<f32> = hits.iter().map(|h| h.1).collect();
        let out = Object::new();
        let set = |name: &str, v: JsValue| Reflect::set(&out, &name.into(), &v);
        set("ids", js_sys::Uint32Array::from(&ids[..]).into())
            .and_then(|_| set("scores", js_sys::Float32Array::from(&scores[..]).into()))
            .map_err(|_| Error::format("result", "could not build the result object"))?;
        Ok(out.unchecked_into())
    }

    /// The index as bytes (a docent container with a `vectors` section, and a `dense_idist`
    /// section for an instant-distance graph).
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> std::result::Result<Vec<u8>, JsError> {
        let size = format::encoded_size(&self.inner)? + self.inner.separate_graph_size()?;
        let mut names = vec![VECTORS_SECTION];
        if self.inner.has_separate_graph() {
            names.push(DenseIndex::SEPARATE_GRAPH_SECTION);
        }
        Ok(format::write_with(&names, size, |i, out| match i {
            0 => format::encode_into(&self.inner, out),
            _ => self.inner.encode_separate_graph(out),
        })?)
    }

    /// Loads an index written by `toBytes()`.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<JsVectorIndex, JsError> {
        let sections = format::read(bytes, VECTORS_WHAT)?;
        let body = format::section(&sections, VECTORS_SECTION, VECTORS_WHAT)?;
        let mut inner: DenseIndex = format::decode(body, VECTORS_SECTION, VECTORS_WHAT)?;
        if let Some(s) = sections.iter().find(|s| s.name == DenseIndex::SEPARATE_GRAPH_SECTION) {
            inner.attach_separate_graph(s.body, VECTORS_WHAT)?;
        }
        Ok(JsVectorIndex { inner })
    }

    /// Number of vectors.
    #[wasm_bindgen(getter)]
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// `"flat"`, `"hnsw"` or `"instant-distance"`: how searches find candidates.
    #[wasm_bindgen(getter)]
    pub fn kind(&self) -> String {
        self.inner.kind().to_string()
    }

    /// Dimension of every vector (and of queries).
    #[wasm_bindgen(getter)]
    pub fn dim(&self) -> usize {
        self.inner.dim()
    }
}
