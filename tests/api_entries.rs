//! API entries as sections and the generators' page chrome, on small pages written the way each
//! generator writes them (`tests/generators/` checks the real generators' output; this runs in
//! every `cargo test`).

use docent::ingest::{self, html, Document, Format, Ingested, Section};

fn doc(url: &str, page: &str) -> Document {
    match html::parse(url, "fallback", page).unwrap() {
        Ingested::Document(d) => d,
        Ingested::Skipped { reason } => panic!("{url} skipped: {reason}"),
    }
}

fn skip_reason(url: &str, page: &str, format: Format) -> String {
    match ingest::parse(url, "fallback", page, format).unwrap() {
        Ingested::Skipped { reason } => reason,
        Ingested::Document(d) => panic!("{url} was indexed: {d:?}"),
    }
}

fn by_anchor<'a>(d: &'a Document, anchor: &str) -> Vec<&'a Section> {
    d.sections.iter().filter(|s| s.anchor.as_deref() == Some(anchor)).collect()
}

fn all_text(d: &Document) -> String {
    d.sections
        .iter()
        .map(|s| format!("{}\n{}", s.headings.join(" > "), s.text))
        .collect::<Vec<_>>()
        .join("\n")
}

const SPHINX: &str = r##"<html><body>
<div class="sphinxsidebar" role="navigation"><h3>Navigation</h3><p>SIDEBAR-LEAK</p></div>
<div class="body" role="main">
<section id="api"><h1>API<a class="headerlink" href="#api" title="Link to this heading">¶</a></h1>
<p>Intro.</p>
<dl class="py class">
<dt class="sig sig-object py" id="kite.Kite"><em class="property">class </em><span class="sig-prename descclassname">kite.</span><span class="sig-name descname">Kite</span>(<em>span</em>)<a class="reference internal" href="_modules/kite.html"><span class="viewcode-link">[source]</span></a><a class="headerlink" href="#kite.Kite" title="Link to this definition">¶</a></dt>
<dd><p>A kite with a span in metres.</p>
<dl class="py method">
<dt class="sig sig-object py" id="kite.Kite.launch"><span class="sig-name descname">launch</span>(<em>angle</em>)<a class="headerlink" href="#kite.Kite.launch">¶</a></dt>
<dd><p>Launches at <em>angle</em> degrees.</p>
<dl class="field-list simple"><dt class="field-odd">Parameters<span class="colon">:</span></dt><dd class="field-odd"><p><strong>angle</strong> – from 20 to 40</p></dd></dl>
</dd></dl>
<p>Kites are flown in pairs.</p>
</dd></dl>
<p>After the class.</p>
<dl class="footnote brackets"><dt class="label" id="f1">1</dt><dd><p>A footnote.</p></dd></dl>
<dl class="glossary simple"><dt id="term-bridle">bridle</dt><dd><p>The lines that hold the kite at its angle.</p></dd>
<dt id="term-spar">spar</dt><dd><p>A rod of the frame.</p></dd></dl>
<h2 id="next">Next part</h2><p>Later text.</p>
</section></div>
<div class="related" role="navigation"><a href="prev.html">previous</a> RELATED-LEAK</div>
</body></html>"##;

#[test]
fn sphinx_dt_entries_are_sections_nested_under_their_headings() {
    let d = doc("api.html", SPHINX);
    let class = by_anchor(&d, "kite.Kite");
    assert_eq!(class.len(), 2, "the class's text before and after its methods: {:#?}", d.sections);
    assert_eq!(class[0].headings, ["API", "class kite.Kite(span)"]);
    assert_eq!(class[0].text, "A kite with a span in metres.");
    assert_eq!(class[1].text, "Kites are flown in pairs.");
    let method = by_anchor(&d, "kite.Kite.launch");
    assert_eq!(method.len(), 1);
    assert_eq!(method[0].headings, ["API", "class kite.Kite(span)", "launch(angle)"]);
    assert_eq!(method[0].text, "Launches at angle degrees.\n\nParameters:\n\nangle – from 20 to 40");
    // Text after the list belongs to the heading again; a footnote is not an entry.
    let api = by_anchor(&d, "api");
    assert_eq!(api.last().unwrap().headings, ["API"]);
    assert!(api.last().unwrap().text.starts_with("After the class.\n\n1\n\nA footnote."), "{api:#?}");
    assert!(by_anchor(&d, "f1").is_empty());
    // Glossary terms are entries, one each; the next heading closes them.
    assert_eq!(by_anchor(&d, "term-bridle")[0].headings, ["API", "bridle"]);
    assert_eq!(by_anchor(&d, "term-spar")[0].text, "A rod of the frame.");
    assert_eq!(by_anchor(&d, "next")[0].headings, ["API", "Next part"]);
    let all = all_text(&d);
    for leak in ["SIDEBAR-LEAK", "RELATED-LEAK", "¶", "[source]"] {
        assert!(!all.contains(leak), "{leak} in {all}");
    }
}

#[test]
fn rustdoc_items_fields_and_their_anchors() {
    let page = r##"<html><body class="rustdoc struct"><nav class="sidebar"><h2>SIDEBAR-LEAK</h2></nav>
<main><section id="main-content" class="content">
<div class="main-heading"><div class="rustdoc-breadcrumbs"><a href="index.html">kite</a></div>
<h1>Struct <span class="struct">Kite</span><button id="copy-path">Copy item path</button></h1>
<span class="sub-heading"><a class="src" href="../src/kite/lib.rs.html#1">Source</a></span></div>
<details class="toggle top-doc" open><summary class="hideme"><span>Expand description</span></summary>
<div class="docblock"><p>A kite.</p></div></details>
<h2 id="fields" class="fields section-header">Fields<a href="#fields" class="anchor">§</a></h2>
<span id="structfield.span" class="structfield section-header"><a href="#structfield.span" class="anchor field">§</a><code>span: f32</code></span>
<div class="docblock"><p>Span in metres.</p></div>
<h2 id="implementations" class="section-header">Implementations<a href="#implementations" class="anchor">§</a></h2>
<details class="toggle implementors-toggle" open><summary><section id="impl-Kite" class="impl"><a class="src rightside" href="#">Source</a><a href="#impl-Kite" class="anchor">§</a><h3 class="code-header">impl Kite</h3></section></summary>
<div class="impl-items"><details class="toggle method-toggle" open><summary><section id="method.launch" class="method"><a class="src rightside" href="#">Source</a><h4 class="code-header">pub fn <a href="#method.launch" class="fn">launch</a>(&amp;mut self)</h4></section></summary>
<div class="docblock"><p>Launches the kite.</p></div></details></div></details>
<h2 id="blanket-implementations" class="section-header">Blanket Implementations<a href="#blanket-implementations" class="anchor">§</a></h2>
<div id="blanket-implementations-list"><p>Returns the argument unchanged.</p></div>
</section></main></body></html>"##;
    let d = doc("kite/struct.Kite.html", page);
    assert_eq!(d.sections[0].anchor.as_deref(), Some("main-content"));
    assert_eq!(d.sections[0].headings, ["Struct Kite"]);
    assert_eq!(d.sections[0].text, "A kite.");
    let field = by_anchor(&d, "structfield.span");
    assert_eq!(field[0].headings, ["Struct Kite", "Fields", "span: f32"]);
    assert_eq!(field[0].text, "Span in metres.");
    let method = by_anchor(&d, "method.launch");
    assert_eq!(
        method[0].headings,
        ["Struct Kite", "Implementations", "impl Kite", "pub fn launch(&mut self)"]
    );
    assert_eq!(method[0].text, "Launches the kite.");
    let all = all_text(&d);
    for leak in
        ["SIDEBAR-LEAK", "Copy item path", "Source", "Expand description", "§", "Blanket", "unchanged"]
    {
        assert!(!all.contains(leak), "{leak} in {all}");
    }
}

#[test]
fn chrome_inside_main_is_dropped_and_cells_stay_on_their_row() {
    let page = r##"<html><body><main>
<div class="md-sidebar"><ul><li>SIDEBAR-LEAK</li></ul></div>
<nav class="toc-inside">NAV-LEAK</nav>
<div role="navigation">ROLE-NAV-LEAK</div>
<div class="cookie-banner">COOKIE-LEAK</div>
<div role="dialog">DIALOG-LEAK</div>
<ol class="breadcrumbs"><li>CRUMB-LEAK</li></ol>
<article>
<h1 id="top">Kites <a class="anchor" href="#top">🔗</a></h1>
<h2 id="z">Zero width<a href="#z" class="hash-link" aria-label="Direct link">&#8203;</a></h2>
<table><tr><td><p>red</p></td><td><p>3V3</p><p>power</p></td></tr></table>
<p>See <a href="#fn1">1</a>.</p>
</article>
<footer class="theme-doc-footer"><a href="edit">FOOTER-LEAK</a></footer>
</main></body></html>"##;
    let d = doc("p.html", page);
    let all = all_text(&d);
    for leak in ["LEAK", "🔗", "\u{200b}"] {
        assert!(!all.contains(leak), "{leak} in {all}");
    }
    assert_eq!(d.sections[1].headings, ["Kites", "Zero width"]);
    assert_eq!(d.sections[1].text, "red | 3V3 power\n\nSee 1.");
}

#[test]
fn role_main_is_the_main_content() {
    let page = r#"<html><body><div class="header">HEADER-LEAK</div>
<div class="document" role="main"><h1 id="a">A</h1><p>Body.</p></div>
<div class="sidebar">SIDEBAR-LEAK</div></body></html>"#;
    let d = doc("p.html", page);
    assert_eq!(all_text(&d), "A\nBody.");
}

#[test]
fn generated_pages_are_skipped_with_a_reason() {
    let page = |body: &str| format!("<html><body>{body}</body></html>");
    let cases = [
        ("404.html", page("<main><h1>404 - Not found</h1></main>"), Format::Html, "not-found page"),
        (
            "genindex.html",
            page(
                r#"<div role="main"><h1 id="index">Index</h1><table class="indextable genindextable"><tr><td><a href="a.html#x">x()</a></td></tr></table></div>"#,
            ),
            Format::Html,
            "generated index page",
        ),
        (
            "search.html",
            page(
                r#"<div role="main"><h1 id="search">Search</h1><p>Searching for words.</p><div id="search-results"></div></div>"#,
            ),
            Format::Html,
            "search page",
        ),
        (
            "src/kite/lib.rs.html",
            r#"<html><body class="rustdoc src"><main><pre>pub struct Kite;</pre></main></body></html>"#
                .to_string(),
            Format::Html,
            "rustdoc source page",
        ),
        (
            "settings.html",
            r#"<html><body class="rustdoc mod sys"><main><h1>Rustdoc settings</h1></main></body></html>"#
                .to_string(),
            Format::Html,
            "rustdoc settings, help or item list",
        ),
        ("_sources/install.md.txt", "# Installing\n\nText.".to_string(), Format::Text, "page source"),
        (
            "static.files/LICENSE-MIT-1a2b.txt",
            "Permission is hereby granted".to_string(),
            Format::Text,
            "license file",
        ),
        ("assets/js/main.js.LICENSE.txt", "/*! MIT */".to_string(), Format::Text, "license file"),
        ("COPYING", "GPL".to_string(), Format::Text, "license file"),
    ];
    for (url, content, format, reason) in cases {
        assert_eq!(skip_reason(url, &content, format), reason, "{url}");
    }
    // An ordinary page that only mentions those words is indexed.
    let d = doc(
        "errors.html",
        &page("<main><h1 id=\"e\">Page not found errors</h1><p>Licenses and 404s.</p></main>"),
    );
    assert_eq!(d.sections[0].text, "Licenses and 404s.");
}
