//! What every generated site must give: `docent index` on it, then the checks of the module docs.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

use docent::chunk::{chunk_document, Chunk, ChunkOptions};
use docent::ingest::walk::{walk, WalkOptions};
use docent::ingest::{Document, Ingested};
use docent::tokens::TokenCounter;

use crate::sites::{fixtures, Site, PAGES};

/// Permalink glyphs generators put beside headings and signatures (the Read the Docs theme's
/// is an icon-font character, Docusaurus's a zero-width space).
const GLYPHS: [char; 6] = ['¶', '§', '🔗', '\u{f0c1}', '\u{200b}', '\u{fe0f}'];

/// Text of page chrome: none of it may reach a chunk (case-sensitive; the manual contains none).
const CHROME: [&str; 27] = [
    "CHROME-",
    "Skip to content",
    "Edit this page",
    "View page source",
    "Previous",
    "Next",
    "On this page",
    "Table of contents",
    "Navigation",
    "Search",
    "Cookie",
    "cookies",
    "©",
    "Copyright",
    "Built with",
    "Made with",
    "Permalink",
    "Link to this",
    "Keyboard shortcuts",
    "Expand description",
    "Copy item path",
    "Auto Trait Implementations",
    "Blanket Implementations",
    "Returns the argument unchanged",
    "Version",
    "Go to",
    "Theme",
];

/// One API entry or heading that must be its own citable section.
pub struct Entry {
    /// The page's url.
    pub page: String,
    /// The anchor the section must have, when the generator's id is known.
    pub anchor: Option<&'static str>,
    /// What the last element of its heading path contains.
    pub heading: &'static str,
    /// What its text contains.
    pub text: &'static str,
}

/// What one site must give.
pub struct Expect {
    /// Sections that must exist.
    pub entries: Vec<Entry>,
    /// Pages whose chunks may only hold words of these source files (plus `extra_words`).
    pub sources: Vec<(String, Vec<&'static str>)>,
    /// Words a generator adds to the content itself (Sphinx's "Parameters").
    pub extra_words: &'static [&'static str],
    /// Code blocks: the page's url and the code, which must stay whole.
    pub code: Vec<(String, String)>,
    /// Text that must be in some chunk of a page.
    pub contains: Vec<(String, &'static str)>,
}

fn entry(page: &str, anchor: Option<&'static str>, heading: &'static str, text: &'static str) -> Entry {
    Entry { page: page.to_string(), anchor, heading, text }
}

/// The fenced code blocks of a Markdown file, without their fences.
fn fenced_code(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut open: Option<Vec<&str>> = None;
    for line in markdown.lines() {
        match (&mut open, line.starts_with("```")) {
            (None, true) => open = Some(Vec::new()),
            (Some(lines), true) => {
                blocks.push(lines.join("\n"));
                open = None;
            }
            (Some(lines), false) => lines.push(line),
            (None, false) => {}
        }
    }
    blocks
}

impl Expect {
    /// The manual's pages, code and table, with the API page `api` as headings (Markdown
    /// generators) unless `sphinx_api`.
    fn manual(site: &Site, sphinx_api: bool) -> Expect {
        let mut code = Vec::new();
        let mut sources = Vec::new();
        for page in PAGES {
            let md = format!("manual/{page}.md");
            let md: &'static str = Box::leak(md.into_boxed_str());
            let files = match (page, sphinx_api) {
                ("api", true) => vec!["sphinx/api.rst"],
                _ => vec![md],
            };
            sources.push((site.page(page).to_string(), files));
            let text = std::fs::read_to_string(fixtures().join(md)).unwrap();
            code.extend(fenced_code(&text).into_iter().map(|c| (site.page(page).to_string(), c)));
        }
        let config = site.page("config");
        Expect {
            entries: vec![
                entry(config, None, "Storm mode", "During a storm surge"),
                entry(config, None, "Datum", "Heights are given above chart datum"),
            ],
            sources,
            extra_words: &[],
            code,
            contains: vec![
                (site.page("index").to_string(), "Float gauge | 1 | stainless steel, 2 m travel"),
                (site.page("install").to_string(), "green | GPIO 17"),
            ],
        }
    }

    /// Markdown generators: the API page's parts are headings.
    pub fn markdown(site: &Site, _suffix: &str) -> Expect {
        let mut e = Expect::manual(site, false);
        let api = site.page("api");
        e.entries.push(entry(api, None, "Gauge.readings", "yields (time, height) pairs"));
        e.entries.push(entry(api, None, "Gauge.calibrate", "shifts every height"));
        e.entries.push(entry(api, None, "read_tide_table", "predicted high and low waters"));
        e
    }

    /// Sphinx: the API page in its own markup, each object a `<dt id>` entry.
    pub fn sphinx(site: &Site) -> Expect {
        let mut e = Expect::manual(site, true);
        let api = site.page("api");
        e.entries.extend([
            entry(
                api,
                Some("tidewater.Gauge"),
                "tidewater.Gauge(path, datum_offset=0.0)",
                "Opens a logger file",
            ),
            entry(
                api,
                Some("tidewater.Gauge"),
                "tidewater.Gauge(path, datum_offset=0.0)",
                "Closing a gauge twice is harmless.",
            ),
            entry(api, Some("tidewater.Gauge.port"), "port", "The name of the port the gauge stands in"),
            entry(
                api,
                Some("tidewater.Gauge.readings"),
                "readings(since=None)",
                "pairs in order, starting at since",
            ),
            entry(api, Some("tidewater.Gauge.calibrate"), "calibrate(reference)", "Shifts every height"),
            entry(
                api,
                Some("tidewater.read_tide_table"),
                "read_tide_table(port)",
                "predicted high and low waters",
            ),
            entry(
                api,
                Some("reading-files"),
                "Reading files",
                "Text after the entries belongs to the section again.",
            ),
            entry(api, Some("cmdoption-foreground"), "--foreground", "Keeps the daemon attached"),
            entry(api, Some("envvar-TIDEWATER_CONFIG"), "TIDEWATER_CONFIG", "Overrides the path"),
            entry(api, Some("confval-storm_threshold"), "storm_threshold", "above which storm mode begins"),
        ]);
        e.extra_words = &["parameters", "returns"];
        e
    }

    /// rustdoc: the crate's items, each method, field, variant and associated item its own
    /// section.
    pub fn rustdoc() -> Expect {
        let gauge = "tidewater/struct.Gauge.html";
        let entries = vec![
            entry(
                gauge,
                Some("method.open"),
                "pub fn open(path: &str, datum_offset: f32) -> Gauge",
                "Opens a logger file",
            ),
            entry(gauge, Some("method.readings"), "pub fn readings(", "Yields the readings in order"),
            entry(
                gauge,
                Some("method.calibrate"),
                "pub fn calibrate(&mut self, reference: f32)",
                "Shifts every height",
            ),
            entry(
                gauge,
                Some("structfield.port"),
                "port: String",
                "The name of the port the gauge stands in",
            ),
            entry(
                "tidewater/struct.Reading.html",
                Some("structfield.height"),
                "height: f32",
                "Height above chart datum",
            ),
            entry("tidewater/enum.Tide.html", Some("variant.Flood"), "Flood", "The water is rising."),
            entry(
                "tidewater/enum.Tide.html",
                Some("variant.Slack"),
                "Slack",
                "the height stays within a centimetre",
            ),
            entry(
                "tidewater/trait.Source.html",
                Some("associatedtype.Item"),
                "type Item",
                "What one reading of this source is.",
            ),
            entry(
                "tidewater/trait.Source.html",
                Some("tymethod.next_reading"),
                "fn next_reading(&mut self)",
                "The next reading",
            ),
            entry(
                "tidewater/fn.read_tide_table.html",
                None,
                "read_tide_table",
                "Returns the predicted high and low waters",
            ),
            entry("tidewater/index.html", None, "Datum", "Heights are given above chart datum."),
        ];
        let lib = std::fs::read_to_string(fixtures().join("crate/src/lib.rs")).unwrap();
        let example: Vec<&str> = lib
            .lines()
            .skip_while(|l| !l.starts_with("//! ```"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.strip_prefix("//! ").unwrap_or(l.trim_start_matches("//!")))
            .collect();
        let pages =
            ["index", "struct.Gauge", "struct.Reading", "enum.Tide", "trait.Source", "fn.read_tide_table"];
        Expect {
            entries,
            sources: pages
                .iter()
                .map(|p| (format!("tidewater/{p}.html"), vec!["crate/src/lib.rs"]))
                .collect(),
            // rustdoc's own headings and the private-fields note of a declaration.
            extra_words: &[
                "crate",
                "structs",
                "enums",
                "traits",
                "functions",
                "fields",
                "variants",
                "implementations",
                "required",
                "associated",
                "types",
                "method",
                "methods",
                "private",
            ],
            code: vec![("tidewater/index.html".to_string(), example.join("\n"))],
            contains: Vec::new(),
        }
    }
}

/// An indexed site: the CLI's summary, and the documents and chunks the CLI's own functions
/// make of it (the same walk, parser and chunker; the CLI's chunk count must match).
struct Indexed {
    docs: Vec<Document>,
    chunks: Vec<Chunk>,
}

fn index(site: &Site) -> Indexed {
    let out = tempfile::Builder::new().prefix("docent-gen-index-").tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_docent"))
        .arg("index")
        .arg(&site.root)
        .arg("--out")
        .arg(out.path())
        .args(["--embedder", "hashing", "--json"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}: docent index failed:\n{}",
        site.name,
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap_or_else(|e| {
        panic!("{}: summary is not JSON ({e}): {}", site.name, String::from_utf8_lossy(&run.stdout))
    });

    let report = walk(&[site.root.clone()], &WalkOptions::default(), &mut |_| {}).unwrap();
    let mut docs = Vec::new();
    let mut chunks = Vec::new();
    for file in report.files {
        if let Ingested::Document(doc) = file.outcome {
            let id = docs.len() as u32;
            let made = chunk_document(&doc, id, &TokenCounter::Approx, &ChunkOptions::default()).unwrap();
            if made.is_empty() {
                continue; // an empty page: the CLI counts it and indexes nothing
            }
            chunks.extend(made);
            docs.push(doc);
        }
    }
    assert_eq!(
        summary["chunks"].as_u64(),
        Some(chunks.len() as u64),
        "{}: the CLI's chunk count differs from the library's: {summary}",
        site.name
    );
    Indexed { docs, chunks }
}

/// Every `id` (and `<a name>`) of a page.
fn ids(root: &Path, url: &str) -> BTreeSet<String> {
    let html = std::fs::read_to_string(root.join(url)).unwrap_or_else(|e| panic!("{url}: {e}"));
    let doc = scraper::Html::parse_document(&html);
    let mut ids = BTreeSet::new();
    for el in doc.root_element().descendants().filter_map(scraper::ElementRef::wrap) {
        if let Some(id) = el.value().attr("id") {
            ids.insert(id.to_string());
        }
        if el.value().name() == "a" {
            if let Some(name) = el.value().attr("name") {
                ids.insert(name.to_string());
            }
        }
    }
    ids
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

fn page_of(url: &str) -> &str {
    url.split_once('#').map_or(url, |(p, _)| p)
}

pub fn check_site(site: &Site, expect: &Expect) {
    let name = site.name;
    let indexed = index(site);
    let Indexed { docs, chunks } = &indexed;
    assert!(!chunks.is_empty(), "{name}: no chunks");
    let show = |c: &Chunk| format!("{} [{}]:\n{}", c.url, c.heading, c.text);

    // Every citation lands on an id of its page; glyphs stay out.
    let mut page_ids: HashMap<&str, BTreeSet<String>> = HashMap::new();
    for c in chunks {
        let page = page_of(&c.url);
        match c.url.split_once('#').map(|(_, a)| a) {
            Some(anchor) => {
                let ids = page_ids.entry(page).or_insert_with(|| ids(&site.root, page));
                assert!(ids.contains(anchor), "{name}: #{anchor} is not an id of {page}: {}", show(c));
            }
            // The page's top (a title heading without an id, as Docusaurus writes it) is cited
            // as the page; anything below it must have an anchor.
            None => assert!(!c.heading.contains(" > "), "{name}: a chunk without an anchor: {}", show(c)),
        }
        for g in GLYPHS {
            assert!(!c.text.contains(g) && !c.heading.contains(g), "{name}: {g:?} in {}", show(c));
        }
        assert!(!c.heading.contains('#'), "{name}: '#' in a heading: {}", show(c));
        for chrome in CHROME {
            assert!(
                !c.text.contains(chrome) && !c.heading.contains(chrome),
                "{name}: page chrome {chrome:?} in {}",
                show(c)
            );
        }
    }

    // Main content only: the chunks of the manual's pages hold only words of their source.
    for (page, files) in &expect.sources {
        let mut vocabulary: BTreeSet<String> = expect.extra_words.iter().map(|w| w.to_string()).collect();
        for f in files {
            vocabulary.extend(words(&std::fs::read_to_string(fixtures().join(f)).unwrap()));
        }
        let mine: Vec<&Chunk> = chunks.iter().filter(|c| page_of(&c.url) == page).collect();
        assert!(!mine.is_empty(), "{name}: no chunks from {page}");
        for c in mine {
            let stray: BTreeSet<String> = words(&c.text).filter(|w| !vocabulary.contains(w)).collect();
            assert!(stray.is_empty(), "{name}: words not in the page's source {stray:?} in {}", show(c));
        }
    }

    // API entries and headings: their own section, anchor and text.
    for e in &expect.entries {
        let found = chunks.iter().find(|c| {
            page_of(&c.url) == e.page
                && c.heading.rsplit(" > ").next().is_some_and(|h| h.contains(e.heading))
                && c.text.contains(e.text)
        });
        let Some(c) = found else {
            let near: Vec<String> = chunks.iter().filter(|c| page_of(&c.url) == e.page).map(show).collect();
            panic!(
                "{name}: no section {:?} with {:?} on {}; its chunks:\n{}",
                e.heading,
                e.text,
                e.page,
                near.join("\n---\n")
            );
        };
        if let Some(anchor) = e.anchor {
            assert_eq!(c.url, format!("{}#{anchor}", e.page), "{name}: {}", show(c));
        }
    }

    // Code blocks stay whole: verbatim in a section, covered by consecutive chunks.
    for (page, code) in &expect.code {
        let (d, doc) = docs
            .iter()
            .enumerate()
            .find(|(_, d)| d.url == *page)
            .unwrap_or_else(|| panic!("{name}: {page} was not indexed"));
        let found = doc
            .sections
            .iter()
            .enumerate()
            .find_map(|(s, sec)| sec.text.find(code.as_str()).map(|at| (s, at)));
        let Some((s, at)) = found else {
            let all: Vec<&str> = doc.sections.iter().map(|s| s.text.as_str()).collect();
            panic!("{name}: code block not verbatim on {page}:\n{code}\nsections:\n{}", all.join("\n---\n"));
        };
        let mut covered = at;
        for c in chunks.iter().filter(|c| c.doc as usize == d && c.section as usize == s) {
            if (c.start as usize) <= covered && c.end as usize > covered {
                covered = c.end as usize;
            }
        }
        assert!(
            covered >= at + code.len(),
            "{name}: the chunks of {page} do not cover its code block:\n{code}"
        );
    }

    for (page, text) in &expect.contains {
        assert!(
            chunks.iter().any(|c| page_of(&c.url) == page && c.text.contains(text)),
            "{name}: {text:?} is in no chunk of {page}"
        );
    }
}
