//! `docent index` on a static site: the self-contained output folder (index, model files, web
//! runtime, manifest `files`), the pages it indexes and skips, and incremental re-indexing.
//!
//! The fixture `tests/fixtures/site/` is the documentation of a made-up kiln controller, the
//! "Emberline K3": 13 content pages with header, nav, a sidebar `<aside>` and footer around
//! `<main>`, `<article>` or plain-body content, nested h1–h4 headings with ids; plus a redirect
//! stub (`setup.html`), a `noindex` page (`search.html`), a `data-docent-ignore` draft
//! (`drafts/kiln-wash.html`), a page whose content is picked by `data-docent-body`
//! (`release-notes.html`) and a byte-identical copy of `alarms.html` (`versions/2.3/`).
//! `tests/fixtures/site-questions.jsonl` holds questions with their one answering section.
//!
//! The runtime files come from a fake assets folder, so these tests do not need `./build.sh wasm`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use docent::embed::hashing::Hashing;
use docent::engine::Docent;
use serde_json::Value;

use crate::common::{copy_dir, fixture, model_dir, root};

/// The content pages of the fixture site: everything but the stub, the noindex page, the
/// ignored draft and the duplicate.
const PAGES: &[&str] = &[
    "alarms.html",
    "api.html",
    "faq.html",
    "firing/cone-fire.html",
    "firing/delayed-start.html",
    "firing/schedules.html",
    "index.html",
    "install/mounting.html",
    "install/wiring.html",
    "maintenance/elements.html",
    "maintenance/thermocouple.html",
    "network.html",
    "release-notes.html",
];

/// A secret that must never reach the output folder.
const SECRET: &str = "sk-test-5b1e0c7d9a3f4e21-never-in-the-site";

/// `docent` with `args`, run in `cwd`, without $DOCENT_ASSETS or $DOCENT_MODEL_DIR, with
/// $DOCENT_API_KEY set to [`SECRET`].
fn docent_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docent"))
        .args(args)
        .current_dir(cwd)
        .env_remove("DOCENT_ASSETS")
        .env_remove("DOCENT_MODEL_DIR")
        .env("DOCENT_API_KEY", SECRET)
        .output()
        .expect("run docent")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A temporary folder with a copy of the fixture site in `public/` and a fake web runtime in
/// `assets/` (the files `./build.sh wasm` leaves in pkg/, plus some that must not be copied).
struct Workspace {
    tmp: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&fixture("site"), &tmp.path().join("public"));
        let assets = tmp.path().join("assets");
        std::fs::create_dir(&assets).unwrap();
        for (name, body) in [
            ("docent.js", "export const facade = 1;\n"),
            ("docent_wasm.js", "export default function init() {}\n"),
            ("docent_wasm_bg.wasm", "\0asm fake module"),
            ("worker.js", "self.onmessage = () => {};\n"),
            ("docent-ask.js", "customElements.define('docent-ask', class extends HTMLElement {});\n"),
            ("cli.js", "#!/usr/bin/env node\n"),
            ("docent.d.ts", "export {};\n"),
            ("README.md", "# not runtime\n"),
            ("package.json", "{}\n"),
        ] {
            std::fs::write(assets.join(name), body).unwrap();
        }
        Workspace { tmp }
    }
    fn path(&self) -> &Path {
        self.tmp.path()
    }
    fn public(&self) -> PathBuf {
        self.path().join("public")
    }
    fn out(&self) -> PathBuf {
        self.public().join("docent")
    }
    fn assets(&self) -> PathBuf {
        self.path().join("assets")
    }
    /// `docent index public --out public/docent --embedder E --assets assets --json [extra]`,
    /// which must succeed; returns the JSON summary and stderr.
    fn index(&self, embedder: &str, extra: &[&str]) -> (Value, String) {
        let (public, out, assets) = (self.public(), self.out(), self.assets());
        let models = model_dir();
        let mut args = vec![
            "index",
            s(&public),
            "--out",
            s(&out),
            "--embedder",
            embedder,
            "--assets",
            s(&assets),
            "--model-dir",
            s(&models),
            "--json",
        ];
        args.extend_from_slice(extra);
        let o = docent_in(self.path(), &args);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value =
            serde_json::from_str(stdout(&o).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)));
        (v, stderr(&o))
    }
}

/// Every file under `dir`, relative, `/`-separated, sorted.
fn files_under(dir: &Path) -> BTreeSet<String> {
    fn go(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let ft = std::fs::symlink_metadata(e.path()).unwrap().file_type();
            assert!(!ft.is_symlink(), "{} is a symlink; the folder must hold copies", e.path().display());
            if ft.is_dir() {
                go(base, &e.path(), out);
            } else {
                let rel = e.path().strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel);
            }
        }
    }
    let mut out = BTreeSet::new();
    go(dir, dir, &mut out);
    out
}

/// Every file under `dir` but those of `fragments/`, which must be exactly the fragment files its
/// manifest names (each checked by the fragment reader's tests).
fn outside_fragments(dir: &Path) -> BTreeSet<String> {
    let all = files_under(dir);
    let m =
        docent::site::Manifest::parse(&std::fs::read(dir.join("manifest.json")).unwrap(), "manifest.json")
            .unwrap();
    let named: BTreeSet<String> =
        m.fragments.expect("fragments written").files().into_iter().map(|(p, _)| p.to_string()).collect();
    let (fragments, rest): (BTreeSet<String>, BTreeSet<String>) =
        all.into_iter().partition(|f| f.starts_with("fragments/"));
    assert_eq!(fragments, named, "fragments/ holds the manifest's fragments");
    rest
}

/// The live document urls of the index in `out`, and the engine (hashing embedder).
fn load(out: &Path) -> Docent {
    let bytes = std::fs::read(out.join("index.bin")).unwrap();
    Docent::from_bytes(&bytes, Arc::new(Hashing::default()), "index.bin").unwrap()
}

fn urls(e: &Docent) -> Vec<String> {
    let mut u: Vec<String> = e.documents().iter().filter(|d| d.live).map(|d| d.url.clone()).collect();
    u.sort();
    u
}

fn count(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn indexes_the_content_pages_and_skips_stub_noindex_ignored_duplicate_and_chrome() {
    let w = Workspace::new();
    let (v, _) = w.index("hashing", &[]);
    assert_eq!(count(&v, "documents"), PAGES.len() as u64);
    assert_eq!(
        v["skipped"],
        serde_json::json!({"data-docent-ignore": 1, "redirect stub": 1, "robots noindex": 1})
    );
    assert_eq!(count(&v, "duplicates"), 1, "versions/2.3/alarms.html is a byte copy of alarms.html");
    assert_eq!(count(&v, "unsupported"), 1, "style.css");
    let e = load(&w.out());
    assert_eq!(urls(&e), PAGES);
    // Page chrome, the region outside data-docent-body, and skipped pages never reach a chunk.
    let texts = e.indexed_texts().join("\n");
    for absent in [
        "OWLFEATHER",      // <aside> sidebar
        "Copyright 2031",  // <footer>
        "Search the docs", // header form
        "PEACOCKBLUE",     // banner outside data-docent-body
        "On this page",    // table of contents outside data-docent-body
        "tangerine",       // data-docent-ignore draft
        "marmalade",       // noindex page
        "This page moved", // redirect stub
    ] {
        assert!(!texts.contains(absent), "{absent:?} was indexed");
    }
    // The FAQ has no <main>/<article>: body mode drops the aside, header and footer there too.
    let faq: Vec<_> = e.search("gas kiln warranty", 10).unwrap().hits;
    assert!(faq.iter().any(|h| h.url.starts_with("faq.html#")), "{faq:?}");
    // Each fixture question's top hit is on its answering page (hashing embedder + BM25; the
    // relevance gate is calibrated for the real embedders, so its verdict is not checked here).
    let questions = std::fs::read_to_string(fixture("site-questions.jsonl")).unwrap();
    for line in questions.lines() {
        let q: Value = serde_json::from_str(line).unwrap();
        let Some(want) = q["relevant"].as_array().and_then(|r| r.first()).and_then(Value::as_str) else {
            continue;
        };
        let page = want.split('#').next().unwrap();
        let r = e.search(q["q"].as_str().unwrap(), 3).unwrap();
        assert!(r.hits[0].url.starts_with(&format!("{page}#")), "{}: {:?}", q["q"], r.hits[0].url);
    }
}

#[test]
fn the_folder_holds_index_model_and_runtime_and_nothing_of_the_machine() {
    let w = Workspace::new();
    let (v, _) = w.index("static", &[]);
    let out = w.out();
    let expected: BTreeSet<String> = [
        "manifest.json",
        "index.bin",
        "model/static.bin",
        "model/tokenizer.json",
        "docent.js",
        "docent_wasm.js",
        "docent_wasm_bg.wasm",
        "worker.js",
        "docent-ask.js",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(outside_fragments(&out), expected, "cli.js, .d.ts, README and package.json stay out");
    assert_eq!(v["runtime"], "copied");

    // The manifest keeps its fields and lists every other file with its size and xxh3.
    let m: Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["format"], "docent-index");
    assert_eq!(m["version"], docent::format::FORMAT_VERSION);
    assert_eq!(m["index"], "index.bin");
    assert_eq!(m["embedder"]["kind"], "static");
    assert_eq!(m["documents"], PAGES.len());
    assert_eq!(m["dense"], "flat");
    assert!(m["created_by"].as_str().unwrap().starts_with("docent "));
    let index = std::fs::read(out.join("index.bin")).unwrap();
    assert_eq!(m["bytes"], index.len());
    assert_eq!(m["xxh3"], docent::embed::fingerprint(&index));
    let listed: BTreeSet<String> =
        m["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
    let mut without_manifest = expected.clone();
    without_manifest.remove("manifest.json");
    assert_eq!(listed, without_manifest);
    for f in m["files"].as_array().unwrap() {
        let bytes = std::fs::read(out.join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(f["bytes"], bytes.len(), "{f}");
        assert_eq!(f["xxh3"], docent::embed::fingerprint(&bytes), "{f}");
    }
    assert_eq!(m["files"], v["files"], "--json reports the same list");
    // The model files are the prepared ones, byte for byte.
    for name in ["static.bin", "tokenizer.json"] {
        assert!(
            std::fs::read(out.join("model").join(name)).unwrap()
                == std::fs::read(model_dir().join(name)).unwrap(),
            "{name}"
        );
    }
    // The model files are the core's table, the one the browser fetches by (pkg/docent.js asks
    // the wasm module for it, tests/js/site.test.mjs checks that side): no copy of it in the facade.
    let table: Vec<String> = docent::site::model_files(docent::embed::EmbedderKind::Static)
        .iter()
        .map(|m| docent::site::model_path(m.file))
        .collect();
    assert_eq!(table, ["model/static.bin", "model/tokenizer.json"]);
    assert!(table.iter().all(|p| expected.contains(p)), "{table:?}");
    let facade = std::fs::read_to_string(root().join("pkg/docent.js")).unwrap();
    for name in ["static.bin", "tokenizer.json", "minilm.int8", "config.json"] {
        assert!(!facade.contains(&format!("'{name}'")), "pkg/docent.js has its own copy of {name}");
    }

    // Nothing of the build machine or its environment: no absolute path, no secret.
    let mut needles: Vec<String> = vec![
        SECRET.to_string(),
        w.path().display().to_string(),
        root().display().to_string(),
        model_dir().display().to_string(),
        std::env::current_dir().unwrap().display().to_string(),
    ];
    if let Ok(canon) = w.path().canonicalize() {
        needles.push(canon.display().to_string());
    }
    if let Some(home) = std::env::var_os("HOME").map(|h| h.to_string_lossy().into_owned()) {
        if home.len() > 1 {
            needles.push(home);
        }
    }
    for f in files_under(&out) {
        let bytes = std::fs::read(out.join(&f)).unwrap();
        for n in &needles {
            assert!(!bytes.windows(n.len()).any(|win| win == n.as_bytes()), "{f} contains {n:?}");
        }
    }
}

/// What a reader keeps to answer offline is every file a question may read: the runtime, every
/// fragment and the model files, each with its size; never `index.bin` (the fragmented reader does
/// not read it), the manifest (saved apart, last) or a file of the package that is not runtime.
#[test]
fn the_offline_copy_lists_runtime_fragments_and_model_but_not_index_bin() {
    let w = Workspace::new();
    w.index("static", &[]);
    let out = w.out();
    let m =
        docent::site::Manifest::parse(&std::fs::read(out.join("manifest.json")).unwrap(), "manifest.json")
            .unwrap();
    let copy = m.offline_files().expect("a folder with fragments has an offline copy");
    let paths = |v: &[docent::site::OfflineFile]| v.iter().map(|f| f.path.clone()).collect::<BTreeSet<_>>();
    let runtime: BTreeSet<String> =
        ["docent.js", "docent_wasm.js", "docent_wasm_bg.wasm", "worker.js", "docent-ask.js"]
            .map(String::from)
            .into();
    assert_eq!(paths(&copy.runtime), runtime);
    assert_eq!(paths(&copy.model), ["model/static.bin", "model/tokenizer.json"].map(String::from).into());
    let fragments: BTreeSet<String> =
        files_under(&out).into_iter().filter(|f| f.starts_with("fragments/")).collect();
    assert_eq!(paths(&copy.fragments), fragments, "every fragment the folder holds, and no other");
    for f in copy.runtime.iter().chain(&copy.model).chain(&copy.fragments) {
        let on_disk = std::fs::metadata(out.join(&f.path)).unwrap().len();
        assert_eq!(f.bytes, on_disk, "{}: its size as written", f.path);
    }
    // A manifest without fragments (an older docent) has no offline copy.
    let older = docent::site::Manifest { fragments: None, ..m };
    assert_eq!(older.offline_files(), None);
}

/// A site whose widget uses `provider="local"` runs llama.cpp from `llm/wllama/` beside
/// `llm/local.js`: the folder gets it when the runtime folder has it (not in the reader's offline
/// copy, which adds it only once the reader agrees to a model), and says plainly when it does not.
#[test]
fn llama_cpp_runtime_is_copied_when_the_assets_have_it_and_the_summary_says_when_not() {
    let w = Workspace::new();
    let out = w.out();
    let clause = "; no llama.cpp runtime (llm/wllama/ was not in the runtime folder): provider=\"local\" cannot run from this folder";
    let line = |w: &Workspace| {
        let (public, out, assets) = (w.public(), w.out(), w.assets());
        let args = ["index", s(&public), "--out", s(&out), "--embedder", "hashing", "--assets", s(&assets)];
        let o = docent_in(w.path(), &args);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    // Without it: no file of it, and the summary says what provider="local" lacks.
    let (v, _) = w.index("hashing", &[]);
    assert_eq!(v["local_runtime"], false, "{v}");
    assert!(!out.join("llm").exists());
    assert!(line(&w).contains(clause));

    // Only one of its two files: neither is copied.
    let wllama = w.assets().join("llm/wllama");
    std::fs::create_dir_all(&wllama).unwrap();
    std::fs::write(wllama.join("wllama.js"), "export class Wllama {}\n").unwrap();
    let (v, _) = w.index("hashing", &[]);
    assert_eq!(v["local_runtime"], false, "{v}");
    assert!(!out.join("llm/wllama/wllama.js").exists());

    // Both: copied byte for byte, listed in the manifest, and the summary says nothing of it.
    let wasm = b"\0asm llama.cpp, fake".to_vec();
    std::fs::write(wllama.join("wllama.wasm"), &wasm).unwrap();
    let (v, _) = w.index("hashing", &[]);
    assert_eq!(v["local_runtime"], true, "{v}");
    assert_eq!(std::fs::read(out.join("llm/wllama/wllama.wasm")).unwrap(), wasm);
    assert_eq!(
        std::fs::read_to_string(out.join("llm/wllama/wllama.js")).unwrap(),
        "export class Wllama {}\n"
    );
    assert!(!line(&w).contains("llama.cpp"));
    let m =
        docent::site::Manifest::parse(&std::fs::read(out.join("manifest.json")).unwrap(), "manifest.json")
            .unwrap();
    for f in docent::site::LOCAL_RUNTIME {
        assert!(m.files.iter().any(|e| e.path == *f), "{f} in the manifest");
    }
    let copy = m.offline_files().unwrap();
    assert!(copy.runtime.iter().all(|f| !f.path.starts_with("llm/")), "{:?}", copy.runtime);

    // A run that finds no runtime folder keeps it with the rest of the earlier copy.
    let (public, outs) = (w.public(), w.out());
    let o = docent_in(w.path(), &["index", s(&public), "--out", s(&outs), "--embedder", "hashing", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!((&v["runtime"], &v["local_runtime"]), (&Value::from("kept"), &Value::from(true)), "{v}");
    assert_eq!(std::fs::read(out.join("llm/wllama/wllama.wasm")).unwrap(), wasm);

    // Taken out of the runtime folder: the next run removes it and says so.
    std::fs::remove_dir_all(&wllama).unwrap();
    assert!(line(&w).contains(clause));
    assert!(!out.join("llm/wllama/wllama.wasm").exists());
}

#[test]
fn reindex_embeds_only_the_edited_page_and_equals_a_full_build() {
    let w = Workspace::new();
    let (first, _) = w.index("hashing", &[]);
    assert_eq!((count(&first, "reused"), count(&first, "embedded")), (0, PAGES.len() as u64));
    let chunks = count(&first, "chunks");

    // Unchanged: everything reused, nothing rewritten (modification times stay).
    let mtimes = |dir: &Path| -> Vec<(String, std::time::SystemTime)> {
        files_under(dir)
            .into_iter()
            .map(|f| {
                let t = std::fs::metadata(dir.join(&f)).unwrap().modified().unwrap();
                (f, t)
            })
            .collect()
    };
    let before = mtimes(&w.out());
    let (same, _) = w.index("hashing", &[]);
    assert_eq!((count(&same, "reused"), count(&same, "embedded"), count(&same, "removed")), (13, 0, 0));
    assert_eq!(count(&same, "embedded_chunks"), 0);
    assert_eq!(same["written"], serde_json::json!([]), "a re-run with no change writes nothing");
    assert_eq!(mtimes(&w.out()), before);
    assert_eq!(count(&same, "excluded"), 1, "the output folder inside public/ is not walked");

    // Edit one page.
    let page = w.public().join("network.html");
    let html = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, html.replace("expires after two minutes", "expires after three minutes")).unwrap();
    let (next, _) = w.index("hashing", &[]);
    assert_eq!(
        (count(&next, "reused"), count(&next, "embedded"), count(&next, "removed")),
        (PAGES.len() as u64 - 1, 1, 0)
    );
    assert_eq!(count(&next, "chunks"), chunks);
    let e = load(&w.out());
    // Every chunk of network.html starts with its h1 in the heading path.
    let network_chunks =
        e.indexed_texts().iter().filter(|t| t.contains("Wi-Fi and the Emberline app")).count();
    assert_eq!(count(&next, "embedded_chunks"), network_chunks as u64);
    assert_eq!(count(&next, "reused_chunks") + count(&next, "embedded_chunks"), chunks);
    assert_eq!(next["written"], serde_json::json!(["index.bin", "manifest.json"]));
    // The timing counters: embedding is a part of the total.
    let t = &next["seconds"];
    let (embed, total) = (t["embed"].as_f64().unwrap(), t["total"].as_f64().unwrap());
    assert!(embed >= 0.0 && embed <= total, "{t}");
    for k in ["read", "index", "write"] {
        assert!(t[k].as_f64().unwrap() <= total, "{t}");
    }
    let hit = &e.search("how long until the pairing code expires", 1).unwrap().hits[0];
    assert_eq!(hit.url, "network.html#pairing");
    assert!(hit.text.contains("three minutes"), "{}", hit.text);

    // The re-index is the index a full build of the edited site gives, byte for byte.
    let fresh = w.path().join("fresh");
    let (public, assets) = (w.public(), w.assets());
    let o = docent_in(
        w.path(),
        &["index", s(&public), "--out", s(&fresh), "--embedder", "hashing", "--assets", s(&assets)],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("indexed 13 documents (0 reused, 13 embedded, 0 removed), "),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        std::fs::read(fresh.join("index.bin")).unwrap(),
        std::fs::read(w.out().join("index.bin")).unwrap()
    );

    // The sentence summary of a re-index after touching one more page.
    let page = w.public().join("api.html");
    let html = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, html.replace("TCP port 8087", "TCP port 8088")).unwrap();
    let (public, out) = (w.public(), w.out());
    let o = docent_in(
        w.path(),
        &["index", s(&public), "--out", s(&out), "--embedder", "hashing", "--assets", s(&assets)],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stdout(&o);
    assert!(line.starts_with("indexed 13 documents (12 reused, 1 embedded, 0 removed), "), "{line}");
    assert!(line.contains("; embed ") && line.trim_end().ends_with(" s total"), "{line}");
}

#[test]
fn deleting_a_page_removes_it() {
    let w = Workspace::new();
    w.index("hashing", &[]);
    std::fs::remove_file(w.public().join("faq.html")).unwrap();
    let (v, _) = w.index("hashing", &[]);
    assert_eq!((count(&v, "reused"), count(&v, "embedded"), count(&v, "removed")), (12, 0, 1));
    let e = load(&w.out());
    assert!(!urls(&e).contains(&"faq.html".to_string()));
    assert!(e.search("gas kiln", 10).unwrap().hits.iter().all(|h| !h.url.starts_with("faq.html")));
}

#[test]
fn changing_the_embedder_rebuilds_with_a_reason_and_swaps_the_model_files() {
    let w = Workspace::new();
    w.index("hashing", &[]);
    assert!(!w.out().join("model").exists(), "the hashing embedder needs no model files");
    let (v, err) = w.index("static", &[]);
    assert_eq!((count(&v, "reused"), count(&v, "embedded")), (0, PAGES.len() as u64));
    let why = v["rebuild"].as_str().unwrap();
    assert!(why.starts_with("the previous index was built with hashing (hashing-v1, 256-d"), "{why}");
    assert!(why.contains("this one uses static ("), "{why}");
    let notes: Vec<&str> =
        err.lines().filter(|l| l.starts_with("docent: note: re-embedding every page: ")).collect();
    assert_eq!(notes.len(), 1, "{err}");
    assert!(w.out().join("model/static.bin").is_file());
    // Other chunk settings: a rebuild too.
    let (v, _) = w.index("static", &["--chunk-tokens", "120"]);
    assert_eq!(count(&v, "reused"), 0);
    assert!(v["rebuild"].as_str().unwrap().contains("chunks of 200 tokens"), "{}", v["rebuild"]);
    // Back to hashing: the model files an earlier run wrote are deleted, nothing else.
    std::fs::write(w.out().join("notes.txt"), "mine").unwrap();
    let (v, _) = w.index("hashing", &[]);
    assert_eq!(v["deleted"], serde_json::json!(["model/static.bin", "model/tokenizer.json"]));
    assert!(!w.out().join("model").exists());
    assert!(w.out().join("notes.txt").is_file(), "a file docent did not write is left alone");
}

#[test]
fn output_inside_the_site_is_not_indexed() {
    let w = Workspace::new();
    w.index("hashing", &[]);
    // Something indexable in the output folder (a widget demo page, say) must not be indexed.
    std::fs::write(w.out().join("demo.html"), "<h1>Widget demo</h1><p>zanzibar lighthouse</p>").unwrap();
    let (v, _) = w.index("hashing", &[]);
    assert_eq!(count(&v, "excluded"), 1);
    assert_eq!(count(&v, "documents"), PAGES.len() as u64);
    assert_eq!(urls(&load(&w.out())), PAGES);
}

#[test]
fn model_files_are_copies_and_a_missing_one_is_refused() {
    let w = Workspace::new();
    // A symlink left in model/ is replaced by a real file, and its target is not written through.
    let decoy = w.path().join("decoy.bin");
    std::fs::write(&decoy, "decoy").unwrap();
    std::fs::create_dir_all(w.out().join("model")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&decoy, w.out().join("model/static.bin")).unwrap();
    w.index("static", &[]);
    assert_eq!(std::fs::read(&decoy).unwrap(), b"decoy");
    files_under(&w.out()); // asserts no symlinks

    // A model folder without tokenizer.json: refused before anything is written.
    let partial = w.path().join("partial-model");
    std::fs::create_dir(&partial).unwrap();
    std::fs::copy(model_dir().join("static.bin"), partial.join("static.bin")).unwrap();
    let out = w.path().join("out2");
    let (public, assets) = (w.public(), w.assets());
    let o = docent_in(
        w.path(),
        &[
            "index",
            s(&public),
            "--out",
            s(&out),
            "--embedder",
            "static",
            "--model-dir",
            s(&partial),
            "--assets",
            s(&assets),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with(&format!(
            "docent: model {}: missing; the browser needs it",
            partial.join("tokenizer.json").display()
        )),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(!out.exists());
}

#[test]
fn runtime_folder_from_flag_env_or_pkg_and_a_note_when_there_is_none() {
    let w = Workspace::new();
    let (public, out, assets) = (w.public(), w.out(), w.assets());
    let base = ["index", s(&public), "--out", s(&out), "--embedder", "hashing"];
    // None found (no flag, no variable, no ./pkg with the wasm in the working directory): the
    // index is written and one note says how to get the runtime.
    let o = docent_in(w.path(), &base);
    assert!(o.status.success(), "{}", stderr(&o));
    let notes: Vec<String> =
        stderr(&o).lines().filter(|l| l.starts_with("docent: note:")).map(String::from).collect();
    assert_eq!(notes.len(), 2, "{}", stderr(&o));
    assert_eq!(
        notes[0],
        "docent: note: versions/2.3/alarms.html: same content as alarms.html, skipped as a duplicate"
    );
    assert!(notes[1].contains("browser runtime") && notes[1].contains("./build.sh wasm"), "{}", notes[1]);
    assert!(notes[1].contains("--assets"), "{}", notes[1]);
    assert_eq!(
        outside_fragments(&out),
        ["index.bin", "manifest.json"].iter().map(|s| s.to_string()).collect()
    );

    assert!(
        stdout(&o).starts_with("indexed 13 documents (0 reused, 13 embedded, 0 removed)"),
        "{}",
        stdout(&o)
    );

    // $DOCENT_ASSETS.
    let o = Command::new(env!("CARGO_BIN_EXE_docent"))
        .args(base)
        .current_dir(w.path())
        .env("DOCENT_ASSETS", &assets)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let notes: Vec<&str> = err.lines().filter(|l| l.starts_with("docent: note:")).collect();
    assert_eq!(
        notes,
        ["docent: note: versions/2.3/alarms.html: same content as alarms.html, skipped as a duplicate"],
        "no note on the runtime"
    );
    assert!(out.join("docent-ask.js").is_file());

    // A later run that finds no runtime keeps the copy in the folder (and says so).
    let o = docent_in(w.path(), &[&base[..], &["--json"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["runtime"], "kept");
    assert!(v["files"].as_array().unwrap().iter().any(|f| f["path"] == "docent-ask.js"), "{v}");
    assert!(out.join("docent-ask.js").is_file() && out.join("docent_wasm_bg.wasm").is_file());
    assert!(stderr(&o).contains("the copy an earlier run left there is kept"), "{}", stderr(&o));

    // ./pkg when it holds the wasm module.
    std::fs::rename(&assets, w.path().join("pkg")).unwrap();
    std::fs::remove_file(out.join("worker.js")).unwrap();
    let o = docent_in(w.path(), &base);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("worker.js").is_file());

    // A named folder without the runtime is an error that says what is missing.
    std::fs::remove_file(w.path().join("pkg/docent_wasm_bg.wasm")).unwrap();
    let pkg = w.path().join("pkg");
    let mut args = base.to_vec();
    args.extend(["--assets", s(&pkg)]);
    let o = docent_in(w.path(), &args);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "docent: invalid --assets: {} lacks the browser runtime file(s) docent_wasm_bg.wasm; expected the folder ./build.sh wasm writes (pkg/)\n",
            pkg.display()
        )
    );
}
