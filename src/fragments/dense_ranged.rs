//! Ranged IVF partitions (large sites): a question reads the sign codes of its probed
//! partitions, then the int8 rows of only the few dozen best, each by an HTTP range request.
//!
//! At a million chunks an int8 partition of the whole-file layout (`dense.rs`) is ~380 kB, so a
//! question probing two dozen of them moves megabytes. Here each row is kept twice: as a *coarse
//! row* (its id, a sign code of its rotated residual to the centroid and two numbers, `index::signs`:
//! about 54 bytes at 384 dimensions) and as a *fine row* (its int8 scale and codes, exactly the
//! dense index's, and a check). The coarse rows of the probed partitions give every row an estimated cosine;
//! the best [`RESCORE`] (and the rows of the lexical ranking's first [`LEXICAL_RESCORE`] hits)
//! are fetched as fine rows and scored exactly as the flat scan does. The rest of the 100
//! candidates fusion reads join them by their estimate, capped at the tenth exact score: fusion
//! reads ranks, the gate the first and tenth scores, and both then see what the flat scan gives.
//!
//! # Files
//! * The *directory* ([`FragmentKind::RangedCentroids`], `ivf-…`): the centroids ([`Ivf`]) and,
//!   per partition, its file, offset, row count and the xxh3-64 of its coarse rows. A whole
//!   fragment, fetched once with the first hybrid question.
//! * *Ranged partition files* ([`FragmentKind::RangedPartition`], `vec-…`): after the 9-byte
//!   header, whole partitions one after another (at least [`FILE_MIN`] per file, at most about
//!   [`MAX_FILES`] files). A partition is its coarse rows, then its fine rows, both in row-id
//!   order. Coarse rows: the row ids (LEB128, the first and then the gaps, ~2 bytes each on a
//!   large site), then per row its residual length (u16 LE, steps of 2.5/65535), alignment
//!   (u16 LE, steps of 1/65535) and sign code. Fine row: scale (f32 LE), codes, check (u32 LE: the
//!   low 32 bits of the xxh3-64 of scale and codes xor the partition's check xor the row's
//!   position).
//!
//! Every byte read is checked: a partition's coarse rows against the directory, a fine row
//! against the directory's check of its partition and its position, and the directory against its
//! name in the manifest, so a range of another build's file is refused (naming the file) however
//! consistent in itself.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::read::SiteIndex;
use super::table::{
    open_fragment, seal_body, seal_fragment, DenseTable, FragmentKind, DAMAGED, FRAGMENT_HEADER,
};
use super::text::Place;
use super::{Files, FragmentSource, Span};
use crate::index::dense::{top, Query as DenseQuery};
use crate::index::ivf::{Ivf, Partition, MAX_NLIST};
use crate::index::rows::normalise;
use crate::index::signs::{self, SignQuery};
use crate::{Error, Result};

/// Rows a question rescores with their int8 codes (fetched by byte ranges), best by the sign
/// codes' estimate. 64: on the Cargo book (MiniLM, `--ranges always`, every
/// partition probed) the dense ranking is then the monolithic one's (recall@5 0.684, MRR@10
/// 0.517, 95 of 113 top-10 lists identical); with 32 its MRR@10 lost 0.006 (bench/README.md).
pub const RESCORE: usize = 64;
/// The lexical ranking's first hits whose rows a hybrid question rescores too (when their
/// partition is probed), so that a chunk both rankings like gets the dense rank the flat scan
/// gives it: on the Cargo book (`--ranges always`) hybrid recall@5 and MRR@10 then equal the
/// monolithic index's (0.737 / 0.598; with none rescored, 0.726 / 0.594). 16.
pub const LEXICAL_RESCORE: usize = 16;
/// Partitions a ranged query probes by default. 16.
pub const RANGED_NPROBE: usize = 16;
/// Coarse bytes per partition the default `nlist` aims at: [`RANGED_NPROBE`] of them are about
/// 160 kB a question. 10 KiB.
const COARSE_PER_PARTITION: usize = 10 * 1024;
/// Bytes of a coarse row besides its id and sign code: residual length and alignment (u16 each).
const ROW_HEAD: usize = 4;
/// The largest residual length a coarse row stores (rows and centroids have unit length, so
/// residuals stay below 2 + the int8 rounding); its u16 counts steps of `NORM_MAX / 65535`.
const NORM_MAX: f32 = 2.5;
/// A ranged partition file is cut after the partition that takes it to this size. 2 MiB.
pub const FILE_MIN: usize = 2 * 1024 * 1024;
/// Ranged partition files per index, at most about this many: files grow above it.
pub const MAX_FILES: usize = 64;

/// Bytes of one coarse row of `dim` dimensions after the ids.
fn coarse_row(dim: usize) -> usize {
    ROW_HEAD + signs::code_bytes(dim)
}

/// Bytes of one fine row of `dim` dimensions: scale, codes, the record's place when `located`
/// ([`Place::to_bytes`]), check.
fn fine_row(dim: usize, located: bool) -> usize {
    8 + dim + if located { PLACE } else { 0 }
}

/// Bytes of a record's place in a fine row.
const PLACE: usize = Place::BYTES;

/// The check a fine row carries: the low 32 bits of the xxh3-64 of its scale and codes, xor the
/// partition's check (the xxh3 of its coarse rows, from the directory) and its position, so a
/// row of another build or another place fails.
fn fine_check(row: &[u8], part_check: u64, j: usize) -> u32 {
    (xxhash_rust::xxh3::xxh3_64(row) ^ part_check ^ j as u64) as u32
}

/// The default number of partitions of a ranged layout of `n` rows of `dim` dimensions: about
/// 10 KiB of coarse rows each (counting 2 bytes per id: 189 rows at 384 dimensions, 269 at 256),
/// at most [`MAX_NLIST`]. A million MiniLM rows: 5,291 partitions, a 2 MB directory.
pub fn ranged_nlist(n: usize, dim: usize) -> usize {
    let per = (COARSE_PER_PARTITION / (coarse_row(dim) + 2)).max(1);
    n.div_ceil(per).clamp(1, MAX_NLIST)
}

/// Where one partition lies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Part {
    /// Index into the table's `files`.
    file: u32,
    /// Offset of its coarse rows in the file.
    start: u64,
    /// Its rows.
    rows: u32,
    /// Bytes of its coarse rows (its fine rows follow them).
    coarse: u32,
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
/// With `places` (each row's record place in the ranged text packs, by row id; empty for none)
/// every fine row carries its record's place, so a dense hit's record is read without its pack
/// entry (version 5).
pub(super) fn write(
    dim: usize,
    ivf: Ivf,
    parts: &[Partition],
    nprobe: Option<usize>,
    places: &[Place],
) -> Result<(DenseTable, Files)> {
    let located = !places.is_empty();
    let (cr, fr) = (coarse_row(dim) + 2, fine_row(dim, located));
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
        located,
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
        // Coarse rows: the ids (LEB128: the first, then the gaps), then per row its residual
        // length, alignment and sign code.
        let mut coarse = Vec::with_capacity(p.len() * cr);
        let mut prev = None;
        for &id in p.ids() {
            leb128(&mut coarse, prev.map_or(id, |q| id - q));
            prev = Some(id);
        }
        for j in 0..p.len() {
            let (s, codes) = p.row(j);
            let (norm, align) = signs::encode(s, codes, cs, cc, &mut bits);
            coarse.extend_from_slice(&u16_le(norm / NORM_MAX * 65535.0));
            coarse.extend_from_slice(&u16_le((align * 65535.0).max(1.0)));
            coarse.extend_from_slice(&bits);
        }
        let check = xxhash_rust::xxh3::xxh3_64(&coarse);
        dir.push(Part {
            file: table.files.len() as u32,
            start: (FRAGMENT_HEADER + body.len()) as u64,
            rows: p.len() as u32,
            coarse: u32::try_from(coarse.len())
                .map_err(|_| Error::Vector { reason: format!("IVF partition {c} is too large") })?,
            check,
        });
        body.extend_from_slice(&coarse);
        for (j, &id) in p.ids().iter().enumerate() {
            let (s, codes) = p.row(j);
            let at = body.len();
            body.extend_from_slice(&s.to_le_bytes());
            body.extend(codes.iter().map(|&v| v as u8));
            if located {
                let place = places
                    .get(id as usize)
                    .ok_or_else(|| Error::Vector { reason: format!("IVF row {id} has no text record") })?;
                body.extend_from_slice(&place.to_bytes());
            }
            let sum = fine_check(&body[at..], check, j);
            body.extend_from_slice(&sum.to_le_bytes());
        }
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

/// Appends `v` as LEB128 (7 bits a byte, low first).
fn leb128(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// `x` (rounded, in `[0, 65535]`) as a u16, 2 bytes LE.
fn u16_le(x: f32) -> [u8; 2] {
    (x.round().clamp(0.0, 65535.0) as u16).to_le_bytes()
}

/// The coarse rows of one partition, checked.
#[derive(Debug)]
struct Coarse {
    ids: Vec<u32>,
    norms: Vec<f32>,
    aligns: Vec<f32>,
    /// Sign codes, row-major.
    bits: Vec<u8>,
}

/// What a [`SiteIndex`] has loaded of a ranged layout.
#[derive(Debug, Default)]
pub(super) struct Loaded {
    dir: Option<Rc<Directory>>,
    /// Per partition, its coarse rows once read.
    coarse: Vec<Option<Rc<Coarse>>>,
    /// Fine rows read so far: (id, scale, codes), ascending by id.
    fine: Vec<(u32, f32, Vec<i8>)>,
}

impl Loaded {
    /// Whether the directory is loaded.
    pub(super) fn has_directory(&self) -> bool {
        self.dir.is_some()
    }

    fn coarse(&self, p: usize) -> Option<&Rc<Coarse>> {
        self.coarse.get(p).and_then(Option::as_ref)
    }

    fn fine(&self, id: u32) -> Option<&(u32, f32, Vec<i8>)> {
        self.fine.binary_search_by_key(&id, |f| f.0).ok().map(|i| &self.fine[i])
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
    let (cr, fr) = (coarse_row(d.dim) as u64, fine_row(d.dim, d.located) as u64);
    for (i, p) in dir.parts.iter().enumerate() {
        let size = d.bytes.get(p.file as usize).copied().unwrap_or(0);
        let rows = u64::from(p.rows);
        // Each coarse row holds at least a one-byte id; an id takes at most 5.
        let coarse_fits = (rows * (cr + 1)..=rows * (cr + 5)).contains(&u64::from(p.coarse));
        let end = p.start.checked_add(u64::from(p.coarse) + rows * fr);
        if p.rows > 0 && (p.start < FRAGMENT_HEADER as u64 || !coarse_fits || end.is_none_or(|e| e > size)) {
            return bad(format!(
                "partition {i}: {} rows at byte {} of file {} ({size} bytes)",
                p.rows, p.start, p.file
            ));
        }
    }
    let mut loaded = index.dense.borrow_mut();
    loaded.ranged.coarse = vec![None; dir.parts.len()];
    loaded.ranged.dir = Some(Rc::new(dir));
    Ok(())
}

/// The partitions `query` probes (nearest first). Needs the directory.
pub(super) fn probe(index: &SiteIndex, vector: &[f32], nprobe: usize) -> Result<Vec<usize>> {
    let Some(dir) = index.dense.borrow().ranged.dir.clone() else {
        return Err(Error::invalid("vector", "the IVF directory is not loaded before the partitions"));
    };
    Ok(dir.ivf.probe(vector, nprobe)?.into_iter().map(|p| p as usize).collect())
}

/// The coarse rows a query still needs: the partitions and their byte ranges, in probe order.
#[derive(Debug, Default)]
pub(super) struct Wanted {
    parts: Vec<usize>,
    /// One range per partition, to fetch in one call (with the term postings, on a question's
    /// second stage).
    pub(super) spans: Vec<Span>,
}

/// The coarse rows of the partitions of `probe` not loaded yet. Needs the directory.
pub(super) fn coarse_wanted(index: &SiteIndex, d: &DenseTable, probe: &[usize]) -> Wanted {
    let Some(dir) = index.dense.borrow().ranged.dir.clone() else { return Wanted::default() };
    let parts: Vec<usize> = probe
        .iter()
        .copied()
        .filter(|&p| dir.parts[p].rows > 0 && index.dense.borrow().ranged.coarse(p).is_none())
        .collect();
    let spans = parts
        .iter()
        .map(|&p| {
            let part = &dir.parts[p];
            let start = part.start;
            Span { path: d.files[part.file as usize].clone(), start, end: start + u64::from(part.coarse) }
        })
        .collect();
    Wanted { parts, spans }
}

/// Checks and keeps the coarse rows `got` (the bytes of `w.spans`, in order).
pub(super) fn store_coarse(index: &SiteIndex, d: &DenseTable, w: &Wanted, got: Vec<Vec<u8>>) -> Result<()> {
    let Some(dir) = index.dense.borrow().ranged.dir.clone() else { return Ok(()) };
    for ((&p, span), bytes) in w.parts.iter().zip(&w.spans).zip(got) {
        let coarse = open_coarse(&span.path, p, &dir.parts[p], d.dim, &bytes, index.table().chunks)?;
        index.dense.borrow_mut().ranged.coarse[p] = Some(Rc::new(coarse));
    }
    Ok(())
}

/// Checks and splits the coarse rows of partition `p` read from `path`.
fn open_coarse(path: &str, p: usize, part: &Part, dim: usize, bytes: &[u8], chunks: usize) -> Result<Coarse> {
    let rows = part.rows as usize;
    if bytes.len() != part.coarse as usize || xxhash_rust::xxh3::xxh3_64(bytes) != part.check {
        return Err(Error::format(
            path,
            format!(
                "IVF partition {p}: its {} bytes of coarse rows (expected {}) do not match the directory: {DAMAGED}",
                bytes.len(),
                part.coarse
            ),
        ));
    }
    // The bytes are the writer's (their xxh3 is the directory's): what follows only guards
    // against a writer bug, with the same kind of error.
    let bad = |what: String| Error::format(path, format!("IVF partition {p}: {what}"));
    let mut ids = Vec::with_capacity(rows);
    let mut at = 0;
    for _ in 0..rows {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = *bytes.get(at).ok_or_else(|| bad("its ids run past its coarse rows".into()))?;
            at += 1;
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 || shift > 28 {
                break;
            }
        }
        let id = match ids.last() {
            Some(&last) if v > 0 => u64::from(last) + v,
            None => v,
            _ => u64::MAX,
        };
        if id >= chunks as u64 {
            return Err(bad(format!("row id {id}, but ids ascend below {chunks}")));
        }
        ids.push(id as u32);
    }
    let cr = coarse_row(dim);
    if bytes.len() - at != rows * cr {
        return Err(bad(format!("{} bytes of rows after the ids, expected {}", bytes.len() - at, rows * cr)));
    }
    let mut c = Coarse {
        ids,
        norms: Vec::with_capacity(rows),
        aligns: Vec::with_capacity(rows),
        bits: Vec::with_capacity(rows * (cr - ROW_HEAD)),
    };
    for row in bytes[at..].chunks_exact(cr) {
        let norm = f32::from(u16::from_le_bytes([row[0], row[1]])) / 65535.0 * NORM_MAX;
        let align = f32::from(u16::from_le_bytes([row[2], row[3]])).max(1.0) / 65535.0;
        c.norms.push(norm);
        c.aligns.push(align);
        c.bits.extend_from_slice(&row[ROW_HEAD..]);
    }
    Ok(c)
}

/// The dense top-`k` `(chunk id, cosine)` of the probed partitions (their coarse rows loaded by
/// [`load_coarse`]): every row estimated from its sign code; the best [`RESCORE`] and those of
/// `also` (the lexical ranking's first [`LEXICAL_RESCORE`]) fetched as fine rows (one call) and
/// scored exactly as the flat scan does; the rest of the estimate's top `k` ranked among them by
/// the estimate, capped at the tenth exact score.
pub(super) async fn search<S: FragmentSource>(
    index: &SiteIndex,
    d: &DenseTable,
    src: &S,
    vector: &[f32],
    probe: &[usize],
    k: usize,
    also: &[u32],
) -> Result<Vec<(u32, f32)>> {
    let Some(dir) = index.dense.borrow().ranged.dir.clone() else { return Ok(Vec::new()) };
    let w = coarse_wanted(index, d, probe);
    if !w.spans.is_empty() {
        let got = index.fetch_ranges(src, &w.spans).await?;
        store_coarse(index, d, &w, got)?;
    }
    let exact = DenseQuery::new(vector, d.dim)?;
    let unit = normalise(vector);
    let sq = SignQuery::new(&unit);
    let code = signs::code_bytes(d.dim);
    // (estimate, id, partition, row)
    let mut est: Vec<(f32, u32, usize, usize)> = Vec::new();
    {
        let loaded = index.dense.borrow();
        for &p in probe {
            let Some(c) = loaded.ranged.coarse(p) else { continue };
            let (cs, cc) = dir.ivf.centroid(p);
            let q_c = signs::centroid_score(&unit, cs, cc);
            for (j, &id) in c.ids.iter().enumerate() {
                let e = sq.estimate(q_c, &c.bits[j * code..(j + 1) * code], c.norms[j], c.aligns[j]);
                est.push((e, id, p, j));
            }
        }
    }
    // The best `k` by estimate (ties by position); the best RESCORE of them and the rows of
    // `also` are rescored.
    let mut best: Vec<(u32, f32)> = est.iter().enumerate().map(|(i, e)| (i as u32, e.0)).collect();
    top(&mut best, k.max(RESCORE));
    let mut keep = vec![false; est.len()];
    best.iter().take(RESCORE).for_each(|&(i, _)| keep[i as usize] = true);
    let wanted: std::collections::HashSet<u32> = also.iter().copied().collect();
    est.iter().enumerate().filter(|(_, e)| wanted.contains(&e.1)).for_each(|(i, _)| keep[i] = true);
    let tail: Vec<(u32, f32)> =
        best.iter().filter(|&&(i, _)| !keep[i as usize]).map(|&(i, e)| (est[i as usize].1, e)).collect();
    // The rescored rows, kept in `est`'s order (by probed partition, then row), so rows adjacent
    // in a partition are adjacent here.
    let est: Vec<(f32, u32, usize, usize)> = est.into_iter().zip(keep).filter(|e| e.1).map(|e| e.0).collect();
    load_fine(index, d, &dir, src, &est).await?;
    let loaded = index.dense.borrow();
    let mut hits: Vec<(u32, f32)> = est
        .iter()
        .filter_map(|&(_, id, _, _)| loaded.ranged.fine(id).map(|r| (id, exact.score(r.1, &r.2))))
        .collect();
    crate::index::dense::sort_hits(&mut hits);
    // The other rows of the shortlist join by their estimate, capped at the tenth exact score:
    // fusion reads ranks, so a chunk ranked 80th by the flat scan should be about 80th here,
    // while the first ten and their scores (the gate reads the first and the tenth) stay exact.
    let cap = hits.get(9).or(hits.last()).map_or(1.0, |h| h.1);
    hits.extend(tail.into_iter().map(|(id, e)| (id, e.min(cap))));
    crate::index::dense::sort_hits(&mut hits);
    hits.truncate(k);
    Ok(hits)
}

/// Fetches, in one call, the fine rows of `rows` (estimate, id, partition, position; grouped by
/// partition, ascending positions within one) not loaded yet: a range per run of rows adjacent in their partition, each row checked against its coarse
/// row.
async fn load_fine<S: FragmentSource>(
    index: &SiteIndex,
    d: &DenseTable,
    dir: &Directory,
    src: &S,
    rows: &[(f32, u32, usize, usize)],
) -> Result<()> {
    let fr = fine_row(d.dim, d.located);
    let wanted: Vec<(usize, usize)> =
        rows.iter().filter(|r| index.dense.borrow().ranged.fine(r.1).is_none()).map(|r| (r.2, r.3)).collect();
    // Runs of adjacent rows: (partition, first row, rows). `rows` come by partition, then row.
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
            let start = part.start + u64::from(part.coarse) + (j * fr) as u64;
            Span { path: d.files[part.file as usize].clone(), start, end: start + (n * fr) as u64 }
        })
        .collect();
    let got = index.fetch_ranges(src, &spans).await?;
    let mut loaded = index.dense.borrow_mut();
    for ((&(p, j, n), span), bytes) in runs.iter().zip(&spans).zip(got) {
        let Some(coarse) = loaded.ranged.coarse(p).cloned() else { continue };
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
        let check = dir.parts[p].check;
        for (i, row) in bytes.chunks_exact(fr).enumerate() {
            let (row, sum) = row.split_at(fr - 4);
            if fine_check(row, check, j + i).to_le_bytes() != sum {
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
            let (row, place) = row.split_at(4 + d.dim);
            let codes: Vec<i8> = row[4..].iter().map(|&b| b as i8).collect();
            let id = coarse.ids[j + i];
            if d.located {
                let place = Place::from_bytes(place).ok_or_else(|| {
                    Error::format(&span.path, format!("IVF partition {p}: row {} has no place", j + i))
                })?;
                index.places.borrow_mut().insert(id, place);
            }
            if let Err(at) = loaded.ranged.fine.binary_search_by_key(&id, |f| f.0) {
                loaded.ranged.fine.insert(at, (id, scale, codes));
            }
        }
    }
    Ok(())
}
