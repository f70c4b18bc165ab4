//! Plain-text ingestion: one section, newlines normalised, title from a short first line.
//!
//! Owns: reading one plain-text file. Must not: guess structure (no heading detection).

use super::{Document, Section};

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
