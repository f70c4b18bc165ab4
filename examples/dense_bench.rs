//! Measures the dense index: flat scan cost by size, HNSW build time / recall@10 / query time
//! by setting, and int8 quantization recall (int8 query vs the f32 query that `search` scores
//! with) on synthetic clusters: the flat threshold and the rescoring notes in `index::dense`.
//! The HNSW defaults come from real MiniLM data instead (`bench/ann`, `./build.sh bench`).
//!
//! Run: `cargo run --release --example dense_bench [clustered|uniform] [quick] [sizes] [noheuristic]`
//! (`quick`: only ef_construction 100; `sizes`: only the flat-vs-HNSW table; `noheuristic`: skip
//! the heuristic builds.)

use std::time::Instant;

use docent::index::dense::{DenseIndex, DenseOptions};

/// splitmix64 + Box-Muller: deterministic normal samples without a rand dependency.
struct Rng(u64);
impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        ((-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()) as f32
    }
}

/// `n` vectors of `dim`: around one of `clusters` random centres with noise `sigma` per
/// coordinate (0 clusters = isotropic Gaussian, the worst case for ANN).
fn data(seed: u64, n: usize, dim: usize, clusters: usize, sigma: f32) -> Vec<f32> {
    let mut rng = Rng(seed);
    let centres: Vec<f32> = (0..clusters * dim).map(|_| rng.normal()).collect();
    let mut out = Vec::with_capacity(n * dim);
    for _ in 0..n {
        if clusters == 0 {
            out.extend((0..dim).map(|_| rng.normal()));
        } else {
            let c = (rng.next_u64() % clusters as u64) as usize;
            out.extend((0..dim).map(|j| centres[c * dim + j] + sigma * rng.normal()));
        }
    }
    out
}

fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// f32 brute force top-k ids.
fn brute(rows: &[f32], dim: usize, q: &[f32], k: usize) -> Vec<u32> {
    let mut s: Vec<(u32, f32)> = rows
        .chunks_exact(dim)
        .enumerate()
        .map(|(i, r)| (i as u32, r.iter().zip(q).map(|(a, b)| a * b).sum()))
        .collect();
    s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    s.truncate(k);
    s.into_iter().map(|p| p.0).collect()
}

fn recall(truth: &[Vec<u32>], got: &[Vec<u32>]) -> f64 {
    let mut hit = 0usize;
    let mut all = 0usize;
    for (t, g) in truth.iter().zip(got) {
        all += t.len();
        hit += t.iter().filter(|id| g.contains(id)).count();
    }
    hit as f64 / all as f64
}

/// `row`'s int8 codes and scale, as the index quantizes it (max |x| → ±127).
fn int8(row: &[f32]) -> (Vec<i8>, f32) {
    let max = row.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        return (vec![0; row.len()], 0.0);
    }
    let scale = max / 127.0;
    (row.iter().map(|x| (x / scale).round() as i8).collect(), scale)
}

/// Top-k ids with the query quantized to int8 too (symmetric: the scoring before the f32
/// rescoring stage); `rows` holds the rows' codes and scales.
fn int8_query_vs_int8(rows: &[(Vec<i8>, f32)], q: &[f32], k: usize) -> Vec<u32> {
    let (qc, qs) = int8(q);
    let mut s: Vec<(u32, f32)> = rows
        .iter()
        .enumerate()
        .map(|(i, (c, sc))| {
            let dot: i32 = c.iter().zip(&qc).map(|(&a, &b)| i32::from(a) * i32::from(b)).sum();
            (i as u32, qs * sc * dot as f32)
        })
        .collect();
    s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    s.truncate(k);
    s.into_iter().map(|p| p.0).collect()
}

fn ids(hits: Vec<(u32, f32)>) -> Vec<u32> {
    hits.into_iter().map(|h| h.0).collect()
}

/// Mean µs per query over `qs`: the fastest of 5 passes (the machine is shared and noisy).
fn time_queries(idx: &DenseIndex, qs: &[&[f32]], k: usize) -> f64 {
    time(qs, |q| idx.search(q, k).unwrap())
}

/// Mean µs per call of `f` over `qs`, the fastest of 5 passes.
fn time<T>(qs: &[&[f32]], f: impl Fn(&[f32]) -> T) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            for q in qs {
                std::hint::black_box(f(q));
            }
            t.elapsed().as_secs_f64() * 1e6 / qs.len() as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let uniform = args.iter().any(|a| a == "uniform");
    let quick = args.iter().any(|a| a == "quick");
    let (clusters, sigma) = if uniform { (0, 0.0) } else { (200, 0.8) };
    let dim = 384;
    let n = 20_000;
    let nq = 200;
    let k = 10;
    println!(
        "data: {} n={n} dim={dim} queries={nq}",
        if uniform { "uniform" } else { "clustered(200, sigma 0.8)" }
    );

    let mut rows = data(1, n, dim, clusters, sigma);
    rows.chunks_exact_mut(dim).for_each(normalise);
    // Queries from the same distribution, different draw (same centres: same seed prefix).
    let all = data(1, n + nq, dim, clusters, sigma);
    let mut queries: Vec<f32> = all[n * dim..].to_vec();
    queries.chunks_exact_mut(dim).for_each(normalise);
    let qs: Vec<&[f32]> = queries.chunks_exact(dim).collect();

    let truth: Vec<Vec<u32>> = qs.iter().map(|q| brute(&rows, dim, q, k)).collect();

    // Flat scan cost by size (search: int8 candidates + f32 rescoring; exact: f32 query against
    // every row), and quantization recall at full size.
    let flat_opts = DenseOptions { flat_threshold: usize::MAX, ..Default::default() };
    for size in [1_000usize, 2_000, 5_000, 10_000, 20_000] {
        let idx = DenseIndex::build(&rows[..size * dim], dim, &flat_opts).unwrap();
        let us = time_queries(&idx, &qs, k);
        let exact_us = time(&qs, |q| idx.search_exact(q, k).unwrap());
        println!("flat n={size:>6}: {us:8.1} µs/query (search_exact {exact_us:8.1} µs)");
        if size == n {
            let codes: Vec<(Vec<i8>, f32)> = rows.chunks_exact(dim).map(int8).collect();
            let got: Vec<Vec<u32>> = qs.iter().map(|q| int8_query_vs_int8(&codes, q, k)).collect();
            println!("quantization: int8 query recall@10 vs f32 brute = {:.4}", recall(&truth, &got));
            let got: Vec<Vec<u32>> = qs.iter().map(|q| ids(idx.search(q, k).unwrap())).collect();
            println!(
                "quantization: search (f32 rescoring) recall@10 vs f32 brute = {:.4}",
                recall(&truth, &got)
            );
            let exact: Vec<Vec<u32>> = qs.iter().map(|q| ids(idx.search_exact(q, k).unwrap())).collect();
            println!("quantization: search_exact recall@10 vs f32 brute = {:.4}", recall(&truth, &exact));
            let same = got.iter().zip(&exact).filter(|(g, e)| g == e).count();
            println!("flat search top-10 equal to search_exact: {same}/{nq} queries");
        }
    }

    // HNSW query time by size at defaults.
    for size in [1_000usize, 2_000, 5_000, 10_000, 20_000] {
        let opts = DenseOptions { flat_threshold: 0, ..Default::default() };
        let t = Instant::now();
        let idx = DenseIndex::build(&rows[..size * dim], dim, &opts).unwrap();
        let build = t.elapsed().as_secs_f64();
        let us = time_queries(&idx, &qs, k);
        print!("hnsw defaults n={size:>6}: build {build:6.2} s, {us:8.1} µs/query");
        if size == n {
            let got: Vec<Vec<u32>> = qs.iter().map(|q| ids(idx.search(q, k).unwrap())).collect();
            print!(", recall@10 vs f32 {:.4}", recall(&truth, &got));
        }
        println!();
    }

    // HNSW settings at full size.
    if args.iter().any(|a| a == "sizes") {
        return;
    }
    let efc_list: &[usize] = if quick { &[100] } else { &[40, 100, 200] };
    let heuristics: &[bool] = if args.iter().any(|a| a == "noheuristic") { &[false] } else { &[false, true] };
    for &heuristic in heuristics {
        for &efc in efc_list {
            for efs in [32usize, 64, 128] {
                let opts = DenseOptions {
                    flat_threshold: 0,
                    ef_construction: efc,
                    ef_search: efs,
                    heuristic,
                    ..Default::default()
                };
                let t = Instant::now();
                let idx = DenseIndex::build(&rows, dim, &opts).unwrap();
                let build = t.elapsed().as_secs_f64();
                let got: Vec<Vec<u32>> =
                    qs.iter().map(|q| idx.search(q, k).unwrap().into_iter().map(|h| h.0).collect()).collect();
                let us = time_queries(&idx, &qs, k);
                let exact: Vec<Vec<u32>> = qs
                    .iter()
                    .map(|q| idx.search_exact(q, k).unwrap().into_iter().map(|h| h.0).collect())
                    .collect();
                println!(
                    "hnsw heuristic={heuristic:<5} ef_c={efc:>3} ef_s={efs:>3}: build {build:6.2} s, recall@10 vs f32 {:.4}, vs search_exact {:.4}, {us:7.1} µs/query",
                    recall(&truth, &got),
                    recall(&exact, &got)
                );
            }
        }
    }
}
