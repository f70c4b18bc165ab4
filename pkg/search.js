// Search a static site's fragmented index (`docent/search`): the lean path of the first answer.
//
//   import { openSite, createEmbedder } from 'docent/search';
//   const site = await openSite('/docent/');                 // the lean module + manifest.json
//   const first = await site.search('how do I publish?');     // lexical: a few kB of fragments
//   const embedder = await createEmbedder('/docent/', { embedder: site.embedder() });
//   const vector = await embedder.embed(['publishing a crate']); // Float32Array of embedder.dim
//   const later = await site.search('publishing a crate', { vector }); // hybrid
//
// `openSite` loads only docent_search_bg.wasm (no tokenizer, no model: ~180 kB gzip). The
// embedder is the full module (docent_wasm_bg.wasm) with the index's model, in a Web Worker by
// default: this module imports docent.js only when `createEmbedder` is called.
import initLean, { SiteIndex, followupQuery, offlineAnswer } from './docent_search.js';
import { setOfflineCore } from './llm/offline.js';
import { wasmSource } from './wasm-source.js';

let ready;

/**
 * Loads and instantiates the lean module once; later calls return the same promise. In
 * browsers it is fetched next to this file (or from `input`); Node reads it from disk.
 * @param {URL | string | Request | Response | BufferSource | WebAssembly.Module} [input]
 * @returns {Promise<void>}
 */
export function initSearch(input) {
  if (!ready) {
    ready = (async () => {
      await initLean(await wasmSource(input, new URL('./docent_search_bg.wasm', import.meta.url)));
      // The offline provider answers with the core's code without the full module.
      setOfflineCore(offlineAnswer);
    })().catch((e) => {
      ready = undefined; // a failed load may be retried
      throw e;
    });
  }
  return ready;
}

/**
 * Opens the fragmented index of a site folder written by `docent index` (its `manifest.json`
 * has a `fragments` table). Questions then fetch only the fragments they need, verified against
 * their names and kept in the Cache API (`docent-fragments-v1`).
 *
 * Rejects with an Error named `DocentNotFragmented` when the folder's manifest has no fragments
 * (an older `docent index`; `loadDocent` reads it), and otherwise with an Error whose message is
 * one sentence naming the URL and what failed (HTTP status, timeout, network, damaged manifest).
 * @param {string | URL} baseUrl folder of the index, e.g. `'/docent/'` (a missing final `/` is added)
 * @param {{timeoutMs?: number}} [options] `timeoutMs`: most milliseconds one fetch stage may take
 *   (default 10000); an unknown option is an error
 * @returns {Promise<SiteIndex>}
 */
export async function openSite(baseUrl, options) {
  const folder = folderUrl(baseUrl);
  // The manifest downloads while the module does (one round trip less before the first answer);
  // the module judges the response exactly as its own request (status, timeout, body).
  const manifest = options?.manifest ?? startManifest(folder, options?.timeoutMs);
  await initSearch();
  return SiteIndex.open(folder.href, manifest ? { ...options, manifest } : options);
}

/**
 * `fetch(folder + 'manifest.json')` as the lean module makes it (revalidated, under the stage
 * timeout), or `undefined` when it cannot be started here (no `fetch`, or a `timeoutMs` the module
 * will refuse with its own error).
 */
function startManifest(folder, timeoutMs = 10000) {
  if (typeof fetch !== 'function' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600000) {
    return undefined;
  }
  const started = fetch(new URL('manifest.json', folder), {
    cache: 'no-cache',
    signal: AbortSignal.timeout(timeoutMs),
  });
  started.catch(() => {}); // judged (and reported) by the module
  return started;
}

/**
 * The embedder of a site's index, for hybrid questions (`site.search(q, {vector})`): the full
 * module with the index's model files (Cache API `docent-models-v1`), in a Web Worker by default
 * so that loading and embedding never block the page, and so that only the worker fetches them.
 * @param {string | URL} baseUrl folder of the index (its `model/` holds the model files)
 * @param {object} [options]
 * @param {boolean | Worker} [options.worker] default `true` where Web Workers exist (a Worker you
 *   started from `docent/worker` is adopted); `false` embeds on this thread
 * @param {{kind: string, dim: number, fingerprint: string}} [options.embedder] the index's embedder
 *   (`site.embedder()`); saves fetching `manifest.json` again, and the loaded model's fingerprint
 *   is checked against it
 * @param {{baseUrl?: string | URL}} [options.model] where the model files are; default `baseUrl + 'model/'`
 * @param {Function} [options.onProgress] model download progress, as `loadDocent` reports it
 * @returns {Promise<{embed(texts: string[]): Promise<Float32Array>, dim: number, embedder: object, free(): void}>}
 */
export async function createEmbedder(baseUrl, { worker, embedder, model, onProgress } = {}) {
  const base = folderUrl(baseUrl);
  const info = embedder ?? (await manifestEmbedder(base));
  if (info === null || typeof info !== 'object' || typeof info.kind !== 'string') {
    throw new Error(`createEmbedder: options.embedder must be the index's embedder ({kind, dim, fingerprint}, e.g. site.embedder()), found ${JSON.stringify(info)}`);
  }
  if (info.kind === 'vectors') {
    throw new Error(`${base}: the index holds vectors supplied by its author (embedder "vectors"); embed questions with the same model yourself and pass {vector}`);
  }
  const { createDocent } = await import('./docent.js');
  const options = { embedder: info.kind };
  if (info.kind === 'hashing') options.dim = info.dim;
  else options.model = { baseUrl: folderUrl(model?.baseUrl ?? new URL('model/', base)).href };
  const useWorker = worker ?? typeof Worker !== 'undefined';
  const docent = await createDocent(options, { worker: useWorker || undefined, onProgress });
  const free = () => docent.free();
  try {
    const loaded = (await docent.stats()).embedder;
    if (typeof info.fingerprint === 'string' && loaded.fingerprint !== info.fingerprint) {
      throw new Error(`${base}: the model files are not the ones the index was built with (fingerprint ${loaded.fingerprint}, the index has ${info.fingerprint}); re-run \`docent index\` or fix model/`);
    }
    return {
      embed: async (texts) => docent.embed(texts),
      dim: docent.dim,
      embedder: loaded,
      free,
    };
  } catch (e) {
    free();
    throw e;
  }
}

/** The `embedder` record of the folder's manifest.json. */
async function manifestEmbedder(base) {
  const url = new URL('manifest.json', base);
  let res;
  try {
    res = await fetch(url, { cache: 'no-cache' });
  } catch (e) {
    throw new Error(`${url}: network error (${e?.message ?? e})`, { cause: e });
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  let m;
  try {
    m = JSON.parse(await res.text());
  } catch (e) {
    throw new Error(`${url}: not a docent manifest: invalid JSON (${e.message})`, { cause: e });
  }
  return m?.embedder;
}

/** An absolute URL ending in `/`, resolved against the page (or module) location. */
function folderUrl(url) {
  const base = typeof location !== 'undefined' ? location.href : import.meta.url;
  const u = new URL(String(url), base);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}


// followupQuery(question, history): the query a follow-up is searched with (after openSite or
// initSearch), which is what to embed for `assemble(question, {history, vector})`.
export { SiteIndex, followupQuery };
