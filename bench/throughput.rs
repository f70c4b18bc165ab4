//! `cargo bench --bench throughput` (run by `./build.sh bench`): indexing throughput and query
//! latency on the Cargo book that ships with the toolchain, native, all cores.
//!
//! Every speed is printed beside a baseline measured in the same run, so the ratios are
//! comparable across machines: embedding throughput of `static` against `minilm`, and every
//! dense search against an exact scan over f32 vectors written as a plain loop.
//! Results go to stdout and to `bench/results/throughput.md`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use docent::embed::minilm::MiniLm;
use docent::embed::static_table::StaticTable;
use docent::embed::Embedder;
use docent::engine::{Docent, Options};
use docent::index::dense::{DenseIndex, DenseOptions};
use docent::ingest::walk::{walk, WalkOptions};
use docent::ingest::Ingested;
use docent::prompt::PromptOptions;

#[path = "paths.rs"]
mod paths;
use paths::{cargo_book, model_dir, root};

/// An engine holding the Cargo book's documents (whole documents until at least `max_chunks`).
fn book_engine(embedder: Arc<dyn Embedder>, max_chunks: usize) -> Docent {
    let report = walk(&[cargo_book()], &WalkOptions::default(), &mut |_| {}).expect("walk the Cargo book");
    let mut e = Docent::new(embedder, Options::default()).unwrap();
    for f in report.files {
        if e.stats().chunks >= max_chunks {
            break;
        }
        if let Ingested::Document(d) = f.outcome {
            let _ = e.add_document(d);
        }
    }
    e
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Times `f` over every query: (p50, p95) in microseconds.
fn time_each<T>(queries: &[Vec<f32>], mut f: impl FnMut(&[f32]) -> T) -> (f64, f64) {
    for q in queries.iter().take(10) {
        std::hint::black_box(f(q));
    }
    let mut t: Vec<f64> = queries
        .iter()
        .map(|q| {
            let s = Instant::now();
            std::hint::black_box(f(q));
            s.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    (percentile(&mut t, 0.5), percentile(&mut t, 0.95))
}

/// The baseline: exact cosine top-10 over f32 rows with a plain loop.
fn brute_force(vectors: &[f32], dim: usize, q: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut scored: Vec<(u32, f32)> = vectors
        .chunks_exact(dim)
        .enumerate()
        .map(|(i, row)| (i as u32, row.iter().zip(q).map(|(a, b)| a * b).sum::<f32>()))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(k);
    scored
}

fn recall(truth: &[(u32, f32)], got: &[(u32, f32)]) -> f64 {
    let hit = truth.iter().filter(|t| got.iter().any(|g| g.0 == t.0)).count();
    hit as f64 / truth.len().max(1) as f64
}

fn main() {
    let dir = model_dir();
    let mut report = String::new();
    let mut line = |s: String| {
        println!("{s}");
        report.push_str(&s);
        report.push('\n');
    };
    line(format!(
        "# docent throughput and latency\n\nmachine: {} cores; corpus: the Cargo book ({})\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        cargo_book().display().to_string().replace(&*std::env::var("HOME").unwrap_or_default(), "~")
    ));

    // --- indexing throughput ---------------------------------------------------------------
    let minilm: Arc<dyn Embedder> = Arc::new(MiniLm::load(&dir).expect("load minilm"));
    let stat: Arc<dyn Embedder> = Arc::new(StaticTable::load(&dir).expect("load static"));
    let mut rows = Vec::new();
    for (name, emb, limit) in [("minilm", minilm.clone(), 768usize), ("static", stat.clone(), usize::MAX)] {
        let mut e = book_engine(emb, limit);
        let n = e.stats().chunks;
        let start = Instant::now();
        e.build(&mut |_| {}).unwrap();
        rows.push((name, n, n as f64 / start.elapsed().as_secs_f64()));
    }
    line("## Indexing throughput (embed + build, all cores)\n".into());
    line("| embedder | chunks | chunks/s | ratio to minilm |\n|---|---:|---:|---:|".into());
    let base = rows[0].2;
    for (name, n, rate) in &rows {
        line(format!("| {name} | {n} | {rate:.1} | {:.1}x |", rate / base));
    }

    // --- query latency ---------------------------------------------------------------------
    let mut engine = book_engine(minilm.clone(), usize::MAX);
    engine.build(&mut |_| {}).unwrap();
    let n = engine.stats().chunks;
    let texts: Vec<String> = engine.indexed_texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let dim = 384;
    let vectors = minilm.embed(&refs).unwrap();
    let questions: Vec<String> = std::fs::read_to_string(root().join("bench/eval/cargo-book.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["q"].as_str().map(str::to_string))
        .collect();
    let qrefs: Vec<&str> = questions.iter().map(String::as_str).collect();
    let qv = minilm.embed(&qrefs).unwrap();
    let queries: Vec<Vec<f32>> = qv.chunks_exact(dim).map(<[f32]>::to_vec).collect();
    let flat =
        DenseIndex::build(&vectors, dim, &DenseOptions { flat_threshold: usize::MAX, ..Default::default() })
            .unwrap();
    let hnsw =
        DenseIndex::build(&vectors, dim, &DenseOptions { flat_threshold: 0, ..Default::default() }).unwrap();
    let truth: Vec<Vec<(u32, f32)>> = queries.iter().map(|q| brute_force(&vectors, dim, q, 10)).collect();
    let rec = |idx: &DenseIndex| -> f64 {
        queries.iter().zip(&truth).map(|(q, t)| recall(t, &idx.search(q, 10).unwrap())).sum::<f64>()
            / queries.len() as f64
    };
    let (b50, b95) = time_each(&queries, |q| brute_force(&vectors, dim, q, 10));
    let (f50, f95) = time_each(&queries, |q| flat.search(q, 10).unwrap());
    let (h50, h95) = time_each(&queries, |q| hnsw.search(q, 10).unwrap());
    line(format!("\n## Dense top-10 over {n} MiniLM chunk vectors ({} questions)\n", queries.len()));
    line(
        "| search | p50 µs | p95 µs | recall@10 | speed-up vs f32 loop (p50) |\n|---|---:|---:|---:|---:|"
            .into(),
    );
    line(format!("| f32 brute force (baseline) | {b50:.0} | {b95:.0} | 1.000 | 1.0x |"));
    line(format!("| docent flat (int8) | {f50:.0} | {f95:.0} | {:.3} | {:.1}x |", rec(&flat), b50 / f50));
    line(format!("| docent HNSW (int8) | {h50:.0} | {h95:.0} | {:.3} | {:.1}x |", rec(&hnsw), b50 / h50));

    let time_text = |f: &mut dyn FnMut(&str)| -> (f64, f64) {
        let mut t: Vec<f64> = questions
            .iter()
            .map(|q| {
                let s = Instant::now();
                f(q);
                s.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        (percentile(&mut t, 0.5), percentile(&mut t, 0.95))
    };
    let (e50, e95) = time_text(&mut |q| {
        std::hint::black_box(minilm.embed(&[q]).unwrap());
    });
    let (s50, s95) = time_text(&mut |q| {
        std::hint::black_box(engine.search(q, 10).unwrap());
    });
    let (a50, a95) = time_text(&mut |q| {
        std::hint::black_box(engine.assemble(q, &PromptOptions::default()).unwrap());
    });
    line(format!("\n## End to end, native, index of {n} chunks ({} kind)\n", engine.stats().dense_kind));
    line("| step | p50 ms | p95 ms |\n|---|---:|---:|".into());
    line(format!("| embed question (minilm) | {:.2} | {:.2} |", e50 / 1e3, e95 / 1e3));
    line(format!("| search (embed + dense + BM25 + fusion + gate) | {:.2} | {:.2} |", s50 / 1e3, s95 / 1e3));
    line(format!("| assemble (search + prompt with token budget) | {:.2} | {:.2} |", a50 / 1e3, a95 / 1e3));
    let out = root().join("bench/results/throughput.md");
    std::fs::write(&out, &report).expect("write bench/results/throughput.md");
    println!("\nwritten to {}", Path::new("bench/results/throughput.md").display());
}
