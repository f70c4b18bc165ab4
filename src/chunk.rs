//! Chunking: sections in, token-budgeted chunks out.
//!
//! Owns: cutting each [`Section`] into pieces of at most `max_tokens` tokens (counted with the
//! embedder's tokenizer) and at most `max_tokens ×` [`MAX_TOKEN_BYTES`] bytes, with
//! `overlap_tokens` of overlap, cutting only between words and preferring paragraph, line and
//! sentence breaks; giving every chunk its `url#anchor`, heading path and UTF-8 byte offsets into
//! its section. Must not: embed, index or rank.
//!
//! Design: `docs/design.md`, "From a page to a prompt", step 2.

use serde::{Deserialize, Serialize};

use crate::ingest::{Document, Section};
use crate::tokens::TokenCounter;
use crate::{Error, Result};

/// The longest token the chunker counts as one, in bytes. A longer token span counts one token
/// per started 64 bytes (cut at char boundaries). WordPiece maps a whole word of more than 100
/// characters to a single `[UNK]` token, so without this a 50 MB line without spaces would be one
/// "token" and one 50 MB chunk. A chunk also ends before it passes `max_tokens × 64` bytes from
/// its first token (text the tokenizer skips between tokens — long runs of spaces, control
/// characters — counts too), so no chunk exceeds that many bytes (12.8 kB at the default
/// budget). Real tokens are far shorter (WordPiece pieces and BPE tokens rarely pass 20 bytes),
/// so ordinary text is cut exactly as the tokenizer counts it.
pub const MAX_TOKEN_BYTES: usize = 64;

/// The token spans the chunker budgets with: `counter`'s spans of `text` (UTF-8 byte offsets),
/// with every span longer than [`MAX_TOKEN_BYTES`] cut into pieces of at most that many bytes
/// at char boundaries.
pub fn budget_spans(counter: &TokenCounter, text: &str) -> Result<Vec<(usize, usize)>> {
    let spans = counter.spans(text)?;
    if spans.iter().all(|&(s, e)| e - s <= MAX_TOKEN_BYTES) {
        return Ok(spans);
    }
    let mut out = Vec::with_capacity(spans.len());
    for (mut s, e) in spans {
        while e - s > MAX_TOKEN_BYTES {
            let mut cut = s + MAX_TOKEN_BYTES;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            out.push((s, cut));
            s = cut;
        }
        out.push((s, e));
    }
    Ok(out)
}

/// How documents are cut into chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChunkOptions {
    /// Maximum tokens of body text per chunk (the heading path is counted separately).
    /// Default 200; range 16..=2048. MiniLM reads at most 256 tokens, so values above ~230
    /// make its embeddings ignore the end of each chunk; small values (< 64) lose context.
    pub max_tokens: usize,
    /// Tokens repeated from the end of one chunk at the start of the next chunk of the same
    /// section, so a fact cut at a boundary appears whole in one of them. Default 32; must be
    /// less than half of `max_tokens`. 0 disables overlap.
    pub overlap_tokens: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        ChunkOptions { max_tokens: 200, overlap_tokens: 32 }
    }
}

impl ChunkOptions {
    /// Checks the ranges documented on each field.
    pub fn validate(&self) -> Result<()> {
        if !(16..=2048).contains(&self.max_tokens) {
            return Err(Error::invalid(
                "chunk max_tokens",
                format!("expected 16..=2048, found {}", self.max_tokens),
            ));
        }
        if self.overlap_tokens * 2 >= self.max_tokens {
            return Err(Error::invalid(
                "chunk overlap_tokens",
                format!(
                    "expected less than half of max_tokens ({}), found {}",
                    self.max_tokens, self.overlap_tokens
                ),
            ));
        }
        Ok(())
    }
}

/// A retrievable piece of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Index of the document this chunk belongs to, in the engine's document list.
    pub doc: u32,
    /// Index of the section within its document.
    pub section: u32,
    /// The document url plus `#anchor` of the section when it has one.
    pub url: String,
    /// The heading path joined with ` > `, e.g. `Ownership > The Stack and the Heap`; empty for
    /// text before the first heading.
    pub heading: String,
    /// The chunk text, a slice of the section text.
    pub text: String,
    /// UTF-8 byte offset of the chunk's first byte in its section's text.
    pub start: u32,
    /// UTF-8 byte offset one past the chunk's last byte in its section's text.
    pub end: u32,
}

impl Chunk {
    /// The text that is embedded: heading path (prefixed by the document title when the path
    /// does not already start with it), a newline, then the chunk text. BM25F indexes the same
    /// three parts as separate fields ([`Chunk::fields`]).
    pub fn indexed_text(&self, title: &str) -> String {
        let mut s = String::with_capacity(title.len() + self.heading.len() + self.text.len() + 4);
        if !title.is_empty() && !self.heading.starts_with(title) {
            s.push_str(title);
            if !self.heading.is_empty() {
                s.push_str(" > ");
            }
        }
        s.push_str(&self.heading);
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(&self.text);
        s
    }

    /// The fields BM25F indexes: the document `title`, the heading path and the chunk text.
    pub fn fields<'a>(&'a self, title: &'a str) -> crate::index::bm25::FieldText<'a> {
        crate::index::bm25::FieldText { title, heading: &self.heading, body: &self.text }
    }
}

/// Cuts a document into chunks. `doc_id` is stored in each chunk. Sections without text give no
/// chunk.
pub fn chunk_document(
    doc: &Document,
    doc_id: u32,
    counter: &TokenCounter,
    opts: &ChunkOptions,
) -> Result<Vec<Chunk>> {
    opts.validate()?;
    let mut out = Vec::new();
    for (si, section) in doc.sections.iter().enumerate() {
        chunk_section(doc, doc_id, si as u32, section, counter, opts, &mut out)?;
    }
    Ok(out)
}

/// How good a place between two tokens is for a cut. Higher is better.
fn cut_quality(gap: &str, prev_token: &str) -> u8 {
    if gap.contains("\n\n") {
        4
    } else if gap.contains('\n') {
        3
    } else if prev_token.ends_with(['.', '!', '?', ':', ';']) {
        2
    } else {
        1
    }
}

/// Whether the boundary before token `i` has a character that is not alphanumeric on one side
/// (e.g. `[kiwi` or `path/to`), i.e. does not cut a word in two.
fn beside_punctuation(text: &str, spans: &[(usize, usize)], i: usize) -> bool {
    let before = text[..spans[i].0].chars().next_back();
    let after = text[spans[i].0..].chars().next();
    !(before.is_some_and(char::is_alphanumeric) && after.is_some_and(char::is_alphanumeric))
}

fn chunk_section(
    doc: &Document,
    doc_id: u32,
    section_id: u32,
    section: &Section,
    counter: &TokenCounter,
    opts: &ChunkOptions,
    out: &mut Vec<Chunk>,
) -> Result<()> {
    let text = section.text.as_str();
    let spans = budget_spans(counter, text)?;
    if spans.is_empty() {
        return Ok(());
    }
    let url = match &section.anchor {
        Some(a) if !a.is_empty() => format!("{}#{}", doc.url, a),
        _ => doc.url.clone(),
    };
    let heading = section.headings.join(" > ");
    let n = spans.len();
    // quality[i] = how good it is to cut before token i (0 = inside a word: never).
    let quality: Vec<u8> = (0..n)
        .map(|i| {
            if i == 0 {
                return 0;
            }
            let gap = &text[spans[i - 1].1..spans[i].0];
            if gap.chars().any(char::is_whitespace) {
                cut_quality(gap, &text[spans[i - 1].0..spans[i - 1].1])
            } else {
                0
            }
        })
        .collect();
    let budget = opts.max_tokens;
    let cap = budget * MAX_TOKEN_BYTES;
    let mut start = 0usize;
    loop {
        // The furthest end: `budget` tokens, and no more than `cap` bytes from the first token's
        // start (a text the tokenizer skips, e.g. a long run of spaces or control characters
        // between two tokens, counts toward the bytes). One token always fits (≤ 64 bytes).
        let mut hi = (start + budget).min(n);
        let limit = spans[start].0 + cap;
        if spans[hi - 1].1 > limit {
            hi = start + spans[start..hi].partition_point(|t| t.1 <= limit);
        }
        let end = if hi == n {
            n
        } else {
            // Cut before token `hi` at the latest.
            let lo = start + (hi - start) / 2;
            // Best quality class in the back half of the window, latest position within it.
            let best = (lo + 1..=hi).rev().filter(|&i| quality[i] > 0).max_by_key(|&i| (quality[i], i));
            match best {
                Some(i) => i,
                // No break in the back half: the latest break anywhere; else (a run without
                // whitespace longer than the budget: a URL, minified code, a data blob) the latest
                // token boundary next to punctuation in the back half, so words stay whole; else a
                // hard cut at a token boundary (one giant word).
                None => (start + 1..=hi)
                    .rev()
                    .find(|&i| quality[i] > 0)
                    .or_else(|| (lo + 1..=hi).rev().find(|&i| beside_punctuation(text, &spans, i)))
                    .unwrap_or(hi),
            }
        };
        let (s, e) = (spans[start].0, spans[end - 1].1);
        out.push(Chunk {
            doc: doc_id,
            section: section_id,
            url: url.clone(),
            heading: heading.clone(),
            text: text[s..e].to_string(),
            start: s as u32,
            end: e as u32,
        });
        if end == n {
            break;
        }
        // Next chunk starts `overlap` tokens back, at a word boundary, always moving forward.
        let want = end.saturating_sub(opts.overlap_tokens).max(start + 1);
        start =
            if opts.overlap_tokens == 0 { end } else { (want..end).find(|&i| quality[i] > 0).unwrap_or(end) };
    }
    Ok(())
}
