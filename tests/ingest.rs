//! Tests for `ingest`: HTML main content, sections, anchors, text, skips and titles; Markdown
//! slugs, code and front matter; plain text; directory walking; hostile input; and a smoke run
//! over the Cargo book that ships with the Rust toolchain.

use std::path::{Path, PathBuf};
use std::time::Instant;

use docent::ingest::walk::{walk, WalkOptions};
use docent::ingest::{html, markdown, text, Document, Ingested, Section};

fn load(name: &str) -> String {
    // Not `crate::common`: cargo also builds this file as its own test target.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ingest").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

fn html_doc(name: &str) -> Document {
    match html::parse(name, "fallback", &load(name)).expect("parse") {
        Ingested::Document(d) => d,
        other => panic!("{name}: expected a document, got {other:?}"),
    }
}

fn all_text(d: &Document) -> String {
    d.sections.iter().map(|s| format!("{}\n{}\n", s.headings.join(" > "), s.text)).collect()
}

fn section<'a>(d: &'a Document, last_heading: &str) -> &'a Section {
    d.sections
        .iter()
        .find(|s| s.headings.last().map(String::as_str) == Some(last_heading))
        .unwrap_or_else(|| panic!("no section '{last_heading}' in {:#?}", d.sections))
}

fn skip_reason(name: &str) -> String {
    match html::parse(name, "fallback", &load(name)).expect("parse") {
        Ingested::Skipped { reason } => reason,
        Ingested::Document(d) => panic!("{name}: expected a skip, got {d:#?}"),
    }
}

// ---------------------------------------------------------------- HTML

#[test]
fn html_body_fallback_drops_chrome_scripts_and_hidden() {
    let d = html_doc("page.html");
    let all = all_text(&d);
    for leak in [
        "HEADER-LEAK",
        "NAV-LEAK",
        "ASIDE-LEAK",
        "FOOTER-LEAK",
        "NOSCRIPT-LEAK",
        "TEMPLATE-LEAK",
        "SVG-LEAK",
        "STYLE-LEAK",
        "SCRIPT-LEAK",
        "HIDDEN-LEAK",
        "ARIA-LEAK",
        "IGNORE-LEAK",
        "FORM-LEAK",
        "BUTTON-LEAK",
        "</scr",
        "ipt>",
    ] {
        assert!(!all.contains(leak), "{leak} leaked into:\n{all}");
    }
    assert!(all.contains("Lanterns light the way"), "{all}");
    assert!(all.contains("Keep it dry."), "{all}");
}

#[test]
fn html_text_before_first_heading_has_no_heading_and_no_anchor() {
    let d = html_doc("page.html");
    assert_eq!(d.sections[0].headings, Vec::<String>::new());
    assert_eq!(d.sections[0].anchor, None);
    assert_eq!(d.sections[0].text, "Lanterns light the way & keep moths busy.");
}

#[test]
fn html_heading_paths_nest_and_pop() {
    let d = html_doc("page.html");
    let paths: Vec<Vec<&str>> =
        d.sections.iter().map(|s| s.headings.iter().map(String::as_str).collect()).collect();
    assert_eq!(
        paths,
        vec![
            vec![],
            vec!["Lantern Guide"],
            vec!["Lantern Guide", "Fuel"],
            vec!["Lantern Guide", "Fuel", "Wick trimming"],
            vec!["Lantern Guide", "Fuel", "Smoke"],
            vec!["Lantern Guide", "Storage"],
            vec!["Lantern Guide", "Winter"],
            vec!["Lantern Guide", "Mixed scripts"],
        ]
    );
}

#[test]
fn html_anchors_own_parent_inner_a_wrapping_section() {
    let d = html_doc("page.html");
    // Own id; the permalink glyph is trimmed from the heading text.
    assert_eq!(section(&d, "Lantern Guide").anchor.as_deref(), Some("lantern-guide"));
    assert_eq!(section(&d, "Fuel").anchor.as_deref(), Some("fuel"));
    // No id: the enclosing h2's id.
    assert_eq!(section(&d, "Wick trimming").anchor.as_deref(), Some("fuel"));
    // `<a id>` as the heading's first child.
    assert_eq!(section(&d, "Smoke").anchor.as_deref(), Some("smoke"));
    // No id on the h2: falls back to the h1.
    assert_eq!(section(&d, "Storage").anchor.as_deref(), Some("lantern-guide"));
    // `<section id>` whose first heading this is; `🔗` trimmed.
    assert_eq!(section(&d, "Winter").anchor.as_deref(), Some("winter"));
}

#[test]
fn html_anchor_is_none_when_no_heading_has_an_id() {
    let d = html_doc("untitled.html");
    assert!(d.sections.iter().all(|s| s.anchor.is_none()), "{:#?}", d.sections);
}

#[test]
fn html_entities_are_decoded_and_whitespace_collapsed() {
    let d = html_doc("page.html");
    assert_eq!(
        section(&d, "Lantern Guide").text,
        "Compare a <wick> with a 'mantle': both glow. Lines collapse."
    );
    assert_eq!(section(&d, "Fuel").text, "Use oil.\nNever petrol.");
}

#[test]
fn html_pre_is_verbatim_and_separated_by_blank_lines() {
    let d = html_doc("page.html");
    let expected = "Trim to 3 mm.\n\nfn trim(wick: &mut Wick) {\n    wick.len -= 3;   // keep   spaces\n\n    wick.light();\n}";
    assert_eq!(section(&d, "Wick trimming").text, expected);
}

#[test]
fn html_lists_and_tables() {
    let d = html_doc("page.html");
    assert_eq!(section(&d, "Smoke").text, "- Black smoke: too long\n- No flame:\n  - dry wick");
    assert_eq!(section(&d, "Storage").text, "Place | Ok?\nShed | yes");
}

#[test]
fn html_zero_width_and_rtl_characters_are_preserved() {
    let d = html_doc("page.html");
    let t = &section(&d, "Mixed scripts").text;
    for c in ['\u{200B}', '\u{200D}', '\u{202B}', '\u{202C}', '\u{200F}'] {
        assert!(t.contains(c), "U+{:04X} lost from {t:?}", c as u32);
    }
    assert!(t.contains("שלום עולם") && t.contains("مرحبا"), "{t:?}");
}

#[test]
fn html_main_wins_over_body_and_keeps_its_own_header() {
    let d = html_doc("main.html");
    let all = all_text(&d);
    assert!(!all.contains("SIDEBAR-LEAK") && !all.contains("AFTER-LEAK"), "{all}");
    assert!(!all.contains("Table of contents"), "{all}");
    assert_eq!(d.sections[0].text, "Intro before any heading.");
    assert_eq!(section(&d, "Kept header heading").anchor.as_deref(), Some("top"));
    assert!(all.contains("Aside inside main is kept."), "{all}");
}

#[test]
fn html_data_docent_body_wins_over_main() {
    let d = html_doc("docent_body.html");
    assert!(!all_text(&d).contains("MAIN-LEAK"));
    assert_eq!(d.sections.len(), 1);
    assert_eq!(d.sections[0].anchor.as_deref(), Some("only"));
    assert_eq!(d.sections[0].text, "Chosen text.");
}

#[test]
fn html_several_articles_are_joined_in_order() {
    let d = html_doc("articles.html");
    assert!(!all_text(&d).contains("BETWEEN-LEAK"));
    let texts: Vec<&str> = d.sections.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts, ["One.", "Two."]);
}

#[test]
fn html_skips_noindex_redirect_stub_and_ignored_pages() {
    assert_eq!(skip_reason("noindex.html"), "robots noindex");
    assert_eq!(skip_reason("redirect.html"), "redirect stub");
    assert_eq!(skip_reason("ignored.html"), "data-docent-ignore");
}

#[test]
fn html_refresh_on_a_long_page_is_not_a_stub() {
    let body = "<p>Real content that goes on. </p>".repeat(40);
    let page = format!(
        "<html><head><meta http-equiv=refresh content='30; url=x.html'></head><body>{body}</body></html>"
    );
    assert!(matches!(html::parse("p", "p", &page).unwrap(), Ingested::Document(_)));
}

#[test]
fn html_title_fallbacks() {
    assert_eq!(html_doc("page.html").title, "Lantern Guide - Glowworm Docs");
    // No <title>: the first h1 even when an h2 comes first.
    assert_eq!(html_doc("untitled.html").title, "The real title");
    // No <title>, no h1: the first heading.
    assert_eq!(html_doc("articles.html").title, "First story");
    let d = match html::parse("x", "x", "<body><h3>Only h3</h3></body>").unwrap() {
        Ingested::Document(d) => d,
        other => panic!("{other:?}"),
    };
    assert_eq!(d.title, "Only h3");
    // Nothing: the fallback.
    assert_eq!(html_doc("bare.html").title, "fallback");
}

#[test]
fn html_headings_without_text_still_make_sections() {
    let d = match html::parse("x", "x", "<h2 id=a>A</h2><h2 id=b>B</h2><p>b text</p>").unwrap() {
        Ingested::Document(d) => d,
        other => panic!("{other:?}"),
    };
    assert_eq!(d.sections.len(), 2);
    assert_eq!(d.sections[0].text, "");
    assert_eq!(d.sections[0].anchor.as_deref(), Some("a"));
}

/// Regression: 100,000 nested `<div>`s took 13 s in html5ever's tree builder (its scope checks
/// scan the open-element stack) before the depth cap; and a recursive walk would overflow a
/// small stack. Runs on a 1 MiB thread stack to prove no traversal here recurses.
#[test]
fn html_deep_nesting_neither_overflows_nor_hangs() {
    let n = 100_000;
    let page = format!(
        "<html><body><h2 id=deep>Deep</h2>{}bottom text{}<p>after</p></body></html>",
        "<div>".repeat(n),
        "</div>".repeat(n)
    );
    let started = Instant::now();
    let d = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || html::parse("deep", "deep", &page).expect("parse"))
        .expect("spawn")
        .join()
        .expect("deep nesting panicked (stack overflow?)");
    let elapsed = started.elapsed();
    let Ingested::Document(d) = d else { panic!("skipped") };
    assert_eq!(d.sections[0].anchor.as_deref(), Some("deep"));
    assert_eq!(d.sections[0].text, "bottom text\n\nafter");
    assert!(elapsed.as_secs() < 5, "100k nested divs took {elapsed:?}");
    eprintln!("100k nested divs parsed in {elapsed:?}");
}

#[test]
fn html_deep_inline_nesting_is_capped_too() {
    let n = 50_000;
    let page = format!("<p>{}x{}</p>", "<b><i>".repeat(n), "</i></b>".repeat(n));
    let started = Instant::now();
    let d = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || html::parse("deep", "deep", &page).expect("parse"))
        .expect("spawn")
        .join()
        .expect("panicked");
    assert!(started.elapsed().as_secs() < 5, "took {:?}", started.elapsed());
    let Ingested::Document(d) = d else { panic!("skipped") };
    assert_eq!(d.sections[0].text, "x");
}

#[test]
fn html_script_lookalikes_do_not_leak() {
    let page = r#"<body><script>
        var a = "<!--<script>"; var b = "</script> LEAK-A"; var c = "-->";
    </script><script>var d = '<\/script> LEAK-B'; var e = "</scr" + "ipt> LEAK-C";</script>
    <p>safe</p></body>"#;
    let Ingested::Document(d) = html::parse("s", "s", page).unwrap() else { panic!("skipped") };
    assert_eq!(all_text(&d).trim(), "safe");
}

// ---------------------------------------------------------------- Markdown

fn md_guide() -> Document {
    markdown::parse("guide.md", "fallback", &load("guide.md")).expect("parse")
}

#[test]
fn markdown_front_matter_is_skipped_and_gives_the_title() {
    let d = md_guide();
    assert_eq!(d.title, "Kite Flying: A Field Guide");
    assert!(!all_text(&d).contains("tags:"), "{}", all_text(&d));
    assert_eq!(d.sections[0].headings, Vec::<String>::new());
    assert_eq!(d.sections[0].text, "Before any heading, a line with a link and a red kite.");
}

#[test]
fn markdown_slugs_duplicates_unicode_punctuation_custom() {
    let d = md_guide();
    let anchors: Vec<&str> = d.sections.iter().filter_map(|s| s.anchor.as_deref()).collect();
    assert_eq!(
        anchors,
        [
            "kite-flying",
            "getting-started",
            "getting-started-1",
            "getting-started-2",
            "vent--spar-2024-edition",
            "über-große-drachen",
            "кайты-и-ветер",
            "my-anchor",
            "appendix",
        ]
    );
    // The `{#id}` attribute is not part of the heading text.
    assert_eq!(section(&d, "Custom anchor").headings, ["Kite Flying", "Custom anchor"]);
    assert_eq!(section(&d, "Appendix").headings, ["Appendix"]);
    assert_eq!(
        section(&d, "Кайты и ветер").headings,
        ["Kite Flying", "Getting Started!", "Über große Drachen", "Кайты и ветер"]
    );
}

#[test]
fn markdown_slug_function() {
    assert_eq!(markdown::slug("Hello, World!"), "hello-world");
    assert_eq!(markdown::slug("snake_case and-dash"), "snake_case-and-dash");
    assert_eq!(markdown::slug("  Trim me  "), "trim-me");
    assert_eq!(markdown::slug("C++ & Rust: 2 langs"), "c--rust-2-langs");
    assert_eq!(markdown::slug("日本語 見出し"), "日本語-見出し");
    assert_eq!(markdown::slug("!!!"), "section");
}

#[test]
fn markdown_code_blocks_verbatim_inline_text_kept() {
    let d = md_guide();
    assert_eq!(
        section(&d, "Vent & Spar (2024 edition)").text,
        "fn launch(k: &mut Kite) {\n    k.angle = 30;   // degrees\n\n    k.release();\n}"
    );
    assert_eq!(section(&d, "Kite Flying").text, "Intro with inline code and bold text.");
    let gs = &d.sections.iter().find(|s| s.anchor.as_deref() == Some("getting-started")).unwrap().text;
    assert_eq!(gs, "Steps:\n\n- Unroll the line\n- Face the wind\n  - check gusts\n\n- [x] buy string\n- [ ] find a hill");
    assert!(!all_text(&d).contains("https://example.com"), "urls must be dropped");
}

#[test]
fn markdown_html_is_stripped_without_script_or_style() {
    let d = md_guide();
    let all = all_text(&d);
    for leak in ["MD-SCRIPT-LEAK", "MD-STYLE-LEAK", "INLINE-SCRIPT-LEAK", "<div", "<span", "<p>"] {
        assert!(!all.contains(leak), "{leak} leaked:\n{all}");
    }
    assert_eq!(
        section(&d, "Custom anchor").text,
        "HTML block note & tip.\n\nWind | Kite\ncalm | none\ngusty | delta"
    );
    assert_eq!(section(&d, "Appendix").text, "Text inline html and done.");
}

#[test]
fn markdown_title_fallbacks() {
    // No front matter, no h1: first heading.
    assert_eq!(markdown::parse("n", "fb", &load("notitle.md")).unwrap().title, "Deep first");
    assert_eq!(markdown::parse("n", "fb", "# Top\n\n## Sub").unwrap().title, "Top");
    assert_eq!(markdown::parse("n", "fb", "no heading").unwrap().title, "fb");
    // A `---` that never closes is a thematic break, not front matter.
    let d = markdown::parse("n", "fb", "---\ntitle: nope\n\ntext").unwrap();
    assert_eq!(d.title, "fb");
    assert!(all_text(&d).contains("title: nope"));
}

// ---------------------------------------------------------------- Text

#[test]
fn text_is_one_section_with_normalised_newlines() {
    let d = text::parse("t.txt", "fb", &load("crlf.txt")).unwrap();
    assert_eq!(d.title, "Short Title Line");
    assert_eq!(d.sections.len(), 1);
    assert_eq!(d.sections[0].anchor, None);
    assert!(d.sections[0].headings.is_empty());
    assert_eq!(d.sections[0].text, "Short Title Line\n\nBody line one.\nBody line two.");
    let long = format!("{}\nrest", "word ".repeat(30));
    assert_eq!(text::parse("t", "fb", &long).unwrap().title, "fb");
}

// ---------------------------------------------------------------- Walk

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = dir.path();
    write(r, "index.html", b"<html><body><p>home page</p></body></html>");
    write(r, "guide/b-second.md", b"# Second\n\ntext b");
    write(r, "guide/a-first.md", b"# First\n\ntext a");
    write(r, "guide/copy-of-first.md", b"# First\n\ntext a");
    write(r, "guide/deeper/index.html", b"<p>deeper index</p>");
    write(r, "notes/latin1.txt", b"caf\xe9 cr\xe8me\n");
    write(r, "logo.png", b"\x89PNG");
    write(r, "data.json", b"{}");
    write(r, ".hidden/secret.md", b"# secret");
    write(r, "node_modules/pkg/readme.md", b"# vendored");
    dir
}

#[test]
fn walk_recursive_sorted_urls_duplicates_unsupported_lossy() {
    let dir = site();
    let mut seen = Vec::new();
    let report = walk(
        &[dir.path().to_path_buf()],
        &WalkOptions { base_url: "https://x/docs/".into(), ..Default::default() },
        &mut |p: &Path| seen.push(p.to_path_buf()),
    )
    .expect("walk");
    let urls: Vec<&str> = report.files.iter().map(|f| f.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://x/docs/guide/a-first.md",
            "https://x/docs/guide/b-second.md",
            "https://x/docs/guide/deeper/index.html",
            "https://x/docs/index.html",
            "https://x/docs/notes/latin1.txt",
        ]
    );
    assert_eq!(report.duplicates, 1);
    assert_eq!(report.unsupported, 2);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("latin1.txt") && report.warnings[0].contains("not valid UTF-8"));
    assert_eq!(seen.len(), 6, "on_file sees every supported file, duplicates included");
    let latin = &report.files[4];
    let Ingested::Document(d) = &latin.outcome else { panic!() };
    assert_eq!(d.sections[0].text, "café crème", "decoded in the encoding guessed from the bytes");
    assert_eq!(latin.content_hash, docent::embed::fingerprint(b"caf\xe9 cr\xe8me\n"));
    // Fallback titles: index.html takes its directory's name.
    let Ingested::Document(d) = &report.files[2].outcome else { panic!() };
    assert_eq!(d.title, "deeper");
    assert_eq!(d.url, "https://x/docs/guide/deeper/index.html");
}

#[test]
fn walk_file_argument_uses_its_name_and_empty_base_url() {
    let dir = site();
    let file = dir.path().join("guide/a-first.md");
    let report = walk(&[file], &WalkOptions::default(), &mut |_: &Path| {}).expect("walk");
    assert_eq!(report.files.len(), 1);
    assert_eq!(report.files[0].url, "a-first.md");
}

#[test]
fn walk_missing_path_is_an_io_error_naming_it() {
    let missing = PathBuf::from("definitely/not/here");
    let err = walk(&[missing], &WalkOptions::default(), &mut |_: &Path| {}).unwrap_err();
    assert!(matches!(err, docent::Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("definitely/not/here"), "{err}");
}

#[test]
fn walk_empty_directory_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let report = walk(&[dir.path().to_path_buf()], &WalkOptions::default(), &mut |_: &Path| {}).unwrap();
    assert!(report.files.is_empty() && report.unsupported == 0 && report.duplicates == 0);
}

#[test]
fn walk_skips_excluded_directories_however_they_are_spelled() {
    let dir = site();
    let out = dir.path().join("guide/deeper");
    // Spelled through `..`: compared after resolving, so still the same directory.
    let spelled = dir.path().join("notes/../guide/deeper");
    let opts = WalkOptions { exclude: vec![spelled, dir.path().join("not-there")], ..Default::default() };
    let report = walk(&[dir.path().to_path_buf()], &opts, &mut |_: &Path| {}).unwrap();
    let urls: Vec<&str> = report.files.iter().map(|f| f.url.as_str()).collect();
    assert_eq!(urls, ["guide/a-first.md", "guide/b-second.md", "index.html", "notes/latin1.txt"]);
    assert_eq!(report.excluded, 1);
    // A path given directly is walked even when excluded.
    let opts = WalkOptions { exclude: vec![out.clone()], ..Default::default() };
    let report = walk(&[out], &opts, &mut |_: &Path| {}).unwrap();
    assert_eq!(report.files.len(), 1);
    assert_eq!(report.excluded, 0);
}

#[cfg(unix)]
#[test]
fn walk_survives_symlink_loops() {
    let dir = site();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("guide/loop")).unwrap();
    let report = walk(&[dir.path().to_path_buf()], &WalkOptions::default(), &mut |_: &Path| {}).unwrap();
    assert_eq!(report.files.len(), 5);
    assert!(report.warnings.iter().any(|w| w.contains("loop")), "{:?}", report.warnings);
}

// ---------------------------------------------------------------- The Cargo book

/// The Cargo book shipped with the toolchain (`rust-docs` component).
fn cargo_book() -> PathBuf {
    let out = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("running `rustc --print sysroot` (rustc must be on PATH)");
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let book = Path::new(&sysroot).join("share/doc/rust/html/cargo");
    assert!(
        book.join("reference/manifest.html").is_file(),
        "the Cargo book is missing at {}: install it with `rustup component add rust-docs`",
        book.display()
    );
    book
}

#[test]
fn cargo_book_parses_cleanly() {
    let book = cargo_book();
    let started = Instant::now();
    let report =
        walk(std::slice::from_ref(&book), &WalkOptions::default(), &mut |_: &Path| {}).expect("walk");
    let elapsed = started.elapsed();
    let mut docs = 0;
    let mut redirects = Vec::new();
    for f in &report.files {
        match &f.outcome {
            Ingested::Document(d) => {
                docs += 1;
                let all = all_text(d);
                for chrome in [
                    "Keyboard shortcuts",
                    "Press ",
                    "Toggle Table of Contents",
                    "Search this book",
                    "Change theme",
                    "Previous chapter",
                    "const path_to_root",
                ] {
                    assert!(!all.contains(chrome), "{}: page chrome {chrome:?} leaked", f.url);
                }
                assert!(!d.sections.is_empty(), "{}: no sections", f.url);
                assert!(!d.title.is_empty(), "{}: no title", f.url);
            }
            Ingested::Skipped { reason } if reason == "robots noindex" => {
                assert!(f.url == "print.html" || f.url == "toc.html", "{}: unexpected noindex", f.url)
            }
            Ingested::Skipped { reason } if reason == "redirect stub" => redirects.push(f.url.clone()),
            Ingested::Skipped { reason } if reason == "license file" => {
                assert!(
                    f.url.starts_with("fonts/") && f.url.contains("LICENSE"),
                    "{}: not a font license",
                    f.url
                )
            }
            Ingested::Skipped { reason } => panic!("{}: unexpected skip {reason}", f.url),
        }
    }
    let skipped_noindex = report
        .files
        .iter()
        .filter(|f| matches!(&f.outcome, Ingested::Skipped { reason } if reason == "robots noindex"))
        .count();
    assert_eq!(skipped_noindex, 2, "print.html and toc.html must be skipped");
    assert!(redirects.contains(&"guide/build-cache.html".to_string()), "redirect stubs: {redirects:?}");
    // Every mdBook redirect stub is skipped (identical stubs are dropped as duplicates first).
    for f in &report.files {
        let raw = std::fs::read_to_string(&f.path).expect("read");
        if raw.contains("http-equiv=\"refresh\"") {
            assert!(redirects.contains(&f.url), "{}: a redirect stub that was not skipped", f.url);
        }
    }
    assert!(docs > 80, "only {docs} documents");

    let manifest = report.files.iter().find(|f| f.url == "reference/manifest.html").expect("manifest page");
    let Ingested::Document(d) = &manifest.outcome else { panic!("manifest.html skipped") };
    assert_eq!(d.title, "The Manifest Format - The Cargo Book");
    let version = d
        .sections
        .iter()
        .find(|s| s.anchor.as_deref() == Some("the-version-field"))
        .expect("a section anchored at the-version-field");
    assert_eq!(version.headings.first().map(String::as_str), Some("The Manifest Format"));
    assert_eq!(version.headings.last().map(String::as_str), Some("The version field"));
    eprintln!(
        "cargo book: {} files ({docs} documents, {} redirect stubs) walked and parsed in {elapsed:?}",
        report.files.len(),
        redirects.len()
    );
}

#[test]
fn empty_and_junk_inputs_do_not_panic() {
    for junk in [
        "",
        " ",
        "---",
        "---\n---",
        "<",
        "</h2>",
        "<h1></h1>",
        "<<<>>>&&&;",
        "\u{FEFF}",
        "<main></main>",
        "# ",
        "```",
    ] {
        let _ = html::parse("j", "j", junk).expect("html");
        let _ = markdown::parse("j", "j", junk).expect("markdown");
        let _ = text::parse("j", "j", junk).expect("text");
    }
    // Deterministic pseudo-random tag soup (fixed seed).
    let pieces = [
        "<div>",
        "</div>",
        "<h2 id=x>",
        "</h2>",
        "<p>",
        "<pre>",
        "</pre>",
        "<table><tr><td>",
        "<li>",
        "<script>",
        "</script>",
        "text ",
        "&amp;",
        "<a id=y>",
        "<section id=s>",
        "<br>",
        "\n",
    ];
    let mut seed: u64 = 0x5eed;
    for _ in 0..50 {
        let mut page = String::new();
        for _ in 0..300 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            page.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
        }
        html::parse("soup", "soup", &page).unwrap_or_else(|e| panic!("seed state {seed}: {e}"));
        markdown::parse("soup", "soup", &page).unwrap_or_else(|e| panic!("seed state {seed}: {e}"));
    }
}

// ---------------------------------------------------------------------------------------------
// PDF (hand-written files: tests/fixtures/pdf/handwritten.py; PDFs of a real writer: tests/pdf/)

#[cfg(feature = "pdf")]
fn read_pdf(rel: &str) -> (Ingested, Option<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    docent::ingest::parse_pdf("harbour.pdf", "harbour", &bytes).unwrap()
}

/// TeX writes word spaces as TJ offsets and lines as Td moves: both must come out as breaks.
#[cfg(feature = "pdf")]
#[test]
fn pdf_pages_become_sections_anchored_at_their_page() {
    let (Ingested::Document(d), None) = read_pdf("tests/fixtures/pdf/harbour.pdf") else { panic!() };
    assert_eq!(d.title, "Harbour notes");
    let got: Vec<(Option<&str>, &[String], &str)> =
        d.sections.iter().map(|s| (s.anchor.as_deref(), s.headings.as_slice(), s.text.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (Some("page=1"), &["Tides".to_string()][..], "Tide tables\nlist high water."),
            (Some("page=2"), &["Moorings".to_string()][..], "Boats tie up at the north pier."),
        ]
    );
    let chunks = docent::chunk::chunk_document(
        &d,
        0,
        &docent::tokens::TokenCounter::Approx,
        &docent::chunk::ChunkOptions::default(),
    )
    .unwrap();
    let urls: Vec<&str> = chunks.iter().map(|c| c.url.as_str()).collect();
    assert_eq!(urls, ["harbour.pdf#page=1", "harbour.pdf#page=2"]);
}

/// Two-byte codes through a font's ToUnicode map (what CID fonts of most writers use).
#[cfg(feature = "pdf")]
#[test]
fn pdf_text_is_decoded_through_to_unicode_maps() {
    let (Ingested::Document(d), _) = read_pdf("fuzz/seeds/pdf/cmap.pdf") else { panic!() };
    assert_eq!(d.sections.len(), 1);
    assert_eq!(d.sections[0].text, "Ligh\nhh");
}

/// The walk reads a PDF's bytes (no binary check, no text decoding) and names a skipped one.
#[cfg(feature = "pdf")]
#[test]
fn walk_reads_pdfs_and_warns_about_bad_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("tests/fixtures/pdf/harbour.pdf"), tmp.path().join("a.pdf")).unwrap();
    std::fs::write(tmp.path().join("b.pdf"), b"%PDF-1.4\n\0\0 not really").unwrap();
    let report = walk(&[tmp.path().to_path_buf()], &WalkOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(report.files.len(), 2);
    assert!(matches!(&report.files[0].outcome, Ingested::Document(d) if d.sections.len() == 2));
    assert_eq!(
        report.files[1].outcome,
        Ingested::Skipped { reason: docent::ingest::pdf::UNREADABLE.to_string() }
    );
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    let b = tmp.path().join("b.pdf");
    assert!(report.warnings[0].starts_with(&format!("{}: not indexed: unreadable PDF: ", b.display())));
}
