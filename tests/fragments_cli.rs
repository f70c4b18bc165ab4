//! `docent index` and the fragmented folder on disk: a re-index killed at any point leaves a
//! folder that serves the old index or the new one, whole; `search --fragments` reads it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use docent::fragments::{block_on, MemorySource, SiteIndex};
use docent::retrieve::{Mode, RetrieveOptions};
use docent::site::Manifest;

use crate::common::{copy_dir, fixture, root};

fn docent() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_docent"));
    c.env_remove("DOCENT_ASSETS").env_remove("DOCENT_API_KEY").current_dir(root());
    c
}

/// `docent index SITE --out OUT --embedder hashing --chunk-tokens 48 --overlap 8`, to the end.
fn index(site: &Path, out: &Path) -> String {
    let o = index_command(site, out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn index_command(site: &Path, out: &Path) -> Command {
    let mut c = docent();
    c.args(["index", site.to_str().unwrap(), "--out", out.to_str().unwrap(), "--embedder", "hashing"])
        .args(["--chunk-tokens", "48", "--overlap", "8", "--json"]);
    c
}

const QUESTIONS: &[&str] = &[
    "tyre pressure",
    "sourdough starter",
    "relevance gate threshold",
    "how are chunks cut",
    "watering tomatoes in July",
    "offline answer sources",
];

/// Checks the folder whole, as a reader would meet it: the manifest parses, every fragment it
/// names exists with its size and hash; then the lexical top 5 of each question through the
/// fragments (url list per question). Panics naming what is wrong.
fn serve(out: &Path) -> Vec<Vec<String>> {
    let json = std::fs::read(out.join("manifest.json")).expect("manifest.json is there");
    let m = Manifest::parse(&json, "manifest.json").unwrap();
    let table = m.fragments.as_ref().expect("the manifest has fragments");
    let mut files = BTreeMap::new();
    for (path, bytes) in table.files() {
        let b = std::fs::read(out.join(path)).unwrap_or_else(|e| panic!("{path} named by the manifest: {e}"));
        assert_eq!(b.len() as u64, bytes, "{path}");
        assert!(path.ends_with(&format!("-{}.bin", docent::embed::fingerprint(&b))), "{path}: content");
        files.insert(path.to_string(), b);
    }
    let site = SiteIndex::open(&json, "manifest.json").unwrap();
    let src = MemorySource::new(files);
    let opts = RetrieveOptions { mode: Mode::Lexical, ..RetrieveOptions::default() };
    QUESTIONS
        .iter()
        .map(|q| {
            let r = block_on(site.search(&src, q, 5, None, &opts)).unwrap();
            r.hits.into_iter().map(|h| h.url).collect()
        })
        .collect()
}

/// Deterministic delays (xorshift64*), so a failure can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// The pages of the first and of the second version of the site.
fn versions(dir: &Path) -> (PathBuf, PathBuf) {
    let old = dir.join("old");
    copy_dir(&fixture("corpus"), &old);
    copy_dir(&fixture("site-docs").join("docs"), &old.join("docs"));
    let new = dir.join("new");
    copy_dir(&old, &new);
    // Edit two pages, delete one, add one.
    for p in ["docs/faq.md", "guide/gardening.md"] {
        let text = std::fs::read_to_string(new.join(p)).unwrap();
        std::fs::write(
            new.join(p),
            format!("{text}\n\nA new paragraph about river crossings and ferries.\n"),
        )
        .unwrap();
    }
    std::fs::remove_file(new.join("docs/tuning.md")).unwrap();
    std::fs::write(new.join("docs/ferries.md"), "# Ferries\n\nThe ferry crosses the river every hour.\n")
        .unwrap();
    (old, new)
}

#[test]
fn a_killed_reindex_leaves_the_old_index_or_the_new_one_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let (old_site, new_site) = versions(tmp.path());
    // The two states, each from a complete run.
    let old_out = tmp.path().join("old-out");
    index(&old_site, &old_out);
    let old = serve(&old_out);
    let reference = tmp.path().join("new-ref");
    copy_dir(&old_out, &reference);
    let started = Instant::now();
    let summary = index(&new_site, &reference);
    let full = started.elapsed();
    let new = serve(&reference);
    assert_ne!(old, new, "the edit must change some results");
    let v: serde_json::Value = serde_json::from_str(summary.trim()).unwrap();
    let f = &v["fragments"];
    assert!(f["reused"].as_u64().unwrap() > 0 && f["written"].as_u64().unwrap() > 0, "{f}");
    assert_eq!(f["total"].as_u64().unwrap(), f["reused"].as_u64().unwrap() + f["written"].as_u64().unwrap());

    let seed = 0x0D0C_E17F;
    let mut rng = Rng(seed);
    let (mut saw_old, mut saw_new) = (0, 0);
    for run in 0..12 {
        let out = tmp.path().join(format!("run-{run}"));
        copy_dir(&old_out, &out);
        // Kill somewhere in [0, 1.3 × a full run); late kills let the run finish.
        let delay = Duration::from_micros(rng.next() % (full.as_micros() as u64 * 13 / 10 + 1));
        let mut child =
            index_command(&new_site, &out).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "run {run} (seed {seed:#x}) did not end");
            std::thread::sleep(Duration::from_millis(5));
        }
        let got = serve(&out);
        assert!(
            got == old || got == new,
            "run {run} (seed {seed:#x}, kill after {delay:?}): a mix of builds"
        );
        if got == old {
            saw_old += 1;
        } else {
            saw_new += 1;
        }
        // A complete run afterwards gives the new index and cleans up what the killed one left.
        index(&new_site, &out);
        assert_eq!(serve(&out), new);
        let leftovers: Vec<String> = std::fs::read_dir(out.join("fragments"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
    eprintln!(
        "killed re-index: {saw_old} runs served the old index, {saw_new} the new one (full run {full:?})"
    );
}

#[test]
fn fragments_of_the_previous_manifest_stay_one_run_and_then_go() {
    let tmp = tempfile::tempdir().unwrap();
    let (old_site, new_site) = versions(tmp.path());
    let out = tmp.path().join("out");
    index(&old_site, &out);
    let first: Vec<String> = fragment_files(&out);
    let v: serde_json::Value = serde_json::from_str(index(&new_site, &out).trim()).unwrap();
    assert_eq!(v["fragments"]["removed"], 0, "the previous manifest's fragments stay one more run");
    let second = fragment_files(&out);
    assert!(first.iter().all(|f| second.contains(f)), "a fragment of the previous manifest was removed");
    // A third run (same pages) drops the first run's fragments that neither manifest names.
    let v: serde_json::Value = serde_json::from_str(index(&new_site, &out).trim()).unwrap();
    let named = |out: &Path| -> Vec<String> {
        let m = Manifest::parse(&std::fs::read(out.join("manifest.json")).unwrap(), "m").unwrap();
        m.fragments.unwrap().files().into_iter().map(|(p, _)| p.to_string()).collect()
    };
    let now = fragment_files(&out);
    assert_eq!(v["fragments"]["written"], 0);
    assert!(v["fragments"]["removed"].as_u64().unwrap() > 0, "{}", v["fragments"]);
    let mut expected = named(&out);
    expected.sort();
    assert_eq!(now, expected);
    // A file in fragments/ that docent did not write is left alone.
    std::fs::write(out.join("fragments/README.txt"), "mine").unwrap();
    index(&old_site, &out);
    assert!(out.join("fragments/README.txt").is_file());
}

/// `fragments/…` paths of the files in `out/fragments/`, sorted.
fn fragment_files(out: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(out.join("fragments"))
        .unwrap()
        .map(|e| format!("fragments/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|n| n.ends_with(".bin"))
        .collect();
    v.sort();
    v
}

#[test]
fn search_and_ask_read_the_folder_through_its_fragments() {
    let whole_packs = search_and_ask_through_fragments("auto");
    let ranged = search_and_ask_through_fragments("always");
    assert_eq!(whole_packs, ranged, "the same hits whether text packs are read whole or by ranges");
    let tmp = tempfile::tempdir().unwrap();
    let o = index_command(&fixture("corpus"), &tmp.path().join("out"))
        .args(["--ranges", "sometimes"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("ranges") && err.contains("auto, always or never"), "{err}");
}

/// `search --fragments` and `ask --fragments` give what the whole index gives, with text packs
/// fetched whole (`--ranges auto` on this small site) or by byte ranges (`always`). Returns the
/// hits of each mode through the fragments.
fn search_and_ask_through_fragments(ranges: &str) -> Vec<serde_json::Value> {
    let mut found = Vec::new();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = index_command(&fixture("corpus"), &out).args(["--ranges", ranges]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["fragments"]["text"]["ranged"].as_bool().unwrap_or(false), ranges == "always", "{ranges}");
    let run = |args: &[&str]| {
        let o = docent().args(args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let dir = out.to_str().unwrap();
    for mode in ["lexical", "hybrid"] {
        let (whole, _) = run(&["search", dir, "tyre pressure gauge", "--json", "--mode", mode]);
        let (frag, err) =
            run(&["search", dir, "tyre pressure gauge", "--json", "--mode", mode, "--fragments"]);
        let a: serde_json::Value = serde_json::from_str(&whole).unwrap();
        let b: serde_json::Value = serde_json::from_str(&frag).unwrap();
        let urls = |v: &serde_json::Value| -> Vec<String> {
            v["hits"].as_array().unwrap().iter().map(|h| h["url"].as_str().unwrap().to_string()).collect()
        };
        assert_eq!(urls(&a), urls(&b), "{mode}, {ranges}");
        assert_eq!(a["answerable"], b["answerable"], "{mode}");
        found.push(b["hits"].clone());
        assert!(err.contains("docent: fetched ") && err.contains(&format!("the {mode} path")), "{err}");
    }
    let (answer, _) = run(&["ask", dir, "How do I fix a puncture?", "--provider", "offline", "--fragments"]);
    assert!(answer.contains("bicycle.html#puncture"), "{answer}");
    // A folder without fragments (an older docent's): one clear error.
    let m = out.join("manifest.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("fragments");
    std::fs::write(&m, v.to_string()).unwrap();
    let o = docent().args(["search", dir, "tyre", "--fragments"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("no \"fragments\" object"), "{err}");
    found
}

#[test]
fn eval_through_the_fragments_measures_the_same_lexical_retrieval() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    index(&fixture("corpus"), &out);
    let qs = tmp.path().join("q.jsonl");
    std::fs::write(
        &qs,
        [
            r#"{"q": "tyre pressure", "relevant": ["bicycle.html#tyres"]}"#,
            r#"{"q": "sourdough starter feeding", "relevant": ["bread.txt"]}"#,
            r#"{"q": "watering tomatoes", "relevant": ["guide/gardening.md"]}"#,
            r#"{"q": "the orbit of Neptune", "relevant": []}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let run = |extra: &[&str]| -> serde_json::Value {
        let o = docent()
            .args(["eval", out.to_str().unwrap(), qs.to_str().unwrap(), "--json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let (whole, frag) = (run(&[]), run(&["--fragments"]));
    assert_eq!(whole["modes"][0]["mode"], "lexical");
    assert_eq!(whole["modes"][0], frag["modes"][0], "lexical retrieval through fragments is the engine's");
    assert_eq!(whole["questions"], frag["questions"]);
}
