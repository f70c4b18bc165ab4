//! A reader's typo: the terms one edit from a word the corpus lacks ([`typo_terms`]), whether one
//! of them counts as what the reader meant ([`has_term`], the gate's term check), and which one
//! the lexical ranking reads instead ([`query_terms`]). One definition for the engine and the
//! fragments' reader, so both check and rank a mistyped question alike.

use super::{salient_terms, QueryTerm, Vocabulary};
use crate::index::bm25::{distinct, Bm25};

/// The fewest letters a reader's word needs before any one-edit spelling of it is tried as a
/// typo: 5. A word of [`TYPO_SWAP_LETTERS`] tries swaps of two adjacent letters only; a shorter
/// word is never a typo (one edit from a 3-letter word reaches too many other words).
pub const TYPO_MIN_LETTERS: usize = 5;

/// The length of a reader's word that is tried as a typo by swaps of two adjacent letters only
/// ("htlm" → "html"): 4.
pub const TYPO_SWAP_LETTERS: usize = 4;

/// The letters a typo may insert or substitute: `a` to `z` (an edit with another character
/// is not tried).
const TYPO_LETTERS: std::ops::RangeInclusive<char> = 'a'..='z';

/// The terms a reader may have meant by the absent term `t`, from the reader's word (lowercased,
/// letters `a` to `z` only) rather than from its analyzed form, because a typo can hide from the
/// stemmer ("warnigns" stems to "warnign", two edits from "warn" of "warnings"):
///
/// - `edits`: the analyzed forms of the spellings one edit away (a letter deleted, inserted or
///   substituted, or two adjacent letters swapped) that keep the first letter (readers rarely
///   mistype it; "imerge" is not "merge") and do not drop or replace the last (that gives
///   another form of the word: "sizer" is not "sized"), for words of [`TYPO_MIN_LETTERS`] or
///   more; swaps only for words of [`TYPO_SWAP_LETTERS`];
/// - `hyphens`: the word with one hyphen inside ("prebuilt" → "pre-built"), as the analyzer keeps
///   a compound whole.
///
/// Both sorted, without duplicates and without `t.term`.
pub fn typo_terms(t: &QueryTerm) -> TypoTerms {
    let word = t.surface.to_lowercase();
    let chars: Vec<char> = word.chars().collect();
    let mut out = TypoTerms::default();
    let n = chars.len();
    if n < TYPO_SWAP_LETTERS || !chars.iter().all(|c| TYPO_LETTERS.contains(c)) {
        return out;
    }
    let mut spellings: Vec<Vec<char>> = Vec::new();
    for i in 1..n - 1 {
        if chars[i] != chars[i + 1] {
            let mut v = chars.clone();
            v.swap(i, i + 1);
            spellings.push(v);
        }
    }
    if n >= TYPO_MIN_LETTERS {
        // Neither the last letter dropped nor replaced: that makes another form of the word
        // rather than a slip ("sizer" → "sized", "size"; "watcher" → "watched").
        for i in 1..=n {
            if i + 1 < n {
                let mut v = chars.clone();
                v.remove(i);
                spellings.push(v);
            }
            for c in TYPO_LETTERS {
                let mut v = chars.clone();
                v.insert(i, c);
                spellings.push(v);
                if i + 1 < n && c != chars[i] {
                    let mut v = chars.clone();
                    v[i] = c;
                    spellings.push(v);
                }
            }
        }
    }
    for v in spellings {
        let spelled: String = v.into_iter().collect();
        if let Some(term) = Bm25::analyze(&spelled).into_iter().next() {
            out.edits.push(term);
        }
    }
    out.edits.sort_unstable();
    out.edits.dedup();
    out.edits.retain(|e| *e != t.term);
    if n >= TYPO_MIN_LETTERS {
        // Of the word as written and of its analyzed form ("prebuilts" → "prebuilt").
        for w in [word.as_str(), t.term.as_str()] {
            if w.is_ascii() {
                out.hyphens
                    .extend((2..w.len().saturating_sub(1)).map(|i| format!("{}-{}", &w[..i], &w[i..])));
            }
        }
        out.hyphens.sort_unstable();
        out.hyphens.dedup();
    }
    out
}

/// The terms a reader may have meant by an absent term ([`typo_terms`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypoTerms {
    /// Analyzed forms of the spellings one edit away; one counts when its document frequency is
    /// at least [`typo_min_df`].
    pub edits: Vec<String>,
    /// The word with a hyphen inside; one counts when it occurs at all.
    pub hyphens: Vec<String>,
}

impl TypoTerms {
    /// Every term, edits first.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.edits.iter().chain(&self.hyphens).map(String::as_str)
    }

    /// Whether `vocab` has one of them, as a typo counts ([`TypoTerms::edits`],
    /// [`TypoTerms::hyphens`]).
    pub fn any_in(&self, vocab: &dyn Vocabulary) -> bool {
        let min = typo_min_df(vocab.live_docs());
        self.edits.iter().any(|e| vocab.df(e) >= min) || self.hyphens.iter().any(|h| vocab.df(h) > 0)
    }
}

/// The document frequency a term needs before a reader's word one edit from it counts as its
/// typo: a site's rare words are more often another word's neighbour by chance ("slack" →
/// "black", "commitlint" → "commitline") than what a reader mistyped. 1 in 500 chunks, within
/// 1..=8 (a site of under 1,000 chunks accepts any).
pub fn typo_min_df(live_docs: u32) -> u32 {
    (live_docs / 500).clamp(1, 8)
}

/// Whether the corpus has `t`: it occurs, or it is a typo of a term that does ([`typo_terms`]).
pub fn has_term(t: &QueryTerm, vocab: &dyn Vocabulary) -> bool {
    vocab.df(&t.term) > 0 || typo_terms(t).any_in(vocab)
}

/// The term the reader most likely meant by `t`: `None` when `t` occurs in `vocab` (a word the
/// corpus has is never read as another) or when none of its spellings counts as a typo
/// ([`TypoTerms::any_in`]). Of those that count, the one in the most chunks (the reader more
/// likely meant a word the site uses often); ties go to the first in byte order.
pub fn meant(t: &QueryTerm, vocab: &dyn Vocabulary) -> Option<String> {
    if vocab.df(&t.term) > 0 {
        return None;
    }
    let typos = typo_terms(t);
    let min = typo_min_df(vocab.live_docs());
    let edits = typos.edits.iter().map(|e| (e, vocab.df(e))).filter(|&(_, df)| df >= min);
    let hyphens = typos.hyphens.iter().map(|h| (h, vocab.df(h))).filter(|&(_, df)| df > 0);
    edits.chain(hyphens).max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).map(|(term, _)| term.clone())
}

/// The terms both lexical rankings (the engine's BM25 and the fragments' shards) score for
/// `query`: its distinct analyzed terms, in order, with each salient term the corpus lacks
/// ([`salient_terms`]) replaced by the term the reader meant ([`meant`]; kept as written when
/// there is none), and each term once. A query whose terms all occur is returned as analyzed.
/// The gate's coverage is over these terms too.
pub fn query_terms(query: &str, vocab: &dyn Vocabulary) -> Vec<String> {
    distinct(query_reading(query, vocab).into_iter().map(|(_, read)| read).collect())
}

/// Each distinct analyzed term of `query`, in order, with the term [`query_terms`] reads for
/// it (itself unless the corpus lacks it and the reader's word is a typo of a term it has).
pub fn query_reading(query: &str, vocab: &dyn Vocabulary) -> Vec<(String, String)> {
    let terms = distinct(Bm25::analyze(query));
    let mut salient: Option<Vec<QueryTerm>> = None;
    terms
        .into_iter()
        .map(|t| {
            if vocab.df(&t) > 0 {
                return (t.clone(), t);
            }
            let salient = salient.get_or_insert_with(|| salient_terms(query));
            let read = salient.iter().find(|q| q.term == t).and_then(|q| meant(q, vocab));
            let read = read.unwrap_or_else(|| t.clone());
            (t, read)
        })
        .collect()
}
