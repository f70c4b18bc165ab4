//! BM25F: the lexical index.
//!
//! Owns: the analyzer (lowercasing, splitting, stop words, light stemming, identifier parts),
//! the term dictionary and postings, BM25F scoring and the query-coverage measure the relevance
//! gate uses. Must not: fuse with dense results or decide relevance (that is `retrieve`).
//!
//! # Fields
//! A document (a chunk) has three fields: its page title, its heading path and its body text
//! ([`Field`]). BM25F (Robertson, Zaragoza and Taylor 2004; Zaragoza et al. 2004, "simple
//! BM25F") combines a term's frequencies in the fields *before* saturation:
//!
//! ```text
//! tf' = Σ_f  w_f · tf_f / (1 − b_f + b_f · len_f / avglen_f)
//! score = Σ_terms idf · tf' · (k1 + 1) / (k1 + tf')
//! ```
//!
//! so a query term in a short heading counts more than the same term once in a long body, yet a
//! term repeated in every field still saturates like one repeated in one field. With only a body
//! (titles and headings empty) this is exactly classic BM25. The document frequency counts a
//! document once whichever fields hold the term.
//!
//! # Storage
//! A `BTreeMap` from term to one postings list per field, so the postcard encoding is
//! deterministic (sorted terms, never hash order). Postings are `(doc id delta, term frequency)`
//! pairs in ascending id order; postcard writes them as varints, so most pairs take two bytes.
//! Documents are only appended ([`Bm25::push_fields`]), which keeps every posting list sorted;
//! [`Bm25::remove`] marks a document deleted. Document frequencies are counted over live
//! documents while the posting lists are read (they are read anyway to score), so deletions need
//! no rewrite of the postings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The fields of a document, in the order of every per-field array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The page title.
    Title = 0,
    /// The heading path of the chunk's section (` > `-joined).
    Heading = 1,
    /// The chunk text.
    Body = 2,
}

/// Number of fields ([`Field`]).
pub const FIELDS: usize = 3;

/// The text of one document, field by field.
#[derive(Debug, Clone, Copy, Default)]
pub struct FieldText<'a> {
    /// The page title.
    pub title: &'a str,
    /// The heading path.
    pub heading: &'a str,
    /// The body text.
    pub body: &'a str,
}

impl<'a> FieldText<'a> {
    /// A document that is only body text (no title, no headings).
    pub fn body(body: &'a str) -> Self {
        FieldText { title: "", heading: "", body }
    }

    fn parts(&self) -> [&'a str; FIELDS] {
        [self.title, self.heading, self.body]
    }
}

/// BM25F parameters. Stored in the index; they apply to every search of it.
///
/// The defaults were chosen by grid search on the development questions only (Cargo book, Sphinx
/// and git docs: `bench/eval/*-dev.jsonl`; `docs/tuning.md` has the grid and the numbers): a
/// heading match weighs four body occurrences, length normalisation is milder than classic BM25's
/// (b 0.4: the chunker already caps a chunk at 200 tokens) and saturation slower (k1 2.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Bm25Params {
    /// Term-frequency saturation. Default 2.0; range 0..=10: 0 ignores repeated terms entirely
    /// (only presence counts), large values make the score grow almost linearly with repeats.
    pub k1: f32,
    /// Length normalisation of the body. Default 0.4; range 0..=1: 0 ignores the body's length,
    /// 1 divides its term frequencies fully by its length relative to the average body.
    pub b: f32,
    /// Weight of a term occurrence in the page title, relative to one in the body (1.0).
    /// Default 0.5; range 0..=10 (0 ignores titles). Every chunk of a page carries its title,
    /// and the heading path usually starts with it too, so a high weight mostly favours whole
    /// pages over the section that answers.
    pub title_weight: f32,
    /// Length normalisation of the title, as `b` is for the body. Default 0.5; range 0..=1.
    pub title_b: f32,
    /// Weight of a term occurrence in the heading path, relative to one in the body (1.0).
    /// Default 4.0; range 0..=10 (0 ignores headings; high values let a heading match outrank
    /// any body text).
    pub heading_weight: f32,
    /// Length normalisation of the heading path, as `b` is for the body. Default 0.25; range
    /// 0..=1: at 1 a term in a one-word heading counts several times one in a long path.
    pub heading_b: f32,
}

impl Default for Bm25Params {
    fn default() -> Self {
        Bm25Params { k1: 2.0, b: 0.4, title_weight: 0.5, title_b: 0.5, heading_weight: 4.0, heading_b: 0.25 }
    }
}

impl Bm25Params {
    /// Checks the ranges documented on each field.
    pub fn validate(&self) -> Result<()> {
        let check = |name: &str, v: f32, max: f32| {
            if v.is_finite() && (0.0..=max).contains(&v) {
                Ok(())
            } else {
                Err(Error::invalid(name, format!("expected 0..={max}, found {v}")))
            }
        };
        check("bm25 k1", self.k1, 10.0)?;
        check("bm25 b", self.b, 1.0)?;
        check("bm25 title_weight", self.title_weight, 10.0)?;
        check("bm25 title_b", self.title_b, 1.0)?;
        check("bm25 heading_weight", self.heading_weight, 10.0)?;
        check("bm25 heading_b", self.heading_b, 1.0)
    }

    /// `(weight, b)` of each field, in [`Field`] order.
    fn fields(&self) -> [(f32, f32); FIELDS] {
        [(self.title_weight, self.title_b), (self.heading_weight, self.heading_b), (1.0, self.b)]
    }
}

/// Per-field values (term frequencies, lengths), in [`Field`] order.
pub type PerField<T> = [T; FIELDS];

/// A BM25F index over documents numbered 0, 1, 2, … in insertion order.
///
/// Deserialising one checks that its statistics and postings agree (`Bm25Parts`): a file is
/// untrusted, and a posting past the last document or live counts that disagree with the
/// deletions would make later pushes and removals underflow.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "Bm25Parts")]
pub struct Bm25 {
    params: Bm25Params,
    /// term → postings of each field.
    terms: BTreeMap<String, PerField<Postings>>,
    /// Analyzed length (tokens) of every field of every document, deleted ones included.
    doc_lens: Vec<PerField<u32>>,
    /// `deleted[id]`: removed with [`Bm25::remove`].
    deleted: Vec<bool>,
    /// Per field, the sum of the lengths of the live documents.
    live_tokens: PerField<u64>,
    /// Number of live documents.
    live_docs: u32,
}

/// [`Bm25`] as read from a file, checked by its `TryFrom`.
#[derive(Deserialize)]
struct Bm25Parts {
    params: Bm25Params,
    terms: BTreeMap<String, PerField<Postings>>,
    doc_lens: Vec<PerField<u32>>,
    deleted: Vec<bool>,
    live_tokens: PerField<u64>,
    live_docs: u32,
}

impl TryFrom<Bm25Parts> for Bm25 {
    type Error = String;

    fn try_from(p: Bm25Parts) -> std::result::Result<Self, String> {
        p.check().map_err(crate::format::invalid)
    }
}

impl Bm25Parts {
    /// Parameters in range; one deletion flag per document; live counts equal to the live
    /// documents and their lengths; every posting list strictly ascending, inside the documents,
    /// ending at its `last`.
    fn check(self) -> std::result::Result<Bm25, String> {
        if let Err(e) = self.params.validate() {
            return Err(format!("corrupted BM25: {e}"));
        }
        let n = self.doc_lens.len();
        if self.deleted.len() != n {
            return Err(format!(
                "corrupted BM25: {n} document lengths but {} deletion flags",
                self.deleted.len()
            ));
        }
        let live = self.deleted.iter().filter(|d| !**d).count();
        let mut tokens = [0u64; FIELDS];
        for (lens, _) in self.doc_lens.iter().zip(&self.deleted).filter(|(_, d)| !**d) {
            for f in 0..FIELDS {
                tokens[f] += u64::from(lens[f]);
            }
        }
        if live != self.live_docs as usize || tokens != self.live_tokens {
            return Err(format!(
                "corrupted BM25: {live} live documents of {tokens:?} tokens, but the header says {} of {:?}",
                self.live_docs, self.live_tokens
            ));
        }
        for (term, lists) in &self.terms {
            for p in lists {
                let mut id: Option<u32> = None;
                for &(delta, _) in &p.list {
                    let next = match id {
                        None => Some(delta),
                        Some(prev) if delta > 0 => prev.checked_add(delta),
                        Some(_) => None,
                    };
                    match next.filter(|&i| (i as usize) < n) {
                        Some(i) => id = Some(i),
                        None => {
                            return Err(format!(
                            "corrupted BM25: the postings of {term:?} leave the {n} documents or repeat one"
                        ))
                        }
                    }
                }
                if id.is_some_and(|i| i != p.last) {
                    return Err(format!(
                        "corrupted BM25: the postings of {term:?} end at {id:?}, not at {}",
                        p.last
                    ));
                }
            }
        }
        let Bm25Parts { params, terms, doc_lens, deleted, live_tokens, live_docs } = self;
        Ok(Bm25 { params, terms, doc_lens, deleted, live_tokens, live_docs })
    }
}

/// The documents containing one term in one field.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Postings {
    /// The id of the last document in `list` (where the next delta starts from).
    last: u32,
    /// `(id delta, tf)` in ascending id order; the first delta is from 0.
    list: Vec<(u32, u32)>,
}

/// A tiny English stop-word list: only words that carry no topic at all.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "if", "in", "into",
    "is", "it", "its", "of", "on", "or", "so", "that", "the", "their", "then", "there", "these", "this",
    "those", "to", "was", "were", "will", "with",
    // Question and pronoun words: frequent in questions, rare in documentation, so without
    // them an unanswerable-looking IDF mass would sit on words like "how" and "should".
    "am", "been", "being", "can", "could", "did", "do", "does", "how", "i", "me", "my", "our", "should", "we",
    "what", "when", "where", "which", "who", "why", "would", "you", "your",
];

/// Tokens longer than this (in bytes) are dropped: hashes, base64 and other blobs.
const MAX_TOKEN_BYTES: usize = 64;

impl Bm25 {
    /// Builds an index over `docs`, each only body text; document ids are their positions.
    pub fn build<'a>(docs: impl IntoIterator<Item = &'a str>, params: Bm25Params) -> Self {
        Self::build_fields(docs.into_iter().map(FieldText::body), params)
    }

    /// Builds an index over documents given field by field; document ids are their positions.
    pub fn build_fields<'a>(docs: impl IntoIterator<Item = FieldText<'a>>, params: Bm25Params) -> Self {
        let mut index = Bm25 {
            params,
            terms: BTreeMap::new(),
            doc_lens: Vec::new(),
            deleted: Vec::new(),
            live_tokens: [0; FIELDS],
            live_docs: 0,
        };
        for doc in docs {
            index.push_fields(doc);
        }
        index
    }

    /// Appends a document that is only body text; see [`Bm25::push_fields`].
    pub fn push(&mut self, doc: &str) -> u32 {
        self.push_fields(FieldText::body(doc))
    }

    /// Appends a document and returns its id (the number of documents pushed before it, deleted
    /// ones included). Statistics (document frequencies, average lengths) update at once.
    pub fn push_fields(&mut self, doc: FieldText<'_>) -> u32 {
        let id = self.doc_lens.len() as u32;
        let mut lens = [0u32; FIELDS];
        for (f, text) in doc.parts().into_iter().enumerate() {
            let tokens = Self::analyze(text);
            lens[f] = tokens.len() as u32;
            let mut counts: BTreeMap<String, u32> = BTreeMap::new();
            for t in tokens {
                *counts.entry(t).or_insert(0) += 1;
            }
            for (term, tf) in counts {
                let postings = &mut self.terms.entry(term).or_default()[f];
                let delta = if postings.list.is_empty() { id } else { id - postings.last };
                postings.list.push((delta, tf));
                postings.last = id;
            }
            self.live_tokens[f] += u64::from(lens[f]);
        }
        self.doc_lens.push(lens);
        self.deleted.push(false);
        self.live_docs += 1;
        id
    }

    /// Marks document `id` deleted: it is no longer returned and no longer counts in document
    /// frequencies or the average lengths. Removing an unknown or already removed id does nothing.
    pub fn remove(&mut self, id: u32) {
        let i = id as usize;
        if i < self.deleted.len() && !self.deleted[i] {
            self.deleted[i] = true;
            for f in 0..FIELDS {
                self.live_tokens[f] -= u64::from(self.doc_lens[i][f]);
            }
            self.live_docs -= 1;
        }
    }

    /// Number of live (not removed) documents.
    pub fn len(&self) -> usize {
        self.live_docs as usize
    }

    /// Whether there are no live documents.
    pub fn is_empty(&self) -> bool {
        self.live_docs == 0
    }

    /// Top-k documents by BM25F score, best first, ties by ascending id. Query terms not in the
    /// vocabulary are ignored; only documents containing at least one query term are returned.
    /// `k = 0` gives nothing.
    pub fn search(&self, query: &str, k: usize) -> Vec<(u32, f32)> {
        self.search_terms(&distinct(Self::analyze(query)), k)
    }

    /// [`Bm25::search`] over analyzed `terms` (each scored once, however often it is given): the
    /// engine ranks a query's terms as [`crate::gate::query_terms`] reads them.
    pub fn search_terms(&self, terms: &[String], k: usize) -> Vec<(u32, f32)> {
        if k == 0 || self.live_docs == 0 {
            return Vec::new();
        }
        let mut scores = vec![0f32; self.doc_lens.len()];
        let mut touched = Vec::new();
        for term in distinct(terms.to_vec()) {
            let live = self.live_weighted(&term);
            if live.is_empty() {
                continue;
            }
            let idf = idf(self.live_docs, live.len() as u32);
            // A posting whose fields all weigh 0 counts in the document frequency, not the score.
            for (id, tf) in live.into_iter().filter(|p| p.1 > 0.0) {
                let slot = &mut scores[id as usize];
                if *slot == 0.0 {
                    touched.push(id);
                }
                *slot += saturate(idf, tf, self.params.k1);
            }
        }
        let mut hits: Vec<(u32, f32)> = touched.into_iter().map(|id| (id, scores[id as usize])).collect();
        best_first(&mut hits, k);
        hits
    }

    /// Fraction (0..=1) of the query's IDF mass that document `id` contains (in any field): the
    /// sum of the idf of the distinct query terms present in the document over the sum of the idf
    /// of all distinct query terms. Terms unseen in the corpus count with the maximum idf (as if
    /// their document frequency were 0). Returns 0 for a query without terms and for an unknown
    /// or removed document. Used by the relevance gate.
    pub fn coverage(&self, query: &str, id: u32) -> f32 {
        self.coverage_terms(&distinct(Self::analyze(query)), id)
    }

    /// [`Bm25::coverage`] over analyzed `terms` (each counted once).
    pub fn coverage_terms(&self, terms: &[String], id: u32) -> f32 {
        let i = id as usize;
        if i >= self.deleted.len() || self.deleted[i] {
            return 0.0;
        }
        coverage_of(distinct(terms.to_vec()).into_iter().map(|term| {
            let live = self.live_postings(&term);
            (idf(self.live_docs, live.len() as u32), live.iter().any(|&(d, _)| d == id))
        }))
    }

    /// The live document frequency of an analyzed `term` (0 when absent). For the gate.
    pub(crate) fn doc_freq(&self, term: &str) -> u32 {
        self.live_postings(term).len() as u32
    }

    /// The parameters.
    pub(crate) fn params(&self) -> &Bm25Params {
        &self.params
    }

    /// Live documents and, per field, the sum of their analyzed lengths (BM25's N and the
    /// numerators of the average lengths).
    pub(crate) fn live_totals(&self) -> (u32, PerField<u64>) {
        (self.live_docs, self.live_tokens)
    }

    /// Every term in byte order with its `(id, tf')` postings over live documents, `tf'` the
    /// field-weighted, length-normalised frequency that [`saturate`] scores (terms whose
    /// documents were all removed come with an empty list).
    pub(crate) fn live_terms(&self) -> impl Iterator<Item = (&str, Vec<(u32, f32)>)> + '_ {
        self.terms.keys().map(|t| (t.as_str(), self.live_weighted(t)))
    }

    /// The `(id, tf')` postings of `term` for live documents (see [`Bm25::live_terms`]).
    fn live_weighted(&self, term: &str) -> Vec<(u32, f32)> {
        let fields = self.params.fields();
        let avg: [f32; FIELDS] = std::array::from_fn(|f| avgdl(self.live_tokens[f], self.live_docs));
        self.live_postings(term)
            .into_iter()
            .map(|(id, tf)| (id, weighted_tf(&tf, &self.doc_lens[id as usize], &avg, &fields)))
            .collect()
    }

    /// The `(id, tf of each field)` postings of `term` for live documents, ascending by id.
    fn live_postings(&self, term: &str) -> Vec<(u32, PerField<u32>)> {
        let Some(lists) = self.terms.get(term) else {
            return Vec::new();
        };
        let mut all: Vec<(u32, usize, u32)> = Vec::new();
        for (f, postings) in lists.iter().enumerate() {
            let mut id = 0u32;
            for (n, &(delta, tf)) in postings.list.iter().enumerate() {
                id = if n == 0 { delta } else { id.wrapping_add(delta) };
                // Ids beyond `doc_lens` can only come from a corrupted file: skip them.
                let live = !self.deleted.get(id as usize).copied().unwrap_or(true);
                if live && (id as usize) < self.doc_lens.len() {
                    all.push((id, f, tf));
                }
            }
        }
        all.sort_unstable();
        let mut out: Vec<(u32, PerField<u32>)> = Vec::with_capacity(all.len());
        for (id, f, tf) in all {
            match out.last_mut() {
                Some(last) if last.0 == id => last.1[f] = tf,
                _ => {
                    let mut tfs = [0; FIELDS];
                    tfs[f] = tf;
                    out.push((id, tfs));
                }
            }
        }
        out
    }

    /// The analyzer, shared by documents and queries.
    ///
    /// Lowercases; splits on anything that is not a letter, digit or `_` (unicode-aware), except
    /// that one `-`, `.`, `/`, `:` or a `::` between two word characters joins an identifier; drops a small
    /// English stop-word list; stems lightly (plural `-s`/`-es`/`-ies`, `-ing` leaving 3+
    /// letters, `-ed` leaving 4+, then a final `-e`; only purely ASCII-alphabetic words of four or
    /// more letters are stemmed). An identifier such
    /// as `cargo-build`, `Cargo.toml` or `snake_case` yields its parts (stop words dropped,
    /// stemmed) and then the whole identifier as written (lowercased, not stemmed). Tokens longer
    /// than 64 bytes are dropped. Scripts without spaces between words (Chinese, Japanese, and
    /// Korean, whose particles attach to words) are indexed as overlapping character pairs
    /// ([`push_cjk_bigrams`]). Invisible format characters ([`is_invisible`]) are removed first, so a
    /// zero-width space or a direction mark inside a word neither splits nor changes it.
    pub fn analyze(text: &str) -> Vec<String> {
        let lower = text.to_lowercase();
        let chars: Vec<char> = lower.chars().filter(|&c| !is_invisible(c)).collect();
        let is_word = |c: char| c.is_alphanumeric() || c == '_';
        let is_joiner = |c: char| matches!(c, '-' | '.' | '/' | ':');
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if !is_word(chars[i]) {
                i += 1;
                continue;
            }
            let start = i;
            loop {
                while i < chars.len() && is_word(chars[i]) {
                    i += 1;
                }
                // One joiner (or `::`) followed by a word character continues the identifier.
                let run = if chars.get(i..i + 2) == Some(&[':', ':'][..]) { 2 } else { 1 };
                let joins = chars.get(i).is_some_and(|&c| is_joiner(c))
                    && chars.get(i + run).is_some_and(|&c| is_word(c));
                if !joins {
                    break;
                }
                i += run;
            }
            let compound: String = chars[start..i].iter().collect();
            let parts: Vec<&str> =
                compound.split(|c: char| !c.is_alphanumeric()).filter(|p| !p.is_empty()).collect();
            for part in &parts {
                if push_cjk_bigrams(part, &mut out) {
                    continue;
                }
                if part.len() <= MAX_TOKEN_BYTES && !STOP_WORDS.contains(part) {
                    out.push(stem(part));
                }
            }
            let single = parts.len() == 1 && parts[0] == compound;
            if !single && !parts.is_empty() && compound.len() <= MAX_TOKEN_BYTES {
                out.push(compound);
            }
        }
        out
    }
}

/// Invisible format characters that search ignores: zero-width space, non-joiner and joiner
/// (U+200B..U+200D), the word joiner and invisible operators (U+2060..U+2064), the zero-width
/// no-break space / byte-order mark (U+FEFF), the soft hyphen (U+00AD), and the bidirectional
/// marks, embeddings, overrides and isolates (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069).
/// They change how text is displayed (or hide that two strings differ), never which word it is:
/// `pass\u{200B}word` is the word `password`, and a query made only of them is empty.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// `ln(1 + (N - df + 0.5) / (df + 0.5))` over `live_docs` live documents: always positive; a
/// term seen nowhere (`df = 0`) gets the largest value.
pub(crate) fn idf(live_docs: u32, df: u32) -> f32 {
    let n = live_docs as f32;
    let df = df as f32;
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// The average analyzed length of a field over the live documents, as every BM25F score uses
/// it (0 without live documents).
pub(crate) fn avgdl(live_tokens: u64, live_docs: u32) -> f32 {
    if live_docs == 0 {
        0.0
    } else {
        live_tokens as f32 / live_docs as f32
    }
}

/// A term's field-weighted, length-normalised frequency in one document (BM25F's `tf'`): over
/// the fields, `weight · tf / (1 − b + b · len / avg)`, with `(weight, b)` per field. A field
/// whose average length is 0 (no document has text there) is not normalised.
pub(crate) fn weighted_tf(
    tf: &PerField<u32>,
    len: &PerField<u32>,
    avg: &PerField<f32>,
    fields: &[(f32, f32); FIELDS],
) -> f32 {
    let mut sum = 0f32;
    for f in 0..FIELDS {
        if tf[f] == 0 {
            continue;
        }
        let (w, b) = fields[f];
        let norm = if avg[f] > 0.0 { 1.0 - b + b * len[f] as f32 / avg[f] } else { 1.0 };
        sum += w * tf[f] as f32 / norm;
    }
    sum
}

/// One term's BM25F contribution to a document's score from its `idf` and its weighted
/// frequency `tf` ([`weighted_tf`]): `idf · tf · (k1 + 1) / (k1 + tf)`.
pub(crate) fn saturate(idf: f32, tf: f32, k1: f32) -> f32 {
    if tf <= 0.0 {
        return 0.0;
    }
    idf * tf * (k1 + 1.0) / (k1 + tf)
}

/// Sorts `(id, score)` hits best first, ties by ascending id, and keeps the first `k`.
pub(crate) fn best_first(hits: &mut Vec<(u32, f32)>, k: usize) {
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    hits.truncate(k);
}

/// The coverage measure ([`Bm25::coverage`]) from each distinct query term's `(idf, whether the
/// document contains it)`: the idf mass present over the whole, 0 without terms.
pub(crate) fn coverage_of(terms: impl Iterator<Item = (f32, bool)>) -> f32 {
    let (mut have, mut total) = (0f32, 0f32);
    for (idf, present) in terms {
        total += idf;
        if present {
            have += idf;
        }
    }
    if total > 0.0 {
        (have / total).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Distinct values in first-seen order.
pub(crate) fn distinct(terms: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    terms.into_iter().filter(|t| seen.insert(t.clone())).collect()
}

/// Whether `c` is a Han ideograph, kana or a Hangul syllable: scripts written without spaces
/// between words (Korean has spaces, but particles and endings attach to the word).
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}' // hiragana, katakana
        | '\u{31F0}'..='\u{31FF}' // katakana extensions
        | '\u{3400}'..='\u{4DBF}' // Han extension A
        | '\u{4E00}'..='\u{9FFF}' // Han
        | '\u{AC00}'..='\u{D7AF}' // Hangul syllables
        | '\u{F900}'..='\u{FAFF}' // Han compatibility
        | '\u{FF66}'..='\u{FF9F}' // half-width katakana
        | '\u{20000}'..='\u{2FA1F}' // Han extensions B..F, compatibility supplement
    )
}

/// When `part` holds CJK characters, pushes its tokens to `out` and returns true: each run of
/// CJK characters as its overlapping character pairs (`検索する` → `検索`, `索す`, `する`; a run of
/// one character as itself), each other run as an ordinary token (stemmed, stop words dropped).
/// Without word boundaries a whole clause would be one token that no query matches; pairs make
/// any word of two or more characters findable (the approach of Lucene's CJK analyzer), at about
/// one token per character. Returns false (pushing nothing) for a part without CJK characters.
fn push_cjk_bigrams(part: &str, out: &mut Vec<String>) -> bool {
    if !part.chars().any(is_cjk) {
        return false;
    }
    let chars: Vec<char> = part.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let cjk = is_cjk(chars[i]);
        let start = i;
        while i < chars.len() && is_cjk(chars[i]) == cjk {
            i += 1;
        }
        let run = &chars[start..i];
        if !cjk {
            let word: String = run.iter().collect();
            if word.len() <= MAX_TOKEN_BYTES && !STOP_WORDS.contains(&word.as_str()) {
                out.push(stem(&word));
            }
        } else if run.len() == 1 {
            out.push(run[0].to_string());
        } else {
            out.extend(run.windows(2).map(|w| w.iter().collect::<String>()));
        }
    }
    true
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// Conservative English suffix stripping for lowercase ASCII-alphabetic words of 4+ letters.
fn stem(word: &str) -> String {
    if word.len() < 4 || !word.bytes().all(|c| c.is_ascii_lowercase()) {
        return word.to_string();
    }
    let mut w = word.to_string();
    // Plurals.
    if w.ends_with("ies") && w.len() > 4 {
        w.truncate(w.len() - 3);
        w.push('y');
    } else if w.ends_with("sses") {
        w.truncate(w.len() - 2);
    } else if w.ends_with("ss") || w.ends_with("us") || w.ends_with("is") {
        // class, status, analysis: not plurals.
    } else if w.ends_with("xes") || w.ends_with("zes") || w.ends_with("ches") || w.ends_with("shes") {
        w.truncate(w.len() - 2);
    } else if w.ends_with('s') {
        w.truncate(w.len() - 1);
    }
    // -ing / -ed, when a vowel-bearing stem of 3+ letters remains.
    for suffix in ["ing", "ed"] {
        if w.ends_with(suffix) && !(suffix == "ed" && w.ends_with("eed")) {
            let stem_len = w.len() - suffix.len();
            let base = &w.as_bytes()[..stem_len];
            // "embed", "shed": an -ed stem needs 4 letters; "running" needs 3.
            let min = if suffix == "ed" { 4 } else { 3 };
            if stem_len >= min && base.iter().any(|&c| is_vowel(c)) {
                w.truncate(stem_len);
                // running → run, embedded → embed; keep ll/ss/zz (install, pass) and short
                // stems (add).
                let b = w.as_bytes();
                let n = b.len();
                if n >= 4
                    && b[n - 1] == b[n - 2]
                    && !is_vowel(b[n - 1])
                    && !matches!(b[n - 1], b'l' | b's' | b'z')
                {
                    w.truncate(n - 1);
                }
            }
            break;
        }
    }
    // Final -e (cache/caches/cached/caching all become "cach"), but not -ee (free, tree).
    if w.len() >= 4 && w.ends_with('e') && !w.ends_with("ee") {
        w.truncate(w.len() - 1);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_agree_across_forms() {
        for group in [
            &["index", "indexes", "indexed", "indexing"][..],
            &["cache", "caches", "cached", "caching"],
            &["query", "queries"],
            &["run", "running"],
            &["embed", "embedded", "embedding", "embeddings"],
            &["file", "files"],
            &["match", "matches"],
        ] {
            let stems: Vec<String> = group.iter().map(|w| stem(w)).collect();
            assert!(stems.iter().all(|s| *s == stems[0]), "{group:?} → {stems:?}");
        }
        for keep in ["class", "status", "analysis", "string", "thing", "add", "need", "speed"] {
            let s = stem(keep);
            assert!(keep.starts_with(&s) && s.len() + 1 >= keep.len(), "{keep} → {s}");
        }
    }
}
