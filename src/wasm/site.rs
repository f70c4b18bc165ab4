//! The site folder for JavaScript: the core's definitions ([`crate::site`]) exported, so that the
//! npm CLI (`pkg/cli.js`) and the facade (`pkg/docent.js`) hold no second copy of the model file
//! table, the folder's names, the manifest, the skip reasons or the summary. JS only reads and
//! writes the files.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::docent::JsDocumentInput;
use super::{from_js, js_kind, serde_message, to_js, JsDocent};
use crate::embed::EmbedderKind;
use crate::fragments::FragmentTable;
use crate::ingest::Format;
use crate::site::{
    self, FileEntry, FragmentCounts, IndexSummary, Manifest, PageOutcome, Previous, Runtime, Timings, Written,
};
use crate::{Error, Result};

/// A failed `Reflect.set` on a fresh object (never expected).
fn set_failed() -> Error {
    Error::format("siteFragments", "could not build the result object")
}

#[wasm_bindgen(typescript_custom_section)]
const TS_SITE: &'static str = r#"
/** One model file of an embedder (`modelFiles`). */
/** The manifest's `fragments` object (see docs/design.md, "The fragmented index"). */
export type FragmentTable = Record<string, unknown>;

/** The fragmented form of a built index (`siteFragments()`). */
export interface SiteFragments {
  table: FragmentTable;
  /** Every fragment file: its path in the site folder and its bytes. */
  files: { path: string; bytes: Uint8Array }[];
}

export interface ModelFile {
  /** The `ModelFiles` field that carries its bytes. */
  field: "weights" | "tokenizer" | "config" | "table";
  /** Its name in a prepared model folder, e.g. `static.bin`. */
  file: string;
  /** Its path inside a site folder, e.g. `model/static.bin`. */
  path: string;
}

/** The fixed names of a site folder (`siteLayout()`). */
export interface SiteLayout {
  /** The index file, `index.bin`. */
  index: string;
  /** The manifest, `manifest.json`. */
  manifest: string;
  /** The folder of the model files, `model`. */
  modelDir: string;
  /** The WebAssembly module of the web runtime, `docent_wasm_bg.wasm`. */
  wasm: string;
  /** llama.cpp's runtime for provider="local" (`llm/wllama/wllama.js`, `llm/wllama/wllama.wasm`):
   *  copied with the rest when the package folder holds both. */
  localRuntime: string[];
}

/** One file of a site folder as `manifest.json` lists it. */
export interface FileEntry {
  /** Path inside the folder, `/`-separated. */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** xxh3-64 of its bytes, 16 hex digits (`xxh3(bytes)`). */
  xxh3: string;
}

/** What a previous run left in an output folder (`previousSite`). */
export interface PreviousSite {
  /** The index file to pass to `reuseFrom` (if it exists). */
  index: string;
  /** The files it recorded that a re-run may delete when it no longer writes them. */
  files: FileEntry[];
}

/** What `addPage` did with one page. */
export interface PageOutcome {
  /** Chunks indexed (0 for a skipped or empty page). */
  chunks: number;
  /** Why the page was not indexed (`robots noindex`, `redirect stub`, `data-docent-ignore`,
   * `duplicate of a.html (canonical)`, `over the size limit`), or null. */
  skipped: string | null;
  /** A warning to show (a page without text, a canonical duplicate, a page over the size limit), or null. */
  warning: string | null;
  /** The encoding the page was read in (`UTF-8`, `Shift_JIS`, `windows-1252` …). */
  encoding: string;
  /** What decoding the page's bytes needs to tell, to show after the file's name (`not valid
   * UTF-8; decoded as windows-1252 (…)`; for a PDF `not indexed: encrypted PDF (needs a
   * password): …`, `2 of 9 pages have no text …`), or null. */
  note: string | null;
}

/** What the caller of an index run did around the Docent (`Docent.indexSummary`). */
export interface SiteWork {
  /** Files of other formats met while walking. */
  unsupported: number;
  /** Files with the content of a file already read. */
  duplicates: number;
  /** Directories not walked because they are the output folder. */
  excluded: number;
  /** Bytes of the index file. */
  indexBytes: number;
  /** Where the web runtime in the folder came from. */
  runtime: "copied" | "kept" | "none";
  /** Every file of the folder but manifest.json, sorted by path. */
  files: FileEntry[];
  /** Paths written because they were new or changed (manifest.json included). */
  written: string[];
  /** Paths an earlier run wrote that are no longer needed, deleted. */
  deleted: string[];
  /** Seconds per stage. */
  seconds: { read: number; embed: number; index: number; write: number; total: number };
  /** What writing the fragments did (`siteFragments`), when they were written. */
  fragments?: { total: number; reused: number; written: number; removed: number };
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `ModelFile[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "ModelFile[]")]
    pub type JsModelFiles;
    /// `SiteLayout` in TypeScript.
    #[wasm_bindgen(typescript_type = "SiteLayout")]
    pub type JsSiteLayout;
    /// `FragmentTable` in TypeScript.
    #[wasm_bindgen(typescript_type = "FragmentTable")]
    pub type JsFragmentTable;
    /// `SiteFragments` in TypeScript.
    #[wasm_bindgen(typescript_type = "SiteFragments")]
    pub type JsSiteFragments;
    /// `FileEntry[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "FileEntry[]")]
    pub type JsFileEntries;
    /// `PreviousSite` in TypeScript.
    #[wasm_bindgen(typescript_type = "PreviousSite")]
    pub type JsPreviousSite;
    /// `PageOutcome` in TypeScript.
    #[wasm_bindgen(typescript_type = "PageOutcome")]
    pub type JsPageOutcome;
    /// `SiteWork` in TypeScript.
    #[wasm_bindgen(typescript_type = "SiteWork")]
    pub type JsSiteWork;
}

/// `ModelFile`.
#[derive(Serialize)]
struct ModelFileOut {
    field: &'static str,
    file: &'static str,
    path: String,
}

/// `SiteLayout`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LayoutOut {
    index: &'static str,
    manifest: &'static str,
    model_dir: &'static str,
    wasm: &'static str,
    local_runtime: &'static [&'static str],
}

/// `PageOutcome`.
#[derive(Serialize)]
struct PageOut {
    chunks: usize,
    skipped: Option<String>,
    warning: Option<String>,
    encoding: &'static str,
    note: Option<String>,
}

/// The keys of `SiteWork`.
const WORK_FIELDS: &[&str] = &[
    "unsupported",
    "duplicates",
    "excluded",
    "indexBytes",
    "runtime",
    "files",
    "written",
    "deleted",
    "seconds",
    "fragments",
];

/// `SiteWork`: every field is required.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SiteWork {
    unsupported: usize,
    duplicates: usize,
    excluded: usize,
    index_bytes: u64,
    runtime: Option<Runtime>,
    files: Vec<FileEntry>,
    written: Vec<String>,
    deleted: Vec<String>,
    seconds: Timings,
    #[serde(default)]
    fragments: Option<FragmentCounts>,
}

/// Reads a value that must be present (`undefined` and `null` are errors, unlike options).
fn required<T: for<'de> Deserialize<'de> + Default>(
    value: &JsValue,
    name: &str,
    fields: &[&str],
) -> Result<T> {
    if value.is_undefined() || value.is_null() {
        return Err(Error::invalid(name, format!("expected an object, found {}", js_kind(value))));
    }
    from_js(Some(value), name, fields)
}

/// A `FileEntry[]`.
fn file_entries(value: &JsValue) -> Result<Vec<FileEntry>> {
    serde_wasm_bindgen::from_value(value.clone()).map_err(|e| Error::invalid("files", serde_message(e)))
}

/// `modelFiles(embedder)`: the model files `embedder` (`minilm`, `static`, `hashing` or `vectors`)
/// needs, as `[{field, file, path}]` (empty for `hashing` and `vectors`): the table `loadDocent`
/// fetches from a site's `model/` folder and `docent index` copies into it. Throws on an unknown
/// embedder name.
#[wasm_bindgen(js_name = modelFiles)]
pub fn model_files(embedder: &str) -> std::result::Result<JsModelFiles, JsError> {
    let kind = EmbedderKind::from_name(embedder)?;
    let out: Vec<ModelFileOut> = site::model_files(kind)
        .into_iter()
        .map(|m| ModelFileOut { field: m.field, file: m.file, path: site::model_path(m.file) })
        .collect();
    Ok(to_js(&out)?.unchecked_into())
}

/// `siteLayout()`: the fixed names of a site folder (`{index, manifest, modelDir, wasm,
/// localRuntime}`).
#[wasm_bindgen(js_name = siteLayout)]
pub fn site_layout() -> std::result::Result<JsSiteLayout, JsError> {
    let out = LayoutOut {
        index: site::INDEX_FILE,
        manifest: site::MANIFEST_FILE,
        model_dir: site::MODEL_DIR,
        wasm: site::WASM_FILE,
        local_runtime: site::LOCAL_RUNTIME,
    };
    Ok(to_js(&out)?.unchecked_into())
}

/// `isRuntimeFile(path)`: whether a file of the package folder belongs to the web runtime a
/// site folder carries (every `.js` file but `cli.js`, those of `llm/`, and the `.wasm`).
#[wasm_bindgen(js_name = isRuntimeFile)]
pub fn is_runtime_file(name: &str) -> bool {
    site::is_runtime_file(name)
}

/// `minifiedHeader(source)`: the first line `./build.sh wasm` gives the minified copy of a
/// runtime file made from `source` (its xxh3), see `runtimeBytes`.
#[wasm_bindgen(js_name = minifiedHeader)]
pub fn minified_header(source: &[u8]) -> String {
    site::minified_header(source)
}

/// `runtimeBytes(source, minified?)`: what a site folder gets for a runtime `.js` file: the
/// minified copy (from the package's `min/` folder) without its header when it was made from
/// exactly `source`, else `source`.
#[wasm_bindgen(js_name = runtimeBytes)]
pub fn runtime_bytes(source: &[u8], minified: Option<Vec<u8>>) -> Vec<u8> {
    site::runtime_bytes(source, minified.as_deref()).to_vec()
}

/// `formatOf(path)`: the `DocumentInput` field for a file of this name (`html`, `markdown`,
/// `text` or `pdf`, by its extension, case-insensitive), or `undefined` for a format docent does not read.
#[wasm_bindgen(js_name = formatOf)]
pub fn format_of(path: &str) -> Option<String> {
    Format::from_path(path).map(|f| {
        match f {
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::Text => "text",
            Format::Pdf => "pdf",
        }
        .to_string()
    })
}

/// `duplicateNote(url, of)`: the note the CLIs print (after `docent: note: `) for a file whose
/// bytes are those of a file read before: `b.html: same content as a.html, skipped as a
/// duplicate`.
#[wasm_bindgen(js_name = duplicateNote)]
pub fn duplicate_note(url: &str, of: &str) -> String {
    site::duplicate_note(url, of)
}

/// `previousSite(manifestBytes?)`: what a previous run left in an output folder, from the bytes
/// of its `manifest.json` (`undefined` when there is none): `{index, files}`. An unreadable
/// manifest counts as none.
#[wasm_bindgen(js_name = previousSite)]
pub fn previous_site(manifest: Option<Vec<u8>>) -> std::result::Result<JsPreviousSite, JsError> {
    Ok(to_js(&Previous::from_manifest(manifest.as_deref()))?.unchecked_into())
}

#[wasm_bindgen(js_class = Docent)]
impl JsDocent {
    /// Like `addDocument`, for indexing a site: a page that asks not to be indexed, or that has no
    /// text, is an outcome, not an error. Returns `{chunks, skipped, warning}` and counts the page
    /// for `indexSummary` (skipped pages by reason, empty ones). Throws for what `addDocument`
    /// throws otherwise (a bad input object, limits, a url already in the index). A PDF's bytes
    /// through docent.js return a Promise of it (see `addDocument`).
    #[wasm_bindgen(js_name = addPage, unchecked_return_type = "PageOutcome | Promise<PageOutcome>")]
    pub fn add_page(&mut self, doc: JsDocumentInput) -> std::result::Result<JsPageOutcome, JsError> {
        let o = self.offer(&doc, true)?;
        self.pages.record(&o.outcome);
        self.pages.record_encoding(o.encoding);
        let out = PageOut {
            chunks: match o.outcome {
                PageOutcome::Added { chunks, .. } => chunks,
                _ => 0,
            },
            warning: o.outcome.warning(),
            skipped: o.outcome.skipped_reason(),
            encoding: o.encoding,
            note: o.note,
        };
        Ok(to_js(&out)?.unchecked_into())
    }

    /// `expectPages(urls)`: declares the urls of every page this run will offer with `addPage`,
    /// before offering any, so that a page whose `<link rel="canonical">` names a page offered
    /// later is known to be a duplicate (the native CLI knows every page before it adds one).
    #[wasm_bindgen(js_name = expectPages)]
    pub fn expect_pages(&mut self, urls: Vec<String>) {
        self.canonicals.expect(urls);
    }

    /// Throws when nothing was indexed: `invalid paths: no indexable text found in <paths> (N
    /// unsupported files, N skipped, N empty)`, the pages counted by `addPage`.
    #[wasm_bindgen(js_name = checkIndexed)]
    pub fn check_indexed(&self, paths: Vec<String>, unsupported: usize) -> std::result::Result<(), JsError> {
        if self.inner.stats().chunks == 0 {
            return Err(site::nothing_indexed(&paths, unsupported, &self.pages).into());
        }
        Ok(())
    }

    /// The `manifest.json` text of a site folder holding this index as `index.bin` (`index`: the
    /// bytes of `toBytes()`) and `files` (every other file, sorted by path), written by
    /// `createdBy`: exactly what `docent index` writes.
    /// With `fragments` (the `table` of `siteFragments()`), the manifest describes them too.
    #[wasm_bindgen(js_name = siteManifest)]
    #[allow(non_snake_case)] // the parameter name is what TypeScript users see
    pub fn site_manifest(
        &self,
        index: &[u8],
        createdBy: &str,
        files: JsFileEntries,
        fragments: Option<JsFragmentTable>,
    ) -> std::result::Result<String, JsError> {
        let files = file_entries(&files)?;
        let mut manifest = Manifest::new(&self.inner, site::INDEX_FILE, index, createdBy.to_string(), files);
        if let Some(table) = fragments.filter(|t| !t.is_undefined() && !t.is_null()) {
            let mut table: FragmentTable = serde_wasm_bindgen::from_value(table.into())
                .map_err(|e| Error::invalid("fragments", serde_message(e)))?;
            // The gate from the engine itself, not back from JS: JS numbers turn 0.0 into 0, and
            // the manifest must read as the native CLI writes it.
            table.gate = crate::fragments::write::gate_value(&self.inner)?;
            manifest.fragments = Some(table);
        }
        Ok(manifest.to_json()?)
    }

    /// `siteFragments()`: the fragmented form of this built index, as `docent index` writes it
    /// beside `index.bin`: `{table, files: [{path, bytes}]}` (`path` relative to the site folder,
    /// e.g. `fragments/lex-….bin`; `table` goes into the manifest through `siteManifest`).
    /// Deterministic: the same index gives the same files. `ranges` is `docent index --ranges`:
    /// `"auto"` (default: read by byte ranges once the text outgrows small whole packs),
    /// `"always"` or `"never"`. Errors: not built, documents added since the last `build()`, or
    /// another `ranges`.
    #[wasm_bindgen(js_name = siteFragments)]
    pub fn site_fragments(&self, ranges: Option<String>) -> std::result::Result<JsSiteFragments, JsError> {
        let ranges = crate::fragments::Ranges::parse(ranges.as_deref().unwrap_or("auto"))?;
        let layout = crate::fragments::Layout { ranges, ..crate::fragments::Layout::default() };
        let fragments = crate::fragments::write_fragments_with(&self.inner, &layout)?;
        let out = js_sys::Object::new();
        let files = js_sys::Array::new();
        for (path, bytes) in &fragments.files {
            let f = js_sys::Object::new();
            js_sys::Reflect::set(&f, &"path".into(), &path.into()).map_err(|_| set_failed())?;
            js_sys::Reflect::set(&f, &"bytes".into(), &js_sys::Uint8Array::from(&bytes[..]))
                .map_err(|_| set_failed())?;
            files.push(&f);
        }
        js_sys::Reflect::set(&out, &"table".into(), &to_js(&fragments.table)?).map_err(|_| set_failed())?;
        js_sys::Reflect::set(&out, &"files".into(), &files).map_err(|_| set_failed())?;
        Ok(out.unchecked_into())
    }

    /// The summary `docent index` prints, for the index run that built this Docent, counted its
    /// pages with `addPage` and did `work`: one JSON object (`json`), else one sentence naming the
    /// output folder `out` as the user gave it.
    #[wasm_bindgen(js_name = indexSummary)]
    pub fn index_summary(
        &self,
        work: JsSiteWork,
        out: &str,
        json: bool,
    ) -> std::result::Result<String, JsError> {
        let w: SiteWork = required(&work, "work", WORK_FIELDS)?;
        let runtime = w.runtime.ok_or_else(|| Error::invalid("work", "missing field `runtime`"))?;
        let work = Written {
            unsupported: w.unsupported,
            duplicates: w.duplicates,
            excluded: w.excluded,
            index_bytes: w.index_bytes,
            runtime,
            files: w.files,
            written: w.written,
            deleted: w.deleted,
            seconds: w.seconds,
        };
        let mut summary = IndexSummary::new(&self.inner, &self.pages, work);
        summary.fragments = w.fragments;
        Ok(if json { summary.to_json() } else { summary.line(out) })
    }
}
