//! Token counting for chunk and prompt budgets.
//!
//! Owns: turning text into token spans with the embedder's `tokenizers` tokenizer (or any
//! `tokenizer.json` the caller gives for the target LLM; `models` feature), an approximate
//! counter for embedders without a tokenizer, and an estimate of MiniLM's WordPiece count for
//! builds without `tokenizers` (the lean wasm module). Offsets here are UTF-8 byte offsets into
//! the given text.
//! Must not: embed or truncate; the embedder applies its own length limit.

#[cfg(feature = "models")]
use std::sync::Arc;

#[cfg(feature = "models")]
use tokenizers::Tokenizer;

use crate::embed::Embedder;
#[cfg(feature = "models")]
use crate::Error;
use crate::Result;

/// Counts tokens and finds token boundaries.
#[derive(Clone)]
pub enum TokenCounter {
    /// A real tokenizer with padding and truncation switched off (so counts see every token).
    #[cfg(feature = "models")]
    Tokenizer(Arc<Tokenizer>),
    /// An approximation for embedders without a tokenizer (`hashing`, `vectors`): each run of
    /// letters/digits counts one token per started 6 characters; every other non-space
    /// character counts one token. It overestimates English word counts by ~10–30% compared with
    /// WordPiece, which errs on the safe side for budgets. Chunking with it decides the chunks
    /// of `hashing` and `vectors` indexes, so it never changes.
    Approx,
    /// An estimate of the MiniLM (BERT uncased WordPiece) count, for prompt budgets where the
    /// tokenizer is not loaded (the lean wasm module): it splits text as BERT's pre-tokenizer
    /// does (whitespace, one token per punctuation mark and per CJK character) and counts
    /// [`estimate_word`] tokens for each word. Calibrated against the real tokenizer on the
    /// project's corpora (the test `tokens::estimate_never_undercounts_minilm` measures it): it
    /// counts at least as many tokens as MiniLM on every chunk of them, and at most
    /// [`ESTIMATE_WORST_OVER`] times as many, so a prompt budgeted with it fits.
    Estimate,
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(feature = "models")]
            TokenCounter::Tokenizer(_) => f.write_str("TokenCounter::Tokenizer"),
            TokenCounter::Approx => f.write_str("TokenCounter::Approx"),
            TokenCounter::Estimate => f.write_str("TokenCounter::Estimate"),
        }
    }
}

impl TokenCounter {
    /// The counter for chunks and prompts of an index built by `embedder`: its tokenizer when it
    /// has one, else [`TokenCounter::Approx`].
    pub fn for_embedder(embedder: &dyn Embedder) -> Result<Self> {
        #[cfg(feature = "models")]
        if let Some(t) = embedder.tokenizer() {
            return Self::from_tokenizer(t);
        }
        let _ = embedder;
        Ok(TokenCounter::Approx)
    }

    /// A counter over a copy of `tokenizer` with padding and truncation removed.
    #[cfg(feature = "models")]
    pub fn from_tokenizer(tokenizer: &Tokenizer) -> Result<Self> {
        let mut t = tokenizer.clone();
        t.with_padding(None);
        t.with_truncation(None).map_err(|e| Error::Tokenizer { reason: e.to_string() })?;
        Ok(TokenCounter::Tokenizer(Arc::new(t)))
    }

    /// A counter from the bytes of a `tokenizer.json` (e.g. the target LLM's tokenizer).
    #[cfg(feature = "models")]
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let t = Tokenizer::from_bytes(bytes)
            .map_err(|e| Error::Tokenizer { reason: format!("tokenizer.json could not be read: {e}") })?;
        Self::from_tokenizer(&t)
    }

    /// Number of tokens in `text`, without special tokens.
    pub fn count(&self, text: &str) -> Result<usize> {
        Ok(match self {
            #[cfg(feature = "models")]
            TokenCounter::Tokenizer(_) => self.spans(text)?.len(),
            TokenCounter::Approx => approx_spans(text).len(),
            TokenCounter::Estimate => estimate_spans(text).len(),
        })
    }

    /// The byte span `(start, end)` of every token of `text`, in order, without special tokens.
    /// Spans never overlap and always fall on `char` boundaries.
    ///
    /// A real tokenizer reads the text in segments of at most [`SEGMENT_BYTES`] bytes, each
    /// ending just before a whitespace character (or, in a run without whitespace, at a char
    /// boundary): its normaliser keeps about 16 bytes of alignment data per input byte, so one
    /// call on a 50 MB line would need close to 1 GB. Tokens never span whitespace, so the
    /// segments give the spans the whole text would, except inside a run of more than 64 KiB
    /// without whitespace (which WordPiece reads as `[UNK]` either way).
    pub fn spans(&self, text: &str) -> Result<Vec<(usize, usize)>> {
        match self {
            TokenCounter::Approx => Ok(approx_spans(text)),
            TokenCounter::Estimate => Ok(estimate_spans(text)),
            #[cfg(feature = "models")]
            TokenCounter::Tokenizer(t) => {
                let mut out: Vec<(usize, usize)> = Vec::new();
                let mut base = 0;
                while base < text.len() {
                    let end = segment_end(text, base);
                    let segment = &text[base..end];
                    let enc =
                        t.encode(segment, false).map_err(|e| Error::Tokenizer { reason: e.to_string() })?;
                    out.reserve(enc.len());
                    for &(s, e) in enc.get_offsets() {
                        // Several tokens may map into one span (e.g. a character split into
                        // bytes); keep the spans monotonic and on char boundaries.
                        let (s, e) = (s.min(segment.len()), e.min(segment.len()));
                        if !segment.is_char_boundary(s) || !segment.is_char_boundary(e) || e < s {
                            continue;
                        }
                        let (s, e) = (base + s, base + e);
                        match out.last_mut() {
                            Some(last) if s < last.1 => last.1 = last.1.max(e),
                            _ => out.push((s, e)),
                        }
                    }
                    base = end;
                }
                Ok(out)
            }
        }
    }
}

/// The most bytes of text a real tokenizer is given at once (see [`TokenCounter::spans`]).
pub const SEGMENT_BYTES: usize = 64 * 1024;

#[cfg(feature = "models")]
/// Where the segment starting at `start` ends: the whole rest when it is short enough, else
/// before the last whitespace character in the next [`SEGMENT_BYTES`] bytes (past `start`), else
/// at the last char boundary within them.
fn segment_end(text: &str, start: usize) -> usize {
    if text.len() - start <= SEGMENT_BYTES {
        return text.len();
    }
    let mut limit = start + SEGMENT_BYTES;
    while !text.is_char_boundary(limit) {
        limit -= 1;
    }
    let window = &text[start..limit];
    match window.char_indices().rev().find(|&(i, c)| i > 0 && c.is_whitespace()) {
        Some((i, _)) => start + i,
        None => limit,
    }
}

/// How many pieces [`TokenCounter::Estimate`] sees in a word of `chars` characters, `digits`
/// of them ASCII digits (a word is a run without whitespace, punctuation or CJK characters):
/// one up to [`ESTIMATE_WHOLE_WORD`] characters (BERT's vocabulary holds most English words
/// whole), then one more per started [`ESTIMATE_CHARS_PER_PIECE`] characters (rare words and
/// identifiers split into `##` pieces); a word with two digits or more (numbers, versions,
/// hashes) one per started [`ESTIMATE_CHARS_PER_NUMBER_PIECE`] characters.
pub fn estimate_word(chars: usize, digits: usize) -> usize {
    if chars == 0 {
        0
    } else if digits >= 2 {
        chars.div_ceil(ESTIMATE_CHARS_PER_NUMBER_PIECE)
    } else if chars <= ESTIMATE_WHOLE_WORD {
        1
    } else {
        1 + (chars - ESTIMATE_WHOLE_WORD).div_ceil(ESTIMATE_CHARS_PER_PIECE)
    }
}

/// Characters of a word that [`estimate_word`] counts as one piece.
pub const ESTIMATE_WHOLE_WORD: usize = 8;
/// Characters per further piece of a longer word in [`estimate_word`].
pub const ESTIMATE_CHARS_PER_PIECE: usize = 5;
/// Characters per piece of a word with digits in [`estimate_word`].
pub const ESTIMATE_CHARS_PER_NUMBER_PIECE: usize = 2;
/// [`TokenCounter::Estimate`] counts `ceil(ESTIMATE_SCALE × pieces + ESTIMATE_BASE)` tokens for a
/// text of `pieces` pieces (0 for a text without any). On the calibration corpora (2,615 chunks
/// of docs/*.md, the fixture corpus and the Cargo book; the test
/// `tokens::estimate_never_undercounts_minilm`) the pieces alone undercount MiniLM by up to 30%
/// (ratio 0.697, on short chunks of command names such as `pkgid`); scale and base make the
/// lowest ratio 1.059, so about 6% of safety margin remains on the worst chunk. Overall the
/// estimate counts 1.29 times the real tokens.
pub const ESTIMATE_SCALE: f64 = 1.25;
/// See [`ESTIMATE_SCALE`].
pub const ESTIMATE_BASE: f64 = 8.0;
/// The most [`TokenCounter::Estimate`] overcounts MiniLM's tokenizer on a chunk of the
/// calibration corpora (ratio estimate / real; measured 1.94, on chunks of common long words):
/// the budget it may waste.
pub const ESTIMATE_WORST_OVER: f64 = 2.0;

/// Whether BERT's pre-tokenizer makes `c` a token of its own: ASCII punctuation and symbols,
/// general and CJK punctuation, CJK ideographs and full-width forms.
fn stands_alone(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    matches!(c as u32,
        0x2000..=0x206F // general punctuation (dashes, quotes, ellipsis)
        | 0x3000..=0x303F // CJK punctuation
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF
        | 0x20000..=0x2A6DF | 0x2A700..=0x2CEAF | 0x2F800..=0x2FA1F
        | 0xFF00..=0xFF65 // full-width forms
    ) || matches!(c, '¡' | '§' | '«' | '¶' | '·' | '»' | '¿')
}

/// The pieces [`estimate_word`] sees in `text`: byte spans, in order (a word's pieces are equal
/// runs of its characters; a punctuation mark or CJK character is one piece).
fn estimate_pieces(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut word: Vec<usize> = Vec::new(); // byte offsets of the current word's characters
    let mut digits = 0;
    let flush = |word: &mut Vec<usize>, digits: &mut usize, end: usize, out: &mut Vec<(usize, usize)>| {
        let n = estimate_word(word.len(), *digits);
        for p in 0..n {
            let s = word[p * word.len() / n];
            let e = if p + 1 == n { end } else { word[(p + 1) * word.len() / n] };
            out.push((s, e));
        }
        word.clear();
        *digits = 0;
    };
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            flush(&mut word, &mut digits, i, &mut out);
        } else if stands_alone(c) {
            flush(&mut word, &mut digits, i, &mut out);
            out.push((i, i + c.len_utf8()));
        } else {
            word.push(i);
            digits += usize::from(c.is_ascii_digit());
        }
    }
    flush(&mut word, &mut digits, text.len(), &mut out);
    out
}

/// Spans for [`TokenCounter::Estimate`]: `ceil(ESTIMATE_SCALE × pieces + ESTIMATE_BASE)` of
/// them, so that cutting a text at a span and counting the cut text agree. Piece `i` carries the
/// spans that bring the running total to `ceil(ESTIMATE_BASE + ESTIMATE_SCALE × (i + 1))`; one
/// carrying several is split at its characters, and spans it cannot split further are empty,
/// at its end.
fn estimate_spans(text: &str) -> Vec<(usize, usize)> {
    let pieces = estimate_pieces(text);
    let mut out = Vec::with_capacity(pieces.len() * 2 + ESTIMATE_BASE as usize);
    for (i, &(s, e)) in pieces.iter().enumerate() {
        let want = (ESTIMATE_BASE + ESTIMATE_SCALE * (i + 1) as f64).ceil() as usize;
        let m = want.saturating_sub(out.len());
        let bounds: Vec<usize> = text[s..e].char_indices().map(|(j, _)| s + j).collect();
        let n = m.min(bounds.len());
        for k in 0..n {
            let end = if k + 1 == n { e } else { bounds[(k + 1) * bounds.len() / n] };
            out.push((bounds[k * bounds.len() / n], end));
        }
        out.extend(std::iter::repeat_n((e, e), m - n));
    }
    out
}

/// Spans for [`TokenCounter::Approx`].
fn approx_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut run_start: Option<usize> = None;
    let mut run_chars = 0usize;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if run_start.is_none() {
                run_start = Some(i);
                run_chars = 0;
            }
            if run_chars == 6 {
                out.push((run_start.unwrap_or(i), i));
                run_start = Some(i);
                run_chars = 0;
            }
            run_chars += 1;
        } else {
            if let Some(s) = run_start.take() {
                out.push((s, i));
            }
            if !c.is_whitespace() {
                out.push((i, i + c.len_utf8()));
            }
        }
    }
    if let Some(s) = run_start {
        out.push((s, text.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approx_spans_split_long_words_and_punctuation() {
        let t = "Hello, wonderfully é!";
        let spans = approx_spans(t);
        let pieces: Vec<&str> = spans.iter().map(|&(s, e)| &t[s..e]).collect();
        assert_eq!(pieces, ["Hello", ",", "wonder", "fully", "é", "!"]);
    }

    #[test]
    fn estimate_pieces_follow_bert_pre_tokenization() {
        let t = "Run cargo_build, version 1.79.0 — 漢字 documentation!";
        let spans = estimate_pieces(t);
        let pieces: Vec<&str> = spans.iter().map(|&(s, e)| &t[s..e]).collect();
        // "documentation" (13 chars) is 1 + ceil(5 / 5) = 2 pieces; "1", "79", "0" are words
        // of fewer than two digits each.
        assert_eq!(
            pieces,
            [
                "Run", "cargo", "_", "build", ",", "version", "1", ".", "79", ".", "0", "—", "漢", "字",
                "docume", "ntation", "!"
            ]
        );
        assert_eq!(estimate_word(8, 0), 1);
        assert_eq!(estimate_word(9, 0), 2);
        assert_eq!(estimate_word(8, 8), 4); // a hex hash or a number: two characters a piece
    }

    #[test]
    fn estimate_counts_scaled_pieces_and_its_spans_agree() {
        let counter = TokenCounter::Estimate;
        assert_eq!(counter.count("").unwrap(), 0);
        assert_eq!(counter.count("   \n").unwrap(), 0);
        for t in ["a", "Hello, wonderfully é!", "x y z w v u t s r q p o n m l k j i h g f e d c b a"] {
            let pieces = estimate_pieces(t).len();
            let spans = counter.spans(t).unwrap();
            assert_eq!(
                spans.len(),
                (ESTIMATE_BASE + ESTIMATE_SCALE * pieces as f64).ceil() as usize,
                "{t:?}"
            );
            assert_eq!(counter.count(t).unwrap(), spans.len());
            // In order, never overlapping, on char boundaries.
            let mut at = 0;
            for &(s, e) in &spans {
                assert!(
                    s >= at && e >= s && t.is_char_boundary(s) && t.is_char_boundary(e),
                    "{t:?}: {spans:?}"
                );
                at = e;
            }
        }
        // Cutting after a span that whitespace follows (where prompt truncation cuts) and
        // counting the cut text gives exactly the spans before the cut.
        let t = "The quick brown fox jumps over the lazy dog near the riverbank, twice.";
        let spans = counter.spans(t).unwrap();
        let mut checked = 0;
        for cut in 1..spans.len() {
            let end = spans[cut - 1].1;
            if spans[cut].0 > end && t[end..spans[cut].0].contains(' ') {
                assert_eq!(counter.count(&t[..end]).unwrap(), cut, "cut after {:?}", &t[..end]);
                checked += 1;
            }
        }
        assert_eq!(checked, 12);
    }
}
