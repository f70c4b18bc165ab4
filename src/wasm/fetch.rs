//! The fragment source of a site folder served over HTTP: `fetch` with an `AbortSignal`
//! timeout, and the Cache API (cache [`FRAGMENT_CACHE`]) for fragments when it exists.
//!
//! One call of [`FragmentSource::fetch`] is one stage of a question: every path is looked up in
//! the cache together, every miss is requested together, then all are awaited. The bytes go to the
//! core unparsed; the core checks their size, name (checksum) and header. A fragment is put in the
//! cache only when its bytes hash to its name, so a damaged download is never kept.
//!
//! Byte ranges of ranged text packs ([`FragmentSource::fetch_ranges`]) are requested with a
//! `Range` header, all of one stage together, and not kept in the Cache API (which refuses
//! partial responses; the core keeps the records it read). A host that ignores `Range` answers
//! 200 with the whole file, which is cut here: correct, only costlier.
//!
//! Errors are one sentence naming the URL and what failed: `<url>: HTTP 404 Not Found`,
//! `<url>: no answer within 10 s (timed out)`, `<url>: network error (Failed to fetch)`.

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Cache, CacheStorage, Request, RequestInit, Response};

use crate::fragments::{cut, FragmentSource, Span};
use crate::{Error, Result};

/// Name of the Cache API cache holding fragments. Their names are their checksums, so an entry
/// never goes stale; bump the suffix if the container format changes.
pub const FRAGMENT_CACHE: &str = "docent-fragments-v1";

thread_local! {
    /// Set once a fetched fragment failed its checks: from then on fragments are fetched with
    /// `cache: "reload"`, so a damaged copy in the browser's HTTP cache (fragments are immutable,
    /// so it may be kept for a year) is replaced rather than served again on a retry.
    static RELOAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Makes later fragment requests of this module bypass the HTTP cache (see [`RELOAD`]): called
/// when a fragment failed its size, name or header check.
pub fn bypass_http_cache() {
    RELOAD.with(|r| r.set(true));
}

/// Default time a stage's requests may take, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (a page, a worker and Node 18+ all have one).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &Request) -> Promise;
}

/// Fragments of the site folder at `base` (an absolute URL ending in `/`).
pub struct FetchSource {
    base: String,
    timeout_ms: u32,
    cache: Option<Cache>,
}

impl FetchSource {
    /// A source for the folder `base`; opens the fragment cache when the Cache API exists (an
    /// opaque origin or disabled storage just means no cache).
    pub async fn new(base: String, timeout_ms: u32) -> FetchSource {
        FetchSource { base, timeout_ms, cache: open_cache().await }
    }

    /// The absolute URL of `path` (relative to the folder).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The bytes at `url`, revalidated with the server (`cache: "no-cache"`): for the manifest,
    /// which changes on every re-index.
    pub async fn fetch_fresh(&self, url: &str) -> Result<Vec<u8>> {
        let signal = AbortSignal::timeout_with_u32(self.timeout_ms);
        let request = request(url, &signal, web_sys::RequestCache::NoCache)?;
        let settled = settle(vec![global_fetch(&request)]).await.pop().unwrap_or(Err(JsValue::UNDEFINED));
        let response = self.check(url, settled)?;
        let body = self.body(url, &response).await;
        drop(request); // held to here, as in `download`
        body
    }

    /// [`FetchSource::fetch_fresh`] for a request the caller started before this module was
    /// ready (`started`: the promise `fetch(url, {cache: "no-cache"})` returned, so the manifest
    /// downloads while the module does): judged and read here exactly as if made here.
    pub async fn fetch_started(&self, url: &str, started: Promise) -> Result<Vec<u8>> {
        let settled = JsFuture::from(started).await;
        let response = self.check(url, settled)?;
        self.body(url, &response).await
    }

    /// The outcome of a `fetch`: its response when the status is 2xx.
    fn check(&self, url: &str, settled: std::result::Result<JsValue, JsValue>) -> Result<Response> {
        let value = settled.map_err(|e| self.failure(url, &e))?;
        let response: Response = value.dyn_into().map_err(|_| io_error(url, "fetch gave no Response"))?;
        if !response.ok() {
            let text = response.status_text();
            let status = if text.is_empty() {
                format!("HTTP {}", response.status())
            } else {
                format!("HTTP {} {text}", response.status())
            };
            return Err(io_error(url, &status));
        }
        Ok(response)
    }

    /// Reads a response's body.
    async fn body(&self, url: &str, response: &Response) -> Result<Vec<u8>> {
        let pending = response.array_buffer().map_err(|e| self.failure(url, &e))?;
        let buffer = JsFuture::from(pending).await.map_err(|e| self.failure(url, &e))?;
        Ok(Uint8Array::new(&buffer).to_vec())
    }

    /// The error for a rejected request: a timeout (the signal's `TimeoutError`) or a network
    /// failure (a `TypeError` from `fetch`).
    fn failure(&self, url: &str, e: &JsValue) -> Error {
        let name = Reflect::get(e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
        if name == "TimeoutError" || name == "AbortError" {
            let secs = f64::from(self.timeout_ms) / 1000.0;
            return Error::io(
                url,
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {secs} s (timed out)"),
                ),
            );
        }
        let message = Reflect::get(e, &"message".into()).ok().and_then(|m| m.as_string());
        let detail = message.filter(|m| !m.is_empty()).unwrap_or_else(|| "request failed".into());
        io_error(url, &format!("network error ({detail})"))
    }

    /// Requests every URL of `urls` at once under one timeout (with the `Range` header `range(i)`
    /// gives, if any), all settled before any is judged (so no request is left without a
    /// handler when another fails), and reads every body: each response's status and bytes, in
    /// order. Errors as [`FetchSource::check`] and [`FetchSource::failure`] say.
    async fn download(
        &self,
        urls: &[&str],
        range: impl Fn(usize) -> Option<String>,
    ) -> Result<Vec<(u16, Vec<u8>)>> {
        let signal = AbortSignal::timeout_with_u32(self.timeout_ms);
        let mode = if RELOAD.with(std::cell::Cell::get) {
            web_sys::RequestCache::Reload
        } else {
            web_sys::RequestCache::Default
        };
        // The `Request` objects are held until every body is read: Node's `fetch` follows a
        // Request's signal only through a weak reference, so a Request collected while its answer
        // is pending would never see the timeout (and wait for Node's own 300 s limit).
        let mut held = Vec::with_capacity(urls.len());
        let mut requests = Vec::with_capacity(urls.len());
        for (i, url) in urls.iter().enumerate() {
            let r = request(url, &signal, mode)?;
            if let Some(range) = range(i) {
                r.headers()
                    .set("Range", &range)
                    .map_err(|_| io_error(url, "could not set the Range header"))?;
            }
            requests.push(global_fetch(&r));
            held.push(r);
        }
        let mut responses = Vec::with_capacity(urls.len());
        for (url, settled) in urls.iter().zip(settle(requests).await) {
            responses.push(self.check(url, settled)?);
        }
        let mut bodies = Vec::with_capacity(responses.len());
        for (url, r) in urls.iter().zip(&responses) {
            bodies.push(r.array_buffer().map_err(|e| self.failure(url, &e))?);
        }
        let mut out = Vec::with_capacity(urls.len());
        for ((url, r), settled) in urls.iter().zip(&responses).zip(settle(bodies).await) {
            let buffer = settled.map_err(|e| self.failure(url, &e))?;
            out.push((r.status(), Uint8Array::new(&buffer).to_vec()));
        }
        drop(held);
        Ok(out)
    }
}

impl FragmentSource for FetchSource {
    async fn fetch(&self, paths: &[String]) -> Result<Vec<Vec<u8>>> {
        let urls: Vec<String> = paths.iter().map(|p| self.url(p)).collect();
        let mut out: Vec<Option<Vec<u8>>> = vec![None; paths.len()];
        // The cache first, every path at once.
        if let Some(cache) = &self.cache {
            let hits = settle(urls.iter().map(|u| cache.match_with_str(u)).collect()).await;
            let found: Vec<(usize, Response)> = hits
                .into_iter()
                .enumerate()
                .filter_map(|(i, hit)| Some((i, hit.ok()?.dyn_into::<Response>().ok()?)))
                .collect();
            let reads = found.iter().map(|(_, r)| r.array_buffer().unwrap_or_else(|e| Promise::reject(&e)));
            for ((i, _), body) in found.iter().zip(settle(reads.collect()).await) {
                let Ok(body) = body else { continue };
                let bytes = Uint8Array::new(&body).to_vec();
                if matches_name(&paths[*i], &bytes) {
                    out[*i] = Some(bytes);
                }
            }
        }
        // Then the network: every miss at once.
        let missing: Vec<usize> = (0..paths.len()).filter(|&i| out[i].is_none()).collect();
        let miss_urls: Vec<&str> = missing.iter().map(|&i| urls[i].as_str()).collect();
        let got = self.download(&miss_urls, |_| None).await?;
        let mut puts = Vec::new();
        for (&i, (_, bytes)) in missing.iter().zip(got) {
            if let Some(cache) = &self.cache {
                if matches_name(&paths[i], &bytes) {
                    puts.push(cache.put_with_str(&urls[i], &cached_response(&bytes)?));
                }
            }
            out[i] = Some(bytes);
        }
        if !puts.is_empty() {
            // Not waited for: a full or failing cache only costs a download next time.
            wasm_bindgen_futures::spawn_local(async move {
                settle(puts).await;
            });
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }

    async fn fetch_ranges(&self, spans: &[Span]) -> Result<Vec<Vec<u8>>> {
        let urls: Vec<String> = spans.iter().map(|s| self.url(&s.path)).collect();
        let url_refs: Vec<&str> = urls.iter().map(String::as_str).collect();
        let range = |i: usize| Some(format!("bytes={}-{}", spans[i].start, spans[i].end.saturating_sub(1)));
        // A failed range is fetched past the HTTP cache from then on: Chromium answers a range of
        // a response it cached (a 404 of a fragment not yet deployed) with its own 416, which a
        // Retry would otherwise meet again.
        let got = self.download(&url_refs, range).await.inspect_err(|_| bypass_http_cache())?;
        // 206: the range itself. 200: the host sent the whole file.
        Ok(spans
            .iter()
            .zip(got)
            .map(
                |(s, (status, bytes))| {
                    if status == 206 {
                        bytes
                    } else {
                        cut(&bytes, s.start, s.end).to_vec()
                    }
                },
            )
            .collect())
    }
}

/// Waits for every promise (`Promise.allSettled`): each one's value or rejection reason, in order.
async fn settle(promises: Vec<Promise>) -> Vec<std::result::Result<JsValue, JsValue>> {
    if promises.is_empty() {
        return Vec::new();
    }
    let all: js_sys::Array = promises.into_iter().collect();
    let Ok(results) = JsFuture::from(Promise::all_settled(&all)).await else {
        return Vec::new(); // allSettled never rejects
    };
    js_sys::Array::from(&results)
        .iter()
        .map(|r| {
            let field = |name: &str| Reflect::get(&r, &name.into()).unwrap_or(JsValue::UNDEFINED);
            if field("status").as_string().as_deref() == Some("fulfilled") {
                Ok(field("value"))
            } else {
                Err(field("reason"))
            }
        })
        .collect()
}

/// Whether `bytes` hash to the `<h>` of a fragment name `…-<h>.bin` (what the core checks too;
/// here it only decides what is worth caching).
fn matches_name(path: &str, bytes: &[u8]) -> bool {
    let hash = path.strip_suffix(".bin").and_then(|s| s.rsplit_once('-')).map(|(_, h)| h);
    hash.is_some_and(|h| h == crate::embed::fingerprint(bytes))
}

fn request(url: &str, signal: &AbortSignal, cache: web_sys::RequestCache) -> Result<Request> {
    let init = RequestInit::new();
    init.set_signal(Some(signal));
    init.set_cache(cache);
    Request::new_with_str_and_init(url, &init).map_err(|e| {
        let message =
            Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default();
        io_error(url, &format!("not a valid request URL ({message})"))
    })
}

fn cached_response(bytes: &[u8]) -> Result<Response> {
    let body = Uint8Array::from(bytes);
    Response::new_with_opt_buffer_source(Some(&body))
        .map_err(|_| Error::format("fragment cache", "could not make a Response to cache"))
}

/// `caches.open(FRAGMENT_CACHE)`, or `None` without the Cache API (Node, opaque origins, storage
/// disabled).
async fn open_cache() -> Option<Cache> {
    let storage = Reflect::get(&js_sys::global(), &"caches".into()).ok()?;
    let storage: CacheStorage = storage.dyn_into().ok()?;
    let cache = JsFuture::from(storage.open(FRAGMENT_CACHE)).await.ok()?;
    cache.dyn_into().ok()
}

fn io_error(url: &str, what: &str) -> Error {
    Error::io(url, std::io::Error::other(what.to_string()))
}
