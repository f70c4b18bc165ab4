//! instant-distance, the HNSW crate docent's dense index used until docent wrote its own graph
//! (`src/index/hnsw.rs`), measured with the same data, queries, ground truth and timing as docent
//! native ([`crate::native`]), so the two can be compared by ratio within one run.
//!
//! Two kinds of point, both with the crate's fixed M (32) and its default efConstruction (100,
//! also docent's default at 20k rows):
//!
//! - **f32**: the row as it is (unit length), distance `1 - dot`; the natural way to use the crate.
//! - **int8 as docent used it**: the row L2-normalised and quantized to int8 with one scale, the
//!   same quantization as docent's flat store, distance `1 - scale_a · scale_b · dot_i8`; the
//!   query quantized the same way walks the graph, and the `ef` candidates it returns are
//!   rescored with the f32 query against their int8 rows, as docent's dense index did before its
//!   own graph (and still does after it).
//!
//! Both with the crate's default neighbour heuristic, and the int8 point once more without it,
//! which was docent's setting (`heuristic: false` by default until its own graph).
//!
//! instant-distance fixes `ef_search` when the graph is built, so the sweep builds one graph per
//! ef, over a subset of [`crate::native::EFS`] to keep the run short ([`EFS`]). The search
//! scratch ([`Search`]) is reused across queries, the crate's intended use. Every graph is built
//! on the benchmark's default rayon pool (all cores, like docent's batch-parallel build), and one
//! more graph of each kind in a one-thread pool: the crate inserts every layer but the top one
//! with rayon, with no switch to turn that off.

use instant_distance::{Builder, HnswMap, Point, Search};
use serde::Serialize;
use serde_json::{json, Value};

use crate::data::{self, DIM, GT_K};
use crate::native::{self, Evictor};

/// The ef values swept (each one a separate build): a subset of [`native::EFS`].
pub const EFS: [usize; 6] = [10, 16, 32, 64, 128, 256];
/// The crate's default efConstruction (`Builder::default()`), equal to docent's at 20k rows.
pub const EF_CONSTRUCTION: usize = 100;
/// The ef of the extra graph built in a one-thread pool (also searched, to show the thread count
/// does not change what the graph finds).
pub const ONE_THREAD_EF: usize = 64;
/// instant-distance draws each point's layer from this seed (its default is a random one).
pub const SEED: u64 = 0x1D15_7A9C;

/// A row as it is: unit length f32.
#[derive(Clone, Serialize)]
pub struct F32Point(Box<[f32]>);

impl Point for F32Point {
    #[inline]
    fn distance(&self, other: &Self) -> f32 {
        1.0 - data::dot(&self.0, &other.0)
    }
}

/// A row as docent's dense index stored it for instant-distance: int8 codes and one scale.
#[derive(Clone, Serialize)]
pub struct I8Point {
    scale: f32,
    codes: Box<[i8]>,
}

impl Point for I8Point {
    #[inline]
    fn distance(&self, other: &Self) -> f32 {
        1.0 - self.scale * other.scale * dot_i8(&self.codes, &other.codes) as f32
    }
}

impl I8Point {
    /// `row / |row|` quantized symmetrically: `scale = max|x| / 127`, `code = round(x / scale)`
    /// (the norm in f64), as docent's flat store does.
    fn quantize(row: &[f32]) -> I8Point {
        let norm = row.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
        let max = row.iter().fold(0f64, |m, &x| m.max(f64::from(x).abs())) / norm;
        if norm == 0.0 || !norm.is_finite() || max == 0.0 {
            return I8Point { scale: 0.0, codes: vec![0; row.len()].into() };
        }
        let inv = 127.0 / (max * norm);
        let codes = row.iter().map(|&x| (f64::from(x) * inv).round().clamp(-127.0, 127.0) as i8).collect();
        I8Point { scale: (max / 127.0) as f32, codes }
    }
}

/// int8 dot product in 16 independent `i32` lanes (vectorises without fast-math).
#[inline]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut acc = [0i32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..16 {
            acc[l] += i32::from(x[l]) * i32::from(y[l]);
        }
    }
    acc.iter().sum::<i32>() + ra.iter().zip(rb).map(|(&x, &y)| i32::from(x) * i32::from(y)).sum::<i32>()
}

/// f32 query × int8 row in 16 independent lanes: the rescoring of the int8 kind's candidates.
#[inline]
fn dot_f32_i8(q: &[f32], c: &[i8]) -> f32 {
    let mut acc = [0f32; 16];
    let (cq, cc) = (q.chunks_exact(16), c.chunks_exact(16));
    let (rq, rc) = (cq.remainder(), cc.remainder());
    for (x, y) in cq.zip(cc) {
        for l in 0..16 {
            acc[l] += x[l] * f32::from(y[l]);
        }
    }
    acc.iter().sum::<f32>() + rq.iter().zip(rc).map(|(&x, &y)| x * f32::from(y)).sum::<f32>()
}

/// What differs between the two kinds of point: how a row becomes a point, and how the graph's
/// candidates become the top-k ids.
trait Kind {
    type P: Point + Serialize + Send;
    const ENGINE: &'static str;
    /// The crate's neighbour-selection heuristic (its default) or none.
    const HEURISTIC: bool = true;
    fn describe() -> Value;
    fn point(row: &[f32]) -> Self::P;
    fn top_k(map: &HnswMap<Self::P, u32>, search: &mut Search, q: &[f32], k: usize) -> Vec<u32>;
}

struct F32;
impl Kind for F32 {
    type P = F32Point;
    const ENGINE: &'static str = "instant-distance f32";
    fn describe() -> Value {
        json!({"point": "f32 row, distance 1 - dot (8 f32 lanes)", "candidates": "the graph's order, first k"})
    }
    fn point(row: &[f32]) -> F32Point {
        F32Point(row.into())
    }
    fn top_k(map: &HnswMap<F32Point, u32>, search: &mut Search, q: &[f32], k: usize) -> Vec<u32> {
        map.search(&F32Point(q.into()), search).take(k).map(|item| *item.value).collect()
    }
}

struct I8;
impl Kind for I8 {
    type P = I8Point;
    const ENGINE: &'static str = "instant-distance int8";
    fn describe() -> Value {
        json!({
            "point": "int8 codes + scale (docent's quantization), distance 1 - scale·scale·dot_i8",
            "candidates": "int8 query walks the graph; its ef candidates rescored with the f32 query, best k",
        })
    }
    fn point(row: &[f32]) -> I8Point {
        I8Point::quantize(row)
    }
    fn top_k(map: &HnswMap<I8Point, u32>, search: &mut Search, q: &[f32], k: usize) -> Vec<u32> {
        let norm = q.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
        let unit: Vec<f32> = q.iter().map(|&x| (f64::from(x) / norm) as f32).collect();
        let mut hits: Vec<(u32, f32)> = map
            .search(&I8Point::quantize(q), search)
            .map(|item| (*item.value, item.point.scale * dot_f32_i8(&unit, &item.point.codes)))
            .collect();
        hits.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        hits.into_iter().take(k).map(|h| h.0).collect()
    }
}

/// The int8 point with the heuristic off: docent's setting for the crate (`heuristic: false` was
/// its default, for a build 2-7x faster at +0.0005 recall on its synthetic test data).
struct I8Plain;
impl Kind for I8Plain {
    type P = I8Point;
    const ENGINE: &'static str = "instant-distance int8 no-heuristic";
    const HEURISTIC: bool = false;
    fn describe() -> Value {
        I8::describe()
    }
    fn point(row: &[f32]) -> I8Point {
        I8::point(row)
    }
    fn top_k(map: &HnswMap<I8Point, u32>, search: &mut Search, q: &[f32], k: usize) -> Vec<u32> {
        I8::top_k(map, search, q, k)
    }
}

/// One graph: built in `pool` with `ef_search` fixed to `ef`, and its build `(wall s, cpu s)`.
fn build<K: Kind>(base: &[f32], ef: usize, pool: &rayon::ThreadPool) -> (HnswMap<K::P, u32>, (f64, f64)) {
    let t = native::Span::start();
    let map = pool.install(|| {
        let points: Vec<K::P> = base.chunks_exact(DIM).map(K::point).collect();
        let values: Vec<u32> = (0..points.len() as u32).collect();
        let b = Builder::default().ef_construction(EF_CONSTRUCTION).ef_search(ef).seed(SEED);
        let b = if K::HEURISTIC { b } else { b.select_heuristic(None) };
        b.build(points, values)
    });
    (map, t.stop())
}

/// Runs one kind over [`EFS`] (one build each, in the default pool) plus the one-thread build;
/// returns its JSON row in the shape of the other native rows.
fn run_kind<K: Kind>(d: &native::SetData, ev: &mut Evictor, pools: &native::Pools) -> Value {
    let (set, base, queries, gt, n) = (d.name.as_str(), &d.base[..], &d.queries[..], &d.gt[..], d.n);
    let load_start = native::loadavg();
    let mut curve = Vec::new();
    let (mut builds, mut cpus) = (Vec::new(), Vec::new());
    let (mut heap_bytes, mut disk_bytes) = (0, 0);
    for &ef in &EFS {
        let (map, (build_s, cpu_s)) = build::<K>(base, ef, &pools.default);
        let mut search = Search::default();
        let (ids, lat) = native::timed(queries, ev, |q| K::top_k(&map, &mut search, q, GT_K));
        let rec = native::mean_recall(gt, &ids);
        eprintln!(
            "[native] {set}: {} ef {ef}: build {build_s:.2} s, recall {rec:.4}, warm p50 {:.0} µs",
            K::ENGINE,
            lat["warm_p50_us"].as_f64().unwrap()
        );
        builds.push(build_s);
        cpus.push(cpu_s);
        disk_bytes = postcard::to_stdvec(&map).expect("serialize instant-distance map").len();
        heap_bytes = crate::heap::held_by(map);
        curve.push(native::point(Some(ef), rec, lat));
    }
    let (map, (build_s_1, cpu_s_1)) = build::<K>(base, ONE_THREAD_EF, &pools.one);
    let mut search = Search::default();
    let (ids, lat) = native::timed(queries, ev, |q| K::top_k(&map, &mut search, q, GT_K));
    let rec = native::mean_recall(gt, &ids);
    eprintln!(
        "[native] {set}: {} one-thread build {build_s_1:.2} s, ef {ONE_THREAD_EF} recall {rec:.4}",
        K::ENGINE
    );
    let mut params = K::describe();
    params["m"] = json!(32);
    params["m_how"] = json!("fixed by the crate (const M = 32; layer 0 keeps 2M links)");
    params["ef_construction"] = json!(EF_CONSTRUCTION);
    params["heuristic"] = json!(if K::HEURISTIC {
        "crate default (keep_pruned, no extend_candidates)"
    } else {
        "none (select_heuristic(None): the nearest candidates, as docent used the crate)"
    });
    params["seed"] = json!(SEED);
    params["ef_search"] = json!("fixed per build: one graph per ef of the curve");
    params["crate"] = json!("instant-distance 0.6.1 (crates.io)");
    json!({
        "engine": K::ENGINE, "runtime": "native", "set": set, "n": n, "dim": DIM, "params": params,
        "build_s": native::median(&builds), "build_s_each": builds, "build_threads": pools.default.current_num_threads(),
        "build_s_1thread": build_s_1,
        "build_cpu_s": native::median(&cpus), "build_cpu_s_each": cpus, "build_cpu_s_1thread": cpu_s_1,
        "one_thread_point": native::point(Some(ONE_THREAD_EF), rec, lat),
        "memory_bytes": heap_bytes, "heap_bytes": heap_bytes,
        "memory_how": crate::heap::HOW,
        "disk_bytes": disk_bytes, "disk_how": "postcard (the encoding of docent's index files) of the HnswMap<point, u32>",
        "bytes_per_vector": disk_bytes as f64 / n as f64, "curve": curve,
        "load": {"start": load_start, "end": native::loadavg()},
    })
}

/// Every kind of point on one set: one JSON row each.
pub fn run(d: &native::SetData, ev: &mut Evictor, pools: &native::Pools) -> Vec<Value> {
    vec![run_kind::<F32>(d, ev, pools), run_kind::<I8>(d, ev, pools), run_kind::<I8Plain>(d, ev, pools)]
}
