//! `docent index`: walk the inputs, (re-)embed new and changed pages, write the site folder and
//! print its summary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use docent::embed::{EmbedderInfo, EmbedderKind};
use docent::engine::{Docent, Options};
use docent::ingest::Ingested;
use docent::{Error, Result};
use serde::Serialize;

use crate::load::{embedder_at, model_dir, Manifest, MANIFEST_FORMAT};
use crate::progress::Meter;
use crate::site;

/// The options of `docent index`.
pub struct IndexArgs<'a> {
    pub paths: &'a [PathBuf],
    pub out: &'a Path,
    pub embedder: &'a str,
    pub model_dir: Option<&'a Path>,
    pub base_url: &'a str,
    pub chunk_tokens: usize,
    pub overlap: usize,
    pub assets: Option<&'a Path>,
    pub json: bool,
}

/// Seconds spent in each stage of `docent index`.
#[derive(Serialize, Default)]
pub struct Timings {
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
pub struct IndexSummary {
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

pub fn cmd_index(a: &IndexArgs<'_>) -> Result<()> {
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
pub fn human_bytes(n: u64) -> String {
    match n {
        0..=999 => format!("{n} B"),
        1_000..=999_999 => format!("{:.0} kB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

/// The index file's name inside the output folder.
pub const INDEX_FILE: &str = "index.bin";

/// The manifest a previous run left in `out`, when there is a readable one.
pub fn previous_manifest(out: &Path) -> Option<Manifest> {
    let bytes = std::fs::read(out.join("manifest.json")).ok()?;
    serde_json::from_slice::<Manifest>(&bytes).ok().filter(|m| m.format == MANIFEST_FORMAT)
}

/// The bytes of the index a previous run left in `out` (and how to name it), if any: the file the
/// manifest names when it is a plain file name, else `index.bin`.
pub fn previous_index(out: &Path, manifest: Option<&Manifest>) -> Option<(Vec<u8>, String)> {
    let name = manifest
        .map(|m| m.index.as_str())
        .filter(|n| !n.is_empty() && !n.contains(['/', '\\']) && *n != "..")
        .unwrap_or(INDEX_FILE);
    let path = out.join(name);
    let bytes = std::fs::read(&path).ok()?;
    Some((bytes, path.display().to_string()))
}
