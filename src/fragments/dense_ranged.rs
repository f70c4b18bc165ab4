//! Ranged IVF partitions (large sites): a question reads the sign codes of its probed
//! partitions, then the int8 rows of only the few dozen best, each by an HTTP range request.
//!
//! At a million chunks an int8 partition of the whole-file layout (`dense.rs`) is ~380 kB, so a
//! question probing two dozen of them moves megabytes. Here each row is kept twice: as a *coarse
//! row* (its id, a sign code of its residual to the centroid and two numbers, `index::signs`:
//! 48 + 16 bytes at 384 dimensions) and as a *fine row* (its int8 scale and codes, exactly the
//! dense index's). The coarse rows of the probed partitions give every row an estimated cosine;
//! the best [`RESCORE`] are fetched as fine rows and scored exactly as the flat scan does, and
//! only they go on to fusion (the flat scan gives it 100 candidates: ranks past 64 hardly move a
//! fused top 10, and every dense score stays exact).
//!
//! # Files
//! * The *directory* ([`FragmentKind::RangedCentroids`], `ivf-…`): the centroids ([`Ivf`]) and,
//!   per partition, its file, offset, row count and the xxh3-64 of its coarse rows. A whole
//!   fragment, fetched once with the first hybrid question.
//! * *Ranged partition files* ([`FragmentKind::RangedPartition`], `vec-…`): after the 9-byte
//!   header, whole partitions one after another (at least [`FILE_MIN`] per file, at most about
//!   [`MAX_FILES`] files). A partition is its coarse rows, then its fine rows, both in row-id
//!   order. Coarse row: id (u32 LE), residual length (f32 LE), alignment (f32 LE), the low 32 bits
//!   of the xxh3-64 of the fine row (u32 LE), the sign code. Fine row: scale (f32 LE), codes.
//!
//! Every byte read is checked: a coarse block against the directory, a fine row against its
//! coarse row, and the directory against its name in the manifest, so a range of another build's
//! file is refused (naming the file) however consistent in itself.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::read::SiteIndex;
use super::table::{
    open_fragment, seal_body, seal_fragment, DenseTable, FragmentKind, DAMAGED, FRAGMENT_HEADER,
};
use super::{Files, FragmentSource, Span};
use crate::index::dense::Query as DenseQuery;
use crate::index::ivf::{Ivf, Partition, MAX_NLIST};
use crate::index::rows::normalise;
use crate::index::signs::{self, SignQuery};
use crate::{Error, Result};

/// Rows a question rescores with their int8 codes (fetched by byte ranges), and the most dense
/// candidates it gives fusion. 64: on the Cargo book (MiniLM, `--ranges always`, every
/// partition probed) the dense ranking is then the monolithic one's (recall@5 0.684, MRR@10
/// 0.517, 95 of 113 top-10 lists identical); with 32 its MRR@10 lost 0.006 (bench/README.md).
pub const RESCORE: usize = 64;
/// Partitions a ranged query probes by default. 16.
pub const RANGED_NPROBE: usize = 16;
/// Coarse bytes per partition the default `nlist` aims at: [`RANGED_NPROBE`] of them are about
/// 200 kB a question. 12 KiB.
const COARSE_PER_PARTITION: usize = 12 * 1024;
/// Bytes of a coarse row before its sign code: id, residual length, alignment, fine-row check.
const ROW_HEAD: usize = 16;
/// A ranged partition file is cut after the partition that takes it to this size. 2 MiB.
pub const FILE_MIN: usize = 2 * 1024 * 1024;
/// Ranged partition files per index, at most about this many: files grow above it.
pub const MAX_FILES: usize = 64;

/// Bytes of one coarse row of `dim` dimensions.
fn coarse_row(dim: usize) -> usize {
    ROW_HEAD + signs::code_bytes(dim)
}

/// Bytes of one fine row of `dim` dimensions.
fn fine_row(dim: usize) -> usize {
    4 + dim
}

/// The default number of partitions of a ranged layout of `n` rows of `dim` dimensions: about
/// 12 KiB of coarse rows each (192 rows at 384 dimensions, 256 at 256), at most
/// [`MAX_NLIST`]. A million MiniLM rows: 5,209 partitions, a 2 MB directory.
pub fn ranged_nlist(n: usize, dim: usize) -> usize {
    let per = (COARSE_PER_PARTITION / coarse_row(dim)).max(1);
    n.div_ceil(per).clamp(1, MAX_NLIST)
}

/// Where one partition lies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Part {
    /// Index into the table's `files`.
    file: u32,
    /// Offset of its first coarse row in the file.
    start: u64,
    /// Its rows.
    rows: u32,
    /// xxh3-64 of its coarse rows.
    check: u64,
}

/// The directory fragment's payload.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Directory {
    ivf: Ivf,
    parts: Vec<Part>,
}

/// The ranged fragments of `parts` (from `ivf`, rows of `dim` dimensions): the table and files.
pub(super) fn write(
    dim: usize,
    ivf: Ivf,
    parts: &[Partition],
    nprobe: Option<usize>,
) -> Result<(DenseTable, Files)> {
    let (cr, fr) = (coarse_row(dim), fine_row(dim));
    let total: usize = parts.iter().map(|p| p.len() * (cr + fr)).sum();
    let file_min = FILE_MIN.max(total / MAX_FILES);
    let mut table = DenseTable {
        dim,
        nprobe: nprobe.unwrap_or(RANGED_NPROBE).clamp(1, parts.len()),
        centroids: String::new(),
        centroid_bytes: 0,
        files: Vec::new(),
        bytes: Vec::new(),
        ranged: true,
        partitions: parts.len(),
    };
    let mut files: Files = Vec::new();
    let mut dir = Vec::with_capacity(parts.len());
    let mut body: Vec<u8> = Vec::new();
    let mut flush = |body: &mut Vec<u8>, table: &mut DenseTable| {
        if !body.is_empty() {
            let (name, bytes) = seal_body(FragmentKind::RangedPartition, body);
            table.files.push(name.clone());
            table.bytes.push(bytes.len() as u64);
            files.push((name, bytes));
            body.clear();
        }
    };
    let mut bits = vec![0u8; signs::code_bytes(dim)];
    for (c, p) in parts.iter().enumerate() {
        let (cs, cc) = ivf.centroid(c);
        let mut coarse = Vec::with_capacity(p.len() * cr);
        let mut fine = Vec::with_capacity(p.len() * fr);
        for (j, &id) in p.ids().iter().enumerate() {
            let (s, codes) = p.row(j);
            let at = fine.len();
            fine.extend_from_slice(&s.to_le_bytes());
            fine.extend(codes.iter().map(|&v| v as u8));
            let (norm, align) = signs::encode(s, codes, cs, cc, &mut bits);
            coarse.extend_from_slice(&id.to_le_bytes());
            coarse.extend_from_slice(&norm.to_le_bytes());
            coarse.extend_from_slice(&align.to_le_bytes());
            coarse.extend_from_slice(&(xxhash_rust::xxh3::xxh3_64(&fine[at..]) as u32).to_le_bytes());
            coarse.extend_from_slice(&bits);
        }
        dir.push(Part {
            file: table.files.len() as u32,
            start: (FRAGMENT_HEADER + body.len()) as u64,
            rows: p.len() as u32,
            check: xxhash_rust::xxh3::xxh3_64(&coarse),
        });
        body.extend_from_slice(&coarse);
        body.extend_from_slice(&fine);
        if body.len() >= file_min {
            flush(&mut body, &mut table);
        }
    }
    flush(&mut body, &mut table);
    // An empty partition after the last cut names a file that was never written.
    for p in dir.iter_mut().filter(|p| p.rows == 0) {
        p.file = 0;
        p.start = FRAGMENT_HEADER as u64;
    }
    let (name, bytes) = seal_fragment(FragmentKind::RangedCentroids, &Directory { ivf, parts: dir })?;
    table.centroids = name.clone();
    table.centroid_bytes = bytes.len() as u64;
    files.insert(0, (name, bytes));
    Ok((table, files))
}

/// The coarse rows of one partition, checked.
#[derive(Debug)]
struct Coarse {
    ids: Vec<u32>,
    norms: Vec<f32>,
    aligns: Vec<f32>,
    checks: Vec<u32>,
    /// Sign codes, row-major.
    bits: Vec<u8>,
}

/// What a [`SiteIndex`] has loaded of a ranged layout.
#[derive(Debug, Default)]
pub(super) struct Loaded {
    dir: Option<Rc<Directory>>,
    coarse: BTreeMap<usize, Rc<Coarse>>,
    fine: BTreeMap<u32, Rc<(f32, Vec<i8>)>>,
}

impl Loaded {
    /// Whether the directory is loaded.
    pub(super) fn has_directory(&self) -> bool {
        self.dir.is_some()
    }
}

/// Checks and keeps the directory fetched as `path`: the table's dimension and partition count,
/// every partition inside its file.
pub(super) fn store_directory(index: &SiteIndex, d: &DenseTable, path: &str, bytes: &[u8]) -> Result<()> {
    let dir: Directory = open_fragment(path, bytes, d.centroid_bytes, FragmentKind::RangedCentroids)?;
    let bad = |reason: String| Err(Error::format(path, reason));
    if dir.ivf.dim() != d.dim || dir.ivf.len() != d.partitions || dir.parts.len() != d.partitions {
        return bad(format!(
            "{} centroids of {} dimensions and {} partitions, but the manifest has {} partitions of {} dimensions",
            dir.ivf.len(),
            dir.ivf.dim(),
            dir.parts.len(),
            d.partitions,
            d.dim
        ));
    }
    let per_row = (coarse_row(d.dim) + fine_row(d.dim)) as u64;
    for (i, p) in dir.parts.iter().enumerate() {
        let size = d.bytes.get(p.file as usize).copied().unwrap_or(0);
        let end = u64::from(p.rows).checked_mul(per_row).and_then(|b| b.checked_add(p.start));
        if p.rows > 0 && (p.start < FRAGMENT_HEADER as u64 || end.is_none_or(|e| e > size)) {
            return bad(format!(
                "partition {i}: {} rows at byte {} of file {} ({size} bytes)",
                p.rows, p.start, p.file
            ));
        }
    }
    index.dense.borrow_mut().ranged.dir = Some(Rc::new(dir));
    Ok(())
}

/// The partitions `query` probes (nearest first). Needs the directory.
pub(super) fn probe(index: &SiteIndex, vector: &[f32], nprobe: usize) -> Result<Vec<usize>> {
    let Some(dir) = index.dense.borrow().ranged.dir.clone() else {
        return Err(Error::invalid("vector", "the IVF directory is not loaded before the partitions"));
    };
    Ok(dir.ivf.probe(vector, nprobe)?.into_iter().map(|p| p as usize).collect())
}

/// Fetches, in one call, the coarse rows of the partitions of `probe` not loaded yet.
pub(super) async fn load_coarse<S: FragmentSource>(
    index: &SiteIndex,
    d: &DenseTable,
    src: &S,
    probe: &[usize],
) -> Result<()> {
    let Some(dir) = index.dense.borrow().ranged.dir.clone() else { return Ok(()) };
    let cr = coarse_row(d.dim) as u64;
    let wanted: Vec<usize> = probe
        .iter()
        .copied()
        .filter(|&p| dir.parts[p].rows > 0 && !index.dense.borrow().ranged.coarse.contains_key(&p))
        .collect();
    let spans: Vec<Span> = wanted
        .iter()
        .map(|&p| {
            let part = &dir.parts[p];
            Span {
                path: d.files[part.file as usize].clone(),
                start: part.start,
                end: part.start + u64::from(part.rows) * cr,
            }
        })
        .collect();
    let got = index.fetch_ranges(src, &spans).await?;
    for ((&p, span), bytes) in wanted.iter().zip(&spans).zip(got) {
        let coarse = open_coarse(&span.path, p, &dir.parts[p], d.dim, &bytes, index.table().chunks)?;
        index.dense.borrow_mut().ranged.coarse.insert(p, Rc::new(coarse));
    }
    Ok(())
}

/// Checks and splits the coarse rows of partition `p` read from `path`.
fn open_coarse(path: &str, p: usize, part: &Part, dim: usize, bytes: &[u8], chunks: usize) -> Result<Coarse> {
    let cr = coarse_row(dim);
    let rows = part.rows as usize;
    if bytes.len() != rows * cr || xxhash_rust::xxh3::xxh3_64(bytes) != part.check {
        return Err(Error::format(
            path,
            format!("IVF partition {p}: its {} bytes of coarse rows (expected {}) do not match the directory: {DAMAGED}", bytes.len(), rows * cr),
        ));
    }
    let word = |row: &[u8], at: usize| [row[at], row[at + 1], row[at + 2], row[at + 3]];
    let mut c = Coarse {
        ids: Vec::with_capacity(rows),
        norms: Vec::with_capacity(rows),
        aligns: Vec::with_capacity(rows),
        checks: Vec::with_capacity(rows),
        bits: Vec::with_capacity(rows * (cr - ROW_HEAD)),
    };
    for row in bytes.chunks_exact(cr) {
        let id = u32::from_le_bytes(word(row, 0));
        let (norm, align) = (f32::from_le_bytes(word(row, 4)), f32::from_le_bytes(word(row, 8)));
        if id as usize >= chunks
            || c.ids.last().is_some_and(|&last| last >= id)
            || !(norm.is_finite() && norm >= 0.0)
            || !(align > 0.0 && align <= 1.0)
        {
            return Err(Error::format(
                path,
                format!("IVF partition {p}: a coarse row of id {id}, length {norm}, alignment {align} (ids ascend below {chunks}, lengths ≥ 0, alignments in (0, 1])"),
            ));
        }
        c.ids.push(id);
        c.norms.push(norm);
        c.aligns.push(align);
        c.checks.push(u32::from_le_bytes(word(row, 12)));
        c.bits.extend_from_slice(&row[ROW_HEAD..]);
    }
    Ok(c)
}

/// The dense top-`k` `(chunk id, cosine)` of the probed partitions (their coarse rows loaded by
/// [`load_coarse`]), at most [`RESCORE`] of them: every row estimated from its sign code, the
/// best [`RESCORE`] fetched as fine rows (one call) and scored exactly as the flat scan does.
pub(super) async fn search<S: FragmentSource>(
    index: &SiteIndex,
    d: &DenseTable,
    src: &S,
    vector: &[f32],
    probe: &[usize],
    k: usize,
) -> Result<Vec<(u32, f32)>> {
    let Some(dir) = index.dense.borrow().ranged.dir.clone() else { return Ok(Vec::new()) };
    let exact = DenseQuery::new(vector, d.dim)?;
    let unit = normalise(vector);
    let sq = SignQuery::new(&unit);
    let code = signs::code_bytes(d.dim);
    // (estimate, id, partition, row)
    let mut est: Vec<(f32, u32, usize, usize)> = Vec::new();
    {
        let loaded = index.dense.borrow();
        for &p in probe {
            let Some(c) = loaded.ranged.coarse.get(&p) else { continue };
            let (cs, cc) = dir.ivf.centroid(p);
            let q_c = signs::centroid_score(&unit, cs, cc);
            for (j, &id) in c.ids.iter().enumerate() {
                let e = sq.estimate(q_c, &c.bits[j * code..(j + 1) * code], c.norms[j], c.aligns[j]);
                est.push((e, id, p, j));
            }
        }
    }
    let by_estimate =
        |a: &(f32, u32, usize, usize), b: &(f32, u32, usize, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    let keep = RESCORE.min(est.len());
    if keep == 0 {
        return Ok(Vec::new());
    }
    if keep < est.len() {
        est.select_nth_unstable_by(keep - 1, by_estimate);
        est.truncate(keep);
    }
    load_fine(index, d, &dir, src, &est).await?;
    let loaded = index.dense.borrow();
    let mut hits: Vec<(u32, f32)> = est
        .iter()
        .filter_map(|&(_, id, _, _)| loaded.ranged.fine.get(&id).map(|r| (id, exact.score(r.0, &r.1))))
        .collect();
    crate::index::dense::sort_hits(&mut hits);
    hits.truncate(k);
    Ok(hits)
}

/// Fetches, in one call, the fine rows of `rows` (estimate, id, partition, position) not loaded
/// yet: a range per run of rows adjacent in their partition, each row checked against its coarse
/// row.
async fn load_fine<S: FragmentSource>(
    index: &SiteIndex,
    d: &DenseTable,
    dir: &Directory,
    src: &S,
    rows: &[(f32, u32, usize, usize)],
) -> Result<()> {
    let (cr, fr) = (coarse_row(d.dim) as u64, fine_row(d.dim));
    let mut wanted: Vec<(usize, usize)> = rows
        .iter()
        .filter(|r| !index.dense.borrow().ranged.fine.contains_key(&r.1))
        .map(|r| (r.2, r.3))
        .collect();
    wanted.sort_unstable();
    // Runs of adjacent rows: (partition, first row, rows).
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for (p, j) in wanted {
        match runs.last_mut() {
            Some((rp, first, n)) if *rp == p && *first + *n == j => *n += 1,
            _ => runs.push((p, j, 1)),
        }
    }
    let spans: Vec<Span> = runs
        .iter()
        .map(|&(p, j, n)| {
            let part = &dir.parts[p];
            let start = part.start + u64::from(part.rows) * cr + (j * fr) as u64;
            Span { path: d.files[part.file as usize].clone(), start, end: start + (n * fr) as u64 }
        })
        .collect();
    let got = index.fetch_ranges(src, &spans).await?;
    let mut loaded = index.dense.borrow_mut();
    for ((&(p, j, n), span), bytes) in runs.iter().zip(&spans).zip(got) {
        let Some(coarse) = loaded.ranged.coarse.get(&p).cloned() else { continue };
        if bytes.len() != n * fr {
            return Err(Error::format(
                &span.path,
                format!(
                    "IVF partition {p}: {} bytes of fine rows, expected {}: {DAMAGED}",
                    bytes.len(),
                    n * fr
                ),
            ));
        }
        for (i, row) in bytes.chunks_exact(fr).enumerate() {
            if xxhash_rust::xxh3::xxh3_64(row) as u32 != coarse.checks[j + i] {
                return Err(Error::format(
                    &span.path,
                    format!("IVF partition {p}: row {} does not match its check: {DAMAGED}", j + i),
                ));
            }
            let scale = f32::from_le_bytes([row[0], row[1], row[2], row[3]]);
            if !(scale.is_finite() && scale >= 0.0) {
                return Err(Error::format(
                    &span.path,
                    format!("IVF partition {p}: row {} has scale {scale}", j + i),
                ));
            }
            let codes: Vec<i8> = row[4..].iter().map(|&b| b as i8).collect();
            loaded.ranged.fine.insert(coarse.ids[j + i], Rc::new((scale, codes)));
        }
    }
    Ok(())
}
