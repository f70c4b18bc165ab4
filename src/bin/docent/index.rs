//! `docent index`: walk the inputs, (re-)embed new and changed pages, write the site folder and
//! print its summary (the folder's contents, the manifest and the summary are defined by the core,
//! [`docent::site`]; this file does the walking, reading, writing and printing).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use docent::embed::EmbedderKind;
use docent::engine::{Docent, Options};
use docent::site::{
    add_site_page, duplicate_note, model_path, nothing_indexed, Canonicals, IndexSummary, Manifest,
    PageCounts, Previous, Runtime, Timings, Written, INDEX_FILE, MANIFEST_FILE, WASM_FILE,
};
use docent::{Error, Result};

use crate::load::{embedder_at, model_dir, word_list};
use crate::progress::Meter;
use crate::{fragments, site};
use docent::gate::dictionary_words;

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
    /// `hnsw` or `instant-distance`.
    pub graph: &'a str,
    /// `auto`, `always` or `never`: whether text packs, term shards and IVF partitions are read
    /// by byte ranges.
    pub ranges: &'a str,
    /// The gate's word list (`--words`; default `words.txt` in the model directory).
    pub words: Option<&'a Path>,
    /// Ranged term shards without their records' places (fragment version 4).
    pub without_places: bool,
}

pub fn cmd_index(a: &IndexArgs<'_>) -> Result<()> {
    let started = Instant::now();
    let kind = EmbedderKind::from_name(a.embedder)?;
    let mut options = Options::default();
    options.chunk.max_tokens = a.chunk_tokens;
    options.chunk.overlap_tokens = a.overlap;
    options.chunk.validate()?;
    options.dense.graph = docent::index::dense::GraphKind::parse(a.graph)?;
    let layout = docent::fragments::Layout {
        ranges: docent::fragments::Ranges::parse(a.ranges)?,
        without_places: a.without_places,
        ..docent::fragments::Layout::default()
    };
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
    let previous = Previous::from_manifest(std::fs::read(a.out.join(MANIFEST_FILE)).ok().as_deref());
    let previous_index = a.out.join(&previous.index);
    if let Ok(bytes) = std::fs::read(&previous_index) {
        engine.reuse_from_bytes(&bytes, &previous_index.display().to_string())?;
        if let Some(why) = &engine.reuse_report().rebuild {
            eprintln!("docent: note: re-embedding every page: {why}");
        }
    }
    for (url, of) in &report.duplicate_of {
        eprintln!("docent: note: {}", duplicate_note(url, of));
    }
    let mut pages = PageCounts::default();
    let mut canonicals = Canonicals::default();
    let urls = report.files.iter().map(|f| &f.url).chain(report.duplicate_of.iter().map(|(u, _)| u));
    canonicals.expect(urls.cloned());
    for f in report.files {
        pages.record_encoding(f.encoding);
        let outcome = add_site_page(&mut engine, &mut canonicals, f.outcome, f.canonical.as_deref())?;
        if let Some(w) = outcome.warning() {
            eprintln!("docent: warning: {w}");
        }
        pages.record(&outcome);
    }
    if engine.stats().chunks == 0 {
        let paths: Vec<String> = a.paths.iter().map(|p| p.display().to_string()).collect();
        return Err(nothing_indexed(&paths, report.unsupported, &pages));
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
    // The gate calibrated on this site's own questions (src/gate/), stored in index.bin and the
    // manifest.
    let list = word_list(a.words, model.as_deref())?;
    engine.calibrate_gate_with(&list.as_deref().map(dictionary_words).unwrap_or_default())?;
    let embed_end = embed_end.unwrap_or_else(Instant::now);
    t.embed = embed_end.duration_since(embed_start).as_secs_f64();
    t.index = embed_end.elapsed().as_secs_f64();
    let write_start = Instant::now();
    let bytes = engine.to_bytes()?;
    std::fs::create_dir_all(a.out).map_err(|e| Error::io(a.out, e))?;
    let model_files = model.as_deref().map(|d| (d, model_names));
    let published =
        site::publish(a.out, (INDEX_FILE, &bytes), model_files, assets.as_ref(), &previous.files)?;
    // The copied weights (the first model file) must be the ones that embedded the pages.
    if let (Some(dir), Some(weights)) = (&model, model_names.first()) {
        let rel = model_path(weights);
        let fingerprint = &engine.embedder_info().fingerprint;
        if published.files.iter().any(|f| f.path == rel && f.xxh3 != *fingerprint) {
            return Err(Error::model(
                dir.join(weights).display().to_string(),
                "changed while docent was indexing; run docent index again",
            ));
        }
    }
    // The fragments: new files first, then the manifest that names them (atomically), then
    // the removal of fragments that neither it nor the previous manifest names.
    let frags = docent::fragments::write_fragments_with(&engine, &layout)?;
    let mut counts = fragments::write_new(a.out, &frags)?;
    let created_by = format!("docent {}", env!("CARGO_PKG_VERSION"));
    let mut manifest = Manifest::new(&engine, INDEX_FILE, &bytes, created_by, published.files.clone());
    manifest.fragments = Some(frags.table);
    let mut written = published.written;
    if site::write_if_changed(&a.out.join(MANIFEST_FILE), manifest.to_json()?.as_bytes())? {
        written.push(MANIFEST_FILE.into());
    }
    let keep: BTreeSet<String> =
        frags.files.into_iter().map(|f| f.0).chain(previous.fragments.iter().cloned()).collect();
    counts.removed = fragments::remove_unnamed(a.out, &keep)?;
    let runtime = match (&assets, published.kept_runtime) {
        (Some(_), _) => Runtime::Copied,
        (None, true) => Runtime::Kept,
        (None, false) => Runtime::None,
    };
    if assets.is_none() {
        let what = if published.kept_runtime {
            "was not updated (the copy an earlier run left there is kept)"
        } else {
            "was not copied"
        };
        eprintln!(
            "docent: note: the browser runtime (docent.js, docent_wasm.js, {WASM_FILE}) {what} in {}: none found in --assets, ${}, ./pkg or <binary's folder>/../share/docent; build it with ./build.sh wasm (writes pkg/) and pass --assets pkg",
            a.out.display(),
            site::ASSETS_ENV
        );
    }
    t.write = write_start.elapsed().as_secs_f64();
    t.total = started.elapsed().as_secs_f64();
    let work = Written {
        unsupported: report.unsupported,
        duplicates: report.duplicates,
        excluded: report.excluded,
        index_bytes: bytes.len() as u64,
        runtime,
        files: published.files,
        written,
        deleted: published.removed,
        seconds: t,
    };
    let mut summary = IndexSummary::new(&engine, &pages, work);
    summary.fragments = Some(counts);
    if a.json {
        outln!("{}", summary.to_json());
    } else {
        outln!("{}", summary.line(&a.out.display().to_string()));
    }
    Ok(())
}
