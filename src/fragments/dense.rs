//! Dense fragments: the vectors in an IVF layout (`index::ivf`): the centroids in one file, the
//! int8 rows of each partition in one file each. A hybrid question fetches the centroids once
//! (with its term shards), then its `nprobe` nearest partitions in one call, and scores their rows
//! exactly as the engine's flat scan does (the same codes, scales and two-stage scoring).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::read::SiteIndex;
use super::table::{open_fragment, seal_fragment, DenseTable, FragmentKind};
use super::Files;
use super::FragmentSource;
use crate::index::dense::{DenseIndex, Query as DenseQuery};
use crate::index::ivf::{self, Ivf, IvfOptions, Partition};
use crate::{Error, Result};

/// How the IVF fragments are laid out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenseLayout {
    /// k-means options (partitions, seed, iterations); default [`IvfOptions::default`]
    /// (`nlist` by the row count, [`ivf::default_nlist`]).
    pub ivf: IvfOptions,
    /// Partitions a query probes; default `None` = [`ivf::default_nprobe`] of the partitions.
    /// Range 1..=partitions (larger values are lowered to it).
    pub nprobe: Option<usize>,
}

/// The IVF fragments of the rows `live_old` (engine chunk ids, in live order, which become the
/// row ids 0..n) of `index`. `None` when there are no rows.
pub(super) fn write(
    index: &DenseIndex,
    live_old: &[u32],
    layout: &DenseLayout,
) -> Result<Option<(DenseTable, Files)>> {
    let dim = index.dim();
    if live_old.is_empty() || dim == 0 {
        return Ok(None);
    }
    let (all_codes, all_scales) = index.quantized_rows();
    let mut codes = Vec::with_capacity(live_old.len() * dim);
    let mut scales = Vec::with_capacity(live_old.len());
    for &old in live_old {
        let i = old as usize;
        codes.extend_from_slice(&all_codes[i * dim..(i + 1) * dim]);
        scales.push(all_scales[i]);
    }
    let centroids = ivf::train_quantized(&codes, &scales, dim, &layout.ivf)?;
    let parts = centroids.partition_rows(&codes, &scales)?;
    let (centroids_name, centroids_bytes) = seal_fragment(FragmentKind::Centroids, &centroids)?;
    let mut table = DenseTable {
        dim,
        nprobe: layout.nprobe.unwrap_or_else(|| ivf::default_nprobe(parts.len())).clamp(1, parts.len()),
        centroids: centroids_name.clone(),
        centroid_bytes: centroids_bytes.len() as u64,
        files: Vec::new(),
        bytes: Vec::new(),
    };
    let mut files = vec![(centroids_name, centroids_bytes)];
    for p in &parts {
        let (name, bytes) = seal_fragment(FragmentKind::Partition, p)?;
        table.files.push(name.clone());
        table.bytes.push(bytes.len() as u64);
        files.push((name, bytes));
    }
    Ok(Some((table, files)))
}

/// The IVF fragments a [`SiteIndex`] has loaded.
#[derive(Debug, Default)]
pub(super) struct Loaded {
    centroids: Option<Rc<Ivf>>,
    partitions: BTreeMap<usize, Rc<Partition>>,
}

/// A query vector checked against the index.
pub(super) struct Query {
    vector: Vec<f32>,
    nprobe: usize,
}

impl Query {
    /// Checks `vector` against the index's dense table: present, of its dimension, finite.
    /// `nprobe` defaults to the table's.
    pub(super) fn new(index: &SiteIndex, vector: &[f32], nprobe: Option<usize>) -> Result<Query> {
        let Some(d) = &index.table.dense else {
            return Err(Error::invalid(
                "vector",
                "this index has no dense fragments; search without a query vector",
            ));
        };
        DenseQuery::new(vector, d.dim)?;
        let nprobe = nprobe.unwrap_or(d.nprobe);
        if nprobe == 0 {
            return Err(Error::invalid("nprobe", "expected at least 1 partition to probe"));
        }
        Ok(Query { vector: vector.to_vec(), nprobe: nprobe.min(d.files.len()) })
    }

    /// The centroids file, when it is not loaded yet.
    pub(super) fn centroids_wanted(&self, index: &SiteIndex) -> Option<String> {
        let d = index.table.dense.as_ref()?;
        index.dense.borrow().centroids.is_none().then(|| d.centroids.clone())
    }

    /// The dense top-`k` `(chunk id, cosine)`, best first: the `nprobe` partitions nearest to the
    /// query (fetched together if not loaded), scored like the engine's flat scan. Needs the
    /// centroids loaded ([`store_centroids`]).
    pub(super) async fn search<S: FragmentSource>(
        &self,
        index: &SiteIndex,
        src: &S,
        k: usize,
    ) -> Result<Vec<(u32, f32)>> {
        let Some(d) = &index.table.dense else { return Ok(Vec::new()) };
        let Some(centroids) = index.dense.borrow().centroids.clone() else {
            return Err(Error::format(&d.centroids, "IVF centroids not loaded before the partitions"));
        };
        let probe: Vec<usize> =
            centroids.probe(&self.vector, self.nprobe)?.into_iter().map(|p| p as usize).collect();
        let missing: Vec<usize> =
            probe.iter().copied().filter(|p| !index.dense.borrow().partitions.contains_key(p)).collect();
        let paths: Vec<String> = missing.iter().map(|&p| d.files[p].clone()).collect();
        let got = index.fetch(src, &paths).await?;
        for ((&p, path), bytes) in missing.iter().zip(&paths).zip(got) {
            let part: Partition = open_fragment(path, &bytes, d.bytes[p], FragmentKind::Partition)?;
            if part.dim() != d.dim || part.ids().last().is_some_and(|&id| id as usize >= index.table.chunks) {
                return Err(Error::format(
                    path,
                    format!(
                        "IVF partition {p} of {} dimensions with row ids up to {:?}, but the index has {} dimensions and {} chunks",
                        part.dim(),
                        part.ids().last(),
                        d.dim,
                        index.table.chunks
                    ),
                ));
            }
            index.dense.borrow_mut().partitions.insert(p, Rc::new(part));
        }
        let loaded = index.dense.borrow();
        let parts: Vec<&Partition> =
            probe.iter().filter_map(|p| loaded.partitions.get(p).map(|r| &**r)).collect();
        ivf::search(&parts, &self.vector, k)
    }
}

/// Checks and keeps the centroids fetched as `path`: the table's dimension, one centroid per
/// partition file.
pub(super) fn store_centroids(index: &SiteIndex, path: &str, bytes: &[u8]) -> Result<()> {
    let Some(d) = &index.table.dense else { return Ok(()) };
    let c: Ivf = open_fragment(path, bytes, d.centroid_bytes, FragmentKind::Centroids)?;
    if c.dim() != d.dim || c.len() != d.files.len() {
        return Err(Error::format(
            path,
            format!(
                "{} IVF centroids of {} dimensions, but the manifest has {} partitions of {} dimensions",
                c.len(),
                c.dim(),
                d.files.len(),
                d.dim
            ),
        ));
    }
    index.dense.borrow_mut().centroids = Some(Rc::new(c));
    Ok(())
}
