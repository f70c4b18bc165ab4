//! Plain-text ingestion: one section, newlines normalised, title from a short first line.
//!
//! Owns: reading one plain-text file. Must not: guess structure (no heading detection).

use super::{Document, Section};

/// Why a text or Markdown file that a documentation generator wrote beside its pages is not
/// documentation, from its url: a copy of a page's source in Sphinx's `_sources/` folder (`page
/// source`), or a license of a font or script the theme ships (`license file`: a name with
/// `license`/`licence` in it, or starting with `copying`, `copyright` or `notice`; rustdoc,
/// mdBook and Docusaurus all write some). `None` for anything else.
pub fn not_documentation(url: &str) -> Option<&'static str> {
    let mut parts = url.rsplit('/');
    let name = parts.next().unwrap_or(url).to_ascii_lowercase();
    if parts.any(|dir| dir == "_sources") {
        return Some("page source");
    }
    let license = name.contains("license")
        || name.contains("licence")
        || ["copying", "copyright", "notice"].iter().any(|p| name.starts_with(p));
    license.then_some("license file")
}

/// Longest first line (in characters, exclusive) that is taken as the title.
const TITLE_MAX_CHARS: usize = 80;

/// Parses plain text into a document of one section (no headings, no anchor). `\r\n` and lone
/// `\r` become `\n`; leading and trailing blank space is trimmed. The title is the first
/// non-empty line when it is shorter than 80 characters, else `fallback_title`.
pub fn parse(url: &str, fallback_title: &str, text: &str) -> crate::Result<Document> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let title = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .filter(|l| l.chars().count() < TITLE_MAX_CHARS)
        .map(str::to_string)
        .unwrap_or_else(|| fallback_title.to_string());
    let body = text.trim_end().trim_start_matches(['\n', ' ', '\t']).to_string();
    let sections = if body.is_empty() {
        Vec::new()
    } else {
        vec![Section { anchor: None, headings: Vec::new(), text: body }]
    };
    Ok(Document { url: url.to_string(), title, sections })
}
