//! Bad input a docs site really has: pages in other encodings and scripts, one giant `<pre>`,
//! the same page under two urls (canonical links, byte copies), 10 MB pages, headings that skip
//! levels and sections without text. Each case is indexed by the `docent` binary (or the core
//! where the binary cannot reach the case) and asserts the line a user sees in the index summary
//! and warnings, and that the index is sane: the pages are found by their own words, no chunk is
//! empty or over budget, every anchor exists. The fixtures are written here, encoded with
//! `encoding_rs` from text in this file.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Instant;

use docent::chunk::{chunk_document, ChunkOptions, MAX_TOKEN_BYTES};
use docent::embed::hashing::Hashing;
use docent::engine::{Docent, Options};
use docent::ingest::{self, Format, Ingested};
use docent::retrieve::{Mode, RetrieveOptions};
use docent::site::{self, Canonicals, PageCounts, PageOutcome};
use encoding_rs::{Encoding, SHIFT_JIS, WINDOWS_1251, WINDOWS_1252};
use serde_json::Value;

use crate::common::hashing;

/// `docent index <dir> --out <dir>/../out --embedder hashing --json`, run in `dir`'s parent.
fn index(dir: &Path) -> (Value, Output) {
    index_with(dir, &[])
}

/// [`index`] with more arguments.
fn index_with(dir: &Path, more: &[&str]) -> (Value, Output) {
    let out = dir.parent().unwrap().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_docent"))
        .args([
            "index",
            dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--embedder",
            "hashing",
            "--json",
        ])
        .args(more)
        .env_remove("DOCENT_ASSETS")
        .env_remove("DOCENT_MODEL_DIR")
        .output()
        .expect("run docent");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).expect("one JSON summary");
    (v, o)
}

/// The `docent: warning:` / `docent: note:` lines of a run, with the folder's path removed.
fn lines(o: &Output, dir: &Path) -> Vec<String> {
    let prefix = format!("{}/", dir.display());
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.starts_with("docent: warning: ") || l.starts_with("docent: note: "))
        .filter(|l| !l.contains("the browser runtime"))
        .map(|l| l.replace(&prefix, ""))
        .collect()
}

/// The index `docent index` wrote next to `dir` (hashing embedder).
fn load(dir: &Path) -> Docent {
    let bytes = std::fs::read(dir.parent().unwrap().join("out/index.bin")).unwrap();
    Docent::from_bytes(&bytes, Arc::new(Hashing::default()), "index.bin").unwrap()
}

/// The urls (with anchors) of the lexical hits for `q`.
fn lexical(e: &Docent, q: &str) -> Vec<String> {
    let opts = RetrieveOptions { mode: Mode::Lexical, ..RetrieveOptions::default() };
    e.search_with(q, 5, &opts).unwrap().hits.into_iter().map(|h| h.url).collect()
}

fn encode(enc: &'static Encoding, text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = enc.encode(text);
    assert!(!unmappable, "{} cannot hold {text:?}", enc.name());
    bytes.into_owned()
}

fn utf16(bom_le: bool, text: &str) -> Vec<u8> {
    let units = text.encode_utf16();
    let mut out = if bom_le { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
    for u in units {
        out.extend(if bom_le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

// ------------------------------------------------------------------------ encodings and scripts

const FRENCH: &str = "La crème brûlée se cuit au bain-marie, à four doux, jusqu'à ce que le centre \
    tremble à peine. Laissez refroidir, puis caramélisez le sucre juste avant de servir.";
const JAPANESE: &str =
    "窯の温度は熱電対で測定します。焼成プログラムを開始する前に、扉が閉じていることを確認してください。\
    温度が設定値を超えると、制御装置は警報を鳴らして加熱を停止します。";
const RUSSIAN: &str = "Обжиг керамики проходит в несколько этапов. Сначала печь медленно нагревается, \
    чтобы удалить влагу из глины, затем температура поднимается до точки спекания. После обжига \
    изделия остывают в закрытой печи, иначе глазурь может треснуть.";
const ARABIC: &str =
    "يجب فحص المزدوجة الحرارية مرة كل شهر، واستبدالها إذا انحرفت القراءة عن درجة الحرارة الحقيقية.";
const JAPANESE_LOG: &str = "冷却中に扉を開けないでください。急冷すると釉薬にひびが入ることがあります。\
    室温まで下がってから作品を取り出してください。";
const RUSSIAN_WIRING: &str =
    "Подключите термопару к клеммам контроллера, соблюдая полярность: красный провод \
    к минусу. Неверная полярность даёт показания, которые падают при нагреве печи.";
const ARABIC_WIRING: &str = "افصل التيار الكهربائي قبل فتح لوحة التحكم، ثم تحقق من توصيل الأسلاك بإحكام.";
const GERMAN: &str = "Übersicht: Die Größe der Brennkammer bestimmt die Heizleistung. Für Öfen über \
    zwanzig Liter gilt die Überhitzungsgrenze aus Kapitel 4.";

fn page(head: &str, title: &str, body: &str) -> String {
    format!("<html><head>{head}<title>{title}</title></head><body><main><h1 id=top>{title}</h1><p>{body}</p></main></body></html>")
}

#[test]
fn pages_in_other_encodings_and_scripts_are_decoded_and_found_by_their_own_words() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("site");
    std::fs::create_dir(&dir).unwrap();
    let w = |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes).unwrap();
    w("latin1.html", encode(WINDOWS_1252, &page("<meta charset=\"iso-8859-1\">", "Crème brûlée", FRENCH)));
    let quotes = "Le four coûte 1 200 € — «\u{a0}garantie\u{a0}» comprise, “ready” to fire.";
    w(
        "cp1252.html",
        encode(
            WINDOWS_1252,
            &page(
                "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">",
                "Prix",
                quotes,
            ),
        ),
    );
    w("sjis.html", encode(SHIFT_JIS, &page("<meta charset=\"shift_jis\">", "温度の管理", JAPANESE)));
    let xhtml = format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>Größe</title></head><body><p>{GERMAN}</p></body></html>"
    );
    w("decl.xhtml", encode(WINDOWS_1252, &xhtml));
    w("utf16le.html", utf16(true, &page("<meta charset=\"utf-16\">", "Обжиг", RUSSIAN)));
    w("utf16be.txt", utf16(false, &format!("الأسلاك\n\n{ARABIC_WIRING}")));
    w("arabic.html", page("<meta charset=\"utf-8\">", "الصيانة", ARABIC).into_bytes());
    // Nothing declared and not UTF-8: guessed from the bytes.
    w("guess-1251.html", encode(WINDOWS_1251, &format!("<html><body><p>{RUSSIAN_WIRING}</p></body></html>")));
    w("guess-sjis.txt", encode(SHIFT_JIS, JAPANESE_LOG));
    let dessert = "La tarte Tatin se cuit à l'envers : pommes caramélisées au fond, pâte brisée dessus.";
    w("guess-1252.md", encode(WINDOWS_1252, &format!("# Dessert\n\n{dessert}\n")));

    let (v, o) = index(&dir);
    assert_eq!(v["documents"], 10, "{v}");
    assert_eq!(
        v["encodings"],
        serde_json::json!({"Shift_JIS": 2, "UTF-16BE": 1, "UTF-16LE": 1, "windows-1251": 1, "windows-1252": 4}),
        "pages read in other encodings, by encoding"
    );
    let guessed = |name: &str, enc: &str| {
        format!("docent: warning: {name}: not valid UTF-8; decoded as {enc} (no charset declared, guessed from the bytes)")
    };
    assert_eq!(
        lines(&o, &dir),
        [
            guessed("guess-1251.html", "windows-1251"),
            guessed("guess-1252.md", "windows-1252"),
            guessed("guess-sjis.txt", "Shift_JIS")
        ],
        "only guesses are warned about; declared encodings and byte order marks are not"
    );
    // Every page is found by its own words, in its own script.
    let e = load(&dir);
    for (q, url) in [
        ("Tatin pâte brisée", "guess-1252.md#dessert"),
        ("caramélisez", "latin1.html#top"),
        ("coûte garantie", "cp1252.html#top"),
        ("Brennkammer Größe", "decl.xhtml"),
        ("熱電対", "sjis.html#top"),
        ("釉薬", "guess-sjis.txt"),
        ("警報", "sjis.html#top"),
        ("спекания глазурь", "utf16le.html#top"),
        ("المزدوجة الحرارية", "arabic.html#top"),
    ] {
        let hits = lexical(&e, q);
        assert!(hits.iter().any(|h| h == url), "{q}: {url} not among {hits:?}");
    }
    assert_eq!(lexical(&e, "полярность термопару")[0], "guess-1251.html", "a guessed Cyrillic page");
    assert_eq!(lexical(&e, "الأسلاك")[0], "utf16be.txt", "UTF-16BE with a byte order mark");
    // The text is the decoded text, not replacement characters.
    let sjis = e.documents().iter().find(|d| d.url == "sjis.html").unwrap();
    assert_eq!(sjis.title, "温度の管理");
    let (_, summary) = index(&dir);
    let line = String::from_utf8_lossy(&summary.stdout).to_string();
    assert!(line.contains("\"encodings\":{"), "{line}");
}

/// The sentence form of the summary says how many pages were not UTF-8, by encoding, and how
/// many headings had no text; without them it is unchanged.
#[test]
fn the_summary_sentence_names_other_encodings_and_empty_sections_only_when_there_are_some() {
    let mut pages = PageCounts::default();
    pages.record_encoding("UTF-8");
    assert_eq!(pages.encodings_text(), "");
    for enc in ["windows-1252", "Shift_JIS", "windows-1252"] {
        pages.record_encoding(enc);
    }
    assert_eq!(pages.encodings_text(), ", 3 not UTF-8 (1 Shift_JIS, 2 windows-1252)");
}

// ------------------------------------------------------------------------ CJK without spaces

/// Chinese and Japanese have no spaces between words: BM25 indexes overlapping character pairs,
/// so a two-character word inside a long clause is found, and a query in another script does not
/// match it.
#[test]
fn cjk_text_without_spaces_is_found_by_a_word_inside_a_clause() {
    use docent::index::bm25::Bm25;
    assert_eq!(Bm25::analyze("検索する"), ["検索", "索す", "する"]);
    assert_eq!(Bm25::analyze("窯"), ["窯"]);
    assert_eq!(Bm25::analyze("API密钥设置"), ["api", "密钥", "钥设", "设置"], "latin runs stay words");
    assert_eq!(Bm25::analyze("kiln doors"), ["kiln", "door"], "other scripts are unchanged");
    let mut e = Docent::new(hashing(), Options::default()).unwrap();
    let zh = "在开始烧制之前，请确认窑门已经关闭并且热电偶连接正常，否则控制器会拒绝启动加热程序。";
    e.add_document(crate::common::doc("zh.md", zh)).unwrap();
    e.add_document(crate::common::doc("ja.md", JAPANESE)).unwrap();
    e.add_document(crate::common::doc("en.md", "Close the kiln door before firing.")).unwrap();
    e.build(&mut |_| {}).unwrap();
    assert_eq!(lexical(&e, "热电偶")[0], "zh.md");
    assert_eq!(lexical(&e, "窑门")[0], "zh.md");
    assert_eq!(lexical(&e, "焼成プログラム")[0], "ja.md");
    assert_eq!(lexical(&e, "kiln door")[0], "en.md");
}

// ------------------------------------------------------------------------ one giant <pre>

/// A page that is one 2 MB `<pre>` (a build log): chunked within the token budget and the byte
/// cap, every chunk ending at the end of a line, the lines all indexed, in bounded time.
#[test]
fn a_giant_pre_is_chunked_under_the_budget_and_cut_at_line_ends() {
    let mut log = String::new();
    let mut n = 0;
    while log.len() < 2 * 1024 * 1024 {
        n += 1;
        log.push_str(&format!(
            "2026-03-01T12:{:02}:{:02}Z INFO [worker-{}] step {n}: compiled module kiln_{n} in {} ms\n",
            n / 60 % 60,
            n % 60,
            n % 8,
            n * 7 % 1000
        ));
    }
    let html = format!("<html><head><title>Build log</title></head><body><h1 id=log>Build log</h1><pre>{log}</pre></body></html>");
    let started = Instant::now();
    let Ingested::Document(d) = ingest::parse("log.html", "log", &html, Format::Html).unwrap() else {
        panic!("skipped")
    };
    assert_eq!(d.sections.len(), 1);
    let text = &d.sections[0].text;
    assert_eq!(text.as_str(), log.trim_end(), "the <pre> is kept verbatim");
    let e = Docent::new(hashing(), Options::default()).unwrap();
    let opts = ChunkOptions::default();
    let chunks = chunk_document(&d, 0, e.counter(), &opts).unwrap();
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
    assert!(chunks.len() > 1000, "{}", chunks.len());
    for c in &chunks {
        assert!(e.counter().count(&c.text).unwrap() <= opts.max_tokens, "{}", c.text);
        assert!(c.text.len() <= opts.max_tokens * MAX_TOKEN_BYTES);
        assert_eq!(c.url, "log.html#log");
        let end = c.end as usize;
        assert!(
            end == text.len() || text.as_bytes()[end] == b'\n',
            "chunk ends mid-line: {:?}",
            &c.text[c.text.len().saturating_sub(40)..]
        );
    }
    assert_eq!(chunks[0].start, 0);
    for pair in chunks.windows(2) {
        assert!(pair[1].start <= pair[0].end, "no line falls between two chunks");
    }
    assert_eq!(chunks.last().unwrap().end as usize, text.len());
    // The last line is found by its own words.
    let mut e = e;
    e.add_document(d).unwrap();
    e.build(&mut |_| {}).unwrap();
    assert_eq!(lexical(&e, &format!("kiln_{n}"))[0], "log.html#log");
}

// ------------------------------------------------------------------------ duplicates

#[test]
fn canonical_and_byte_identical_duplicates_are_skipped_naming_the_page_they_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("site");
    for sub in ["latest", "print", "copy"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let w = |name: &str, canonical: Option<&str>, body: &str| {
        let link = canonical.map(|c| format!("<link rel=\"canonical\" href=\"{c}\">")).unwrap_or_default();
        std::fs::write(dir.join(name), page(&link, name, body)).unwrap();
    };
    let guide = "Load the kiln loosely so that air circulates between the pieces.";
    w("guide.html", Some("https://docs.example.com/guide.html"), guide);
    w("latest/guide.html", Some("../guide.html"), &format!("{guide} (latest)"));
    w("print/guide.html", Some("https://docs.example.com/guide.html"), &format!("{guide} (print)"));
    w("a.html", Some("b.html"), "Page a names b as its canonical url.");
    w("b.html", Some("a.html"), "Page b names a as its canonical url.");
    w(
        "elsewhere.html",
        Some("https://other.example.org/elsewhere.html"),
        "A canonical url the site does not have.",
    );
    w("alarms.html", None, "Alarm E4 means the thermocouple is open.");
    std::fs::copy(dir.join("alarms.html"), dir.join("copy/alarms.html")).unwrap();

    let (v, o) = index(&dir);
    assert_eq!(v["skipped"], serde_json::json!({"canonical duplicate": 3}), "{v}");
    assert_eq!(v["duplicates"], 1);
    assert_eq!(
        lines(&o, &dir),
        [
            "docent: note: copy/alarms.html: same content as alarms.html, skipped as a duplicate",
            "docent: warning: a.html: duplicate of b.html (canonical), skipped",
            "docent: warning: latest/guide.html: duplicate of guide.html (canonical), skipped",
            "docent: warning: print/guide.html: duplicate of guide.html (canonical), skipped",
        ]
    );
    let e = load(&dir);
    let mut urls: Vec<&str> = e.documents().iter().filter(|d| d.live).map(|d| d.url.as_str()).collect();
    urls.sort();
    assert_eq!(urls, ["alarms.html", "b.html", "elsewhere.html", "guide.html"], "one of each, nothing lost");
}

#[test]
fn canonical_links_resolve_relative_absolute_and_pretty_urls() {
    let mut c = Canonicals::default();
    c.expect(["docs/index.html", "docs/setup/index.html", "docs/faq.html", "faq.html"].map(String::from));
    assert_eq!(
        c.duplicate_of("v2/faq.html", Some("https://x.org/docs/faq.html#top")).as_deref(),
        Some("docs/faq.html"),
        "the longest tail"
    );
    assert_eq!(
        c.duplicate_of("v2/setup.html", Some("https://x.org/docs/setup/")).as_deref(),
        Some("docs/setup/index.html")
    );
    assert_eq!(
        c.duplicate_of("v2/setup2.html", Some("/docs/setup")).as_deref(),
        Some("docs/setup/index.html")
    );
    assert_eq!(
        c.duplicate_of("docs/old/faq.html", Some("../faq.html?v=1")).as_deref(),
        Some("docs/faq.html")
    );
    assert_eq!(c.duplicate_of("docs/faq.html", Some("faq.html")), None, "itself");
    assert_eq!(c.duplicate_of("docs/x.html", Some("missing.html")), None, "not a page of the run");
    assert_eq!(c.duplicate_of("docs/y.html", None), None);
    let mut c = Canonicals::default();
    c.expect(["https://x.org/docs/a.html".to_string()]);
    assert_eq!(
        c.duplicate_of("https://x.org/docs/old/a.html", Some("../a.html")).as_deref(),
        Some("https://x.org/docs/a.html"),
        "urls with a base url"
    );
}

// ------------------------------------------------------------------------ 10 MB pages

/// A 10 MB page is indexed natively (the native limit is what the index's u32 offsets hold), in
/// bounded time; over an index's document limit (the browser build's is 64 MiB) a page is skipped
/// with a warning naming its size and the limit, and the summary counts it; the run goes on.
#[test]
fn a_10_mb_page_is_indexed_and_a_page_over_the_limit_is_skipped_naming_size_and_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("site");
    std::fs::create_dir(&dir).unwrap();
    let mut body = String::from("<html><head><title>Reference</title></head><body><main>");
    let mut n = 0;
    while body.len() < 10 * 1000 * 1000 {
        n += 1;
        if n % 100 == 1 {
            body.push_str(&format!("<h2 id=p{n}>Parameters from {n}</h2>\n"));
        }
        body.push_str(&format!(
            "<p>Parameter {n} sets the ramp of segment {n} in degrees per hour; values above the limit raise alarm code E{n}.</p>\n"
        ));
    }
    body.push_str("</main></body></html>");
    std::fs::write(dir.join("reference.html"), &body).unwrap();
    std::fs::write(dir.join("small.html"), page("", "Small", "A small page beside a large one.")).unwrap();
    // Large chunks keep the index small enough for a flat scan: the page is what is measured
    // here, not the dense index over its chunks (a bound far above the few seconds it takes, so
    // only a blow-up fails it on a loaded machine).
    let started = Instant::now();
    let (v, _) = index_with(&dir, &["--chunk-tokens", "2048", "--overlap", "0"]);
    let took = started.elapsed();
    assert_eq!(v["documents"], 2, "{v}");
    assert!(v["chunks"].as_u64().unwrap() > 1000, "{v}");
    assert!(took.as_secs() < 300, "10 MB indexed in {took:?}");
    let e = load(&dir);
    assert_eq!(lexical(&e, &format!("E{n}"))[0], format!("reference.html#p{}", (n - 1) / 100 * 100 + 1));

    // Over the limit: an outcome, not an error.
    let mut e = Docent::new(hashing(), Options::default()).unwrap();
    e.set_limits(docent::Limits { max_document_bytes: 1 << 20, ..docent::Limits::NATIVE });
    let page = ingest::parse("reference.html", "reference", &body, Format::Html).unwrap();
    let o = site::add_page(&mut e, page).unwrap();
    let PageOutcome::TooLarge { reason, .. } = &o else { panic!("{o:?}") };
    assert!(reason.ends_with(" bytes of text; at most 1048576 bytes (1 MiB) fit in one document; split it into several documents"), "{reason}");
    assert_eq!(o.warning().unwrap(), format!("reference.html: not indexed: {reason}"));
    assert_eq!(o.skipped_reason().as_deref(), Some("over the size limit"));
    let mut counts = PageCounts::default();
    counts.record(&o);
    assert_eq!(counts.skipped_text(), "1 skipped (1 over the size limit)");
    assert_eq!(e.stats().documents, 0);
    // The same check before parsing, as the wasm edge makes it.
    assert!(site::too_large(&e, "reference.html", body.len()).is_some());
    assert!(site::too_large(&e, "small.html", 1000).is_none());
}

// ------------------------------------------------------------------------ headings

/// Headings that skip levels (h1 → h3) and headings with no text under them: heading paths are
/// the headings that enclose the text, no chunk is empty, every chunk's anchor is an id of the
/// page, and the summary counts the headings without text.
#[test]
fn skipped_heading_levels_and_empty_sections_give_sane_paths_and_no_empty_chunks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("site");
    std::fs::create_dir(&dir).unwrap();
    let html = r#"<html><body><main>
        <h1 id="kiln">Kiln</h1>
        <h3 id="vents">Vents</h3><p>Open the vents below 600 degrees.</p>
        <h2 id="empty-one">Coming soon</h2>
        <h2 id="parent">Firing</h2>
        <h4 id="deep">Cone 6</h4><p>Cone 6 is about 1220 degrees.</p>
        <h2 id="empty-two">Also empty</h2><h2 id="empty-three">   </h2>
        <h5 id="orphan">Orphan</h5><p>A heading deeper than any before it.</p>
        <h2 id="last">Last</h2>
    </main></body></html>"#;
    std::fs::write(dir.join("page.html"), html).unwrap();
    let Ingested::Document(d) = ingest::parse("page.html", "page", html, Format::Html).unwrap() else {
        panic!()
    };
    let paths: Vec<(Option<&str>, String)> =
        d.sections.iter().map(|s| (s.anchor.as_deref(), s.headings.join(" > "))).collect();
    assert_eq!(
        paths,
        [
            (Some("kiln"), "Kiln".to_string()),
            (Some("vents"), "Kiln > Vents".into()),
            (Some("empty-one"), "Kiln > Coming soon".into()),
            (Some("parent"), "Kiln > Firing".into()),
            (Some("deep"), "Kiln > Firing > Cone 6".into()),
            (Some("empty-two"), "Kiln > Also empty".into()),
            (Some("empty-three"), "Kiln".into()),
            (Some("orphan"), "Kiln > Orphan".into()),
            (Some("last"), "Kiln > Last".into()),
        ]
    );
    assert_eq!(
        site::empty_sections(&d),
        3,
        "Coming soon, Also empty and Last; Kiln and Firing have subsections"
    );
    let (v, _) = index(&dir);
    assert_eq!(v["empty_sections"], 3, "{v}");
    let e = load(&dir);
    let ids: Vec<String> =
        ["kiln", "vents", "empty-one", "parent", "deep", "empty-two", "empty-three", "orphan", "last"]
            .iter()
            .map(|a| format!("page.html#{a}"))
            .collect();
    assert_eq!(e.stats().chunks, 3);
    for q in ["vents", "cone", "orphan"] {
        let hits =
            e.search_with(q, 3, &RetrieveOptions { mode: Mode::Lexical, ..Default::default() }).unwrap().hits;
        let h = &hits[0];
        assert!(!h.text.trim().is_empty() && ids.contains(&h.url), "{h:?}");
    }
}
