//! What limits docent's recall on a query set: the graph (true neighbours never reached) or the
//! int8 rows (reached, but ranked out of the top 10 by their rounded scores).
//!
//! For docent's default graph and each ef of the sweep, three recalls@10 against the f32 ground
//! truth: the product's (`search_with(q, 10, ef)`: int8 walk, f32 query × int8 row scores);
//! the *candidates*' (the share of the true top 10 among all `ef` nodes the walk returns: what
//! any rescoring of them could reach); and those same candidates ranked by the exact f32 rows
//! (what rescoring with the original vectors would give). The same for the flat scan: its
//! product recall, its `max(4k, 64)` int8 candidates ranked by the f32 rows, and the ceiling of
//! the product's scores (`search_exact`: the f32 query against every int8 row). Recall the
//! product loses between the candidates and its top 10 is the rows' rounding; recall missing
//! from the candidates is the graph's.

use serde_json::{json, Value};

use crate::data::{self, DIM, GT_K};
use crate::native::{self, docent_api, Pools, SetData, EFS};
use docent::index::dense::DenseIndex;

/// Ranks `ids` by the exact f32 dot with their base rows; the best `GT_K`.
fn exact_rerank(base: &[f32], q: &[f32], ids: &[u32]) -> Vec<u32> {
    let mut s: Vec<(u32, f32)> =
        ids.iter().map(|&i| (i, data::dot(&base[i as usize * DIM..(i as usize + 1) * DIM], q))).collect();
    s.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    s.into_iter().take(GT_K).map(|h| h.0).collect()
}

fn candidates(idx: &DenseIndex, q: &[f32], n: usize, ef: usize) -> Vec<u32> {
    idx.search_with(q, n, ef).expect("docent search").into_iter().map(|h| h.0).collect()
}

/// One JSON row (`engine: "limits"`) with a curve per graph configuration and the flat figures.
pub fn run(d: &SetData, pools: &Pools) -> Value {
    let (base, queries, gt) = (&d.base[..], &d.queries[..], &d.gt[..]);
    let nq = queries.len() / DIM;
    let mean = |f: &dyn Fn(usize, &[f32]) -> f64| {
        (0..nq).map(|i| f(i, &queries[i * DIM..(i + 1) * DIM])).sum::<f64>() / nq as f64
    };
    let truth = |i: usize| &gt[i * GT_K..(i + 1) * GT_K];

    let o =
        docent_api::options(docent_api::Params { m: None, ef_construction: None, graph: None }, None, true);
    let flat = pools.default.install(|| docent_api::build(base, DIM, &o));
    let product = mean(&|i, q| data::recall(truth(i), &candidates(&flat, q, GT_K, 0)));
    let rerank64 = mean(&|i, q| {
        let c = candidates(&flat, q, docent::index::dense::rescored(GT_K), 0);
        data::recall(truth(i), &exact_rerank(base, q, &c))
    });
    let ceiling = mean(&|i, q| {
        let ids: Vec<u32> = flat.search_exact(q, GT_K).expect("exact").into_iter().map(|h| h.0).collect();
        data::recall(truth(i), &ids)
    });
    eprintln!("[limits] {}: flat product {product:.4}, its int8 candidates ranked by f32 rows {rerank64:.4}, f32 query × every int8 row {ceiling:.4}", d.name);
    drop(flat);

    let mut graphs = Vec::new();
    for (name, p) in native::configs() {
        let o = docent_api::options(p, None, false);
        let built = pools.default.install(|| docent_api::build(base, DIM, &o));
        let mut curve = Vec::new();
        for &ef in &EFS {
            let idx = if built.has_separate_graph() {
                docent_api::with_idist_ef(&built, ef)
            } else {
                built.clone()
            };
            let idx = &idx;
            let product = mean(&|i, q| data::recall(truth(i), &candidates(idx, q, GT_K, ef)));
            let cands = mean(&|i, q| data::recall(truth(i), &candidates(idx, q, ef.max(GT_K), ef)));
            let exact = mean(&|i, q| {
                data::recall(truth(i), &exact_rerank(base, q, &candidates(idx, q, ef.max(GT_K), ef)))
            });
            eprintln!(
                "[limits] {} {name} ef {ef}: product {product:.4}, candidates {cands:.4}, candidates ranked by f32 rows {exact:.4}",
                d.name
            );
            curve.push(json!({"ef": ef, "product": product, "candidates": cands, "f32_rerank": exact}));
        }
        graphs.push(json!({"variant": name, "params": docent_api::describe(&o, &built), "curve": curve}));
    }
    json!({
        "engine": "limits", "runtime": "native", "set": d.name, "queries": d.queries_name, "n": d.n,
        "flat": {"product": product, "int8_candidates_f32_rerank": rerank64, "f32_query_every_int8_row": ceiling},
        "graphs": graphs,
    })
}
