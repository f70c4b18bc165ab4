//! The site folder: what `docent index` writes for a static host, and what the browser loads
//! from it. One definition here serves the native CLI (`src/bin/docent/`), the npm CLI
//! (`pkg/cli.js`, through the wasm exports of `src/wasm/site.rs`) and the browser facade
//! (`pkg/docent.js`, which asks the wasm module for the model file table).
//!
//! Owns: the folder's file names (`index.bin`, `manifest.json`, `model/` with the files each
//! embedder needs, the web runtime files), the manifest (its format name, fields, reading and
//! checking, writing), which recorded paths a re-run may delete, what happened to each page
//! offered to the index (added, skipped with a reason, empty) and how those outcomes are counted
//! and told, the summary `docent index` prints, and byte counts for people.
//! Must not: read or write files, or look at the environment: callers do the I/O and hand over
//! bytes and names.
//!
//! A folder looks like this:
//!
//! ```text
//! manifest.json        format "docent-index", the index's version, embedder and counts, and
//!                      `files`: every other file with its size and xxh3
//! index.bin            the index (src/format.rs container)
//! model/static.bin     the model files of the index's embedder (none for hashing), so the
//! model/tokenizer.json   browser embeds questions with the model that embedded the pages
//! docent.js …          the web runtime: pkg/'s .js files but cli.js, docent_wasm_bg.wasm and
//!                       docent_search_bg.wasm (the lean module, when built)
//! llm/wllama/…         llama.cpp's runtime for provider="local", when pkg/ has it
//! ```
//!
//! Design: `docs/design.md`, "The index file and its place".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::embed::{minilm, static_table, EmbedderInfo, EmbedderKind};
use crate::engine::Docent;
use crate::ingest::Ingested;
pub use crate::units::{human_bytes, Units};

mod canonical;
use crate::{Error, Result};
pub use canonical::Canonicals;

/// The index file's name inside the folder (a previous manifest may name another; see
/// [`Previous`]).
pub const INDEX_FILE: &str = "index.bin";

/// The manifest's name inside the folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The value of the manifest's `format` field.
pub const MANIFEST_FORMAT: &str = "docent-index";

/// The folder (inside the site folder) holding the model files.
pub const MODEL_DIR: &str = "model";

/// The wasm-bindgen output the runtime cannot do without.
pub const WASM_FILE: &str = "docent_wasm_bg.wasm";

/// The lean search module (`docent_search`, built without models): copied with the runtime when
/// the assets hold it (`./build.sh wasm` builds it), so a site's first answer needs no model.
pub const LEAN_WASM_FILE: &str = "docent_search_bg.wasm";

/// Runtime files that must be among the assets (the facade and the wasm-bindgen glue).
pub const REQUIRED_RUNTIME: &[&str] = &["docent.js", "docent_wasm.js", WASM_FILE];

/// The JS files of the package that are not part of the browser runtime: the npm CLI, and the
/// PDF module's glue (a site's readers never add PDFs; its wasm is not copied either).
pub const NOT_RUNTIME: &[&str] = &["cli.js", "docent_pdf.js"];

/// Folders of the package whose `.js` files are runtime modules too (the LLM client's modules).
pub const RUNTIME_DIRS: &[&str] = &["llm"];

/// llama.cpp's web runtime (npm `@wllama/wllama`'s module and wasm, which `./build.sh wasm` copies
/// into the package's `llm/wllama/`): what `<docent-ask provider="local">` loads beside
/// `llm/local.js`. Copied into a site folder when the runtime folder holds both files; not part
/// of [`is_runtime_file`], so a reader's offline copy leaves its 10 MB out until the reader agrees
/// to a local model (the page's `SavedCopy.answerModel` adds it then).
pub const LOCAL_RUNTIME: &[&str] = &["llm/wllama/wllama.js", "llm/wllama/wllama.wasm"];

/// Whether a file of the package folder belongs to the web runtime copied into a site folder:
/// every `.js` file but those of [`NOT_RUNTIME`], [`WASM_FILE`], [`LEAN_WASM_FILE`], and the `.js` files directly in
/// one of the [`RUNTIME_DIRS`] (`path` then `/`-separated, e.g. `llm/stream.js`).
pub fn is_runtime_file(path: &str) -> bool {
    match path.split_once('/') {
        Some((dir, name)) => RUNTIME_DIRS.contains(&dir) && name.ends_with(".js") && !name.contains('/'),
        None => {
            (path.ends_with(".js") && !NOT_RUNTIME.contains(&path))
                || path == WASM_FILE
                || path == LEAN_WASM_FILE
        }
    }
}

/// The folder of the package where `./build.sh wasm` writes a minified copy of each runtime `.js`
/// file, at the same relative path (`min/docent-ask.js`, `min/llm/stream.js`). A site folder gets
/// the minified copy: the readable sources' comments doubled the JS a reader's first answer
/// downloads (48 kB gzip of the Rust book's first answer against 24 kB minified).
pub const MIN_DIR: &str = "min";

/// The first line of a minified runtime file: the xxh3-64 of the source it was made from, so a
/// copy made before the source last changed is never published.
pub fn minified_header(source: &[u8]) -> String {
    format!("/*docent-min {}*/\n", crate::embed::fingerprint(source))
}

/// What a site folder gets for a runtime `.js` file: its minified copy without the header line
/// when `minified` was made from exactly `source` ([`minified_header`]), else `source` itself
/// (no copy, or a stale one: a source edited after `./build.sh wasm` last ran).
pub fn runtime_bytes<'a>(source: &'a [u8], minified: Option<&'a [u8]>) -> &'a [u8] {
    let header = minified_header(source);
    match minified {
        Some(m) if m.starts_with(header.as_bytes()) => &m[header.len()..],
        _ => source,
    }
}

/// A path recorded in a manifest that is safe to delete inside the output folder: relative,
/// `/`-separated, no empty, `.` or `..` parts (a hand-edited manifest cannot point outside).
pub fn is_plain_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.contains('\\')
        && p.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
}

// ---------------------------------------------------------------------------------------------
// Model files

/// One model file an embedder needs: its name (in a prepared model folder and in the site's
/// `model/`) and the field of the JS `ModelFiles` object that carries its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelFile {
    /// The `ModelFiles` field: `weights`, `tokenizer`, `config` or `table`.
    pub field: &'static str,
    /// The file name, e.g. `static.bin`.
    pub file: &'static str,
}

/// The `ModelFiles` field of each model file name.
const MODEL_FIELDS: &[(&str, &str)] = &[
    (minilm::WEIGHTS_FILE, "weights"),
    (minilm::TOKENIZER_FILE, "tokenizer"),
    (minilm::CONFIG_FILE, "config"),
    (static_table::TABLE_FILE, "table"),
];

/// The model files `kind` needs, in the order of [`EmbedderKind::model_files`] (weights
/// first): `minilm` → `minilm.int8`, `tokenizer.json`, `config.json`; `static` → `static.bin`,
/// `tokenizer.json`; none for `hashing` and `vectors`.
pub fn model_files(kind: EmbedderKind) -> Vec<ModelFile> {
    kind.model_files()
        .iter()
        .filter_map(|file| {
            MODEL_FIELDS.iter().find(|(f, _)| f == file).map(|&(file, field)| ModelFile { field, file })
        })
        .collect()
}

/// The path of a model file inside the site folder: `model/<file>`.
pub fn model_path(file: &str) -> String {
    format!("{MODEL_DIR}/{file}")
}

// ---------------------------------------------------------------------------------------------
// The manifest

/// One file of the output folder, as the manifest's `files` list records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path inside the output folder, `/`-separated (e.g. `model/static.bin`).
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// xxh3-64 of its bytes, 16 hex digits.
    pub xxh3: String,
}

impl FileEntry {
    /// The entry of a file at `path` holding `bytes`.
    pub fn of(path: impl Into<String>, bytes: &[u8]) -> FileEntry {
        FileEntry { path: path.into(), bytes: bytes.len() as u64, xxh3: crate::embed::fingerprint(bytes) }
    }
}

/// `manifest.json`: what the folder holds. `loadDocent` (pkg/docent.js) reads it to find the index
/// and the model; a re-run reads the previous one to reuse the index and to know which files it
/// wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// The index file's format version ([`crate::format::FORMAT_VERSION`] when written).
    pub version: u32,
    /// The index file's name inside the folder.
    pub index: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// xxh3-64 of its bytes, 16 hex digits (empty in manifests of older npm CLI versions).
    pub xxh3: String,
    /// The embedder that built it (the browser loads its model files from `model/`).
    pub embedder: EmbedderInfo,
    /// Live documents.
    pub documents: usize,
    /// Their chunks.
    pub chunks: usize,
    /// `flat` or `hnsw`.
    pub dense: String,
    /// Who wrote it, e.g. `docent 0.1.0`.
    pub created_by: String,
    /// Every file of the folder but manifest.json (index, model files, runtime), with sizes and
    /// xxh3, sorted by path; absent in manifests of older versions.
    #[serde(default)]
    pub files: Vec<FileEntry>,
    /// The fragmented index ([`crate::fragments`]): shards, packs and partitions a reader fetches
    /// per question. Absent in manifests of older versions and when fragments were not written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragments: Option<crate::fragments::FragmentTable>,
}

impl Manifest {
    /// The manifest of the index `engine` serialised to `index` (its [`Docent::to_bytes`]), kept
    /// in the folder as `index_file`, next to `files`.
    pub fn new(
        engine: &Docent,
        index_file: &str,
        index: &[u8],
        created_by: String,
        files: Vec<FileEntry>,
    ) -> Manifest {
        let stats = engine.stats();
        Manifest {
            format: MANIFEST_FORMAT.into(),
            version: crate::format::FORMAT_VERSION,
            index: index_file.into(),
            bytes: index.len() as u64,
            xxh3: crate::embed::fingerprint(index),
            embedder: stats.embedder,
            documents: stats.documents,
            chunks: stats.chunks,
            dense: stats.dense_kind,
            created_by,
            files,
            fragments: None,
        }
    }

    /// Reads a manifest; `what` names it in errors (e.g. its path). Errors: not JSON, a field
    /// missing or of the wrong type, or a `format` other than [`MANIFEST_FORMAT`].
    pub fn parse(json: &[u8], what: &str) -> Result<Manifest> {
        let m: Manifest = serde_json::from_slice(json)
            .map_err(|e| Error::format(what.to_string(), format!("not a docent manifest: {e}")))?;
        m.checked(what)
    }

    /// The manifest if its `format` is [`MANIFEST_FORMAT`]; `what` names it in the error. The
    /// check [`Manifest::parse`] makes, for a manifest decoded elsewhere (the lean wasm module
    /// decodes it from the browser's `JSON.parse`, to carry no JSON parser of its own).
    pub fn checked(self, what: &str) -> Result<Manifest> {
        if self.format != MANIFEST_FORMAT {
            return Err(Error::format(
                what.to_string(),
                format!("field 'format' is {:?}, expected {MANIFEST_FORMAT:?}", self.format),
            ));
        }
        Ok(self)
    }

    /// The files a reader keeps to read this folder's fragmented index offline, by what they are
    /// for (see [`OfflineFiles`]); `None` for a folder without fragments (read whole, from
    /// `index.bin`, which an offline copy does not cover).
    pub fn offline_files(&self) -> Option<OfflineFiles> {
        let table = self.fragments.as_ref()?;
        let entry = |path: &str, bytes: u64| OfflineFile { path: path.to_string(), bytes };
        let model_prefix = format!("{MODEL_DIR}/");
        Some(OfflineFiles {
            runtime: self
                .files
                .iter()
                .filter(|f| is_runtime_file(&f.path))
                .map(|f| entry(&f.path, f.bytes))
                .collect(),
            model: self
                .files
                .iter()
                .filter(|f| f.path.starts_with(&model_prefix))
                .map(|f| entry(&f.path, f.bytes))
                .collect(),
            fragments: table.files().into_iter().map(|(path, bytes)| entry(path, bytes)).collect(),
        })
    }

    /// The manifest as `manifest.json` holds it: JSON indented by two spaces, no final newline.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::format(MANIFEST_FILE, e.to_string()))
    }
}

/// One file of an offline copy: its path inside the folder and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfflineFile {
    /// Path inside the folder, `/`-separated (e.g. `fragments/lex-<h>.bin`).
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What a reader's browser keeps so that a site's fragmented index answers with the network off
/// (`<docent-ask service-worker>` and the demo page save them): every file a question may read,
/// and no more. `index.bin` is left out (the fragmented reader never fetches it); the model only
/// once the reader's page loaded the embedder (it is the largest part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfflineFiles {
    /// The web runtime ([`is_runtime_file`]): the modules and wasm the widget loads.
    pub runtime: Vec<OfflineFile>,
    /// The embedder's files under `model/` (none for hashing).
    pub model: Vec<OfflineFile>,
    /// Every fragment the manifest's table names ([`crate::fragments::FragmentTable::files`]).
    pub fragments: Vec<OfflineFile>,
}

/// What a previous run left in the output folder, as far as its manifest tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previous {
    /// The index file to reuse unchanged pages from: the manifest's `index` when it is a plain
    /// file name, else [`INDEX_FILE`].
    pub index: String,
    /// The files it recorded whose paths are plain relative paths ([`is_plain_relative`]): the
    /// only ones a re-run may delete when it no longer writes them.
    pub files: Vec<FileEntry>,
    /// The fragment files its `"fragments"` table names (plain relative paths under
    /// `fragments/`): a re-run keeps them one more run, for readers still on that manifest.
    #[serde(default)]
    pub fragments: Vec<String>,
}

impl Previous {
    /// From the bytes of the folder's `manifest.json`, if there is one; an unreadable manifest
    /// or one of another format counts as none (a re-run then rebuilds and deletes nothing).
    pub fn from_manifest(json: Option<&[u8]>) -> Previous {
        let m = json.and_then(|j| Manifest::parse(j, MANIFEST_FILE).ok());
        let index = m
            .as_ref()
            .map(|m| m.index.as_str())
            .filter(|n| is_plain_relative(n) && !n.contains('/'))
            .unwrap_or(INDEX_FILE)
            .to_string();
        let fragments = m
            .as_ref()
            .and_then(|m| m.fragments.as_ref())
            .map(|t| {
                t.files()
                    .into_iter()
                    .filter(|(p, _)| is_plain_relative(p) && p.starts_with("fragments/"))
                    .map(|(p, _)| p.to_string())
                    .collect()
            })
            .unwrap_or_default();
        let files = m
            .map(|m| m.files.into_iter().filter(|f| is_plain_relative(&f.path)).collect())
            .unwrap_or_default();
        Previous { index, files, fragments }
    }
}

// ---------------------------------------------------------------------------------------------
// Pages

/// What happened to one page offered to the index ([`add_page`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageOutcome {
    /// Indexed, as this many chunks.
    Added {
        /// Chunks of the page.
        chunks: usize,
        /// Headings of the page with no text under them ([`empty_sections`]).
        empty_sections: usize,
    },
    /// The page asks not to be indexed (robots `noindex`, a redirect stub, `data-docent-ignore`).
    Skipped {
        /// Why, in a few words (the ingester's reason, e.g. `redirect stub`).
        reason: String,
    },
    /// The page has no text once its main content is extracted.
    Empty {
        /// The page's url.
        url: String,
        /// The engine's words for it.
        reason: String,
    },
    /// The page names another page of the same run as its canonical url (`<link
    /// rel="canonical">`, see [`Canonicals`]): that page is indexed, this one is not.
    Duplicate {
        /// The page's url.
        url: String,
        /// The url of the page it names, as the run knows it.
        of: String,
    },
    /// The page's text is larger than the index's [`crate::engine::Limits`] allow for one
    /// document.
    TooLarge {
        /// The page's url.
        url: String,
        /// The engine's words for it, naming the size and the limit.
        reason: String,
    },
}

/// How the engine's refusal of an empty document begins (see [`Docent::add_document`]).
const EMPTY_REASON: &str = "no text";

/// What the engine's refusal of a document over the size limit says (see
/// [`crate::engine::Limits::check_document`]).
const TOO_LARGE_MARK: &str = " fit in one document";

/// The key under which canonical duplicates are counted among the skipped pages.
pub const CANONICAL_DUPLICATE: &str = "canonical duplicate";

/// The key under which pages over the size limit are counted among the skipped pages.
pub const OVER_SIZE_LIMIT: &str = "over the size limit";

impl PageOutcome {
    /// The warning the CLIs print for this outcome (after `docent: warning: `), if any: an empty
    /// page (`a.html: no text to index, skipped`), a canonical duplicate (`b.html: duplicate of
    /// a.html (canonical), skipped`) and a page over the size limit (`big.html: not indexed:
    /// 10485760 bytes of text; at most …`) have one.
    pub fn warning(&self) -> Option<String> {
        match self {
            PageOutcome::Empty { url, .. } => Some(format!("{url}: no text to index, skipped")),
            PageOutcome::Duplicate { url, of } => {
                Some(format!("{url}: duplicate of {of} (canonical), skipped"))
            }
            PageOutcome::TooLarge { url, reason } => Some(format!("{url}: not indexed: {reason}")),
            PageOutcome::Added { .. } | PageOutcome::Skipped { .. } => None,
        }
    }

    /// Why the page was skipped, for one page (`robots noindex`, `duplicate of a.html
    /// (canonical)`, `over the size limit`), or `None` when it was added or is empty.
    pub fn skipped_reason(&self) -> Option<String> {
        match self {
            PageOutcome::Skipped { reason } => Some(reason.clone()),
            PageOutcome::Duplicate { of, .. } => Some(format!("duplicate of {of} (canonical)")),
            PageOutcome::TooLarge { .. } => Some(OVER_SIZE_LIMIT.to_string()),
            PageOutcome::Added { .. } | PageOutcome::Empty { .. } => None,
        }
    }

    /// The outcome as `addDocument` of the wasm build reports it: the chunks added, or an error
    /// saying why there are none (`document <url>: not indexed: the page is a <reason>`, or the
    /// engine's error for an empty page).
    pub fn into_chunks(self, url: &str) -> Result<usize> {
        match self {
            PageOutcome::Added { chunks, .. } => Ok(chunks),
            PageOutcome::Skipped { reason } => Err(Error::Document {
                url: url.to_string(),
                reason: format!("not indexed: the page is a {reason}"),
            }),
            PageOutcome::Empty { url, reason } | PageOutcome::TooLarge { url, reason } => {
                Err(Error::Document { url, reason })
            }
            PageOutcome::Duplicate { url, of } => Err(Error::Document {
                url,
                reason: format!("not indexed: the page is a duplicate of {of} (canonical)"),
            }),
        }
    }
}

/// Adds an ingested page to `engine`: a skipped page, a page without text and a page over the
/// document size limit are outcomes, not errors; every other error of [`Docent::add_document`]
/// (the index's chunk limit, a document already there) is returned.
pub fn add_page(engine: &mut Docent, page: Ingested) -> Result<PageOutcome> {
    match page {
        Ingested::Skipped { reason } => Ok(PageOutcome::Skipped { reason }),
        Ingested::Document(doc) => {
            let empty_sections = empty_sections(&doc);
            add_document(engine, doc, empty_sections)
        }
    }
}

/// [`add_page`] for a document.
fn add_document(
    engine: &mut Docent,
    doc: crate::ingest::Document,
    empty_sections: usize,
) -> Result<PageOutcome> {
    match engine.add_document(doc) {
        Ok(chunks) => Ok(PageOutcome::Added { chunks, empty_sections }),
        Err(Error::Document { url, reason }) if reason.starts_with(EMPTY_REASON) => {
            Ok(PageOutcome::Empty { url, reason })
        }
        Err(Error::Document { url, reason }) if reason.contains(TOO_LARGE_MARK) => {
            Ok(PageOutcome::TooLarge { url, reason })
        }
        Err(e) => Err(e),
    }
}

/// [`add_page`] for a page of a site: a page whose canonical link (`canonical`, the `href` of its
/// `<link rel="canonical">`) names another page of the run is a [`PageOutcome::Duplicate`] and
/// not added (see [`Canonicals`]).
pub fn add_site_page(
    engine: &mut Docent,
    canonicals: &mut Canonicals,
    page: Ingested,
    canonical: Option<&str>,
) -> Result<PageOutcome> {
    if let Ingested::Document(doc) = &page {
        if let Some(of) = canonicals.duplicate_of(&doc.url, canonical) {
            return Ok(PageOutcome::Duplicate { url: doc.url.clone(), of });
        }
    }
    add_page(engine, page)
}

/// Checks the size of a page's content before it is parsed (a page over the limit would cost
/// several times its size in the parser): `Some(TooLarge)` when `bytes` is over `engine`'s
/// document limit.
pub fn too_large(engine: &Docent, url: &str, bytes: usize) -> Option<PageOutcome> {
    match engine.limits().check_document(url, bytes) {
        Err(Error::Document { url, reason }) => Some(PageOutcome::TooLarge { url, reason }),
        _ => None,
    }
}

/// The note the CLIs print for a file left out because its bytes are those of a file read
/// before (after `docent: note: `): `b.html: same content as a.html, skipped as a duplicate`.
pub fn duplicate_note(url: &str, of: &str) -> String {
    format!("{url}: same content as {of}, skipped as a duplicate")
}

/// Sections of a page whose heading has no text under it, neither its own nor a subsection's
/// (a heading directly followed by a heading of the same or a higher level, or a heading at the
/// end): they give no chunk, so such a heading is not searchable. The index summary counts them.
pub fn empty_sections(doc: &crate::ingest::Document) -> usize {
    let s = &doc.sections;
    (0..s.len())
        .filter(|&i| {
            s[i].text.trim().is_empty()
                && !s[i].headings.is_empty()
                && !s.get(i + 1).is_some_and(|next| {
                    next.headings.len() > s[i].headings.len() && next.headings.starts_with(&s[i].headings)
                })
        })
        .count()
}

/// The pages that were offered but not indexed, by why, and what else about them the summary
/// tells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCounts {
    /// Skipped pages by reason (sorted by reason; canonical duplicates under
    /// [`CANONICAL_DUPLICATE`], pages over the size limit under [`OVER_SIZE_LIMIT`]).
    pub skipped: BTreeMap<String, usize>,
    /// Pages without text.
    pub empty: usize,
    /// Pages read in an encoding other than UTF-8, by encoding ([`PageCounts::record_encoding`]).
    #[serde(default)]
    pub encodings: BTreeMap<String, usize>,
    /// Headings of indexed pages with no text under them ([`empty_sections`]).
    #[serde(default)]
    pub empty_sections: usize,
}

impl PageCounts {
    /// Counts one outcome.
    pub fn record(&mut self, outcome: &PageOutcome) {
        match outcome {
            PageOutcome::Added { empty_sections, .. } => self.empty_sections += empty_sections,
            PageOutcome::Skipped { reason } => *self.skipped.entry(reason.clone()).or_default() += 1,
            PageOutcome::Empty { .. } => self.empty += 1,
            PageOutcome::Duplicate { .. } => {
                *self.skipped.entry(CANONICAL_DUPLICATE.into()).or_default() += 1
            }
            PageOutcome::TooLarge { .. } => *self.skipped.entry(OVER_SIZE_LIMIT.into()).or_default() += 1,
        }
    }

    /// Counts a page read in `encoding` (the Encoding Standard's name); UTF-8 is not counted.
    pub fn record_encoding(&mut self, encoding: &str) {
        if encoding != "UTF-8" {
            *self.encodings.entry(encoding.to_string()).or_default() += 1;
        }
    }

    /// The pages read in other encodings, for people: empty when there are none, else `, 2 not
    /// UTF-8 (1 Shift_JIS, 1 windows-1252)`.
    pub fn encodings_text(&self) -> String {
        if self.encodings.is_empty() {
            return String::new();
        }
        let each: Vec<String> = self.encodings.iter().map(|(e, n)| format!("{n} {e}")).collect();
        format!(", {} not UTF-8 ({})", self.encodings.values().sum::<usize>(), each.join(", "))
    }

    /// All skipped pages.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    /// The skipped pages for people: `0 skipped`, or `3 skipped (1 data-docent-ignore, 2 redirect
    /// stub)` with the reasons in sorted order.
    pub fn skipped_text(&self) -> String {
        if self.skipped.is_empty() {
            return "0 skipped".to_string();
        }
        let each: Vec<String> = self.skipped.iter().map(|(r, n)| format!("{n} {r}")).collect();
        format!("{} skipped ({})", self.skipped_total(), each.join(", "))
    }
}

/// The error of an index run that found nothing to index: `paths` as given, `unsupported` the
/// files of other formats the walk met.
pub fn nothing_indexed(paths: &[String], unsupported: usize, pages: &PageCounts) -> Error {
    Error::invalid(
        "paths",
        format!(
            "no indexable text found in {} ({unsupported} unsupported files, {} skipped, {} empty)",
            paths.join(", "),
            pages.skipped_total(),
            pages.empty
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// The summary of an index run

/// Seconds spent in each stage of an index run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Walking, reading, parsing, chunking (and loading the previous index).
    pub read: f64,
    /// Embedding the chunks of new and changed pages.
    pub embed: f64,
    /// Building the dense and BM25 indexes.
    pub index: f64,
    /// Serialising and writing the folder (index, model files, runtime, manifest).
    pub write: f64,
    /// Everything, from start to summary (model loading included).
    pub total: f64,
}

/// Where the web runtime in the folder came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// Copied from the runtime folder (the package's, for the npm CLI).
    Copied,
    /// None was found; the copy an earlier run left is kept.
    Kept,
    /// None was found and none is there.
    None,
}

/// What the caller of an index run did around the engine: walking the inputs and writing the
/// folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// Files of other formats the walk met.
    pub unsupported: usize,
    /// Files with the content of a file already read.
    pub duplicates: usize,
    /// Directories not walked because they are the output folder.
    pub excluded: usize,
    /// Bytes of the index file.
    pub index_bytes: u64,
    /// Where the runtime came from.
    pub runtime: Runtime,
    /// Every file of the folder but manifest.json, sorted by path.
    pub files: Vec<FileEntry>,
    /// Paths written because they were new or changed (manifest.json included).
    pub written: Vec<String>,
    /// Paths an earlier run wrote that are no longer needed, deleted.
    pub deleted: Vec<String>,
    /// Seconds per stage.
    pub seconds: Timings,
}

/// The summary of an index run: `docent index --json` prints it as one JSON object (these
/// fields, in this order), and without `--json` as one sentence ([`IndexSummary::line`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexSummary {
    /// Live documents.
    pub documents: usize,
    /// Documents whose chunks and vectors came from the previous index.
    pub reused: usize,
    /// Documents chunked and embedded anew.
    pub embedded: usize,
    /// Documents of the previous index not offered again.
    pub removed: usize,
    /// Chunks of live documents.
    pub chunks: usize,
    /// Chunks taken from the previous index.
    pub reused_chunks: usize,
    /// Chunks embedded by this run.
    pub embedded_chunks: usize,
    /// Why a previous index in the output folder could not be reused (then everything was
    /// embedded), or null.
    pub rebuild: Option<String>,
    /// Skipped pages by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Files of other formats.
    pub unsupported: usize,
    /// Files with the content of a file already read.
    pub duplicates: usize,
    /// Pages without text.
    pub empty: usize,
    /// Pages read in an encoding other than UTF-8, by encoding (absent when none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub encodings: BTreeMap<String, usize>,
    /// Headings of indexed pages with no text under them (absent when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub empty_sections: usize,
    /// Directories not walked because they are the output folder.
    pub excluded: usize,
    /// The embedder that built the index.
    pub embedder: EmbedderInfo,
    /// `flat` or `hnsw`.
    pub dense: String,
    /// Bytes of the index file.
    pub index_bytes: u64,
    /// Where the web runtime came from: `copied`, `kept` or `none`.
    pub runtime: Runtime,
    /// Whether the folder holds llama.cpp's runtime ([`LOCAL_RUNTIME`]), without which
    /// `provider="local"` cannot run from it; absent when the folder has no web runtime at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_runtime: Option<bool>,
    /// Every file of the folder but manifest.json.
    pub files: Vec<FileEntry>,
    /// Files written because they were new or changed (manifest.json included).
    pub written: Vec<String>,
    /// Files an earlier run wrote that are no longer needed, deleted.
    pub deleted: Vec<String>,
    /// Seconds per stage.
    pub seconds: Timings,
    /// The fragmented index's files, when they were written (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragments: Option<FragmentCounts>,
}

/// What writing the fragments did: `fragments: 183 (170 reused, 13 written, 9 removed)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FragmentCounts {
    /// Fragment files the new manifest names.
    pub total: usize,
    /// Of those, already in the folder (same name, so same content).
    pub reused: usize,
    /// Of those, written by this run.
    pub written: usize,
    /// Fragment files named by neither the new manifest nor the previous one, deleted.
    pub removed: usize,
}

impl std::fmt::Display for FragmentCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fragments: {} ({} reused, {} written, {} removed)",
            self.total, self.reused, self.written, self.removed
        )
    }
}

impl IndexSummary {
    /// The summary of a run that built `engine`, counted `pages` and did `work`.
    pub fn new(engine: &Docent, pages: &PageCounts, work: Written) -> IndexSummary {
        let stats = engine.stats();
        let r = engine.reuse_report().clone();
        IndexSummary {
            documents: stats.documents,
            reused: r.reused,
            embedded: r.embedded,
            removed: r.removed,
            chunks: stats.chunks,
            reused_chunks: r.reused_chunks,
            embedded_chunks: r.embedded_chunks,
            rebuild: r.rebuild,
            skipped: pages.skipped.clone(),
            unsupported: work.unsupported,
            duplicates: work.duplicates,
            empty: pages.empty,
            encodings: pages.encodings.clone(),
            empty_sections: pages.empty_sections,
            excluded: work.excluded,
            embedder: stats.embedder,
            dense: stats.dense_kind,
            index_bytes: work.index_bytes,
            runtime: work.runtime,
            local_runtime: (work.runtime != Runtime::None)
                .then(|| LOCAL_RUNTIME.iter().all(|p| work.files.iter().any(|f| f.path == *p))),
            files: work.files,
            written: work.written,
            deleted: work.deleted,
            seconds: work.seconds,
            fragments: None,
        }
    }

    /// The summary as one JSON object on one line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The summary as one sentence, `out` being the output folder as the user named it:
    /// `indexed 13 documents (12 reused, 1 embedded, 0 removed), 55 chunks into site/docent: 3
    /// skipped (…), 1 unsupported, 1 duplicates, 0 empty; embedder static (256-d), dense flat; 36 kB
    /// index; 10 files, 2 written; fragments: 183 (170 reused, 13 written, 9 removed); embed 0.01 s
    /// of 0.20 s total` (the fragments part only when fragments were written). After `0 empty`,
    /// only when there are some: the pages read in other encodings (`, 2 not UTF-8 (1 Shift_JIS,
    /// 1 windows-1252)`) and the headings without text (`, 3 empty sections`). After the file
    /// counts, when the folder has the web runtime but not llama.cpp's ([`LOCAL_RUNTIME`]): `; no
    /// llama.cpp runtime (llm/wllama/ was not in the runtime folder): provider="local" cannot run
    /// from this folder`.
    pub fn line(&self, out: &str) -> String {
        let pages = PageCounts {
            skipped: self.skipped.clone(),
            empty: self.empty,
            encodings: self.encodings.clone(),
            empty_sections: self.empty_sections,
        };
        let sections = match self.empty_sections {
            0 => String::new(),
            n => format!(", {n} empty sections"),
        };
        let local = match self.local_runtime {
            Some(false) => "; no llama.cpp runtime (llm/wllama/ was not in the runtime folder): provider=\"local\" cannot run from this folder",
            _ => "",
        };
        format!(
            "indexed {} documents ({} reused, {} embedded, {} removed), {} chunks into {out}: {}, {} unsupported, {} duplicates, {} empty{}{sections}; embedder {} ({}-d), dense {}; {} index; {} files, {} written{local}{}; embed {:.2} s of {:.2} s total",
            self.documents,
            self.reused,
            self.embedded,
            self.removed,
            self.chunks,
            pages.skipped_text(),
            self.unsupported,
            self.duplicates,
            self.empty,
            pages.encodings_text(),
            self.embedder.kind.name(),
            self.embedder.dim,
            self.dense,
            human_bytes(self.index_bytes, Units::Decimal),
            self.files.len() + 1,
            self.written.len(),
            self.fragments.map(|f| format!("; {f}")).unwrap_or_default(),
            self.seconds.embed,
            self.seconds.total,
        )
    }
}

/// For `skip_serializing_if`.
fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests;
