//! The `Docent` class: add documents, build, search, assemble prompts, save and reopen an index,
//! re-index incrementally and hand chunks to other workers to embed.

use std::sync::Arc;

use js_sys::{Function, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::{from_js, js_kind, to_js, JsEmbedderInfo, JsPrompt, JsSearchResult, PromptFields};
use crate::chunk::ChunkOptions;
use crate::embed::hashing::{self, Hashing};
use crate::embed::minilm::MiniLm;
use crate::embed::static_table::StaticTable;
use crate::embed::{Embedder, EmbedderKind};
use crate::engine::{Docent, Limits, Options};
use crate::ingest::pdf::PdfExtract;
use crate::ingest::{self, Format, Ingested};
use crate::retrieve::Mode;
use crate::site::{self, Canonicals, PageCounts, PageOutcome};
use crate::{Error, Result};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Prepared model files, as produced by `docent model` (or `./build.sh setup` in `models/`). */
export interface ModelFiles {
  /** `minilm.int8` (embedder `minilm`). */
  weights?: Uint8Array;
  /** `tokenizer.json` (embedders `minilm` and `static`). */
  tokenizer?: Uint8Array;
  /** `config.json` (embedder `minilm`). */
  config?: Uint8Array;
  /** `static.bin` (embedder `static`). */
  table?: Uint8Array;
}

export interface DocentOptions {
  /** `hashing` needs no model files; `static` needs `table` + `tokenizer`; `minilm` needs `weights` + `tokenizer` + `config`. */
  embedder: "hashing" | "static" | "minilm";
  model?: ModelFiles;
  /** Maximum tokens of body text per chunk. Default 200; range 16..=2048. */
  chunkTokens?: number;
  /** Tokens repeated between consecutive chunks. Default 32; less than half of chunkTokens. */
  overlap?: number;
  /** Dimension of the `hashing` embedder. Default 256; range 8..=4096. */
  dim?: number;
}

/** One document. Exactly one of `text`, `html`, `markdown`, `pdf`: a string, or the file's bytes,
 * which the core decodes (byte order mark, declared charset, UTF-8, else windows-1252, what
 * browsers assume; the native CLI guesses from the bytes instead), legacy encodings with the
 * platform's `TextDecoder`. A PDF is always its bytes; its chunks cite `url#page=N`. */
export interface DocumentInput {
  /** Where the document lives, without anchor; hits cite `url#anchor`. */
  url: string;
  /** Overrides the title found in the content (`<title>`, first heading). */
  title?: string;
  text?: string | Uint8Array;
  html?: string | Uint8Array;
  markdown?: string | Uint8Array;
  /** The bytes of a PDF (`new Uint8Array(await file.arrayBuffer())`): docent.js reads them with
   * the PDF module (`docent_pdf`, loaded on the first PDF), and `addDocument` / `addPage` then
   * return a Promise. The wasm class itself takes what that module's `extractPdf(bytes)` returns. */
  pdf?: Uint8Array | PdfExtract;
}

export interface SearchOptions {
  /** Hits to return. Default 5; range 1..=1000. */
  k?: number;
  /** Default `hybrid`. */
  mode?: "hybrid" | "dense" | "lexical";
}

export interface AssembleOptions {
  /** Sources to retrieve. Default 5; range 1..=50. */
  k?: number;
  /** Token budget of system + user. Default 2000; range 64..=1000000. */
  budget?: number;
  /** Template overrides (see the Rust docs of `PromptOptions`). */
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

export interface Stats {
  /** Live documents (removed ones not counted). */
  documents: number;
  /** Chunks of live documents. */
  chunks: number;
  /** Chunks not yet merged into the main dense index by `build()`: before the first build they are
   * not searchable; after it, added documents sit in a delta segment that is searched at once and
   * merged by the next `build()`. */
  pending: number;
  embedder: { kind: "minilm" | "static" | "hashing" | "vectors"; model: string; dim: number; fingerprint: string };
  denseKind: string;
  denseBytes: number;
}

export type ProgressCallback = (stage: "embed" | "dense" | "lexical" | "calibrate", done: number, total: number) => void;

"#;

#[wasm_bindgen]
extern "C" {
    /// `DocentOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "DocentOptions")]
    pub type JsDocentOptions;
    /// `ModelFiles` in TypeScript.
    #[wasm_bindgen(typescript_type = "ModelFiles")]
    pub type JsModelFiles;
    /// `DocumentInput` in TypeScript.
    #[wasm_bindgen(typescript_type = "DocumentInput")]
    pub type JsDocumentInput;
    /// `SearchOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "SearchOptions")]
    pub type JsSearchOptions;
    /// `AssembleOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "AssembleOptions")]
    pub type JsAssembleOptions;
    /// `Stats` in TypeScript.
    #[wasm_bindgen(typescript_type = "Stats")]
    pub type JsStats;
    /// `ProgressCallback` in TypeScript.
    #[wasm_bindgen(typescript_type = "ProgressCallback")]
    pub type JsProgress;
}

/// Calls a build's `onProgress(stage, done, total)` unless an earlier call threw; keeps the
/// first exception in `thrown`.
fn progress(
    callback: &Option<Function>,
    thrown: &mut Option<JsValue>,
    stage: &str,
    done: usize,
    total: usize,
) {
    if let (Some(f), None) = (callback, &thrown) {
        let args = (JsValue::from_str(stage), JsValue::from(done as f64), JsValue::from(total as f64));
        if let Err(e) = f.call3(&JsValue::NULL, &args.0, &args.1, &args.2) {
            *thrown = Some(e);
        }
    }
}

/// One model file from a `ModelFiles` object: `Uint8Array` or `ArrayBuffer`; `None` when absent.
fn model_file(model: &JsValue, field: &str) -> Result<Option<Vec<u8>>> {
    if model.is_undefined() || model.is_null() {
        return Ok(None);
    }
    if !model.is_object() {
        return Err(Error::invalid(
            "model",
            format!("expected an object of Uint8Arrays, found {}", js_kind(model)),
        ));
    }
    let v = Reflect::get(model, &field.into()).unwrap_or(JsValue::UNDEFINED);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Ok(Some(a.to_vec()));
    }
    if let Some(b) = v.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(Some(Uint8Array::new(b).to_vec()));
    }
    Err(Error::invalid(format!("model.{field}"), format!("expected a Uint8Array, found {}", js_kind(&v))))
}

/// A model file the embedder cannot do without.
fn require(model: &JsValue, field: &str, embedder: &str, file: &str) -> Result<Vec<u8>> {
    model_file(model, field)?.ok_or_else(|| {
        Error::invalid(
            format!("model.{field}"),
            format!("the {embedder} embedder needs the bytes of {file} (a Uint8Array), found none"),
        )
    })
}

/// Loads the embedder of `kind` from the model files in `model` (ignored for `hashing`).
fn load_embedder(kind: EmbedderKind, dim: usize, model: &JsValue) -> Result<Arc<dyn Embedder>> {
    Ok(match kind {
        EmbedderKind::Hashing => Arc::new(Hashing::new(dim)?),
        EmbedderKind::Static => {
            let table = require(model, "table", "static", "static.bin")?;
            let tok = require(model, "tokenizer", "static", "tokenizer.json")?;
            Arc::new(StaticTable::from_bytes(&table, &tok)?)
        }
        EmbedderKind::MiniLm => {
            let weights = require(model, "weights", "minilm", "minilm.int8")?;
            let tok = require(model, "tokenizer", "minilm", "tokenizer.json")?;
            let config = require(model, "config", "minilm", "config.json")?;
            Arc::new(MiniLm::from_bytes(&weights, &tok, &config)?)
        }
        EmbedderKind::Vectors => {
            return Err(Error::invalid(
                "embedder",
                "an index of caller-supplied vectors cannot embed text; use VectorIndex instead",
            ))
        }
    })
}

/// The keys of `DocentOptions`.
const ENGINE_FIELDS: &[&str] = &["embedder", "model", "chunkTokens", "overlap", "dim"];

/// The keys of `DocumentInput`.
const DOCUMENT_FIELDS: &[&str] = &["url", "title", "text", "html", "markdown", "pdf"];

/// The keys of `SearchOptions`.
const SEARCH_FIELDS: &[&str] = &["k", "mode"];

/// The keys of `AssembleOptions`.
const ASSEMBLE_FIELDS: &[&str] = &["k", "budget", "system", "user", "abstain", "history", "historyTokens"];

/// `DocentOptions` without `model` (read separately: it holds typed arrays).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct EngineOptions {
    embedder: Option<String>,
    chunk_tokens: Option<usize>,
    overlap: Option<usize>,
    dim: Option<usize>,
    #[allow(dead_code)]
    model: Option<serde::de::IgnoredAny>,
}

/// `DocumentInput`.
#[derive(Deserialize, Default)]
struct DocumentInput {
    url: Option<String>,
    title: Option<String>,
    text: Option<Body>,
    html: Option<Body>,
    markdown: Option<Body>,
    pdf: Option<PdfBody>,
}

/// A document's content: a string, or bytes (`Uint8Array`) to decode, or (field `pdf` only) what
/// the PDF module extracted from a PDF's bytes.
enum Body {
    Text(String),
    Bytes(Vec<u8>),
    Pdf(Box<PdfExtract>),
}

/// Field `pdf`: a [`Body`] that may also be a [`PdfExtract`] (a JS object).
struct PdfBody(Body);

impl<'de> Deserialize<'de> for PdfBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<PdfBody, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PdfBody;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a Uint8Array or the result of extractPdf")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<PdfBody, E> {
                Ok(PdfBody(Body::Text(v.to_string())))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> std::result::Result<PdfBody, E> {
                Ok(PdfBody(Body::Bytes(v.to_vec())))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> std::result::Result<PdfBody, E> {
                Ok(PdfBody(Body::Bytes(v)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<PdfBody, A::Error> {
                let e = PdfExtract::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(PdfBody(Body::Pdf(Box::new(e))))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Body, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Body;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a Uint8Array")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Body, E> {
                Ok(Body::Text(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> std::result::Result<Body, E> {
                Ok(Body::Text(v))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> std::result::Result<Body, E> {
                Ok(Body::Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> std::result::Result<Body, E> {
                Ok(Body::Bytes(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Body {
    fn len(&self) -> usize {
        match self {
            Body::Text(s) => s.len(),
            Body::Bytes(b) => b.len(),
            Body::Pdf(e) => e.text_bytes(),
        }
    }
}

/// What offering a page did: its url, its outcome, and how its bytes were read.
pub(super) struct Offered {
    pub(super) url: String,
    pub(super) outcome: PageOutcome,
    /// The encoding it was read in (`UTF-8` for a string).
    pub(super) encoding: &'static str,
    /// What decoding its bytes needs to tell ([`ingest::decode::Decoded::note`]), or for a PDF
    /// what reading it does ([`ingest::pdf_note`]).
    pub(super) note: Option<String>,
    /// Its format.
    pub(super) format: Format,
}

/// `SearchOptions`.
#[derive(Deserialize, Default)]
struct SearchOptions {
    k: Option<usize>,
    mode: Option<String>,
}

/// `Stats` with camelCase names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatsOut<'a> {
    documents: usize,
    chunks: usize,
    pending: usize,
    embedder: &'a crate::embed::EmbedderInfo,
    dense_kind: &'a str,
    dense_bytes: usize,
}

/// The default and the range of `k` for searches, as the engine checks them.
const DEFAULT_K: usize = 5;

// ---------------------------------------------------------------------------------------------
// Docent

/// A docent index: add documents, build, then search and assemble grounded prompts.
#[wasm_bindgen(js_name = Docent)]
pub struct JsDocent {
    pub(super) inner: Docent,
    /// Pages offered with `addPage` that were not indexed, by why.
    pub(super) pages: PageCounts,
    /// The pages of the site `addPage` indexes, for their canonical links (`expectPages`).
    pub(super) canonicals: Canonicals,
}

#[wasm_bindgen(js_class = Docent)]
impl JsDocent {
    /// `new Docent({embedder, model?, chunkTokens?, overlap?, dim?})`: an empty index.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsDocentOptions) -> std::result::Result<JsDocent, JsError> {
        let opts: EngineOptions = from_js(Some(&*options), "options", ENGINE_FIELDS)?;
        let Some(name) = opts.embedder else {
            return Err(Error::invalid(
                "embedder",
                "expected one of \"hashing\", \"static\", \"minilm\" in options.embedder, found none",
            )
            .into());
        };
        let kind = EmbedderKind::from_name(&name)?;
        let model = Reflect::get(&options, &"model".into()).unwrap_or(JsValue::UNDEFINED);
        let embedder = load_embedder(kind, opts.dim.unwrap_or(hashing::DEFAULT_DIM), &model)?;
        let defaults = ChunkOptions::default();
        let options = Options {
            chunk: ChunkOptions {
                max_tokens: opts.chunk_tokens.unwrap_or(defaults.max_tokens),
                overlap_tokens: opts.overlap.unwrap_or(defaults.overlap_tokens),
            },
            ..Options::default()
        };
        let mut inner = Docent::new(embedder, options)?;
        inner.set_limits(Limits::BROWSER);
        Ok(JsDocent { inner, pages: PageCounts::default(), canonicals: Canonicals::default() })
    }

    /// Loads an index written by `toBytes()` or `docent index` (`index.bin`). `model` holds the
    /// model files of the embedder recorded in the index (none for `hashing`).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8], model: Option<JsModelFiles>) -> std::result::Result<JsDocent, JsError> {
        let model: JsValue = model.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let info = Docent::embedder_of(bytes, "index")?;
        let embedder = load_embedder(info.kind, info.dim, &model)?;
        Ok(JsDocent {
            inner: Docent::from_bytes_with_limits(bytes, embedder, "index", Limits::BROWSER)?,
            pages: PageCounts::default(),
            canonicals: Canonicals::default(),
        })
    }

    /// The embedder recorded in index bytes (`toBytes()` or `index.bin`), read without loading
    /// the index: tells which model files `fromBytes` will need. Throws on bytes that are not a
    /// docent index (with the same message `fromBytes` would give).
    #[wasm_bindgen(js_name = embedderOf)]
    pub fn embedder_of(bytes: &[u8]) -> std::result::Result<JsEmbedderInfo, JsError> {
        Ok(to_js(&Docent::embedder_of(bytes, "index")?)?.unchecked_into())
    }

    /// Adds one document (`{url, title?, text | html | markdown | pdf}`); returns its number of
    /// chunks. An HTML page that asks not to be indexed (`noindex`, redirect stub…) is an error
    /// saying why, and so is a PDF that is encrypted, has no text layer, cannot be read or is over
    /// the PDF limits (`addPage` reports such pages, and pages without text, as outcomes instead).
    /// Before the first `build()` the document waits for it; once built (or loaded with
    /// `fromBytes`), it is embedded now and searchable at once, and the next `build()` merges it
    /// into the main index. To replace a document, `removeDocument(url)` it first.
    /// Refused (before it is parsed): content over 64 MiB, or a document that would take the
    /// index past 500,000 chunks (see `Limits` in the Rust docs: wasm32 memory is at most 4 GiB).
    /// A PDF's bytes through docent.js return a Promise (the PDF module is loaded and reads them
    /// first); everything else returns the number at once.
    #[wasm_bindgen(js_name = addDocument, unchecked_return_type = "number | Promise<number>")]
    pub fn add_document(&mut self, doc: JsDocumentInput) -> std::result::Result<usize, JsError> {
        let o = self.offer(&doc, false)?;
        if let (PageOutcome::Skipped { .. }, Format::Pdf, Some(note)) = (&o.outcome, o.format, &o.note) {
            return Err(Error::Document { url: o.url, reason: note.clone() }.into());
        }
        Ok(o.outcome.into_chunks(&o.url)?)
    }
}

impl JsDocent {
    /// Reads a `DocumentInput`, decodes its bytes (if given as bytes), parses it and offers it to
    /// the index: what `addDocument` and `addPage` share (`site`: the page is one of a site, whose
    /// canonical link may make it a duplicate). Returns the document's url and what became of it;
    /// errors are those of the input and of the engine, not a skipped, empty, duplicate or too
    /// large page.
    pub(super) fn offer(&mut self, doc: &JsValue, site: bool) -> Result<Offered> {
        let input: DocumentInput = from_js(Some(doc), "document", DOCUMENT_FIELDS)?;
        let url = input.url.unwrap_or_default();
        if url.trim().is_empty() {
            return Err(Error::Document { url: "(no url)".into(), reason: "the url is empty".into() });
        }
        let bodies = [
            (Format::Text, input.text),
            (Format::Html, input.html),
            (Format::Markdown, input.markdown),
            (Format::Pdf, input.pdf.map(|b| b.0)),
        ];
        let mut given = bodies.into_iter().filter_map(|(f, b)| b.map(|b| (f, b)));
        let (fmt, content) = match (given.next(), given.next()) {
            (Some(one), None) => one,
            (None, _) => {
                return Err(Error::Document {
                    url,
                    reason: "expected one of the fields text, html, markdown or pdf, found none".into(),
                })
            }
            (Some(_), Some(_)) => {
                return Err(Error::Document {
                    url,
                    reason: "expected exactly one of the fields text, html, markdown or pdf, found several"
                        .into(),
                })
            }
        };
        // Before decoding and parsing: a page over the limit would cost several times its size.
        if let Some(outcome) = site::too_large(&self.inner, &url, content.len()) {
            return Ok(Offered { url, outcome, encoding: "UTF-8", note: None, format: fmt });
        }
        if fmt == Format::Pdf {
            return self.offer_pdf(url, content, input.title, site);
        }
        let (content, encoding, note) = match content {
            Body::Text(s) => (s, "UTF-8", None),
            Body::Bytes(b) => {
                let d = ingest::decode::decode_with(&b, fmt, &super::decode::Platform);
                let note = d.note();
                (d.text, d.encoding, note)
            }
            // Only field `pdf` deserializes to this, and a PDF returned above.
            Body::Pdf(_) => {
                return Err(Error::Document { url, reason: "an extracted PDF belongs in field pdf".into() })
            }
        };
        let fallback = url.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string();
        let mut page = ingest::parse(&url, &fallback, &content, fmt)?;
        if let (Ingested::Document(document), Some(t)) =
            (&mut page, input.title.filter(|t| !t.trim().is_empty()))
        {
            document.title = t;
        }
        let outcome = if site {
            let canonical = match fmt {
                Format::Html => ingest::decode::head(content.as_bytes()).canonical,
                Format::Markdown | Format::Text | Format::Pdf => None,
            };
            drop(content);
            site::add_site_page(&mut self.inner, &mut self.canonicals, page, canonical.as_deref())?
        } else {
            drop(content);
            site::add_page(&mut self.inner, page)?
        };
        Ok(Offered { url, outcome, encoding, note, format: fmt })
    }

    /// [`JsDocent::offer`] for a PDF: what the PDF module extracted from its bytes
    /// ([`ingest::pdf::read`], the second half of the CLI's reader). Its bytes themselves are
    /// refused: this module leaves lopdf out (docent.js reads them with the PDF module first).
    fn offer_pdf(
        &mut self,
        url: String,
        content: Body,
        title: Option<String>,
        site: bool,
    ) -> Result<Offered> {
        let extracted = match content {
            Body::Pdf(e) => *e,
            Body::Text(_) => {
                return Err(Error::Document {
                    url,
                    reason: "expected the PDF's bytes (a Uint8Array) in field pdf, found a string".into(),
                })
            }
            Body::Bytes(_) => {
                return Err(Error::Document {
                    url,
                    reason: "a PDF's bytes are read by the PDF module (docent_pdf.js), which docent.js \
                             loads when a PDF is added: add it through docent.js, or give extractPdf(bytes) \
                             of that module in field pdf"
                        .into(),
                })
            }
        };
        let fallback = url.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string();
        let read = ingest::pdf::read(&url, &fallback, extracted);
        let mut page = read.outcome;
        let note = ingest::pdf_note(&page, read.note.as_deref());
        if let (Ingested::Document(document), Some(t)) = (&mut page, title.filter(|t| !t.trim().is_empty())) {
            document.title = t;
        }
        let outcome = if site {
            site::add_site_page(&mut self.inner, &mut self.canonicals, page, None)?
        } else {
            site::add_page(&mut self.inner, page)?
        };
        Ok(Offered { url, outcome, encoding: "UTF-8", note, format: Format::Pdf })
    }
}

#[wasm_bindgen(js_class = Docent)]
impl JsDocent {
    /// Most bytes of one document's content: 64 MiB in this build (`Limits::BROWSER`). Larger
    /// content is refused before it is read; docent.js hands a larger PDF's bytes over unread, so
    /// that it is refused by the same check and message.
    #[wasm_bindgen(getter, js_name = maxDocumentBytes)]
    pub fn max_document_bytes(&self) -> usize {
        self.inner.limits().max_document_bytes
    }

    /// Removes the document with this `url` (as given to `addDocument`); returns how many chunks it
    /// had. It leaves search results at once, no `build()` needed. Throws when no document with
    /// this url is in the index.
    #[wasm_bindgen(js_name = removeDocument)]
    pub fn remove_document(&mut self, url: &str) -> std::result::Result<usize, JsError> {
        Ok(self.inner.remove_document(url)?)
    }

    /// Embeds the documents added since the last build, (re)builds both indexes and calibrates
    /// the site's gate on the corpus's own questions, as `docent index` does (`calibrateGate`;
    /// about 300 short queries embedded). `onProgress(stage, done, total)` is called along the
    /// way (`embed`, `dense`, `lexical`, then `calibrate` 0 of 1 and 1 of 1); if it throws, the
    /// build stops and its exception is rethrown.
    #[allow(non_snake_case)] // the parameter name is what TypeScript users see
    pub fn build(&mut self, onProgress: Option<JsProgress>) -> std::result::Result<(), JsValue> {
        let callback: Option<Function> = onProgress.and_then(|f| f.dyn_into::<Function>().ok());
        let mut thrown: Option<JsValue> = None;
        let result = self.inner.build(&mut |p| progress(&callback, &mut thrown, p.stage, p.done, p.total));
        if let Some(e) = thrown.take() {
            return Err(e);
        }
        result.map_err(JsError::from)?;
        progress(&callback, &mut thrown, "calibrate", 0, 1);
        if let Some(e) = thrown.take() {
            return Err(e);
        }
        self.inner.calibrate_gate().map_err(JsError::from)?;
        progress(&callback, &mut thrown, "calibrate", 1, 1);
        thrown.map_or(Ok(()), Err)
    }

    /// Fits the site's gate on calibration queries generated from the corpus and keeps it for
    /// `toBytes` and the fragment writer (`Docent::calibrate_gate`). `build` does it already;
    /// this fits again on the same corpus (the same gate). Throws when pages were added since
    /// the last build.
    #[wasm_bindgen(js_name = calibrateGate)]
    pub fn calibrate_gate(&mut self) -> std::result::Result<(), JsError> {
        self.inner.calibrate_gate().map_err(JsError::from)
    }

    /// Searches: `{answerable, hits, evidence}`. Options `{k?, mode?}`.
    pub fn search(
        &self,
        query: &str,
        options: Option<JsSearchOptions>,
    ) -> std::result::Result<JsSearchResult, JsError> {
        let o: SearchOptions = from_js(options.as_deref(), "search options", SEARCH_FIELDS)?;
        let mut retrieve = self.inner.options().retrieve.clone();
        if let Some(m) = o.mode {
            retrieve.mode = Mode::from_name(&m)?;
        }
        let result = self.inner.search_with(query, o.k.unwrap_or(DEFAULT_K), &retrieve)?;
        Ok(to_js(&result)?.unchecked_into())
    }

    /// Retrieves sources and assembles a grounded prompt: `{system, user, messages, sources,
    /// abstained, tokens, turns}`. Options `{k?, budget?, system?, user?, abstain?, history?,
    /// historyTokens?}`.
    pub fn assemble(
        &self,
        question: &str,
        options: Option<JsAssembleOptions>,
    ) -> std::result::Result<JsPrompt, JsError> {
        let fields: PromptFields = from_js(options.as_deref(), "assemble options", ASSEMBLE_FIELDS)?;
        let opts = fields.options();
        Ok(to_js(&self.inner.assemble(question, &opts)?)?.unchecked_into())
    }

    /// The built index as bytes (the same format as `docent index`'s `index.bin`), including
    /// documents added or removed since the last build.
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> std::result::Result<Vec<u8>, JsError> {
        Ok(self.inner.to_bytes()?)
    }

    /// Counts describing the index.
    pub fn stats(&self) -> std::result::Result<JsStats, JsError> {
        let s = self.inner.stats();
        let out = StatsOut {
            documents: s.documents,
            chunks: s.chunks,
            pending: s.pending,
            embedder: &s.embedder,
            dense_kind: &s.dense_kind,
            dense_bytes: s.dense_bytes,
        };
        Ok(to_js(&out)?.unchecked_into())
    }

    /// Embeds texts with the index's own embedder: a `Float32Array` of `texts.length × dim`.
    pub fn embed(&self, texts: Vec<String>) -> std::result::Result<Vec<f32>, JsError> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        Ok(self.inner.embed(&refs)?)
    }

    /// The embedder's output dimension.
    #[wasm_bindgen(getter)]
    pub fn dim(&self) -> usize {
        self.inner.embedder_info().dim
    }
}

// ---------------------------------------------------------------------------------------------
// Incremental re-indexing (self-contained: the class methods, their TypeScript shape)

#[wasm_bindgen(typescript_custom_section)]
const TS_REUSE: &'static str = r#"
/** What an incremental re-index reused (`Docent.reuseReport()`); counts of `addDocument` calls. */
export interface ReuseReport {
  /** Documents whose chunks and vectors came unchanged from the previous index. */
  reused: number;
  /** Documents chunked and embedded anew (new or changed, or all after a full rebuild). */
  embedded: number;
  /** Live documents of the previous index not added again; counted by `build()`. */
  removed: number;
  reusedChunks: number;
  embeddedChunks: number;
  /** Why nothing of the previous index could be reused, or null. */
  rebuild: string | null;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `ReuseReport` in TypeScript.
    #[wasm_bindgen(typescript_type = "ReuseReport")]
    pub type JsReuseReport;
}

/// `ReuseReport` with camelCase names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReuseOut<'a> {
    reused: usize,
    embedded: usize,
    removed: usize,
    reused_chunks: usize,
    embedded_chunks: usize,
    rebuild: Option<&'a str>,
}

#[wasm_bindgen(js_class = Docent)]
impl JsDocent {
    /// Before adding documents: lets `addDocument` reuse the chunks and vectors of unchanged
    /// documents (same url and content) from a previous index (`toBytes()` or `index.bin`), so
    /// `build()` embeds only new and changed ones. Returns why nothing could be reused (another
    /// embedder or chunk options, an unreadable index), or `undefined` when it will be.
    #[wasm_bindgen(js_name = reuseFrom)]
    pub fn reuse_from(&mut self, bytes: &[u8]) -> std::result::Result<Option<String>, JsError> {
        self.inner.reuse_from_bytes(bytes, "previous index")?;
        Ok(self.inner.reuse_report().rebuild.clone())
    }

    /// `{reused, embedded, removed, reusedChunks, embeddedChunks, rebuild}` (see `reuseFrom`).
    #[wasm_bindgen(js_name = reuseReport)]
    pub fn reuse_report(&self) -> std::result::Result<JsReuseReport, JsError> {
        let r = self.inner.reuse_report();
        let out = ReuseOut {
            reused: r.reused,
            embedded: r.embedded,
            removed: r.removed,
            reused_chunks: r.reused_chunks,
            embedded_chunks: r.embedded_chunks,
            rebuild: r.rebuild.as_deref(),
        };
        Ok(to_js(&out)?.unchecked_into())
    }
}

// ---------------------------------------------------------------------------------------------
// Embedding elsewhere (a pool of Web Workers): the chunks a build would embed, and their vectors

#[wasm_bindgen(typescript_custom_section)]
const TS_PENDING: &'static str = r#"
/** Chunks that `build()` would embed in one embedder call, with their texts (`pendingEmbeddings()`). */
export interface PendingGroup {
  /** Chunk ids, ascending. */
  chunks: number[];
  /** The text embedded for each chunk (heading path, then text). */
  texts: string[];
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `PendingGroup[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "PendingGroup[]")]
    pub type JsPendingGroups;
}

#[wasm_bindgen(js_class = Docent)]
impl JsDocent {
    /// The chunks the next `build()` would embed, in the groups it would embed them in (at most
    /// 32 each): embed each group's `texts` with one `embed(texts)` call of a Docent with the
    /// same model (e.g. in another Web Worker) and give the vectors back with `setVectors`; the
    /// index is then byte-identical to one whose `build()` embedded them. Empty once built
    /// (documents added later are embedded by `addDocument`).
    #[wasm_bindgen(js_name = pendingEmbeddings)]
    pub fn pending_embeddings(&self) -> std::result::Result<JsPendingGroups, JsError> {
        Ok(to_js(&self.inner.pending_embeddings())?.unchecked_into())
    }

    /// Vectors for pending chunks (`pendingEmbeddings()`), `chunks.length × dim` floats row-major,
    /// from the same embedder; `build()` then embeds only the chunks still without one. Throws,
    /// storing nothing, on a wrong length, a non-finite value or a chunk id that is not pending.
    #[wasm_bindgen(js_name = setVectors)]
    pub fn set_vectors(&mut self, chunks: &[u32], vectors: &[f32]) -> std::result::Result<(), JsError> {
        Ok(self.inner.set_vectors(chunks, vectors)?)
    }
}
