//! How a dense index is built: [`DenseOptions`], the graph it builds ([`GraphKind`]) and the
//! size-dependent HNSW defaults. Part of [`super`] (`index::dense`), which re-exports all of it.

use serde::{Deserialize, Serialize};

use super::HnswParams;
#[cfg(feature = "instant-distance")]
use super::InstantDistanceParams;
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
    /// Which graph is built at or above `flat_threshold` rows. Default [`GraphKind::Hnsw`].
    #[serde(default, skip_serializing_if = "GraphKind::is_default")]
    pub graph: GraphKind,
}

/// The dense graph: docent's own HNSW (`hnsw.rs`) or instant-distance's (`idist.rs`, cargo
/// feature `instant-distance`). Both link the same int8 rows and their candidates are rescored
/// the same way; see `docs/design.md` for which to pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GraphKind {
    /// docent's HNSW: `m` chosen by size, ef per query, deterministic build.
    #[default]
    Hnsw,
    /// instant-distance 0.6: M 32, `ef_search` fixed at build, parallel build that is not
    /// deterministic across thread counts. `m` is ignored.
    InstantDistance,
}

impl GraphKind {
    /// The names `--graph` and `graph:` accept.
    pub const NAMES: [&'static str; 2] = ["hnsw", "instant-distance"];

    fn is_default(&self) -> bool {
        *self == GraphKind::Hnsw
    }

    /// `"hnsw"` or `"instant-distance"`.
    pub fn name(self) -> &'static str {
        match self {
            GraphKind::Hnsw => "hnsw",
            GraphKind::InstantDistance => "instant-distance",
        }
    }

    /// Parses one of [`GraphKind::NAMES`].
    ///
    /// Errors: any other name, or `instant-distance` in a build without that cargo feature.
    pub fn parse(name: &str) -> Result<GraphKind> {
        let kind = match name {
            "hnsw" => GraphKind::Hnsw,
            "instant-distance" => GraphKind::InstantDistance,
            _ => {
                return Err(Error::invalid(
                    "graph",
                    format!("expected one of {}, found {name:?}", GraphKind::NAMES.join(", ")),
                ))
            }
        };
        kind.check_available()?;
        Ok(kind)
    }

    /// Errors when this build cannot build the graph (instant-distance without its feature).
    pub(super) fn check_available(self) -> Result<()> {
        if self == GraphKind::InstantDistance && !cfg!(feature = "instant-distance") {
            return Err(Error::invalid(
                "graph",
                "this build of docent has no instant-distance graph (cargo feature `instant-distance`; \
                 the lean wasm module leaves it out)",
            ));
        }
        Ok(())
    }
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
            graph: GraphKind::Hnsw,
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

    /// The instant-distance parameters for `len` rows: `ef_construction` as for docent's graph,
    /// `ef_search` at least [`IDIST_MIN_EF_SEARCH`] (fixed at build, see [`GraphKind`]); `m` does
    /// not apply (the crate's M is 32).
    #[cfg(feature = "instant-distance")]
    pub fn instant_distance_params_for(&self, len: usize) -> InstantDistanceParams {
        let p = self.params_for(len);
        let efs = if self.ef_search == 0 { p.ef_search.max(IDIST_MIN_EF_SEARCH as u32) } else { p.ef_search };
        InstantDistanceParams {
            ef_construction: p.ef_construction,
            ef_search: efs,
            heuristic: p.heuristic,
            seed: p.seed,
        }
    }
}

/// The least default `ef_search` of an instant-distance graph: its ef is fixed at build and a
/// search for more rows than it falls back to the flat scan, so the default covers the engine's
/// 100 fusion candidates (`RetrieveOptions::candidates`).
pub const IDIST_MIN_EF_SEARCH: usize = 128;

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
