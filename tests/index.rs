//! Tests for `index`: the dense index (flat and HNSW) and BM25.

use docent::index::bm25::{Bm25, Bm25Params, FieldText};
use docent::index::dense::{DenseIndex, DenseOptions};

/// splitmix64 + Box-Muller: deterministic normal samples.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn normal(&mut self) -> f32 {
        let u = ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let v = ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        ((-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()) as f32
    }
}

/// `n` rows (then `extra` more from the same distribution) around `clusters` random centres
/// (0 = isotropic Gaussian).
pub(crate) fn vectors(seed: u64, n: usize, dim: usize, clusters: usize) -> Vec<f32> {
    let mut rng = Rng(seed);
    let centres: Vec<f32> = (0..clusters * dim).map(|_| rng.normal()).collect();
    let mut out = Vec::with_capacity(n * dim);
    for _ in 0..n {
        if clusters == 0 {
            out.extend((0..dim).map(|_| rng.normal()));
        } else {
            let c = (rng.next_u64() % clusters as u64) as usize;
            out.extend((0..dim).map(|j| centres[c * dim + j] + 0.8 * rng.normal()));
        }
    }
    out
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// f32 brute-force top-k `(id, cosine)`.
pub(crate) fn brute(rows: &[f32], dim: usize, q: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut s: Vec<(u32, f32)> =
        rows.chunks_exact(dim).enumerate().map(|(i, r)| (i as u32, cosine(r, q))).collect();
    s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    s.truncate(k);
    s
}

/// Mean recall@10 of `idx` against the f32 brute force over `queries`.
pub(crate) fn recall(idx: &DenseIndex, rows: &[f32], queries: &[f32], dim: usize) -> f64 {
    let (mut hit, mut all) = (0, 0);
    for q in queries.chunks_exact(dim) {
        let truth = brute(rows, dim, q, 10);
        let got = idx.search(q, 10).unwrap();
        assert_eq!(got.len(), 10);
        all += truth.len();
        hit += truth.iter().filter(|t| got.iter().any(|g| g.0 == t.0)).count();
    }
    hit as f64 / all as f64
}

fn flat() -> DenseOptions {
    DenseOptions { flat_threshold: usize::MAX, ..Default::default() }
}

fn hnsw() -> DenseOptions {
    DenseOptions { flat_threshold: 0, ..Default::default() }
}

#[test]
fn hnsw_recall_at_10_against_f32_brute_force_is_at_least_095() {
    let (n, dim, nq) = (5_000, 64, 50);
    for seed in [11u64, 12] {
        let data = vectors(seed, n + nq, dim, 100);
        let (rows, queries) = data.split_at(n * dim);
        let idx = DenseIndex::build(rows, dim, &hnsw()).unwrap();
        assert_eq!(idx.kind(), "hnsw");
        let recall = recall(&idx, rows, queries, dim);
        eprintln!("seed {seed}: HNSW recall@10 {recall:.3}");
        assert!(recall >= 0.95, "seed {seed}: HNSW recall@10 {recall:.3} < 0.95");
    }
}

#[test]
fn hnsw_scores_equal_exact_scores_for_the_same_rows() {
    let dim = 32;
    let data = vectors(3, 2_010, dim, 20);
    let (rows, queries) = data.split_at(2_000 * dim);
    let idx = DenseIndex::build(rows, dim, &hnsw()).unwrap();
    for q in queries.chunks_exact(dim) {
        let exact = idx.search_exact(q, 2_000).unwrap();
        for (id, score) in idx.search(q, 10).unwrap() {
            let e = exact.iter().find(|e| e.0 == id).unwrap();
            assert_eq!(e.1, score, "row {id}");
        }
        let got = idx.search(q, 10).unwrap();
        assert!(got.windows(2).all(|w| w[0].1 >= w[1].1), "not best first: {got:?}");
    }
}

#[test]
fn flat_matches_brute_force_order_up_to_quantization() {
    let dim = 48;
    for seed in [1u64, 2, 3] {
        let data = vectors(seed, 305, dim, 0);
        let (rows, queries) = data.split_at(300 * dim);
        let idx = DenseIndex::build(rows, dim, &flat()).unwrap();
        assert_eq!(idx.kind(), "flat");
        for q in queries.chunks_exact(dim) {
            let truth = brute(rows, dim, q, 20);
            let got = idx.search(q, 20).unwrap();
            assert_eq!(got.len(), 20);
            for (i, ((gid, gscore), (_, tscore))) in got.iter().zip(&truth).enumerate() {
                // The row at rank i has (in f32) the i-th best similarity, up to int8 error.
                let f32_score = cosine(&rows[*gid as usize * dim..][..dim], q);
                assert!(
                    (f32_score - tscore).abs() < 0.02,
                    "seed {seed} rank {i}: row {gid} has cosine {f32_score}, brute force {tscore}"
                );
                assert!((gscore - f32_score).abs() < 0.02, "seed {seed}: int8 {gscore} vs {f32_score}");
            }
        }
    }
}

// Regression: queries were quantized to int8 too, so a query change of 1e-6 that crossed a
// rounding boundary moved scores by ~1e-3 (wasm and native MiniLM embeddings differ that much).
#[test]
fn scores_are_continuous_in_the_query_across_an_int8_rounding_boundary() {
    let dim = 64;
    let rows = vectors(21, 300, dim, 0);
    for opts in [flat(), hnsw()] {
        let idx = DenseIndex::build(&rows, dim, &opts).unwrap();
        let mut q: Vec<f32> = vectors(22, 1, dim, 0).iter().map(|x| x.clamp(-0.9, 0.9)).collect();
        q[0] = 1.0; // the largest value: the int8 code of column j is round(127 · q[j])
        let boundary = 10.5 / 127.0;
        let (mut below, mut above) = (q.clone(), q.clone());
        below[1] = boundary - 1e-6;
        above[1] = boundary + 1e-6;
        let (a, b) = (idx.search(&below, 10).unwrap(), idx.search(&above, 10).unwrap());
        assert_eq!(ids(&a), ids(&b), "{}", idx.kind());
        for (x, y) in a.iter().zip(&b) {
            assert!((x.1 - y.1).abs() < 1e-5, "{} row {}: {} vs {}", idx.kind(), x.0, x.1, y.1);
        }
    }
}

#[test]
fn k_zero_k_above_len_and_empty_index() {
    let dim = 8;
    let rows = vectors(5, 30, dim, 0);
    for opts in [flat(), hnsw()] {
        let idx = DenseIndex::build(&rows, dim, &opts).unwrap();
        let q = &rows[..dim];
        assert!(idx.search(q, 0).unwrap().is_empty());
        assert!(idx.search_exact(q, 0).unwrap().is_empty());
        let all = idx.search(q, 100).unwrap();
        assert_eq!(all.len(), 30, "{}", idx.kind());
        let mut ids: Vec<u32> = all.iter().map(|h| h.0).collect();
        ids.sort();
        assert_eq!(ids, (0..30).collect::<Vec<_>>());
        assert_eq!(all[0].0, 0, "a row is its own nearest neighbour");
        assert!(all[0].1 > 0.99 && all[0].1 <= 1.0);
        assert!(all.windows(2).all(|w| w[0].1 >= w[1].1));
        assert_eq!(idx.len(), 30);
        assert_eq!(idx.dim(), dim);
        assert!(idx.memory_bytes() >= 30 * dim);

        let empty = DenseIndex::build(&[], dim, &opts).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.len(), 0);
        assert!(empty.search(q, 5).unwrap().is_empty());
        assert!(empty.search_exact(q, 5).unwrap().is_empty());
    }
}

#[test]
fn zero_rows_score_zero() {
    let rows = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, -1.0, 0.0, 0.0];
    let idx = DenseIndex::build(&rows, 3, &flat()).unwrap();
    let hits = idx.search(&[2.0, 0.0, 0.0], 3).unwrap();
    assert_eq!(hits[0].0, 1);
    assert!((hits[0].1 - 1.0).abs() < 1e-3);
    assert_eq!(hits[1], (0, 0.0));
    assert_eq!(hits[2].0, 2);
    assert!((hits[2].1 + 1.0).abs() < 1e-3);
    // A zero query scores 0 against everything (ties by id).
    let hits = idx.search(&[0.0, 0.0, 0.0], 3).unwrap();
    assert_eq!(hits, vec![(0, 0.0), (1, 0.0), (2, 0.0)]);
}

#[test]
fn dense_errors_say_what_was_expected_and_found() {
    let err = |r: docent::Result<DenseIndex>| r.unwrap_err().to_string();
    assert_eq!(
        err(DenseIndex::build(&vec![0.5; 1000], 384, &flat())),
        "invalid vector: vectors has 1000 floats, not a multiple of dim 384"
    );
    assert_eq!(
        err(DenseIndex::build(&[1.0], 0, &flat())),
        "invalid dim: expected a dimension of at least 1, found 0"
    );
    let mut rows = vec![1.0f32; 12];
    rows[4 + 2] = f32::NAN;
    assert_eq!(
        err(DenseIndex::build(&rows, 4, &flat())),
        "invalid vector: vectors row 1 column 2 is NaN; every value must be finite"
    );
    rows[6] = 1.0;
    rows[11] = f32::NEG_INFINITY;
    assert_eq!(
        err(DenseIndex::build(&rows, 4, &hnsw())),
        "invalid vector: vectors row 2 column 3 is -inf; every value must be finite"
    );

    let idx = DenseIndex::build(&vectors(1, 4, 384, 0), 384, &flat()).unwrap();
    assert_eq!(
        idx.search(&[0.1; 128], 3).unwrap_err().to_string(),
        "invalid vector: query has 128 dimensions; the index has 384"
    );
    assert_eq!(
        idx.search_exact(&[0.1; 128], 3).unwrap_err().to_string(),
        "invalid vector: query has 128 dimensions; the index has 384"
    );
    let mut q = vec![0.1f32; 384];
    q[3] = f32::INFINITY;
    assert_eq!(
        idx.search(&q, 3).unwrap_err().to_string(),
        "invalid vector: query column 3 is inf; every value must be finite"
    );
    // An empty index still checks the query.
    let empty = DenseIndex::build(&[], 384, &flat()).unwrap();
    assert!(empty.search(&[0.1; 128], 3).is_err());
}

#[test]
fn dense_postcard_round_trip_gives_identical_results() {
    let dim = 16;
    let data = vectors(9, 1_010, dim, 10);
    let (rows, queries) = data.split_at(1_000 * dim);
    for opts in [flat(), hnsw()] {
        let idx = DenseIndex::build(rows, dim, &opts).unwrap();
        let bytes = postcard::to_allocvec(&idx).unwrap();
        let back: DenseIndex = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.kind(), idx.kind());
        assert_eq!(back.len(), idx.len());
        assert_eq!(postcard::to_allocvec(&back).unwrap(), bytes, "re-encoding differs");
        for q in queries.chunks_exact(dim) {
            assert_eq!(back.search(q, 10).unwrap(), idx.search(q, 10).unwrap());
            assert_eq!(back.search_exact(q, 10).unwrap(), idx.search_exact(q, 10).unwrap());
        }
        let copy = idx.clone();
        assert_eq!(copy.search(&queries[..dim], 5).unwrap(), idx.search(&queries[..dim], 5).unwrap());
    }
}

#[test]
fn flat_build_is_deterministic() {
    let rows = vectors(4, 200, 24, 5);
    let a = postcard::to_allocvec(&DenseIndex::build(&rows, 24, &flat()).unwrap()).unwrap();
    let b = postcard::to_allocvec(&DenseIndex::build(&rows, 24, &flat()).unwrap()).unwrap();
    assert_eq!(a, b);
}

/// The graph depends only on the rows and the options: with the `parallel` feature batches are
/// searched on rayon's threads, but a build on one thread (as in wasm) writes the same bytes as
/// one on many.
#[test]
fn hnsw_build_is_deterministic_and_independent_of_the_thread_count() {
    let dim = 32;
    let rows = vectors(21, 3_000, dim, 30);
    let build = || postcard::to_allocvec(&DenseIndex::build(&rows, dim, &hnsw()).unwrap()).unwrap();
    let first = build();
    #[cfg(feature = "parallel")]
    for threads in [4, 1] {
        let got = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(build);
        assert!(got == first, "the graph changed on {threads} threads");
    }
    assert!(build() == first, "two builds differ");
    let other_seed = DenseOptions { seed: 7, ..hnsw() };
    let seeded = postcard::to_allocvec(&DenseIndex::build(&rows, dim, &other_seed).unwrap()).unwrap();
    assert!(seeded != first, "the seed should change the level draws");
}

#[path = "golden_rows.rs"]
mod golden;
pub(crate) use golden::golden_rows;

/// The HNSW graph of [`golden_rows`] hashes to the value in tests/fixtures/hnsw-golden.txt, here
/// and in wasm (tests/wasm.rs checks the same file): native and browser builds write the same
/// index. Regenerate with `DOCENT_WRITE_FIXTURES=1 cargo test --test tests hnsw_golden` when the
/// graph or its encoding changes on purpose.
#[test]
fn hnsw_golden_graph_is_the_same_on_every_target() {
    let idx = DenseIndex::build(&golden_rows(), 32, &hnsw()).unwrap();
    let hash = format!("{:016x}\n", xxhash_rust::xxh3::xxh3_64(&postcard::to_allocvec(&idx).unwrap()));
    let path = crate::common::fixture("hnsw-golden.txt");
    if std::env::var_os("DOCENT_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, &hash).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), hash, "the HNSW graph changed");
}

/// Recall rises with `ef` and reaches 0.99 (the "a setting that reaches 0.99"), and the
/// stored parameters are the ones asked for or chosen by size.
#[test]
fn hnsw_recall_reaches_099_with_a_larger_ef_and_params_are_recorded() {
    let (n, dim, nq) = (8_000, 48, 60);
    let data = vectors(31, n + nq, dim, 80);
    let (rows, queries) = data.split_at(n * dim);
    let idx = DenseIndex::build(rows, dim, &DenseOptions { m: 8, ef_construction: 60, ..hnsw() }).unwrap();
    let p = idx.hnsw_params().unwrap();
    assert_eq!((p.m, p.ef_construction, p.heuristic, p.seed), (8, 60, true, 0x5EED));
    assert!(p.ef_search >= 1);
    let levels = idx.hnsw_levels();
    assert_eq!(levels.iter().sum::<usize>(), n);
    // P(level >= 1) = 1/m: about n/8 nodes above layer 0.
    assert!((n / 8 / 2..n / 8 * 2).contains(&(n - levels[0])), "{levels:?}");
    let truth: Vec<Vec<(u32, f32)>> = queries.chunks_exact(dim).map(|q| brute(rows, dim, q, 10)).collect();
    let recall = |ef: usize| {
        let mut hit = 0;
        for (q, t) in queries.chunks_exact(dim).zip(&truth) {
            let got = idx.search_with(q, 10, ef).unwrap();
            assert_eq!(got.len(), 10);
            hit += t.iter().filter(|t| got.iter().any(|g| g.0 == t.0)).count();
        }
        hit as f64 / (10 * nq) as f64
    };
    let (low, high) = (recall(10), recall(200));
    eprintln!("recall@10 at ef 10: {low:.3}, at ef 200: {high:.3}");
    assert!(high >= 0.99, "ef 200: recall@10 {high:.3} < 0.99");
    assert!(high >= low, "recall fell from {low:.3} to {high:.3} as ef grew");
    // Vectors and links only: dim + 4 bytes per row, 2m links of layer 0, a little for the upper
    // layers.
    let per_row = idx.memory_bytes() as f64 / n as f64;
    assert!(per_row < (dim + 4 + 8 * 8) as f64 * 1.1, "{per_row} bytes per row");
    // Parameters chosen by size when left at 0.
    let by_size = DenseIndex::build(&rows[..2_000 * dim], dim, &hnsw()).unwrap().hnsw_params().unwrap();
    assert_eq!(by_size, DenseOptions::default().params_for(2_000));
    assert!((2..=64).contains(&by_size.m) && by_size.ef_construction >= 1 && by_size.ef_search >= 1);
    let err = DenseIndex::build(rows, dim, &DenseOptions { m: 65, ..hnsw() }).unwrap_err().to_string();
    assert_eq!(err, "invalid m: expected 0 (by size) or 2..=64, found 65");
}

// ---------------------------------------------------------------- BM25

fn bm25(docs: &[&str]) -> Bm25 {
    Bm25::build(docs.iter().copied(), Bm25Params::default())
}

fn ids(hits: &[(u32, f32)]) -> Vec<u32> {
    hits.iter().map(|h| h.0).collect()
}

#[test]
fn analyzer_splits_identifiers_and_keeps_parts() {
    assert_eq!(Bm25::analyze("Cargo.toml"), ["cargo", "toml", "cargo.toml"]);
    assert_eq!(Bm25::analyze("cargo-build"), ["cargo", "build", "cargo-build"]);
    assert_eq!(Bm25::analyze("snake_case"), ["snak", "cas", "snake_case"]);
    assert_eq!(Bm25::analyze("std::fmt"), ["std", "fmt", "std::fmt"]);
    // Punctuation at the edges does not join; stop words go.
    assert_eq!(Bm25::analyze("The end. A start-"), ["end", "start"]);
    assert_eq!(Bm25::analyze("state-of-the-art"), ["stat", "art", "state-of-the-art"]);
    assert_eq!(Bm25::analyze("  ,;!  "), Vec::<String>::new());
}

#[test]
fn analyzer_stems_lightly_and_lowercases_unicode() {
    assert_eq!(Bm25::analyze("Queries are RUNNING"), ["query", "run"]);
    assert_eq!(Bm25::analyze("indexes indexed indexing index"), ["index"; 4]);
    assert_eq!(Bm25::analyze("caches cached"), ["cach", "cach"]);
    assert_eq!(Bm25::analyze("embedded embeddings embed"), ["embed"; 3]);
    // Words that merely end like a suffix keep it.
    assert_eq!(Bm25::analyze("class status string"), ["class", "status", "string"]);
    // Non-ASCII words are lowercased but not stemmed.
    assert_eq!(Bm25::analyze("GRÖSSE Übersichten Café"), ["grösse", "übersichten", "café"]);
    // Numbers and versions.
    assert_eq!(Bm25::analyze("v1.2 42"), ["v1", "2", "v1.2", "42"]);
    // Blobs longer than 64 bytes are dropped.
    assert!(Bm25::analyze(&"x".repeat(65)).is_empty());
}

#[test]
fn bm25_rare_terms_outweigh_common_ones() {
    let idx = bm25(&["apple banana", "apple cherry", "apple date", "banana kiwi"]);
    let hits = idx.search("apple kiwi", 10);
    assert_eq!(hits[0].0, 3, "{hits:?}");
    assert_eq!(hits.len(), 4);
}

#[test]
fn bm25_more_matched_terms_and_exact_identifiers_rank_higher() {
    let idx = bm25(&[
        "rust python",
        "go java",
        "rust wasm",
        "run cargo then build the crate",
        "cargo-build compiles the crate",
        "cargo fetches crates",
    ]);
    let hits = idx.search("rust wasm", 10);
    assert_eq!(ids(&hits), [2, 0]);
    // The identifier as written beats its parts apart, which beat one part.
    let hits = idx.search("cargo-build", 10);
    assert_eq!(ids(&hits)[..3], [4, 3, 5], "{hits:?}");
}

#[test]
fn bm25_normalises_by_length() {
    let idx =
        bm25(&["gardening cooking travel music painting rust reading hiking sailing chess", "rust guide"]);
    assert_eq!(ids(&idx.search("rust", 10)), [1, 0]);
    // With b = 0 the length is ignored: a tie, broken by id.
    let flat = Bm25::build(
        ["gardening cooking travel music painting rust reading hiking", "rust guide"],
        Bm25Params { k1: 1.2, b: 0.0, ..Bm25Params::default() },
    );
    let hits = flat.search("rust", 10);
    assert_eq!(ids(&hits), [0, 1]);
    assert_eq!(hits[0].1, hits[1].1);
}

#[test]
fn bm25_stemmed_query_matches_other_forms_and_unknown_terms_are_ignored() {
    let idx = bm25(&["the index stores postings", "queries are parsed", "nothing here"]);
    assert_eq!(ids(&idx.search("indexing", 10)), [0]);
    assert_eq!(ids(&idx.search("query", 10)), [1]);
    assert!(idx.search("zebra", 10).is_empty());
    assert_eq!(idx.search("query zebra", 10), idx.search("query", 10));
    assert!(idx.search("index", 0).is_empty());
    assert!(idx.search("", 10).is_empty());
    assert_eq!(idx.search("index query", 1).len(), 1);
    assert!(Bm25::build([], Bm25Params::default()).search("index", 5).is_empty());
}

#[test]
fn bm25_coverage_is_the_share_of_query_idf() {
    let idx = bm25(&["rust wasm bindgen", "rust python"]);
    let idf = |n: f32, df: f32| (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
    let close = |a: f32, b: f32| (a - b).abs() < 1e-5;
    assert!(close(idx.coverage("rust wasm", 0), 1.0));
    let want = idf(2.0, 2.0) / (idf(2.0, 2.0) + idf(2.0, 1.0));
    assert!(close(idx.coverage("rust wasm", 1), want), "{}", idx.coverage("rust wasm", 1));
    // An unseen term counts with the maximum idf (df 0).
    let want = idf(2.0, 2.0) / (idf(2.0, 2.0) + idf(2.0, 0.0));
    assert!(close(idx.coverage("rust zebra", 0), want));
    // Repeated terms count once.
    assert!(close(idx.coverage("wasm wasm rust", 0), 1.0));
    assert_eq!(idx.coverage("zebra", 0), 0.0);
    assert_eq!(idx.coverage("", 0), 0.0);
    assert_eq!(idx.coverage("rust", 7), 0.0);
}

#[test]
fn bm25_push_and_remove_keep_statistics_of_live_documents() {
    let docs = ["alpha beta", "beta gamma delta", "gamma epsilon", "alpha alpha zeta"];
    let mut idx = bm25(&docs[..2]);
    assert_eq!(idx.push(docs[2]), 2);
    assert_eq!(idx.push(docs[3]), 3);
    assert_eq!(idx.len(), 4);
    assert_eq!(ids(&idx.search("epsilon", 10)), [2]);

    idx.remove(0);
    idx.remove(0);
    idx.remove(99);
    assert_eq!(idx.len(), 3);
    assert_eq!(ids(&idx.search("alpha", 10)), [3]);
    assert_eq!(idx.coverage("alpha", 0), 0.0);

    // Scores equal those of an index built from the live documents only.
    let fresh = bm25(&docs[1..]);
    for q in ["alpha", "beta gamma", "gamma epsilon zeta", "delta alpha"] {
        let got: Vec<(u32, f32)> = idx.search(q, 10).into_iter().map(|(i, s)| (i - 1, s)).collect();
        let want = fresh.search(q, 10);
        assert_eq!(ids(&got), ids(&want), "{q}");
        for (g, w) in got.iter().zip(&want) {
            assert!((g.1 - w.1).abs() < 1e-5, "{q}: {g:?} vs {w:?}");
        }
    }
    // A pushed document gets the next id even after removals.
    assert_eq!(idx.push("omega"), 4);
    assert_eq!(idx.len(), 4);
}

/// Two chunks with a title, a heading path and a body, scored by hand (BM25F, see
/// `src/index/bm25.rs`): averages title 1, heading 2, body 3.5 tokens.
fn fielded(params: Bm25Params) -> Bm25 {
    Bm25::build_fields(
        [
            // title [garden], heading [garden, tomato], body [water, tomato, daily]
            FieldText { title: "Garden", heading: "Garden > Tomatoes", body: "water tomatoes daily" },
            // title [kitchen], heading [kitchen, sauc], body [cook, tomato, garlic, basil]
            FieldText {
                title: "Kitchen",
                heading: "Kitchen > Sauce",
                body: "cook tomatoes with garlic and basil",
            },
        ],
        params,
    )
}

#[test]
fn bm25f_scores_match_the_hand_computed_values() {
    let p =
        Bm25Params { k1: 1.2, b: 0.75, title_weight: 3.0, title_b: 0.0, heading_weight: 2.0, heading_b: 0.5 };
    let idx = fielded(p.clone());
    let close = |a: f32, b: f64| (f64::from(a) - b).abs() < 1e-6;
    // "tomato": df 2 of 2, idf ln(1.2). Chunk 0: heading 2·1/(0.5 + 0.5·2/2) = 2, body
    // 1/(0.25 + 0.75·3/3.5) = 1.12, tf' 3.12, score ln(1.2)·3.12·2.2/(1.2 + 3.12) = 0.289689.
    // Chunk 1: body only, 1/(0.25 + 0.75·4/3.5), score 0.172255.
    let hits = idx.search("tomatoes", 10);
    assert_eq!(ids(&hits), [0, 1]);
    assert!(close(hits[0].1, 0.289_688_70) && close(hits[1].1, 0.172_254_72), "{hits:?}");
    // "garden": df 1, idf ln 2; title 3·1 (b 0) + heading 2·1 = 5; ln 2·5·2.2/6.2 = 1.229777.
    let hits = idx.search("garden", 10);
    assert_eq!(ids(&hits), [0]);
    assert!(close(hits[0].1, 1.229_777_26), "{hits:?}");
    // Distinct terms add up.
    let hits = idx.search("garden tomato garden", 10);
    assert!(close(hits[0].1, 1.519_465_95), "{hits:?}");
    // Fields of weight 0 count for presence (document frequency, the gate's coverage), not score.
    let blind = fielded(Bm25Params { title_weight: 0.0, heading_weight: 0.0, ..p });
    assert!(blind.search("kitchen sauce", 10).is_empty());
    assert_eq!(blind.coverage("kitchen sauce", 1), 1.0);
    assert_eq!(ids(&blind.search("tomato garden", 10)), [0, 1]);
}

#[test]
fn bm25f_with_only_a_body_is_classic_bm25() {
    let docs = ["rust wasm bindgen rust", "rust python", "cargo build the crate with rust"];
    let idx = bm25(&docs);
    // Analyzed: [rust, wasm, bindgen, rust], [rust, python], [cargo, build, crat, rust].
    let p = Bm25Params::default();
    let (n, avg, k1, b) = (3.0f64, 10.0 / 3.0, f64::from(p.k1), f64::from(p.b));
    let idf = |df: f64| (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
    let classic =
        |tf: f64, dl: f64, df: f64| idf(df) * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * dl / avg));
    let hits = idx.search("rust", 10);
    let want = [classic(2.0, 4.0, 3.0), classic(1.0, 2.0, 3.0), classic(1.0, 4.0, 3.0)];
    assert_eq!(ids(&hits), [0, 1, 2]);
    for (h, w) in hits.iter().zip(want) {
        assert!((f64::from(h.1) - w).abs() < 1e-6, "{hits:?} vs {want:?}");
    }
}

#[test]
fn bm25f_heading_weight_decides_between_a_heading_and_a_body_match() {
    let docs = [
        FieldText { title: "Guide", heading: "Guide > Profiles", body: "settings for builds" },
        FieldText {
            title: "Guide",
            heading: "Guide > Builds",
            body: "profiles change the settings of builds",
        },
    ];
    let with = |heading_weight: f32| {
        let p = Bm25Params { heading_weight, ..Bm25Params::default() };
        ids(&Bm25::build_fields(docs, p).search("profiles", 10))
    };
    assert_eq!(with(3.0), [0, 1]);
    assert_eq!(with(0.0), [1]);
}

#[test]
fn bm25_parameters_out_of_range_are_refused_by_name() {
    let d = Bm25Params::default();
    assert!(d.validate().is_ok());
    let cases = [
        (Bm25Params { k1: -0.1, ..d.clone() }, "invalid bm25 k1: expected 0..=10, found -0.1"),
        (Bm25Params { k1: f32::NAN, ..d.clone() }, "invalid bm25 k1: expected 0..=10, found NaN"),
        (Bm25Params { b: 1.5, ..d.clone() }, "invalid bm25 b: expected 0..=1, found 1.5"),
        (
            Bm25Params { title_weight: 11.0, ..d.clone() },
            "invalid bm25 title_weight: expected 0..=10, found 11",
        ),
        (Bm25Params { title_b: -1.0, ..d.clone() }, "invalid bm25 title_b: expected 0..=1, found -1"),
        (
            Bm25Params { heading_weight: f32::INFINITY, ..d.clone() },
            "invalid bm25 heading_weight: expected 0..=10, found inf",
        ),
        (Bm25Params { heading_b: 2.0, ..d.clone() }, "invalid bm25 heading_b: expected 0..=1, found 2"),
    ];
    for (p, want) in cases {
        assert_eq!(p.validate().unwrap_err().to_string(), want);
        // An engine refuses them too, before anything is indexed.
        let options = docent::engine::Options { bm25: p, ..Default::default() };
        let err = docent::Docent::new(
            std::sync::Arc::new(docent::embed::hashing::Hashing::new(8).unwrap()),
            options,
        );
        assert_eq!(err.err().map(|e| e.to_string()).as_deref(), Some(want));
    }
}

#[test]
fn bm25_encoding_is_deterministic_and_round_trips() {
    let docs = ["Install with cargo install docent", "Cargo.toml holds the manifest", "zeta"];
    let a = bm25(&docs);
    let b = bm25(&docs);
    let mut c = bm25(&docs[..1]);
    c.push(docs[1]);
    c.push(docs[2]);
    let bytes = postcard::to_allocvec(&a).unwrap();
    assert_eq!(postcard::to_allocvec(&b).unwrap(), bytes);
    assert_eq!(postcard::to_allocvec(&c).unwrap(), bytes);
    let back: Bm25 = postcard::from_bytes(&bytes).unwrap();
    for q in ["cargo", "manifest toml", "install", "zeta cargo"] {
        assert_eq!(back.search(q, 5), a.search(q, 5));
    }
    assert_eq!(postcard::to_allocvec(&back).unwrap(), bytes);
}

/// Reusing a page's vectors on re-index moves its int8 rows from one index into the next.
#[test]
fn quantized_rows_move_between_indexes_bit_for_bit() {
    let dim = 48;
    let rows = vectors(11, 300, dim, 8);
    for threshold in [usize::MAX, 0] {
        let opts = DenseOptions { flat_threshold: threshold, ef_construction: 64, ..Default::default() };
        let a = DenseIndex::build(&rows, dim, &opts).unwrap();
        let (codes, scales) = a.quantized_rows();
        assert_eq!((codes.len(), scales.len()), (300 * dim, 300));
        assert_eq!((codes.clone(), scales.clone()), docent::index::dense::quantize_rows(&rows, dim).unwrap());
        let b = DenseIndex::from_quantized(codes.clone(), scales.clone(), dim, &opts).unwrap();
        assert_eq!(b.kind(), a.kind());
        assert_eq!(b.quantized_rows(), (codes, scales), "{}", a.kind());
        for q in rows.chunks_exact(dim).step_by(37) {
            assert_eq!(a.search_exact(q, 10).unwrap(), b.search_exact(q, 10).unwrap());
        }
    }
    let err = DenseIndex::from_quantized(vec![0; 10], vec![1.0; 2], 4, &DenseOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "invalid vector: 10 int8 codes for 2 rows of dim 4; expected 8");
    let err =
        DenseIndex::from_quantized(vec![0; 8], vec![1.0, f32::NAN], 4, &DenseOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid vector: row 1 has scale NaN; every scale must be finite and not negative"
    );
}

/// Why re-indexing carries int8 rows instead of dequantizing them into f32 and building again:
/// requantizing a dequantized row gives the same codes, but not the same scale (the dequantized
/// row is not exactly unit length, and the scale is renormalised), so scores would move. From the
/// second round on the row is a fixed point within a few ulps.
#[test]
fn requantizing_dequantized_rows_keeps_codes_but_not_scales() {
    use docent::index::dense::quantize_rows;
    let dim = 384;
    let rows = vectors(5, 200, dim, 0);
    let (codes, scales) = quantize_rows(&rows, dim).unwrap();
    let dequant = |codes: &[i8], scales: &[f32]| -> Vec<f32> {
        codes
            .chunks_exact(dim)
            .zip(scales)
            .flat_map(|(c, &s)| c.iter().map(move |&x| f32::from(x) * s))
            .collect()
    };
    let (codes2, scales2) = quantize_rows(&dequant(&codes, &scales), dim).unwrap();
    assert_eq!(codes2, codes, "codes survive a round trip");
    let moved = scales.iter().zip(&scales2).filter(|(a, b)| a != b).count();
    let worst = scales.iter().zip(&scales2).map(|(a, b)| ((a - b) / a).abs()).fold(0f32, f32::max);
    assert!(moved > 100 && worst < 2e-3, "{moved} of 200 scales moved, by up to {worst}");
    let (codes3, scales3) = quantize_rows(&dequant(&codes2, &scales2), dim).unwrap();
    assert_eq!(codes3, codes);
    let worst = scales2.iter().zip(&scales3).map(|(a, b)| ((a - b) / a).abs()).fold(0f32, f32::max);
    assert!(worst < 1e-6, "second round moved a scale by {worst}");
}
