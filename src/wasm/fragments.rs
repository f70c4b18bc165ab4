//! The `SiteIndex` class: a fragmented site folder written by `docent index`, read over HTTP.
//! `SiteIndex.open(baseUrl, {timeoutMs?})` fetches `manifest.json`; `search` and `assemble`
//! fetch, verify and cache the fragments a question needs (through [`FetchSource`]) and return
//! what `Docent.search` / `Docent.assemble` return. Everything is the core's
//! [`crate::fragments::SiteIndex`]; this file converts.
//!
//! Calls of one `SiteIndex` run one after another in call order (each returns a promise), so a
//! question's fragment fetches never interleave with another's.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use js_sys::{Float32Array, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::fetch::{FetchSource, DEFAULT_TIMEOUT_MS};
use super::{from_js, js_kind, serde_message, to_js, JsEmbedderInfo, PromptFields};
use crate::fragments::{Lookup, SiteIndex};
use crate::prompt::PromptOptions;
use crate::site::{Manifest, MANIFEST_FILE};
use crate::tokens::TokenCounter;
use crate::{Error, Result};

/// The `name` of the error `SiteIndex.open` rejects with when the folder's manifest has no
/// fragments (written by a docent before them): the caller can fall back to `loadDocent`.
pub const NOT_FRAGMENTED: &str = "DocentNotFragmented";

#[wasm_bindgen(typescript_custom_section)]
const TS_SITE: &'static str = r#"
export interface SiteOpenOptions {
  /** Most milliseconds one fetch stage (the manifest, or one question's fragments) may take. Default 10000; range 1..=600000. */
  timeoutMs?: number;
  /** Full module only (`docent_wasm`): the bytes of the index's `model/tokenizer.json`, so that
   * `assemble` counts tokens exactly; without it (and always in `docent_search`) prompts are
   * budgeted with an estimate that overcounts MiniLM's tokens (by 6% to 94% on docent's corpora). */
  tokenizer?: Uint8Array;
  /** The promise `fetch(baseUrl + "manifest.json", {cache: "no-cache"})` returned, started
   * while the module loaded so that the two download together (`openSite` does this); judged
   * like the module's own request (status, timeout, body). Default: the module fetches it. */
  manifest?: Promise<Response>;
}

export interface SiteSearchOptions {
  /** Hits to return. Default 5; range 1..=1000. */
  k?: number;
  /** The question embedded with the index's embedder (`embedder()`): hybrid search; without it, lexical. */
  vector?: Float32Array;
  /** Search as you type: the last term also matches the terms starting with it. Default false. */
  prefixLast?: boolean;
  /** A reader's typo is read as the word meant: a term the index lacks, one edit from terms it has (not at the first letter), is searched as the commonest of them, as the in-memory index does. Default true; false searches the terms as written. */
  typos?: boolean;
}

export interface SiteAssembleOptions {
  /** Sources to retrieve. Default 5; range 1..=50. */
  k?: number;
  /** Token budget of system + user. Default 2000; range 64..=1000000. */
  budget?: number;
  /** The query embedded with the index's embedder: hybrid retrieval; without it, lexical. After
   * earlier turns, embed `followupQuery(question, history)`, the query that is searched. */
  vector?: Float32Array;
  system?: string;
  user?: string;
  abstain?: string;
  /** The conversation's earlier turns, oldest first (at most 50): the question is searched with
   * their topic when it leans on it (`followupQuery`), and the latest turns that fit go into
   * the prompt as chat messages. Default none. */
  history?: Turn[];
  /** Most tokens the earlier turns may take; never more than half of what the budget leaves
   * after the instructions and question. Default 600; range 0..=1000000. */
  historyTokens?: number;
}

/** What a `SiteIndex` fetched so far (not counting `manifest.json`). */
export interface FetchStats {
  /** Fetch calls (batches of fragments or byte ranges requested together). */
  requests: number;
  /** Fetch stages: calls one after another, calls sent together counting once (a lexical
   * question takes 1–2 on whole files, 3 on the ranged layout of large sites). */
  stages: number;
  /** Fragment files fetched (one HTTP request each; from the Cache API when held there). */
  fragments: number;
  /** Their bytes, uncompressed. */
  bytes: number;
}

export interface SiteStats {
  /** Live documents. */
  documents: number;
  /** Live chunks. */
  chunks: number;
  embedder: EmbedderInfo;
  /** Fragment files of the index. */
  fragments: number;
  /** Whether the index has dense fragments (IVF). */
  dense: boolean;
  /** How `assemble` counts tokens. */
  tokens: "exact" | "estimate";
  /** Which build of the index: manifest.json's `version` and `xxh3` (of index.bin). */
  index: { version: number; fingerprint: string };
}

/** One file of an offline copy: its path inside the index folder and its size in bytes. */
export interface OfflineFile {
  path: string;
  bytes: number;
}

/** What a reader keeps to use the index with the network off (`offlineFiles()`). */
export interface OfflineFiles {
  /** The web runtime: the modules and wasm the widget loads (paths as in the package). */
  runtime: OfflineFile[];
  /** The embedder's files under `model/` (none for hashing). */
  model: OfflineFile[];
  /** Every fragment the manifest names. */
  fragments: OfflineFile[];
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `SiteOpenOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "SiteOpenOptions")]
    pub type JsSiteOpenOptions;
    /// `SiteSearchOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "SiteSearchOptions")]
    pub type JsSiteSearchOptions;
    /// `SiteAssembleOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "SiteAssembleOptions")]
    pub type JsSiteAssembleOptions;
    /// `FetchStats` in TypeScript.
    #[wasm_bindgen(typescript_type = "FetchStats")]
    pub type JsFetchStats;
    /// `SiteStats` in TypeScript.
    #[wasm_bindgen(typescript_type = "SiteStats")]
    pub type JsSiteStats;
    /// `OfflineFiles` in TypeScript.
    #[wasm_bindgen(typescript_type = "OfflineFiles")]
    pub type JsOfflineFiles;
}

const OPEN_FIELDS: &[&str] = &["timeoutMs", "tokenizer", "manifest"];
const SEARCH_FIELDS: &[&str] = &["k", "vector", "prefixLast", "typos"];
const ASSEMBLE_FIELDS: &[&str] =
    &["k", "budget", "vector", "system", "user", "abstain", "history", "historyTokens"];

/// `SiteOpenOptions` without `tokenizer` (read separately: a typed array).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct OpenOptions {
    timeout_ms: Option<u32>,
}

/// `SiteSearchOptions` without `vector`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SearchOptions {
    k: Option<usize>,
    prefix_last: Option<bool>,
    typos: Option<bool>,
}

/// `SiteStats`.
#[derive(Serialize)]
struct StatsOut<'a> {
    documents: usize,
    chunks: usize,
    embedder: &'a crate::embed::EmbedderInfo,
    fragments: usize,
    dense: bool,
    tokens: &'static str,
    index: crate::gaps::IndexId,
}

/// The default `k` of `search`, as `Docent.search` has it.
const DEFAULT_K: usize = 5;
/// The longest `timeoutMs` accepted (10 minutes).
const MAX_TIMEOUT_MS: u32 = 600_000;

/// The state calls share: the reader, its source, the prompt counter, and the promise of the last
/// call (the next one waits for it).
struct Shared {
    index: SiteIndex,
    source: FetchSource,
    counter: TokenCounter,
    last: RefCell<Option<Promise>>,
}

/// A fragmented site index read over HTTP (`SiteIndex.open(baseUrl)`): each question fetches only
/// the fragments it needs, verified against their names, kept in memory and in the Cache API.
#[wasm_bindgen(js_name = SiteIndex)]
pub struct JsSiteIndex {
    shared: Rc<Shared>,
}

#[wasm_bindgen(js_class = SiteIndex)]
impl JsSiteIndex {
    /// `SiteIndex.open(baseUrl, {timeoutMs?})`: fetches `baseUrl + "manifest.json"` (revalidated,
    /// never from a stale cache) and opens the index it describes. `baseUrl` must be absolute (the
    /// facade's `openSite` resolves it). Rejects with an `Error` named `DocentNotFragmented`
    /// when the manifest has no fragments (written by an older docent), else with one naming the
    /// manifest and what is wrong.
    #[wasm_bindgen(unchecked_return_type = "Promise<SiteIndex>")]
    pub fn open(base_url: String, options: Option<JsSiteOpenOptions>) -> Promise {
        let prepared = (|| -> Result<(String, u32, TokenCounter, Option<Promise>)> {
            let o: OpenOptions = from_js(options.as_deref(), "options", OPEN_FIELDS)?;
            let timeout = o.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
            if timeout == 0 || timeout > MAX_TIMEOUT_MS {
                return Err(Error::invalid(
                    "timeoutMs",
                    format!("expected milliseconds from 1 to {MAX_TIMEOUT_MS}, found {timeout}"),
                ));
            }
            let counter = counter_of(options.as_deref())?;
            let started = started_manifest(options.as_deref())?;
            let mut base = base_url.clone();
            if !base.ends_with('/') {
                base.push('/');
            }
            Ok((base, timeout, counter, started))
        })();
        future_to_promise(async move {
            let (base, timeout, counter, started) = prepared.map_err(js_error)?;
            let source = FetchSource::new(base.clone(), timeout).await;
            let url = source.url(MANIFEST_FILE);
            let bytes = match started {
                Some(p) => source.fetch_started(&url, p).await,
                None => source.fetch_fresh(&url).await,
            }
            .map_err(js_error)?;
            let json = parse_json(&bytes, &url).map_err(js_error)?;
            let index = open_parsed(&json, &url).map_err(|e| {
                if has_fragments(&json) {
                    js_error(e)
                } else {
                    named_error(NOT_FRAGMENTED, &e.to_string())
                }
            })?;
            let shared = Shared { index, source, counter, last: RefCell::new(None) };
            Ok(JsSiteIndex { shared: Rc::new(shared) }.into())
        })
    }

    /// `search(query, {k?, vector?, prefixLast?, typos?})` → `Promise<SearchResult>`: lexical
    /// (BM25 over term shards, with the relevance gate), or hybrid with `vector`.
    #[wasm_bindgen(unchecked_return_type = "Promise<SearchResult>")]
    pub fn search(&self, query: String, options: Option<JsSiteSearchOptions>) -> Promise {
        let read = (|| -> Result<(SearchOptions, Option<Vec<f32>>)> {
            let o: SearchOptions = from_js(options.as_deref(), "search options", SEARCH_FIELDS)?;
            Ok((o, vector_of(options.as_deref())?))
        })();
        self.queue(move |shared| async move {
            let (o, vector) = read?;
            let d = Lookup::default();
            let lookup = Lookup {
                typos: o.typos.unwrap_or(d.typos),
                prefix_last: o.prefix_last.unwrap_or(d.prefix_last),
                ..d
            };
            let index = &shared.index;
            let retrieve = index.table().retrieve.clone();
            let k = o.k.unwrap_or(DEFAULT_K);
            let result =
                index.search_with(&shared.source, &query, k, vector.as_deref(), &retrieve, lookup).await?;
            to_js(&result)
        })
    }

    /// `assemble(question, {k?, budget?, vector?, system?, user?, abstain?, history?, historyTokens?})` →
    /// `Promise<Prompt>`: retrieves sources as `search` does and assembles a grounded prompt.
    #[wasm_bindgen(unchecked_return_type = "Promise<Prompt>")]
    pub fn assemble(&self, question: String, options: Option<JsSiteAssembleOptions>) -> Promise {
        let read = (|| -> Result<(PromptOptions, Option<Vec<f32>>)> {
            let fields: PromptFields = from_js(options.as_deref(), "assemble options", ASSEMBLE_FIELDS)?;
            Ok((fields.options(), vector_of(options.as_deref())?))
        })();
        self.queue(move |shared| async move {
            let (opts, vector) = read?;
            let s = &*shared;
            let prompt = s.index.assemble(&s.source, &question, vector.as_deref(), &s.counter, &opts).await?;
            to_js(&prompt)
        })
    }

    /// What this index fetched so far: `{requests, fragments, bytes}`.
    pub fn fetched(&self) -> std::result::Result<JsFetchStats, JsError> {
        Ok(to_js(&self.shared.index.fetched())?.unchecked_into())
    }

    /// The embedder that built the index: a `vector` must come from it (same kind, dimension and
    /// weights).
    pub fn embedder(&self) -> std::result::Result<JsEmbedderInfo, JsError> {
        Ok(to_js(self.shared.index.embedder())?.unchecked_into())
    }

    /// Whether the index has dense fragments, so that a `vector` can be used.
    #[wasm_bindgen(js_name = hasDense)]
    pub fn has_dense(&self) -> bool {
        self.shared.index.has_dense()
    }

    /// The files a reader keeps to use this index offline (`{runtime, model, fragments}`, each
    /// `[{path, bytes}]` relative to the folder; the core's `Manifest::offline_files`).
    #[wasm_bindgen(js_name = offlineFiles)]
    pub fn offline_files(&self) -> std::result::Result<JsOfflineFiles, JsError> {
        let files = self.shared.index.manifest().offline_files();
        let files =
            files.ok_or_else(|| Error::format(MANIFEST_FILE, "the manifest has no \"fragments\" object"))?;
        Ok(to_js(&files)?.unchecked_into())
    }

    /// Counts describing the index: `{documents, chunks, embedder, fragments, dense, tokens}`.
    pub fn stats(&self) -> std::result::Result<JsSiteStats, JsError> {
        let index = &self.shared.index;
        let table = index.table();
        let out = StatsOut {
            documents: table.documents,
            chunks: table.chunks,
            embedder: index.embedder(),
            fragments: table.files().len(),
            dense: index.has_dense(),
            tokens: match self.shared.counter {
                TokenCounter::Estimate => "estimate",
                _ => "exact",
            },
            index: index.index_id(),
        };
        Ok(to_js(&out)?.unchecked_into())
    }
}

impl JsSiteIndex {
    /// Runs `call` after every earlier call of this index has settled, as a promise.
    fn queue<F, Fut>(&self, call: F) -> Promise
    where
        F: FnOnce(Rc<Shared>) -> Fut + 'static,
        Fut: Future<Output = Result<JsValue>> + 'static,
    {
        let shared = self.shared.clone();
        let before = self.shared.last.borrow_mut().take();
        let promise = future_to_promise(async move {
            if let Some(p) = before {
                let _ = JsFuture::from(p).await; // its caller sees its outcome
            }
            call(shared).await.map_err(|e| {
                // A fragment that failed its checks (damaged, or from another build): a retry
                // must not get the same bytes from the HTTP cache.
                if matches!(&e, Error::Format { what, .. } if what.contains("fragments/")) {
                    super::fetch::bypass_http_cache();
                }
                js_error(e)
            })
        });
        // Chained on a copy that never rejects, so one failed call does not fail the next.
        let watched = promise.clone();
        let settled = future_to_promise(async move {
            let _ = JsFuture::from(watched).await;
            Ok(JsValue::UNDEFINED)
        });
        *self.shared.last.borrow_mut() = Some(settled);
        promise
    }
}

/// The prompt counter: MiniLM's tokenizer when `options.tokenizer` holds it (full module only),
/// else the estimate.
fn counter_of(options: Option<&JsValue>) -> Result<TokenCounter> {
    let Some(bytes) = typed_field(options, "tokenizer")? else { return Ok(TokenCounter::Estimate) };
    #[cfg(feature = "models")]
    {
        let bytes = js_sys::Uint8Array::new(&bytes).to_vec();
        TokenCounter::from_json(&bytes)
    }
    #[cfg(not(feature = "models"))]
    {
        let _ = bytes;
        Err(Error::invalid(
            "tokenizer",
            "this module (docent_search) counts tokens with an estimate and cannot read a tokenizer; exact counts need the full module (docent_wasm)",
        ))
    }
}

/// `options.manifest`, when set: the promise of `fetch(baseUrl + "manifest.json", {cache:
/// "no-cache"})` the caller started while the module loaded (the facade's `openSite` does).
fn started_manifest(options: Option<&JsValue>) -> Result<Option<Promise>> {
    let Some(o) = options.filter(|o| o.is_object()) else { return Ok(None) };
    let v = Reflect::get(o, &"manifest".into()).unwrap_or(JsValue::UNDEFINED);
    if v.is_undefined() {
        return Ok(None);
    }
    v.dyn_into::<Promise>().map(Some).map_err(|_| {
        Error::invalid(
            "manifest",
            "expected the Promise that fetch(baseUrl + \"manifest.json\", {cache: \"no-cache\"}) returned",
        )
    })
}

/// `options[field]` when it is set: a `Uint8Array` (tokenizer) is checked by the caller's use.
fn typed_field(options: Option<&JsValue>, field: &str) -> Result<Option<JsValue>> {
    let Some(o) = options.filter(|o| o.is_object()) else { return Ok(None) };
    let v = Reflect::get(o, &field.into()).unwrap_or(JsValue::UNDEFINED);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if field == "tokenizer" && !v.is_instance_of::<js_sys::Uint8Array>() {
        return Err(Error::invalid(field, format!("expected a Uint8Array, found {}", js_kind(&v))));
    }
    Ok(Some(v))
}

/// `options.vector`: a `Float32Array`, or `None` when unset.
fn vector_of(options: Option<&JsValue>) -> Result<Option<Vec<f32>>> {
    let Some(o) = options.filter(|o| o.is_object()) else { return Ok(None) };
    let v = Reflect::get(o, &"vector".into()).unwrap_or(JsValue::UNDEFINED);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.dyn_ref::<Float32Array>() {
        Some(a) => Ok(Some(a.to_vec())),
        None => Err(Error::invalid(
            "vector",
            format!(
                "expected a Float32Array (the question embedded with the index's embedder), found {}",
                js_kind(&v)
            ),
        )),
    }
}

/// The manifest's bytes through the browser's `JSON.parse`: the module carries no JSON parser of
/// its own (serde_json's is about a tenth of the lean module).
fn parse_json(bytes: &[u8], url: &str) -> Result<JsValue> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::format(url, format!("not a docent manifest: not UTF-8 ({e})")))?;
    js_sys::JSON::parse(text).map_err(|e| {
        let why = e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
        Error::format(url, format!("not a docent manifest: not JSON ({why})"))
    })
}

/// [`SiteIndex::open`] on a manifest `JSON.parse` read: decoded into the core's [`Manifest`],
/// with the same checks.
fn open_parsed(json: &JsValue, url: &str) -> Result<SiteIndex> {
    let manifest: Manifest = serde_wasm_bindgen::from_value(json.clone())
        .map_err(|e| Error::format(url, format!("not a docent manifest: {}", serde_message(e))))?;
    SiteIndex::from_manifest(manifest.checked(url)?, url)
}

/// Whether a parsed manifest has a non-null `"fragments"` member (anything but an object counts
/// as having one: the core's error about it is the one to show).
fn has_fragments(manifest: &JsValue) -> bool {
    if !manifest.is_object() {
        return true;
    }
    let f = Reflect::get(manifest, &"fragments".into()).unwrap_or(JsValue::UNDEFINED);
    !(f.is_undefined() || f.is_null())
}

/// A JS `Error` with the core's message.
fn js_error(e: Error) -> JsValue {
    JsError::from(e).into()
}

/// A JS `Error` with a `name` callers can test.
fn named_error(name: &str, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name(name);
    e.into()
}
