//! `cargo bench --bench ann -- <data|native> …` (run by `./build.sh bench`): dense vector search
//! of docent against an exact baseline, on MiniLM embeddings of the toolchain's documentation.
//!
//! - `data`: generates (or checks) the cached data sets in `target/bench-data/` ([`data`]).
//! - `ivf`: the IVF layout of the fragmented site index: recall and bytes per question by
//!   `nprobe`, on a set and on its first rows ([`ivf`]).
//! - `native`: docent native (HNSW over an ef sweep, flat), the f32 brute force and
//!   instant-distance (the crate docent used before its own HNSW), written as JSON for
//!   `bench/ann/report.mjs` ([`native`], [`idist`]).
//!
//! The peers run in their own languages (`bench/ann/wasm.mjs`, `bench/ann/hnswlib_native.py`)
//! on the same files; see bench/README.md.

mod data;
mod idist;
mod ivf;
mod limits;
mod native;
mod reader;
mod synth;

use std::path::PathBuf;

/// Every allocation of the benchmark goes through [`heap::Counting`], so the heap an index holds
/// is measured the same way for every native engine.
#[global_allocator]
static ALLOC: heap::Counting = heap::Counting;

/// Live heap bytes, counted by a wrapper around the system allocator.
pub mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    /// How `held_by` measures, for the report.
    pub const HOW: &str = "heap bytes freed by dropping the built index (counting allocator: \
        requested sizes, allocator headers not included)";

    static LIVE: AtomicUsize = AtomicUsize::new(0);
    /// The highest `LIVE` since the last [`peak_during`] began.
    static PEAK: AtomicUsize = AtomicUsize::new(0);

    #[inline]
    fn grew(by: usize) {
        let now = LIVE.fetch_add(by, Relaxed) + by;
        PEAK.fetch_max(now, Relaxed);
    }

    pub struct Counting;

    // SAFETY: every call is forwarded unchanged to `System`; only a counter is updated beside it.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            let p = System.alloc(l);
            if !p.is_null() {
                grew(l.size());
            }
            p
        }
        unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
            let p = System.alloc_zeroed(l);
            if !p.is_null() {
                grew(l.size());
            }
            p
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            System.dealloc(p, l);
            LIVE.fetch_sub(l.size(), Relaxed);
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
            let q = System.realloc(p, l, new);
            if !q.is_null() {
                grew(new);
                LIVE.fetch_sub(l.size(), Relaxed);
            }
            q
        }
    }

    /// `f`'s result and the peak of the heap above its level at the start while `f` ran: the
    /// most memory a build needed at once (its result and any scratch), allocator headers aside.
    pub fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
        let base = LIVE.load(Relaxed);
        PEAK.store(base, Relaxed);
        let out = f();
        (out, PEAK.load(Relaxed).saturating_sub(base))
    }

    /// The heap bytes `x` owns: what dropping it frees (call while no other thread allocates).
    pub fn held_by<T>(x: T) -> usize {
        let before = LIVE.load(Relaxed);
        drop(x);
        before.saturating_sub(LIVE.load(Relaxed))
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn model_dir() -> PathBuf {
    std::env::var_os("DOCENT_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("models"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let res = match args.first().map(String::as_str) {
        Some("data") => data::generate(&root(), &model_dir(), &set_names(&args[1..]))
            .and_then(|_| data::verify(&data::data_dir(&root())))
            .map(|msg| eprintln!("[data] {msg}")),
        Some("synth") => {
            let name = args.get(1).map_or("synth-100k", String::as_str);
            let n = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100_000);
            let source = args.get(3).map_or("toolchain-20k", String::as_str);
            synth::generate(&data::data_dir(&root()), name, n, source)
        }
        Some("prefix") => {
            let n = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5_000);
            synth::prefix(&data::data_dir(&root()), n).map(|m| eprintln!("[prefix] {m}"))
        }
        Some("reader") => reader::generate(&root(), &model_dir()).map(|_| eprintln!("[reader] done")),
        Some("verify") => data::verify(&data::data_dir(&root())).map(|msg| eprintln!("[data] {msg}")),
        Some("native") => run_native(&args[1..]),
        Some("ivf") => run_ivf(&args[1..]),
        Some("fake") => {
            let n = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5_000);
            data::fake(&data::data_dir(&root()), n)
        }
        other => Err(format!(
            "usage: ann data [SET…] | ann reader | ann prefix N | ann synth NAME ROWS [SOURCE] | ann verify | ann native [SET…] | ann ivf [--quick] [SET [N…]] | ann fake [N]; \
             got {other:?}"
        )),
    };
    if let Err(e) = res {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// The sets named on the command line, or all of them.
fn set_names(args: &[String]) -> Vec<&str> {
    if args.is_empty() {
        data::SETS.iter().map(|s| s.0).collect()
    } else {
        args.iter().map(String::as_str).collect()
    }
}

/// `native [SET…]` (default both sets): writes `target/bench-data/results/native-<SET>.json`, or
/// `native-<SET>-reader.json` with `ANN_QUERIES=reader` (the reader-like queries of `reader.rs`,
/// whose run also measures what limits recall, `limits.rs`).
fn run_native(sets: &[String]) -> Result<(), String> {
    let dir = data::data_dir(&root());
    let sets: Vec<String> =
        if sets.is_empty() { data::SETS.iter().map(|s| s.0.to_string()).collect() } else { sets.to_vec() };
    let out = dir.join("results");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let pools = native::Pools::new()?;
    for set in sets {
        let data = native::SetData::load(&dir, &set)?;
        let mut ev = native::Evictor::new();
        let mut rows = native::run(&data, &native::configs(), &pools, &mut ev);
        if data.queries_name != "queries" {
            rows.push(limits::run(&data, &pools));
        }
        if std::env::var_os("ANN_NO_IDIST").is_none() {
            rows.extend(idist::run(&data, &mut ev, &pools));
        }
        let suffix =
            if data.queries_name == "queries" { String::new() } else { format!("-{}", data.queries_name) };
        let path = out.join(format!("native-{set}{suffix}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&rows).unwrap())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("[native] wrote {}", path.display());
    }
    Ok(())
}

/// `ivf [--quick] [SET [N…]]` (default `toolchain-20k`, its first 2,408 rows and all of it): writes
/// `target/bench-data/results/ivf-<SET>.json`.
fn run_ivf(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let args: Vec<&String> = args.iter().filter(|a| *a != "--quick").collect();
    let set = args.first().map_or("toolchain-20k", |a| a.as_str());
    let sizes = args.iter().skip(1).map(|a| a.parse().map_err(|_| format!("ivf: {a:?} is not a row count")));
    ivf::run(&data::data_dir(&root()), set, &sizes.collect::<Result<Vec<usize>, String>>()?, !quick)
}
