//! Grid search of the lexical and fusion settings on development questions, without embedding
//! anything twice: each index is loaded once, its BM25F index rebuilt per setting of the field
//! weights ([`Docent::set_bm25_params`]), and every question's vector is embedded once and kept.
//! `docs/tuning.md` says how the defaults were chosen with it. Use development sets only.
//!
//! Usage:
//! `cargo run --example tune_retrieval -- --models DIR INDEX_DIR=QUESTIONS.jsonl... [KEY=V1,V2,...]...`
//! where KEY is one of k1, b, title_weight, title_b, heading_weight, heading_b (BM25F) or
//! rrf_k, lexical_weight, candidates (fusion). Prints one line per setting: lexical and hybrid
//! recall@1, recall@5 and MRR@10 averaged over the question files, then per file.
use std::path::PathBuf;
use std::sync::Arc;

use docent::embed::{Embedder, EmbedderKind};
use docent::eval::{is_relevant, Metrics};
use docent::index::bm25::Bm25Params;
use docent::retrieve::{Mode, RetrieveOptions};
use docent::Docent;

#[path = "support/cached.rs"]
mod cached;
use cached::Cached;

struct Set {
    name: String,
    engine: Docent,
    questions: Vec<(String, Vec<String>)>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut models = PathBuf::from("models");
    let mut sets: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut grid: Vec<(String, Vec<f32>)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--models" {
            models = PathBuf::from(args.next().ok_or("--models needs a directory")?);
        } else if let Some((k, v)) = a.split_once('=') {
            if k.contains('/') || k.ends_with("-minilm") || v.ends_with(".jsonl") {
                sets.push((PathBuf::from(k), PathBuf::from(v)));
            } else {
                let vals: Result<Vec<f32>, _> = v.split(',').map(str::parse::<f32>).collect();
                grid.push((k.to_string(), vals?));
            }
        } else {
            return Err(format!("unexpected argument {a:?}").into());
        }
    }
    let minilm: Arc<dyn Embedder> = Arc::new(docent::embed::minilm::MiniLm::load(&models)?);
    let embedder: Arc<dyn Embedder> = Arc::new(Cached::new(minilm));
    let mut loaded = Vec::new();
    for (dir, qfile) in &sets {
        let bytes = std::fs::read(dir.join("index.bin"))?;
        let info = Docent::embedder_of(&bytes, &dir.display().to_string())?;
        if info.kind != EmbedderKind::MiniLm {
            return Err(format!("{}: built with {info}, expected minilm", dir.display()).into());
        }
        let engine = Docent::from_bytes(&bytes, embedder.clone(), &dir.display().to_string())?;
        let mut questions = Vec::new();
        for line in std::fs::read_to_string(qfile)?.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line)?;
            let rel: Vec<String> = v["relevant"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                .unwrap_or_default();
            if !rel.is_empty() {
                questions.push((v["q"].as_str().unwrap_or_default().to_string(), rel));
            }
        }
        let name = qfile.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        loaded.push(Set { name, engine, questions });
    }
    // Every combination of the grid's values.
    let mut combos: Vec<Vec<(String, f32)>> = vec![Vec::new()];
    for (k, vals) in &grid {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                vals.iter().map(move |&v| {
                    let mut c = c.clone();
                    c.push((k.clone(), v));
                    c
                })
            })
            .collect();
    }
    println!("setting\tlex r1\tlex r5\tlex mrr\thyb r1\thyb r5\thyb mrr\tper set (hybrid r1/r5/mrr)");
    for combo in combos {
        let mut p = Bm25Params::default();
        let mut o = RetrieveOptions::default();
        for (k, v) in &combo {
            match k.as_str() {
                "k1" => p.k1 = *v,
                "b" => p.b = *v,
                "title_weight" => p.title_weight = *v,
                "title_b" => p.title_b = *v,
                "heading_weight" => p.heading_weight = *v,
                "heading_b" => p.heading_b = *v,
                "rrf_k" => o.rrf_k = *v,
                "lexical_weight" => o.lexical_weight = *v,
                "candidates" => o.candidates = *v as usize,
                _ => return Err(format!("unknown setting {k}").into()),
            }
        }
        let mut sum = [0f64; 6];
        let mut per = String::new();
        for set in &mut loaded {
            set.engine.set_bm25_params(p.clone())?;
            let mut m = Vec::new();
            for mode in [Mode::Lexical, Mode::Hybrid] {
                let opts = RetrieveOptions { mode, ..o.clone() };
                let mut ranks = Vec::new();
                for (q, rel) in &set.questions {
                    let r = set.engine.search_with(q, 10, &opts)?;
                    ranks.push(r.hits.iter().position(|h| is_relevant(&h.url, rel)));
                }
                m.push(Metrics::from_ranks("", &ranks, 10));
            }
            for (i, x) in m.iter().flat_map(|x| [x.recall_at_1, x.recall_at_5, x.mrr_at_10]).enumerate() {
                sum[i] += x / loaded_len(&sets);
            }
            per.push_str(&format!(
                "\t{} {:.3}/{:.3}/{:.3}",
                set.name, m[1].recall_at_1, m[1].recall_at_5, m[1].mrr_at_10
            ));
        }
        let name: Vec<String> = combo.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "{}\t{:.3}\t{:.3}\t{:.3}\t{:.3}\t{:.3}\t{:.3}{per}",
            if name.is_empty() { "defaults".to_string() } else { name.join(" ") },
            sum[0],
            sum[1],
            sum[2],
            sum[3],
            sum[4],
            sum[5]
        );
    }
    Ok(())
}

fn loaded_len(sets: &[(PathBuf, PathBuf)]) -> f64 {
    sets.len() as f64
}
