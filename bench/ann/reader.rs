//! Reader-like queries: short headings and single sentences, the way a reader types a question,
//! instead of the 64-token chunks of [`crate::data`]'s `queries` (which resemble the base rows).
//!
//! They are cut from the chunks of the toolchain's documentation that are in no base set (past
//! the first `QUERIES + 100,000` of the seeded shuffle, [`data::shuffled_chunks`]), so neither a
//! query nor the chunk it comes from is a row of `toolchain-20k` or `toolchain-100k`. Half are
//! headings (the last part of a chunk's heading path, 2–12 words), half sentences of a chunk's
//! body (6–25 words, mostly letters: no code). Each kind is deduplicated (case-insensitive) and
//! drawn by its own seeded shuffle. Written as the `reader` set (vectors, and `reader.jsonl` with
//! the texts) and `<set>.reader.gt` (the exact top-10 of each, f32 brute force) for every base set
//! present. `cargo bench --bench ann -- reader`, then `ANN_QUERIES=reader … native SET`.

use std::collections::HashSet;
use std::time::Instant;

use docent::embed::minilm::MiniLm;
use docent::embed::Embedder;

use crate::data::{self, Description, DIM, GT_K, QUERIES, SETS};

/// Name of the reader-like query set (and the infix of its ground-truth files).
pub const READER: &str = "reader";
/// Seed of the shuffles that draw the headings and the sentences.
pub const SEED: u64 = 0x2EAD_E25;

/// Generates the `reader` set if missing and its ground truth for every base set present.
pub fn generate(root: &std::path::Path, model_dir: &std::path::Path) -> Result<(), String> {
    let dir = data::data_dir(root);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let t0 = Instant::now();
    let (toolchain, _) = data::toolchain();
    let desc = |name: &str, kind: &str, count: usize, dim: usize, file: &str| Description {
        name: name.into(),
        kind: kind.into(),
        count,
        dim,
        seed: SEED,
        toolchain: toolchain.clone(),
        corpus: format!(
            "{}; reader-like queries: headings and sentences of chunks in no base set",
            data::CORPUS
        ),
        chunk_tokens: data::CHUNK_TOKENS,
        xxh3: String::new(),
        file: file.into(),
    };
    if data::load_set(&dir, READER).is_err() {
        let emb = MiniLm::load(model_dir).map_err(|e| e.to_string())?;
        let (_, chunks) = data::shuffled_chunks(&emb, t0)?;
        let held = chunks.get(QUERIES + SETS[1].1..).unwrap_or(&[]);
        let texts = pick(held, QUERIES);
        if texts.len() < QUERIES {
            return Err(format!(
                "only {} reader-like queries in {} held-out chunks",
                texts.len(),
                held.len()
            ));
        }
        let t1 = Instant::now();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let v = emb.embed(&refs).map_err(|e| e.to_string())?;
        eprintln!(
            "[reader] embedded {} queries from {} held-out chunks in {:.1}s",
            texts.len(),
            held.len(),
            t1.elapsed().as_secs_f64()
        );
        std::fs::write(
            dir.join("reader.jsonl"),
            texts.iter().map(|t| serde_json::to_string(t).unwrap() + "\n").collect::<String>(),
        )
        .map_err(|e| e.to_string())?;
        data::write_set(&dir, desc(READER, "f32", QUERIES, DIM, "reader.f32"), &data::f32_bytes(&v))
            .map_err(|e| e.to_string())?;
    }
    let (_, qb) = data::load_set(&dir, READER)?;
    let queries = data::le_f32(&qb);
    for (name, _) in SETS {
        let gt_name = format!("{name}.{READER}.gt");
        let Ok((_, bb)) = data::load_set(&dir, name) else { continue };
        if data::load_set(&dir, &gt_name).is_ok() {
            continue;
        }
        let base = data::le_f32(&bb);
        let gt = data::ground_truth(&base, &queries);
        data::write_set(
            &dir,
            desc(&gt_name, "u32", QUERIES, GT_K, &format!("{gt_name}.u32")),
            &data::u32_bytes(&gt),
        )
        .map_err(|e| e.to_string())?;
        eprintln!("[reader] wrote {gt_name}");
    }
    Ok(())
}

/// `n` queries: half headings, half sentences (fewer headings: more sentences), each kind
/// deduplicated and drawn by a seeded shuffle, then the two interleaved.
fn pick(chunks: &[data::SampleChunk], n: usize) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut headings = Vec::new();
    let mut sentences = Vec::new();
    for c in chunks {
        if let Some(h) = c.heading.rsplit(" > ").next().map(str::trim) {
            if (2..=12).contains(&words(h)) && prose(h) && seen.insert(h.to_lowercase()) {
                headings.push(h.to_string());
            }
        }
        for s in sentences_of(&c.body) {
            if (6..=25).contains(&words(s)) && prose(s) && seen.insert(s.to_lowercase()) {
                sentences.push(s.to_string());
            }
        }
    }
    data::shuffle(&mut headings, SEED);
    data::shuffle(&mut sentences, SEED ^ 1);
    let nh = headings.len().min(n / 2);
    let mut out: Vec<String> =
        headings.into_iter().take(nh).chain(sentences.into_iter().take(n - nh)).collect();
    data::shuffle(&mut out, SEED ^ 2);
    out
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// Mostly letters and spaces, and none of the marks of code.
fn prose(s: &str) -> bool {
    let chars = s.chars().filter(|c| !c.is_whitespace()).count();
    let letters = s.chars().filter(|c| c.is_alphabetic()).count();
    chars > 0
        && letters * 100 >= chars * 85
        && !["{", "}", ";", "::", "()", "=", "->", "&", "#", "|"].iter().any(|m| s.contains(m))
}

/// The sentences of a body: split at line breaks and after `.`, `?` or `!` followed by a space.
fn sentences_of(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in body.lines() {
        let mut start = 0;
        let b = line.as_bytes();
        for i in 0..b.len() {
            if matches!(b[i], b'.' | b'?' | b'!') && b.get(i + 1) == Some(&b' ') {
                out.push(line[start..=i].trim());
                start = i + 1;
            }
        }
        out.push(line[start..].trim());
    }
    out.retain(|s| !s.is_empty());
    out
}
