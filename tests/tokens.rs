//! The token estimate of builds without `tokenizers` (`TokenCounter::Estimate`, the lean wasm
//! module's prompt budget) against MiniLM's real tokenizer, on the project's corpora: the
//! documentation (docs/*.md), the fixture corpus and the Cargo book shipped with the toolchain,
//! cut into chunks as `docent index` cuts them.

use std::path::{Path, PathBuf};

use docent::chunk::{chunk_document, ChunkOptions};
use docent::ingest::{self, Format, Ingested};
use docent::tokens::{TokenCounter, ESTIMATE_WORST_OVER};

use crate::common;

/// Every file of a supported format under `dir` (recursively), sorted.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else if Format::from_path(&p.to_string_lossy()).is_some() {
            out.push(p);
        }
    }
}

/// The Cargo book of the toolchain that runs the tests (`./build.sh setup` installs rust-docs).
fn cargo_book() -> PathBuf {
    let out = std::process::Command::new("rustc").args(["--print", "sysroot"]).output().expect("rustc runs");
    let sysroot = String::from_utf8(out.stdout).unwrap();
    let dir = Path::new(sysroot.trim()).join("share/doc/rust/html/cargo");
    assert!(dir.is_dir(), "{} is missing: run ./build.sh setup (rust-docs)", dir.display());
    dir
}

/// The indexed text of every chunk of the corpora, chunked with `counter` (MiniLM's tokenizer).
fn corpus_chunks(counter: &TokenCounter) -> Vec<String> {
    let mut files = Vec::new();
    for dir in [common::root().join("docs"), common::fixture("corpus"), cargo_book()] {
        files_under(&dir, &mut files);
    }
    let mut out = Vec::new();
    for (id, path) in files.iter().enumerate() {
        let name = path.to_string_lossy();
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let format = Format::from_path(&name).unwrap();
        let Ok(Ingested::Document(doc)) = ingest::parse(&name, &name, &text, format) else { continue };
        for c in chunk_document(&doc, id as u32, counter, &ChunkOptions::default()).unwrap() {
            out.push(c.indexed_text(&doc.title));
        }
    }
    out
}

/// The estimate never counts fewer tokens than MiniLM on a chunk of the corpora (a prompt
/// budgeted with it fits once the real tokenizer counts it), and never more than
/// `ESTIMATE_WORST_OVER` times as many (the budget it wastes). Prints the measurement.
#[test]
fn estimate_never_undercounts_minilm() {
    let json = std::fs::read(common::model_dir().join("tokenizer.json")).unwrap();
    let real = TokenCounter::from_json(&json).unwrap();
    let chunks = corpus_chunks(&real);
    assert!(chunks.len() > 500, "expected the corpora to give hundreds of chunks, found {}", chunks.len());
    let (mut under, mut over, mut sum_real, mut sum_est) = (f64::INFINITY, 0f64, 0usize, 0usize);
    let mut worst = String::new();
    for c in &chunks {
        let r = real.count(c).unwrap();
        let e = TokenCounter::Estimate.count(c).unwrap();
        let ratio = e as f64 / r.max(1) as f64;
        if ratio < under {
            under = ratio;
            worst = c.chars().take(120).collect();
        }
        over = over.max(ratio);
        sum_real += r;
        sum_est += e;
    }
    eprintln!(
        "token estimate vs MiniLM on {} chunks: lowest ratio {under:.3}, highest {over:.3}, overall {:.3} ({sum_est} / {sum_real})",
        chunks.len(),
        sum_est as f64 / sum_real as f64
    );
    assert!(under >= 1.0, "the estimate undercounts a chunk (ratio {under:.3}): {worst:?}");
    assert!(
        over <= ESTIMATE_WORST_OVER,
        "the estimate overcounts a chunk {over:.3} times (bound {ESTIMATE_WORST_OVER})"
    );
}
