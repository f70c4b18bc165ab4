//! Tests for `embed`: the int8 MiniLM against the f32 original, the static table, the hashing
//! embedder, and precise errors for broken model files.
//!
//! The model is prepared once per test binary (int8 quantisation + static distillation) into
//! `CARGO_TARGET_TMPDIR/docent-test-model`, from the source model of `common::model_src_dir()`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use docent::embed::hashing::Hashing;
use docent::embed::minilm::{self, MiniLm};
use docent::embed::prepare::{prepare, PrepareOptions, PrepareReport};
use docent::embed::static_table::{self, StaticTable};
use docent::embed::{Embedder, EmbedderKind};

use crate::common;

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// A small corpus written by the test, so the corpus path of `prepare` is exercised.
fn corpus() -> PathBuf {
    let dir = tmp().join("docent-test-corpus");
    std::fs::create_dir_all(&dir).unwrap();
    let page = "<html><head><style>body { color: red }</style><script>let x = 1;</script></head>\
        <body><h1 id=\"deps\">Dependencies</h1><p>Add a dependency to the <code>[dependencies]</code> \
        table of the manifest, then build the project again. The build tool fetches the crate.</p></body></html>";
    std::fs::write(dir.join("deps.html"), page).unwrap();
    std::fs::write(
        dir.join("notes.md"),
        "# Notes\n\nThe the the of of and and a a to to in in is is. A crate is a unit of compilation.\n",
    )
    .unwrap();
    std::fs::write(dir.join("plain.txt"), "Tests run with the test runner; the runner prints the results.\n")
        .unwrap();
    std::fs::write(dir.join("ignored.bin"), [0u8, 159, 146, 150]).unwrap();
    dir
}

/// The prepared model directory shared by every test of this binary, and its report.
fn prepared() -> &'static (PathBuf, PrepareReport) {
    static DIR: OnceLock<(PathBuf, PrepareReport)> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = tmp().join("docent-test-model");
        let opts = PrepareOptions { corpus: Some(corpus()), static_dim: 256, static_table: true };
        let report = prepare(&common::model_src_dir(), &out, &opts, &mut |s| eprintln!("prepare: {s}"))
            .unwrap_or_else(|e| panic!("prepare failed: {e}"));
        eprintln!("prepare report: {report:?}");
        (out, report)
    })
}

fn model_dir() -> &'static Path {
    &prepared().0
}

fn int8() -> &'static MiniLm {
    static M: OnceLock<MiniLm> = OnceLock::new();
    M.get_or_init(|| MiniLm::load(model_dir()).unwrap_or_else(|e| panic!("{e}")))
}

fn f32_model() -> &'static MiniLm {
    static M: OnceLock<MiniLm> = OnceLock::new();
    M.get_or_init(|| {
        let src = common::model_src_dir();
        let read =
            |n: &str| std::fs::read(src.join(n)).unwrap_or_else(|e| panic!("{}: {e}", src.join(n).display()));
        MiniLm::from_safetensors(&read("model.safetensors"), &read("tokenizer.json"), &read("config.json"))
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

/// candle's f32 BERT over the same weights: the independent check of docent's f32 forward.
fn candle_model() -> MiniLm {
    let src = common::model_src_dir();
    let read =
        |n: &str| std::fs::read(src.join(n)).unwrap_or_else(|e| panic!("{}: {e}", src.join(n).display()));
    MiniLm::from_safetensors_candle(&read("model.safetensors"), &read("tokenizer.json"), &read("config.json"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn table() -> &'static StaticTable {
    static T: OnceLock<StaticTable> = OnceLock::new();
    T.get_or_init(|| StaticTable::load(model_dir()).unwrap_or_else(|e| panic!("{e}")))
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f32]) -> f32 {
    dot(a, a).sqrt()
}

/// A text of well over 256 tokens.
fn long_text() -> String {
    (0..120).map(|i| format!("Paragraph {i} explains how the index stores vectors and postings. ")).collect()
}

fn varied() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        "ok",
        "How do I add a dependency?",
        "Adding crates to Cargo.toml [dependencies]",
        "The weather in Lisbon is sunny",
        "impl<T: Clone> From<&[T]> for Vec<T> { fn from(s: &[T]) -> Vec<T> { s.to_vec() } }",
        "Der schnelle braune Fuchs springt über den faulen Hund.",
        "日本語のテキストも埋め込めます",
        "Συνάρτηση που επιστρέφει ένα αποτέλεσμα",
        "¿Dónde está la biblioteca? — ¡Aquí!",
        "$ cargo build --release && ./target/release/docent index site/ --out docent/",
        "A lifetime annotation does not change how long a reference lives.",
        "rustup target add wasm32-unknown-unknown",
        "!!! ??? ... ,,, ;;;",
        "Chunks keep their heading path and the url#anchor of the nearest heading.",
        "The mitochondria is the powerhouse of the cell.",
        "let mut map = HashMap::new(); map.insert(\"k\", 1);",
        "Iterators are lazy: nothing happens until you consume them.",
        "Ein Satz auf Deutsch mit Umlauten: äöüß.",
        "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15",
        "Panics in wasm abort the module; return errors instead.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(long_text());
    v
}

#[test]
fn int8_minilm_matches_f32_on_varied_texts() {
    let texts = varied();
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    let (a, b) = (f32_model().embed(&refs).unwrap(), int8().embed(&refs).unwrap());
    assert_eq!(a.len(), texts.len() * 384);
    let mut min = f32::INFINITY;
    for (i, (x, y)) in a.chunks_exact(384).zip(b.chunks_exact(384)).enumerate() {
        let c = dot(x, y);
        min = min.min(c);
        assert!(c >= 0.998, "text {i} ({:?}): cosine int8 vs f32 {c}", &texts[i][..texts[i].len().min(40)]);
    }
    eprintln!("int8 vs f32: min cosine {min:.5} over {} texts", texts.len());
    assert!(prepared().1.min_cosine_vs_f32 >= 0.998, "{:?}", prepared().1);
}

/// `prepare` runs docent's own f32 forward (no candle in the CLI): it must compute what candle's
/// BERT computes, on sentences and on the `[CLS] t [SEP]` triples the static table is distilled
/// from.
#[test]
fn f32_forward_matches_candle() {
    let candle = candle_model();
    let texts = varied();
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    let (a, b) = (f32_model().embed(&refs).unwrap(), candle.embed(&refs).unwrap());
    let mut min = f32::INFINITY;
    for (i, (x, y)) in a.chunks_exact(384).zip(b.chunks_exact(384)).enumerate() {
        let (c, diff) = (dot(x, y), x.iter().zip(y).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max));
        min = min.min(c);
        assert!(c >= 0.99999 && diff < 1e-4, "text {i}: cosine docent f32 vs candle {c}, max |diff| {diff}");
    }
    eprintln!("docent f32 vs candle: min cosine {min:.7} over {} texts", texts.len());
    let vocab = f32_model().tokenizer().unwrap().get_vocab_size(true) as u32;
    let triples: Vec<[u32; 3]> = (0..64).map(|i| [101, i * (vocab / 64), 102]).collect();
    let seqs: Vec<&[u32]> = triples.iter().map(|t| t.as_slice()).collect();
    let (ha, len) = f32_model().hidden_states(&seqs).unwrap();
    let (hb, _) = candle.hidden_states(&seqs).unwrap();
    assert_eq!((len, ha.len()), (3, 64 * 3 * 384));
    let diff = ha.iter().zip(&hb).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
    assert!(diff < 1e-4, "hidden states of [CLS] t [SEP]: max |diff| {diff}");
}

/// `docent model --no-static` (what `./build.sh demo` prepares): the same `minilm.int8` bytes as
/// the full preparation, no static table (a stale one removed) and none in `model.json`.
#[test]
fn minilm_only_preparation_writes_the_same_int8_and_no_static_table() {
    let (full, _) = prepared();
    let out = tmp().join("docent-test-model-minilm-only");
    std::fs::create_dir_all(&out).unwrap();
    // A table left by an earlier full preparation must not survive next to other weights.
    std::fs::write(out.join(static_table::TABLE_FILE), b"stale").unwrap();
    let opts = PrepareOptions { corpus: None, static_dim: 256, static_table: false };
    let report =
        prepare(&common::model_src_dir(), &out, &opts, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    let read =
        |dir: &Path, name: &str| std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        read(&out, minilm::WEIGHTS_FILE) == read(full, minilm::WEIGHTS_FILE),
        "minilm.int8 differs from the full preparation's"
    );
    assert_eq!(report.static_bytes, 0);
    assert_eq!(report.min_cosine_vs_f32, prepared().1.min_cosine_vs_f32);
    assert!(!out.join(static_table::TABLE_FILE).exists(), "the stale static.bin was kept");
    let manifest: serde_json::Value = serde_json::from_slice(&read(&out, "model.json")).unwrap();
    assert!(manifest.get("static").is_none() && manifest.get("sif").is_none(), "{manifest}");
    assert_eq!(
        manifest["minilm"],
        serde_json::from_slice::<serde_json::Value>(&read(full, "model.json")).unwrap()["minilm"]
    );
    let err = StaticTable::load(&out).err().expect("a static table without static.bin").to_string();
    assert!(err.contains(static_table::TABLE_FILE), "{err}");
    assert!(MiniLm::load(&out).is_ok());
}

#[test]
fn minilm_info_and_shapes() {
    let m = int8();
    let info = m.info();
    assert_eq!(info.kind, EmbedderKind::MiniLm);
    assert_eq!(info.model, "sentence-transformers/all-MiniLM-L6-v2 (int8)");
    assert_eq!(info.dim, 384);
    let bytes = std::fs::read(model_dir().join(minilm::WEIGHTS_FILE)).unwrap();
    assert_eq!(info.fingerprint, docent::embed::fingerprint(&bytes));
    assert!(m.embed(&[]).unwrap().is_empty());
    let v = m.embed(&[""]).unwrap();
    assert_eq!(v.len(), 384);
    assert!((norm(&v) - 1.0).abs() < 1e-4, "empty string gives a unit vector ([CLS][SEP])");
}

#[test]
fn minilm_tokenizer_counts_every_token_but_embedding_truncates() {
    let m = int8();
    let text = long_text();
    let n = m.tokenizer().unwrap().encode(text.as_str(), false).unwrap().len();
    assert!(n > 1000, "counting tokenizer must not truncate: {n} tokens");
    // Beyond 256 tokens the text is truncated: appending more text changes nothing.
    let more = format!("{text} And a completely different ending about gardening and tomatoes.");
    let v = m.embed(&[text.as_str(), more.as_str()]).unwrap();
    assert!(dot(&v[..384], &v[384..]) > 0.99999, "tokens past 256 must be ignored");
}

#[test]
fn minilm_paraphrase_closer_than_unrelated() {
    let v = int8()
        .embed(&[
            "How do I add a dependency?",
            "Adding crates to Cargo.toml [dependencies]",
            "The weather in Lisbon is sunny",
        ])
        .unwrap();
    let (q, para, other) = (&v[..384], &v[384..768], &v[768..]);
    let (p, o) = (dot(q, para), dot(q, other));
    eprintln!("minilm: paraphrase {p:.3}, unrelated {o:.3}");
    assert!(p > o + 0.2, "paraphrase {p} vs unrelated {o}");
}

#[test]
fn minilm_batch_invariance_and_order() {
    let m = int8();
    let texts = varied();
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    let batch = m.embed(&refs).unwrap();
    for (i, t) in refs.iter().enumerate() {
        let alone = m.embed(&[t]).unwrap();
        let diff =
            alone.iter().zip(&batch[i * 384..(i + 1) * 384]).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(diff < 1e-5, "text {i}: alone vs in batch differ by {diff}");
    }
}

#[test]
fn minilm_throughput() {
    let m = int8();
    // ~150-token chunks.
    let chunk: String =
        (0..14).map(|i| format!("Sentence {i} of a chunk talks about indexes and search. ")).collect();
    let chunks: Vec<String> = (0..32).map(|i| format!("{i} {chunk}")).collect();
    let refs: Vec<&str> = chunks.iter().map(|s| s.as_str()).collect();
    let tokens = m.tokenizer().unwrap().encode(refs[0], true).unwrap().len();
    m.embed(&refs[..2]).unwrap();
    let t = Instant::now();
    m.embed(&refs).unwrap();
    let s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..5 {
        m.embed(&["how do I add a dependency"]).unwrap();
    }
    let q = t.elapsed().as_secs_f64() / 5.0;
    eprintln!(
        "minilm: {:.1} chunks/s ({tokens}-token chunks), short query {:.1} ms",
        refs.len() as f64 / s,
        q * 1e3
    );
}

#[test]
fn static_table_shapes_sanity_and_speed() {
    let t = table();
    let info = t.info();
    assert_eq!(info.kind, EmbedderKind::Static);
    assert_eq!(info.model, "docent static table distilled from all-MiniLM-L6-v2");
    assert_eq!(info.dim, 256);
    let v = t
        .embed(&[
            "How do I add a dependency?",
            "Adding crates to Cargo.toml [dependencies]",
            "The weather in Lisbon is sunny",
            "",
            "[CLS] [SEP]",
        ])
        .unwrap();
    assert_eq!(v.len(), 5 * 256);
    for r in 0..3 {
        assert!((norm(&v[r * 256..(r + 1) * 256]) - 1.0).abs() < 1e-4);
    }
    assert_eq!(norm(&v[3 * 256..4 * 256]), 0.0, "empty text gives a zero row");
    assert_eq!(norm(&v[4 * 256..]), 0.0, "special tokens weigh 0");
    let (p, o) = (dot(&v[..256], &v[256..512]), dot(&v[..256], &v[512..768]));
    eprintln!("static: paraphrase {p:.3}, unrelated {o:.3}");
    assert!(p > o, "paraphrase {p} vs unrelated {o}");

    let chunk: String =
        (0..14).map(|i| format!("Sentence {i} of a chunk talks about indexes and search. ")).collect();
    let chunks: Vec<String> = (0..500).map(|i| format!("{i} {chunk}")).collect();
    let refs: Vec<&str> = chunks.iter().map(|s| s.as_str()).collect();
    let start = Instant::now();
    t.embed(&refs).unwrap();
    eprintln!(
        "static: {:.0} chunks/s (~150-token chunks)",
        refs.len() as f64 / start.elapsed().as_secs_f64()
    );
}

#[test]
fn static_weights_follow_corpus_frequency() {
    let t = table();
    let tok = t.tokenizer().unwrap();
    let id = |w: &str| tok.token_to_id(w).unwrap();
    // "the" is frequent in the test corpus, "zebra" absent: SIF down-weights the frequent one.
    assert!(
        t.weight(id("the")) < t.weight(id("zebra")),
        "{} vs {}",
        t.weight(id("the")),
        t.weight(id("zebra"))
    );
    assert_eq!(t.weight(id("[CLS]")), 0.0);
    assert_eq!(t.weight(id("[SEP]")), 0.0);
    assert_eq!(t.weight(id("[PAD]")), 0.0);
}

#[test]
fn hashing_is_deterministic_and_shares_words() {
    let h = Hashing::default();
    assert_eq!(h.info().dim, 256);
    assert_eq!(h.info().kind, EmbedderKind::Hashing);
    assert_eq!(h.info().model, "hashing-v1");
    let v = h
        .embed(&["Build the index", "build THE index!", "index building", "Sunny weather in Lisbon", ""])
        .unwrap();
    let row = |i: usize| &v[i * 256..(i + 1) * 256];
    assert_eq!(row(0), row(1), "case and punctuation do not matter");
    assert!((norm(row(0)) - 1.0).abs() < 1e-5);
    assert!(dot(row(0), row(2)) > 0.2, "shared word and trigrams: {}", dot(row(0), row(2)));
    assert!(dot(row(0), row(2)) > dot(row(0), row(3)));
    assert_eq!(norm(row(4)), 0.0);
    assert_eq!(h.embed(&["Build the index"]).unwrap(), row(0).to_vec());
    // Pinned: a change here changes every hashing index (bump the model id instead).
    let h16 = Hashing::new(16).unwrap();
    assert_eq!(h16.info().fingerprint, "0000000000000010");
    let pinned = h16.embed(&["docent"]).unwrap();
    // "docent": the word (weight 1) and its 6 trigrams "<do" .. "nt>" (0.25 each).
    let (a, b) = (-0.8528029f32, 0.21320072f32);
    let expected = [a, 0.0, -b, 0.0, 0.0, 0.0, 0.0, -b, 0.0, 0.0, -b, -b, 0.0, -b, 0.0, b];
    for (i, (x, y)) in pinned.iter().zip(expected).enumerate() {
        assert!((x - y).abs() < 1e-6, "bucket {i}: {x} != {y}; full vector {pinned:?}");
    }
}

#[test]
fn hashing_dimension_is_validated() {
    for bad in [0, 7, 4097] {
        let e = Hashing::new(bad).unwrap_err().to_string();
        assert!(
            e.contains("hashing dimension") && e.contains("8..=4096") && e.contains(&bad.to_string()),
            "{e}"
        );
    }
    assert!(Hashing::new(8).is_ok() && Hashing::new(4096).is_ok());
}

fn model_bytes() -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) {
    let d = model_dir();
    let r = |n: &str| std::fs::read(d.join(n)).unwrap();
    (r(minilm::WEIGHTS_FILE), r("tokenizer.json"), r("config.json"), r(static_table::TABLE_FILE))
}

#[test]
fn truncated_and_corrupted_minilm_give_precise_errors() {
    let (w, t, c, _) = model_bytes();
    let e = MiniLm::from_bytes(&w[..w.len() / 2], &t, &c).unwrap_err().to_string();
    assert!(e.contains("minilm.int8") && e.contains("truncated"), "{e}");
    let e = MiniLm::from_bytes(&w[..20], &t, &c).unwrap_err().to_string();
    assert!(e.contains("minilm.int8") && e.contains("truncated") && e.contains("body length"), "{e}");
    let mut bad = w.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x40;
    let e = MiniLm::from_bytes(&bad, &t, &c).unwrap_err().to_string();
    assert!(e.contains("minilm.int8") && e.contains("corrupted") && e.contains("checksum"), "{e}");
    let e = MiniLm::from_bytes(b"GGUF0000000000000000", &t, &c).unwrap_err().to_string();
    assert!(e.contains("minilm.int8") && e.contains("magic"), "{e}");
    let mut v2 = w.clone();
    v2[8] = 2;
    let e = MiniLm::from_bytes(&v2, &t, &c).unwrap_err().to_string();
    assert!(e.contains("minilm.int8") && e.contains("version 2"), "{e}");
    let e = MiniLm::from_bytes(&w, b"{not json", &c).unwrap_err().to_string();
    assert!(e.contains("tokenizer.json"), "{e}");
    let e = MiniLm::from_bytes(&w, &t, b"{}").unwrap_err().to_string();
    assert!(e.contains("config.json"), "{e}");
}

#[test]
fn truncated_and_corrupted_static_table_give_precise_errors() {
    let (_, t, _, s) = model_bytes();
    let e = StaticTable::from_bytes(&s[..s.len() - 100], &t).unwrap_err().to_string();
    assert!(e.contains("static.bin") && e.contains("truncated"), "{e}");
    let mut bad = s.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let e = StaticTable::from_bytes(&bad, &t).unwrap_err().to_string();
    assert!(e.contains("static.bin") && e.contains("corrupted"), "{e}");
    let e = StaticTable::from_bytes(&s[..4], &t).unwrap_err().to_string();
    assert!(e.contains("static.bin") && e.contains("truncated") && e.contains("magic"), "{e}");
}

#[test]
fn missing_model_file_is_named() {
    let dir = tmp().join("docent-test-missing");
    std::fs::create_dir_all(&dir).unwrap();
    let (w, t, c, _) = model_bytes();
    std::fs::write(dir.join("minilm.int8"), &w).unwrap();
    std::fs::write(dir.join("config.json"), &c).unwrap();
    let _ = std::fs::remove_file(dir.join("tokenizer.json"));
    let e = MiniLm::load(&dir).unwrap_err().to_string();
    assert!(e.contains("tokenizer.json") && e.contains("docent model"), "{e}");
    std::fs::write(dir.join("tokenizer.json"), &t).unwrap();
    let e = StaticTable::load(&dir).unwrap_err().to_string();
    assert!(e.contains("static.bin") && e.contains("cannot read"), "{e}");
    let e = prepare(&dir, &tmp().join("docent-test-missing-out"), &PrepareOptions::default(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("model.safetensors") && e.contains("cannot read"), "{e}");
}

#[test]
fn fingerprint_changes_when_weights_change() {
    let (w, t, c, s) = model_bytes();
    // Change one int8 weight of the last tensor and re-seal the checksum: loads, new fingerprint.
    let mut w2 = w.clone();
    let last = w2.len() - 1;
    w2[last] = w2[last].wrapping_add(1);
    let sum = xxhash_rust::xxh3::xxh3_64(&w2[32..]);
    w2[24..32].copy_from_slice(&sum.to_le_bytes());
    let (a, b) = (MiniLm::from_bytes(&w, &t, &c).unwrap(), MiniLm::from_bytes(&w2, &t, &c).unwrap());
    assert_ne!(a.info().fingerprint, b.info().fingerprint);
    assert_ne!(a.info().fingerprint, f32_model().info().fingerprint);
    let mut s2 = s.clone();
    let last = s2.len() - 1;
    s2[last] = s2[last].wrapping_add(1);
    let sum = xxhash_rust::xxh3::xxh3_64(&s2[36..]);
    s2[28..36].copy_from_slice(&sum.to_le_bytes());
    let (x, y) = (StaticTable::from_bytes(&s, &t).unwrap(), StaticTable::from_bytes(&s2, &t).unwrap());
    assert_ne!(x.info().fingerprint, y.info().fingerprint);
}

/// ≥ 64 chunks of real prose written for this project (`docs/*.md`, `README.md`,
/// `ARCHITECTURE.md`, `bench/README.md`), cut into word windows of 12, 40, 100 and 200 words in turn (~16 to 256+
/// tokens, so short queries, typical chunks and truncated ones all occur).
fn project_chunks() -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files.push(root.join("README.md"));
    files.push(root.join("ARCHITECTURE.md"));
    files.push(root.join("bench/README.md"));
    let words: Vec<String> = files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f).unwrap().split_whitespace().map(String::from).collect::<Vec<_>>()
        })
        .collect();
    let mut out = Vec::new();
    let mut at = 0;
    for size in [12, 40, 100, 200].iter().cycle() {
        if at + size > words.len() {
            break;
        }
        out.push(words[at..at + size].join(" "));
        at += size;
    }
    out
}

#[test]
fn int8_forward_stays_within_cosine_0_99_of_f32_on_project_chunks() {
    let texts = project_chunks();
    assert!(texts.len() >= 64, "only {} chunks", texts.len());
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    let (a, b) = (f32_model().embed(&refs).unwrap(), int8().embed(&refs).unwrap());
    let cos: Vec<f32> = a.chunks_exact(384).zip(b.chunks_exact(384)).map(|(x, y)| dot(x, y)).collect();
    let (min_at, min) =
        cos.iter()
            .copied()
            .enumerate()
            .fold((0, f32::INFINITY), |m, (i, c)| if c < m.1 { (i, c) } else { m });
    let mean = cos.iter().sum::<f32>() / cos.len() as f32;
    eprintln!(
        "int8 forward vs f32 over {} project chunks: min cosine {min:.5} (chunk {min_at}), mean {mean:.5}",
        cos.len()
    );
    assert!(
        min >= 0.99,
        "chunk {min_at} ({:?}…): cosine {min}",
        &texts[min_at][..40.min(texts[min_at].len())]
    );
}

/// Sequences are concatenated, never padded, and the integer sums are exact: a text embedded
/// alone and inside a batch of other lengths must give the same bits.
#[test]
fn int8_forward_is_bit_identical_alone_and_in_a_batch() {
    let m = int8();
    let texts = project_chunks();
    let refs: Vec<&str> = texts.iter().take(24).map(|s| s.as_str()).collect();
    let batch = m.embed(&refs).unwrap();
    for (i, t) in refs.iter().enumerate() {
        let alone = m.embed(&[t]).unwrap();
        assert!(alone == batch[i * 384..(i + 1) * 384], "text {i}: alone and in a batch differ");
    }
    // And repeated runs (reused workspaces, other thread) give the same bits.
    let again = std::thread::scope(|s| s.spawn(|| m.embed(&refs).unwrap()).join().unwrap());
    assert!(again == batch, "a second run differs");
}
