//! Markdown ingestion (CommonMark plus tables, strikethrough, task lists and heading
//! attributes, via pulldown-cmark): sections cut at headings with GitHub-style slug anchors,
//! code kept verbatim, front matter title.
//!
//! Owns: reading one Markdown file. Must not: render HTML, or keep URLs, script or style text.

use std::collections::HashSet;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::{clean_heading, Document, SectionBuilder};

/// Parses CommonMark into a document.
///
/// Every heading gets an anchor: its `{#id}` attribute when given, else its GitHub-style slug
/// (see [`slug`]) made unique within the document with `-1`, `-2`, …. YAML front matter
/// (`---` … `---` at the very start) is skipped; its `title:` becomes the title, else the first
/// h1, else the first heading, else `fallback_title`.
pub fn parse(url: &str, fallback_title: &str, md: &str) -> crate::Result<Document> {
    let md = md.strip_prefix('\u{FEFF}').unwrap_or(md);
    let (front_title, body) = split_front_matter(md);
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES;

    let mut b = SectionBuilder::default();
    let mut used: HashSet<String> = HashSet::new();
    // Heading being collected: level, explicit id, text.
    let mut heading: Option<(u8, Option<String>, String)> = None;
    let mut code_depth = 0usize;
    let mut list_depth = 0usize;
    let mut row_cells = 0usize;
    let mut html_block: Option<String> = None;
    // Inside inline `<script>`/`<style>`: their text is dropped.
    let mut raw_inline = false;

    for event in Parser::new_ext(body, options) {
        if let Some(h) = heading.as_mut() {
            match event {
                Event::Text(t) | Event::Code(t) => h.2.push_str(&t),
                Event::SoftBreak | Event::HardBreak => h.2.push(' '),
                Event::End(TagEnd::Heading(_)) => {
                    if let Some((level, id, raw)) = heading.take() {
                        let text = clean_heading(&raw);
                        let anchor = match id {
                            Some(id) => id,
                            None => unique(slug(&text), &used),
                        };
                        used.insert(anchor.clone());
                        b.heading(level, text, Some(anchor));
                    }
                }
                _ => {}
            }
            continue;
        }
        if let Some(buf) = html_block.as_mut() {
            match event {
                Event::Html(t) | Event::Text(t) => buf.push_str(&t),
                Event::End(TagEnd::HtmlBlock) => {
                    if let Some(buf) = html_block.take() {
                        b.text.block(2);
                        b.text.text(&super::html::fragment_text(&buf));
                        b.text.block(2);
                    }
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::Heading { level, id, .. }) => {
                heading = Some((heading_level(level), id.map(|i| i.to_string()), String::new()));
            }
            Event::Start(Tag::HtmlBlock) => html_block = Some(String::new()),
            Event::Start(Tag::CodeBlock(_)) => {
                code_depth += 1;
                b.text.block(2);
            }
            Event::End(TagEnd::CodeBlock) => {
                code_depth = code_depth.saturating_sub(1);
                b.text.block(2);
            }
            Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => b.text.block(2),
            Event::Start(Tag::BlockQuote(_)) | Event::End(TagEnd::BlockQuote(_)) => b.text.block(2),
            Event::Start(Tag::List(_)) => {
                list_depth += 1;
                b.text.block(if list_depth == 1 { 2 } else { 1 });
            }
            Event::End(TagEnd::List(_)) => {
                list_depth = list_depth.saturating_sub(1);
                b.text.block(if list_depth == 0 { 2 } else { 1 });
            }
            Event::Start(Tag::Item) => {
                b.text.block(1);
                b.text.prefix(format!("{}- ", "  ".repeat(list_depth.saturating_sub(1))));
            }
            Event::Start(Tag::Table(_)) | Event::End(TagEnd::Table) => b.text.block(2),
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                b.text.block(1);
                row_cells = 0;
            }
            Event::Start(Tag::TableCell) => {
                if row_cells > 0 {
                    b.text.separator(" | ");
                }
                row_cells += 1;
            }
            Event::TaskListMarker(done) => b.text.text(if done { "[x] " } else { "[ ] " }),
            Event::Rule => b.text.block(2),
            Event::HardBreak => b.text.line_break(),
            Event::SoftBreak => b.text.text(" "),
            Event::Text(t) => {
                if code_depth > 0 {
                    b.text.verbatim(&t);
                } else if !raw_inline {
                    b.text.text(&t);
                }
            }
            Event::Code(t) => b.text.text(&t),
            Event::InlineHtml(t) | Event::Html(t) => {
                let tag = t.trim_start().to_ascii_lowercase();
                if tag.starts_with("<script") || tag.starts_with("<style") {
                    raw_inline = !(tag.contains("</script") || tag.contains("</style"));
                } else if tag.starts_with("</script") || tag.starts_with("</style") {
                    raw_inline = false;
                } else if tag.starts_with("<br") {
                    b.text.line_break();
                }
            }
            _ => {}
        }
    }
    let title = front_title.or_else(|| b.heading_title()).unwrap_or_else(|| fallback_title.to_string());
    Ok(Document { url: url.to_string(), title, sections: b.finish() })
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// GitHub's heading slug: lowercase; characters other than letters, digits, marks, `-`, `_`
/// and spaces removed (any script, not only ASCII); each space becomes `-`. A heading with no
/// such characters gets `section`.
pub fn slug(heading: &str) -> String {
    let s: String = heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() || is_mark(c) => Some(c),
            _ => None,
        })
        .collect();
    if s.is_empty() {
        "section".to_string()
    } else {
        s
    }
}

/// Combining marks (kept by GitHub's `\p{Word}`), for the scripts where they carry meaning.
fn is_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A | 0x064B..=0x065F
        | 0x0900..=0x0903 | 0x093A..=0x094F | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// `base`, or `base-1`, `base-2`, … : the first not in `used`.
fn unique(base: String, used: &HashSet<String>) -> String {
    if !used.contains(&base) {
        return base;
    }
    (1..).map(|n| format!("{base}-{n}")).find(|s| !used.contains(s)).unwrap_or(base)
}

/// Splits YAML front matter off the start: returns its `title:` (if any) and the rest.
fn split_front_matter(md: &str) -> (Option<String>, &str) {
    let Some(rest) = md.strip_prefix("---\n").or_else(|| md.strip_prefix("---\r\n")) else {
        return (None, md);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare == "..." {
            let title = rest[..offset].lines().find_map(|l| {
                let v = l.strip_prefix("title:")?.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                    .unwrap_or(v)
                    .trim();
                (!v.is_empty()).then(|| v.to_string())
            });
            return (title, &rest[offset + line.len()..]);
        }
        offset += line.len();
    }
    // No closing fence: not front matter.
    (None, md)
}
