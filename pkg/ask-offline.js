// The saved copy for reading offline, from the page's side: registers the service worker
// (docent-sw.js, which the site serves where its scope covers the pages), asks it to save what the
// page needs to open and answer with the network off, and says where the copy stands in one
// sentence (STRINGS' `offline*`). Used by <docent-ask service-worker="…"> and the demo page.
//
// What is saved: the page and what it loaded (its scripts, styles, images), the web runtime, every
// fragment of the index and, once the page loaded the embedder, its model files: the lists come
// from the index's manifest (`SiteIndex.offlineFiles()`, the core's `Manifest::offline_files`).
// Once the reader agreed to download a local answer model (provider local), it is part of the copy
// too (`answerModel`): the copy is "ready" only when the model file is stored (the provider keeps it
// in OPFS itself) and llama.cpp's runtime files are saved; until then the line says what is missing.
// Which build the copy holds is the saved manifest's `xxh3` (`SiteSearch.indexId`): when the page
// opens another build (the docs were re-indexed), the copy is saved again and the worker removes
// the fragments the new manifest does not name.
// Must not: fetch the index itself (the worker does), or build markup (it only sets text).

/** Bytes as people read them (decimal, as download sizes are given). */
function size(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/**
 * The page and what it loaded, as the browser recorded it: the document's URL (without its
 * fragment) and the same-origin scripts, styles and images (not its fetches: the index's files
 * are listed by the manifest, and a ranged read is not a file).
 * @returns {string[]}
 */
export function pageFiles() {
  const page = new URL(location.href);
  page.hash = '';
  const loaded = performance.getEntriesByType('resource')
    .filter((e) => !['fetch', 'xmlhttprequest', 'beacon'].includes(e.initiatorType))
    .filter((e) => !e.responseStatus || e.responseStatus === 200) // where the browser records it
    .map((e) => e.name)
    .filter((u) => new URL(u).origin === location.origin);
  return [page.href, ...loaded];
}

/**
 * The URLs of the copy of an index folder and their size.
 * @param {{runtime: {path: string, bytes: number}[], model: object[], fragments: object[]}} files
 *   what `SiteIndex.offlineFiles()` lists
 * @param {{index: URL, runtime?: URL, model?: boolean}} where `index`: the index folder;
 *   `runtime`: where the page loads the runtime from (default the index folder); `model`: keep
 *   the model files too (once the page loaded the embedder)
 * @returns {{urls: string[], models: string[], bytes: number}} `models`: the model files among
 *   `urls` (the runtime keeps them in its own cache; the worker does not store them twice)
 */
export function copyFiles(files, { index, runtime = index, model = false }) {
  const models = model ? files.model.map((f) => [new URL(f.path, index).href, f.bytes]) : [];
  const entries = [
    ...files.runtime.map((f) => [new URL(f.path, runtime).href, f.bytes]),
    ...files.fragments.map((f) => [new URL(f.path, index).href, f.bytes]),
    ...models,
  ];
  return { urls: entries.map(([u]) => u), models: models.map(([u]) => u), bytes: entries.reduce((n, [, b]) => n + b, 0) };
}

let nextId = 1;

export class SavedCopy {
  #script;
  #onText;
  #strings;
  #registration = null;
  /** The save under way (one at a time), or null. */
  #saving = null;
  /** The copy last asked for: `{manifest, fingerprint}`. */
  #last = null;
  /**
   * The answer model the reader agreed to download, or null: `{stage: 'downloading', left}`
   * (bytes still to come, null when unknown), `{stage: 'stored', urls}` (its runtime's URLs, saved
   * with the copy) or `{stage: 'failed'}`.
   */
  #model = null;
  /** What the line says now: 'saving' | 'ready' | 'updated' | 'offline' | 'changed' | 'failed' | ''. */
  state = '';

  /**
   * @param {string | URL} script the service worker's URL (its folder is its scope)
   * @param {{strings: () => object, line: HTMLElement}} options `strings()`: the table to word
   *   the sentences from (STRINGS or a page's); `line`: where they are shown (its text, and the
   *   class `error` on a failure)
   */
  constructor(script, { strings, line }) {
    this.#script = new URL(String(script), document.baseURI);
    this.#strings = strings;
    this.#onText = (text, error) => {
      line.textContent = text;
      line.classList.toggle('error', error);
    };
    addEventListener('online', () => this.#online());
    addEventListener('offline', () => ['ready', 'updated'].includes(this.state) && this.#say('offline'));
  }

  /** Whether this browser can keep a copy (service workers need a secure context, e.g. https or 127.0.0.1). */
  static get supported() {
    return typeof navigator !== 'undefined' && 'serviceWorker' in navigator && typeof caches !== 'undefined';
  }

  /**
   * Makes the saved copy hold what `search` (an open SiteSearch of a fragmented index) needs:
   * its index, the runtime, the model once the embedder has loaded, and this page.
   * @param {import('./ask-search.js').SiteSearch} search
   * @param {{index: URL, runtime?: URL}} where the index folder, and where the page loads the
   *   runtime from (default the index folder)
   */
  async keep(search, { index, runtime = index }) {
    const files = await search.offlineFiles();
    if (!files || !search.indexId) return Promise.resolve();
    const model = search.embedState === 'ready';
    const copy = copyFiles(files, { index, runtime, model });
    return this.sync({ manifest: new URL('manifest.json', index), fingerprint: search.indexId.fingerprint, ...copy });
  }

  /**
   * Makes the saved copy hold the index the page opened, and says so.
   * @param {{manifest: URL, fingerprint: string, urls: string[], bytes: number}} copy the index's
   *   `manifest.json`, its build (`xxh3`), and every URL the copy needs with their total size
   */
  sync(copy) {
    if (!SavedCopy.supported) return Promise.resolve();
    this.#last = copy;
    const run = async () => {
      try {
        this.#registration ??= await register(this.#script);
        const saved = await savedBuild(copy.manifest);
        const urls = [...new Set([...copy.urls, ...pageFiles(), ...(this.#model?.urls ?? [])])];
        if (saved === copy.fingerprint && (await held(urls))) {
          // "Updated" stays until the page is reloaded (a later call adds the model, say).
          this.#say(navigator.onLine ? (this.state === 'updated' ? 'updated' : 'ready') : 'offline');
          return;
        }
        if (!navigator.onLine) {
          // An incomplete copy (the model not saved yet) waits for the network.
          if (saved === copy.fingerprint) this.#say('offline');
          return;
        }
        const updating = saved !== null && saved !== copy.fingerprint;
        this.#say(updating ? 'updating' : 'saving', 0, copy.bytes);
        await this.#save({ ...copy, urls }, updating);
        this.#say(updating ? 'updated' : 'ready');
      } catch (e) {
        this.#say('failed', e);
      }
    };
    // One save at a time; a later call (the model loaded meanwhile) runs after it.
    this.#saving = (this.#saving ?? Promise.resolve()).then(run);
    return this.#saving;
  }

  /**
   * Makes the answer model part of the copy, once the reader agreed to download it (provider
   * local), and says what it still lacks: the line says "ready" only once the model is stored and
   * `runtime` (llama.cpp's module and wasm) is saved with the rest.
   * @param {{stage: 'downloading', loaded?: number, total?: number} | {stage: 'stored', runtime: (string | URL)[]} | {stage: 'failed'}} state
   *   `downloading`: bytes so far of `total` (either unknown: left out); `stored`: the model file
   *   is in the browser's storage (a load from there needs no network); `failed`: the download
   *   stopped (the copy lacks the model until a later one succeeds)
   */
  answerModel(state) {
    if (state.stage === 'downloading') {
      const left = state.total > 0 ? Math.max(0, state.total - (state.loaded ?? 0)) : null;
      this.#model = { stage: 'downloading', left };
    } else if (state.stage === 'stored') {
      const urls = state.runtime.map((u) => new URL(String(u), document.baseURI).href);
      const same = this.#model?.stage === 'stored' && this.#model.urls.join() === urls.join();
      this.#model = { stage: 'stored', urls };
      // Its runtime joins the copy: saved now (a copy that holds it already only says so).
      if (!same && this.#last) this.sync(this.#last);
      return;
    } else if (state.stage === 'failed') {
      this.#model = { stage: 'failed' };
    } else {
      throw new TypeError(`answerModel: expected the stage 'downloading', 'stored' or 'failed', found ${JSON.stringify(state.stage)}`);
    }
    if (['ready', 'updated', 'offline'].includes(this.state)) this.#say(this.state);
  }

  /**
   * Keeps the pages `urls` name (an answer's sources: what a reader opens next), so that its
   * citations open with the network off too: the worker fetches and keeps them (a page that is
   * not there is skipped, quietly). Only while online, only this origin's pages, and only once the
   * worker controls the page.
   * @param {string[]} urls
   * @param {string | URL} [base] what relative URLs are relative to (default the page)
   */
  keepPages(urls, base = location.href) {
    if (!SavedCopy.supported || !navigator.onLine || !navigator.serviceWorker.controller) return;
    const pages = new Set();
    for (const url of urls) {
      const page = new URL(url, base);
      page.hash = '';
      if (page.origin === location.origin) pages.add(page.href);
    }
    navigator.serviceWorker.controller.postMessage({ type: 'docent-keep', urls: [...pages] });
  }

  /** Back online: the copy is current, or the docs were re-deployed meanwhile (a reload reads them). */
  async #online() {
    if (this.state === 'offline') this.#say('ready');
    if (!this.#last) return;
    try {
      const response = await fetch(this.#last.manifest, { cache: 'no-cache' });
      const build = response.ok ? (await response.json()).xxh3 : undefined;
      if (build !== undefined && build !== this.#last.fingerprint) this.#say('changed');
    } catch {
      // Not back after all: the copy still answers.
    }
  }

  async #save({ manifest, fingerprint, urls, models = [], bytes }, updating) {
    const worker = await activeWorker(this.#registration);
    const id = nextId++;
    await new Promise((resolve, reject) => {
      const listen = (e) => {
        const m = e.data;
        if (m?.id !== id) return;
        if (m.type === 'docent-save-progress') {
          this.#say(updating ? 'updating' : 'saving', m.done / Math.max(1, m.total), bytes);
          return;
        }
        navigator.serviceWorker.removeEventListener('message', listen);
        if (m.type === 'docent-saved') resolve();
        else reject(new Error(m.error));
      };
      navigator.serviceWorker.addEventListener('message', listen);
      navigator.serviceWorker.startMessages();
      worker.postMessage({ type: 'docent-save', id, urls, models, manifest: manifest.href, fingerprint });
    });
  }

  #say(state, arg, bytes) {
    this.state = state;
    const S = this.#strings();
    // What the copy lacks, for the sentences that would otherwise call it complete.
    const model = this.#model?.stage === 'stored' ? null : this.#model;
    const lacking = model && (model.stage === 'failed'
      ? S.offlineModelFailed
      : model.left === null ? S.offlineModelUnknown : S.offlineModelLeft(size(model.left)));
    const text = {
      saving: () => S.offlineSaving(Math.round(100 * arg), size(bytes)),
      updating: () => S.offlineUpdating(Math.round(100 * arg), size(bytes)),
      ready: () => (lacking ? S.offlineReadyExcept(lacking) : S.offlineReady),
      updated: () => (lacking ? S.offlineReadyExcept(lacking) : S.offlineUpdated),
      offline: () => (lacking ? S.offlineNowExcept(lacking) : S.offlineNow),
      changed: () => S.offlineChanged,
      failed: () => S.offlineFailed(String(arg?.message ?? arg).replace(/(?<![.!?…])$/, '.')),
    }[state]();
    if (state === 'saving' || state === 'updating') this.state = 'saving';
    this.#onText(text, state === 'failed');
  }
}

/**
 * The registration of the worker at `script` for this page: the one in place (so that a page
 * opened offline does not try to fetch the script), else a new one. Fails when its scope does not
 * cover this page (it could not open offline).
 */
async function register(script) {
  const existing = await navigator.serviceWorker.getRegistration(location.href);
  const current = existing?.active ?? existing?.waiting ?? existing?.installing;
  const registration = current?.scriptURL === script.href ? existing : await navigator.serviceWorker.register(script);
  if (!location.href.startsWith(registration.scope)) {
    throw new Error(`the service worker ${script.pathname} controls only ${new URL(registration.scope).pathname}, not this page: serve it from a folder above the pages (see docent-sw.js)`);
  }
  return registration;
}

/** The registration's active worker, once it has activated. */
async function activeWorker(registration) {
  const pending = registration.installing ?? registration.waiting;
  if (!registration.active && pending) {
    await new Promise((resolve) => {
      const settled = () => ['activated', 'redundant'].includes(pending.state) && resolve();
      pending.addEventListener('statechange', settled);
      settled();
    });
  }
  if (!registration.active) throw new Error('the service worker did not start');
  return registration.active;
}

/** The build (`xxh3`) of the saved manifest at `manifest`, or null when none is saved. */
async function savedBuild(manifest) {
  const hit = await caches.match(manifest.href);
  if (!hit) return null;
  try {
    return JSON.parse(await hit.text()).xxh3 ?? null;
  } catch {
    return null;
  }
}

/** Whether some cache of the origin holds every one of `urls`. */
async function held(urls) {
  for (const url of urls) {
    if (!(await caches.match(url, { ignoreVary: true }))) return false;
  }
  return true;
}
