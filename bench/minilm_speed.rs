//! `cargo bench --bench minilm_speed`: MiniLM forward speed, native, docent's int8 forward
//! against candle's f32 BERT (the forward docent used before; it costs the same as the old
//! int8-dequantised-to-f32 path), on the same texts as `bench/minilm_node.mjs`
//! ([`chunks`]): chunks/s at batch 1 and 8 with 1 and 2 rayon threads, the latency of one
//! ~10-token query, and the cosine of every int8 output to the f32 one.
//!
//! Needs `./build.sh setup` (models/ and the source model in .cache/minilm-src/model, or
//! `DOCENT_MODEL_DIR` / `DOCENT_MODEL_SRC`). `MINILM_BENCH_F32=0` skips the f32 timings,
//! `MINILM_BENCH=cosine` every timing, `MINILM_BENCH_THREADS=N` all but the N-thread ones.

use std::path::PathBuf;
use std::time::Instant;

use docent::embed::minilm::{MiniLm, DIM};
use docent::embed::Embedder;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// 64 texts of 66 words (≈128 tokens) from the project's own prose: the words of `docs/*.md`
/// (sorted by name), `README.md` and `bench/README.md`, in windows of 66. The same rule as
/// `bench/minilm_node.mjs`.
fn chunks() -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("docs entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files.push(root().join("README.md"));
    files.push(root().join("bench/README.md"));
    let words: Vec<String> = files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .expect("read text")
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    words.chunks_exact(66).take(64).map(|w| w.join(" ")).collect()
}

const QUERY: &str = "How do I add a dependency to my project?";

fn time_embed(m: &MiniLm, texts: &[&str], batch: usize, threads: usize) -> f64 {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
    pool.install(|| {
        m.embed(&texts[..batch]).expect("warm-up");
        let start = Instant::now();
        for b in texts.chunks(batch) {
            m.embed(b).expect("embed");
        }
        texts.len() as f64 / start.elapsed().as_secs_f64()
    })
}

fn query_ms(m: &MiniLm) -> f64 {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
    pool.install(|| {
        for _ in 0..5 {
            m.embed(&[QUERY]).expect("warm-up");
        }
        let mut t: Vec<f64> = (0..60)
            .map(|_| {
                let s = Instant::now();
                m.embed(&[QUERY]).expect("embed");
                s.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    })
}

fn report(name: &str, m: &MiniLm, texts: &[&str]) {
    // MINILM_BENCH_THREADS=2 (say) times only that pool size, e.g. under `/usr/bin/time` to see
    // the CPU share the threads got.
    let only: Option<usize> = std::env::var("MINILM_BENCH_THREADS").ok().and_then(|v| v.parse().ok());
    for threads in [1, 2].into_iter().filter(|t| only.is_none_or(|o| o == *t)) {
        for batch in [1, 8] {
            let cps = time_embed(m, texts, batch, threads);
            println!("{name}: batch {batch}, {threads} thread(s): {cps:.1} chunks/s");
        }
    }
    println!("{name}: query ({} tokens) median latency, 1 thread: {:.2} ms", tokens(m, QUERY), query_ms(m));
}

fn tokens(m: &MiniLm, text: &str) -> usize {
    m.tokenizer().map(|t| t.encode(text, true).map(|e| e.get_ids().len()).unwrap_or(0)).unwrap_or(0)
}

fn main() {
    let model =
        std::env::var_os("DOCENT_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("models"));
    let src = std::env::var_os("DOCENT_MODEL_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".cache/minilm-src/model"));
    let texts = chunks();
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    let int8 = MiniLm::load(&model).unwrap_or_else(|e| panic!("{e}"));
    let lens: Vec<usize> = refs.iter().map(|t| tokens(&int8, t).min(256)).collect();
    println!(
        "{} chunks, {:.1} tokens on average ({}..{}); load average {}",
        refs.len(),
        lens.iter().sum::<usize>() as f64 / lens.len() as f64,
        lens.iter().min().unwrap_or(&0),
        lens.iter().max().unwrap_or(&0),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()
    );
    let only_cosine = std::env::var("MINILM_BENCH").as_deref() == Ok("cosine");
    if !only_cosine {
        report("int8 (docent)", &int8, &refs);
    }
    let read =
        |n: &str| std::fs::read(src.join(n)).unwrap_or_else(|e| panic!("{}: {e}", src.join(n).display()));
    let f32m =
        MiniLm::from_safetensors_candle(&read("model.safetensors"), &read("tokenizer.json"), &read("config.json"))
            .unwrap_or_else(|e| panic!("{e}"));
    if !only_cosine && std::env::var("MINILM_BENCH_F32").as_deref() != Ok("0") {
        report("f32 (candle)", &f32m, &refs);
    }
    let short =
        ["", "ok", QUERY, "rustup target add wasm32-unknown-unknown", "日本語のテキストも埋め込めます"];
    let (a, b) = (int8.embed(&short).expect("int8"), f32m.embed(&short).expect("f32"));
    for (t, (x, y)) in short.iter().zip(a.chunks_exact(DIM).zip(b.chunks_exact(DIM))) {
        println!("cosine int8 vs f32 for {t:?}: {:.5}", x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>());
    }
    let (a, b) = (int8.embed(&refs).expect("int8"), f32m.embed(&refs).expect("f32"));
    let cos: Vec<f32> = a
        .chunks_exact(DIM)
        .zip(b.chunks_exact(DIM))
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum())
        .collect();
    println!(
        "cosine int8 vs f32 over {} chunks: min {:.5}, mean {:.5}",
        cos.len(),
        cos.iter().copied().fold(f32::INFINITY, f32::min),
        cos.iter().sum::<f32>() / cos.len() as f32
    );
}
