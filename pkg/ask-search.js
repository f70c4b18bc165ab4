// The search behind <docent-ask> and the demo page: one site index folder, answered the cheapest
// way that is correct. A folder written with fragments (`manifest.json` has "fragments") is opened
// with the lean search module (`openSite`): the first question is answered by keyword search
// (BM25 over the few fragments it needs, no model); the embedder (the full module and its model,
// in a Web Worker) loads in the background when asked (`startEmbedder`), and from then on each
// question is embedded and searched with keyword + semantic search. A folder without fragments
// (older `docent index` output) is loaded whole with `loadDocent` in a worker, as before.
//
// Faults: any failure to open the index or fetch a fragment rejects with an IndexError (the
// message says what failed); nothing is answered from a partial index. `reset()` forgets the
// opened index, so the next question fetches the manifest again (a re-deploy may have replaced
// it); the embedder, once loaded, is kept.
// Must not: touch the DOM, stream answers (llm.js does) or fetch anything itself (search.js,
// docent.js and the wasm modules do). docent.js (and the full module's glue) is imported only for
// a folder without fragments, so the lean path loads no more script than it needs.
import { openSite, createEmbedder, followupQuery } from './search.js';
import { offlineAnswer } from './llm/offline.js';

/** How an answer's sources were found, as the quiet note under it says. */
export const PATHS = { keyword: 'keyword search', hybrid: 'keyword + semantic search' };

/** The name of the error `openSite` rejects with for a folder without fragments. */
const NOT_FRAGMENTED = 'DocentNotFragmented';

/** A failure to load the site index or a part of it; `message` is one sentence for the reader. */
export class IndexError extends Error {
  constructor(cause) {
    const text = String(cause?.message ?? cause).trim();
    const detail = text.replace(/(?<![.!?…])$/, '.');
    super(`Could not load the search index: ${detail}`, { cause });
    this.name = 'IndexError';
    /** What failed, without the first words (the widget words those from its strings). */
    this.detail = detail;
  }
}

/** Whether the reader's browser asks to save data (then no model is downloaded in the background). */
export function savesData() {
  return typeof navigator !== 'undefined' && navigator.connection?.saveData === true;
}

export class SiteSearch {
  #base;
  #timeoutMs;
  #onEmbedder;
  /** The lean module's SiteIndex (fragmented folder), or null. */
  #site = null;
  /** A DocentWorker (or Docent) holding the whole index (folder without fragments), or null. */
  #full = null;
  #opening = null;
  #stats = null;
  /** The background embedder: `{embed(texts)}` once loaded. */
  #embedder = null;
  #embedding = null;
  #embedState = 'idle';
  #embedError = null;
  /** The fingerprint of the index embedder the background embedder was started for. */
  #embedFor = null;
  /** Counts embedder starts, so that a load overtaken by `#dropEmbedder` is discarded. */
  #embedGen = 0;

  /**
   * @param {URL} base the index folder (ends with `/`)
   * @param {{timeoutMs?: number, onEmbedder?: (state: string, detail?: object) => void}} [options]
   *   `timeoutMs`: how long one request for the index (manifest, fragment) may take;
   *   `onEmbedder(state, detail)`: the background embedder's progress
   *   (`loading` {file, loaded, total}, `ready`, `failed` {error})
   */
  constructor(base, { timeoutMs = 10_000, onEmbedder = () => {} } = {}) {
    this.#base = base;
    this.#timeoutMs = timeoutMs;
    this.#onEmbedder = onEmbedder;
  }

  /**
   * Which build of the index is open: `{version, fingerprint}` from manifest.json (its `version`
   * and `xxh3`), or null (not open yet, or a folder without fragments, loaded whole).
   */
  get indexId() {
    return (this.#site && this.#stats?.index) || null;
  }

  /** Whether the folder is fragmented (known once `open()` has resolved). */
  get fragmented() {
    return this.#site !== null;
  }

  /**
   * The background embedder: `idle` (not asked for), `loading`, `ready`, `failed` (the reason in
   * `embedError`), or `none` (nothing to load: no fragments, or an index without vectors).
   */
  get embedState() {
    if (this.#full || (this.#site && !this.#site.hasDense())) return 'none';
    return this.#embedState;
  }

  get embedError() {
    return this.#embedError;
  }

  /**
   * Opens the index (once; again after `reset()`). Resolves to the index's stats
   * (`{documents, chunks, embedder, ...}`); rejects with an IndexError.
   * @param {{onProgress?: Function}} [options] progress of the whole-index load (older folders)
   */
  open({ onProgress } = {}) {
    this.#opening ??= this.#open(onProgress).catch((e) => {
      this.#opening = null;
      throw e instanceof IndexError ? e : new IndexError(e);
    });
    return this.#opening;
  }

  async #open(onProgress) {
    try {
      this.#site = await openSite(this.#base, { timeoutMs: this.#timeoutMs });
      this.#stats = this.#site.stats();
      if (this.#embedFor !== null && this.#embedFor !== this.#stats.embedder?.fingerprint) this.#dropEmbedder();
      return this.#stats;
    } catch (e) {
      this.#site = null;
      if (e?.name !== NOT_FRAGMENTED) throw e;
    }
    const { loadDocent } = await import('./docent.js');
    this.#full = await loadDocent(this.#base, { worker: typeof Worker !== 'undefined', onProgress });
    this.#stats = await this.#full.stats();
    return this.#stats;
  }

  /** Forgets the embedder (the re-opened index was embedded with another model). */
  #dropEmbedder() {
    this.#embedder?.free();
    this.#embedder = null;
    this.#embedding = null;
    this.#embedState = 'idle';
    this.#embedError = null;
    this.#embedFor = null;
    this.#embedGen += 1;
  }

  /** Forgets the opened index (after a fault): the next `open()` or question fetches it again. */
  reset() {
    this.#site = null; // its memory goes with it (no free(): a search may still hold it)
    this.#full?.free();
    this.#full = null;
    this.#opening = null;
  }

  /**
   * Starts loading the embedder in the background (idempotent; nothing happens before `open()`
   * has resolved, for a folder without fragments, an index without vectors, or when the reader's
   * browser asks to save data). Never rejects: a failure leaves keyword search in use.
   */
  startEmbedder() {
    if (this.#embedding || !this.#site || !this.#site.hasDense() || savesData()) return;
    this.#embedState = 'loading';
    this.#embedFor = this.#stats?.embedder?.fingerprint ?? null;
    const gen = ++this.#embedGen;
    this.#onEmbedder('loading', {});
    const options = {
      worker: typeof Worker !== 'undefined',
      embedder: this.#stats?.embedder, // so the worker need not fetch manifest.json again
      onProgress: (e) => {
        if (e?.stage === 'model') this.#onEmbedder('loading', { file: e.file, loaded: e.loaded, total: e.total });
      },
    };
    this.#embedding = createEmbedder(this.#base, options).then(
      (embedder) => {
        if (gen !== this.#embedGen) {
          embedder.free(); // the index was replaced while it loaded
          return;
        }
        this.#embedder = embedder;
        this.#embedState = 'ready';
        this.#onEmbedder('ready', {});
      },
      (e) => {
        if (gen !== this.#embedGen) return;
        this.#embedState = 'failed';
        this.#embedError = e;
        this.#onEmbedder('failed', { error: e });
      },
    );
  }

  /** Whether semantic search can still be had for this index (it has vectors; the embedder may load). */
  get canEmbed() {
    const state = this.embedState;
    return (state === 'idle' || state === 'loading' || state === 'ready') && !savesData();
  }

  /**
   * Retrieves and assembles the prompt for `question`: `{prompt, path}` where `path` is one of
   * PATHS' keys. `history`: the conversation's earlier turns (`[{question, answer}]`, oldest
   * first), with which the core forms the query of a follow-up and fills the prompt. Rejects with an IndexError when the index (or a fragment) cannot be loaded.
   * With `semanticRetry`, a question keyword search finds nothing for is asked again with
   * semantic search, loading the embedder first (`onWait()` is called before that wait; a
   * `signal` that aborts ends the wait and keeps the keyword result): keyword search alone
   * abstains on questions worded differently from the documents. Not when it abstained because
   * the question names terms no document contains (`prompt.missing`): only a very strong
   * semantic match could overturn that, and waiting for the model would cost the first answer
   * the dense path's download (megabytes on a large site) to say "do not mention" again.
   */
  async assemble(question, { k, budget, history = [], semanticRetry = false, onWait, signal } = {}) {
    let result = await this.#assemble(question, { k, budget, history });
    const named = result.prompt.missing?.length > 0;
    if (semanticRetry && result.path === 'keyword' && result.prompt.abstained && !named && this.canEmbed) {
      onWait?.();
      this.startEmbedder();
      const aborted = new Promise((resolve) => signal?.addEventListener('abort', () => resolve(false), { once: true }));
      const ready = await Promise.race([this.#embedding.then(() => this.#embedder !== null), aborted]);
      if (ready && !signal?.aborted) result = await this.#assemble(question, { k, budget, history });
    }
    return result;
  }

  async #assemble(question, { k, budget, history }) {
    await this.open();
    if (this.#full) {
      return { prompt: await this.#full.assemble(question, { k, budget, history }), path: 'hybrid' };
    }
    const site = this.#site;
    let vector;
    if (this.#embedder) {
      try {
        // A follow-up is searched with the query its conversation forms: that is what is embedded.
        vector = (await this.#embedder.embed([followupQuery(question, history)])).slice();
      } catch (e) {
        // The embedder broke (its worker died…): keyword search still answers.
        this.#embedder = null;
        this.#embedState = 'failed';
        this.#embedError = e;
        this.#onEmbedder('failed', { error: e });
      }
    }
    try {
      const prompt = await site.assemble(question, vector ? { k, budget, history, vector } : { k, budget, history });
      return { prompt, path: vector ? 'hybrid' : 'keyword' };
    } catch (e) {
      throw new IndexError(e);
    }
  }

  /**
   * Search as you type: the best sections for `query` by keyword search alone (the term shards
   * and text packs a keyword question reads; never the embedder or the vectors), the last word
   * also matching the terms it starts while `prefix`. Resolves to the hits, or null for a folder
   * without fragments (loaded whole, its search embeds every query: not done per keystroke).
   * Rejects with an IndexError.
   */
  async suggest(query, { k = 5, prefix = true } = {}) {
    await this.open();
    if (!this.#site) return null;
    try {
      return (await this.#site.search(query, { k, prefixLast: prefix })).hits;
    } catch (e) {
      throw new IndexError(e);
    }
  }

  /** What the offline provider computes its answer with (passed to streamAnswer as `docent`):
   * the whole index's module, or the lean module's `offlineAnswer` (search.js hands it over when
   * it initialises), which also words "These documents do not mention …". */
  get answerer() {
    if (this.#full) return this.#full;
    return this.#site ? { offlineAnswer } : undefined;
  }

  /**
   * The files a reader keeps to use this index offline (`{runtime, model, fragments}`, each
   * `[{path, bytes}]` relative to the index folder), or null for a folder without fragments.
   */
  offlineFiles() {
    return this.#site?.offlineFiles() ?? null;
  }

  /** Requests and bytes fetched for the fragmented index so far (null for a whole-index load). */
  fetched() {
    return this.#site?.fetched?.() ?? null;
  }
}
