//! Dense fragments: the vectors in an IVF layout (`index::ivf`): the centroids in one file, the
//! int8 rows of each partition in one file each. A hybrid question fetches the centroids once
//! (with its term shards), then its `nprobe` nearest partitions in one call, and scores their rows
//! exactly as the engine's flat scan does (the same codes, scales and two-stage scoring).
//!
//! Large sites (the layout whose text and term shards are ranged) use `dense_ranged.rs` instead:
//! sign codes of the probed partitions, then the int8 rows of the best few, by byte ranges.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::dense_ranged;
use super::read::SiteIndex;
use super::table::{open_fragment, seal_fragment, DenseTable, FragmentKind};
use super::text::Place;
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
/// row ids 0..n) of `index`, whole partitions or (`ranged`) ranged ones, these with the rows'
/// record `places` when not empty. `None` when there are no rows.
pub(super) fn write(
    index: &DenseIndex,
    live_old: &[u32],
    layout: &DenseLayout,
    ranged: bool,
    places: &[Place],
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
    let mut options = layout.ivf.clone();
    if ranged && options.nlist.is_none() {
        options.nlist = Some(dense_ranged::ranged_nlist(live_old.len(), dim));
    }
    let centroids = ivf::train_quantized(&codes, &scales, dim, &options)?;
    let parts = centroids.partition_rows(&codes, &scales)?;
    if ranged {
        return dense_ranged::write(dim, centroids, &parts, layout.nprobe, places).map(Some);
    }
    let (centroids_name, centroids_bytes) = seal_fragment(FragmentKind::Centroids, &centroids)?;
    let mut table = DenseTable {
        dim,
        nprobe: layout.nprobe.unwrap_or_else(|| ivf::default_nprobe(parts.len())).clamp(1, parts.len()),
        centroids: centroids_name.clone(),
        centroid_bytes: centroids_bytes.len() as u64,
        files: Vec::new(),
        bytes: Vec::new(),
        ranged: false,
        located: false,
        partitions: parts.len(),
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
    /// The ranged layout's directory and rows.
    pub(super) ranged: dense_ranged::Loaded,
}

/// A query vector checked against the index.
pub(super) struct Query {
    vector: Vec<f32>,
    nprobe: usize,
    /// Ranged layout: the probed partitions, scored once against the directory's centroids.
    probed: std::cell::OnceCell<Vec<usize>>,
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
        Ok(Query {
            vector: vector.to_vec(),
            nprobe: nprobe.min(d.partition_count()),
            probed: std::cell::OnceCell::new(),
        })
    }

    /// Ranged layout: the partitions this query probes, nearest first (computed on first use;
    /// needs the directory).
    fn probed(&self, index: &SiteIndex) -> Result<&[usize]> {
        if self.probed.get().is_none() {
            let _ = self.probed.set(dense_ranged::probe(index, &self.vector, self.nprobe)?);
        }
        Ok(self.probed.get().map_or(&[], Vec::as_slice))
    }

    /// The centroids file (the directory of a ranged layout), when it is not loaded yet.
    pub(super) fn centroids_wanted(&self, index: &SiteIndex) -> Option<String> {
        let d = index.table.dense.as_ref()?;
        let loaded = index.dense.borrow();
        let have = if d.ranged { loaded.ranged.has_directory() } else { loaded.centroids.is_some() };
        (!have).then(|| d.centroids.clone())
    }

    /// Ranged layout: the coarse rows of the probed partitions still to fetch (a question fetches
    /// them with its term postings; [`Query::search`] fetches any still missing). Nothing for
    /// whole partitions, which [`Query::search`] fetches.
    pub(super) fn coarse_wanted(&self, index: &SiteIndex) -> Result<dense_ranged::Wanted> {
        let Some(d) = index.table.dense.as_ref().filter(|d| d.ranged) else { return Ok(Default::default()) };
        Ok(dense_ranged::coarse_wanted(index, d, self.probed(index)?))
    }

    /// Keeps the coarse rows of [`Query::coarse_wanted`] fetched as `got`.
    pub(super) fn store_coarse(
        &self,
        index: &SiteIndex,
        w: &dense_ranged::Wanted,
        got: Vec<Vec<u8>>,
    ) -> Result<()> {
        match index.table.dense.as_ref() {
            Some(d) => dense_ranged::store_coarse(index, d, w, got),
            None => Ok(()),
        }
    }

    /// The dense top-`k` `(chunk id, cosine)`, best first: the `nprobe` partitions nearest to the
    /// query (fetched together if not loaded), scored like the engine's flat scan. Needs the
    /// centroids loaded ([`store_centroids`]).
    pub(super) async fn search<S: FragmentSource>(
        &self,
        index: &SiteIndex,
        src: &S,
        k: usize,
        also: &[u32],
    ) -> Result<Vec<(u32, f32)>> {
        let Some(d) = &index.table.dense else { return Ok(Vec::new()) };
        if d.ranged {
            return dense_ranged::search(index, d, src, &self.vector, self.probed(index)?, k, also).await;
        }
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
    if d.ranged {
        return dense_ranged::store_directory(index, d, path, bytes);
    }
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
