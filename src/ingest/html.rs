//! HTML ingestion: main content, sections cut at `h1`..`h6` with heading paths and anchors,
//! clean text, title, and the pages that must not be indexed (noindex, redirect stubs,
//! `data-docent-ignore`).
//!
//! Owns: reading one HTML page. Must not: fetch anything, chunk, or recurse over the DOM (pages
//! are untrusted; every traversal here is iterative, and parsing caps element nesting at
//! [`MAX_DEPTH`] so hostile nesting cannot make html5ever's tree builder quadratic).

use std::cell::RefCell;
use std::collections::HashMap;

use ego_tree::NodeRef;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{TreeBuilder, TreeBuilderOpts, TreeSink};
use html5ever::{LocalName, TokenizerResult};
use scraper::node::Element;
use scraper::{Html, HtmlTreeSink, Node};

use super::{clean_heading, Document, Ingested, SectionBuilder, TextBuf};

/// The deepest element nesting kept while parsing (Blink uses the same limit). Start tags that
/// would open an element deeper than this are dropped (their text is kept, attached to the
/// element at depth 512), together with their end tags. Without the cap html5ever's tree builder
/// is quadratic in the nesting depth: 100,000 nested `<div>`s take about 13 s to parse.
pub const MAX_DEPTH: usize = 512;

/// Pages whose body has fewer visible characters than this are redirect stubs when they carry a
/// `<meta http-equiv="refresh" content="…; url=…">`.
const REDIRECT_STUB_MAX_CHARS: usize = 300;

/// Parses an HTML page into a document, or says why it is skipped.
///
/// Main content: elements with `data-docent-body`, else `<main>` or `role="main"`, else
/// `<article>`s (several are joined in order), else `<body>` without `nav`, `header`, `footer`,
/// `aside` (or their ARIA roles), `form`s without headings or paragraphs. Everywhere, scripts,
/// styles, templates, SVG/MathML, iframes, form controls, `nav`, `footer`, `search`, navigation,
/// search and dialog roles, permalinks, the generators' chrome ([`CHROME_CLASSES`],
/// [`CHROME_IDS`]) and elements that are `hidden`, `aria-hidden="true"`, `style="display:none"`
/// or `data-docent-ignore` are dropped with their subtree.
///
/// Sections: cut at `h1`..`h6`, and at API entries (a `<dt id>` in a `<dl>`, as Sphinx writes
/// for functions, classes, options…; a rustdoc struct field): an entry's section has the entry's
/// id as anchor, the enclosing headings plus the entry's signature as heading path, and its
/// description as text; entries nested in a description get sections of their own, and the text
/// after a `<dl>` of entries belongs to the enclosing section again.
///
/// Skipped: `<meta name="robots">` with `noindex` or `none` (`robots noindex`), a meta refresh
/// to a url with almost no body text (`redirect stub`), `data-docent-ignore` on `<html>` or
/// `<body>` (`data-docent-ignore`), a page named `404.html` (`not-found page`: every generator
/// writes one), rustdoc's source, settings, help and all-items pages (see [`generated_page`]),
/// Sphinx's index and search pages (see [`generated_listing`]).
pub fn parse(url: &str, fallback_title: &str, html: &str) -> crate::Result<Ingested> {
    let html = html.strip_prefix('\u{FEFF}').unwrap_or(html);
    let doc = parse_capped(html);
    let root = doc.tree.root();

    // One pass over the whole document for page-level facts.
    let mut title: Option<String> = None;
    let mut refresh_to_url = false;
    let mut body = None;
    for node in root.descendants() {
        let Some(el) = html_element(node) else {
            continue;
        };
        match el.name() {
            "meta" => {
                let name = el.attr("name").unwrap_or("");
                let content = el.attr("content").unwrap_or("");
                if name.trim().eq_ignore_ascii_case("robots")
                    && content
                        .split([',', ' ', '\t', '\n'])
                        .any(|v| v.eq_ignore_ascii_case("noindex") || v.eq_ignore_ascii_case("none"))
                {
                    return Ok(skipped("robots noindex"));
                }
                let equiv = el.attr("http-equiv").unwrap_or("");
                if equiv.trim().eq_ignore_ascii_case("refresh")
                    && content.to_ascii_lowercase().contains("url=")
                {
                    refresh_to_url = true;
                }
            }
            "html" if el.attr("data-docent-ignore").is_some() => {
                return Ok(skipped("data-docent-ignore"));
            }
            "body" if body.is_none() => {
                if el.attr("data-docent-ignore").is_some() {
                    return Ok(skipped("data-docent-ignore"));
                }
                if let Some(reason) = generated_page(el) {
                    return Ok(skipped(reason));
                }
                body = Some(node);
            }
            "title" if title.is_none() => {
                let mut t = String::new();
                for d in node.descendants() {
                    if let Node::Text(text) = d.value() {
                        t.push_str(text);
                    }
                }
                let t = clean_heading(&t);
                if !t.is_empty() {
                    title = Some(t);
                }
            }
            _ => {}
        }
    }
    let body = body.unwrap_or(root);
    if url.rsplit('/').next().is_some_and(|name| name.eq_ignore_ascii_case("404.html")) {
        return Ok(skipped("not-found page"));
    }

    if refresh_to_url {
        let mut probe = SectionBuilder::default();
        extract(body, &mut probe, false);
        let visible: usize = probe
            .finish()
            .iter()
            .map(|s| s.text.chars().filter(|c| !c.is_whitespace()).count() + s.headings.concat().len())
            .sum();
        if visible < REDIRECT_STUB_MAX_CHARS {
            return Ok(skipped("redirect stub"));
        }
    }

    // Main content.
    let mut roots = top_level(body, |el| el.attr("data-docent-body").is_some());
    let mut body_mode = false;
    if roots.is_empty() {
        roots = top_level(body, |el| (el.name() == "main" || has_role(el, &["main"])) && !is_hidden(el));
    }
    if roots.is_empty() {
        roots = top_level(body, |el| el.name() == "article" && !is_hidden(el));
    }
    if roots.is_empty() {
        roots = vec![body];
        body_mode = true;
    }

    if let Some(reason) = roots.iter().find_map(|r| generated_listing(*r)) {
        return Ok(skipped(reason));
    }

    let mut builder = SectionBuilder::default();
    for r in roots {
        extract(r, &mut builder, body_mode);
        builder.text.block(2);
    }
    let title = title.or_else(|| builder.heading_title()).unwrap_or_else(|| fallback_title.to_string());
    Ok(Ingested::Document(Document { url: url.to_string(), title, sections: builder.finish() }))
}

/// The visible text of an HTML fragment (e.g. an HTML block inside Markdown): tags stripped,
/// script, style and hidden elements dropped, headings kept as paragraphs.
pub(crate) fn fragment_text(html: &str) -> String {
    let doc = parse_capped(html);
    let mut builder = SectionBuilder::default();
    extract_with(doc.tree.root(), &mut builder, false, false);
    builder.finish().into_iter().map(|s| s.text).collect::<Vec<_>>().join("\n\n")
}

/// Pages a generator writes beside the documentation, known by the classes of their `<body>`:
/// rustdoc's source listings (`rustdoc src`: the crate's code with line numbers) and its
/// settings, help and all-items pages (`rustdoc … sys`).
fn generated_page(body: &Element) -> Option<&'static str> {
    let classes: Vec<&str> = body.attr("class")?.split_ascii_whitespace().collect();
    if !classes.contains(&"rustdoc") {
        return None;
    }
    if classes.contains(&"src") {
        Some("rustdoc source page")
    } else if classes.contains(&"sys") {
        Some("rustdoc settings, help or item list")
    } else {
        None
    }
}

/// Pages whose main content a generator fills with links to other pages or with a script, known
/// by their markup: Sphinx's general and module indexes (`<table class="indextable">`) and its
/// search page (`id="search-results"`, filled by a script).
fn generated_listing(main: NodeRef<'_, Node>) -> Option<&'static str> {
    for el in main.descendants().filter_map(html_element) {
        if el.name() == "table"
            && el.attr("class").is_some_and(|c| c.split_ascii_whitespace().any(|c| c == "indextable"))
        {
            return Some("generated index page");
        }
        if el.attr("id") == Some("search-results") {
            return Some("search page");
        }
    }
    None
}

fn skipped(reason: &str) -> Ingested {
    Ingested::Skipped { reason: reason.to_string() }
}

/// Parses with html5ever, capping element nesting at [`MAX_DEPTH`].
fn parse_capped(html: &str) -> Html {
    let builder = TreeBuilder::new(HtmlTreeSink::new(Html::new_document()), TreeBuilderOpts::default());
    let sink =
        DepthCap { inner: builder, open: RefCell::new(Vec::new()), dropped: RefCell::new(HashMap::new()) };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    while let TokenizerResult::Script(_) = tokenizer.feed(&input) {}
    tokenizer.end();
    tokenizer.sink.inner.sink.finish()
}

/// A token filter in front of the tree builder that keeps element nesting at most
/// [`MAX_DEPTH`]: it tracks the open elements that need an end tag (a shadow of the tree
/// builder's stack; elements closed implicitly such as `p`, `li`, `td` are not counted) and drops
/// start tags beyond the limit, then the matching end tags.
struct DepthCap<S> {
    inner: S,
    open: RefCell<Vec<LocalName>>,
    dropped: RefCell<HashMap<LocalName, usize>>,
}

/// Elements that are never dropped by [`DepthCap`] and not counted: void elements, elements
/// whose end tag is optional (closed implicitly, so they do not nest), and raw-text elements
/// (dropping their start tag would let their content be tokenized as markup).
fn uncapped(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
            | "param"
            | "keygen"
            | "frame"
            | "basefont"
            | "bgsound"
            | "p"
            | "li"
            | "dt"
            | "dd"
            | "option"
            | "optgroup"
            | "tr"
            | "td"
            | "th"
            | "thead"
            | "tbody"
            | "tfoot"
            | "rb"
            | "rt"
            | "rtc"
            | "rp"
            | "colgroup"
            | "caption"
            | "html"
            | "head"
            | "body"
            | "script"
            | "style"
            | "textarea"
            | "title"
            | "xmp"
            | "iframe"
            | "noembed"
            | "noframes"
            | "noscript"
            | "plaintext"
    )
}

impl<S: TokenSink> TokenSink for DepthCap<S> {
    type Handle = S::Handle;

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<S::Handle> {
        if let Token::TagToken(tag) = &token {
            if !uncapped(&tag.name) {
                let mut open = self.open.borrow_mut();
                let mut dropped = self.dropped.borrow_mut();
                match tag.kind {
                    TagKind::StartTag if !tag.self_closing => {
                        if open.len() >= MAX_DEPTH {
                            *dropped.entry(tag.name.clone()).or_insert(0) += 1;
                            return TokenSinkResult::Continue;
                        }
                        open.push(tag.name.clone());
                    }
                    TagKind::StartTag => {}
                    TagKind::EndTag => {
                        if let Some(n) = dropped.get_mut(&tag.name).filter(|n| **n > 0) {
                            *n -= 1;
                            return TokenSinkResult::Continue;
                        }
                        if let Some(pos) = open.iter().rposition(|n| *n == tag.name) {
                            open.truncate(pos);
                        }
                    }
                }
            }
        }
        self.inner.process_token(token, line_number)
    }

    fn end(&self) {
        self.inner.end()
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.inner.adjusted_current_node_present_but_not_in_html_namespace()
    }
}

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// The node as an element of the HTML namespace (SVG and MathML elements are not).
fn html_element<'a>(node: NodeRef<'a, Node>) -> Option<&'a Element> {
    match node.value() {
        Node::Element(el) if &*el.name.ns == HTML_NS => Some(el),
        _ => None,
    }
}

/// The outermost elements under `root` (in document order) that satisfy `pred`.
fn top_level<'a>(root: NodeRef<'a, Node>, pred: impl Fn(&Element) -> bool) -> Vec<NodeRef<'a, Node>> {
    let mut found = Vec::new();
    let mut inside: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        match edge {
            ego_tree::iter::Edge::Open(n) => {
                if inside.is_none() && html_element(n).is_some_and(&pred) {
                    found.push(n);
                    inside = Some(n.id());
                }
            }
            ego_tree::iter::Edge::Close(n) => {
                if inside == Some(n.id()) {
                    inside = None;
                }
            }
        }
    }
    found
}

/// Hidden from readers: `hidden`, `aria-hidden="true"`, inline `display:none`, or opted out
/// with `data-docent-ignore`.
fn is_hidden(el: &Element) -> bool {
    el.attr("hidden").is_some()
        || el.attr("data-docent-ignore").is_some()
        || el.attr("aria-hidden").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        || el.attr("style").is_some_and(|s| {
            let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            s.to_ascii_lowercase().contains("display:none")
        })
}

/// Elements dropped with their subtree wherever they are.
fn is_chrome(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "iframe"
            | "object"
            | "embed"
            | "canvas"
            | "button"
            | "input"
            | "select"
            | "textarea"
            | "option"
            | "datalist"
            | "dialog"
            | "head"
            | "title"
            | "meta"
            | "link"
    )
}

/// Whether `el`'s `role` attribute names one of `roles` (ARIA landmarks and widgets).
fn has_role(el: &Element, roles: &[&str]) -> bool {
    el.attr("role")
        .is_some_and(|r| r.split_ascii_whitespace().any(|r| roles.iter().any(|w| r.eq_ignore_ascii_case(w))))
}

/// Classes that mark page chrome in the output of common documentation generators, dropped with
/// their subtree wherever they are (inside `<main>` too). Generic rules come first (`<nav>`,
/// `role="navigation"`, permalink glyphs, see [`is_dropped`]); this list names what those miss.
/// `docs/generators.md` says which generator writes which.
pub const CHROME_CLASSES: &[&str] = &[
    // Permalinks and source links next to headings and API signatures.
    "headerlink",
    "hash-link",
    "viewcode-link",
    "viewcode-back",
    // "On this page" tables of contents, breadcrumbs, prev/next links, version switchers.
    "toc",
    "table-of-contents",
    "theme-doc-toc-mobile",
    "breadcrumb",
    "breadcrumbs",
    "wy-breadcrumbs",
    "rst-footer-buttons",
    "rst-versions",
    "version-switcher",
    "theme-doc-version-banner",
    "theme-doc-version-badge",
    // Sidebars, headers, footers and buttons of themes that put them inside `<main>`.
    "sphinxsidebar",
    "wy-nav-side",
    "md-sidebar",
    "md-header",
    "md-footer",
    "md-top",
    "md-skip",
    "md-source-file",
    "md-content__button",
    "skip-link",
    "theme-edit-this-page",
    "theme-last-updated",
    // rustdoc: breadcrumbs, "Source" links and version labels beside an item, "Expand
    // description".
    "rustdoc-breadcrumbs",
    "src",
    "rightside",
    "out-of-band",
    "hideme",
    // Cookie and consent banners.
    "cookie-banner",
    "cookie-consent",
    "md-consent",
];

/// Ids that mark generated boilerplate, dropped with their subtree: rustdoc's auto trait and
/// blanket implementations (the same `Send`, `From<T>`… with the standard library's text on
/// every item page).
pub const CHROME_IDS: &[&str] = &[
    "synthetic-implementations",
    "synthetic-implementations-list",
    "blanket-implementations",
    "blanket-implementations-list",
];

/// Whether `el` carries one of the [`CHROME_CLASSES`].
fn has_chrome_class(el: &Element) -> bool {
    el.attr("class").is_some_and(|c| c.split_ascii_whitespace().any(|c| CHROME_CLASSES.contains(&c)))
}

/// A permalink: a link to an anchor of the same page whose text has no letter or digit (`¶`,
/// `#`, `§`, `🔗`, a zero-width space, an icon or nothing), as generators put beside headings.
fn is_permalink(node: NodeRef<'_, Node>, el: &Element) -> bool {
    el.name() == "a"
        && el.attr("href").is_some_and(|h| h.trim_start().starts_with('#'))
        && !node.descendants().any(|d| match d.value() {
            Node::Text(t) => t.chars().any(char::is_alphanumeric),
            _ => false,
        })
}

/// Dropped with its subtree wherever it is, inside the main content too: [`is_chrome`]
/// elements, [`is_hidden`] ones, `<nav>` and `<footer>`, navigation, search and dialog roles
/// (menus, search boxes, cookie banners), [`CHROME_CLASSES`], permalinks.
fn is_dropped(node: NodeRef<'_, Node>, el: &Element) -> bool {
    is_chrome(el.name())
        || matches!(el.name(), "nav" | "footer" | "search")
        || is_hidden(el)
        || has_role(el, &["navigation", "search", "dialog", "alertdialog"])
        || has_chrome_class(el)
        || el.attr("id").is_some_and(|id| CHROME_IDS.contains(&id))
        || is_permalink(node, el)
}

/// The heading level of an API entry directly under headings (entries nested in an entry's
/// description get the next levels).
const ENTRY_LEVEL: u8 = 7;

/// The heading level of an API entry nested in `depth` others.
fn entry_level(depth: usize) -> u8 {
    ENTRY_LEVEL.saturating_add(u8::try_from(depth).unwrap_or(u8::MAX))
}

/// A rustdoc item that is not a heading: a struct field (`<span id="structfield.x"
/// class="structfield section-header">`); its description follows until the next heading or
/// field. Returns the id.
fn field_entry(el: &Element) -> Option<String> {
    let id = el.attr("id").map(str::trim).filter(|id| !id.is_empty())?;
    let class = el.attr("class")?;
    (heading_level(el.name()).is_none() && class.split_ascii_whitespace().any(|c| c == "section-header"))
        .then(|| id.to_string())
}

/// An API entry: a `<dt id>` in a `<dl>` (Sphinx writes one for each documented function,
/// class, method, attribute, option, configuration value, directive, glossary term…). Returns
/// the `<dl>` and the id. Footnote and citation lists and field lists (a function's
/// "Parameters") are not entries.
fn api_entry(node: NodeRef<'_, Node>, el: &Element) -> Option<(ego_tree::NodeId, String)> {
    if el.name() != "dt" {
        return None;
    }
    let id = el.attr("id").map(str::trim).filter(|id| !id.is_empty())?;
    let list = node.parent()?;
    let dl = html_element(list).filter(|dl| dl.name() == "dl")?;
    let not_entries = ["footnote", "citation", "field-list"];
    if dl.attr("class").is_some_and(|c| c.split_ascii_whitespace().any(|c| not_entries.contains(&c))) {
        return None;
    }
    Some((list.id(), id.to_string()))
}

/// The longest signature kept in a heading path, in characters; longer ones end with `…`.
const SIGNATURE_MAX_CHARS: usize = 200;

/// An API entry's signature as one line, without permalink glyphs or source links, and without
/// the spaces a signature wrapped one parameter per line leaves inside its brackets.
fn signature_text(node: NodeRef<'_, Node>) -> String {
    let text = clean_heading(&inline_text(node)).replace("( ", "(").replace(", )", ")").replace(" )", ")");
    match text.char_indices().nth(SIGNATURE_MAX_CHARS) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text,
    }
}

/// One step of an iterative depth-first walk.
enum Visit<'a> {
    /// An element is entered; return whether to walk its children.
    Open(NodeRef<'a, Node>, &'a Element),
    /// An element whose children were walked is left.
    Close(NodeRef<'a, Node>, &'a Element),
    /// A text node.
    Text(&'a str),
}

/// Walks `root`'s subtree in document order without recursion. The callback returns, for
/// `Open`, whether to descend; `Close` is only reported for elements that were descended into.
/// Non-HTML-namespace elements (SVG, MathML) are never descended into.
fn walk<'a>(root: NodeRef<'a, Node>, mut visit: impl FnMut(Visit<'a>) -> bool) {
    let mut cur = root;
    'outer: loop {
        let descend = match cur.value() {
            Node::Element(el) => &*el.name.ns == HTML_NS && visit(Visit::Open(cur, el)),
            Node::Text(t) => {
                visit(Visit::Text(t));
                false
            }
            Node::Document | Node::Fragment => true,
            _ => false,
        };
        if descend {
            if let Some(child) = cur.first_child() {
                cur = child;
                continue;
            }
            if let Node::Element(el) = cur.value() {
                visit(Visit::Close(cur, el));
            }
        }
        loop {
            if cur.id() == root.id() {
                break 'outer;
            }
            if let Some(next) = cur.next_sibling() {
                cur = next;
                continue 'outer;
            }
            match cur.parent() {
                Some(p) => cur = p,
                None => break 'outer,
            }
            if let Node::Element(el) = cur.value() {
                visit(Visit::Close(cur, el));
            }
        }
    }
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// Line breaks an element asks for around itself: 2 = blank line, 1 = line break.
fn block_level(name: &str) -> u8 {
    match name {
        "p" | "pre" | "blockquote" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "dl"
        | "table" | "figure" | "hr" | "address" | "details" | "fieldset" | "menu" => 2,
        "div" | "li" | "dt" | "dd" | "tr" | "section" | "article" | "header" | "footer" | "nav" | "aside"
        | "main" | "summary" | "figcaption" | "caption" | "form" | "legend" | "hgroup" | "center"
        | "body" | "tbody" | "thead" | "tfoot" => 1,
        _ => 0,
    }
}

/// Per-element work to undo on close.
enum Frame {
    Pre,
    List,
    Row { cells: usize },
    Cell,
    Plain,
}

/// Extracts the text under `root` into `builder`, cutting sections at headings. In
/// `body_mode`, page chrome (`nav`, `header`, `footer`, `aside`, forms without content) is
/// dropped too.
fn extract<'a>(root: NodeRef<'a, Node>, builder: &mut SectionBuilder, body_mode: bool) {
    extract_with(root, builder, body_mode, true)
}

/// [`extract`], optionally keeping headings as plain paragraphs instead of cutting sections.
fn extract_with<'a>(root: NodeRef<'a, Node>, builder: &mut SectionBuilder, body_mode: bool, cut: bool) {
    let mut frames: Vec<(ego_tree::NodeId, Frame)> = Vec::new();
    let mut pre_depth = 0usize;
    let mut list_depth = 0usize;
    // Open table cells: blocks inside one (Sphinx writes `<td><p>…</p></td>`) are separated by a
    // space, not a line break, so that a row stays on one line.
    let mut cell_depth = 0usize;
    // The `<dl>`s holding an open API entry, outermost first; the entry in the n-th (from 0) is a
    // heading of level `ENTRY_LEVEL + n`.
    let mut entry_lists: Vec<ego_tree::NodeId> = Vec::new();
    walk(root, |v| match v {
        Visit::Open(node, el) => {
            let name = el.name();
            if node.id() != root.id() && is_dropped(node, el) {
                return false;
            }
            if body_mode && node.id() != root.id() {
                if matches!(name, "nav" | "header" | "footer" | "aside")
                    || has_role(el, &["banner", "contentinfo", "complementary"])
                {
                    return false;
                }
                if name == "form" && !has_content(node) {
                    return false;
                }
            }
            if let Some(level) = heading_level(name).filter(|_| cut) {
                // rustdoc writes an item's signature as a heading.
                let code =
                    el.attr("class").is_some_and(|c| c.split_ascii_whitespace().any(|c| c == "code-header"));
                let text = if code { signature_text(node) } else { clean_heading(&inline_text(node)) };
                builder.heading(level, text, heading_anchor(node, el));
                return false;
            }
            if let Some((list, anchor)) = api_entry(node, el).filter(|_| cut) {
                if entry_lists.last() != Some(&list) {
                    entry_lists.push(list);
                }
                let level = entry_level(entry_lists.len() - 1);
                builder.heading(level, signature_text(node), Some(anchor));
                return false;
            }
            if let Some(anchor) = field_entry(el).filter(|_| cut) {
                builder.heading(entry_level(entry_lists.len()), signature_text(node), Some(anchor));
                return false;
            }
            let mut block = block_level(name);
            if matches!(name, "ul" | "ol" | "menu") && list_depth > 0 {
                block = 1; // a nested list continues its item
            }
            if block > 0 {
                if cell_depth > 0 && !matches!(name, "table" | "tr") {
                    builder.text.text(" ");
                } else {
                    builder.text.block(block);
                }
            }
            let frame = match name {
                "br" => {
                    builder.text.line_break();
                    return false;
                }
                "pre" | "xmp" | "listing" | "plaintext" => {
                    pre_depth += 1;
                    Frame::Pre
                }
                "ul" | "ol" | "menu" => {
                    list_depth += 1;
                    Frame::List
                }
                "li" => {
                    builder.text.prefix(format!("{}- ", "  ".repeat(list_depth.saturating_sub(1))));
                    Frame::Plain
                }
                "tr" => Frame::Row { cells: 0 },
                "td" | "th" => {
                    if let Some((_, Frame::Row { cells })) =
                        frames.iter_mut().rev().find(|(_, f)| matches!(f, Frame::Row { .. }))
                    {
                        if *cells > 0 {
                            builder.text.separator(" | ");
                        }
                        *cells += 1;
                    }
                    cell_depth += 1;
                    Frame::Cell
                }
                _ => Frame::Plain,
            };
            if block > 0 || !matches!(frame, Frame::Plain) {
                frames.push((node.id(), frame));
            }
            true
        }
        Visit::Close(node, el) => {
            if entry_lists.last() == Some(&node.id()) {
                entry_lists.pop();
                builder.end_entry(entry_level(entry_lists.len()));
            }
            if frames.last().is_some_and(|(id, _)| *id == node.id()) {
                if let Some((_, frame)) = frames.pop() {
                    match frame {
                        Frame::Pre => pre_depth = pre_depth.saturating_sub(1),
                        Frame::List => list_depth = list_depth.saturating_sub(1),
                        Frame::Cell => cell_depth = cell_depth.saturating_sub(1),
                        Frame::Row { .. } | Frame::Plain => {}
                    }
                }
            }
            let mut block = block_level(el.name());
            if matches!(el.name(), "ul" | "ol" | "menu") && list_depth > 0 {
                block = 1;
            }
            if block > 0 {
                if cell_depth > 0 && !matches!(el.name(), "table" | "tr") {
                    builder.text.text(" ");
                } else {
                    builder.text.block(block);
                }
            }
            true
        }
        Visit::Text(t) => {
            if pre_depth > 0 {
                builder.text.verbatim(t);
            } else {
                builder.text.text(t);
            }
            true
        }
    });
}

/// Whether a subtree holds document content (a heading or a paragraph).
fn has_content(node: NodeRef<'_, Node>) -> bool {
    node.descendants()
        .filter_map(html_element)
        .any(|el| el.name() == "p" || heading_level(el.name()).is_some())
}

/// The visible text of a heading (hidden and chrome descendants dropped).
fn inline_text(node: NodeRef<'_, Node>) -> String {
    let mut buf = TextBuf::default();
    walk(node, |v| match v {
        Visit::Open(n, el) => n.id() == node.id() || !is_dropped(n, el),
        Visit::Close(..) => true,
        Visit::Text(t) => {
            buf.text(t);
            true
        }
    });
    buf.finish()
}

/// How many ancestors up a wrapping `<section id>` (or `div`/`article`) is looked for.
const WRAPPER_LEVELS: usize = 4;

/// A heading's own anchor: its `id`, else an `<a id>`/`<a name>` inside it, else the id of a
/// wrapping `section`/`div`/`article` whose first heading it is.
fn heading_anchor(node: NodeRef<'_, Node>, el: &Element) -> Option<String> {
    let nonempty = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(id) = nonempty(el.attr("id")) {
        return Some(id);
    }
    for d in node.descendants().skip(1) {
        if let Some(a) = html_element(d) {
            if a.name() == "a" {
                if let Some(id) = nonempty(a.attr("id")).or_else(|| nonempty(a.attr("name"))) {
                    return Some(id);
                }
            }
        }
    }
    let mut cur = node;
    for _ in 0..WRAPPER_LEVELS {
        let Some(parent) = cur.parent() else { break };
        let Some(pel) = html_element(parent) else {
            break;
        };
        let first_heading = parent
            .descendants()
            .skip(1)
            .find(|d| html_element(*d).is_some_and(|e| heading_level(e.name()).is_some()));
        if first_heading.map(|h| h.id()) != Some(node.id()) {
            break;
        }
        if matches!(pel.name(), "section" | "div" | "article") {
            if let Some(id) = nonempty(pel.attr("id")) {
                return Some(id);
            }
        }
        cur = parent;
    }
    None
}
