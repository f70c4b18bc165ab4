//! Text fragments: the records of consecutive chunks, grouped by page.
//!
//! A pack holds the chunks `[first[i], first[i+1])` of the manifest's [`TextTable`]: per chunk its
//! `url#anchor`, page title, heading path and text, and no chunk id, so an unchanged run of pages
//! gives the same pack bytes (and name) whatever changed before it.
//!
//! Boundaries are content-defined: a pack ends, once it holds at least [`PACK_MIN`] bytes, after a
//! page whose url hashes to 0 mod 4, or inside a page after a chunk whose `url#anchor` hashes to 0
//! mod 8; and before a chunk that would take it past [`PACK_MAX`]. An edit to one page thus
//! changes its pack and at most the packs up to the next cut that depends only on unchanged
//! chunks, also inside a long page. Both sizes double while more
//! than [`MAX_PACKS`] packs would result.
//!
//! # Ranged packs (large sites)
//! Where whole packs would outgrow [`PACK_MAX`] (more than about 2.4 MB of text, a few thousand
//! chunks), a question would fetch hundreds of kilobytes of text for ten hits. There the packs are
//! *ranged* ([`FragmentKind::RangedText`]): large files ([`RANGED_PACK_MIN`]–[`RANGED_PACK_MAX`])
//! read one record at a time with HTTP range requests. Layout after the 9-byte fragment header:
//! the record count `n` (u32 LE), then `n` entries of (end offset of the record in the record
//! area, u32 LE; low 32 bits of the xxh3-64 of the record's bytes xor the pack's seed,
//! u32 LE), then the record area: each record postcard-encoded. Entry `j` is at a position
//! computed from `j` alone, so a reader fetches the entries of its hits (8–16 bytes each), then
//! their records, each checked against its entry's hash. The file's name is still the xxh3 of
//! the whole file; the seed (the xxh3 of the record area) is in the manifest, so a record checks
//! only against this build's manifest.

use serde::{Deserialize, Serialize};

use super::table::{
    open_fragment, seal_body, seal_fragment, FragmentKind, TextTable, DAMAGED, FRAGMENT_HEADER,
};
use super::Files;
use crate::{Error, Result};

/// Bytes after which a pack may end at a page boundary chosen by the page's url. 2 KiB.
pub const PACK_MIN: usize = 2 * 1024;

/// Bytes at which a pack ends whatever the page (a chunk is never split, so a pack exceeds it
/// only when a single chunk does). 6 KiB.
pub const PACK_MAX: usize = 6 * 1024;

/// Packs per index, at most about this many (see [`super::MAX_SHARDS`]).
pub const MAX_PACKS: usize = 600;

/// Bytes after which a ranged pack may end at a page boundary. 512 KiB.
pub const RANGED_PACK_MIN: usize = 512 * 1024;

/// Bytes at which a ranged pack ends whatever the page. 2 MiB.
pub const RANGED_PACK_MAX: usize = 2 * 1024 * 1024;

/// Ranged packs per index, at most about this many: both sizes double above it.
pub const MAX_RANGED_PACKS: usize = 100;

/// Whether the text is cut into ranged packs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Ranges {
    /// Ranged when whole packs would be larger than [`PACK_MAX`] (default).
    #[default]
    Auto,
    /// Always ranged (a host that serves range requests; tests of the ranged path).
    Always,
    /// Never ranged (a host without range requests): packs grow with the site.
    Never,
}

impl Ranges {
    /// Parses `auto`, `always` or `never`.
    pub fn parse(s: &str) -> Result<Ranges> {
        match s {
            "auto" => Ok(Ranges::Auto),
            "always" => Ok(Ranges::Always),
            "never" => Ok(Ranges::Never),
            _ => Err(Error::invalid("ranges", format!("expected auto, always or never, got {s:?}"))),
        }
    }
}

/// Bytes of the count before a ranged pack's entries.
const COUNT: usize = 4;
/// Bytes of one entry of a ranged pack (end offset, hash).
const ENTRY: usize = 8;

/// One chunk as a text pack stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Record {
    /// `url#anchor` of the chunk.
    pub url: String,
    /// The page title.
    pub title: String,
    /// The heading path, ` > `-joined.
    pub heading: String,
    /// The chunk text.
    pub text: String,
}

impl Record {
    fn size(&self) -> usize {
        self.url.len() + self.title.len() + self.heading.len() + self.text.len() + 8
    }
}

/// Where a record of a ranged pack lies, as a term's postings carry it so that a question reads
/// its best hits' records without reading their entries first: the record's byte range in its
/// pack's record area and its check (the entry's hash, little-endian). The pack is the chunk's,
/// from the manifest.
///
/// It also carries what [`crate::retrieve::select`] decides by, as chunk ids, so a reader drops
/// the hits that repeat a section, a text or a full page before reading any text: each is the
/// distance back from this chunk to the first live chunk (lowest id) with the same `url#anchor`
/// (`section`), the same page (the url before `#`, `page`) and the same text (`twin`, by its
/// xxh3-64, as the selection compares texts); `0` when this chunk is that first one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Place {
    /// Offset of the record in the pack's record area, bytes.
    pub start: u32,
    /// Its length, bytes.
    pub len: u32,
    /// The record's check, as its entry holds it.
    pub hash: [u8; 4],
    /// Chunks back to the first with this chunk's `url#anchor`.
    pub section: u32,
    /// Chunks back to the first of this chunk's page.
    pub page: u32,
    /// Chunks back to the first with this chunk's text.
    pub twin: u32,
}

impl Place {
    /// Bytes of a place in fixed-width form (a fine IVF row): six u32 LE.
    pub const BYTES: usize = 24;

    /// The fixed-width form: start, len, hash, section, page, twin (u32 LE each).
    pub fn to_bytes(self) -> [u8; Place::BYTES] {
        let mut out = [0; Place::BYTES];
        let words = [self.start, self.len, u32::from_le_bytes(self.hash), self.section, self.page, self.twin];
        for (slot, w) in out.chunks_exact_mut(4).zip(words) {
            slot.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Reads [`Place::to_bytes`]'s form; `None` unless `bytes` is [`Place::BYTES`] long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Place> {
        if bytes.len() != Place::BYTES {
            return None;
        }
        let w = |i: usize| {
            u32::from_le_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]])
        };
        Some(Place {
            start: w(0),
            len: w(1),
            hash: w(2).to_le_bytes(),
            section: w(3),
            page: w(4),
            twin: w(5),
        })
    }

    /// Chunk `id`'s selection keys: the first chunks of its section, page and text (`None` when
    /// a distance reaches past chunk 0, which a sound index never writes).
    pub fn keys(&self, id: u32) -> Option<Keys> {
        Some(Keys {
            section: id.checked_sub(self.section)?,
            page: id.checked_sub(self.page)?,
            text: id.checked_sub(self.twin)?,
        })
    }
}

/// A chunk's section, page and text, each named by the first live chunk that has it: two chunks
/// share one exactly when their keys are equal (see [`Place`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Keys {
    pub section: u32,
    pub page: u32,
    pub text: u32,
}

/// Each record's distances back to the first record with its section, page and text (see
/// [`Place`]), in order.
fn key_distances(records: &[(String, Record)]) -> Vec<[u32; 3]> {
    use std::collections::HashMap;
    let mut first: [HashMap<u64, u32>; 3] = Default::default();
    records
        .iter()
        .zip(0u32..)
        .map(|((_, r), id)| {
            let marks = crate::retrieve::Marks::of(&r.url, &r.text);
            let mut d = [0; 3];
            for ((slot, seen), mark) in
                d.iter_mut().zip(&mut first).zip([marks.section, marks.page, marks.text])
            {
                *slot = id - *seen.entry(mark).or_insert(id);
            }
            d
        })
        .collect()
}

/// Cuts `records` (live chunks in id order, each with its page url) into packs, ranged or whole
/// as `ranges` says. Ranged packs also give each chunk's [`Place`] (by chunk id; empty for
/// whole packs).
pub(super) fn write(
    records: Vec<(String, Record)>,
    ranges: Ranges,
) -> Result<(TextTable, Files, Vec<Place>)> {
    let total: usize = records.iter().map(|r| r.1.size()).sum();
    // Packs average about twice their minimum size.
    let scale = |min: usize, most: usize| {
        let mut scale = 1;
        while total / (2 * min * scale) > most {
            scale *= 2;
        }
        scale
    };
    let whole = scale(PACK_MIN, MAX_PACKS);
    let ranged = match ranges {
        Ranges::Auto => whole > 1,
        Ranges::Always => true,
        Ranges::Never => false,
    };
    let (min, max) = if ranged {
        let s = scale(RANGED_PACK_MIN, MAX_RANGED_PACKS);
        (RANGED_PACK_MIN * s, RANGED_PACK_MAX * s)
    } else {
        (PACK_MIN * whole, PACK_MAX * whole)
    };
    let mut table =
        TextTable { ranged, seeds: Vec::new(), first: Vec::new(), files: Vec::new(), bytes: Vec::new() };
    let mut files = Vec::new();
    let mut places = Vec::new();
    let mut pack: Vec<Record> = Vec::new();
    let mut size = 0;
    let mut next_id = 0u32;
    let mut flush = |pack: &mut Vec<Record>, size: &mut usize, end: u32| -> Result<()> {
        if pack.is_empty() {
            return Ok(());
        }
        let start = end - pack.len() as u32;
        let pack = std::mem::take(pack);
        let (name, bytes) = if ranged {
            let (name, bytes, seed) = seal_ranged(&pack, &mut places)?;
            table.seeds.push(format!("{seed:016x}"));
            (name, bytes)
        } else {
            seal_fragment(FragmentKind::Text, &pack)?
        };
        table.first.push(start);
        table.files.push(name.clone());
        table.bytes.push(bytes.len() as u64);
        files.push((name, bytes));
        *size = 0;
        Ok(())
    };
    let n = records.len();
    let distances = if ranged { key_distances(&records) } else { Vec::new() };
    let mut it = records.into_iter().peekable();
    let hash = |s: &str| xxhash_rust::xxh3::xxh3_64(s.as_bytes());
    while let Some((page, rec)) = it.next() {
        let s = rec.size();
        if size > 0 && size + s > max {
            flush(&mut pack, &mut size, next_id)?;
        }
        // A cut point after this chunk: the end of a page whose url hashes to 0 mod 4, or inside
        // a page, a chunk whose url#anchor hashes to 0 mod 8 (so cuts inside a long page do not
        // shift when an earlier page changes).
        let page_ends = it.peek().is_none_or(|(p, _)| *p != page);
        let cut = if page_ends { hash(&page) % 4 == 0 } else { hash(&rec.url) % 8 == 0 };
        pack.push(rec);
        size += s;
        next_id += 1;
        if (page_ends && size >= max) || (size >= min && cut) {
            flush(&mut pack, &mut size, next_id)?;
        }
    }
    flush(&mut pack, &mut size, next_id)?;
    assert_eq!(next_id as usize, n, "every chunk packed once");
    for (place, [section, page, twin]) in places.iter_mut().zip(distances) {
        *place = Place { section, page, twin, ..*place };
    }
    Ok((table, files, places))
}

/// The chunk range `[start, end)` of pack `i`.
pub(super) fn range(table: &TextTable, i: usize, chunks: usize) -> (u32, u32) {
    let end = table.first.get(i + 1).copied().unwrap_or(chunks as u32);
    (table.first[i], end)
}

/// The pack holding chunk `id`.
pub(super) fn pack_of(table: &TextTable, id: u32) -> usize {
    table.first.partition_point(|&f| f <= id).saturating_sub(1)
}

/// Decodes and checks pack `i` of `table` fetched as `path`: exactly one record per chunk of its
/// range. Errors name `path`.
pub(super) fn open(
    path: &str,
    bytes: &[u8],
    table: &TextTable,
    i: usize,
    chunks: usize,
) -> Result<Vec<Record>> {
    let records: Vec<Record> = open_fragment(path, bytes, table.bytes[i], FragmentKind::Text)?;
    let (start, end) = range(table, i, chunks);
    if records.len() != (end - start) as usize {
        return Err(Error::format(
            path,
            format!(
                "text pack {i} holds {} chunks, but the manifest gives it chunks {start}..{end}",
                records.len()
            ),
        ));
    }
    Ok(records)
}

/// The file bytes and name of a ranged pack holding `pack` (see the module's layout), and its
/// seed: the xxh3-64 of its record area, which the manifest keeps ([`TextTable::seeds`]) and
/// every record's check is mixed with. A reader reads only some entries and records, so the
/// file's name cannot be checked; the seed ties each record to this build's manifest instead: the
/// pack of another build served under this name (a cache that mixed two deploys) fails the
/// checks, however consistent it is in itself. Appends each record's [`Place`] to `places`.
fn seal_ranged(pack: &[Record], places: &mut Vec<Place>) -> Result<(String, Vec<u8>, u64)> {
    let n = u32::try_from(pack.len()).map_err(|_| Error::format("txt fragment", "too many records"))?;
    let mut area = Vec::new();
    let mut ends = Vec::with_capacity(pack.len() + 1);
    ends.push(0);
    for r in pack {
        let bytes = postcard::to_allocvec(r)
            .map_err(|e| Error::format("txt fragment", format!("cannot encode: {e}")))?;
        area.extend_from_slice(&bytes);
        ends.push(
            u32::try_from(area.len())
                .map_err(|_| Error::format("txt fragment", "a ranged pack over 4 GiB"))?,
        );
    }
    let seed = xxhash_rust::xxh3::xxh3_64(&area);
    let mut body = Vec::with_capacity(COUNT + ENTRY * pack.len() + area.len());
    body.extend_from_slice(&n.to_le_bytes());
    for w in ends.windows(2) {
        let hash = record_hash(&area[w[0] as usize..w[1] as usize], seed).to_le_bytes();
        body.extend_from_slice(&w[1].to_le_bytes());
        body.extend_from_slice(&hash);
        places.push(Place { start: w[0], len: w[1] - w[0], hash, section: 0, page: 0, twin: 0 });
    }
    body.extend_from_slice(&area);
    let (name, bytes) = seal_body(FragmentKind::RangedText, &body);
    Ok((name, bytes, seed))
}

/// The check a ranged pack keeps for each record: the low 32 bits of its xxh3-64 xor the pack's
/// seed (the plain xxh3 the module has anyway; xxh3's seeded variant would add its own code).
fn record_hash(bytes: &[u8], seed: u64) -> u32 {
    (xxhash_rust::xxh3::xxh3_64(bytes) ^ seed) as u32
}

/// Pack `i` of a ranged [`TextTable`], as the reader addresses it: its path, record count and
/// size come from the manifest.
#[derive(Debug, Clone, Copy)]
pub(super) struct RangedPack<'a> {
    pub path: &'a str,
    pub i: usize,
    /// Records in the pack.
    pub n: usize,
    /// The file's size in bytes.
    pub bytes: u64,
    /// The pack's seed from the manifest (see `seal_ranged`).
    seed: u64,
}

/// Where record `j` of a ranged pack lies in the record area, and its hash, read from its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Located {
    pub j: usize,
    pub start: u64,
    pub end: u64,
    hash: u32,
}

impl Located {
    /// Record `j` at the place a term's postings gave for it.
    pub fn at(j: usize, place: &Place) -> Located {
        let start = u64::from(place.start);
        Located { j, start, end: start + u64::from(place.len), hash: u32::from_le_bytes(place.hash) }
    }
}

impl<'a> RangedPack<'a> {
    /// Pack `i` of `table` (which must be ranged and checked: a seed per pack) for `chunks` live
    /// chunks.
    pub fn new(table: &'a TextTable, i: usize, chunks: usize) -> RangedPack<'a> {
        let (start, end) = range(table, i, chunks);
        let seed = u64::from_str_radix(&table.seeds[i], 16).unwrap_or_default();
        RangedPack { path: &table.files[i], i, n: (end - start) as usize, bytes: table.bytes[i], seed }
    }

    /// The runs of entries `[a, b]` to read for records `js` (ascending, each < n): each record
    /// needs its own entry and the one before it (its start), and runs that touch are merged.
    pub fn entry_runs(&self, js: &[usize]) -> Vec<(usize, usize)> {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for &j in js {
            let a = j.saturating_sub(1);
            match runs.last_mut() {
                Some(last) if a <= last.1 + 1 => last.1 = last.1.max(j),
                _ => runs.push((a, j)),
            }
        }
        runs
    }

    /// The byte range `[start, end)` of entries `a..=b` in the file.
    pub fn entries_span(&self, (a, b): (usize, usize)) -> (u64, u64) {
        let base = (FRAGMENT_HEADER + COUNT) as u64;
        (base + (a * ENTRY) as u64, base + ((b + 1) * ENTRY) as u64)
    }

    /// Offset of the record area in the file.
    fn area(&self) -> u64 {
        (FRAGMENT_HEADER + COUNT + ENTRY * self.n) as u64
    }

    /// The records among `js` whose entries are in `bytes` (the entries `a..=b` of `run`), located.
    /// Errors (naming the pack): the bytes are not the run's length, or an entry points outside
    /// the record area or before the previous record.
    pub fn locate(&self, run: (usize, usize), bytes: &[u8], js: &[usize]) -> Result<Vec<Located>> {
        let (s, e) = self.entries_span(run);
        self.check_length(s, e, bytes.len())?;
        let entry = |k: usize| -> (u64, u32) {
            let at = (k - run.0) * ENTRY;
            let word = |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
            (u64::from(word(at)), word(at + 4))
        };
        let limit = self.bytes.saturating_sub(self.area());
        let mut out = Vec::new();
        for &j in js.iter().filter(|&&j| (run.0..=run.1).contains(&j)) {
            let (end, hash) = entry(j);
            let start = if j == 0 { 0 } else { entry(j - 1).0 };
            if start > end || end > limit {
                return Err(Error::format(
                    self.path,
                    format!("ranged text pack {}: record {j} at bytes {start}..{end} of a record area of {limit}: {DAMAGED}", self.i),
                ));
            }
            out.push(Located { j, start, end, hash });
        }
        Ok(out)
    }

    /// The byte range of located records `first..=last` (consecutive in the file) as one span.
    pub fn records_span(&self, first: &Located, last: &Located) -> (u64, u64) {
        (self.area() + first.start, self.area() + last.end)
    }

    /// Decodes record `at` from `bytes`, the span starting at record `from`'s start: checks its
    /// hash and that it decodes whole. Errors name the pack and record.
    pub fn open(&self, from: &Located, at: &Located, bytes: &[u8]) -> Result<Record> {
        let lo = (at.start - from.start) as usize;
        let hi = (at.end - from.start) as usize;
        let Some(raw) = bytes.get(lo..hi) else {
            return Err(Error::format(
                self.path,
                format!("ranged text pack {}: record {} cut short: {DAMAGED}", self.i, at.j),
            ));
        };
        if record_hash(raw, self.seed) != at.hash {
            return Err(Error::format(
                self.path,
                format!(
                    "ranged text pack {}: record {} does not match its checksum: {DAMAGED}",
                    self.i, at.j
                ),
            ));
        }
        match postcard::take_from_bytes::<Record>(raw) {
            Ok((r, [])) => Ok(r),
            Ok((_, rest)) => Err(Error::format(
                self.path,
                format!("ranged text pack {}: {} trailing bytes after record {}", self.i, rest.len(), at.j),
            )),
            Err(e) => Err(Error::format(
                self.path,
                format!("ranged text pack {}: malformed record {}: {e}", self.i, at.j),
            )),
        }
    }

    /// Checks that a span `[start, end)` came back whole.
    pub fn check_length(&self, start: u64, end: u64, got: usize) -> Result<()> {
        if got as u64 != end - start || end > self.bytes {
            return Err(Error::format(
                self.path,
                format!(
                    "ranged text pack {} of {} bytes: asked for bytes {start}..{end}, got {got}: {DAMAGED}",
                    self.i, self.bytes
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(pages: usize, per_page: usize, text: usize) -> Vec<(String, Record)> {
        (0..pages)
            .flat_map(|p| {
                (0..per_page).map(move |c| {
                    let url = format!("p{p}.html");
                    let rec = Record {
                        url: format!("{url}#s{c}"),
                        title: format!("Page {p}"),
                        heading: format!("Section {c}"),
                        text: "word ".repeat(text / 5),
                    };
                    (url, rec)
                })
            })
            .collect()
    }

    #[test]
    fn auto_ranges_a_site_whose_whole_packs_would_outgrow_their_bounds() {
        // 1.2 MB of text: whole packs of 2–6 KiB fit in 600 packs.
        let (t, _, places) = write(records(300, 8, 500), Ranges::Auto).unwrap();
        assert!(places.is_empty(), "whole packs give no places");
        assert!(!t.ranged);
        // 3.6 MB: they would not; ranged packs of 512 KiB–2 MiB instead.
        let (t, files, places) = write(records(900, 8, 500), Ranges::Auto).unwrap();
        assert_eq!(places.len(), 900 * 8);
        assert!(t.ranged);
        assert!((2..=8).contains(&files.len()), "{} packs", files.len());
        assert!(files.iter().all(|f| f.1.len() <= RANGED_PACK_MAX + 4096));
        let (t, _, _) = write(records(900, 8, 500), Ranges::Never).unwrap();
        assert!(!t.ranged);
        let (t, _, _) = write(records(3, 2, 50), Ranges::Always).unwrap();
        assert!(t.ranged);
        assert!(Ranges::parse("sometimes").unwrap_err().to_string().contains("auto, always or never"));
    }

    #[test]
    fn a_ranged_pack_locates_and_checks_each_record() {
        let recs = records(4, 5, 60);
        let (t, files, places) = write(recs.clone(), Ranges::Always).unwrap();
        assert_eq!(files.len(), 1);
        let file = &files[0].1;
        let pack = RangedPack::new(&t, 0, recs.len());
        // A record read at its place (as a term's postings give it) without its entry.
        for (j, place) in places.iter().enumerate() {
            let loc = Located::at(j, place);
            let (s, e) = pack.records_span(&loc, &loc);
            assert_eq!(pack.open(&loc, &loc, &file[s as usize..e as usize]).unwrap(), recs[j].1);
        }
        let js = [0, 1, 7, 19];
        let runs = pack.entry_runs(&js);
        assert_eq!(runs, vec![(0, 1), (6, 7), (18, 19)]);
        for run in runs {
            let (s, e) = pack.entries_span(run);
            let locs = pack.locate(run, &file[s as usize..e as usize], &js).unwrap();
            for loc in &locs {
                assert_eq!(*loc, Located::at(loc.j, &places[loc.j]), "the entry and the place agree");
                let (s, e) = pack.records_span(loc, loc);
                let r = pack.open(loc, loc, &file[s as usize..e as usize]).unwrap();
                assert_eq!(r, recs[loc.j].1);
                let mut bad = file[s as usize..e as usize].to_vec();
                bad[0] ^= 1;
                let err = pack.open(loc, loc, &bad).unwrap_err().to_string();
                assert!(err.contains("does not match its checksum"), "{err}");
            }
            let err = pack.locate(run, &file[s as usize..e as usize - 1], &js).unwrap_err().to_string();
            assert!(err.contains("asked for bytes"), "{err}");
        }
    }
}
