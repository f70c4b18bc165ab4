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

use serde::{Deserialize, Serialize};

use super::table::{seal_fragment, FragmentKind, LexicalTable};
use super::Files;
use crate::index::bm25::{idf, saturate, Bm25};
use crate::{Error, Result};

/// Postings kept per term in a shard, at most (the best by BM25 impact).
pub const MAX_POSTINGS: usize = 4096;

/// Target size of a term shard in bytes: a shard is cut once it reaches this size. 2 KiB; raised
/// while more shards than the writer allows would result (doubling; with ranged text packs, to
/// just the size that fits). A shard exceeds it by at most one term (≤ [`MAX_POSTINGS`]
/// postings).
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
/// number of engine chunk `old` (`u32::MAX` for removed chunks). The shard size doubles from
/// [`SHARD_BYTES`] until the count fits, or, when `exact_fit`, becomes the size that just fits.
/// Returns the table and the files.
pub(super) fn write(
    bm25: &Bm25,
    ids: &[u32],
    max_shards: usize,
    exact_fit: bool,
) -> Result<(LexicalTable, Files)> {
    let (live_docs, _) = bm25.live_totals();
    let k1 = bm25.params().k1;
    let mut terms: Vec<(StoredTerm, usize)> = Vec::new();
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
        if rows.len() > MAX_POSTINGS {
            let w = idf(live_docs, df);
            let impact = |r: &(u32, f32)| saturate(w, r.1, k1);
            rows.sort_by(|a, b| impact(b).total_cmp(&impact(a)).then(a.0.cmp(&b.0)));
            rows.truncate(MAX_POSTINGS);
            rows.sort_by_key(|r| r.0);
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
    let total: usize = terms.iter().map(|t| t.1).sum();
    let max_shards = max_shards.max(1);
    let mut target = SHARD_BYTES;
    if exact_fit {
        target = target.max(total.div_ceil(max_shards));
    }
    while total / target > max_shards {
        target *= 2;
    }
    let mut table = LexicalTable { first: Vec::new(), files: Vec::new(), bytes: Vec::new() };
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
            if t.term.as_str() < lo
                || hi.is_some_and(|h| t.term.as_str() >= h)
                || last.is_some_and(|l| l >= t.term.as_str())
            {
                return Err(bad(format!("term {:?} is out of order or outside the shard's range", t.term)));
            }
            last = Some(&t.term);
            if (t.df as usize) < t.postings.len() || t.postings.is_empty() {
                return Err(bad(format!(
                    "term {:?} has {} postings but df {}",
                    t.term,
                    t.postings.len(),
                    t.df
                )));
            }
            let mut id: Option<u32> = None;
            let mut postings = Vec::with_capacity(t.postings.len());
            for &(d, tf) in &t.postings {
                if !(tf.is_finite() && tf >= 0.0) {
                    return Err(bad(format!("a posting of {:?} has the weight {tf}", t.term)));
                }
                let next = match id {
                    None => Some(d),
                    Some(p) if d > 0 => p.checked_add(d),
                    Some(_) => None,
                };
                match next.filter(|&n| (n as usize) < chunks) {
                    Some(n) => id = Some(n),
                    None => {
                        return Err(bad(format!(
                            "the postings of {:?} leave the {chunks} chunks or repeat one",
                            t.term
                        )))
                    }
                }
                postings.push((id.unwrap_or_default(), tf));
            }
            terms.push(Term { term: t.term.clone(), df: t.df, postings });
        }
        Ok(Shard { terms })
    }

    /// The entry of `term`, if the shard has it.
    pub(super) fn get(&self, term: &str) -> Option<&Term> {
        self.terms.binary_search_by(|t| t.term.as_str().cmp(term)).ok().map(|i| &self.terms[i])
    }

    /// The term of this shard at edit distance 1 from `term` (one insertion, deletion,
    /// substitution or swap of adjacent characters) with the highest document frequency; ties
    /// by byte order.
    pub(super) fn nearest(&self, term: &str) -> Option<&Term> {
        let q: Vec<char> = term.chars().collect();
        self.terms.iter().filter(|t| one_edit(&q, &t.term)).fold(None, |best: Option<&Term>, t| match best {
            Some(b) if b.df >= t.df => Some(b),
            _ => Some(t),
        })
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

/// Whether `b` is exactly one edit away from `a` (insertion, deletion, substitution, or swap of
/// two adjacent characters).
pub(crate) fn one_edit(a: &[char], b: &str) -> bool {
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > 1 {
        return false;
    }
    let p = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if n == m {
        if p == n {
            return false;
        }
        let s = a[p + 1..] == b[p + 1..];
        let swap = p + 1 < n && a[p] == b[p + 1] && a[p + 1] == b[p] && a[p + 2..] == b[p + 2..];
        s || swap
    } else if n > m {
        a[p + 1..] == b[p..]
    } else {
        a[p..] == b[p + 1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_covers_each_kind_of_typo_and_nothing_more() {
        let a: Vec<char> = "borrow".chars().collect();
        for b in ["borow", "borrrow", "barrow", "obrrow", "borrwo", "borro", "orrow"] {
            assert!(one_edit(&a, b), "{b}");
        }
        for b in ["borrow", "bor", "brrwo", "xxrrow", "borrowed"] {
            assert!(!one_edit(&a, b), "{b}");
        }
    }
}
