//! Ingestion: turns HTML, Markdown and plain text into [`Document`]s made of [`Section`]s.
//!
//! Owns: parsing, main-content detection, heading anchors and heading paths, titles, directory
//! walking (native only). Must not: chunk, count tokens or embed; that is `chunk` and `embed`.

use serde::{Deserialize, Serialize};

pub mod html;
pub mod markdown;
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
}

impl Format {
    /// The format of a file, from its extension (case-insensitive); `None` for unsupported files.
    pub fn from_path(path: &str) -> Option<Format> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "html" | "htm" | "xhtml" => Some(Format::Html),
            "md" | "markdown" | "mdown" => Some(Format::Markdown),
            "txt" | "text" | "rst" | "adoc" => Some(Format::Text),
            _ => None,
        }
    }
}

/// Parses one input of a known format. `url` becomes [`Document::url`]; `fallback_title` is used
/// when the content has no title or heading (callers pass the file name).
pub fn parse(url: &str, fallback_title: &str, content: &str, format: Format) -> crate::Result<Ingested> {
    match format {
        Format::Html => html::parse(url, fallback_title, content),
        Format::Markdown => markdown::parse(url, fallback_title, content).map(Ingested::Document),
        Format::Text => text::parse(url, fallback_title, content).map(Ingested::Document),
    }
}
