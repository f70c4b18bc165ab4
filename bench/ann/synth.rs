//! Generated MiniLM-like sets for the build-at-scale runs (`synth-100k`, `synth-1m`): embedding
//! 100,000 or 1,000,000 real chunks takes hours here, so larger sets are made from the 20,000
//! real rows of `toolchain-20k` (or another set given as SOURCE).
//!
//! Row `i` is `normalise(a + t·b + e)`: `a` and `b` two rows of `toolchain-20k` drawn by a seeded
//! generator, `t` uniform in 0..0.5 and `e` Gaussian noise of 0.015 per coordinate (a norm of
//! about 0.3 against the unit rows). The rows keep MiniLM's anisotropy (they lie in the cone the
//! real rows span, not on the whole sphere) and no two are equal. Ground truth is the exact
//! top-10 for both query sets (`queries`, `reader`), f32 brute force on all cores.
//! `cargo bench --bench ann -- synth NAME ROWS [SOURCE]`.

use rayon::prelude::*;

use crate::data::{self, Description, SplitMix, DIM, GT_K};

/// Seed of the row draws.
pub const SEED: u64 = 0x5EED_1A46E;

pub fn generate(dir: &std::path::Path, name: &str, n: usize, source: &str) -> Result<(), String> {
    let (src_desc, sb) = data::load_set(dir, source)?;
    let src = data::le_f32(&sb);
    let m = src.len() / DIM;
    let desc = |name: &str, kind: &str, count: usize, dim: usize, file: &str| Description {
        name: name.into(),
        kind: kind.into(),
        count,
        dim,
        seed: SEED,
        toolchain: src_desc.toolchain.clone(),
        corpus: format!(
            "generated from {source}: normalise(a + t·b + e), a and b real rows, t in 0..0.5, \
             e Gaussian 0.015 per coordinate"
        ),
        chunk_tokens: src_desc.chunk_tokens,
        xxh3: String::new(),
        file: file.into(),
    };
    if data::load_set(dir, name).is_err() {
        let t = std::time::Instant::now();
        // One generator per block of rows, so the rows do not depend on the thread count.
        let rows: Vec<f32> = (0..n.div_ceil(4096))
            .into_par_iter()
            .flat_map_iter(|block| {
                let mut r = SplitMix(SEED ^ (block as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let count = 4096.min(n - block * 4096);
                let src = &src;
                (0..count).flat_map(move |_| {
                    let a = r.below(m as u64) as usize;
                    let b = r.below(m as u64) as usize;
                    let t = (r.next() >> 11) as f32 / (1u64 << 53) as f32 * 0.5;
                    let mut v: Vec<f32> = (0..DIM)
                        .map(|j| {
                            let u = ((r.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
                            let w = ((r.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
                            let g = ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * w).cos()) as f32;
                            src[a * DIM + j] + t * src[b * DIM + j] + 0.015 * g
                        })
                        .collect();
                    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    v.iter_mut().for_each(|x| *x /= norm);
                    v
                })
            })
            .collect();
        data::write_set(dir, desc(name, "f32", n, DIM, &format!("{name}.f32")), &data::f32_bytes(&rows))
            .map_err(|e| e.to_string())?;
        eprintln!("[synth] wrote {name} ({n} rows) in {:.1}s", t.elapsed().as_secs_f64());
    }
    let (_, bb) = data::load_set(dir, name)?;
    let base = data::le_f32(&bb);
    for (qname, gt_name) in [("queries", format!("{name}.gt")), ("reader", format!("{name}.reader.gt"))] {
        if data::load_set(dir, &gt_name).is_ok() {
            continue;
        }
        let Ok((_, qb)) = data::load_set(dir, qname) else { continue };
        let t = std::time::Instant::now();
        let queries = data::le_f32(&qb);
        let gt = data::ground_truth(&base, &queries);
        data::write_set(
            dir,
            desc(&gt_name, "u32", gt.len() / GT_K, GT_K, &format!("{gt_name}.u32")),
            &data::u32_bytes(&gt),
        )
        .map_err(|e| e.to_string())?;
        eprintln!("[synth] wrote {gt_name} in {:.1}s", t.elapsed().as_secs_f64());
    }
    Ok(())
}

/// `prefix N`: the set `toolchain-first-N`, the first `N` base rows embedded so far (a prefix of
/// `toolchain-20k` and `toolchain-100k`), read from the generation's checkpoint, with the ground
/// truth of both query sets (those present). For measuring while the full set is still being
/// embedded (which takes hours on a loaded machine). Re-run it to add a missing ground truth.
pub fn prefix(dir: &std::path::Path, n: usize) -> Result<String, String> {
    let all = data::read_f32(&dir.join("embed.partial.f32"), DIM)?;
    let have = all.len() / DIM;
    if have < data::QUERIES + n {
        return Err(format!("{have} rows embedded so far; {} needed for {n} base rows", data::QUERIES + n));
    }
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("embed.partial.json")).map_err(|e| format!("embed.partial.json: {e}"))?,
    )
    .map_err(|e| e.to_string())?;
    let toolchain = meta["toolchain"].as_str().unwrap_or("?").to_string();
    let name = format!("toolchain-first-{n}");
    let desc = |name: &str, kind: &str, count: usize, dim: usize, file: &str| Description {
        name: name.into(),
        kind: kind.into(),
        count,
        dim,
        seed: data::SEED,
        toolchain: toolchain.clone(),
        corpus: format!("{}; the first {n} base rows (a prefix of toolchain-20k)", data::CORPUS),
        chunk_tokens: data::CHUNK_TOKENS,
        xxh3: String::new(),
        file: file.into(),
    };
    let queries = &all[..data::QUERIES * DIM];
    if data::load_set(dir, "queries").is_err() {
        data::write_set(
            dir,
            desc("queries", "f32", data::QUERIES, DIM, "queries.f32"),
            &data::f32_bytes(queries),
        )
        .map_err(|e| e.to_string())?;
    }
    let base = &all[data::QUERIES * DIM..(data::QUERIES + n) * DIM];
    if data::load_set(dir, &name).is_err() {
        data::write_set(dir, desc(&name, "f32", n, DIM, &format!("{name}.f32")), &data::f32_bytes(base))
            .map_err(|e| e.to_string())?;
    }
    let mut wrote = vec![name.clone()];
    for (qname, gt_name) in [("queries", format!("{name}.gt")), ("reader", format!("{name}.reader.gt"))] {
        if data::load_set(dir, &gt_name).is_ok() {
            continue;
        }
        let Ok((_, qb)) = data::load_set(dir, qname) else { continue };
        let q = data::le_f32(&qb);
        let gt = data::ground_truth(base, &q);
        data::write_set(
            dir,
            desc(&gt_name, "u32", gt.len() / GT_K, GT_K, &format!("{gt_name}.u32")),
            &data::u32_bytes(&gt),
        )
        .map_err(|e| e.to_string())?;
        wrote.push(gt_name);
    }
    Ok(format!("wrote or kept {}", wrote.join(", ")))
}
