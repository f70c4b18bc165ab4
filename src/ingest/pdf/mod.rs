//! PDF ingestion (cargo feature `pdf`, lopdf): the text of each page in the order the page's
//! content draws it, one or more sections per page anchored `page=N` (so chunks cite
//! `file.pdf#page=N`, which browsers' PDF viewers open at that page), heading paths from the
//! document outline (bookmarks) when it has one.
//!
//! Owns: reading one PDF, in two halves that meet at a plain structure ([`PdfExtract`]: the
//! pages' text, the outline, the info title, or why the file is skipped): [`extract`] (lopdf,
//! cargo feature `pdf`, `extract.rs`) turns bytes into it, [`read`] (no lopdf) turns it into a
//! document of sections or a skip reason, deciding what of a bad PDF to tell (encrypted, no text
//! layer, unreadable, over the limits). The CLI's walk calls both ([`parse`]); in the browser the
//! PDF module (`docent_pdf`, loaded only when a PDF is added) runs [`extract`] and the full
//! module runs [`read`] on what crosses (serde-wasm-bindgen), so a PDF is read the same way on
//! both sides and readers who never add a PDF never download lopdf.
//! Must not: chunk, embed, or decode text files.
//!
//! Why these choices:
//! - Reading order is the content stream's order, with line and paragraph breaks from the text
//!   positions. PDF writers (TeX, LibreOffice, browsers' print, fpdf2) draw a page's text in
//!   reading order; a layout analysis (columns, floats) would need glyph widths and is left out.
//! - The limits are a work budget, not a clock: the core has no clock in wasm32, and a budget
//!   counted in content operations and decompressed bytes stops the same file at the same place
//!   on every machine, so the outcome of a huge or hostile file is the same for the CLI and the
//!   browser and testable without timing.
//! - Nothing here may panic: in wasm a panic aborts the module (there is no unwinding to catch).
//!   lopdf returns errors for malformed files; the fuzz target `pdf` (tests/fuzz_harness.rs)
//!   feeds it mutated PDFs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Document, Ingested, Section};

#[cfg(feature = "pdf")]
mod extract;
#[cfg(feature = "pdf")]
mod outline;
#[cfg(feature = "pdf")]
pub use extract::extract;

/// The skip reason of a PDF that needs a password to be read (its text is encrypted).
pub const ENCRYPTED: &str = "encrypted PDF (needs a password)";
/// The skip reason of a PDF whose pages have no text layer (scanned pages, images of text).
pub const NO_TEXT: &str = "PDF without a text layer (no text, OCR it first)";
/// The skip reason of bytes that are not a PDF docent can read (truncated, corrupted, another
/// format under a `.pdf` name).
pub const UNREADABLE: &str = "unreadable PDF";
/// The skip reason of a PDF over one of the [`PdfLimits`].
pub const OVER_LIMITS: &str = "PDF over the limits";

/// Per-file limits of PDF reading: memory (bytes read, decompressed and extracted) and time
/// (content operations interpreted, a work budget instead of a clock). A file over one of them is
/// skipped with [`OVER_LIMITS`] and a note naming the limit, never read partly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfLimits {
    /// Most bytes of the file. Default 256 MiB (the browser build refuses a document's bytes
    /// over its own document limit, 64 MiB, before this). lopdf holds the parsed file in memory,
    /// a few times its size.
    pub max_file_bytes: usize,
    /// Most pages. Default 10,000.
    pub max_pages: usize,
    /// Most decompressed bytes of one stream (a page's content, a font's ToUnicode map, an
    /// object stream). Default 64 MiB: a small compressed stream that inflates beyond it (a
    /// decompression bomb) stops there.
    pub max_stream_bytes: usize,
    /// Most decompressed content bytes over all pages. Default 512 MiB.
    pub max_content_bytes: usize,
    /// Most content-stream operations interpreted over all pages: the time limit. Default
    /// 20,000,000 (a 1,000-page book typesets to about 2,000,000; interpreting 20 million takes
    /// a few seconds natively).
    pub max_operations: usize,
    /// Most bytes of extracted text. Default 64 MiB.
    pub max_text_bytes: usize,
}

impl PdfLimits {
    /// The limits the CLI and the wasm edge use (see each field).
    pub const DEFAULT: PdfLimits = PdfLimits {
        max_file_bytes: 256 << 20,
        max_pages: 10_000,
        max_stream_bytes: 64 << 20,
        max_content_bytes: 512 << 20,
        max_operations: 20_000_000,
        max_text_bytes: 64 << 20,
    };
}

impl Default for PdfLimits {
    fn default() -> Self {
        PdfLimits::DEFAULT
    }
}

/// What reading one PDF gave: the document (sections anchored `page=N`) or why it is skipped
/// ([`ENCRYPTED`], [`NO_TEXT`], [`UNREADABLE`], [`OVER_LIMITS`]), and what the user should know
/// about this file in particular.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfRead {
    /// The document, or [`Ingested::Skipped`] with one of the reasons above.
    pub outcome: Ingested,
    /// The details, for a warning naming the file: lopdf's error for an unreadable file, the
    /// limit and the count for one over the limits, the pages without text of a document that
    /// has some (`3 of 12 pages have no text (images?); OCR them to index them`). `None` when
    /// there is nothing to add.
    pub note: Option<String>,
}

impl PdfRead {
    fn skip(reason: &str, note: impl Into<String>) -> PdfRead {
        PdfRead { outcome: Ingested::Skipped { reason: reason.to_string() }, note: Some(note.into()) }
    }
}

/// The anchor of page `n` (1-based): `page=N`, the fragment PDF viewers open at that page.
pub fn page_anchor(n: u32) -> String {
    format!("page={n}")
}

/// How many leading bytes may come before the `%PDF-` header (PDF readers accept some junk).
pub(crate) const HEADER_WINDOW: usize = 1024;

/// Whether `bytes` start like a PDF: `%PDF-` within the first 1024 bytes.
pub fn looks_like_pdf(bytes: &[u8]) -> bool {
    bytes.windows(5).take(HEADER_WINDOW).any(|w| w == b"%PDF-")
}

/// Why a PDF is skipped as a whole: one of [`ENCRYPTED`], [`NO_TEXT`], [`UNREADABLE`],
/// [`OVER_LIMITS`] ([`SkipReason::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SkipReason {
    /// [`ENCRYPTED`].
    Encrypted,
    /// [`NO_TEXT`].
    NoText,
    /// [`UNREADABLE`].
    Unreadable,
    /// [`OVER_LIMITS`].
    OverLimits,
}

impl SkipReason {
    /// The reason's text, as summaries count it.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Encrypted => ENCRYPTED,
            SkipReason::NoText => NO_TEXT,
            SkipReason::Unreadable => UNREADABLE,
            SkipReason::OverLimits => OVER_LIMITS,
        }
    }
}

/// What [`extract`] takes out of a PDF's bytes: its pages, or why the whole file is skipped. The
/// browser's two modules pass it from one to the other as a JS object (`{read: {pages,
/// unreadable, outline, title}}` or `{skipped: {reason, note}}`, camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PdfExtract {
    /// The file could be read (its pages may still lack text).
    Read(PdfPages),
    /// The file is skipped as a whole: encrypted, unreadable or over the limits.
    Skipped {
        /// Why.
        reason: SkipReason,
        /// The details for a warning naming the file: lopdf's error, the limit and the count.
        note: String,
    },
}

impl PdfExtract {
    /// A skipped file.
    pub fn skip(reason: SkipReason, note: impl Into<String>) -> PdfExtract {
        PdfExtract::Skipped { reason, note: note.into() }
    }

    /// Bytes of the pages' text (0 for a skipped file): what a document limit counts once the
    /// file's own bytes have been read.
    pub fn text_bytes(&self) -> usize {
        match self {
            PdfExtract::Read(p) => p.pages.iter().map(|p| p.text.len()).sum(),
            PdfExtract::Skipped { .. } => 0,
        }
    }
}

/// The pages of a PDF that could be loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PdfPages {
    /// The pages whose content was read, in page order (their text may be empty).
    pub pages: Vec<PdfPage>,
    /// The pages whose content could not be read, in page order.
    pub unreadable: Vec<PdfPageError>,
    /// The outline's entries that point at a page, in outline order; empty when the PDF has none
    /// or it cannot be read.
    pub outline: Vec<OutlineEntry>,
    /// The info dictionary's `/Title`, cleaned, when it is not blank.
    pub title: Option<String>,
}

/// The text of one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PdfPage {
    /// The page number, from 1.
    pub number: u32,
    /// Its text in content order: lines separated by `\n`, paragraphs by a blank line.
    pub text: String,
}

/// A page whose content could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PdfPageError {
    /// The page number, from 1.
    pub number: u32,
    /// lopdf's error.
    pub error: String,
}

/// One outline (bookmark) entry that points at a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutlineEntry {
    /// 1 for a top-level entry.
    pub level: usize,
    /// The entry's text, cleaned (never blank).
    pub title: String,
    /// The page it points at, from 1.
    pub page: u32,
}

/// Reads a PDF ([`extract`], then [`read`]). `url` becomes the document's url; `fallback_title`
/// is its title when the PDF has neither an info `/Title` nor an outline. Never fails: whatever
/// is wrong with the bytes is a skip reason and a note ([`PdfRead`]).
#[cfg(feature = "pdf")]
pub fn parse(url: &str, fallback_title: &str, bytes: &[u8], limits: &PdfLimits) -> PdfRead {
    read(url, fallback_title, extract(bytes, limits))
}

/// Makes a document of what [`extract`] read: sections anchored `page=N`, the title (the info
/// `/Title`, else the outline's first entry, else `fallback_title`), and the note on pages without
/// text or unreadable; or the skip reason of a file skipped as a whole, or whose pages all lack
/// text ([`NO_TEXT`]; [`UNREADABLE`] when some of them could not be read).
pub fn read(url: &str, fallback_title: &str, extracted: PdfExtract) -> PdfRead {
    let p = match extracted {
        PdfExtract::Skipped { reason, note } => return PdfRead::skip(reason.as_str(), note),
        PdfExtract::Read(p) => p,
    };
    let total = p.pages.len() + p.unreadable.len();
    let with_text = p.pages.iter().filter(|t| !t.text.trim().is_empty()).count();
    if with_text == 0 {
        if let Some(bad) = p.unreadable.first() {
            return PdfRead::skip(UNREADABLE, format!("page {}: {}", bad.number, bad.error));
        }
        return PdfRead::skip(NO_TEXT, format!("none of its {total} pages has text"));
    }
    let mut notes = Vec::new();
    if with_text < p.pages.len() {
        notes.push(format!(
            "{} of {total} pages have no text (images?); OCR them to index them",
            p.pages.len() - with_text,
        ));
    }
    if let Some(bad) = p.unreadable.first() {
        notes.push(format!("{} pages unreadable (page {}: {})", p.unreadable.len(), bad.number, bad.error));
    }
    let title = p
        .title
        .or_else(|| p.outline.first().map(|e| e.title.clone()))
        .unwrap_or_else(|| fallback_title.to_string());
    let sections = sections(&p.pages, &p.outline);
    PdfRead {
        outcome: Ingested::Document(Document { url: url.to_string(), title, sections }),
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

/// Cuts the pages' texts into sections: every section lies on one page (anchor `page=N`); an
/// outline entry pointing at a page starts a section there, at the line that begins with its
/// title when the page has one (that line is the heading, left out of the text), else at the
/// top of the page. Blank runs give no section.
fn sections(pages: &[PdfPage], outline: &[OutlineEntry]) -> Vec<Section> {
    let mut by_page: BTreeMap<u32, Vec<&OutlineEntry>> = BTreeMap::new();
    for e in outline {
        by_page.entry(e.page).or_default().push(e);
    }
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut out = Vec::new();
    for PdfPage { number: n, text } in pages {
        let anchor = page_anchor(*n);
        let mut cursor = 0;
        for entry in by_page.get(n).map(Vec::as_slice).unwrap_or_default() {
            let (start, body) = match find_heading_line(text, cursor, &entry.title) {
                Some((start, end)) => (start, end),
                None => (cursor, cursor),
            };
            push_section(&mut out, &anchor, &path, &text[cursor..start]);
            while path.last().is_some_and(|(l, _)| *l >= entry.level) {
                path.pop();
            }
            path.push((entry.level, entry.title.clone()));
            cursor = body;
        }
        push_section(&mut out, &anchor, &path, &text[cursor..]);
    }
    out
}

fn push_section(out: &mut Vec<Section>, anchor: &str, path: &[(usize, String)], text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    out.push(Section {
        anchor: Some(anchor.to_string()),
        headings: path.iter().map(|(_, t)| t.clone()).collect(),
        text: text.to_string(),
    });
}

/// The byte range of the first line at or after `from` whose words begin with `title`'s words
/// (whitespace-insensitive): its start, and the start of the text after it.
fn find_heading_line(text: &str, from: usize, title: &str) -> Option<(usize, usize)> {
    let want: Vec<&str> = title.split_whitespace().collect();
    let mut start = from;
    for line in text[from..].split_inclusive('\n') {
        let words: Vec<&str> = line.split_whitespace().collect();
        // Tolerate a section number the outline leaves out ("2.1 Title" for "Title").
        let skip =
            usize::from(words.first().is_some_and(|w| w.chars().all(|c| c.is_ascii_digit() || c == '.')));
        for s in 0..=skip {
            if words.len() >= want.len() + s && words[s..s + want.len()] == want[..] {
                return Some((start, start + line.len()));
            }
        }
        start += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_line_found_with_or_without_a_number() {
        let text = "intro\n2.1 Memory Safety\nbody\n";
        assert_eq!(find_heading_line(text, 0, "Memory Safety"), Some((6, 24)));
        assert_eq!(find_heading_line(text, 0, "Absent"), None);
        assert_eq!(find_heading_line(text, 24, "Memory Safety"), None);
    }
}
