//! Native measurements: docent's dense index (HNSW over an ef sweep, and the exact flat scan) and
//! the f32 brute-force baseline on one data set, written as JSON rows for the report; also the set
//! in memory, the timing, the cache evictor and the thread pools that [`crate::idist`] measures
//! instant-distance with (`main.rs` runs both on the same [`SetData`]).
//!
//! Every engine row has the same shape in every language (see `bench/ann/report.mjs`): build
//! seconds, memory, serialized bytes, and a curve of `{ef, recall, warm/cold p50/p95 µs}`.

use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};

use crate::data::{self, DIM, GT_K};

/// The ef values of the recall–latency curve (same list in every harness).
pub const EFS: [usize; 10] = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256];
/// Queries timed with a cold cache per point (the first ones of the fixed query order).
pub const COLD_QUERIES: usize = 200;
/// Bytes streamed through before each cold query: more than any last-level cache here.
pub const EVICT_BYTES: usize = 64 << 20;

/// The one place that calls docent's dense-index API, so an API change is one edit.
pub mod docent_api {
    use docent::index::dense::{DenseIndex, DenseOptions, GraphKind, InstantDistanceParams};

    /// Whether `ef` can be chosen per query (`search_with`). While false, the sweep builds one
    /// index per ef (ef_search was fixed at build time before the new HNSW).
    pub const EF_PER_QUERY: bool = true;

    /// HNSW build parameters; `None` keeps docent's default.
    #[derive(Clone, Copy, Debug)]
    pub struct Params {
        pub m: Option<usize>,
        pub ef_construction: Option<usize>,
        /// The product's graph kind (`None`: docent's HNSW).
        pub graph: Option<GraphKind>,
    }

    pub fn options(p: Params, ef_search: Option<usize>, flat: bool) -> DenseOptions {
        let d = DenseOptions::default();
        DenseOptions {
            flat_threshold: if flat { usize::MAX } else { 0 },
            m: p.m.unwrap_or(d.m),
            ef_construction: p.ef_construction.unwrap_or(d.ef_construction),
            ef_search: ef_search.unwrap_or(d.ef_search),
            graph: p.graph.unwrap_or(d.graph),
            ..d
        }
    }

    /// The same index with its instant-distance graph searching at `ef`: the crate fixes
    /// `ef_search` when it builds (it plays no part in building), so the graph's section is
    /// re-encoded with another `ef_search` (stored twice: docent's params and the crate's field)
    /// instead of building one graph per ef.
    pub fn with_idist_ef(idx: &DenseIndex, ef: usize) -> DenseIndex {
        let mut section = Vec::new();
        idx.encode_separate_graph(&mut section).expect("encode graph");
        let (mut p, rest): (InstantDistanceParams, &[u8]) =
            postcard::take_from_bytes(&section).expect("params");
        let (_, rest): (usize, &[u8]) = postcard::take_from_bytes(rest).expect("ef_search");
        p.ef_search = ef as u32;
        let mut body = postcard::to_stdvec(&p).unwrap();
        body.extend(postcard::to_stdvec(&ef).unwrap());
        body.extend_from_slice(rest);
        let mut back: DenseIndex = postcard::from_bytes(&postcard::to_stdvec(idx).unwrap()).expect("rows");
        back.attach_separate_graph(&body, "bench").expect("attach graph");
        back
    }

    /// The parameters docent actually used, for the report: those the graph records, and the
    /// options asked for (0 = docent's default for the number of rows).
    pub fn describe(o: &DenseOptions, idx: &DenseIndex) -> serde_json::Value {
        let asked =
            serde_json::json!({"m": o.m, "ef_construction": o.ef_construction, "ef_search": o.ef_search});
        match idx.hnsw_params() {
            Some(p) => serde_json::json!({
                "m": p.m, "ef_construction": p.ef_construction, "ef_search_default": p.ef_search,
                "heuristic": p.heuristic, "seed": p.seed,
                "asked": asked, "zero_means": "chosen by the number of rows (docent's size-dependent default)",
            }),
            None => match idx.instant_distance_params() {
                Some(p) => serde_json::json!({
                    "graph": "instant-distance (the product's, int8 row points)", "m": 32,
                    "ef_construction": p.ef_construction, "ef_search_default": p.ef_search,
                    "heuristic": p.heuristic, "seed": p.seed, "asked": asked,
                }),
                None => serde_json::json!({"kind": idx.kind(), "asked": asked}),
            },
        }
    }

    pub fn build(vectors: &[f32], dim: usize, o: &DenseOptions) -> DenseIndex {
        DenseIndex::build(vectors, dim, o).expect("docent dense build")
    }

    /// Top-k ids with the given ef (a flat index ignores it).
    pub fn search(idx: &DenseIndex, q: &[f32], k: usize, ef: usize) -> Vec<u32> {
        idx.search_with(q, k, ef).expect("docent search").into_iter().map(|h| h.0).collect()
    }

    pub fn memory_bytes(idx: &DenseIndex) -> usize {
        idx.memory_bytes()
    }

    pub fn disk_bytes(idx: &DenseIndex) -> usize {
        docent::format::encoded_size(idx).expect("encode dense index")
    }
}

/// The rayon pools every native build runs in: `default` (`RAYON_NUM_THREADS`, else one thread
/// per core) and `one` (a single thread), so each engine's build is timed on both.
pub struct Pools {
    pub default: rayon::ThreadPool,
    pub one: rayon::ThreadPool,
}

impl Pools {
    pub fn new() -> Result<Self, String> {
        let pool = |n: usize| {
            rayon::ThreadPoolBuilder::new().num_threads(n).build().map_err(|e| format!("rayon pool: {e}"))
        };
        Ok(Pools { default: pool(0)?, one: pool(1)? })
    }
}

/// The load average (1, 5, 15 min) from `/proc/loadavg`, or "?" where there is none.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Wall and CPU seconds of a span. The CPU time is the whole process's (every thread, user and
/// system, from `/proc/self/stat` in 10 ms ticks; 0 where there is none): on a shared machine it
/// moves much less with the load than the wall time does.
pub struct Span(Instant, f64);

impl Span {
    pub fn start() -> Self {
        Span(Instant::now(), cpu_s())
    }
    /// `(wall s, cpu s)` since `start`.
    pub fn stop(&self) -> (f64, f64) {
        (self.0.elapsed().as_secs_f64(), cpu_s() - self.1)
    }
}

fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name in parentheses: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |r| r.1);
    let f: Vec<f64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    f.get(11).zip(f.get(12)).map_or(0.0, |(u, s)| (u + s) / 100.0)
}

/// A buffer streamed through (read and written, one touch per 64-byte line) before each cold
/// query, so the index is no longer in any cache: the same procedure in every harness.
pub struct Evictor(Vec<u8>);
impl Evictor {
    pub fn new() -> Self {
        Evictor(vec![1u8; EVICT_BYTES])
    }
    pub fn run(&mut self) {
        let mut acc = 0u8;
        for i in (0..self.0.len()).step_by(64) {
            acc = acc.wrapping_add(self.0[i]);
            self.0[i] = acc;
        }
        std::hint::black_box(acc);
    }
}

pub fn median(v: &[f64]) -> f64 {
    percentile(v, 0.5)
}

pub fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    s[((s.len() - 1) as f64 * p).round() as usize]
}

/// Times each query individually (µs): warm (back to back, all queries after 20 untimed ones)
/// and cold (the first [`COLD_QUERIES`], each after [`Evictor::run`]). Returns the ids of the
/// warm pass for recall.
pub fn timed(
    queries: &[f32],
    ev: &mut Evictor,
    mut f: impl FnMut(&[f32]) -> Vec<u32>,
) -> (Vec<Vec<u32>>, Value) {
    for q in queries.chunks_exact(DIM).take(20) {
        std::hint::black_box(f(q));
    }
    let mut ids = Vec::new();
    let mut warm = Vec::new();
    for q in queries.chunks_exact(DIM) {
        let t = Instant::now();
        let r = f(q);
        warm.push(t.elapsed().as_secs_f64() * 1e6);
        ids.push(r);
    }
    let mut cold = Vec::new();
    for q in queries.chunks_exact(DIM).take(COLD_QUERIES) {
        ev.run();
        let t = Instant::now();
        std::hint::black_box(f(q));
        cold.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let v = json!({
        "warm_p50_us": percentile(&warm, 0.5), "warm_p95_us": percentile(&warm, 0.95),
        "cold_p50_us": percentile(&cold, 0.5), "cold_p95_us": percentile(&cold, 0.95),
        "warm_queries": warm.len(), "cold_queries": cold.len(),
    });
    (ids, v)
}

pub fn mean_recall(gt: &[u32], got: &[Vec<u32>]) -> f64 {
    got.iter().enumerate().map(|(i, g)| data::recall(&gt[i * GT_K..(i + 1) * GT_K], g)).sum::<f64>()
        / got.len() as f64
}

pub fn point(ef: Option<usize>, recall: f64, lat: Value) -> Value {
    let mut p = lat;
    p["ef"] = json!(ef);
    p["recall"] = json!(recall);
    p
}

/// The HNSW build settings swept: docent's defaults, plus hnswlib's common M 16 /
/// efConstruction 200 once docent lets M be chosen.
pub fn configs() -> Vec<(String, docent_api::Params)> {
    use docent_api::Params;
    let mut c = vec![("defaults".to_string(), Params { m: None, ef_construction: None, graph: None })];
    if docent_api::EF_PER_QUERY {
        c.push(("M16 efc200".to_string(), Params { m: Some(16), ef_construction: Some(200), graph: None }));
    }
    let idist = docent::index::dense::GraphKind::InstantDistance;
    c.push(("instant-distance".to_string(), Params { m: None, ef_construction: None, graph: Some(idist) }));
    if let Ok(only) = std::env::var("ANN_CONFIGS") {
        c.retain(|(name, _)| only.split(',').any(|o| o == name));
    }
    c
}

/// One data set in memory: its base rows, the held-out queries and the exact top-k of each.
pub struct SetData {
    pub name: String,
    pub base: Vec<f32>,
    pub queries: Vec<f32>,
    pub gt: Vec<u32>,
    /// Rows in `base`.
    pub n: usize,
    /// The query set: `queries` (held-out chunks) or `reader` (`reader.rs`).
    pub queries_name: String,
}

impl SetData {
    /// Reads `set`, the queries and `set`'s ground truth from the data directory: the query set
    /// `$ANN_QUERIES` (`queries`, the default, or `reader`).
    pub fn load(dir: &Path, set: &str) -> Result<Self, String> {
        let qname = std::env::var("ANN_QUERIES").unwrap_or_else(|_| "queries".into());
        let gt_name = if qname == "queries" { format!("{set}.gt") } else { format!("{set}.{qname}.gt") };
        let (_, qb) = data::load_set(dir, &qname)?;
        let (desc, bb) = data::load_set(dir, set)?;
        let (_, gb) = data::load_set(dir, &gt_name)?;
        let (queries, base, gt) = (data::le_f32(&qb), data::le_f32(&bb), data::le_u32(&gb));
        Ok(SetData { name: set.to_string(), base, queries, gt, n: desc.count, queries_name: qname })
    }
}

/// Runs docent's engines and the f32 brute force on `set`; returns the JSON rows.
pub fn run(
    d: &SetData,
    configs: &[(String, docent_api::Params)],
    pools: &Pools,
    ev: &mut Evictor,
) -> Vec<Value> {
    let (set, base, queries, gt, n) = (d.name.as_str(), &d.base, &d.queries, &d.gt, d.n);
    let mut rows = Vec::new();
    let threads = pools.default.current_num_threads();
    let row = |engine: &str, params: Value, build_s: f64, mem: usize, disk: usize, curve: Vec<Value>| {
        json!({
            "engine": engine, "runtime": "native", "set": set, "n": n, "dim": DIM,
            "params": params, "build_s": build_s, "build_threads": threads,
            "memory_bytes": mem, "memory_how": "DenseIndex::memory_bytes (heap of the index)",
            "disk_bytes": disk, "bytes_per_vector": disk as f64 / n as f64, "curve": curve,
        })
    };

    eprintln!("[native] {set}: f32 brute force");
    let (ids, lat) =
        timed(queries, ev, |q| data::exact_topk(&base, DIM, q, GT_K).into_iter().map(|h| h.0).collect());
    let mut r = row(
        "f32 brute force",
        json!({"loop": "8-accumulator f32 dot, Rust"}),
        0.0,
        base.len() * 4,
        base.len() * 4,
        vec![point(None, mean_recall(&gt, &ids), lat)],
    );
    r["memory_how"] = json!("the f32 rows");
    r["disk_bytes"] = json!(base.len() * 4);
    rows.push(r);

    eprintln!("[native] {set}: docent flat");
    let o =
        docent_api::options(docent_api::Params { m: None, ef_construction: None, graph: None }, None, true);
    let t = Instant::now();
    let flat = pools.default.install(|| docent_api::build(&base, DIM, &o));
    let build_s = t.elapsed().as_secs_f64();
    let (ids, lat) = timed(queries, ev, |q| docent_api::search(&flat, q, GT_K, 0));
    rows.push(row(
        "docent flat",
        json!({"kind": "int8 scan + f32 rescoring"}),
        build_s,
        docent_api::memory_bytes(&flat),
        docent_api::disk_bytes(&flat),
        vec![point(None, mean_recall(&gt, &ids), lat)],
    ));
    drop(flat);

    for (name, p) in configs {
        let mut curve = Vec::new();
        let (mut build_s, mut build_cpu_s, mut mem, mut disk, mut described) = (0.0, 0.0, 0, 0, Value::Null);
        let mut peak = 0;
        let mut shared = None;
        let mut heap = 0;
        let load_start = loadavg();
        for &ef in &EFS {
            if shared.is_none() || !docent_api::EF_PER_QUERY {
                let o = docent_api::options(*p, (!docent_api::EF_PER_QUERY).then_some(ef), false);
                eprintln!("[native] {set}: docent HNSW {name} build (ef_construction {})", o.ef_construction);
                let t = Span::start();
                let (idx, p) =
                    crate::heap::peak_during(|| pools.default.install(|| docent_api::build(&base, DIM, &o)));
                (build_s, build_cpu_s) = t.stop();
                peak = p;
                mem = docent_api::memory_bytes(&idx);
                disk = docent_api::disk_bytes(&idx);
                described = docent_api::describe(&o, &idx);
                if let Some(old) = shared.replace(idx) {
                    heap = crate::heap::held_by(old);
                }
            }
            let idx = shared.as_ref().unwrap();
            let at_ef;
            let idx = if idx.has_separate_graph() {
                at_ef = docent_api::with_idist_ef(idx, ef);
                &at_ef
            } else {
                idx
            };
            let (ids, lat) = timed(queries, ev, |q| docent_api::search(idx, q, GT_K, ef));
            let rec = mean_recall(&gt, &ids);
            eprintln!(
                "[native] {set}: docent HNSW {name} ef {ef}: recall {rec:.4}, warm p50 {:.0} µs",
                lat["warm_p50_us"].as_f64().unwrap()
            );
            curve.push(point(Some(ef), rec, lat));
        }
        heap = shared.map_or(heap, crate::heap::held_by);
        // The same build in a one-thread pool, timed only: docent's graph does not depend on the
        // thread count.
        // (ANN_SKIP_ONE_THREAD=1 leaves it out of long runs at scale.)
        let o = docent_api::options(*p, None, false);
        let (mut build_s_1thread, mut build_cpu_s_1thread) = (f64::NAN, f64::NAN);
        if std::env::var_os("ANN_SKIP_ONE_THREAD").is_none() {
            let t = Span::start();
            let one = pools.one.install(|| docent_api::build(&base, DIM, &o));
            (build_s_1thread, build_cpu_s_1thread) = t.stop();
            drop(one);
        }
        eprintln!("[native] {set}: docent HNSW {name} one-thread build {build_s_1thread:.2} s");
        let mut r = row(&format!("docent HNSW {name}"), described, build_s, mem, disk, curve);
        r["variant"] = json!(name);
        r["build_s_1thread"] = json!(build_s_1thread);
        r["build_cpu_s"] = json!(build_cpu_s);
        r["build_cpu_s_1thread"] = json!(build_cpu_s_1thread);
        r["heap_bytes"] = json!(heap);
        r["build_peak_heap_bytes"] = json!(peak);
        r["heap_how"] = json!(crate::heap::HOW);
        r["load"] = json!({"start": load_start, "end": loadavg()});
        rows.push(r);
    }
    rows
}
