//! Unit tests of the site folder's definitions.

use super::*;

#[test]
fn only_plain_relative_paths_are_deleted() {
    for ok in ["index.bin", "model/static.bin"] {
        assert!(is_plain_relative(ok), "{ok}");
    }
    for bad in ["", "/etc/passwd", "../x", "model/../../x", "a//b", "./a", "a\\..\\b"] {
        assert!(!is_plain_relative(bad), "{bad}");
    }
}

#[test]
fn a_minified_copy_is_published_only_when_made_from_the_source() {
    let source = b"// a comment\nexport const answer = 42;\n";
    let code = b"export const answer=42;\n";
    let made = [minified_header(source).as_bytes(), code].concat();
    assert_eq!(runtime_bytes(source, Some(&made)), code, "the copy, without its header line");
    assert_eq!(runtime_bytes(source, None), source, "no copy: the source");
    let edited = b"// a comment\nexport const answer = 43;\n";
    assert_eq!(runtime_bytes(edited, Some(&made)), edited, "a copy of an older source is stale");
    assert_eq!(runtime_bytes(source, Some(code)), source, "a file without the header is not a copy");
    assert!(
        !is_runtime_file(&format!("{MIN_DIR}/docent-ask.js")),
        "the copies are not runtime files themselves"
    );
}

#[test]
fn runtime_files_are_the_js_modules_but_cli_and_the_wasm() {
    for yes in ["docent.js", "docent_wasm.js", "worker.js", "docent-ask.js", "llm.js", WASM_FILE] {
        assert!(is_runtime_file(yes), "{yes}");
    }
    for no in ["cli.js", "docent.d.ts", "README.md", "package.json", "docent_wasm_bg.wasm.d.ts", "x.wasm"] {
        assert!(!is_runtime_file(no), "{no}");
    }
    assert!(is_runtime_file("llm/stream.js"), "the LLM client's modules");
    for no in ["llm/sse.d.ts", "llm/deep/x.js", "node_modules/x.js", "other/x.js"] {
        assert!(!is_runtime_file(no), "{no}");
    }
    assert!(REQUIRED_RUNTIME.iter().all(|f| is_runtime_file(f)));
}

#[test]
fn every_model_file_has_a_field() {
    let table = |k| model_files(k).iter().map(|m| (m.field, m.file)).collect::<Vec<_>>();
    assert_eq!(
        table(EmbedderKind::MiniLm),
        [("weights", "minilm.int8"), ("tokenizer", "tokenizer.json"), ("config", "config.json")]
    );
    assert_eq!(table(EmbedderKind::Static), [("table", "static.bin"), ("tokenizer", "tokenizer.json")]);
    assert!(table(EmbedderKind::Hashing).is_empty() && table(EmbedderKind::Vectors).is_empty());
    for k in [EmbedderKind::MiniLm, EmbedderKind::Static, EmbedderKind::Hashing, EmbedderKind::Vectors] {
        let files: Vec<&str> = model_files(k).iter().map(|m| m.file).collect();
        assert_eq!(files, k.model_files(), "no file of {k:?} lacks a field");
    }
    assert_eq!(model_path("static.bin"), "model/static.bin");
}

#[test]
fn byte_counts_in_both_units() {
    let d = |n| human_bytes(n, Units::Decimal);
    assert_eq!([d(0), d(999), d(1000), d(36_499), d(999_999)], ["0 B", "999 B", "1 kB", "36 kB", "1000 kB"]);
    assert_eq!([d(1_000_000), d(1_449_999), d(4_800_000_000)], ["1.0 MB", "1.4 MB", "4800.0 MB"]);
    let b = |n| human_bytes(n, Units::Binary);
    assert_eq!(
        [b(1023), b(1024), b(1536), b(64 << 20), b(3 << 29)],
        ["1023 B", "1 KiB", "1.5 KiB", "64 MiB", "1.5 GiB"]
    );
}

fn manifest_json(format: &str, index: &str, files: &str) -> Vec<u8> {
    format!(
        r#"{{"format":"{format}","version":2,"index":"{index}","bytes":10,"xxh3":"",
        "embedder":{{"kind":"hashing","model":"hashing-v1","dim":256,"fingerprint":"0000000000000100"}},
        "documents":1,"chunks":1,"dense":"flat","created_by":"docent 0.1.0"{files}}}"#
    )
    .into_bytes()
}

#[test]
fn manifests_are_read_and_checked() {
    let m = Manifest::parse(&manifest_json("docent-index", "index.bin", ""), "site/manifest.json").unwrap();
    assert_eq!((m.index.as_str(), m.bytes, m.files.len()), ("index.bin", 10, 0), "files defaults to []");
    let e = Manifest::parse(&manifest_json("other", "index.bin", ""), "site/manifest.json").unwrap_err();
    assert_eq!(e.to_string(), r#"site/manifest.json: field 'format' is "other", expected "docent-index""#);
    let e = Manifest::parse(b"{\"format\":\"docent-index\"}", "m.json").unwrap_err().to_string();
    assert!(e.contains("m.json") && e.contains("not a docent manifest: missing field `version`"), "{e}");
    // Written as manifest.json holds it: two-space indentation, the fields in their order.
    let json = m.to_json().unwrap();
    assert!(
        json.starts_with(
            "{\n  \"format\": \"docent-index\",\n  \"version\": 2,\n  \"index\": \"index.bin\","
        ),
        "{json}"
    );
    assert_eq!(Manifest::parse(json.as_bytes(), "again").unwrap(), m);
}

#[test]
fn a_previous_manifest_names_the_index_and_the_deletable_files() {
    let files = r#","files":[{"path":"index.bin","bytes":1,"xxh3":"a"},{"path":"../../etc/x","bytes":1,"xxh3":"b"},
        {"path":"model/static.bin","bytes":1,"xxh3":"c"}]"#;
    let p = Previous::from_manifest(Some(&manifest_json("docent-index", "idx.bin", files)));
    assert_eq!(p.index, "idx.bin");
    let paths: Vec<&str> = p.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["index.bin", "model/static.bin"], "a path outside the folder is never deleted");
    for index in ["../idx.bin", "sub/idx.bin", "", ".."] {
        let p = Previous::from_manifest(Some(&manifest_json("docent-index", index, "")));
        assert_eq!(p.index, INDEX_FILE, "{index:?}");
    }
    let none = Previous { index: INDEX_FILE.into(), files: vec![], fragments: vec![] };
    assert_eq!(Previous::from_manifest(None), none);
    assert_eq!(Previous::from_manifest(Some(b"not json")), none);
    assert_eq!(Previous::from_manifest(Some(&manifest_json("other", "idx.bin", files))), none);
}

#[test]
fn page_outcomes_are_counted_and_told() {
    use crate::embed::hashing::Hashing;
    use crate::engine::Options;
    use crate::ingest::{self, Format};

    let mut engine = Docent::new(std::sync::Arc::new(Hashing::default()), Options::default()).unwrap();
    let mut counts = PageCounts::default();
    assert_eq!(counts.skipped_text(), "0 skipped");
    let pages = [
        ("a.html", "<html><head><meta name=robots content=noindex></head><body><p>x</p></body></html>"),
        (
            "b.html",
            "<html><head><meta http-equiv=refresh content=\"0; url=c.html\"></head><body></body></html>",
        ),
        ("c.html", "<html><body><main><h1 id=t>Kilns</h1><p>Fire slowly.</p></main></body></html>"),
        ("d.html", "<html><head><meta name=robots content=noindex></head><body></body></html>"),
        ("e.html", "<html><body><main></main></body></html>"),
    ];
    let mut outcomes = Vec::new();
    for (url, html) in pages {
        let page = ingest::parse(url, url, html, Format::Html).unwrap();
        let o = add_page(&mut engine, page).unwrap();
        counts.record(&o);
        outcomes.push(o);
    }
    assert_eq!(outcomes[0], PageOutcome::Skipped { reason: "robots noindex".into() });
    assert_eq!(outcomes[1], PageOutcome::Skipped { reason: "redirect stub".into() });
    assert_eq!(outcomes[2], PageOutcome::Added { chunks: 1, empty_sections: 0 });
    assert!(matches!(&outcomes[4], PageOutcome::Empty { url, .. } if url == "e.html"), "{:?}", outcomes[4]);
    assert_eq!(counts.skipped_text(), "3 skipped (1 redirect stub, 2 robots noindex)");
    assert_eq!((counts.skipped_total(), counts.empty), (3, 1));
    assert_eq!(outcomes[4].warning().as_deref(), Some("e.html: no text to index, skipped"));
    assert_eq!(outcomes[0].warning(), None);
    // addDocument's view of the same outcomes.
    assert_eq!(outcomes[2].clone().into_chunks("c.html").unwrap(), 1);
    assert_eq!(
        outcomes[0].clone().into_chunks("a.html").unwrap_err().to_string(),
        "document a.html: not indexed: the page is a robots noindex"
    );
    assert!(outcomes[4]
        .clone()
        .into_chunks("e.html")
        .unwrap_err()
        .to_string()
        .starts_with("document e.html: no text"));
    // Adding the same url twice is an error, not an outcome.
    let again = ingest::parse("c.html", "c", pages[2].1, Format::Html).unwrap();
    assert!(add_page(&mut engine, again).is_err());
    let e = nothing_indexed(&["site".into(), "docs".into()], 2, &counts).to_string();
    assert_eq!(
        e,
        "invalid paths: no indexable text found in site, docs (2 unsupported files, 3 skipped, 1 empty)"
    );
}
