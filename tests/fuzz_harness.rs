//! What each fuzz target does with one input, shared by the libFuzzer targets in `fuzz/` (which
//! include this file) and by `tests/hostile.rs`, which replays every input saved under
//! `tests/fixtures/fuzz/<target>/` (the regressions) and the seeds under `fuzz/seeds/<target>/`
//! through the same code on every `cargo test`.
//!
//! Every function accepts any bytes: returning is a pass, an `Err` from docent is a pass (bad
//! input must be refused, not crash), a panic is a finding. The invariants checked besides "no
//! panic" are the documented promises of the code under test.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use docent::chunk::{budget_spans, chunk_document, Chunk, ChunkOptions, MAX_TOKEN_BYTES};
use docent::embed::hashing::{self, Hashing};
use docent::embed::{Embedder, EmbedderKind};
use docent::engine::Docent;
use docent::index::dense::DenseIndex;
use docent::ingest::{self, Document, Format, Ingested, Section};
use docent::prompt::PromptOptions;
use docent::tokens::TokenCounter;

/// The fuzz targets, by name (`fuzz/fuzz_targets/<name>.rs`).
pub const TARGETS: &[&str] = &["index_loader", "ingest", "chunk", "pdf"];

/// Runs the target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "index_loader" => index_loader(data),
        "ingest" => ingest(data),
        "chunk" => chunk(data),
        "pdf" => pdf(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// index_loader

/// Loads `data` as an index twice: as given (framing, version and checksums are checked), and
/// with every checksum recomputed first ([`repair_checksums`]), so that mutations reach the
/// section decoders and the consistency checks behind the checksums (a hostile file can carry
/// valid checksums; xxh3 is not a signature). A loaded index must then survive every operation:
/// search in each mode, assemble, stats, serialise and reload (to the same bytes), add a document
/// and search its delta, remove a document, rebuild.
pub fn index_loader(data: &[u8]) {
    let _ = docent::format::read(data, "fuzz");
    load_and_exercise(data);
    let mut repaired = data.to_vec();
    if repair_checksums(&mut repaired) {
        load_and_exercise(&repaired);
    }
}

fn load_and_exercise(bytes: &[u8]) {
    // The dense part alone, as `VectorIndex.fromBytes` loads it (a `vectors` section) and as the
    // engine does (`dense`).
    if let Ok(sections) = docent::format::read(bytes, "fuzz") {
        for s in sections.iter().filter(|s| s.name == "dense" || s.name == "vectors") {
            dense_index(s.body);
        }
    }
    let Ok(info) = Docent::embedder_of(bytes, "fuzz") else { return };
    // Only the hashing embedder needs no model files; any other kind must be refused as a
    // mismatch by `from_bytes`, which this checks too.
    let dim = if (hashing::MIN_DIM..=hashing::MAX_DIM).contains(&info.dim) { info.dim } else { 256 };
    let embedder: Arc<dyn Embedder> = Arc::new(Hashing::new(dim).expect("valid dim"));
    let Ok(mut engine) = Docent::from_bytes(bytes, embedder.clone(), "fuzz") else { return };
    assert_eq!(info.kind, EmbedderKind::Hashing, "a {:?} index loaded with the hashing embedder", info.kind);
    exercise(&mut engine, &embedder);
}

fn exercise(engine: &mut Docent, embedder: &Arc<dyn Embedder>) {
    let stats = engine.stats();
    for q in ["water the tomatoes", "x", "\u{200b}\u{202e}"] {
        for k in [1, 5, 1000] {
            if let Ok(r) = engine.search(q, k) {
                assert!(r.hits.len() <= k);
                assert!(r.hits.len() <= stats.chunks + stats.pending, "more hits than chunks");
            }
        }
    }
    let _ = engine.assemble("how do I water tomatoes?", &PromptOptions::default());
    let Ok(bytes) = engine.to_bytes() else { return };
    let again = Docent::from_bytes(&bytes, embedder.clone(), "fuzz round trip")
        .unwrap_or_else(|e| panic!("an index that loaded does not reload after to_bytes: {e}"));
    assert_eq!(again.to_bytes().ok(), Some(bytes), "to_bytes is not stable across a reload");
    let added = engine.add_document(plain_doc("fuzz-added.txt", "Tomatoes need water every morning."));
    if added.is_ok() {
        let _ = engine.search("tomatoes water", 3);
    }
    let first_live = engine.documents().iter().find(|d| d.live).map(|d| d.url.clone());
    if let Some(url) = first_live {
        let _ = engine.remove_document(&url);
    }
    let _ = engine.search("tomatoes", 3);
    if engine.build(&mut |_| {}).is_ok() {
        let _ = engine.search("tomatoes", 3);
        let _ = engine.to_bytes();
    }
}

/// A decoded `DenseIndex` must answer queries of its dimension and give back its rows.
fn dense_index(body: &[u8]) {
    let Ok(index) = docent::format::decode::<DenseIndex>(body, "dense", "fuzz") else { return };
    let (dim, len) = (index.dim(), index.len());
    let (codes, scales) = index.quantized_rows();
    assert_eq!((codes.len(), scales.len()), (len * dim, len), "quantized_rows of a decoded index");
    let query: Vec<f32> = (0..dim).map(|i| (i % 7) as f32 - 3.0).collect();
    for k in [1, 10, 100] {
        for hits in [index.search(&query, k), index.search_exact(&query, k)] {
            let hits = hits.expect("a query of the index's own dimension");
            assert!(hits.len() <= k.min(len));
            assert!(hits.iter().all(|h| (h.0 as usize) < len && (-1.0..=1.0).contains(&h.1)), "{hits:?}");
        }
    }
    let _ = DenseIndex::from_quantized(codes, scales, dim, &Default::default());
}

/// Recomputes the section checksums and the header checksum of a docent container in place, when
/// its header can be parsed. Returns whether anything was rewritten.
pub fn repair_checksums(bytes: &mut [u8]) -> bool {
    use docent::format::MAGIC;
    use xxhash_rust::xxh3::xxh3_64;
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return false;
    }
    let count = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    if count > 64 {
        return false;
    }
    let mut pos = 16;
    let mut entries = Vec::new();
    for _ in 0..count {
        let Some(&name_len) = bytes.get(pos) else { return false };
        let at = pos + 1 + name_len as usize;
        if at + 24 > bytes.len() {
            return false;
        }
        let offset = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        let len = u64::from_le_bytes(bytes[at + 8..at + 16].try_into().unwrap());
        entries.push((offset, len, at + 16));
        pos = at + 24;
    }
    if pos + 8 > bytes.len() {
        return false;
    }
    for (offset, len, sum_at) in entries {
        let end = offset.saturating_add(len);
        if end <= bytes.len() as u64 {
            let sum = xxh3_64(&bytes[offset as usize..end as usize]);
            bytes[sum_at..sum_at + 8].copy_from_slice(&sum.to_le_bytes());
        }
    }
    let sum = xxh3_64(&bytes[..pos]);
    bytes[pos..pos + 8].copy_from_slice(&sum.to_le_bytes());
    true
}

// ---------------------------------------------------------------------------------------------
// ingest

/// The first byte picks the format (HTML, Markdown, text), the rest is the page (decoded lossily,
/// as the CLI decodes files). A page must parse (or be refused with an error) and its document
/// must chunk within the budget.
pub fn ingest(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else { return };
    let format = [Format::Html, Format::Markdown, Format::Text][sel as usize % 3];
    let content = String::from_utf8_lossy(rest);
    let Ok(Ingested::Document(doc)) = ingest::parse("fuzz/page", "page", &content, format) else {
        return;
    };
    for s in &doc.sections {
        assert_eq!(s.text.trim_end(), s.text, "section text keeps trailing blank space");
        for h in &s.headings {
            assert!(!h.contains('\n'), "a heading holds a line break: {h:?}");
        }
    }
    let _ = docent::engine::document_hash(&doc);
    let opts = ChunkOptions::default();
    if let Ok(chunks) = chunk_document(&doc, 0, &TokenCounter::Approx, &opts) {
        check_chunks(&doc, &chunks, &TokenCounter::Approx, &opts);
    }
}

// ---------------------------------------------------------------------------------------------
// pdf

/// The PDF reader (`ingest::pdf::parse`, what the CLI and `addDocument` call) on arbitrary bytes,
/// with the default limits but a smaller work budget (so that one input stays fast): it must
/// return, never panic (in wasm a panic aborts the module). What it returns must keep its
/// promises: a skip has one of the four reasons; a document's sections each lie on one page
/// (`page=N`, N from 1 up, in order), hold text and chunk within the budget.
#[cfg(feature = "pdf")]
pub fn pdf(data: &[u8]) {
    use docent::ingest::pdf::{self, PdfLimits};
    let limits = PdfLimits { max_operations: 200_000, max_stream_bytes: 16 << 20, ..PdfLimits::DEFAULT };
    let read = pdf::parse("fuzz.pdf", "fuzz", data, &limits);
    let doc = match read.outcome {
        Ingested::Skipped { reason } => {
            assert!(
                [pdf::ENCRYPTED, pdf::NO_TEXT, pdf::UNREADABLE, pdf::OVER_LIMITS].contains(&reason.as_str()),
                "unknown skip reason {reason:?}"
            );
            return;
        }
        Ingested::Document(doc) => doc,
    };
    let mut last_page = 0;
    for s in &doc.sections {
        let page: u32 = s
            .anchor
            .as_deref()
            .and_then(|a| a.strip_prefix("page="))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a section without a page anchor: {:?}", s.anchor));
        assert!(page >= 1 && page >= last_page, "page {page} after page {last_page}");
        last_page = page;
        assert!(!s.text.trim().is_empty(), "an empty section");
        assert_eq!(s.text.trim(), s.text, "section text keeps blank space around it");
    }
    let opts = ChunkOptions::default();
    if let Ok(chunks) = chunk_document(&doc, 0, &TokenCounter::Approx, &opts) {
        check_chunks(&doc, &chunks, &TokenCounter::Approx, &opts);
    }
}

/// Without the `pdf` feature there is no PDF reader to fuzz.
#[cfg(not(feature = "pdf"))]
pub fn pdf(_data: &[u8]) {}

// ---------------------------------------------------------------------------------------------
// chunk

/// Byte 0 picks the budget (16..=79 tokens, so short inputs still make several chunks), byte 1
/// the overlap (below half the budget), the rest is one section's text. Chunked with the
/// approximate counter and with MiniLM's real `tokenizer.json`; every chunk must be a slice of
/// its section on char boundaries, within the budget in tokens and in bytes, in order, and
/// together they must cover every token.
pub fn chunk(data: &[u8]) {
    let [a, b, rest @ ..] = data else { return };
    let max_tokens = 16 + (*a as usize % 64);
    let overlap = *b as usize % (max_tokens / 2);
    let opts = ChunkOptions { max_tokens, overlap_tokens: overlap };
    let text = String::from_utf8_lossy(rest);
    let doc = Document {
        url: "fuzz/chunk".into(),
        title: "t".into(),
        sections: vec![Section { anchor: Some("a".into()), headings: vec!["H".into()], text: text.into() }],
    };
    for counter in [TokenCounter::Approx, real_counter().clone()] {
        let chunks = chunk_document(&doc, 7, &counter, &opts).expect("chunking valid options");
        check_chunks(&doc, &chunks, &counter, &opts);
    }
}

/// MiniLM's `tokenizer.json` as a counter: from `$DOCENT_MODEL_DIR`, else `models/` of the
/// checkout (`./build.sh setup` prepares it).
pub fn real_counter() -> &'static TokenCounter {
    static COUNTER: OnceLock<TokenCounter> = OnceLock::new();
    COUNTER.get_or_init(|| {
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let dirs = [
            std::env::var_os("DOCENT_MODEL_DIR").map(PathBuf::from),
            Some(here.join("models")),
            Some(here.join("../models")),
        ];
        let path = dirs
            .into_iter()
            .flatten()
            .map(|d| d.join("tokenizer.json"))
            .find(|p| p.is_file())
            .expect("models/tokenizer.json is missing: run ./build.sh setup");
        TokenCounter::from_json(&std::fs::read(&path).expect("read tokenizer.json")).expect("tokenizer")
    })
}

/// The promises of `chunk_document` for one document.
pub fn check_chunks(doc: &Document, chunks: &[Chunk], counter: &TokenCounter, opts: &ChunkOptions) {
    let mut by_section: Vec<Vec<&Chunk>> = vec![Vec::new(); doc.sections.len()];
    for c in chunks {
        let section = doc.sections.get(c.section as usize).expect("chunk names an existing section");
        let (s, e) = (c.start as usize, c.end as usize);
        assert!(s < e, "empty chunk {s}..{e}");
        let slice = section.text.get(s..e).unwrap_or_else(|| panic!("{s}..{e} is not a char-boundary slice"));
        assert_eq!(slice, c.text, "chunk text is not its section's {s}..{e}");
        assert!(
            c.text.len() <= opts.max_tokens * MAX_TOKEN_BYTES,
            "a chunk of {} bytes exceeds {} tokens × {MAX_TOKEN_BYTES} bytes",
            c.text.len(),
            opts.max_tokens
        );
        by_section[c.section as usize].push(c);
    }
    for (section, list) in doc.sections.iter().zip(&by_section) {
        let spans = budget_spans(counter, &section.text).expect("spans");
        if spans.is_empty() {
            assert!(list.is_empty(), "chunks of a section without tokens");
            continue;
        }
        for c in list {
            let inside = spans.iter().filter(|t| t.0 >= c.start as usize && t.1 <= c.end as usize).count();
            assert!(inside <= opts.max_tokens, "{inside} tokens in a chunk of budget {}", opts.max_tokens);
        }
        // In order, moving forward, and no token left out between two chunks.
        assert_eq!(list.first().map(|c| c.start as usize), Some(spans[0].0), "text before the first chunk");
        assert_eq!(
            list.last().map(|c| c.end as usize),
            spans.last().map(|t| t.1),
            "text after the last chunk"
        );
        for w in list.windows(2) {
            assert!(w[1].start > w[0].start, "chunks do not move forward");
            let next_token = spans.iter().find(|t| t.0 >= w[0].end as usize).map(|t| t.0);
            assert!(
                next_token.is_none_or(|n| w[1].start as usize <= n),
                "a token between {} and {} is in no chunk",
                w[0].end,
                w[1].start
            );
        }
    }
}

fn plain_doc(url: &str, text: &str) -> Document {
    Document {
        url: url.into(),
        title: url.into(),
        sections: vec![Section { anchor: None, headings: vec![], text: text.into() }],
    }
}
