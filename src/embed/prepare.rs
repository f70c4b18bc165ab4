//! `docent model`: prepares the shipped model files from the original all-MiniLM-L6-v2.
//!
//! Owns: int8 quantisation of the f32 weights (`minilm.int8`), checking it against the f32 model
//! on a probe set, distillation of the static token table (`static.bin`: every vocabulary token
//! through the f32 model, PCA, SIF weights from a corpus), copying `tokenizer.json` and
//! `config.json`, and the `model.json` manifest. Native only (filesystem; rayon with the
//! `parallel` feature).
//! Must not: be needed at query time; write anywhere but the output directory.

use std::path::{Path, PathBuf};
use std::time::Instant;

#[cfg(feature = "parallel")]
use rayon::prelude::*;
use serde::Serialize;

use super::minilm::{self, encode_int8, MiniLm, RawTensor};
use super::static_table::{self, encode_table};
use super::{fingerprint, Embedder};
use crate::{Error, Result};

/// Options of [`prepare`].
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    /// A directory of `.html`/`.htm`/`.md`/`.markdown`/`.txt` files whose token frequencies set
    /// the static table's SIF weights (tags stripped crudely; at most [`CORPUS_MAX_FILES`] files
    /// spread evenly over the sorted file list and [`CORPUS_MAX_BYTES`] of text are read).
    /// `None`: every token gets the same probability `1/V`, so every non-special weight is
    /// `a/(a + 1/V)` ≈ 0.97 and the static embedding is a plain mean of token rows (weaker:
    /// frequent function words are not down-weighted).
    pub corpus: Option<PathBuf>,
    /// Static table dimension after PCA. Default 256; range 1..=384 (MiniLM's width). Smaller
    /// tables load faster and search faster but keep less of MiniLM's geometry; 384 keeps all of
    /// it (PCA is then a rotation) at 1.5× the size.
    pub static_dim: usize,
    /// Whether to distil the static table (`static.bin`, the `static` embedder). Default true.
    /// False writes the int8 MiniLM alone, in a fraction of the time (the distillation runs every
    /// vocabulary token through the f32 model): what `./build.sh demo` prepares, whose index and
    /// page embed with MiniLM only. A `static.bin` already in the output directory is then
    /// removed, so the `static` embedder fails with a clear "missing" instead of reading a table
    /// from other weights; `model.json` has no `static` entry.
    pub static_table: bool,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        PrepareOptions { corpus: None, static_dim: 256, static_table: true }
    }
}

/// What [`prepare`] wrote and measured.
#[derive(Debug, Clone, Serialize)]
pub struct PrepareReport {
    /// Size of `minilm.int8` in bytes.
    pub minilm_bytes: u64,
    /// Size of `static.bin` in bytes; 0 when it was not distilled
    /// ([`PrepareOptions::static_table`] false).
    pub static_bytes: u64,
    /// Smallest cosine between the int8 and the f32 model's embeddings over the built-in probe
    /// set of [`probe_sentences`].
    pub min_cosine_vs_f32: f32,
    /// Wall-clock time of the whole preparation.
    pub seconds: f32,
}

/// At most this many corpus files are read for token frequencies.
pub const CORPUS_MAX_FILES: usize = 6000;
/// At most this many bytes of (tag-stripped) corpus text are tokenised for token frequencies.
pub const CORPUS_MAX_BYTES: usize = 40 << 20;
/// SIF smoothing constant `a` in `w = a / (a + p(token))`.
pub const SIF_A: f32 = 1e-3;
/// `prepare` fails when the int8 model strays further than this from the f32 model on the probe
/// set (the target, met by grouped int8, is ≥ 0.998).
pub const MIN_ACCEPTED_COSINE: f32 = 0.995;

/// Values per int8 scale in `minilm.int8`: every 2-D matrix is quantised in groups of 64
/// consecutive values of a row, each with its own f32 scale (8.5 bits per weight, 24.1 MB).
/// Chosen by measurement on the probe set (`quantisation_layouts` test below): one scale per row
/// gives a minimum cosine to f32 of 0.9963 (22.9 MB), groups of 128 give 0.9991 (23.4 MB),
/// groups of 64 give 0.99945.
pub const INT8_GROUP: usize = 64;

/// Which distilled output becomes a token's row: the mean of the three outputs, by measurement
/// (`static_pooling` test below, 24 query/passage pairs, MRR; f32 MiniLM scores 0.948):
/// uniform weights, 256-d: mean 0.835, own output 0.779; SIF weights from the Rust docs, 256-d:
/// mean 0.931, own output 0.917 (128-d: 0.910 and 0.909).
const STATIC_POOLING: Pooling = Pooling::Mean;

/// The two candidate rows for a token `t` run as `[CLS] t [SEP]`.
#[derive(Clone, Copy, PartialEq, Debug)]
#[allow(dead_code)]
enum Pooling {
    /// The output at `t`'s own position.
    Token,
    /// The mean of the three outputs (what MiniLM's sentence pooling would give).
    Mean,
}

/// Sequences per forward pass during distillation (all are 3 tokens long).
const DISTILL_BATCH: usize = 512;

/// The probe set on which the int8 model is compared with the f32 one: short and long (over 256
/// tokens), prose, code, non-Latin scripts, punctuation and the empty string.
pub fn probe_sentences() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        "hello",
        "How do I add a dependency to my project?",
        "Adding crates to Cargo.toml under [dependencies]",
        "The weather in Lisbon is sunny and warm today.",
        "fn main() { let v: Vec<u32> = (0..10).collect(); println!(\"{:?}\", v); }",
        "SELECT name, count(*) FROM users GROUP BY name HAVING count(*) > 1;",
        "Ownership rules: each value has an owner, and there can only be one owner at a time.",
        "Les fichiers de configuration sont lus au démarrage du serveur.",
        "東京は日本の首都です。",
        "Ошибка компиляции: несовместимые типы.",
        "🚀 release v2.0.1 — faster builds, fewer bugs!!!",
        "error[E0382]: borrow of moved value: `s`",
        "A B C D E F G 1 2 3",
        "   whitespace   and\ttabs\nand newlines   ",
        "The borrow checker ensures references never outlive the data they point to.",
        "Use `cargo test -- --nocapture` to see printed output from passing tests.",
        "Photosynthesis converts light energy into chemical energy stored in glucose.",
        "https://doc.rust-lang.org/std/vec/struct.Vec.html#method.push",
        "What is the capital of Australia? Canberra, not Sydney.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut long = String::new();
    for i in 0..60 {
        long.push_str(&format!(
            "Step {i}: the scheduler picks the next runnable task and polls its future. "
        ));
    }
    v.push(long);
    let code: String = (0..80).map(|i| format!("let x{i} = compute(x{}, {i}); ", i.max(1) - 1)).collect();
    v.push(code);
    v
}

#[derive(Serialize)]
struct FileEntry {
    file: String,
    bytes: u64,
    fingerprint: String,
}

#[derive(Serialize)]
struct Manifest {
    format: u32,
    minilm: EmbedderEntry,
    #[serde(rename = "static", skip_serializing_if = "Option::is_none")]
    static_table: Option<EmbedderEntry>,
    tokenizer: FileEntry,
    config: FileEntry,
    source: FileEntry,
    min_cosine_vs_f32: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    sif: Option<SifEntry>,
}

#[derive(Serialize)]
struct EmbedderEntry {
    file: String,
    bytes: u64,
    model: String,
    dim: usize,
    fingerprint: String,
    max_tokens: usize,
}

#[derive(Serialize, Clone)]
struct SifEntry {
    a: f32,
    corpus_files: usize,
    corpus_tokens: u64,
    uniform: bool,
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| Error::model(path.display().to_string(), format!("cannot read the {what}: {e}")))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// Prepares a model directory: reads `from/model.safetensors`, `from/tokenizer.json` and
/// `from/config.json`, writes `out/minilm.int8`, `out/static.bin` (unless
/// [`PrepareOptions::static_table`] is false), `out/tokenizer.json`,
/// `out/config.json` and `out/model.json` (overwriting them). `progress` receives one line per
/// stage.
pub fn prepare(
    from: &Path,
    out: &Path,
    opts: &PrepareOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<PrepareReport> {
    let start = Instant::now();
    if opts.static_dim == 0 || opts.static_dim > minilm::DIM {
        return Err(Error::invalid(
            "static_dim",
            format!("expected 1..={}, found {}", minilm::DIM, opts.static_dim),
        ));
    }
    let st_path = from.join("model.safetensors");
    let safetensors = read(&st_path, "f32 weights (model.safetensors of all-MiniLM-L6-v2)")?;
    let tokenizer_json = read(&from.join("tokenizer.json"), "tokenizer")?;
    let config_json = read(&from.join("config.json"), "BERT config")?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;

    progress("quantising weights to int8");
    let int8 = quantize_safetensors(&safetensors, &st_path.display().to_string())?;
    write(&out.join(minilm::WEIGHTS_FILE), &int8)?;
    write(&out.join(minilm::TOKENIZER_FILE), &tokenizer_json)?;
    write(&out.join(minilm::CONFIG_FILE), &config_json)?;

    progress("checking int8 against f32 on the probe set");
    let reference = MiniLm::from_safetensors(&safetensors, &tokenizer_json, &config_json)
        .map_err(|e| relabel(e, "model.safetensors", &st_path))
        .map_err(|e| relabel(e, "tokenizer.json", &from.join("tokenizer.json")))
        .map_err(|e| relabel(e, "config.json", &from.join("config.json")))?;
    let quantized = MiniLm::from_bytes(&int8, &tokenizer_json, &config_json)?;
    let min_cos = min_cosine(&reference, &quantized)?;
    progress(&format!(
        "int8 vs f32: minimum cosine {min_cos:.5} over {} probe texts",
        probe_sentences().len()
    ));
    if min_cos < MIN_ACCEPTED_COSINE {
        return Err(Error::model(
            out.join(minilm::WEIGHTS_FILE).display().to_string(),
            format!("int8 weights drift from f32: minimum cosine {min_cos:.5} < {MIN_ACCEPTED_COSINE}"),
        ));
    }
    drop(quantized);

    let table = if opts.static_table {
        Some(distill_table(&reference, out, opts, progress)?)
    } else {
        let stale = out.join(static_table::TABLE_FILE);
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(|e| Error::io(&stale, e))?;
        }
        None
    };

    let entry = |file: &str, bytes: &[u8]| FileEntry {
        file: file.to_string(),
        bytes: bytes.len() as u64,
        fingerprint: fingerprint(bytes),
    };
    let manifest = Manifest {
        format: 1,
        minilm: EmbedderEntry {
            file: minilm::WEIGHTS_FILE.into(),
            bytes: int8.len() as u64,
            model: minilm::MODEL_ID.into(),
            dim: minilm::DIM,
            fingerprint: fingerprint(&int8),
            max_tokens: minilm::MAX_TOKENS,
        },
        static_table: table.as_ref().map(|(table, _)| EmbedderEntry {
            file: static_table::TABLE_FILE.into(),
            bytes: table.len() as u64,
            model: static_table::MODEL_ID.into(),
            dim: opts.static_dim,
            fingerprint: fingerprint(table),
            max_tokens: static_table::MAX_TOKENS,
        }),
        tokenizer: entry(minilm::TOKENIZER_FILE, &tokenizer_json),
        config: entry(minilm::CONFIG_FILE, &config_json),
        source: entry("model.safetensors", &safetensors),
        min_cosine_vs_f32: min_cos,
        sif: table.as_ref().map(|(_, sif)| sif.clone()),
    };
    let json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| Error::invalid("model.json", e.to_string()))?;
    write(&out.join("model.json"), &json)?;
    let report = PrepareReport {
        minilm_bytes: int8.len() as u64,
        static_bytes: table.as_ref().map_or(0, |(table, _)| table.len() as u64),
        min_cosine_vs_f32: min_cos,
        seconds: start.elapsed().as_secs_f32(),
    };
    progress(&format!(
        "done in {:.1} s: {} bytes minilm.int8, {} bytes static.bin",
        report.seconds, report.minilm_bytes, report.static_bytes
    ));
    Ok(report)
}

/// Distils the static table from the f32 `reference` and writes it to `out`: every vocabulary
/// token through MiniLM, PCA to `opts.static_dim`, SIF weights from `opts.corpus`. Returns the
/// table's bytes and its SIF entry for the manifest.
fn distill_table(
    reference: &MiniLm,
    out: &Path,
    opts: &PrepareOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<u8>, SifEntry)> {
    progress("distilling the static table: every vocabulary token through MiniLM");
    let vocab = reference.tokenizer().map(|t| t.get_vocab_size(true)).unwrap_or(0);
    let (own, mean) = distill(reference, vocab, progress)?;
    let outputs = match STATIC_POOLING {
        Pooling::Token => own,
        Pooling::Mean => mean,
    };
    progress("PCA");
    let rows = pca(&outputs, minilm::DIM, opts.static_dim)?;
    let (counts, files) = match &opts.corpus {
        Some(dir) => {
            progress(&format!("counting token frequencies in {}", dir.display()));
            let tok = reference.tokenizer().ok_or_else(|| Error::model("tokenizer.json", "missing"))?;
            count_corpus(dir, tok, vocab)?
        }
        None => (Vec::new(), 0),
    };
    let weights = sif_weights(&counts, vocab, special_ids(reference));
    let table = encode_table(&rows, &weights, opts.static_dim)?;
    write(&out.join(static_table::TABLE_FILE), &table)?;

    let sif = SifEntry {
        a: SIF_A,
        corpus_files: files,
        corpus_tokens: counts.iter().sum(),
        uniform: counts.is_empty(),
    };
    Ok((table, sif))
}

/// Replaces a bare file name in a model error by the full path.
fn relabel(e: Error, name: &str, path: &Path) -> Error {
    match e {
        Error::Model { path: p, reason } if p == name => Error::model(path.display().to_string(), reason),
        other => other,
    }
}

/// Reads the f32 safetensors and encodes the tensors BERT needs as `minilm.int8` (the unused
/// pooler and the `position_ids` buffer are dropped).
fn quantize_safetensors(bytes: &[u8], what: &str) -> Result<Vec<u8>> {
    let group = |_: &str, shape: &[usize]| match shape {
        [_, cols] if cols % INT8_GROUP == 0 => INT8_GROUP,
        [_, cols] => *cols,
        _ => 0,
    };
    quantize_safetensors_with(bytes, what, &group)
}

/// [`quantize_safetensors`] with a chosen int8 group size per tensor (0 = f32).
fn quantize_safetensors_with(
    bytes: &[u8],
    what: &str,
    group: &dyn Fn(&str, &[usize]) -> usize,
) -> Result<Vec<u8>> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| Error::model(what, format!("not a readable safetensors file: {e}")))?;
    let mut names: Vec<String> = st.names().into_iter().map(String::from).collect();
    names.sort();
    let mut tensors = Vec::new();
    for name in &names {
        if name.starts_with("pooler.") || name.ends_with("position_ids") {
            continue;
        }
        let view = st.tensor(name).map_err(|e| Error::model(what, format!("{name}: {e}")))?;
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(Error::model(
                what,
                format!("{name}: expected F32 weights, found {:?}", view.dtype()),
            ));
        }
        let data: Vec<f32> =
            view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let group = group(name, view.shape());
        tensors.push(RawTensor { name, shape: view.shape().to_vec(), data, group });
    }
    if tensors.is_empty() {
        return Err(Error::model(what, "no f32 tensors found"));
    }
    encode_int8(&tensors)
}

/// The smallest cosine between two embedders' outputs over [`probe_sentences`].
pub fn min_cosine(a: &dyn Embedder, b: &dyn Embedder) -> Result<f32> {
    let probes = probe_sentences();
    let texts: Vec<&str> = probes.iter().map(|s| s.as_str()).collect();
    let (va, vb) = (a.embed(&texts)?, b.embed(&texts)?);
    let dim = a.info().dim;
    Ok(va
        .chunks_exact(dim)
        .zip(vb.chunks_exact(dim))
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>())
        .fold(f32::INFINITY, f32::min))
}

/// Ids whose static weight is 0: the tokenizer's special tokens ([PAD], [UNK], [CLS], [SEP],
/// [MASK] for MiniLM).
fn special_ids(m: &MiniLm) -> Vec<u32> {
    let Some(tok) = m.tokenizer() else {
        return Vec::new();
    };
    tok.get_added_tokens_decoder().iter().filter(|(_, t)| t.special).map(|(&id, _)| id).collect()
}

/// Runs `[CLS] t [SEP]` through the model for every token id `t < vocab` and returns, per
/// token, the output at the token's own position and the mean of the three outputs (each
/// `vocab × 384`).
fn distill(model: &MiniLm, vocab: usize, progress: &mut dyn FnMut(&str)) -> Result<(Vec<f32>, Vec<f32>)> {
    let (cls, sep) = (101u32, 102u32);
    let seqs: Vec<[u32; 3]> = (0..vocab as u32).map(|t| [cls, t, sep]).collect();
    let d = minilm::DIM;
    let mut own = vec![0f32; vocab * d];
    let mut mean = vec![0f32; vocab * d];
    let started = Instant::now();
    for (b, chunk) in seqs.chunks(DISTILL_BATCH).enumerate() {
        let refs: Vec<&[u32]> = chunk.iter().map(|s| s.as_slice()).collect();
        let (hidden, len) = model.hidden_states(&refs)?;
        for j in 0..chunk.len() {
            let row = b * DISTILL_BATCH + j;
            let h = |pos: usize| &hidden[(j * len + pos) * d..(j * len + pos + 1) * d];
            own[row * d..(row + 1) * d].copy_from_slice(h(1));
            let dst = &mut mean[row * d..(row + 1) * d];
            for p in 0..3 {
                dst.iter_mut().zip(h(p)).for_each(|(m, x)| *m += x / 3.0);
            }
        }
        if b % 10 == 9 {
            let done = ((b + 1) * DISTILL_BATCH).min(vocab);
            progress(&format!("  {done}/{vocab} tokens ({:.0} s)", started.elapsed().as_secs_f32()));
        }
    }
    Ok((own, mean))
}

/// Centres `data` (`n × d`), computes its covariance and projects onto the top `k` eigenvectors
/// (largest eigenvalue first, each eigenvector's sign fixed so its largest component is
/// positive, for reproducibility). Returns `n × k`.
fn pca(data: &[f32], d: usize, k: usize) -> Result<Vec<f32>> {
    let n = data.len() / d;
    let mut mean = vec![0f64; d];
    for row in data.chunks_exact(d) {
        mean.iter_mut().zip(row).for_each(|(m, &x)| *m += x as f64);
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let centred: Vec<f32> = data
        .chunks_exact(d)
        .flat_map(|row| row.iter().zip(&mean).map(|(&x, &m)| (x as f64 - m) as f32))
        .collect();
    let cov = covariance(&centred, d);
    let (values, vectors) = jacobi_eigen(&cov, d);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    // Projection matrix d × k, columns = eigenvectors (vectors are stored as columns of `vectors`).
    let mut proj = vec![0f32; d * k];
    for (c, &e) in order.iter().take(k).enumerate() {
        let col: Vec<f64> = (0..d).map(|r| vectors[r * d + e]).collect();
        let big = col.iter().copied().fold(0f64, |m, x| if x.abs() > m.abs() { x } else { m });
        let sign = if big < 0.0 { -1.0 } else { 1.0 };
        for r in 0..d {
            proj[r * k + c] = (col[r] * sign) as f32;
        }
    }
    Ok(project(&centred, d, &proj, k))
}

/// `xᵀx / n` of the `n × d` rows `x`, summed in f64 (each row's outer product, upper triangle,
/// mirrored at the end).
fn covariance(x: &[f32], d: usize) -> Vec<f64> {
    let n = x.len() / d;
    let add_rows = |rows: &[f32]| -> Vec<f64> {
        let mut c = vec![0f64; d * d];
        for row in rows.chunks_exact(d) {
            let row: Vec<f64> = row.iter().map(|&v| v as f64).collect();
            for i in 0..d {
                let xi = row[i];
                c[i * d + i..(i + 1) * d].iter_mut().zip(&row[i..]).for_each(|(c, &xj)| *c += xi * xj);
            }
        }
        c
    };
    let sum = |mut a: Vec<f64>, b: Vec<f64>| {
        a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
        a
    };
    // Fixed blocks of rows (not one per thread), so the sum's order does not depend on the pool.
    #[cfg(feature = "parallel")]
    let mut c =
        x.par_chunks(1024 * d).map(add_rows).collect::<Vec<_>>().into_iter().fold(vec![0f64; d * d], sum);
    #[cfg(not(feature = "parallel"))]
    let mut c = x.chunks(1024 * d).map(add_rows).fold(vec![0f64; d * d], sum);
    for i in 0..d {
        for j in i..d {
            c[i * d + j] /= n as f64;
            c[j * d + i] = c[i * d + j];
        }
    }
    c
}

/// `x · proj` (`n × d` times `d × k`), each output summed in f64.
fn project(x: &[f32], d: usize, proj: &[f32], k: usize) -> Vec<f32> {
    let row = |(src, dst): (&[f32], &mut [f32])| {
        let mut acc = vec![0f64; k];
        for (r, &v) in src.iter().enumerate() {
            let v = v as f64;
            acc.iter_mut().zip(&proj[r * k..(r + 1) * k]).for_each(|(a, &p)| *a += v * p as f64);
        }
        dst.iter_mut().zip(acc).for_each(|(o, a)| *o = a as f32);
    };
    let mut out = vec![0f32; x.len() / d * k];
    #[cfg(feature = "parallel")]
    x.par_chunks_exact(d).zip(out.par_chunks_exact_mut(k)).for_each(row);
    #[cfg(not(feature = "parallel"))]
    x.chunks_exact(d).zip(out.chunks_exact_mut(k)).for_each(row);
    out
}

/// Eigen-decomposition of a symmetric `n × n` matrix (row-major) by cyclic Jacobi rotations.
/// Returns the eigenvalues and the eigenvectors as the columns of a row-major `n × n` matrix.
pub(crate) fn jacobi_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0f64; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    let total: f64 = a.iter().map(|x| x * x).sum();
    for _sweep in 0..50 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j] * a[i * n + j])
            .sum();
        if off <= total * 1e-22 || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let (app, aqq) = (a[p * n + p], a[q * n + q]);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A' = Jᵀ A J, touching rows and columns p and q.
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// SIF weights `a / (a + p(t))`, with `p` from `counts` (add-one smoothed) or uniform `1/V` when
/// `counts` is empty; `special` ids get 0.
fn sif_weights(counts: &[u64], vocab: usize, special: Vec<u32>) -> Vec<f32> {
    let a = SIF_A as f64;
    let mut w: Vec<f32> = if counts.is_empty() {
        vec![(a / (a + 1.0 / vocab as f64)) as f32; vocab]
    } else {
        let total: f64 = counts.iter().map(|&c| c as f64).sum::<f64>() + vocab as f64;
        counts.iter().map(|&c| (a / (a + (c as f64 + 1.0) / total)) as f32).collect()
    };
    for id in special {
        if let Some(x) = w.get_mut(id as usize) {
            *x = 0.0;
        }
    }
    w
}

/// Counts token ids over the corpus directory. Returns per-id counts and the number of files read.
fn count_corpus(dir: &Path, tok: &tokenizers::Tokenizer, vocab: usize) -> Result<(Vec<u64>, usize)> {
    if !dir.is_dir() {
        return Err(Error::invalid("corpus", format!("{} is not a directory", dir.display())));
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref(),
                Some("html" | "htm" | "md" | "markdown" | "txt")
            )
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::invalid(
            "corpus",
            format!("{} holds no .html, .htm, .md, .markdown or .txt files", dir.display()),
        ));
    }
    let stride = files.len().div_ceil(CORPUS_MAX_FILES);
    let picked: Vec<&PathBuf> = files.iter().step_by(stride).collect();
    // Read in order until the byte budget is spent (deterministic), then tokenise in parallel.
    let mut texts = Vec::new();
    let mut bytes = 0usize;
    for p in picked {
        if bytes >= CORPUS_MAX_BYTES {
            break;
        }
        let raw = std::fs::read(p).map_err(|e| Error::io(p, e))?;
        let raw = String::from_utf8_lossy(&raw);
        let is_html = matches!(p.extension().and_then(|e| e.to_str()), Some("html" | "htm"));
        let text = if is_html { strip_html(&raw) } else { raw.into_owned() };
        bytes += text.len();
        texts.push(text);
    }
    let n_files = texts.len();
    let count = |text: &String| -> Vec<u64> {
        let mut c = vec![0u64; vocab];
        for piece in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Ok(enc) = tok.encode_fast(piece, false) {
                for &id in enc.get_ids() {
                    if let Some(x) = c.get_mut(id as usize) {
                        *x += 1;
                    }
                }
            }
        }
        c
    };
    let add = |mut a: Vec<u64>, b: Vec<u64>| {
        a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        a
    };
    #[cfg(feature = "parallel")]
    let counts = texts.par_iter().map(count).reduce(|| vec![0u64; vocab], add);
    #[cfg(not(feature = "parallel"))]
    let counts = texts.iter().map(count).fold(vec![0u64; vocab], add);
    Ok((counts, n_files))
}

/// Crude HTML-to-text: drops `<script>`/`<style>` bodies and all tags, decodes a few entities,
/// keeps line structure at block tags.
fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    let b = html.as_bytes();
    while i < b.len() {
        if b[i] == b'<' {
            let rest = &lower[i..];
            let skip_to = if rest.starts_with("<script") {
                rest.find("</script>").map(|e| e + 9)
            } else if rest.starts_with("<style") {
                rest.find("</style>").map(|e| e + 8)
            } else {
                rest.find('>').map(|e| e + 1)
            };
            let end = skip_to.unwrap_or(rest.len());
            let tag = &rest.as_bytes()[..end.min(4)];
            let block: [&[u8]; 11] =
                [b"<p", b"<br", b"<li", b"<h", b"<div", b"<pre", b"<tr", b"</p", b"</d", b"</h", b"</l"];
            if block.iter().any(|t| tag.starts_with(t)) {
                out.push('\n');
            } else {
                out.push(' ');
            }
            i += end;
            continue;
        }
        let next = html[i..].find('<').map(|e| i + e).unwrap_or(b.len());
        out.push_str(&html[i..next]);
        i = next;
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Experiment: which int8 layout keeps the int8 model closest to f32. Run with
    /// `cargo test --lib prepare::tests::quantisation_layouts -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn quantisation_layouts() {
        let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache/minilm-src/model");
        let st = std::fs::read(src.join("model.safetensors")).unwrap();
        let tok = std::fs::read(src.join("tokenizer.json")).unwrap();
        let cfg = std::fs::read(src.join("config.json")).unwrap();
        let reference = MiniLm::from_safetensors(&st, &tok, &cfg).unwrap();
        type Layout = Box<dyn Fn(&str, &[usize]) -> usize>;
        let emb_then = |emb: usize, lin: usize| -> Layout {
            Box::new(move |n: &str, s: &[usize]| match s {
                [_, cols] if n.starts_with("embeddings") => emb.min(*cols),
                [_, cols] => lin.min(*cols),
                _ => 0,
            })
        };
        let layouts: Vec<(&str, Layout)> = vec![
            ("all rows", emb_then(usize::MAX, usize::MAX)),
            ("all groups of 128", emb_then(128, 128)),
            ("all groups of 96", emb_then(96, 96)),
            ("all groups of 64", emb_then(64, 64)),
            ("all groups of 32", emb_then(32, 32)),
            ("emb groups 64, linear rows", emb_then(64, usize::MAX)),
            ("emb rows, linear groups 64", emb_then(usize::MAX, 64)),
        ];
        let probes = probe_sentences();
        let texts: Vec<&str> = probes.iter().map(|s| s.as_str()).collect();
        let va = reference.embed(&texts).unwrap();
        for (label, f) in &layouts {
            let bytes = quantize_safetensors_with(&st, "x", f.as_ref()).unwrap();
            let m = MiniLm::from_bytes(&bytes, &tok, &cfg).unwrap();
            let vb = m.embed(&texts).unwrap();
            let cos: Vec<f32> = va
                .chunks(384)
                .zip(vb.chunks(384))
                .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum())
                .collect();
            let (imin, min) =
                cos.iter().enumerate().fold((0, 1f32), |a, (i, &c)| if c < a.1 { (i, c) } else { a });
            let mean = cos.iter().sum::<f32>() / cos.len() as f32;
            eprintln!("{label:32} {:>9} bytes  min {min:.5} (probe {imin})  mean {mean:.5}", bytes.len());
        }
    }

    /// Query/passage pairs for the static pooling experiment (written for this test).
    const PAIRS: [(&str, &str); 24] = [
        ("how do I add a dependency", "Add crates to the [dependencies] table of Cargo.toml"),
        (
            "what is ownership",
            "Each value has a single owner; when the owner goes out of scope the value is dropped",
        ),
        (
            "how to read a file into a string",
            "std::fs::read_to_string opens a file and returns its contents as a String",
        ),
        ("run tests in parallel", "The test harness runs tests on several threads unless told to use one"),
        ("weather forecast for tomorrow", "Expect rain in the morning and clear skies in the afternoon"),
        ("how to bake bread", "Knead the dough, let it rise, then put it in a hot oven"),
        ("convert a string to an integer", "Use parse::<i32>() on the string and handle the error"),
        (
            "what is a closure",
            "Closures are anonymous functions that capture variables from their environment",
        ),
        ("install the toolchain", "rustup installs and updates compilers for each platform"),
        ("sort a vector", "Call sort or sort_by on a mutable slice to order its elements"),
        ("football match results", "The home team won two goals to one after extra time"),
        (
            "handle errors without panicking",
            "Return Result and propagate failures with the question mark operator",
        ),
        ("spawn a thread", "thread::spawn starts a new OS thread running the given closure"),
        ("what is a trait", "Traits define shared behaviour that types can implement"),
        ("price of a train ticket", "A return ticket to the coast costs forty euros"),
        ("format a number with two decimals", "Use {:.2} in format! to print two digits after the point"),
        ("iterate over a hash map", "for (key, value) in &map visits every entry"),
        ("measure elapsed time", "Instant::now() and elapsed() give the duration of an operation"),
        ("symptoms of the flu", "Fever, cough and muscle aches are common signs of influenza"),
        ("reverse a string", "Collect the chars in reverse order with .chars().rev().collect()"),
        ("compile to webassembly", "Add the wasm32-unknown-unknown target and build with cargo"),
        ("how do plants make food", "Photosynthesis turns sunlight, water and carbon dioxide into sugar"),
        ("define a struct", "A struct groups named fields into one type"),
        ("guitar chords for beginners", "Start with the open chords G, C, D and E minor"),
    ];

    /// Experiment: which distilled row (own token output or mean of the 3 outputs) retrieves
    /// better. Run with `cargo test --lib prepare::tests::static_pooling -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn static_pooling() {
        let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache/minilm-src/model");
        let st = std::fs::read(src.join("model.safetensors")).unwrap();
        let tok = std::fs::read(src.join("tokenizer.json")).unwrap();
        let cfg = std::fs::read(src.join("config.json")).unwrap();
        let reference = MiniLm::from_safetensors(&st, &tok, &cfg).unwrap();
        let vocab = reference.tokenizer().unwrap().get_vocab_size(true);
        let (own, mean) = distill(&reference, vocab, &mut |_| {}).unwrap();
        let corpus = std::env::var_os("DOCENT_CORPUS").map(PathBuf::from);
        let counts = match &corpus {
            Some(d) => count_corpus(d, reference.tokenizer().unwrap(), vocab).unwrap().0,
            None => Vec::new(),
        };
        let weights = sif_weights(&counts, vocab, special_ids(&reference));
        let queries: Vec<&str> = PAIRS.iter().map(|p| p.0).collect();
        let docs: Vec<&str> = PAIRS.iter().map(|p| p.1).collect();
        let eval = |e: &dyn Embedder| {
            let dim = e.info().dim;
            let (q, d) = (e.embed(&queries).unwrap(), e.embed(&docs).unwrap());
            let mut mrr = 0.0;
            let mut r1 = 0;
            for i in 0..queries.len() {
                let s = |j: usize| -> f32 {
                    q[i * dim..(i + 1) * dim].iter().zip(&d[j * dim..(j + 1) * dim]).map(|(a, b)| a * b).sum()
                };
                let rank = (0..docs.len()).filter(|&j| s(j) > s(i)).count();
                mrr += 1.0 / (rank + 1) as f32;
                r1 += (rank == 0) as usize;
            }
            (r1, mrr / queries.len() as f32)
        };
        eprintln!("minilm f32: {:?}", eval(&reference));
        for (label, rows) in [("own token", &own), ("mean of 3", &mean)] {
            for k in [128, 256] {
                let t = pca(rows, minilm::DIM, k).unwrap();
                let bytes = encode_table(&t, &weights, k).unwrap();
                let table = crate::embed::static_table::StaticTable::from_bytes(&bytes, &tok).unwrap();
                eprintln!(
                    "{label} dim {k} (corpus {:?}): recall@1, MRR {:?}",
                    corpus.is_some(),
                    eval(&table)
                );
            }
        }
    }

    #[test]
    fn jacobi_recovers_known_eigenvalues() {
        // [[2,1],[1,2]] has eigenvalues 1 and 3.
        let (vals, vecs) = jacobi_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        let mut s = vals.clone();
        s.sort_by(f64::total_cmp);
        assert!((s[0] - 1.0).abs() < 1e-12 && (s[1] - 3.0).abs() < 1e-12, "{vals:?}");
        // A v = λ v for each column.
        for e in 0..2 {
            let (x, y) = (vecs[e], vecs[2 + e]);
            assert!((2.0 * x + y - vals[e] * x).abs() < 1e-12);
        }
    }

    #[test]
    fn strip_html_drops_scripts_and_tags() {
        let t = strip_html("<html><script>var x = 1;</script><p>Hello &amp; <b>bye</b></p></html>");
        assert!(t.contains("Hello & ") && t.contains("bye") && !t.contains("var x"), "{t:?}");
    }
}
