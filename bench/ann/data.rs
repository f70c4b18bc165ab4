//! The `toolchain-20k` / `toolchain-100k` data sets: MiniLM embeddings of short chunks of the
//! documentation shipped with the Rust toolchain, with held-out queries and exact ground truth.
//!
//! Everything is cached under `target/bench-data/` (never in git) and reproducible: the walk is
//! sorted, duplicates are dropped in walk order, the sample is a seeded shuffle, and the files
//! carry an xxh3-64 checksum in their JSON description. Embedding is checkpointed so an
//! interrupted generation resumes where it stopped.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use docent::chunk::{chunk_document, ChunkOptions};
use docent::embed::minilm::MiniLm;
use docent::embed::Embedder;
use docent::ingest::walk::{walk, WalkOptions};
use docent::ingest::Ingested;
use docent::tokens::TokenCounter;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Seed of the sample shuffle (SplitMix64 Fisher–Yates).
pub const SEED: u64 = 0xD0C3_A7;
/// Held-out query vectors (chunks in neither base set).
pub const QUERIES: usize = 1_000;
/// Base set sizes; the smaller is a prefix of the larger.
pub const SETS: [(&str, usize); 2] = [("toolchain-20k", 20_000), ("toolchain-100k", 100_000)];
/// Body tokens per chunk (no overlap): short, so 100k MiniLM embeddings are affordable.
pub const CHUNK_TOKENS: usize = 64;
/// What is embedded (recorded in every description).
pub const CORPUS: &str = "share/doc/rust/html/ of the sysroot without src/ (rustdoc source views); \
chunk text = title > heading path, newline, body; exact-duplicate bodies dropped";
/// MiniLM's dimension.
pub const DIM: usize = 384;
/// Ground truth depth.
pub const GT_K: usize = 10;
/// Rows re-embedded to check that a checkpoint came from the same embedder.
const PROBE: usize = 8;
/// Largest coordinate difference (unit vectors) still counted as the same embedder.
const PROBE_TOLERANCE: f32 = 1e-3;
/// Rows embedded between checkpoints.
const BLOCK: usize = 2_048;

/// The JSON description written beside every raw file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Description {
    /// Set name (`toolchain-20k`, `queries`, …).
    pub name: String,
    /// What the file holds: `f32` rows or `u32` ground-truth ids.
    pub kind: String,
    /// Rows in the file.
    pub count: usize,
    /// Values per row (384 for vectors, 10 for ground truth).
    pub dim: usize,
    /// Seed of the sample.
    pub seed: u64,
    /// `rustc --version` of the toolchain whose docs were embedded.
    pub toolchain: String,
    /// What was embedded: the directory under the sysroot and what was left out.
    pub corpus: String,
    /// Body tokens per chunk.
    pub chunk_tokens: usize,
    /// xxh3-64 of the raw file, 16 hex digits.
    pub xxh3: String,
    /// Raw file name (little-endian values, row-major).
    pub file: String,
}

/// SplitMix64: a tiny, well-mixed generator (enough for a reproducible shuffle).
pub struct SplitMix(pub u64);
impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0), by rejection so there is no modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next();
            if x < zone {
                return x % n;
            }
        }
    }
}

/// Fisher–Yates shuffle driven by [`SplitMix`].
pub fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut r = SplitMix(seed);
    for i in (1..v.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

pub fn xxh3_hex(bytes: &[u8]) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(bytes))
}

pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn u32_bytes(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Reads a little-endian f32 file; its length must be a whole number of `dim` rows.
pub fn read_f32(path: &Path, dim: usize) -> Result<Vec<f32>, String> {
    let b = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if b.len() % (4 * dim) != 0 {
        return Err(format!(
            "{}: {} bytes is not a whole number of {dim}-d f32 rows",
            path.display(),
            b.len()
        ));
    }
    Ok(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// Writes `bytes` to `dir/file` (via a temporary name) and its description to `dir/<name>.json`.
pub fn write_set(dir: &Path, mut d: Description, bytes: &[u8]) -> std::io::Result<Description> {
    d.xxh3 = xxh3_hex(bytes);
    let tmp = dir.join(format!("{}.tmp", d.file));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(&d.file))?;
    std::fs::write(dir.join(format!("{}.json", d.name)), serde_json::to_string_pretty(&d).unwrap())?;
    Ok(d)
}

/// Loads a set and checks its checksum and shape against its description.
pub fn load_set(dir: &Path, name: &str) -> Result<(Description, Vec<u8>), String> {
    let jp = dir.join(format!("{name}.json"));
    let d: Description =
        serde_json::from_slice(&std::fs::read(&jp).map_err(|e| format!("{}: {e}", jp.display()))?)
            .map_err(|e| format!("{}: {e}", jp.display()))?;
    let p = dir.join(&d.file);
    let b = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    if b.len() != d.count * d.dim * 4 {
        return Err(format!(
            "{}: expected {} bytes ({} × {} × 4), found {}",
            p.display(),
            d.count * d.dim * 4,
            d.count,
            d.dim,
            b.len()
        ));
    }
    let h = xxh3_hex(&b);
    if h != d.xxh3 {
        return Err(format!("{}: xxh3 {h} does not match {} in {}", p.display(), d.xxh3, jp.display()));
    }
    Ok((d, b))
}

pub fn le_f32(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}
pub fn le_u32(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// The exact top-[`GT_K`] row ids over `base` of every query in `queries` (`DIM` floats each),
/// flat, queries in order: a set's ground truth, computed in parallel.
pub fn ground_truth(base: &[f32], queries: &[f32]) -> Vec<u32> {
    queries
        .par_chunks_exact(DIM)
        .flat_map_iter(|q| exact_topk(base, DIM, q, GT_K).into_iter().map(|(i, _)| i))
        .collect()
}

/// Exact top-`k` by dot product (cosine for unit rows), best first, ties by lower id.
pub fn exact_topk(base: &[f32], dim: usize, q: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut best: Vec<(u32, f32)> = Vec::with_capacity(k + 1);
    for (i, row) in base.chunks_exact(dim).enumerate() {
        let s = dot(row, q);
        if best.len() < k || s > best[best.len() - 1].1 {
            let pos = best.partition_point(|&(_, b)| b >= s);
            best.insert(pos, (i as u32, s));
            best.truncate(k);
        }
    }
    best
}

/// f32 dot product with 8 independent accumulators (vectorises without fast-math).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Recall@k of `got` against `truth` (ids only): |got ∩ truth| / |truth|.
pub fn recall(truth: &[u32], got: &[u32]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    truth.iter().filter(|t| got.contains(t)).count() as f64 / truth.len() as f64
}

pub fn toolchain() -> (String, PathBuf) {
    let run = |args: &[&str]| {
        let o = std::process::Command::new("rustc").args(args).output().expect("run rustc");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    (run(&["--version"]), PathBuf::from(run(&["--print", "sysroot"])).join("share/doc/rust/html"))
}

/// `$ANN_DATA`, else `<target>/bench-data` (`CARGO_TARGET_DIR` or `target/`).
pub fn data_dir(root: &Path) -> PathBuf {
    if let Some(d) = std::env::var_os("ANN_DATA") {
        return PathBuf::from(d);
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let target = if target.is_absolute() { target } else { root.join(target) };
    target.join("bench-data")
}

/// Whether the files of `sets` (and the queries) are present and valid.
pub fn complete(dir: &Path, sets: &[&str]) -> bool {
    let mut names = vec!["queries".to_string()];
    for n in sets {
        names.push(n.to_string());
        names.push(format!("{n}.gt"));
    }
    names.iter().all(|n| load_set(dir, n).is_ok())
}

/// Generates what `sets` need and is missing (embedding stops once the largest requested set
/// is written; the checkpoint lets a later call continue). Prints timings.
pub fn generate(root: &Path, model_dir: &Path, sets: &[&str]) -> Result<(), String> {
    let dir = data_dir(root);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut stop = 0;
    for s in sets {
        let Some(&(_, n)) = SETS.iter().find(|(name, _)| name == s) else {
            return Err(format!("unknown data set {s}: expected one of {:?}", SETS.map(|s| s.0)));
        };
        stop = stop.max(QUERIES + n);
    }
    if complete(&dir, sets) {
        eprintln!("[gen] {} cached in {}", sets.join(", "), dir.display());
        return Ok(());
    }
    let t0 = Instant::now();
    let emb = MiniLm::load(model_dir).map_err(|e| e.to_string())?;
    let (version, chunks) = shuffled_chunks(&emb, t0)?;
    let need = QUERIES + SETS[1].1;
    if chunks.len() < need {
        return Err(format!("only {} distinct chunks; {need} needed", chunks.len()));
    }
    let texts: Vec<String> = chunks.into_iter().take(need).map(|c| c.indexed).collect();
    // Order: queries first, then the base rows (the 20k set is the first 20k base rows).
    let sample_hash = xxh3_hex(texts.join("\u{1}").as_bytes());
    let partial = dir.join("embed.partial.f32");
    let partial_meta = dir.join("embed.partial.json");
    let meta = serde_json::json!({ "sample": sample_hash, "excluded": "src/", "seed": SEED, "toolchain": version, "chunk_tokens": CHUNK_TOKENS });
    let resume =
        std::fs::read(&partial_meta).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            == Some(meta.clone());
    if !resume {
        std::fs::write(&partial, b"").map_err(|e| e.to_string())?;
        std::fs::write(&partial_meta, meta.to_string()).map_err(|e| e.to_string())?;
    }
    std::fs::write(
        dir.join("sample.jsonl"),
        texts.iter().map(|t| serde_json::to_string(t).unwrap() + "\n").collect::<String>(),
    )
    .map_err(|e| e.to_string())?;
    let mut have = std::fs::metadata(&partial).map(|m| m.len() as usize).unwrap_or(0) / (4 * DIM);
    // Drop a torn last row, if any.
    let f = std::fs::OpenOptions::new().write(true).open(&partial).map_err(|e| e.to_string())?;
    f.set_len((have * 4 * DIM) as u64).map_err(|e| e.to_string())?;
    drop(f);
    eprintln!("[gen] {have} of {need} rows already embedded (checkpoint {})", partial.display());
    // The checkpoint must come from the same embedder (weights and implementation): re-embed the
    // first rows and compare, so a resumed run never mixes two embedders in one set.
    if have >= PROBE {
        let stored = read_f32(&partial, DIM)?;
        let refs: Vec<&str> = texts[..PROBE].iter().map(String::as_str).collect();
        let now = emb.embed(&refs).map_err(|e| e.to_string())?;
        let diff = now.iter().zip(&stored[..PROBE * DIM]).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        if diff > PROBE_TOLERANCE {
            return Err(format!(
                "{} was embedded by a different embedder (first {PROBE} rows differ by up to {diff:.2e}, \
                 tolerance {PROBE_TOLERANCE:.0e}): delete {} to regenerate every set with this one",
                partial.display(),
                dir.display()
            ));
        }
    }
    let desc = |name: &str, kind: &str, count: usize, dim: usize, file: &str| Description {
        name: name.into(),
        kind: kind.into(),
        count,
        dim,
        seed: SEED,
        toolchain: version.clone(),
        corpus: CORPUS.into(),
        chunk_tokens: CHUNK_TOKENS,
        xxh3: String::new(),
        file: file.into(),
    };
    let t2 = Instant::now();
    let start_have = have;
    let mut done_sets = 0;
    loop {
        // Write every set whose rows are all embedded.
        while done_sets < SETS.len() && have >= QUERIES + SETS[done_sets].1 {
            let (name, n) = SETS[done_sets];
            if load_set(&dir, name).is_err()
                || load_set(&dir, &format!("{name}.gt")).is_err()
                || load_set(&dir, "queries").is_err()
            {
                let all = read_f32(&partial, DIM)?;
                let queries = &all[..QUERIES * DIM];
                let base = &all[QUERIES * DIM..(QUERIES + n) * DIM];
                write_set(&dir, desc("queries", "f32", QUERIES, DIM, "queries.f32"), &f32_bytes(queries))
                    .map_err(|e| e.to_string())?;
                let tg = Instant::now();
                write_base_and_truth(&dir, queries, name, base, &desc)?;
                eprintln!(
                    "[gen] wrote {name} and its ground truth ({:.1}s brute force) after {:.0}s",
                    tg.elapsed().as_secs_f64(),
                    t0.elapsed().as_secs_f64()
                );
            }
            done_sets += 1;
        }
        if have >= stop {
            break;
        }
        let end = (have + BLOCK).min(need);
        let refs: Vec<&str> = texts[have..end].iter().map(String::as_str).collect();
        let v = emb.embed(&refs).map_err(|e| e.to_string())?;
        let mut f = std::fs::OpenOptions::new().append(true).open(&partial).map_err(|e| e.to_string())?;
        f.write_all(&f32_bytes(&v)).map_err(|e| e.to_string())?;
        f.sync_data().ok();
        have = end;
        let rate = (have - start_have) as f64 / t2.elapsed().as_secs_f64();
        eprintln!(
            "[gen] embedded {have}/{need} ({rate:.1} chunks/s, eta {:.0} min)",
            (need - have) as f64 / rate / 60.0
        );
    }
    eprintln!("[gen] done in {:.0}s", t0.elapsed().as_secs_f64());
    Ok(())
}

/// A distinct chunk of the toolchain's documentation: the text embedded for it, and its heading
/// path and body apart (for `reader.rs`, which cuts questions from them).
pub struct SampleChunk {
    /// `title > heading path`, newline, body: what a base row or query row embeds.
    pub indexed: String,
    pub heading: String,
    pub body: String,
}

/// Every distinct chunk of the toolchain's documentation (duplicate bodies dropped in walk
/// order) in the seeded shuffle order of the data sets: the first [`QUERIES`] are the held-out
/// query chunks, the next 100,000 the base rows (`toolchain-20k` their first 20,000), the rest in
/// no set. Also returns `rustc --version`.
pub fn shuffled_chunks(emb: &MiniLm, t0: Instant) -> Result<(String, Vec<SampleChunk>), String> {
    let (version, html) = toolchain();
    eprintln!("[gen] walking {} ({version})", html.display());
    // html/src/ holds rustdoc's source-code views (line-numbered listings, mostly generated
    // SIMD intrinsics): 62% of the distinct chunks when included, and not documentation.
    let opts = WalkOptions { exclude: vec![html.join("src")], ..Default::default() };
    let report = walk(&[html.clone()], &opts, &mut |_| {}).map_err(|e| e.to_string())?;
    let docs: Vec<_> = report
        .files
        .into_iter()
        .filter_map(|f| match f.outcome {
            Ingested::Document(d) => Some(d),
            _ => None,
        })
        .collect();
    eprintln!("[gen] {} documents ingested in {:.1}s", docs.len(), t0.elapsed().as_secs_f64());
    let counter = TokenCounter::from_tokenizer(emb.tokenizer().expect("minilm has a tokenizer"))
        .map_err(|e| e.to_string())?;
    let copts = ChunkOptions { max_tokens: CHUNK_TOKENS, overlap_tokens: 0 };
    let t1 = Instant::now();
    let per_doc: Vec<Vec<SampleChunk>> = docs
        .par_iter()
        .enumerate()
        .map(|(i, d)| {
            chunk_document(d, i as u32, &counter, &copts)
                .map(|cs| {
                    cs.into_iter()
                        .map(|c| SampleChunk {
                            indexed: c.indexed_text(&d.title),
                            heading: c.heading,
                            body: c.text,
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let mut seen = HashSet::new();
    let mut chunks: Vec<SampleChunk> = Vec::new();
    let mut total = 0usize;
    for c in per_doc.into_iter().flatten() {
        total += 1;
        if seen.insert(c.body.clone()) {
            chunks.push(c);
        }
    }
    drop(seen);
    eprintln!(
        "[gen] {total} chunks, {} after dropping duplicate texts, chunked in {:.1}s",
        chunks.len(),
        t1.elapsed().as_secs_f64()
    );
    shuffle(&mut chunks, SEED);
    Ok((version, chunks))
}

/// A small synthetic data set with the real one's layout (Gaussian clusters on the unit sphere),
/// for a quick smoke run of every harness: `ANN_DATA=DIR ann fake 2000` (any scratch folder). Both set names hold
/// `toolchain-20k` holds the first `n / 5` rows and `toolchain-100k` all `n`.
pub fn fake(dir: &Path, n: usize) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut r = SplitMix(SEED);
    let mut gauss = move || {
        let u = (r.next() >> 11) as f64 / (1u64 << 53) as f64 + 1e-12;
        let v = (r.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    };
    let centres: Vec<f32> = (0..50 * DIM).map(|_| gauss()).collect();
    let rows = QUERIES + n;
    let mut all = Vec::with_capacity(rows * DIM);
    for i in 0..rows {
        let c = &centres[(i * 7919 % 50) * DIM..][..DIM];
        let mut v: Vec<f32> = c.iter().map(|x| x + 0.8 * gauss()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        all.extend(v);
    }
    let desc = |name: &str, kind: &str, count: usize, dim: usize, file: &str| Description {
        name: name.into(),
        kind: kind.into(),
        count,
        dim,
        seed: SEED,
        toolchain: "none".into(),
        corpus: "synthetic: 50 Gaussian clusters on the unit sphere (fake)".into(),
        chunk_tokens: 0,
        xxh3: String::new(),
        file: file.into(),
    };
    let queries = &all[..QUERIES * DIM];
    write_set(dir, desc("queries", "f32", QUERIES, DIM, "queries.f32"), &f32_bytes(queries))
        .map_err(|e| e.to_string())?;
    for (name, size) in [(SETS[0].0, n / 5), (SETS[1].0, n)] {
        let base = &all[QUERIES * DIM..(QUERIES + size) * DIM];
        write_base_and_truth(dir, queries, name, base, &desc)?;
    }
    Ok(())
}

/// Writes base set `name` and its ground truth: the exact top-`GT_K` ids of every query (f32
/// brute force on all cores). `desc` makes the description of each file.
fn write_base_and_truth(
    dir: &Path,
    queries: &[f32],
    name: &str,
    base: &[f32],
    desc: &dyn Fn(&str, &str, usize, usize, &str) -> Description,
) -> Result<(), String> {
    write_set(dir, desc(name, "f32", base.len() / DIM, DIM, &format!("{name}.f32")), &f32_bytes(base))
        .map_err(|e| e.to_string())?;
    let gt = ground_truth(base, queries);
    write_set(
        dir,
        desc(&format!("{name}.gt"), "u32", queries.len() / DIM, GT_K, &format!("{name}.gt.u32")),
        &u32_bytes(&gt),
    )
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// Checks the cached sets that exist before they are measured: sizes and checksums (in
/// [`load_set`]), unit-length rows, the 20k set equal to the first 20k rows of the 100k set,
/// no query row identical to a base row (held out), and the stored ground truth of every 40th
/// query recomputed (the same ids, or equal scores where ids differ: ties).
pub fn verify(dir: &Path) -> Result<String, String> {
    let (_, qb) = load_set(dir, "queries")?;
    let queries = le_f32(&qb);
    let mut bases: Vec<(&str, Vec<f32>)> = Vec::new();
    for (name, n) in SETS {
        let Ok((d, b)) = load_set(dir, name) else { continue };
        // (the synthetic smoke-test data of `fake` has other sizes)
        if (d.count != n && d.toolchain != "none") || d.dim != DIM {
            return Err(format!("{name}: expected {n} × {DIM}, found {} × {}", d.count, d.dim));
        }
        bases.push((name, le_f32(&b)));
    }
    for (name, v) in std::iter::once(("queries", &queries)).chain(bases.iter().map(|(n, v)| (*n, v))) {
        if let Some((i, norm)) =
            v.chunks_exact(DIM).map(|r| dot(r, r).sqrt()).enumerate().find(|(_, n)| (n - 1.0).abs() > 1e-3)
        {
            return Err(format!(
                "{name}: row {i} has length {norm}, expected 1 (MiniLM rows are L2-normalised)"
            ));
        }
    }
    if let [(_, small), (_, large)] = &bases[..] {
        if large[..small.len()] != small[..] {
            return Err("toolchain-20k is not the first 20,000 rows of toolchain-100k".into());
        }
    }
    // Held out means no query *chunk* is in a base set. Two different chunks can still embed to
    // the same vector: MiniLM's WordPiece turns a whole word with a character outside its
    // vocabulary into [UNK] (`_mm256_maskz_loadu_epi16⚠avx512bw` and `…_ps⚠avx512f` both
    // become `_ mm256 _ maskz _ loadu _ [UNK]`), so equal rows are checked against the embedded
    // texts in sample.jsonl (queries first, then the base rows) and only equal texts fail.
    let row_key = |r: &[f32]| r.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    let held: std::collections::HashMap<Vec<u32>, usize> =
        queries.chunks_exact(DIM).enumerate().map(|(i, r)| (row_key(r), i)).collect();
    let sample = std::fs::read_to_string(dir.join("sample.jsonl")).unwrap_or_default();
    let texts: Vec<&str> = sample.lines().collect();
    let mut same_vector = 0usize;
    for (name, base) in &bases {
        for (i, r) in base.chunks_exact(DIM).enumerate() {
            let Some(&qi) = held.get(&row_key(r)) else { continue };
            match (texts.get(qi), texts.get(QUERIES + i)) {
                (Some(q), Some(b)) if q != b => same_vector += 1,
                _ => {
                    return Err(format!(
                        "{name}: base row {i} equals query row {qi} and their texts are the same or unknown (queries must be held out)"
                    ))
                }
            }
        }
        let (_, gb) = load_set(dir, &format!("{name}.gt"))?;
        let gt = le_u32(&gb);
        for qi in (0..QUERIES).step_by(40) {
            let q = &queries[qi * DIM..(qi + 1) * DIM];
            let want = exact_topk(base, DIM, q, GT_K);
            let got = &gt[qi * GT_K..(qi + 1) * GT_K];
            for (j, (&g, &(w, ws))) in got.iter().zip(&want).enumerate() {
                let gs = dot(&base[g as usize * DIM..(g as usize + 1) * DIM], q);
                if g != w && gs != ws {
                    return Err(format!("{name}.gt: query {qi} rank {j}: stored id {g} (score {gs}), recomputed {w} (score {ws})"));
                }
            }
        }
    }
    Ok(format!(
        "checked {} (unit rows, prefix, held-out queries, ground truth of every 40th query; {same_vector} base rows embed exactly like a query of a different text)",
        std::iter::once("queries").chain(bases.iter().map(|b| b.0)).collect::<Vec<_>>().join(", ")
    ))
}
