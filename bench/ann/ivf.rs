//! `ann ivf [SET] [N…]`: the IVF layout of the fragmented site index (`docent::index::ivf`) on a
//! data set and on its first `N` rows: recall@10 against the exact f32 brute force and against
//! the monolithic flat scan, and the bytes a question fetches (the centroid fragment once, then
//! `nprobe` partition fragments) for several `nlist` and `nprobe`. Also what a binary (sign)
//! coarse pass would fetch and find, and the training time on a larger synthetic set (`--quick`:
//! the default `nlist` only, not also 2·sqrt(n) and 8·sqrt(n)). Writes
//! `results/ivf-<SET>.json` and prints markdown tables.

use std::path::Path;
use std::time::Instant;

use docent::index::dense::{dot_f32_i8, quantize_rows, DenseIndex, DenseOptions};
use docent::index::ivf::{self, Ivf, IvfOptions, Partition};
use rayon::prelude::*;
use serde_json::{json, Value};

use crate::data::{self, DIM, GT_K};

/// Bytes of a fragment's header (magic and kind) before its postcard payload.
const HEADER: usize = 9;
const NPROBES: [usize; 11] = [1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64];

pub fn run(dir: &Path, set: &str, sizes: &[usize], variants: bool) -> Result<(), String> {
    let (_, qb) = data::load_set(dir, "queries")?;
    let (desc, bb) = data::load_set(dir, set)?;
    let (queries, base) = (data::le_f32(&qb), data::le_f32(&bb));
    let sizes: Vec<usize> = if sizes.is_empty() { vec![2_408, desc.count] } else { sizes.to_vec() };
    let mut out = Vec::new();
    for &n in &sizes {
        let n = n.min(desc.count);
        out.push(measure(&format!("{set}[..{n}]"), &base[..n * DIM], &queries, variants));
    }
    out.push(train_time(&base, 135_000));
    let res = dir.join("results");
    std::fs::create_dir_all(&res).map_err(|e| format!("{}: {e}", res.display()))?;
    let path = res.join(format!("ivf-{set}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&out).unwrap())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("[ivf] wrote {}", path.display());
    Ok(())
}

fn recall(truth: &[u32], got: &[u32]) -> f64 {
    got.iter().filter(|g| truth.contains(g)).count() as f64 / truth.len().max(1) as f64
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn quantile(v: &[usize], q: f64) -> usize {
    let mut s = v.to_vec();
    s.sort_unstable();
    s.get(((s.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0)
}

fn fragment_bytes<T: serde::Serialize>(v: &T) -> usize {
    HEADER + docent::format::encode(v).unwrap().len()
}

fn unit(q: &[f32]) -> Vec<f32> {
    let n = q.iter().map(|x| x * x).sum::<f32>().sqrt();
    q.iter().map(|x| x / n.max(f32::MIN_POSITIVE)).collect()
}

fn measure(name: &str, base: &[f32], queries: &[f32], variants: bool) -> Value {
    let n = base.len() / DIM;
    let nq = queries.len() / DIM;
    eprintln!("[ivf] {name}: exact f32 brute force and the flat scan over {n} rows, {nq} queries");
    let exact: Vec<Vec<u32>> = queries
        .par_chunks_exact(DIM)
        .map(|q| data::exact_topk(base, DIM, q, GT_K).into_iter().map(|h| h.0).collect())
        .collect();
    let flat =
        DenseIndex::build(base, DIM, &DenseOptions { flat_threshold: usize::MAX, ..Default::default() })
            .unwrap();
    let flat_ids: Vec<Vec<u32>> = queries
        .par_chunks_exact(DIM)
        .map(|q| flat.search(q, GT_K).unwrap().into_iter().map(|h| h.0).collect())
        .collect();
    let flat_recall = mean(&exact.iter().zip(&flat_ids).map(|(t, g)| recall(t, g)).collect::<Vec<_>>());
    let whole = HEADER + docent::format::encode(&flat).unwrap().len();
    eprintln!("[ivf] {name}: flat recall@10 vs f32 exact {flat_recall:.4}; all rows {whole} bytes");
    let (codes, scales) = quantize_rows(base, DIM).unwrap();
    let root = (n as f64).sqrt();
    let mut nlists =
        vec![ivf::default_nlist(n), (2.0 * root).round() as usize, (8.0 * root).round() as usize];
    nlists.truncate(if variants { 3 } else { 1 });
    nlists.dedup();
    let mut variants = Vec::new();
    for nlist in nlists {
        let nlist = nlist.clamp(1, n);
        let t = Instant::now();
        let opts = IvfOptions { nlist: Some(nlist), ..Default::default() };
        let index = ivf::train_quantized(&codes, &scales, DIM, &opts).unwrap();
        let train_s = t.elapsed().as_secs_f64();
        let parts = index.partition_rows(&codes, &scales).unwrap();
        let centroid_bytes = fragment_bytes(&index);
        let part_bytes: Vec<usize> = parts.iter().map(fragment_bytes).collect();
        let sizes: Vec<usize> = parts.iter().map(Partition::len).collect();
        let empty = sizes.iter().filter(|&&s| s == 0).count();
        eprintln!(
            "[ivf] {name}: nlist {nlist}: trained in {train_s:.2} s; centroids {centroid_bytes} B; \
             rows per partition median {} max {}; {empty} empty",
            quantile(&sizes, 0.5),
            quantile(&sizes, 1.0)
        );
        eprintln!("| nprobe | recall@10 vs f32 exact | vs flat scan | partition bytes mean / p95 | first question | binary coarse: recall@10 alone / +int8 top 50 | binary bytes mean |");
        eprintln!("|---:|---:|---:|---:|---:|---:|---:|");
        let mut curve = Vec::new();
        for &nprobe in NPROBES.iter().filter(|&&p| p <= nlist) {
            let per: Vec<(f64, f64, usize, f64, f64, usize)> = queries
                .par_chunks_exact(DIM)
                .enumerate()
                .map(|(qi, q)| {
                    let probed = index.probe(q, nprobe).unwrap();
                    let refs: Vec<&Partition> = probed.iter().map(|&p| &parts[p as usize]).collect();
                    let got: Vec<u32> =
                        ivf::search(&refs, q, GT_K).unwrap().into_iter().map(|h| h.0).collect();
                    let bytes = probed.iter().map(|&p| part_bytes[p as usize]).sum();
                    let (alone, rescored, bin_bytes) = binary(&index, &refs, &codes, &scales, q, &exact[qi]);
                    (recall(&exact[qi], &got), recall(&flat_ids[qi], &got), bytes, alone, rescored, bin_bytes)
                })
                .collect();
            let r_exact = mean(&per.iter().map(|p| p.0).collect::<Vec<_>>());
            let r_flat = mean(&per.iter().map(|p| p.1).collect::<Vec<_>>());
            let bytes: Vec<usize> = per.iter().map(|p| p.2).collect();
            let b_mean = mean(&bytes.iter().map(|&b| b as f64).collect::<Vec<_>>());
            let bin_alone = mean(&per.iter().map(|p| p.3).collect::<Vec<_>>());
            let bin_rescored = mean(&per.iter().map(|p| p.4).collect::<Vec<_>>());
            let bin_bytes = mean(&per.iter().map(|p| p.5 as f64).collect::<Vec<_>>());
            eprintln!(
                "| {nprobe} | {r_exact:.4} | {r_flat:.4} | {:.1} kB / {:.1} kB | {:.1} kB | {bin_alone:.3} / {bin_rescored:.3} | {:.1} kB |",
                b_mean / 1e3,
                quantile(&bytes, 0.95) as f64 / 1e3,
                (centroid_bytes as f64 + b_mean) / 1e3,
                bin_bytes / 1e3
            );
            curve.push(json!({
                "nprobe": nprobe, "recall_vs_exact": r_exact, "recall_vs_flat": r_flat,
                "partition_bytes_mean": b_mean, "partition_bytes_p50": quantile(&bytes, 0.5),
                "partition_bytes_p95": quantile(&bytes, 0.95),
                "first_question_bytes": centroid_bytes as f64 + b_mean,
                "binary_recall_alone": bin_alone, "binary_recall_int8_top50": bin_rescored,
                "binary_partition_bytes_mean": bin_bytes,
            }));
        }
        variants.push(json!({
            "nlist": nlist, "train_s": train_s, "centroid_bytes": centroid_bytes,
            "rows_per_partition_p50": quantile(&sizes, 0.5), "rows_per_partition_max": quantile(&sizes, 1.0),
            "empty_partitions": empty, "partition_bytes_total": part_bytes.iter().sum::<usize>(),
            "curve": curve,
        }));
    }
    json!({
        "set": name, "n": n, "queries": nq, "dim": DIM, "flat_recall_vs_exact": flat_recall,
        "monolithic_dense_bytes": whole, "variants": variants,
        "how": "recall@10 of ivf::search over the probed partitions; bytes = fragment header + postcard payload, raw (not gzip)",
    })
}

/// A binary (sign-bit) coarse pass over the probed partitions' rows, as if each partition stored
/// `dim / 8` bytes of signs and a 4-byte id per row: recall@10 of ranking by the asymmetric score
/// `Σ q_i · ±1` alone, of rescoring its best 50 with the int8 rows, and the bytes of those
/// binary partitions (header + ids + signs; the int8 rows of the 50 would be fetched on top).
fn binary(
    index: &Ivf,
    parts: &[&Partition],
    codes: &[i8],
    scales: &[f32],
    q: &[f32],
    truth: &[u32],
) -> (f64, f64, usize) {
    let dim = index.dim();
    let u = unit(q);
    let mut scored: Vec<(u32, f32)> = parts
        .iter()
        .flat_map(|p| p.ids().iter())
        .map(|&id| {
            let row = &codes[id as usize * dim..(id as usize + 1) * dim];
            let s: f32 = u.iter().zip(row).map(|(x, &c)| if c > 0 { *x } else { -*x }).sum();
            (id, s)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let alone: Vec<u32> = scored.iter().take(GT_K).map(|h| h.0).collect();
    let mut top: Vec<(u32, f32)> = scored
        .iter()
        .take(50)
        .map(|&(id, _)| {
            let i = id as usize;
            (id, scales[i] * dot_f32_i8(&u, &codes[i * dim..(i + 1) * dim]))
        })
        .collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let rescored: Vec<u32> = top.iter().take(GT_K).map(|h| h.0).collect();
    let bytes = parts.iter().map(|p| HEADER + 4 + p.len() * (dim / 8 + 4)).sum();
    (recall(truth, &alone), recall(truth, &rescored), bytes)
}

/// Training time of the default options on `n` synthetic rows: the base rows repeated with
/// Gaussian noise (so they are distinct), at the default `nlist` (1,024 above 65,536 rows).
fn train_time(base: &[f32], n: usize) -> Value {
    let rows = base.len() / DIM;
    let mut rng = data::SplitMix(7);
    let mut v = Vec::with_capacity(n * DIM);
    for i in 0..n {
        let r = &base[(i % rows) * DIM..(i % rows + 1) * DIM];
        v.extend(r.iter().map(|x| x + 0.02 * ((rng.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5)));
    }
    let t = Instant::now();
    let (codes, scales) = quantize_rows(&v, DIM).unwrap();
    let quantize_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let index = ivf::train_quantized(&codes, &scales, DIM, &IvfOptions::default()).unwrap();
    let train_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let parts = index.partition_rows(&codes, &scales).unwrap();
    let assign_s = t.elapsed().as_secs_f64();
    let threads = rayon::current_num_threads();
    eprintln!(
        "[ivf] train {n} × {DIM} synthetic rows, nlist {}: quantize {quantize_s:.2} s, train {train_s:.2} s, \
         assign all {assign_s:.2} s ({threads} threads)",
        index.len()
    );
    json!({"synthetic_rows": n, "nlist": index.len(), "partitions": parts.len(), "quantize_s": quantize_s,
           "train_s": train_s, "assign_s": assign_s, "threads": threads})
}
