//! The WebAssembly edge: the classes and functions that JavaScript sees.
//!
//! Owns: converting JS values to core types and back (options and small results through
//! `serde-wasm-bindgen`, vectors as typed arrays), JS names (camelCase), the TypeScript shapes
//! of options and results, and the panic hook. Every fallible export returns `Result<_, JsError>`
//! and uses `?` on [`crate::Error`], so a JS caller gets an `Error` whose message is exactly the
//! core's user-facing text.
//! Must not: contain logic of its own (ingest, retrieval, scoring, prompt text all live in the
//! core), or be mentioned outside this folder: it is the only place that knows `wasm_bindgen`,
//! `js_sys` or `JsValue`.
//!
//! One file per exported concern: `docent.rs` (the `Docent` class), `vector_index.rs`
//! (`VectorIndex`), `site.rs` (the site folder: model file table, manifest, page outcomes and the
//! index summary, for the npm CLI and the facade), `answer.rs` (the offline answer and the "not
//! covered" text), `decode.rs` (`TextDecoder` for `addPage`'s bytes in legacy encodings),
//! `fragments.rs` (the `SiteIndex` class: a fragmented site folder read over HTTP) with
//! `fetch.rs` (its fragment source: `fetch`, timeouts, the Cache API); this file holds
//! the panic hook, the module-level functions, the result shapes and the conversions they all
//! share. Built without the `models` feature (the lean module `docent_search`), only
//! `fragments.rs`, `fetch.rs`, `answer.rs` and this file are compiled.
//!
//! Text offsets never cross this boundary; if they ever do, they must be converted to UTF-16
//! code units (what JS strings index) and say so.
//!
//! Design: `docs/design.md`, "Layers" (the wasm edge).

use js_sys::{Array, Object, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::{Error, Result};

// The lean module (`docent_search`, built without the `models` feature) holds only what reads a
// fragmented site folder and answers from it; the full module (`docent_wasm`) holds everything.
mod answer;
#[cfg(feature = "models")]
mod decode;
#[cfg(feature = "models")]
mod docent;
mod fetch;
mod fragments;
// The PDF module's export, in the full edge only for the wasm tests (built with `pdf`); the
// shipped full module is built without it (build.sh).
#[cfg(feature = "pdf")]
mod pdf;
#[cfg(feature = "models")]
mod site;
#[cfg(feature = "models")]
mod vector_index;

#[cfg(feature = "models")]
pub use decode::Platform as PlatformDecoder;
#[cfg(feature = "models")]
pub use docent::JsDocent;
pub use fragments::JsSiteIndex;
#[cfg(feature = "pdf")]
pub use pdf::extract_pdf;
#[cfg(feature = "models")]
pub use site::{format_of, is_runtime_file, model_files, previous_site, site_layout};
#[cfg(feature = "models")]
pub use vector_index::JsVectorIndex;

/// The prompt fields of the JS `AssembleOptions` (`Docent.assemble`) and `SiteAssembleOptions`
/// (`SiteIndex.assemble`): `{k?, budget?, system?, user?, abstain?}`, each defaulting to
/// [`PromptOptions::default`]'s. Callers check the keys first ([`from_js`]); keys of their own
/// (such as `vector`) are left to them.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PromptFields {
    k: Option<usize>,
    budget: Option<usize>,
    system: Option<String>,
    user: Option<String>,
    abstain: Option<String>,
    history: Option<Vec<crate::conversation::Turn>>,
    history_tokens: Option<usize>,
}

impl PromptFields {
    /// The prompt options these fields give.
    fn options(self) -> crate::prompt::PromptOptions {
        let d = crate::prompt::PromptOptions::default();
        crate::prompt::PromptOptions {
            k: self.k.unwrap_or(d.k),
            budget: self.budget.unwrap_or(d.budget),
            system: self.system.unwrap_or(d.system),
            user: self.user.unwrap_or(d.user),
            abstain: self.abstain.unwrap_or(d.abstain),
            history: self.history.unwrap_or(d.history),
            history_tokens: self.history_tokens.unwrap_or(d.history_tokens),
        }
    }
}

/// Installs the panic hook, so a panic (always a bug) prints its message on the console
/// instead of a bare `unreachable` trap.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Bytes of this module's WebAssembly memory (`WebAssembly.Memory.buffer.byteLength`): the high-water
/// mark of everything docent holds. wasm memory never shrinks; memory freed by `free()` (or by
/// garbage-collected instances) is reused by the next allocations instead. At most 4 GiB.
#[wasm_bindgen(js_name = memoryBytes)]
pub fn memory_bytes() -> f64 {
    (core::arch::wasm32::memory_size::<0>() as f64) * 65536.0
}

/// `followupQuery(question, history?)`: the query docent searches with for `question` after the
/// earlier turns `history` (`[{question, answer?, sources?}]`, oldest first): the question itself when it
/// stands on its own, else with the salient terms of the conversation's topic
/// (`conversation::retrieval_query`). A page that embeds questions itself embeds this, so the
/// vector it passes to `assemble` matches the query the index searches with.
#[wasm_bindgen(js_name = followupQuery)]
pub fn followup_query(
    question: &str,
    #[wasm_bindgen(unchecked_param_type = "Turn[] | undefined")] history: JsValue,
) -> std::result::Result<String, JsError> {
    let history: Vec<crate::conversation::Turn> = if history.is_undefined() || history.is_null() {
        Vec::new()
    } else {
        serde_wasm_bindgen::from_value(history).map_err(|e| {
            Error::invalid("history", format!("expected an array of {{question, answer?, sources?}}: {e}"))
        })?
    };
    crate::conversation::check_history(&history, "history")?;
    Ok(crate::conversation::retrieval_query(question, &history))
}

/// `xxh3(bytes)`: the xxh3-64 checksum of `bytes` as 16 lowercase hex digits, exactly what
/// `docent index` writes in `manifest.json` (`xxh3` of the index, and of every file in `files`),
/// so the npm CLI writes the same manifest and a loader can check a download against it.
#[wasm_bindgen]
pub fn xxh3(bytes: &[u8]) -> String {
    crate::embed::fingerprint(bytes)
}

// The result shapes both modules hand out (`Docent` in the full one, `SiteIndex` in both).
#[wasm_bindgen(typescript_custom_section)]
const TS_RESULTS: &'static str = r#"
export interface Hit {
  /** `url#anchor` of the chunk. */
  url: string;
  title: string;
  /** Heading path, ` > `-joined. */
  heading: string;
  /** Fused score. */
  score: number;
  text: string;
  /** Dense cosine similarity, when the chunk was a dense candidate. */
  dense: number | null;
  /** BM25 score, when the chunk was a lexical candidate. */
  lexical: number | null;
  /** The chunk's id in the index. */
  chunk: number;
}

export interface SearchResult {
  /** The relevance gate's verdict: does the corpus cover this query? */
  answerable: boolean;
  hits: Hit[];
  /** The gate's signals: best dense similarity, best lexical coverage, and (0..=1) the dense
   * gap to the 10th hit, the best chunk's coverage, the share of salient terms the corpus has,
   * the normalised best BM25 and fused scores. */
  evidence: {
    dense: number; coverage: number; denseGap: number; topCoverage: number;
    present: number; lexical: number; fused: number;
  };
  /** Salient terms of the query that occur nowhere in the documents, as written. */
  missing?: string[];
}

export interface Source {
  /** Citation number, from 1. */
  n: number;
  url: string;
  title: string;
  heading: string;
  text: string;
  score: number;
}

/** One earlier turn of a conversation (`history` of `assemble`'s options). */
export interface Turn {
  question: string;
  /** The answer shown for it; its `[n]` markers are left out of the prompt. Default "". */
  answer?: string;
  /** The `page#anchor` urls of the sources shown with the answer, best first (at most 50):
   * a follow-up finds its words on their pages first. Default []: the topic question is
   * searched for its pages instead. */
  sources?: string[];
}

export interface Prompt {
  system: string;
  /** The last user message: the sources and the question. */
  user: string;
  /** system, the earlier turns that fit (user, assistant, …), then user. */
  messages: { role: "system" | "user" | "assistant"; content: string }[];
  sources: Source[];
  /** True when the relevance gate found nothing relevant. */
  abstained: boolean;
  /** Tokens of every message's text, added up. */
  tokens: number;
  /** Earlier turns the prompt carries (the latest of `history` that fit). */
  turns: number;
  /** The query the sources were retrieved with, when a follow-up's differs from its question. */
  query?: string;
  /** When it abstained for terms the documents never mention: those terms
   * (`notMentioned(missing)` is the sentence to show). */
  missing?: string[];
}

/** The embedder an index was built with (the record every index stores). */
export interface EmbedderInfo {
  kind: "minilm" | "static" | "hashing" | "vectors";
  /** Model id, e.g. `sentence-transformers/all-MiniLM-L6-v2 (int8)`. */
  model: string;
  dim: number;
  /** xxh3 of the weight bytes as 16 hex digits (`0000000000000000` without weights). */
  fingerprint: string;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `SearchResult` in TypeScript.
    #[wasm_bindgen(typescript_type = "SearchResult")]
    pub type JsSearchResult;
    /// `Prompt` in TypeScript.
    #[wasm_bindgen(typescript_type = "Prompt")]
    pub type JsPrompt;
    /// `EmbedderInfo` in TypeScript.
    #[wasm_bindgen(typescript_type = "EmbedderInfo")]
    pub type JsEmbedderInfo;
}

// ---------------------------------------------------------------------------------------------
// Conversions

/// Reads an options object (`undefined`/`null` give the defaults); `name` names it in errors.
/// A key outside `fields` is an error (serde-wasm-bindgen only looks up the fields it knows, so
/// a misspelt option would otherwise be ignored silently).
pub(crate) fn from_js<T: for<'de> Deserialize<'de> + Default>(
    value: Option<&JsValue>,
    name: &str,
    fields: &[&str],
) -> Result<T> {
    let Some(value) = value else { return Ok(T::default()) };
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    if !value.is_object() || Array::is_array(value) {
        return Err(Error::invalid(name, format!("expected an object, found {}", js_kind(value))));
    }
    for key in Object::keys(value.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !fields.contains(&key.as_str()) {
            return Err(Error::invalid(
                name,
                format!("unknown field {key:?}, expected one of {}", fields.join(", ")),
            ));
        }
    }
    serde_wasm_bindgen::from_value(value.clone()).map_err(|e| Error::invalid(name, serde_message(e)))
}

/// The text of a serde-wasm-bindgen error: the message of the JS `Error` it wraps, without the
/// `Error: ` its `Display` puts in front.
pub(crate) fn serde_message(e: serde_wasm_bindgen::Error) -> String {
    let v = JsValue::from(e);
    match v.dyn_ref::<js_sys::Error>() {
        Some(err) => String::from(err.message()),
        None => v.as_string().unwrap_or_else(|| format!("{v:?}")),
    }
}

/// Turns a small result into a plain JS object (`None` becomes `null`, maps become objects).
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue> {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&ser).map_err(|e| Error::format("result", format!("could not convert to JS: {e}")))
}

/// What `typeof`-like word describes a JS value, for error messages.
pub(crate) fn js_kind(v: &JsValue) -> String {
    if v.is_null() {
        return "null".into();
    }
    if v.is_undefined() {
        return "undefined".into();
    }
    if Array::is_array(v) {
        return "an array".into();
    }
    match v.js_typeof().as_string() {
        Some(t) if t == "object" => {
            let name = Reflect::get(v, &"constructor".into())
                .ok()
                .and_then(|c| Reflect::get(&c, &"name".into()).ok())
                .and_then(|n| n.as_string());
            match name {
                Some(n) => format!("a {n}"),
                None => "an object".into(),
            }
        }
        Some(t) => format!("a {t}"),
        None => "an unknown value".into(),
    }
}
