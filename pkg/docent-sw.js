// docent-sw.js: the service worker that keeps a saved copy of a page with docent (a site with
// <docent-ask service-worker>, or the demo page) so that it opens and answers with the network off.
//
// A classic script (browsers load module service workers unevenly). A service worker controls the
// pages under the folder its script is served from, so serve a one-line script where its folder
// covers your pages, usually the site root:
//
//   // /docent-sw.js
//   importScripts('/docent/docent-sw.js');
//
// (or serve this file itself with the header `Service-Worker-Allowed: /`). The browser checks the
// imported script for changes too, so re-running `docent index` updates the worker.
//
// What it does with requests (same origin, GET, no Range header; anything else, such as a
// request to an LLM endpoint, passes untouched):
//   - a fragment of an index folder (`fragments/<kind>-<16 hex digits>.bin`: the name is the
//     checksum, so its bytes never change): from the cache when any cache holds it, else fetched
//     and kept;
//   - `manifest.json`: from the network, the saved copy's when the network fails; never kept on the
//     way through: only a complete save stores it, last, so the saved manifest names only files
//     the cache holds (as `docent index` writes fragments first and the manifest last);
//   - a local answer model (`*.gguf`): untouched (llm/local.js keeps it in OPFS, and reads it
//     from there offline);
//   - anything else (the page, its scripts and styles, the wasm, model files): from the network,
//     a complete 200 response kept (not a model file: docent.js keeps those in its own cache and
//     reads them from there, online or not); from the cache when the network fails, or has not answered
//     within NETWORK_WAIT_MS while a saved copy exists (a venue's Wi-Fi that connects but never
//     answers).
// Messages from the page (ask-offline.js):
//   {type: 'docent-keep', urls}: fetches and keeps those of this origin (an answer's cited pages;
//     one that fails is skipped).
//   {type: 'docent-save', id, urls, models, manifest, fingerprint}: fetches and keeps every url
//     (an immutable one only when no cache holds it; one of `models`, the index's model files,
//     only when the runtime's own model cache lacks it: 24 MB stored once, not twice), then the
//     manifest, whose `xxh3` must be
//     `fingerprint` (the index the page opened); then deletes the fragments of the same folder
//     that the new manifest does not name, from every cache of the origin. Answers the page with
//     {type: 'docent-save-progress', id, done, total, bytes} while it works, then
//     {type: 'docent-saved', id, bytes} or {type: 'docent-save-failed', id, error}.
// Caches: CACHE; when a new version of this worker activates, every older `docent-offline-` cache
// is deleted.
// Everything below is inside one function: a site's own worker that imports this script keeps
// its global names (its own `CACHE`, `complete`...) without a clash.

(() => {
  'use strict';

  /** The cache this worker keeps (bump the suffix when what it holds changes shape). */
  const CACHE = 'docent-offline-v1';
  const CACHE_PREFIX = 'docent-offline-';
  /** How long a request waits for the network before a saved copy answers, in ms. */
  const NETWORK_WAIT_MS = 4000;
  /** Downloads a save runs at once. */
  const PARALLEL = 4;
  /** A fragment's path: its name is its content's checksum. */
  const IMMUTABLE = /\/fragments\/[a-z]+-[0-9a-f]{16}\.bin$/;
  const MANIFEST = /\/manifest\.json$/;
  /** The cache docent.js keeps model files in (its MODEL_CACHE), and reads them from offline too. */
  const MODEL_CACHE = 'docent-models-v1';
  /** A local answer model's file (llm/local.js): never intercepted, never kept here. */
  const GGUF = /\.gguf$/i;
  /** An index's model files (the core's `modelFiles` table, every embedder: tests/js checks it). */
  const MODEL_FILE = /\/model\/(minilm\.int8|tokenizer\.json|config\.json|static\.bin)$/;

  self.addEventListener('install', () => {
    self.skipWaiting();
  });

  self.addEventListener('activate', (event) => {
    event.waitUntil((async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
      }
      // The page that registered the worker is controlled at once: what it fetches from now on
      // (the model, once the reader's page loads it) is kept without a reload.
      await self.clients.claim();
    })());
  });

  self.addEventListener('fetch', (event) => {
    const request = event.request;
    if (request.method !== 'GET' || request.headers.has('range')) return;
    const url = new URL(request.url);
    if (url.origin !== self.location.origin) return;
    // A local answer model: the provider keeps it in OPFS itself; a copy here would store it twice.
    if (GGUF.test(url.pathname)) return;
    if (IMMUTABLE.test(url.pathname)) event.respondWith(cacheFirst(request));
    // The manifest is stored only by a save; model files by the runtime itself (MODEL_CACHE).
    else event.respondWith(networkFirst(request, { keep: !MANIFEST.test(url.pathname) && !MODEL_FILE.test(url.pathname) }));
  });

  async function cacheFirst(request) {
    const hit = await caches.match(request);
    if (hit) return hit;
    const response = await fetch(request);
    if (complete(response)) await keep(request, response.clone());
    return response;
  }

  async function networkFirst(request, { keep: store }) {
    const saved = caches.match(request, { ignoreVary: true });
    const network = fetch(request).then(async (response) => {
      if (store && complete(response)) await keep(request, response.clone());
      return response;
    });
    network.catch(() => {}); // when the saved copy answered first, a later failure is nobody's
    // The network's answer, unless it fails (or is slow while a saved copy exists).
    const slow = new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT_MS, 'slow'));
    try {
      const first = await Promise.race([network, slow]);
      if (first !== 'slow') return first;
      const hit = await saved;
      return hit ?? (await network);
    } catch (e) {
      const hit = await saved;
      if (hit) return hit;
      throw e;
    }
  }

  /** A response worth keeping: complete (200, not a range), from this origin, not redirected. */
  function complete(response) {
    return response.status === 200 && response.type === 'basic' && !response.redirected;
  }

  async function keep(request, response) {
    try {
      await (await caches.open(CACHE)).put(request, response);
    } catch {
      // A full or unavailable cache: the page still works online.
    }
  }

  self.addEventListener('message', (event) => {
    const m = event.data;
    if (m?.type === 'docent-keep') event.waitUntil(keepPages(m.urls ?? []));
    if (m?.type !== 'docent-save') return;
    const reply = (message) => event.source?.postMessage({ id: m.id, ...message });
    event.waitUntil(
      save(m, (done, total, bytes) => reply({ type: 'docent-save-progress', done, total, bytes })).then(
        (bytes) => reply({ type: 'docent-saved', bytes }),
        (e) => reply({ type: 'docent-save-failed', error: String(e?.message ?? e) }),
      ),
    );
  });

  /** A save (see the header): resolves to the bytes downloaded. */
  async function save({ urls, models = [], manifest, fingerprint }, progress) {
    const cache = await caches.open(CACHE);
    const runtimeModels = await caches.open(MODEL_CACHE);
    const model = new Set(models);
    const queue = [...new Set(urls)];
    const total = queue.length;
    let done = 0;
    let bytes = 0;
    const one = async (url) => {
      if (IMMUTABLE.test(new URL(url).pathname) && (await caches.match(url))) return;
      if (model.has(url) && (await runtimeModels.match(url))) {
        await cache.delete(url);
        return;
      }
      const response = await fetchOk(url);
      const body = await response.blob();
      bytes += body.size;
      await cache.put(url, new Response(body, { headers: response.headers }));
    };
    const worker = async () => {
      while (queue.length) {
        await one(queue.shift());
        done += 1;
        progress(done, total, bytes);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    // The manifest last: the saved copy is complete only once it is there.
    const response = await fetchOk(manifest);
    const text = await response.text();
    let found;
    try {
      found = JSON.parse(text).xxh3;
    } catch {
      throw new Error(`${manifest}: not a docent manifest`);
    }
    if (found !== fingerprint) throw new Error(`${manifest} changed while it was being saved (the docs were updated); try again`);
    await cache.put(manifest, new Response(text, { headers: response.headers }));
    await prune(new URL('fragments/', manifest).href, new Set(urls));
    return bytes;
  }

  /** Keeps this origin's pages among `urls` (an answer's cited pages); one that fails is skipped. */
  async function keepPages(urls) {
    for (const url of urls) {
      if (new URL(url).origin !== self.location.origin) continue;
      try {
        const response = await fetch(url, { cache: 'no-cache' });
        if (complete(response)) await keep(new Request(url), response);
      } catch {
        // Not reachable now: the page is simply not in the copy.
      }
    }
  }

  async function fetchOk(url) {
    let response;
    try {
      response = await fetch(url, { cache: 'no-cache' });
    } catch (e) {
      throw new Error(`${url}: network error (${e?.message ?? e})`);
    }
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response;
  }

  /** Deletes, from every cache of the origin, the fragments under `folder` that `keep` does not name. */
  async function prune(folder, keepUrls) {
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        if (request.url.startsWith(folder) && !keepUrls.has(request.url)) await cache.delete(request);
      }
    }
  }
})();
