//! Lexical fragments: BM25 postings sharded by sorted term range.
//!
//! A shard holds the terms in `[first[i], first[i+1])` of the manifest's [`LexicalTable`], each
//! with its exact live document frequency and its postings `(id delta, tf')` ascending by chunk
//! id, where `tf'` is the term's field-weighted, length-normalised frequency in the chunk (BM25F,
//! see [`crate::index::bm25`]) as the engine computes it: with `N` and `k1` from the manifest, a
//! shard alone scores exactly as [`Bm25::search`] does, whatever the field weights.
//!
//! A term with more than [`MAX_POSTINGS`] postings keeps only its best ones by BM25 impact (still
//! ascending by id): scores and ranks stay exact for corpora where no term is in more than 4096
//! chunks, and are approximate above (a chunk outside a term's best 4096 does not get that
//! term's score, and counts as not containing it for the gate's coverage).
//!
//! # Ranged term shards (large sites)
//! On a large site a shard fetched whole costs its every term for the one a question needs (at
//! 1M chunks ~110 kB a shard, eight shards a question). Where the text packs are ranged, the
//! shards are too ([`FragmentKind::RangedLexical`]): after the fragment header, the length of the
//! head (u32 LE) and its check (u32 LE: the low 32 bits of its xxh3-64 xor the shard's seed), the head (postcard: per term its text, df, the end of its postings in the body and
//! their check), then the body (each term's postings, postcard). The manifest gives each shard's
//! head length and seed (the xxh3-64 of the body), so a reader reads the heads of its terms' shards
//! (their vocabulary, for the typo correction, prefix lookup and the gate), then the postings of just the
//! terms it uses, each checked against this build's manifest.
//!
//! Since version 5 (the table's `located`) a term's postings in a ranged shard are followed by
//! the *places* of its best postings ([`LOCATED_POSTINGS`], by BM25 impact): where each of those
//! chunks' records lies in its ranged text pack, and its check. A question's best hits are
//! nearly always among the best postings of one of its terms, so their records are read straight
//! away, without first reading the pack entries that locate them: one fetch stage less.

use serde::{Deserialize, Serialize};

use super::table::{seal_body, seal_fragment, FragmentKind, LexicalTable, DAMAGED, FRAGMENT_HEADER};
use super::text::Place;
use super::Files;
use crate::index::bm25::{idf, saturate, Bm25};
use crate::{Error, Result};

/// Postings kept per term in a shard, at most (the best by BM25 impact).
pub const MAX_POSTINGS: usize = 4096;

/// Postings per term of a ranged shard that carry their record's [`Place`], at most: the term's
/// best by BM25 impact (all of them for a term in fewer chunks). About 14 bytes each, so at most
/// about 3.5 kB a term; a hit outside every query term's best (or a dense-only hit) is located
/// by its pack entry instead, one fetch stage later.
pub const LOCATED_POSTINGS: usize = 256;

/// Target size of a whole term shard in bytes: a shard is cut once it reaches this size. 2 KiB;
/// doubled while more than [`MAX_SHARDS`] shards would result. A shard exceeds it by at most one
/// term (≤ [`MAX_POSTINGS`] postings). Ranged shards are cut by term count instead.
pub const SHARD_BYTES: usize = 2 * 1024;

/// Shards per index, at most about this many with whole text packs: with about 600 text packs
/// and 1,024 IVF partitions, a folder holds about 2,000 fragments at most, whatever its size
/// ([`super::FILE_BUDGET`]). With ranged packs the shards may use what the packs leave.
pub const MAX_SHARDS: usize = 400;

/// One term of a shard as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredTerm {
    term: String,
    /// Live document frequency (exact, even when postings were cut to [`MAX_POSTINGS`]).
    df: u32,
    /// `(id delta, tf')`, ascending by id; the first delta is from 0.
    postings: Vec<(u32, f32)>,
}

/// A term shard as read: terms ascending, postings with absolute ids.
#[derive(Debug, Clone)]
pub(super) struct Shard {
    terms: Vec<Term>,
    /// A ranged shard's postings not read yet, per term: `Some((start, end, check))` (byte range
    /// in the file), `None` once read. Empty for a whole shard.
    pending: Vec<Option<(u64, u64, u32)>>,
    seed: u64,
    /// Whether a ranged shard's postings are followed by their places (the table's `located`).
    located: bool,
}

/// The places a term's postings carry: `(index delta, place)`, ascending by the posting's index
/// in the term's postings (the first delta from 0).
type Places = Vec<(u32, Place)>;

/// One term of a ranged shard's head.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HeadTerm {
    term: String,
    df: u32,
    /// End of the term's postings in the body (the start is the previous term's end).
    end: u32,
    /// Low 32 bits of the xxh3-64 of the postings' bytes xor the shard's seed.
    check: u32,
}

/// Bytes before a ranged shard's head: the fragment header, the head's length and check.
const HEAD_AT: usize = FRAGMENT_HEADER + 8;

/// The check of a ranged shard's head or postings: the low 32 bits of their xxh3-64 xor the
/// shard's seed.
fn check_of(bytes: &[u8], seed: u64) -> u32 {
    (xxhash_rust::xxh3::xxh3_64(bytes) ^ seed) as u32
}

/// One term of a read shard.
#[derive(Debug, Clone)]
pub(super) struct Term {
    /// The term (analyzed form).
    pub term: String,
    /// Live document frequency.
    pub df: u32,
    /// `(chunk id, tf')` ascending by id.
    pub postings: Vec<(u32, f32)>,
}

/// Cuts `bm25`'s live postings into about `max_shards` shards at most. `ids[old]` is the live
/// number of engine chunk `old` (`u32::MAX` for removed chunks). Whole shards: the size doubles
/// from [`SHARD_BYTES`] until the count fits. Ranged shards (`ranged`): cut by term count, about
/// `sqrt(11 · terms)` of them (what balances the heads a question reads against the manifest's
/// entry per shard), at most `max_shards`, their postings followed by the places of the
/// [`LOCATED_POSTINGS`] best when `places` (each live chunk's record place in the ranged text
/// packs) is not empty. Returns the table and the files.
pub(super) fn write(
    bm25: &Bm25,
    ids: &[u32],
    max_shards: usize,
    ranged: bool,
    places: &[Place],
) -> Result<(LexicalTable, Files)> {
    let (live_docs, _) = bm25.live_totals();
    let k1 = bm25.params().k1;
    let mut terms: Vec<(StoredTerm, usize)> = Vec::new();
    let mut located: Vec<Places> = Vec::new();
    for (term, live) in bm25.live_terms() {
        if live.is_empty() {
            continue;
        }
        let df = live.len() as u32;
        let mut rows: Vec<(u32, f32)> = live
            .into_iter()
            .map(|(old, tf)| (ids.get(old as usize).copied().unwrap_or(u32::MAX), tf))
            .filter(|r| r.0 != u32::MAX)
            .collect();
        let w = idf(live_docs, df);
        let impact = |r: &(u32, f32)| saturate(w, r.1, k1);
        let best_first = |rows: &mut Vec<(u32, f32)>| {
            rows.sort_by(|a, b| impact(b).total_cmp(&impact(a)).then(a.0.cmp(&b.0)));
        };
        if rows.len() > MAX_POSTINGS {
            best_first(&mut rows);
            rows.truncate(MAX_POSTINGS);
            rows.sort_by_key(|r| r.0);
        }
        if !places.is_empty() {
            let mut best = rows.clone();
            best_first(&mut best);
            best.truncate(LOCATED_POSTINGS);
            let mut at: Vec<u32> = best
                .iter()
                .filter_map(|b| rows.binary_search_by_key(&b.0, |r| r.0).ok())
                .map(|i| i as u32)
                .collect();
            at.sort_unstable();
            let mut prev = 0;
            let mut these = Vec::with_capacity(at.len());
            for i in at {
                let place = places.get(rows[i as usize].0 as usize).copied().ok_or_else(|| {
                    Error::format("lex fragment", "a posting of a chunk without a text record")
                })?;
                these.push((i - prev, place));
                prev = i;
            }
            located.push(these);
        }
        let mut prev = 0;
        let postings: Vec<(u32, f32)> = rows
            .into_iter()
            .map(|(id, tf)| {
                let d = id - prev;
                prev = id;
                (d, tf)
            })
            .collect();
        let size = varint(term.len() as u32)
            + term.len()
            + varint(df)
            + varint(postings.len() as u32)
            + postings.iter().map(|&(d, _)| varint(d) + 4).sum::<usize>();
        terms.push((StoredTerm { term: term.to_string(), df, postings }, size));
    }
    if ranged {
        return write_ranged(terms.into_iter().map(|t| t.0).collect(), located, max_shards);
    }
    let total: usize = terms.iter().map(|t| t.1).sum();
    let mut target = SHARD_BYTES;
    while total / target > max_shards.max(1) {
        target *= 2;
    }
    let mut table = LexicalTable::default();
    let mut files = Vec::new();
    let mut shard: Vec<StoredTerm> = Vec::new();
    let mut size = 0;
    let flush = |shard: &mut Vec<StoredTerm>, table: &mut LexicalTable, files: &mut Files| -> Result<()> {
        let first = if table.first.is_empty() { String::new() } else { shard[0].term.clone() };
        let (name, bytes) = seal_fragment(FragmentKind::Lexical, &std::mem::take(shard))?;
        table.first.push(first);
        table.files.push(name.clone());
        table.bytes.push(bytes.len() as u64);
        files.push((name, bytes));
        Ok(())
    };
    for (t, s) in terms {
        if size >= target {
            flush(&mut shard, &mut table, &mut files)?;
            size = 0;
        }
        shard.push(t);
        size += s;
    }
    // Always at least one shard, so every term has a shard to be looked up in.
    if !shard.is_empty() || table.files.is_empty() {
        flush(&mut shard, &mut table, &mut files)?;
    }
    Ok((table, files))
}

/// The ranged shards of `terms` (ascending), about `sqrt(11 · terms)` of them, at most
/// `max_shards`; each term's postings followed by its places when `located` has them (one list
/// per term).
fn write_ranged(
    terms: Vec<StoredTerm>,
    located: Vec<Places>,
    max_shards: usize,
) -> Result<(LexicalTable, Files)> {
    let n = terms.len();
    let shards = ((11.0 * n as f64).sqrt().ceil() as usize).clamp(1, max_shards.max(1));
    let per = n.div_ceil(shards).max(1);
    let has_places = !located.is_empty();
    let mut table = LexicalTable { ranged: true, located: has_places, ..LexicalTable::default() };
    let mut files = Vec::new();
    let mut groups: Vec<&[StoredTerm]> = terms.chunks(per).collect();
    if groups.is_empty() {
        groups.push(&[]);
    }
    let no_places = Places::new();
    for (g, group) in groups.into_iter().enumerate() {
        let mut body = Vec::new();
        let mut spans = Vec::with_capacity(group.len());
        for (k, t) in group.iter().enumerate() {
            let encoded = if has_places {
                let these = located.get(g * per + k).unwrap_or(&no_places);
                postcard::to_allocvec(&(&t.postings, these))
            } else {
                postcard::to_allocvec(&t.postings)
            };
            let bytes =
                encoded.map_err(|e| Error::format("lex fragment", format!("cannot encode postings: {e}")))?;
            let start = body.len();
            body.extend_from_slice(&bytes);
            spans.push((start, body.len()));
        }
        let seed = xxhash_rust::xxh3::xxh3_64(&body);
        let head: Vec<HeadTerm> = group
            .iter()
            .zip(&spans)
            .map(|(t, &(a, b))| -> Result<HeadTerm> {
                let end =
                    u32::try_from(b).map_err(|_| Error::format("lex fragment", "a shard over 4 GiB"))?;
                Ok(HeadTerm { term: t.term.clone(), df: t.df, end, check: check_of(&body[a..b], seed) })
            })
            .collect::<Result<_>>()?;
        let head = postcard::to_allocvec(&head)
            .map_err(|e| Error::format("lex fragment", format!("cannot encode the head: {e}")))?;
        let head_len =
            u32::try_from(head.len()).map_err(|_| Error::format("lex fragment", "a head over 4 GiB"))?;
        let mut all = Vec::with_capacity(8 + head.len() + body.len());
        all.extend_from_slice(&head_len.to_le_bytes());
        all.extend_from_slice(&check_of(&head, seed).to_le_bytes());
        all.extend_from_slice(&head);
        all.extend_from_slice(&body);
        let (name, bytes) = seal_body(FragmentKind::RangedLexical, &all);
        table.first.push(if g == 0 { String::new() } else { group[0].term.clone() });
        table.files.push(name.clone());
        table.bytes.push(bytes.len() as u64);
        table.heads.push(head_len);
        table.seeds.push(format!("{seed:016x}"));
        files.push((name, bytes));
    }
    Ok((table, files))
}

/// Bytes of a postcard varint.
fn varint(v: u32) -> usize {
    match v {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        0x4000..=0x1f_ffff => 3,
        0x20_0000..=0xfff_ffff => 4,
        _ => 5,
    }
}

/// The shard of the table holding `term`.
pub(super) fn shard_of(table: &LexicalTable, term: &str) -> usize {
    table.first.partition_point(|f| f.as_str() <= term).saturating_sub(1)
}

/// Shards past its own that a prefix's completions may reach, at most.
pub(super) const PREFIX_SHARDS: usize = 3;

/// The shards holding the terms that start with `prefix`: its own and the following ones whose
/// first term starts with it (a completion list can cross a shard's end), at most
/// [`PREFIX_SHARDS`] of those.
pub(super) fn prefix_shards(table: &LexicalTable, prefix: &str) -> std::ops::Range<usize> {
    let own = shard_of(table, prefix);
    let more =
        table.first.iter().skip(own + 1).take(PREFIX_SHARDS).take_while(|f| f.starts_with(prefix)).count();
    own..(own + 1 + more).min(table.first.len().max(1))
}

impl Shard {
    /// Decodes and checks shard `i` of `table` fetched as `path`: terms strictly ascending inside
    /// the shard's range, postings strictly ascending below `chunks` with a finite `tf'` ≥ 0
    /// (0 when every field holding the term weighs 0), `df` at least the number of postings. Errors name `path`.
    pub(super) fn open(
        path: &str,
        bytes: &[u8],
        table: &LexicalTable,
        i: usize,
        chunks: usize,
    ) -> Result<Shard> {
        let stored: Vec<StoredTerm> =
            super::table::open_fragment(path, bytes, table.bytes[i], FragmentKind::Lexical)?;
        let lo = table.first[i].as_str();
        let hi = table.first.get(i + 1).map(String::as_str);
        let bad = |reason: String| Error::format(path, format!("term shard {i}: {reason}"));
        let mut terms = Vec::with_capacity(stored.len());
        let mut last: Option<&str> = None;
        for t in &stored {
            if !in_order(&t.term, lo, hi, last) {
                return Err(bad(format!("term {:?} is out of order or outside the shard's range", t.term)));
            }
            last = Some(&t.term);
            let postings = absolute(&t.postings, t.df, chunks)
                .map_err(|reason| bad(format!("the postings of {:?}: {reason}", t.term)))?;
            terms.push(Term { term: t.term.clone(), df: t.df, postings });
        }
        Ok(Shard { terms, pending: Vec::new(), seed: 0, located: false })
    }

    /// The byte range of ranged shard `i`'s head (with the header and the head's length and
    /// check before it), as the manifest gives it.
    pub(super) fn head_span(table: &LexicalTable, i: usize) -> (u64, u64) {
        (0, HEAD_AT as u64 + u64::from(table.heads[i]))
    }

    /// Decodes and checks the head of ranged shard `i` fetched from `path` (`bytes`: its
    /// [`Shard::head_span`]): the header, the head's length and check against the manifest's,
    /// terms strictly ascending inside the shard's range, postings ends ascending within the
    /// file. The postings are read later ([`Shard::wanted`], [`Shard::fill`]).
    pub(super) fn open_head(path: &str, bytes: &[u8], table: &LexicalTable, i: usize) -> Result<Shard> {
        let bad = |reason: String| Error::format(path, format!("ranged term shard {i}: {reason}"));
        let (_, want) = Shard::head_span(table, i);
        if bytes.len() as u64 != want || want > table.bytes[i] {
            return Err(bad(format!(
                "asked for bytes 0..{want} of {}, got {}: {DAMAGED}",
                table.bytes[i],
                bytes.len()
            )));
        }
        if &bytes[..8] != super::FRAGMENT_MAGIC || bytes[8] != FragmentKind::RangedLexical as u8 {
            return Err(bad(format!("not a ranged term shard (header): {DAMAGED}")));
        }
        let word = |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let seed = u64::from_str_radix(&table.seeds[i], 16).unwrap_or_default();
        let head = &bytes[HEAD_AT..];
        if word(FRAGMENT_HEADER) != table.heads[i] || word(FRAGMENT_HEADER + 4) != check_of(head, seed) {
            return Err(bad(format!("the head does not match the manifest: {DAMAGED}")));
        }
        let stored: Vec<HeadTerm> = match postcard::take_from_bytes(head) {
            Ok((v, [])) => v,
            Ok((_, rest)) => return Err(bad(format!("{} trailing bytes after the head", rest.len()))),
            Err(e) => return Err(bad(format!("malformed head: {e}"))),
        };
        let lo = table.first[i].as_str();
        let hi = table.first.get(i + 1).map(String::as_str);
        let base = want;
        let mut terms = Vec::with_capacity(stored.len());
        let mut pending = Vec::with_capacity(stored.len());
        let mut last: Option<&str> = None;
        let mut start = 0u64;
        for t in &stored {
            if !in_order(&t.term, lo, hi, last) {
                return Err(bad(format!("term {:?} is out of order or outside the shard's range", t.term)));
            }
            last = Some(&t.term);
            let end = u64::from(t.end);
            if end <= start || base + end > table.bytes[i] {
                return Err(bad(format!(
                    "the postings of {:?} end at {end}, outside the file: {DAMAGED}",
                    t.term
                )));
            }
            pending.push(Some((base + start, base + end, t.check)));
            terms.push(Term { term: t.term.clone(), df: t.df, postings: Vec::new() });
            start = end;
        }
        Ok(Shard { terms, pending, seed, located: table.located })
    }

    /// The byte range of term `term`'s postings when they are still to be read.
    pub(super) fn wanted(&self, term: &str) -> Option<(usize, u64, u64)> {
        let i = self.terms.binary_search_by(|t| t.term.as_str().cmp(term)).ok()?;
        let (a, b, _) = self.pending.get(i).copied().flatten()?;
        Some((i, a, b))
    }

    /// Checks and keeps the postings of term `i` read from `path` (`bytes`, its range): the
    /// check against the head's, postings as [`Shard::open`] checks them. Returns the places
    /// they carry, by chunk id (see [`LOCATED_POSTINGS`]; none before version 5).
    pub(super) fn fill(
        &mut self,
        path: &str,
        i: usize,
        bytes: &[u8],
        chunks: usize,
    ) -> Result<Vec<(u32, Place)>> {
        let Some((a, b, check)) = self.pending.get(i).copied().flatten() else { return Ok(Vec::new()) };
        let t = &self.terms[i];
        let bad = |reason: String| Error::format(path, format!("the postings of {:?}: {reason}", t.term));
        if bytes.len() as u64 != b - a {
            return Err(bad(format!("asked for bytes {a}..{b}, got {}: {DAMAGED}", bytes.len())));
        }
        if check_of(bytes, self.seed) != check {
            return Err(bad(format!("do not match their check: {DAMAGED}")));
        }
        let decoded = if self.located {
            postcard::take_from_bytes::<(Vec<(u32, f32)>, Places)>(bytes)
        } else {
            postcard::take_from_bytes::<Vec<(u32, f32)>>(bytes).map(|(v, rest)| ((v, Vec::new()), rest))
        };
        let (deltas, places) = match decoded {
            Ok((v, [])) => v,
            _ => return Err(bad("malformed".into())),
        };
        let postings = absolute(&deltas, t.df, chunks).map_err(bad)?;
        let mut at = 0usize;
        let mut found = Vec::with_capacity(places.len());
        for (k, (d, place)) in places.into_iter().enumerate() {
            at = match at.checked_add(d as usize) {
                Some(n) if (k == 0 || d > 0) && n < postings.len() => n,
                _ => {
                    return Err(bad(format!(
                        "a place for posting {at} + {d} of {}: {DAMAGED}",
                        postings.len()
                    )))
                }
            };
            found.push((postings[at].0, place));
        }
        self.terms[i].postings = postings;
        self.pending[i] = None;
        Ok(found)
    }

    /// The entry of `term`, if the shard has it.
    pub(super) fn get(&self, term: &str) -> Option<&Term> {
        self.terms.binary_search_by(|t| t.term.as_str().cmp(term)).ok().map(|i| &self.terms[i])
    }

    /// Up to `n` terms of this shard starting with `prefix` (the exact term excluded), highest
    /// document frequency first, ties by byte order.
    pub(super) fn completions(&self, prefix: &str, n: usize) -> Vec<&Term> {
        let start = self.terms.partition_point(|t| t.term.as_str() < prefix);
        let mut out: Vec<&Term> = self.terms[start..]
            .iter()
            .take_while(|t| t.term.starts_with(prefix))
            .filter(|t| t.term != prefix)
            .collect();
        out.sort_by(|a, b| b.df.cmp(&a.df).then(a.term.cmp(&b.term)));
        out.truncate(n);
        out
    }
}

/// Whether `term` lies in a shard's range `[lo, hi)` and after the shard's previous term `last`.
fn in_order(term: &str, lo: &str, hi: Option<&str>, last: Option<&str>) -> bool {
    term >= lo && hi.is_none_or(|h| term < h) && last.is_none_or(|l| l < term)
}

/// Postings with absolute ids from `(id delta, tf')` as stored: at least one, at most `df`,
/// strictly ascending ids below `chunks`, finite weights ≥ 0 (0 when every field holding the
/// term weighs 0). The error says what is wrong.
fn absolute(deltas: &[(u32, f32)], df: u32, chunks: usize) -> std::result::Result<Vec<(u32, f32)>, String> {
    if (df as usize) < deltas.len() || deltas.is_empty() {
        return Err(format!("{} postings but df {df}", deltas.len()));
    }
    let mut id: Option<u32> = None;
    let mut postings = Vec::with_capacity(deltas.len());
    for &(d, tf) in deltas {
        if !(tf.is_finite() && tf >= 0.0) {
            return Err(format!("a posting has the weight {tf}"));
        }
        let next = match id {
            None => Some(d),
            Some(p) if d > 0 => p.checked_add(d),
            Some(_) => None,
        };
        let Some(n) = next.filter(|&n| (n as usize) < chunks) else {
            return Err(format!("they leave the {chunks} chunks or repeat one"));
        };
        id = Some(n);
        postings.push((n, tf));
    }
    Ok(postings)
}
