//! Token counting for chunk and prompt budgets.
//!
//! Owns: turning text into token spans with the embedder's `tokenizers` tokenizer (or any
//! `tokenizer.json` the caller gives for the target LLM), and an approximate counter for
//! embedders without a tokenizer. Offsets here are UTF-8 byte offsets into the given text.
//! Must not: embed or truncate; the embedder applies its own length limit.

use std::sync::Arc;

use tokenizers::Tokenizer;

use crate::{Error, Result};

/// Counts tokens and finds token boundaries.
#[derive(Clone)]
pub enum TokenCounter {
    /// A real tokenizer with padding and truncation switched off (so counts see every token).
    Tokenizer(Arc<Tokenizer>),
    /// An approximation for embedders without a tokenizer (`hashing`, `vectors`): each run of
    /// letters/digits counts one token per started 6 characters; every other non-space
    /// character counts one token. It overestimates English word counts by ~10–30% compared with
    /// WordPiece, which errs on the safe side for budgets.
    Approx,
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenCounter::Tokenizer(_) => f.write_str("TokenCounter::Tokenizer"),
            TokenCounter::Approx => f.write_str("TokenCounter::Approx"),
        }
    }
}

impl TokenCounter {
    /// A counter over a copy of `tokenizer` with padding and truncation removed.
    pub fn from_tokenizer(tokenizer: &Tokenizer) -> Result<Self> {
        let mut t = tokenizer.clone();
        t.with_padding(None);
        t.with_truncation(None).map_err(|e| Error::Tokenizer { reason: e.to_string() })?;
        Ok(TokenCounter::Tokenizer(Arc::new(t)))
    }

    /// A counter from the bytes of a `tokenizer.json` (e.g. the target LLM's tokenizer).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let t = Tokenizer::from_bytes(bytes)
            .map_err(|e| Error::Tokenizer { reason: format!("tokenizer.json could not be read: {e}") })?;
        Self::from_tokenizer(&t)
    }

    /// Number of tokens in `text`, without special tokens.
    pub fn count(&self, text: &str) -> Result<usize> {
        Ok(match self {
            TokenCounter::Tokenizer(_) => self.spans(text)?.len(),
            TokenCounter::Approx => approx_spans(text).len(),
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
}
