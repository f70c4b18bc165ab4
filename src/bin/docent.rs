//! The `docent` command-line tool: index a site at build time, search it, assemble grounded
//! prompts (or stream answers), evaluate retrieval, and prepare model files.
//!
//! Every error ends the process with exit code 1 and one line on stderr: `docent: <message>`.
//!
//! Native only: on wasm32 (where `cargo test --target wasm32-unknown-unknown` still builds every
//! binary of the package) this crate is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use docent::embed::{Embedder, EmbedderInfo, EmbedderKind};
use docent::engine::{Docent, Options, SearchResult};
use docent::ingest::Ingested;
use docent::prompt::PromptOptions;
use docent::retrieve::{Gate, Mode, RetrieveOptions};
use docent::{Error, Result};
use serde::{Deserialize, Serialize};

/// The self-contained site folder (index, model files, web runtime).
#[path = "docent/site.rs"]
mod site;

#[derive(Parser)]
#[command(
    name = "docent",
    version,
    about = "Retrieval-augmented generation over your documents: index at build time, ask in the browser or here."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Index HTML, Markdown and text files (directories are walked recursively) into DIR, a
    /// self-contained folder for a static site: manifest.json, index.bin, model/ (the files the
    /// browser embeds queries with) and the web runtime (docent.js, the wasm…). Run again, it
    /// re-embeds only new and changed pages.
    Index {
        /// Files or directories to index.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The output directory (created; may lie inside an indexed directory, it is not
        /// indexed). An index already there is reused for unchanged pages.
        #[arg(long)]
        out: PathBuf,
        /// minilm (best quality), static (fast, pairs with BM25) or hashing (no model; tests).
        #[arg(long, default_value = "minilm")]
        embedder: String,
        /// Directory with the prepared model files (default: $DOCENT_MODEL_DIR, ./models, or
        /// `models/` beside the binary).
        #[arg(long)]
        model_dir: Option<PathBuf>,
        /// Prefix for every document url, e.g. `https://example.org/docs/`.
        #[arg(long, default_value = "")]
        base_url: String,
        /// Maximum tokens per chunk (16..=2048).
        #[arg(long, default_value_t = 200)]
        chunk_tokens: usize,
        /// Tokens of overlap between consecutive chunks of a section.
        #[arg(long, default_value_t = 32)]
        overlap: usize,
        /// Folder with the browser runtime to copy into DIR: docent.js, docent_wasm.js,
        /// docent_wasm_bg.wasm and the other .js modules but cli.js (default: $DOCENT_ASSETS,
        /// else ./pkg when it holds docent_wasm_bg.wasm, else <binary's folder>/../share/docent).
        #[arg(long)]
        assets: Option<PathBuf>,
        /// Print the summary as one JSON object (counts, files, timings) instead of a sentence.
        #[arg(long)]
        json: bool,
    },
    /// Search an index: print the best chunks for QUERY (or for every line of --queries).
    Search {
        /// The index directory written by `docent index`.
        dir: PathBuf,
        /// The query.
        query: Option<String>,
        /// JSON lines with a "q" field; prints one JSON line per query.
        #[arg(long)]
        queries: Option<PathBuf>,
        /// Number of hits.
        #[arg(long, default_value_t = 5)]
        k: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// hybrid, dense or lexical.
        #[arg(long, default_value = "hybrid")]
        mode: String,
        /// Model directory (see `docent index --help`).
        #[arg(long)]
        model_dir: Option<PathBuf>,
    },
    /// Retrieve sources for QUESTION and print the grounded prompt, or stream an answer from an
    /// LLM with --provider/--endpoint/--model (API key from $DOCENT_API_KEY).
    Ask {
        /// The index directory written by `docent index`.
        dir: PathBuf,
        /// The question.
        question: String,
        /// Sources to retrieve (1..=50).
        #[arg(long, default_value_t = 5)]
        k: usize,
        /// Token budget of the whole prompt.
        #[arg(long, default_value_t = 2000)]
        budget: usize,
        /// Print the prompt (or the answer and sources) as JSON.
        #[arg(long)]
        json: bool,
        /// openai (any OpenAI-compatible chat completions endpoint), anthropic, or offline (no
        /// LLM: the sentences of the sources that answer the question, as the browser's offline
        /// answer gives them).
        #[arg(long, ignore_case = true)]
        provider: Option<String>,
        /// Base URL of the LLM API, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1.
        #[arg(long, required_if_eq_any = [("provider", "openai"), ("provider", "anthropic")])]
        endpoint: Option<String>,
        /// Model name at the provider.
        #[arg(long, required_if_eq_any = [("provider", "openai"), ("provider", "anthropic")])]
        model: Option<String>,
        /// Count the prompt budget with this tokenizer.json (the target LLM's) instead of the
        /// embedder's.
        #[arg(long)]
        tokenizer: Option<PathBuf>,
        /// Model directory (see `docent index --help`).
        #[arg(long)]
        model_dir: Option<PathBuf>,
    },
    /// Evaluate retrieval on JSON lines {"q": …, "relevant": [url or url-prefix, …]}: recall@1/5/10,
    /// MRR@10 and the relevance gate's accuracy, for lexical, dense and hybrid retrieval.
    Eval {
        /// The index directory.
        dir: PathBuf,
        /// The questions file.
        questions: PathBuf,
        /// Hits considered per query (recall@k is reported for 1, 5 and this).
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also search gate thresholds that keep ≥ 95% of answerable questions and flag the most
        /// unanswerable ones, and print them (use a development set, not your test set).
        #[arg(long)]
        calibrate: bool,
        /// With --calibrate: the fraction of answerable questions the gate must keep (0..=1).
        #[arg(long, default_value_t = 0.95)]
        keep: f64,
        /// Model directory (see `docent index --help`).
        #[arg(long)]
        model_dir: Option<PathBuf>,
    },
    /// Prepare model files from the original all-MiniLM-L6-v2 directory (model.safetensors,
    /// tokenizer.json, config.json): int8 MiniLM and the distilled static table.
    Model {
        /// The original model directory.
        #[arg(long)]
        from: PathBuf,
        /// Where to write the prepared files.
        #[arg(long)]
        out: PathBuf,
        /// Text corpus (directory of .html/.md/.txt) for the static table's token frequencies.
        #[arg(long)]
        corpus: Option<PathBuf>,
    },
}

/// `println!` that ends the process quietly when stdout is closed (e.g. piped into `head`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("docent: stdout: {e}");
            std::process::exit(1);
        }
    }};
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Index { paths, out, embedder, model_dir, base_url, chunk_tokens, overlap, assets, json } => {
            cmd_index(&IndexArgs {
                paths: &paths,
                out: &out,
                embedder: &embedder,
                model_dir: model_dir.as_deref(),
                base_url: &base_url,
                chunk_tokens,
                overlap,
                assets: assets.as_deref(),
                json,
            })
        }
        Command::Search { dir, query, queries, k, json, mode, model_dir } => {
            cmd_search(&dir, query.as_deref(), queries.as_deref(), k, json, &mode, model_dir.as_deref())
        }
        Command::Ask { dir, question, k, budget, json, provider, endpoint, model, tokenizer, model_dir } => {
            let offline = provider.as_deref().is_some_and(|p| p.trim().eq_ignore_ascii_case("offline"));
            let llm = provider.as_deref().filter(|_| !offline).zip(endpoint.as_deref()).zip(model.as_deref());
            match provider.as_deref() {
                // A provider spelled so that clap did not ask for --endpoint and --model.
                Some(p) if !offline && llm.is_none() => Err(Error::invalid(
                    "provider",
                    format!("'{}' needs --endpoint and --model (only offline needs neither)", p.trim()),
                )),
                _ => cmd_ask(
                    &dir,
                    &question,
                    k,
                    budget,
                    json,
                    offline,
                    llm,
                    tokenizer.as_deref(),
                    model_dir.as_deref(),
                ),
            }
        }
        Command::Eval { dir, questions, k, json, calibrate, keep, model_dir } => {
            cmd_eval(&dir, &questions, k, json, calibrate.then_some(keep), model_dir.as_deref())
        }
        Command::Model { from, out, corpus } => cmd_model(&from, &out, corpus),
    };
    if let Err(e) = result {
        eprintln!("docent: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Model and index loading

/// The model directory: the flag, else $DOCENT_MODEL_DIR, else ./models, else `models/` beside
/// the binary.
fn model_dir(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = flag {
        return Ok(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os("DOCENT_MODEL_DIR") {
        return Ok(PathBuf::from(d));
    }
    let mut tried = vec![PathBuf::from("models")];
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        tried.push(exe_dir.join("models"));
    }
    for d in &tried {
        if d.join("model.json").is_file() {
            return Ok(d.clone());
        }
    }
    Err(Error::model(
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        "no prepared model files found (looked for model.json); run ./build.sh setup, or pass --model-dir, or set DOCENT_MODEL_DIR",
    ))
}

fn load_embedder(kind: EmbedderKind, dim: usize, flag: Option<&Path>) -> Result<Arc<dyn Embedder>> {
    let dir = if kind.model_files().is_empty() { PathBuf::new() } else { model_dir(flag)? };
    embedder_at(kind, dim, &dir)
}

/// The embedder of `kind`, reading its model files from `dir` (unused for `hashing`).
fn embedder_at(kind: EmbedderKind, dim: usize, dir: &Path) -> Result<Arc<dyn Embedder>> {
    Ok(match kind {
        EmbedderKind::Hashing => Arc::new(docent::embed::hashing::Hashing::new(dim)?),
        EmbedderKind::MiniLm => Arc::new(docent::embed::minilm::MiniLm::load(dir)?),
        EmbedderKind::Static => Arc::new(docent::embed::static_table::StaticTable::load(dir)?),
        EmbedderKind::Vectors => {
            return Err(Error::invalid(
                "embedder",
                "this index was built from caller-supplied vectors; the CLI cannot embed queries for it",
            ))
        }
    })
}

/// What `docent index` writes next to `index.bin`. pkg/docent.js (`loadDocent`) and pkg/cli.js
/// read and write the same fields.
#[derive(Serialize, Deserialize)]
struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    format: String,
    /// The index file's format version.
    version: u32,
    /// The index file's name inside the folder.
    index: String,
    /// Its size.
    bytes: u64,
    /// xxh3-64 of its bytes, 16 hex digits (empty in manifests of older pkg/cli.js versions).
    xxh3: String,
    /// The embedder that built it (the browser loads its model files from `model/`).
    embedder: EmbedderInfo,
    /// Live documents.
    documents: usize,
    /// Their chunks.
    chunks: usize,
    /// `flat` or `hnsw`.
    dense: String,
    /// `docent <version>`.
    created_by: String,
    /// Every file of the folder but manifest.json (index, model files, runtime), with sizes and
    /// xxh3; absent in manifests of older versions.
    #[serde(default)]
    files: Vec<site::FileEntry>,
}

const MANIFEST_FORMAT: &str = "docent-index";

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

fn load_index(dir: &Path, flag: Option<&Path>) -> Result<Docent> {
    let mpath = dir.join("manifest.json");
    let m: Manifest = serde_json::from_slice(&read_file(&mpath)?)
        .map_err(|e| Error::format(mpath.display().to_string(), format!("not a docent manifest: {e}")))?;
    if m.format != MANIFEST_FORMAT {
        return Err(Error::format(
            mpath.display().to_string(),
            format!("field 'format' is {:?}, expected {MANIFEST_FORMAT:?}", m.format),
        ));
    }
    let ipath = dir.join(&m.index);
    let bytes = read_file(&ipath)?;
    let what = ipath.display().to_string();
    let info = Docent::embedder_of(&bytes, &what)?;
    let embedder = load_embedder(info.kind, info.dim, flag)?;
    Docent::from_bytes(&bytes, embedder, &what)
}

// ---------------------------------------------------------------------------------------------
// Progress

/// Prints progress lines on stderr: in place on a terminal, at most every 2 s otherwise.
struct Meter {
    tty: bool,
    last: Instant,
    every: Duration,
}

impl Meter {
    fn new() -> Self {
        let tty = std::io::stderr().is_terminal();
        Meter { tty, last: Instant::now(), every: Duration::from_millis(if tty { 100 } else { 2000 }) }
    }
    fn tick(&mut self, line: impl FnOnce() -> String, force: bool) {
        if !force && self.last.elapsed() < self.every {
            return;
        }
        self.last = Instant::now();
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{}", line());
            if force {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{}", line());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Commands

/// The options of `docent index`.
struct IndexArgs<'a> {
    paths: &'a [PathBuf],
    out: &'a Path,
    embedder: &'a str,
    model_dir: Option<&'a Path>,
    base_url: &'a str,
    chunk_tokens: usize,
    overlap: usize,
    assets: Option<&'a Path>,
    json: bool,
}

/// Seconds spent in each stage of `docent index`.
#[derive(Serialize, Default)]
struct Timings {
    /// Walking, reading, parsing, chunking (and loading the previous index).
    read: f64,
    /// Embedding the chunks of new and changed pages.
    embed: f64,
    /// Building the dense and BM25 indexes.
    index: f64,
    /// Serialising and writing the folder (index, model files, runtime, manifest).
    write: f64,
    /// Everything, from start to summary (model loading included).
    total: f64,
}

/// The summary `docent index --json` prints.
#[derive(Serialize)]
struct IndexSummary {
    documents: usize,
    reused: usize,
    embedded: usize,
    removed: usize,
    chunks: usize,
    reused_chunks: usize,
    embedded_chunks: usize,
    /// Why a previous index in the output folder could not be reused (then everything was
    /// embedded), or null.
    rebuild: Option<String>,
    skipped: std::collections::BTreeMap<String, usize>,
    unsupported: usize,
    duplicates: usize,
    empty: usize,
    /// Directories not walked because they are the output folder.
    excluded: usize,
    embedder: EmbedderInfo,
    dense: String,
    index_bytes: u64,
    /// The browser runtime (docent.js, wasm…): `copied` (from the runtime folder), `kept` (none
    /// found; the copy an earlier run left is kept) or `none`.
    runtime: &'static str,
    /// Every file of the folder but manifest.json.
    files: Vec<site::FileEntry>,
    /// Files written because they were new or changed (manifest.json included).
    written: Vec<String>,
    /// Files an earlier run wrote that are no longer needed, deleted.
    deleted: Vec<String>,
    seconds: Timings,
}

fn cmd_index(a: &IndexArgs<'_>) -> Result<()> {
    let started = Instant::now();
    let kind = EmbedderKind::from_name(a.embedder)?;
    let mut options = Options::default();
    options.chunk.max_tokens = a.chunk_tokens;
    options.chunk.overlap_tokens = a.overlap;
    options.chunk.validate()?;
    // Everything that can be wrong with the inputs is checked before the long work.
    let model_names = kind.model_files();
    let model = if model_names.is_empty() {
        None
    } else {
        let dir = model_dir(a.model_dir)?;
        site::check_model_files(&dir, model_names)?;
        Some(dir)
    };
    let assets = site::find_assets(a.assets)?;
    let embedder = embedder_at(kind, 256, model.as_deref().unwrap_or(Path::new("")))?;
    let mut meter = Meter::new();
    let mut t = Timings::default();
    let read_start = Instant::now();
    let mut files = 0usize;
    let walk_opts = docent::ingest::walk::WalkOptions {
        base_url: a.base_url.to_string(),
        exclude: vec![a.out.to_path_buf()],
    };
    let report = docent::ingest::walk::walk(a.paths, &walk_opts, &mut |_p| {
        files += 1;
        meter.tick(|| format!("reading files: {files}"), false);
    })?;
    for w in &report.warnings {
        eprintln!("docent: warning: {w}");
    }
    let mut engine = Docent::new(embedder, options)?;
    let previous = previous_manifest(a.out);
    if let Some((bytes, what)) = previous_index(a.out, previous.as_ref()) {
        engine.reuse_from_bytes(&bytes, &what)?;
        if let Some(why) = &engine.reuse_report().rebuild {
            eprintln!("docent: note: re-embedding every page: {why}");
        }
    }
    let mut skipped: std::collections::BTreeMap<String, usize> = Default::default();
    let mut empty = 0usize;
    for f in report.files {
        match f.outcome {
            Ingested::Skipped { reason } => *skipped.entry(reason).or_default() += 1,
            Ingested::Document(doc) => match engine.add_document(doc) {
                Ok(_) => {}
                Err(Error::Document { url, reason }) if reason.starts_with("no text") => {
                    empty += 1;
                    eprintln!("docent: warning: {url}: no text to index, skipped");
                }
                Err(e) => return Err(e),
            },
        }
    }
    let total_chunks = engine.stats().chunks;
    if total_chunks == 0 {
        return Err(Error::invalid(
            "paths",
            format!(
                "no indexable text found in {} ({} unsupported files, {} skipped, {} empty)",
                a.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
                report.unsupported,
                skipped.values().sum::<usize>(),
                empty
            ),
        ));
    }
    t.read = read_start.elapsed().as_secs_f64();
    let embed_start = Instant::now();
    let mut embed_end: Option<Instant> = None;
    engine.build(&mut |p| {
        if p.stage != "embed" && embed_end.is_none() {
            embed_end = Some(Instant::now());
        }
        let rate = p.done as f64 / embed_start.elapsed().as_secs_f64().max(1e-9);
        meter.tick(
            || match p.stage {
                "embed" => format!("embedding chunks: {}/{} ({rate:.1} chunks/s)", p.done, p.total),
                s => format!("building {s} index over {} chunks", p.total),
            },
            p.stage == "embed" && p.done == p.total && p.total > 0,
        );
    })?;
    let embed_end = embed_end.unwrap_or_else(Instant::now);
    t.embed = embed_end.duration_since(embed_start).as_secs_f64();
    t.index = embed_end.elapsed().as_secs_f64();
    let write_start = Instant::now();
    let bytes = engine.to_bytes()?;
    std::fs::create_dir_all(a.out).map_err(|e| Error::io(a.out, e))?;
    let stats = engine.stats();
    let model_files = model.as_deref().map(|d| (d, model_names));
    let before = previous.as_ref().map(|m| m.files.as_slice()).unwrap_or_default();
    let published = site::publish(a.out, (INDEX_FILE, &bytes), model_files, assets.as_ref(), before)?;
    // The copied weights (the first model file) must be the ones that embedded the pages.
    if let (Some(dir), Some(weights)) = (&model, model_names.first()) {
        let rel = format!("model/{weights}");
        if published.files.iter().any(|f| f.path == rel && f.xxh3 != stats.embedder.fingerprint) {
            return Err(Error::model(
                dir.join(weights).display().to_string(),
                "changed while docent was indexing; run docent index again",
            ));
        }
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        version: docent::format::FORMAT_VERSION,
        index: INDEX_FILE.into(),
        bytes: bytes.len() as u64,
        xxh3: docent::embed::fingerprint(&bytes),
        embedder: stats.embedder.clone(),
        documents: stats.documents,
        chunks: stats.chunks,
        dense: stats.dense_kind.clone(),
        created_by: format!("docent {}", env!("CARGO_PKG_VERSION")),
        files: published.files.clone(),
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::format("manifest", e.to_string()))?;
    let mut written = published.written;
    if site::write_if_changed(&a.out.join("manifest.json"), &json)? {
        written.push("manifest.json".into());
    }
    let runtime = match (&assets, published.kept_runtime) {
        (Some(_), _) => "copied",
        (None, true) => "kept",
        (None, false) => "none",
    };
    if assets.is_none() {
        let what = if published.kept_runtime {
            "was not updated (the copy an earlier run left there is kept)"
        } else {
            "was not copied"
        };
        eprintln!(
            "docent: note: the browser runtime (docent.js, docent_wasm.js, {}) {what} in {}: none found in --assets, ${}, ./pkg or <binary's folder>/../share/docent; build it with ./build.sh wasm (writes pkg/) and pass --assets pkg",
            site::WASM_FILE,
            a.out.display(),
            site::ASSETS_ENV
        );
    }
    t.write = write_start.elapsed().as_secs_f64();
    t.total = started.elapsed().as_secs_f64();
    let r = engine.reuse_report().clone();
    let summary = IndexSummary {
        documents: stats.documents,
        reused: r.reused,
        embedded: r.embedded,
        removed: r.removed,
        chunks: stats.chunks,
        reused_chunks: r.reused_chunks,
        embedded_chunks: r.embedded_chunks,
        rebuild: r.rebuild,
        skipped,
        unsupported: report.unsupported,
        duplicates: report.duplicates,
        empty,
        excluded: report.excluded,
        embedder: stats.embedder.clone(),
        dense: stats.dense_kind.clone(),
        index_bytes: bytes.len() as u64,
        runtime,
        files: published.files,
        written,
        deleted: published.removed,
        seconds: t,
    };
    if a.json {
        outln!("{}", serde_json::to_string(&summary).unwrap_or_default());
        return Ok(());
    }
    let s = &summary;
    let skipped_s = if s.skipped.is_empty() {
        "0 skipped".to_string()
    } else {
        format!(
            "{} skipped ({})",
            s.skipped.values().sum::<usize>(),
            s.skipped.iter().map(|(r, n)| format!("{n} {r}")).collect::<Vec<_>>().join(", ")
        )
    };
    outln!(
        "indexed {} documents ({} reused, {} embedded, {} removed), {} chunks into {}: {skipped_s}, {} unsupported, {} duplicates, {} empty; embedder {} ({}-d), dense {}; {} index; {} files, {} written; embed {:.2} s of {:.2} s total",
        s.documents,
        s.reused,
        s.embedded,
        s.removed,
        s.chunks,
        a.out.display(),
        s.unsupported,
        s.duplicates,
        s.empty,
        s.embedder.kind.name(),
        s.embedder.dim,
        s.dense,
        human_bytes(s.index_bytes),
        s.files.len() + 1,
        s.written.len(),
        s.seconds.embed,
        s.seconds.total,
    );
    Ok(())
}

/// A byte count for people: `850 B`, `36 kB`, `1.4 MB` (decimal units).
fn human_bytes(n: u64) -> String {
    match n {
        0..=999 => format!("{n} B"),
        1_000..=999_999 => format!("{:.0} kB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

/// The index file's name inside the output folder.
const INDEX_FILE: &str = "index.bin";

/// The manifest a previous run left in `out`, when there is a readable one.
fn previous_manifest(out: &Path) -> Option<Manifest> {
    let bytes = std::fs::read(out.join("manifest.json")).ok()?;
    serde_json::from_slice::<Manifest>(&bytes).ok().filter(|m| m.format == MANIFEST_FORMAT)
}

/// The bytes of the index a previous run left in `out` (and how to name it), if any: the file the
/// manifest names when it is a plain file name, else `index.bin`.
fn previous_index(out: &Path, manifest: Option<&Manifest>) -> Option<(Vec<u8>, String)> {
    let name = manifest
        .map(|m| m.index.as_str())
        .filter(|n| !n.is_empty() && !n.contains(['/', '\\']) && *n != "..")
        .unwrap_or(INDEX_FILE);
    let path = out.join(name);
    let bytes = std::fs::read(&path).ok()?;
    Some((bytes, path.display().to_string()))
}

fn one_line(s: &str, max: usize) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        s
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

fn print_result(r: &SearchResult) {
    outln!(
        "answerable: {} (best dense similarity {:.3}, lexical coverage {:.2})",
        if r.answerable { "yes" } else { "no" },
        r.evidence.dense,
        r.evidence.coverage
    );
    for (i, h) in r.hits.iter().enumerate() {
        outln!("{:>2}. {:.4}  {}", i + 1, h.score, h.url);
        if !h.heading.is_empty() {
            outln!("    {}", h.heading);
        }
        outln!("    {}", one_line(&h.text, 160));
    }
}

#[derive(Serialize)]
struct JsonHit<'a> {
    url: &'a str,
    title: &'a str,
    heading: &'a str,
    score: f32,
    text: &'a str,
    dense: Option<f32>,
    lexical: Option<f32>,
}

#[derive(Serialize)]
struct JsonResult<'a> {
    q: &'a str,
    answerable: bool,
    hits: Vec<JsonHit<'a>>,
}

fn json_result<'a>(q: &'a str, r: &'a SearchResult) -> String {
    let j = JsonResult {
        q,
        answerable: r.answerable,
        hits: r
            .hits
            .iter()
            .map(|h| JsonHit {
                url: &h.url,
                title: &h.title,
                heading: &h.heading,
                score: h.score,
                text: &h.text,
                dense: h.dense,
                lexical: h.lexical,
            })
            .collect(),
    };
    serde_json::to_string(&j).unwrap_or_default()
}

#[derive(Deserialize)]
struct QueryLine {
    q: String,
    #[serde(default)]
    relevant: Option<Vec<String>>,
}

fn read_queries(path: &Path) -> Result<Vec<QueryLine>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let q: QueryLine = serde_json::from_str(&line).map_err(|e| {
            Error::format(
                format!("{}:{}", path.display(), i + 1),
                format!("expected a JSON object with a string field \"q\": {e}"),
            )
        })?;
        out.push(q);
    }
    Ok(out)
}

fn cmd_search(
    dir: &Path,
    query: Option<&str>,
    queries: Option<&Path>,
    k: usize,
    json: bool,
    mode: &str,
    flag: Option<&Path>,
) -> Result<()> {
    let mode = Mode::from_name(mode)?;
    let engine = load_index(dir, flag)?;
    let opts = RetrieveOptions { mode, ..engine.options().retrieve.clone() };
    match (query, queries) {
        (Some(q), None) => {
            let r = engine.search_with(q, k, &opts)?;
            if json {
                outln!("{}", json_result(q, &r));
            } else {
                print_result(&r);
            }
        }
        (None, Some(path)) => {
            let mut out = std::io::stdout().lock();
            for q in read_queries(path)? {
                let r = engine.search_with(&q.q, k, &opts)?;
                writeln!(out, "{}", json_result(&q.q, &r)).map_err(|e| Error::io("stdout", e))?;
            }
        }
        _ => {
            return Err(Error::invalid(
                "arguments",
                "give either a QUERY or --queries FILE, not both or neither",
            ))
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[allow(clippy::too_many_arguments)]
fn cmd_ask(
    dir: &Path,
    question: &str,
    k: usize,
    budget: usize,
    json: bool,
    offline: bool,
    llm: Option<((&str, &str), &str)>,
    tokenizer: Option<&Path>,
    flag: Option<&Path>,
) -> Result<()> {
    let mut engine = load_index(dir, flag)?;
    if let Some(t) = tokenizer {
        engine.set_prompt_counter(docent::tokens::TokenCounter::from_json(&read_file(t)?)?);
    }
    let opts = PromptOptions { k, budget, ..PromptOptions::default() };
    let prompt = engine.assemble(question, &opts)?;
    let Some(((provider, endpoint), model)) = llm else {
        if offline {
            print_offline_answer(&prompt, question, json);
            return Ok(());
        }
        if json {
            outln!("{}", serde_json::to_string_pretty(&prompt).unwrap_or_default());
        } else {
            outln!("=== system ===\n{}\n\n=== user ===\n{}\n", prompt.system, prompt.user);
            outln!(
                "({} tokens, {} sources{})",
                prompt.tokens,
                prompt.sources.len(),
                if prompt.abstained { ", not covered by the documents" } else { "" }
            );
        }
        return Ok(());
    };
    if prompt.abstained {
        print_not_covered(json);
        return Ok(());
    }
    let provider = docent::llm::Provider::from_name(provider).map_err(|_| {
        Error::invalid(
            "provider",
            format!(
                "expected 'openai' (or any OpenAI-compatible server), 'anthropic' or 'offline', found '{}'",
                provider.trim()
            ),
        )
    })?;
    let key = std::env::var("DOCENT_API_KEY").ok().filter(|k| !k.is_empty());
    let req = docent::llm::LlmRequest {
        provider,
        endpoint,
        model,
        api_key: key.as_deref(),
        messages: &prompt.messages,
        max_tokens: 1024,
        temperature: Some(0.2),
        timeout: Duration::from_secs(60),
    };
    let mut stdout = std::io::stdout();
    let completion = docent::llm::stream_answer(&req, &mut |t| {
        if !json {
            let _ = stdout.write_all(t.as_bytes());
            let _ = stdout.flush();
        }
    })?;
    if json {
        outln!(
            "{}",
            serde_json::json!({"answer": completion.text, "complete": completion.complete, "abstained": false, "sources": prompt.sources})
        );
    } else {
        if !completion.complete {
            outln!("\n[incomplete: the stream ended before the answer was finished]");
        }
        outln!("\n\nSources:");
        print_sources(&prompt.sources);
    }
    Ok(())
}

/// What `ask` says when the relevance gate found nothing relevant: saying so is the honest
/// answer, and costs no LLM call.
fn print_not_covered(json: bool) {
    let not_covered = docent::prompt::NOT_COVERED.trim_end_matches('.');
    let msg = format!("{not_covered} (no relevant passage was found).");
    if json {
        outln!("{}", serde_json::json!({"answer": msg, "complete": true, "abstained": true, "sources": []}));
    } else {
        outln!("{msg}");
    }
}

/// `ask --provider offline`: the answer the browser's offline provider gives for this prompt
/// (`docent::answer`, no LLM), then its sources, printed as an LLM's answer is.
fn print_offline_answer(prompt: &docent::prompt::Prompt, question: &str, json: bool) {
    if prompt.abstained {
        print_not_covered(json);
        return;
    }
    let answer = docent::answer::offline_answer_for(prompt, Some(question));
    if json {
        outln!(
            "{}",
            serde_json::json!({"answer": answer.text, "complete": true, "abstained": answer.abstained, "sources": prompt.sources})
        );
    } else {
        outln!("{}\n\nSources:", answer.text);
        print_sources(&prompt.sources);
    }
}

/// `[n] heading (or title) — url`, one line per source.
fn print_sources(sources: &[docent::prompt::Source]) {
    for s in sources {
        outln!("[{}] {} — {}", s.n, if s.heading.is_empty() { &s.title } else { &s.heading }, s.url);
    }
}

#[derive(Default, Serialize, Clone)]
struct Metrics {
    mode: String,
    recall_at_1: f64,
    recall_at_5: f64,
    recall_at_k: f64,
    mrr_at_10: f64,
    answerable: usize,
}

fn is_relevant(url: &str, relevant: &[String]) -> bool {
    relevant.iter().any(|r| url.starts_with(r.as_str()))
}

fn cmd_eval(
    dir: &Path,
    questions: &Path,
    k: usize,
    json: bool,
    calibrate: Option<f64>,
    flag: Option<&Path>,
) -> Result<()> {
    let engine = load_index(dir, flag)?;
    let qs = read_queries(questions)?;
    if qs.is_empty() {
        return Err(Error::invalid("questions", format!("{} has no questions", questions.display())));
    }
    for (i, q) in qs.iter().enumerate() {
        if q.relevant.is_none() {
            return Err(Error::format(
                format!("{}:{}", questions.display(), i + 1),
                "missing field \"relevant\" (a list of urls or url prefixes; [] for unanswerable)",
            ));
        }
    }
    let k = k.max(5);
    let mut all = Vec::new();
    let mut evidence = Vec::new();
    let mut gate_kept = 0usize;
    let mut gate_flagged = 0usize;
    let (n_ans, n_unans) = {
        let a = qs.iter().filter(|q| !q.relevant.as_deref().unwrap_or_default().is_empty()).count();
        (a, qs.len() - a)
    };
    for mode in [Mode::Lexical, Mode::Dense, Mode::Hybrid] {
        let opts = RetrieveOptions { mode, ..engine.options().retrieve.clone() };
        let mut m = Metrics { mode: format!("{mode:?}").to_lowercase(), ..Default::default() };
        for q in &qs {
            let relevant = q.relevant.as_deref().unwrap_or_default();
            let r = engine.search_with(&q.q, k, &opts)?;
            if mode == Mode::Hybrid {
                evidence.push((r.evidence, !relevant.is_empty()));
                if relevant.is_empty() {
                    gate_flagged += usize::from(!r.answerable);
                } else {
                    gate_kept += usize::from(r.answerable);
                }
            }
            if relevant.is_empty() {
                continue;
            }
            m.answerable += 1;
            let first = r.hits.iter().position(|h| is_relevant(&h.url, relevant));
            if let Some(p) = first {
                m.recall_at_1 += f64::from(p < 1);
                m.recall_at_5 += f64::from(p < 5);
                m.recall_at_k += f64::from(p < k);
                if p < 10 {
                    m.mrr_at_10 += 1.0 / (p as f64 + 1.0);
                }
            }
        }
        let n = m.answerable.max(1) as f64;
        m.recall_at_1 /= n;
        m.recall_at_5 /= n;
        m.recall_at_k /= n;
        m.mrr_at_10 /= n;
        all.push(m);
    }
    let kept = gate_kept as f64 / n_ans.max(1) as f64;
    let flagged = gate_flagged as f64 / n_unans.max(1) as f64;
    if json {
        outln!(
            "{}",
            serde_json::json!({"questions": qs.len(), "answerable": n_ans, "unanswerable": n_unans, "k": k,
                "modes": all, "gate": {"answerable_kept": kept, "unanswerable_flagged": flagged}})
        );
    } else {
        outln!(
            "{} questions ({n_ans} answerable, {n_unans} unanswerable), embedder {}",
            qs.len(),
            engine.embedder_info()
        );
        outln!(
            "{:<8} {:>9} {:>9} {:>9} {:>8}",
            "mode",
            "recall@1",
            "recall@5",
            format!("recall@{k}"),
            "MRR@10"
        );
        for m in &all {
            outln!(
                "{:<8} {:>9.3} {:>9.3} {:>9.3} {:>8.3}",
                m.mode,
                m.recall_at_1,
                m.recall_at_5,
                m.recall_at_k,
                m.mrr_at_10
            );
        }
        outln!(
            "gate: {gate_kept}/{n_ans} answerable kept ({:.1}%), {gate_flagged}/{n_unans} unanswerable flagged ({:.1}%)",
            kept * 100.0,
            flagged * 100.0
        );
    }
    if let Some(keep) = calibrate {
        if !(0.0..=1.0).contains(&keep) {
            return Err(Error::invalid("keep", format!("expected a fraction in 0..=1, found {keep}")));
        }
        let best = calibrate_gate(&evidence, keep);
        outln!(
            "calibrated gate: dense {:.2}, dense_with_lexical {:.2}, coverage {:.2} → answerable kept {:.1}%, unanswerable flagged {:.1}%",
            best.0.dense, best.0.dense_with_lexical, best.0.coverage, best.1 * 100.0, best.2 * 100.0
        );
    }
    Ok(())
}

/// Grid search for the gate that flags the most unanswerable questions while keeping at least
/// `keep` of the answerable ones; ties go to the gate that keeps more answerable ones, then the loosest.
fn calibrate_gate(evidence: &[(docent::engine::Evidence, bool)], keep: f64) -> (Gate, f64, f64) {
    let n_ans = evidence.iter().filter(|e| e.1).count().max(1) as f64;
    let n_un = evidence.iter().filter(|e| !e.1).count().max(1) as f64;
    let mut best = (Gate::OPEN, 1.0, 0.0);
    let steps = |lo: f32, hi: f32, n: usize| (0..=n).map(move |i| lo + (hi - lo) * i as f32 / n as f32);
    for d in steps(0.2, 0.9, 35) {
        for dl in steps(0.0, 0.9, 45).filter(|&x| x <= d) {
            for c in steps(0.3, 1.0, 14) {
                let g = Gate { dense: d, dense_with_lexical: dl, coverage: c };
                let kept = evidence.iter().filter(|e| e.1 && g.passes(e.0.dense, e.0.coverage)).count()
                    as f64
                    / n_ans;
                let flagged = evidence.iter().filter(|e| !e.1 && !g.passes(e.0.dense, e.0.coverage)).count()
                    as f64
                    / n_un;
                if kept >= keep && (flagged > best.2 || (flagged == best.2 && kept > best.1)) {
                    best = (g, kept, flagged);
                }
            }
        }
    }
    best
}

fn cmd_model(from: &Path, out: &Path, corpus: Option<PathBuf>) -> Result<()> {
    let opts = docent::embed::prepare::PrepareOptions { corpus, static_dim: 256 };
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut meter = Meter::new();
    let report =
        docent::embed::prepare::prepare(from, out, &opts, &mut |s| meter.tick(|| s.to_string(), true))?;
    outln!(
        "prepared {}: minilm.int8 {:.1} MB, static.bin {:.1} MB, int8 vs f32 minimum cosine {:.4}, {:.0} s",
        out.display(),
        report.minilm_bytes as f64 / 1e6,
        report.static_bytes as f64 / 1e6,
        report.min_cosine_vs_f32,
        report.seconds
    );
    Ok(())
}
