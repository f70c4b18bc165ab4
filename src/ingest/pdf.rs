//! PDF ingestion (cargo feature `pdf`, lopdf): the text of each page in the order the page's
//! content draws it, one or more sections per page anchored `page=N` (so chunks cite
//! `file.pdf#page=N`, which browsers' PDF viewers open at that page), heading paths from the
//! document outline (bookmarks) when it has one.
//!
//! Owns: reading one PDF's bytes, deciding what of a bad PDF to tell (encrypted, no text layer,
//! unreadable, over the limits) and the per-file limits. Must not: chunk, embed, or decode text
//! files; the CLI's walk and the wasm `addDocument` both call [`parse`], so a PDF is read the same
//! way on both sides.
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

use lopdf::content::Content;
use lopdf::{Encoding, Object};

use super::pdf_outline::{outline, OutlineEntry};
use super::{Document, Ingested, Section};

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
const HEADER_WINDOW: usize = 1024;

/// Whether `bytes` start like a PDF: `%PDF-` within the first 1024 bytes.
pub fn looks_like_pdf(bytes: &[u8]) -> bool {
    bytes.windows(5).take(HEADER_WINDOW).any(|w| w == b"%PDF-")
}

/// Reads a PDF. `url` becomes the document's url; `fallback_title` is its title when the PDF has
/// neither an info `/Title` nor an outline. Never fails: whatever is wrong with the bytes is a
/// skip reason and a note ([`PdfRead`]).
pub fn parse(url: &str, fallback_title: &str, bytes: &[u8], limits: &PdfLimits) -> PdfRead {
    if bytes.len() > limits.max_file_bytes {
        return PdfRead::skip(
            OVER_LIMITS,
            format!("{} bytes; at most {} bytes are read", bytes.len(), limits.max_file_bytes),
        );
    }
    if !looks_like_pdf(bytes) {
        return PdfRead::skip(UNREADABLE, format!("no %PDF- header in the first {HEADER_WINDOW} bytes"));
    }
    let options = lopdf::LoadOptions::with_max_decompressed_size(limits.max_stream_bytes);
    let doc = match lopdf::Document::load_mem_with_options(bytes, options) {
        Ok(doc) => doc,
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { limit })) => {
            return PdfRead::skip(OVER_LIMITS, format!("a stream inflates past {limit} bytes"))
        }
        Err(lopdf::Error::InvalidPassword) => return PdfRead::skip(ENCRYPTED, "the password is not empty"),
        Err(e) => return PdfRead::skip(UNREADABLE, e.to_string()),
    };
    if doc.is_encrypted() {
        return PdfRead::skip(ENCRYPTED, "its text can only be read with the document's password");
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return PdfRead::skip(UNREADABLE, "no pages");
    }
    if pages.len() > limits.max_pages {
        return PdfRead::skip(
            OVER_LIMITS,
            format!("{} pages; at most {} are read", pages.len(), limits.max_pages),
        );
    }
    let mut budget = Budget {
        operations: limits.max_operations,
        content: limits.max_content_bytes,
        text: limits.max_text_bytes,
    };
    let mut texts: Vec<(u32, String)> = Vec::with_capacity(pages.len());
    let mut bad_pages: Vec<(u32, String)> = Vec::new();
    for (&n, &id) in &pages {
        match page_text(&doc, id, limits, &mut budget) {
            Ok(text) => texts.push((n, text)),
            Err(PageError::Limit(note)) => return PdfRead::skip(OVER_LIMITS, note),
            Err(PageError::Bad(e)) => bad_pages.push((n, e)),
        }
    }
    let with_text = texts.iter().filter(|(_, t)| !t.trim().is_empty()).count();
    if with_text == 0 {
        if let Some((n, e)) = bad_pages.first() {
            return PdfRead::skip(UNREADABLE, format!("page {n}: {e}"));
        }
        return PdfRead::skip(NO_TEXT, format!("none of its {} pages has text", pages.len()));
    }
    let mut notes = Vec::new();
    if with_text < texts.len() {
        notes.push(format!(
            "{} of {} pages have no text (images?); OCR them to index them",
            texts.len() - with_text,
            pages.len()
        ));
    }
    if let Some((n, e)) = bad_pages.first() {
        notes.push(format!("{} pages unreadable (page {n}: {e})", bad_pages.len()));
    }
    let outline = outline(&doc);
    let title = info_title(&doc)
        .or_else(|| outline.first().map(|e| e.title.clone()))
        .unwrap_or_else(|| fallback_title.to_string());
    let sections = sections(&texts, &outline);
    PdfRead {
        outcome: Ingested::Document(Document { url: url.to_string(), title, sections }),
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

/// What is left of the [`PdfLimits`] budgets while a file is read.
struct Budget {
    operations: usize,
    content: usize,
    text: usize,
}

enum PageError {
    /// Over a limit: the whole file is skipped.
    Limit(String),
    /// This page cannot be read (the others may be).
    Bad(String),
}

/// The text of one page, in content order, lines and paragraphs separated as positioned.
fn page_text(
    doc: &lopdf::Document,
    id: lopdf::ObjectId,
    limits: &PdfLimits,
    budget: &mut Budget,
) -> Result<String, PageError> {
    let max = limits.max_stream_bytes.min(budget.content);
    let content = match doc.get_page_content_with_limit(id, max) {
        Ok(c) => c,
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
            return Err(PageError::Limit(if max < limits.max_stream_bytes {
                format!(
                    "more than {} bytes of page content; at most that many are read",
                    limits.max_content_bytes
                )
            } else {
                format!("a page's content inflates past {max} bytes")
            }))
        }
        Err(e) => return Err(PageError::Bad(e.to_string())),
    };
    budget.content -= content.len().min(budget.content);
    let fonts = doc.get_page_fonts(id).unwrap_or_default();
    let mut encodings: BTreeMap<Vec<u8>, Encoding> = BTreeMap::new();
    for (name, font) in fonts {
        match font.get_font_encoding_with_limit(doc, limits.max_stream_bytes) {
            Ok(enc) => {
                encodings.insert(name, enc);
            }
            Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { limit })) => {
                return Err(PageError::Limit(format!("a font's map inflates past {limit} bytes")))
            }
            // A font whose encoding cannot be read: its text is left out.
            Err(_) => {}
        }
    }
    let mut page = PageWriter::default();
    let mut font: Option<&Encoding> = None;
    for op in Content::decode_iter(&content) {
        let Ok(op) = op else { break };
        if budget.operations == 0 {
            return Err(PageError::Limit(format!(
                "more than {} content operations; at most that many are interpreted",
                limits.max_operations
            )));
        }
        budget.operations -= 1;
        let num = |i: usize| op.operands.get(i).and_then(|o| o.as_float().ok()).unwrap_or(0.0);
        match op.operator.as_str() {
            "BT" => {
                page.line = (0.0, 0.0);
                page.scale = (1.0, 1.0);
            }
            "Tm" => {
                page.line = (num(4), num(5));
                page.scale = (num(0), num(3));
            }
            "Td" => page.move_by(num(0), num(1)),
            "TD" => {
                page.leading = -num(1);
                page.move_by(num(0), num(1));
            }
            "TL" => page.leading = num(0),
            "T*" => page.next_line(),
            "Tf" => {
                font = op.operands.first().and_then(|o| o.as_name().ok()).and_then(|n| encodings.get(n));
                page.font_size = num(1).abs();
            }
            "Tj" | "TJ" => page.show(font, &op.operands),
            "'" => {
                page.next_line();
                page.show(font, &op.operands);
            }
            "\"" => {
                page.next_line();
                page.show(font, op.operands.get(2..).unwrap_or_default());
            }
            _ => {}
        }
        if page.out.len() > budget.text {
            return Err(PageError::Limit(format!(
                "more than {} bytes of text; at most that many are read",
                limits.max_text_bytes
            )));
        }
    }
    budget.text -= page.out.len();
    Ok(page.finish())
}

/// TJ offsets (thousandths of a text space unit) at least this far to the right make a word
/// break: TeX writes word spaces as offsets of about 250 to 400, kerning as less than 100.
const TJ_SPACE: f32 = 150.0;

/// Writes a page's text as the content stream positions it.
struct PageWriter {
    out: String,
    /// Start of the current line in text space (x, y), as `Td`, `TD`, `Tm` and `T*` set it.
    line: (f32, f32),
    leading: f32,
    /// The text matrix's horizontal and vertical scale (`Tm`'s a and d): `Td` moves in text
    /// space, lines are compared in user space.
    scale: (f32, f32),
    /// The font size `Tf` set, in text space units.
    font_size: f32,
    /// Where the last text shown started, to tell a new line or word from a continuation.
    last: Option<(f32, f32)>,
    /// The smallest line-to-line distance seen on the page: a larger gap is a paragraph break.
    line_gap: Option<f32>,
    /// `T*` was seen: the next text starts a line whatever the positions say.
    forced_line: bool,
}

impl Default for PageWriter {
    fn default() -> Self {
        PageWriter {
            out: String::new(),
            line: (0.0, 0.0),
            leading: 0.0,
            scale: (1.0, 1.0),
            font_size: 0.0,
            last: None,
            line_gap: None,
            forced_line: false,
        }
    }
}

impl PageWriter {
    fn move_by(&mut self, dx: f32, dy: f32) {
        self.line = (self.line.0 + dx * self.scale.0, self.line.1 + dy * self.scale.1);
    }

    fn next_line(&mut self) {
        self.line.1 -= self.leading * self.scale.1;
        self.forced_line = true;
    }

    /// Whether a move down by `dy` (user space) leaves a paragraph's space: more than 1.6 times
    /// the smallest line distance of the page, or more than twice the font's size (a page whose
    /// lines are all paragraphs has no smaller distance to compare with).
    fn is_paragraph(&self, dy: f32) -> bool {
        let size = self.font_size * self.scale.1.abs();
        let by_gap = self.line_gap.is_some_and(|g| dy > 1.6 * g);
        let by_size = size >= 1.0 && dy > 2.0 * size;
        by_gap || by_size
    }

    /// Writes the strings among `operands` (a `Tj` string, a `TJ` array) in `font`'s encoding,
    /// after a line break, paragraph break or space when the position moved.
    fn show(&mut self, font: Option<&Encoding>, operands: &[Object]) {
        let Some(font) = font else { return };
        if let Some((x, y)) = self.last {
            let dy = (self.line.1 - y).abs();
            if dy > 0.5 || self.forced_line {
                let paragraph = dy > 0.5 && self.is_paragraph(dy);
                if dy > 0.5 {
                    self.line_gap = Some(self.line_gap.map_or(dy, |g| g.min(dy)));
                }
                self.out.push_str(if paragraph { "\n\n" } else { "\n" });
            } else if (self.line.0 - x).abs() > 0.5 {
                self.space();
            }
        }
        self.last = Some(self.line);
        self.forced_line = false;
        for o in operands {
            match o {
                Object::String(bytes, _) => {
                    let _ = font.write_to_string(bytes, &mut self.out);
                }
                Object::Array(items) => {
                    for item in items {
                        match item {
                            Object::String(bytes, _) => {
                                let _ = font.write_to_string(bytes, &mut self.out);
                            }
                            Object::Integer(n) if (*n as f32) < -TJ_SPACE => self.space(),
                            Object::Real(n) if *n < -TJ_SPACE => self.space(),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn space(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with([' ', '\n']) {
            self.out.push(' ');
        }
    }

    /// The page's text: control characters as spaces, spaces collapsed, lines trimmed, at most
    /// one blank line in a row.
    fn finish(self) -> String {
        let mut out = String::with_capacity(self.out.len());
        let mut blank = 0;
        for line in self.out.split('\n') {
            let words: Vec<&str> =
                line.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect();
            if words.is_empty() {
                blank += 1;
                continue;
            }
            if !out.is_empty() {
                out.push_str(if blank > 0 { "\n\n" } else { "\n" });
            }
            blank = 0;
            out.push_str(&words.join(" "));
        }
        out
    }
}

/// The info dictionary's `/Title`, when it has a non-blank one.
fn info_title(doc: &lopdf::Document) -> Option<String> {
    let info = match doc.trailer.get(b"Info").ok()? {
        Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        Object::Dictionary(d) => d,
        _ => return None,
    };
    let title = lopdf::decode_text_string(info.get(b"Title").ok()?).ok()?;
    let title = super::clean_heading(&title.replace(|c: char| c.is_control(), " "));
    (!title.is_empty()).then_some(title)
}

/// Cuts the pages' texts into sections: every section lies on one page (anchor `page=N`); an
/// outline entry pointing at a page starts a section there, at the line that begins with its
/// title when the page has one (that line is the heading, left out of the text), else at the
/// top of the page. Blank runs give no section.
fn sections(texts: &[(u32, String)], outline: &[OutlineEntry]) -> Vec<Section> {
    let mut by_page: BTreeMap<u32, Vec<&OutlineEntry>> = BTreeMap::new();
    for e in outline {
        by_page.entry(e.page).or_default().push(e);
    }
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut out = Vec::new();
    for (n, text) in texts {
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

    #[test]
    fn writer_breaks_lines_paragraphs_and_words() {
        let mut w = PageWriter::default();
        let doc = lopdf::Document::new();
        let mut font = lopdf::Dictionary::new();
        font.set("Type", Object::Name(b"Font".to_vec()));
        font.set("Subtype", Object::Name(b"Type1".to_vec()));
        font.set("BaseFont", Object::Name(b"Helvetica".to_vec()));
        font.set("Encoding", Object::Name(b"WinAnsiEncoding".to_vec()));
        let enc = font.get_font_encoding(&doc).unwrap();
        let s = |t: &str| Object::String(t.as_bytes().to_vec(), lopdf::StringFormat::Literal);
        w.line = (72.0, 700.0);
        w.show(Some(&enc), &[s("first")]);
        w.move_by(40.0, 0.0);
        w.show(Some(&enc), &[s("line")]);
        w.move_by(-40.0, -12.0);
        w.show(
            Some(&enc),
            &[Object::Array(vec![
                s("sec"),
                Object::Integer(-20),
                s("ond"),
                Object::Integer(-333),
                s("line"),
            ])],
        );
        w.move_by(0.0, -30.0);
        w.show(Some(&enc), &[s("new paragraph")]);
        assert_eq!(w.finish(), "first line\nsecond line\n\nnew paragraph");
    }
}
