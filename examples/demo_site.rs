//! Renders Markdown files into a small static site, the way a docs team's site generator would:
//! one HTML page per file with a header, a navigation bar and a footer around `<main>`, and an `id`
//! on every heading. `./build.sh demo` renders the bundled docs with it, indexes the result with
//! `docent index` (the static-site path) and serves it next to the demo page, so that citation
//! links open a real page at a real anchor.
//!
//! Usage: `cargo run --example demo_site -- <OUT_DIR> <FILE.md>...`
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let out = PathBuf::from(args.next().ok_or("usage: demo_site <OUT_DIR> <FILE.md>...")?);
    let files: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if files.is_empty() {
        return Err("usage: demo_site <OUT_DIR> <FILE.md>... (no Markdown files given)".into());
    }
    std::fs::create_dir_all(&out)?;
    let pages: Vec<(PathBuf, String, String)> = files
        .iter()
        .map(|f| {
            let md = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
            let name = page_name(f);
            let title = first_heading(&md).unwrap_or_else(|| name.trim_end_matches(".html").to_string());
            Ok((f.clone(), name, title))
        })
        .collect::<Result<_, String>>()?;
    for (file, name, title) in &pages {
        let md = std::fs::read_to_string(file)?;
        let mut nav = String::new();
        for (_, other, other_title) in &pages {
            let current = if other == name { " aria-current=\"page\"" } else { "" };
            write!(nav, "<a href=\"{}\"{current}>{}</a>", escape(other), escape(other_title))?;
        }
        let page = format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n<link rel=\"icon\" href=\"data:,\">\n\
             <link rel=\"stylesheet\" href=\"site.css\">\n</head>\n<body>\n\
             <header><a class=\"home\" href=\"/\">docent demo</a> · documentation</header>\n\
             <nav>{nav}</nav>\n<main>\n{body}</main>\n\
             <footer>Rendered from {source} by examples/demo_site.rs.</footer>\n</body>\n</html>\n",
            title = escape(title),
            body = render(&md),
            source = escape(&file.file_name().unwrap_or_default().to_string_lossy()),
        );
        std::fs::write(out.join(name), page)?;
    }
    std::fs::write(out.join("site.css"), SITE_CSS)?;
    println!("rendered {} pages into {}", pages.len(), out.display());
    Ok(())
}

/// `docs/getting-started.md` → `getting-started.html`; `README.md` → `readme.html`.
fn page_name(path: &Path) -> String {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy().to_lowercase();
    format!("{stem}.html")
}

fn first_heading(md: &str) -> Option<String> {
    md.lines().find_map(|l| l.strip_prefix("# ")).map(|t| t.trim().to_string())
}

/// Markdown to HTML with an `id` on every heading (GitHub-style slug, made unique with `-1`,
/// `-2`…; an explicit `{#id}` wins) and `.md` links rewritten to the rendered `.html` pages.
fn render(md: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut events: Vec<Event> = Parser::new_ext(md, options).collect();
    let mut used = HashSet::new();
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { level, id, classes, attrs }) = &events[i] {
            let text: String = events[i + 1..]
                .iter()
                .take_while(|e| !matches!(e, Event::End(TagEnd::Heading(_))))
                .filter_map(|e| match e {
                    Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                    _ => None,
                })
                .collect();
            let anchor = match id {
                Some(id) => id.to_string(),
                None => {
                    let base = docent::ingest::markdown::slug(&text);
                    let mut candidate = base.clone();
                    let mut n = 1;
                    while used.contains(&candidate) {
                        candidate = format!("{base}-{n}");
                        n += 1;
                    }
                    candidate
                }
            };
            used.insert(anchor.clone());
            let level: HeadingLevel = *level;
            events[i] = Event::Start(Tag::Heading {
                level,
                id: Some(CowStr::from(anchor)),
                classes: classes.clone(),
                attrs: attrs.clone(),
            });
        }
        if let Event::Start(Tag::Link { dest_url, .. }) = &mut events[i] {
            if !dest_url.contains("://") {
                if let Some((path, rest)) = split_md_link(dest_url) {
                    *dest_url = CowStr::from(format!("{path}.html{rest}").to_lowercase());
                }
            }
        }
        i += 1;
    }
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    out
}

/// `../docs/cli.md#search` → (`cli`, `#search`) for links between rendered pages.
fn split_md_link(dest: &str) -> Option<(String, String)> {
    let (path, rest) = match dest.find('#') {
        Some(i) => (&dest[..i], &dest[i..]),
        None => (dest, ""),
    };
    let stem = path.strip_suffix(".md")?;
    let stem = stem.rsplit('/').next().unwrap_or(stem);
    Some((stem.to_string(), rest.to_string()))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const SITE_CSS: &str = "\
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.6; }
body { max-width: 820px; margin: 0 auto; padding: 0 20px 40px; }
header { padding: 16px 0; font-weight: 600; }
nav { display: flex; flex-wrap: wrap; gap: 6px 14px; padding-bottom: 12px; border-bottom: 1px solid #8884; }
nav a[aria-current] { font-weight: 700; }
pre { background: #8881; padding: 12px; border-radius: 8px; overflow: auto; }
code { font-size: 0.92em; }
table { border-collapse: collapse; } td, th { border: 1px solid #8886; padding: 4px 8px; }
:target { background: #ffd86633; scroll-margin-top: 12px; }
footer { margin-top: 40px; color: #888; font-size: 0.85rem; }
";
