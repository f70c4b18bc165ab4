//! Ingestion: turns HTML, Markdown, plain text and PDF into [`Document`]s made of [`Section`]s.
//!
//! Owns: parsing, main-content detection, heading anchors and heading paths, titles, directory
//! walking (native only). Must not: chunk, count tokens or embed; that is `chunk` and `embed`.
//!
//! Design: `docs/design.md`, "From a page to a prompt", step 1.

use serde::{Deserialize, Serialize};

pub mod decode;
pub mod html;
pub mod markdown;
pub mod pdf;
pub mod text;
#[cfg(not(target_arch = "wasm32"))]
pub mod walk;

/// One ingested document: a page or file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Where the document lives, without anchor: the file's path relative to the indexed
    /// directory with `/` separators (and `--base-url` prefixed), or any url the caller chose.
    pub url: String,
    /// The document title: `<title>`, else the first heading, else the file name.
    pub title: String,
    /// The document's text, cut at headings, in reading order.
    pub sections: Vec<Section>,
}

/// A run of text under one heading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// The anchor of the nearest enclosing heading that has an id (HTML) or its GitHub-style
    /// slug (Markdown), without `#`. `None` before the first heading or when no enclosing
    /// heading has an id.
    pub anchor: Option<String>,
    /// Heading texts from the outermost to this section's own heading, e.g.
    /// `["Ownership", "The Stack and the Heap"]`. Empty before the first heading.
    pub headings: Vec<String>,
    /// The section body as plain text: blocks separated by blank lines, code kept verbatim.
    /// May be empty (a heading directly followed by another heading).
    pub text: String,
}

/// What ingesting one input produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    /// A document to index.
    Document(Document),
    /// The input is deliberately not indexed (redirect stub, `noindex`, `data-docent-ignore`).
    Skipped {
        /// Why, in a few words (e.g. `redirect stub`, `robots noindex`).
        reason: String,
    },
}

/// The input formats docent reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// HTML (`.html`, `.htm`, `.xhtml`).
    Html,
    /// CommonMark Markdown (`.md`, `.markdown`).
    Markdown,
    /// Plain text (`.txt`, `.text`, `.rst`, `.adoc`).
    Text,
    /// PDF (`.pdf`): read from its bytes by `pdf::parse` (cargo feature `pdf`), not from text, or
    /// from what `pdf::extract` took out of them (`pdf::read`).
    Pdf,
}

impl Format {
    /// The format of a file, from its extension (case-insensitive); `None` for unsupported files.
    pub fn from_path(path: &str) -> Option<Format> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "html" | "htm" | "xhtml" => Some(Format::Html),
            "md" | "markdown" | "mdown" => Some(Format::Markdown),
            "txt" | "text" | "rst" | "adoc" => Some(Format::Text),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }
}

/// How many leading bytes [`binary_offset`] looks at (git's rule for "binary").
pub const BINARY_PROBE_BYTES: usize = 8000;

/// The offset of the first NUL byte among the first [`BINARY_PROBE_BYTES`] bytes, when there is
/// one: text formats never contain NUL, so such content is an image, archive, PDF or other binary
/// file under a text name, and indexing its lossily decoded bytes would only add junk.
pub fn binary_offset(bytes: &[u8]) -> Option<usize> {
    bytes.iter().take(BINARY_PROBE_BYTES).position(|&b| b == 0)
}

/// Parses one input of a known format. `url` becomes [`Document::url`]; `fallback_title` is used
/// when the content has no title or heading (callers pass the file name).
///
/// Errors: binary content (a NUL byte among the first 8000 bytes, see [`binary_offset`]) is an
/// [`crate::Error::Document`] naming the offset; nothing else in the content is an error.
/// Text and Markdown files that are not documentation (Sphinx's page sources, license files:
/// [`text::not_documentation`]) are skipped with that reason. A PDF is read from its bytes
/// ([`parse_pdf`]); given here as text it is an [`crate::Error::Document`].
pub fn parse(url: &str, fallback_title: &str, content: &str, format: Format) -> crate::Result<Ingested> {
    if let Some(at) = binary_offset(content.as_bytes()) {
        return Err(crate::Error::Document { url: url.to_string(), reason: binary_reason(at) });
    }
    if matches!(format, Format::Markdown | Format::Text) {
        if let Some(reason) = text::not_documentation(url) {
            return Ok(Ingested::Skipped { reason: reason.to_string() });
        }
    }
    match format {
        Format::Html => html::parse(url, fallback_title, content),
        Format::Markdown => markdown::parse(url, fallback_title, content).map(Ingested::Document),
        Format::Text => text::parse(url, fallback_title, content).map(Ingested::Document),
        Format::Pdf => Err(crate::Error::Document {
            url: url.to_string(),
            reason: "a PDF is read from its bytes, not from text".into(),
        }),
    }
}

/// Reads a PDF's bytes (cargo feature `pdf`): its document (sections anchored `page=N`), or why
/// it is skipped, and a note for a warning naming the file (see [`pdf::PdfRead`]). Without the
/// feature every PDF is an [`crate::Error::Document`] saying this build does not read PDFs.
pub fn parse_pdf(url: &str, fallback_title: &str, bytes: &[u8]) -> crate::Result<(Ingested, Option<String>)> {
    #[cfg(feature = "pdf")]
    {
        let read = pdf::parse(url, fallback_title, bytes, &pdf::PdfLimits::DEFAULT);
        Ok((read.outcome, read.note))
    }
    #[cfg(not(feature = "pdf"))]
    {
        let _ = (fallback_title, bytes);
        Err(crate::Error::Document {
            url: url.to_string(),
            reason: "this build of docent does not read PDFs (cargo feature `pdf`)".into(),
        })
    }
}

/// What to tell about a PDF after its file's name (`docent: warning: a.pdf: …`, and `addPage`'s
/// `note`): `not indexed: encrypted PDF (needs a password): …` when it was skipped, the note of
/// [`parse_pdf`] when it was read with one (`2 of 9 pages have no text …`); `None` otherwise.
pub fn pdf_note(outcome: &Ingested, note: Option<&str>) -> Option<String> {
    match (outcome, note) {
        (Ingested::Skipped { reason }, Some(note)) => Some(format!("not indexed: {reason}: {note}")),
        (Ingested::Skipped { reason }, None) => Some(format!("not indexed: {reason}")),
        (Ingested::Document(_), note) => note.map(str::to_string),
    }
}

/// Why binary content is not indexed, for errors and warnings.
pub(crate) fn binary_reason(at: usize) -> String {
    format!("binary content (a NUL byte at offset {at}), not text; not indexed")
}

/// Accumulates the plain text of one section: collapses inline whitespace, turns block
/// boundaries into line breaks (at most one blank line), and keeps preformatted text verbatim.
/// Shared by the HTML and Markdown parsers so both produce the same text shape.
#[derive(Debug, Default)]
pub(crate) struct TextBuf {
    out: String,
    /// Newlines wanted before the next output: 1 = line break, 2 = blank line.
    pending_break: u8,
    /// A collapsed run of whitespace is waiting to become one space.
    pending_space: bool,
    /// Text to write after the pending break, before the next text (a list marker).
    pending_prefix: Option<String>,
}

impl TextBuf {
    /// Asks for a line break (`1`) or a blank line (`2`) before whatever comes next.
    pub(crate) fn block(&mut self, level: u8) {
        self.pending_break = self.pending_break.max(level.min(2));
        self.pending_space = false;
    }

    /// A hard line break (`<br>`, Markdown hard break): consecutive ones make a blank line.
    pub(crate) fn line_break(&mut self) {
        if self.pending_break >= 1 || self.out.ends_with('\n') {
            self.pending_break = 2;
        } else {
            self.pending_break = 1;
        }
        self.pending_space = false;
    }

    /// Sets the marker written before the next text (e.g. `"- "` for a list item).
    pub(crate) fn prefix(&mut self, marker: String) {
        self.pending_prefix = Some(marker);
    }

    /// Writes pending breaks, the pending marker or a pending space.
    fn flush(&mut self) {
        if self.out.is_empty() {
            self.pending_break = 0;
            self.pending_space = false;
        }
        if self.pending_break > 0 {
            let have = self.out.bytes().rev().take_while(|&b| b == b'\n').count();
            // Trailing spaces before a break are noise.
            let trimmed = self.out.trim_end_matches([' ', '\t']).len();
            if have == 0 {
                self.out.truncate(trimmed);
            }
            for _ in have..usize::from(self.pending_break) {
                self.out.push('\n');
            }
            self.pending_break = 0;
            self.pending_space = false;
        }
        if let Some(p) = self.pending_prefix.take() {
            self.out.push_str(&p);
            self.pending_space = false;
        }
        if self.pending_space {
            if !self.out.is_empty() && !self.out.ends_with([' ', '\n']) {
                self.out.push(' ');
            }
            self.pending_space = false;
        }
    }

    /// Appends inline text, collapsing whitespace runs into one space.
    pub(crate) fn text(&mut self, s: &str) {
        for c in s.chars() {
            if is_collapsible(c) {
                self.pending_space = true;
            } else {
                self.flush();
                self.out.push(c);
            }
        }
    }

    /// Appends text verbatim (preformatted code): whitespace and newlines are kept.
    pub(crate) fn verbatim(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        self.pending_space = false;
        self.flush();
        self.out.push_str(s);
    }

    /// Appends a separator (e.g. `" | "` between table cells) right away.
    pub(crate) fn separator(&mut self, s: &str) {
        self.pending_space = false;
        self.flush();
        self.out.push_str(s);
    }

    /// True when nothing but whitespace was written.
    pub(crate) fn is_blank(&self) -> bool {
        self.out.trim().is_empty()
    }

    /// The text so far, without leading and trailing blank lines or trailing spaces.
    pub(crate) fn finish(self) -> String {
        let s = self.out.trim_end();
        let s = s.trim_start_matches(['\n', '\r']);
        s.to_string()
    }
}

/// Whitespace that collapses in inline text. Zero-width characters (U+200B..U+200D, U+2060,
/// U+FEFF) and direction marks are not whitespace and are kept as they are.
pub(crate) fn is_collapsible(c: char) -> bool {
    c.is_whitespace()
}

/// Normalises a heading's text: whitespace collapsed and trimmed, and permalink glyphs
/// (`#`, `¶`, `§`, `🔗`) that generators put before or after the text removed.
pub(crate) fn clean_heading(raw: &str) -> String {
    let collapsed = raw.split(is_collapsible).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    let glyphs: &[char] = &['#', '¶', '§', '🔗', '\u{FE0F}'];
    collapsed.trim_matches(|c: char| glyphs.contains(&c) || is_collapsible(c)).to_string()
}

/// Cuts text into [`Section`]s at headings, keeping the heading path and the anchor of the
/// nearest enclosing heading that has one.
#[derive(Debug, Default)]
pub(crate) struct SectionBuilder {
    /// Open headings: level (1..=6), text, anchor.
    stack: Vec<(u8, String, Option<String>)>,
    /// The text of the section being filled.
    pub(crate) text: TextBuf,
    sections: Vec<Section>,
    /// Whether the section being filled starts at a heading (false before the first one).
    started: bool,
    /// Whether the section being filled continues an enclosing section after an API entry
    /// ([`SectionBuilder::end_entry`]); such a section is dropped when it stays blank.
    resumed: bool,
    first_h1: Option<String>,
    first_heading: Option<String>,
}

impl SectionBuilder {
    /// Closes the current section and opens one under a heading of `level`: 1..=6 for `h1`..`h6`,
    /// 7 and more for API entries nested in them (`html::parse`).
    pub(crate) fn heading(&mut self, level: u8, text: String, anchor: Option<String>) {
        self.close();
        if !text.is_empty() {
            if level == 1 && self.first_h1.is_none() {
                self.first_h1 = Some(text.clone());
            }
            if self.first_heading.is_none() {
                self.first_heading = Some(text.clone());
            }
        }
        while self.stack.last().is_some_and(|(l, _, _)| *l >= level) {
            self.stack.pop();
        }
        self.stack.push((level, text, anchor));
        self.started = true;
    }

    fn close(&mut self) {
        let text = std::mem::take(&mut self.text);
        let resumed = std::mem::take(&mut self.resumed);
        if (!self.started || resumed) && text.is_blank() {
            return;
        }
        let anchor = self.stack.iter().rev().find_map(|(_, _, a)| a.clone());
        // A heading without text (an icon, a lone permalink glyph) still ends a section and may
        // give it its anchor, but adds nothing to the path.
        let headings =
            self.stack.iter().filter(|(_, t, _)| !t.is_empty()).map(|(_, t, _)| t.clone()).collect();
        self.sections.push(Section { anchor, headings, text: text.finish() });
    }

    /// Ends the API entry (a heading of level 7 or more, see `html::parse`) at `level` and
    /// every entry inside it: the text that follows belongs to the enclosing heading again.
    pub(crate) fn end_entry(&mut self, level: u8) {
        self.close();
        while self.stack.last().is_some_and(|(l, _, _)| *l >= level) {
            self.stack.pop();
        }
        self.resumed = true;
    }

    /// A title from the headings: the first non-empty h1, else the first non-empty heading.
    pub(crate) fn heading_title(&self) -> Option<String> {
        self.first_h1.clone().or_else(|| self.first_heading.clone())
    }

    /// Closes the last section and returns all sections in order.
    pub(crate) fn finish(mut self) -> Vec<Section> {
        self.close();
        self.sections
    }
}
