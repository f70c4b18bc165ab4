//! The lopdf half of the PDF reader (cargo feature `pdf`): a PDF's bytes to the plain
//! [`PdfExtract`] (each page's text, the outline, the info title) or why the file is skipped.
//!
//! Owns: everything that touches lopdf: loading, the per-file limits while reading, the text of
//! a page in the order its content draws it. Must not: make sections, titles or notes out of the
//! pages: that is [`super::read`], which needs no lopdf, so the full wasm module keeps it and
//! leaves this (the bulk of the PDF code: lopdf's glyph-name table, decoders and ciphers) to the
//! PDF module (`docent_pdf`), which exports only [`extract`]. The CLI calls both through
//! [`super::parse`].

use std::collections::BTreeMap;

use lopdf::content::Content;
use lopdf::{Encoding, Object};

use super::outline::outline;
use super::{
    looks_like_pdf, PdfExtract, PdfLimits, PdfPage, PdfPageError, PdfPages, SkipReason, HEADER_WINDOW,
};

/// Reads a PDF's pages, outline and info title from its bytes, within `limits`. Never fails and
/// never panics: whatever is wrong with the bytes is a [`PdfExtract::Skipped`] (encrypted,
/// unreadable, over the limits) with a note for the user. Pages without text are not decided on
/// here ([`super::read`] does).
pub fn extract(bytes: &[u8], limits: &PdfLimits) -> PdfExtract {
    if bytes.len() > limits.max_file_bytes {
        return PdfExtract::skip(
            SkipReason::OverLimits,
            format!("{} bytes; at most {} bytes are read", bytes.len(), limits.max_file_bytes),
        );
    }
    if !looks_like_pdf(bytes) {
        return PdfExtract::skip(
            SkipReason::Unreadable,
            format!("no %PDF- header in the first {HEADER_WINDOW} bytes"),
        );
    }
    let options = lopdf::LoadOptions::with_max_decompressed_size(limits.max_stream_bytes);
    let doc = match lopdf::Document::load_mem_with_options(bytes, options) {
        Ok(doc) => doc,
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { limit })) => {
            return PdfExtract::skip(SkipReason::OverLimits, format!("a stream inflates past {limit} bytes"))
        }
        Err(lopdf::Error::InvalidPassword) => {
            return PdfExtract::skip(SkipReason::Encrypted, "the password is not empty")
        }
        Err(e) => return PdfExtract::skip(SkipReason::Unreadable, e.to_string()),
    };
    if doc.is_encrypted() {
        return PdfExtract::skip(
            SkipReason::Encrypted,
            "its text can only be read with the document's password",
        );
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return PdfExtract::skip(SkipReason::Unreadable, "no pages");
    }
    if pages.len() > limits.max_pages {
        return PdfExtract::skip(
            SkipReason::OverLimits,
            format!("{} pages; at most {} are read", pages.len(), limits.max_pages),
        );
    }
    let mut budget = Budget {
        operations: limits.max_operations,
        content: limits.max_content_bytes,
        text: limits.max_text_bytes,
    };
    let mut read = Vec::with_capacity(pages.len());
    let mut unreadable = Vec::new();
    for (&number, &id) in &pages {
        match page_text(&doc, id, limits, &mut budget) {
            Ok(text) => read.push(PdfPage { number, text }),
            Err(PageError::Limit(note)) => return PdfExtract::skip(SkipReason::OverLimits, note),
            Err(PageError::Bad(error)) => unreadable.push(PdfPageError { number, error }),
        }
    }
    PdfExtract::Read(PdfPages { pages: read, unreadable, outline: outline(&doc), title: info_title(&doc) })
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
    let title = crate::ingest::clean_heading(&title.replace(|c: char| c.is_control(), " "));
    (!title.is_empty()).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::*;

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
