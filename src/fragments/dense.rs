//! Dense fragments: the vectors in an IVF layout (centroids in one file, int8 rows grouped by
//! partition).

use super::read::SiteIndex;
use super::table::DenseTable;
use super::FragmentSource;
use crate::engine::Options;
use crate::index::dense::DenseIndex;
use crate::{Error, Result};

/// The IVF fragments of the rows `live_old` (engine chunk ids, in live order) of `index`.
/// `None` while the IVF layout is not written.
pub(super) fn write(
    index: &DenseIndex,
    live_old: &[u32],
    options: &Options,
) -> Result<Option<(DenseTable, Vec<(String, Vec<u8>)>)>> {
    let _ = (index, live_old, options);
    Ok(None)
}

/// The IVF fragments a [`SiteIndex`] has loaded.
#[derive(Debug, Default)]
pub(super) struct Loaded {}

/// A query vector checked against the index.
pub(super) struct Query {
    vector: Vec<f32>,
}

impl Query {
    /// Checks `vector` against the index's dense table: present, of its dimension, finite.
    pub(super) fn new(index: &SiteIndex, vector: &[f32]) -> Result<Query> {
        let Some(d) = &index.table.dense else {
            return Err(Error::invalid(
                "vector",
                "this index has no dense fragments; search without a query vector",
            ));
        };
        crate::index::dense::check_query(vector, d.dim)?;
        Ok(Query { vector: vector.to_vec() })
    }

    /// The centroids file, when it is not loaded yet.
    pub(super) fn centroids_wanted(&self, index: &SiteIndex) -> Option<String> {
        let _ = index;
        None
    }

    /// The dense top-`k` `(chunk id, cosine)`, best first.
    pub(super) async fn search<S: FragmentSource>(
        &self,
        index: &SiteIndex,
        src: &S,
        k: usize,
    ) -> Result<Vec<(u32, f32)>> {
        let _ = (index, src, k, &self.vector);
        Err(Error::invalid("vector", "dense fragments are not supported yet"))
    }
}

/// Checks and keeps the centroids fetched as `path`.
pub(super) fn store_centroids(index: &SiteIndex, path: &str, bytes: &[u8]) -> Result<()> {
    let _ = (index, path, bytes);
    Ok(())
}
