//! Common English words, as a compact set the gate stores with the index.
//!
//! Why: a question's word that the corpus lacks says "the docs do not cover this" only when the
//! word names something (a product, a protocol: "Kubernetes", "GraphQL"); an ordinary word a
//! reader happens to use ("tidy", "quickest") says nothing of the sort. The embedder's WordPiece
//! vocabulary tells them apart: MiniLM's holds about 21,700 whole words (common English, plus the
//! best-known names), and splits rarer words into pieces. The query-time side (the lean module
//! among them) has no tokenizer, so the index stores the set: a Bloom filter over the analyzed
//! forms of the vocabulary's whole words that the corpus itself does not contain (present terms
//! never reach the check), about 17 KB for MiniLM on the Cargo book (22 KB of base64).
//!
//! A false positive (about 1%) makes a rare missing word count as a plain one, which the
//! question's other evidence then judges; no false negatives.

use serde::{Deserialize, Serialize};

use crate::index::bm25::Bm25;
use crate::{Error, Result};

/// Bits per stored word: 10 (with [`HASHES`] hashes, about 1% false positives).
pub const BITS_PER_WORD: usize = 10;

/// Hash functions of the filter: 7.
pub const HASHES: u32 = 7;

/// The most words a filter holds: 120,000 (WordPiece vocabularies hold 20,000 to 30,000 whole
/// words, with an English word list beside them about 60,000 analyzed forms); from more, the first
/// 120,000 analyzed forms in sorted order are kept.
pub const MAX_WORDS: usize = 120_000;

/// A Bloom filter over analyzed terms (the BM25 analyzer's forms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommonWords {
    /// Hash functions per term ([`HASHES`]).
    pub hashes: u32,
    /// The filter's bits, little-endian bytes, in base64 (RFC 4648, with padding).
    pub bits: String,
    /// The decoded bits (not serialized).
    #[serde(skip)]
    decoded: Vec<u8>,
}

impl CommonWords {
    /// The filter of `words` (a vocabulary's whole words, e.g. WordPiece tokens without `##`):
    /// each word's analyzed form, when it has exactly one, of at least 2 letters, all alphabetic,
    /// and `keep` says so (the caller drops terms its corpus contains). `None` without such words.
    pub fn of<'a>(
        words: impl IntoIterator<Item = &'a str>,
        keep: impl Fn(&str) -> bool,
    ) -> Option<CommonWords> {
        let mut terms: Vec<String> = words
            .into_iter()
            .filter(|w| w.chars().count() >= 2 && w.chars().all(char::is_alphabetic))
            .filter_map(|w| {
                let mut a = Bm25::analyze(w);
                (a.len() == 1).then(|| a.pop()).flatten()
            })
            .filter(|t| keep(t))
            .collect();
        terms.sort_unstable();
        terms.dedup();
        terms.truncate(MAX_WORDS);
        if terms.is_empty() {
            return None;
        }
        let bytes = (terms.len() * BITS_PER_WORD).div_ceil(8).max(8);
        let mut bits = vec![0u8; bytes];
        for t in &terms {
            for i in positions(t, HASHES, bytes * 8) {
                bits[i / 8] |= 1 << (i % 8);
            }
        }
        Some(CommonWords { hashes: HASHES, bits: base64(&bits), decoded: bits })
    }

    /// Whether the analyzed `term` is (probably) a common word.
    pub fn contains(&self, term: &str) -> bool {
        let n = self.decoded.len() * 8;
        n > 0 && positions(term, self.hashes, n).all(|i| self.decoded[i / 8] & (1 << (i % 8)) != 0)
    }

    /// The filter's bits (little-endian bytes), as the fragment of a site folder stores them.
    pub fn raw_bits(&self) -> &[u8] {
        &self.decoded
    }

    /// A filter from `hashes` and its raw `bits` (a site folder's common-words fragment); `what`
    /// names the file. Errors as [`CommonWords::decoded`]'s.
    pub fn from_bits(hashes: u32, bits: Vec<u8>, what: &str) -> Result<CommonWords> {
        CommonWords { hashes, bits: base64(&bits), decoded: Vec::new() }.decoded(what)
    }

    /// Decodes [`CommonWords::bits`] after reading; `what` names the file. Errors: not base64,
    /// fewer than 8 bytes, or a number of hashes outside 1..=16.
    pub(crate) fn decoded(mut self, what: &str) -> Result<CommonWords> {
        let bad = |why: &str| Error::format(what, format!("section 'gate': the common words {why}"));
        if !(1..=16).contains(&self.hashes) {
            return Err(bad("have a number of hashes outside 1..=16"));
        }
        self.decoded = unbase64(&self.bits).ok_or_else(|| bad("are not base64"))?;
        if self.decoded.len() < 8 {
            return Err(bad("hold fewer than 8 bytes"));
        }
        Ok(self)
    }
}

/// The words of an English word list (one word a line, as Debian's `wamerican` writes
/// `/usr/share/dict/american-english`) that are common words: those written all in lower case
/// letters, of 2 letters or more. Capitalised entries ("Docker", "Kubernetes" if a list had them)
/// are names, and entries with an apostrophe ("cargo's") are possessives: both left out.
pub fn dictionary_words(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|w| w.chars().count() >= 2 && w.chars().all(|c| c.is_alphabetic() && c.is_lowercase()))
        .collect()
}

/// The `k` bit positions of `term` in a filter of `n` bits (double hashing over xxh3-64).
fn positions(term: &str, k: u32, n: usize) -> impl Iterator<Item = usize> {
    let h = xxhash_rust::xxh3::xxh3_64(term.as_bytes());
    let (a, b) = (h & 0xffff_ffff, (h >> 32) | 1);
    (0..u64::from(k)).map(move |i| (a.wrapping_add(i.wrapping_mul(b)) % n as u64) as usize)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for (j, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            out.push(if j <= c.len() { ALPHABET[(n >> shift) as usize & 63] as char } else { '=' });
        }
    }
    out
}

/// Decodes standard base64 with padding; `None` for anything else.
pub(crate) fn unbase64(text: &str) -> Option<Vec<u8>> {
    let s = text.as_bytes();
    if s.len() % 4 != 0 {
        return None;
    }
    let value = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32);
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (i, q) in s.chunks(4).enumerate() {
        let pad = q.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != s.len() / 4) {
            return None;
        }
        let mut n = 0u32;
        for &c in &q[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    Some(out)
}
