// The demo page's "your documents": files the visitor drops or picks are indexed in the browser
// (in a Web Worker, with the demo site's model; a large first drop with MiniLM embeds in a pool of
// workers, one per core), and the index is kept in IndexedDB so it is still there on the next visit. Safety as in app.js: file names and errors reach the DOM as text.
import { notBuiltYet } from './pending.js';

/** The package's facade with the full module, imported when the visitor's documents need it: the
 * page's first answers need only the lean module, and `./build.sh demo` builds the full one after
 * printing the URL (a static import would stop the whole page while it is missing). */
const facade = () => import('/pkg/docent.js');

/** IndexedDB database holding the visitor's documents (index bytes + file list). */
const DB_NAME = 'docent-demo';
const DB_STORE = 'mine';

/** A first drop of more bytes than this (MiniLM: ~100 passages and up) is embedded by a pool of
 * workers: below it, loading the model into more workers costs more than it saves. */
const POOL_MIN_BYTES = 256 * 1024;
/** Most embedder workers of the pool: each holds its own copy of MiniLM (~120 MB of memory). */
const POOL_MAX_WORKERS = 4;

/**
 * How the first drop's index runs: `{workers: N}` (the index in one worker, the chunks of each
 * build embedded by N more, one per core up to POOL_MAX_WORKERS) for a large drop embedded with
 * MiniLM on a machine with more than one core, else `{worker: true}` (one worker does all).
 * @param {File[]} files @param {string} embedder
 */
export function workersFor(files, embedder, cores = globalThis.navigator?.hardwareConcurrency ?? 1) {
  const bytes = files.reduce((n, f) => n + f.size, 0);
  if (embedder !== 'minilm' || cores < 2 || bytes <= POOL_MIN_BYTES) return { worker: true };
  return { workers: Math.min(cores, POOL_MAX_WORKERS) };
}

/**
 * The visitor's documents on the page's elements `ui` and its `state` (`site`, `mine`, `myDocs`,
 * `embedder`); `siteIndex` is the demo site's index folder, whose model/ embeds them.
 * @returns {{wire: () => void, restore: () => Promise<void>}}
 */
export function visitorDocs(ui, state, siteIndex) {
  function openDb() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(DB_STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function dbRequest(mode, fn) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(DB_STORE, mode);
        const req = fn(tx.objectStore(DB_STORE));
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
      });
    } finally {
      db.close();
    }
  }

  const formatOf = (name) => {
    const ext = name.toLowerCase().split('.').pop();
    if (ext === 'html' || ext === 'htm') return 'html';
    if (ext === 'md' || ext === 'markdown') return 'markdown';
    if (ext === 'pdf') return 'pdf';
    return 'text';
  };

  function renderDocs() {
    ui.docs.replaceChildren(
      ...state.myDocs.map((d) => {
        const li = document.createElement('li');
        li.textContent = d.error ? `${d.name}: ${d.error}` : `${d.name} (${d.chunks} passages)`;
        if (d.error) li.className = 'failed';
        return li;
      }),
    );
    const indexed = state.myDocs.some((d) => !d.error);
    ui.clear.hidden = state.myDocs.length === 0;
    ui.corpusMine.disabled = !(indexed && state.mine);
    if (ui.corpusMine.disabled && ui.corpusMine.checked) document.querySelector('input[name="corpus"][value="site"]').checked = true;
  }

  async function modelFor() {
    return { embedder: state.embedder, model: { baseUrl: new URL('model/', siteIndex) } };
  }

  async function indexFiles(files) {
    if (!state.site || files.length === 0) return;
    ui.indexProgress.hidden = false;
    ui.indexProgress.value = 0;
    ui.docsStatus.textContent = `Reading ${files.length} file${files.length === 1 ? '' : 's'}…`;
    try {
      if (!state.mine) {
        const { embedder, model } = await modelFor();
        const { createDocent } = await facade();
        state.mine = await createDocent({ embedder, model }, workersFor(files, embedder));
      }
      // Files that failed earlier are retried; a file with a name already indexed replaces it.
      state.myDocs = state.myDocs.filter((d) => !d.error);
      let added = 0;
      for (const [i, file] of files.entries()) {
        const url = `local:${file.name}`;
        const entry = { name: file.name, url };
        try {
          if (state.myDocs.some((d) => d.url === url)) {
            await state.mine.removeDocument(url);
            state.myDocs = state.myDocs.filter((d) => d.url !== url);
          }
          // A PDF goes as its bytes (docent.js loads the PDF module for it, in the worker); its
          // chunks cite local:name.pdf#page=N.
          const format = formatOf(file.name);
          const content = format === 'pdf' ? new Uint8Array(await file.arrayBuffer()) : await file.text();
          entry.chunks = await state.mine.addDocument({ url, title: file.name, [format]: content });
          added++;
        } catch (e) {
          entry.error = (formatOf(file.name) === 'pdf' && (await notBuiltYet('docent_pdf'))) || e.message;
        }
        state.myDocs.push(entry);
        ui.indexProgress.value = (i + 1) / files.length / 4;
      }
      renderDocs();
      if (added > 0) {
        ui.docsStatus.textContent = 'Embedding…';
        await state.mine.build((stage, done, total) => {
          if (stage === 'embed' && total > 0) {
            ui.indexProgress.value = 0.25 + (0.7 * done) / total;
            ui.docsStatus.textContent = `Embedding passage ${done} of ${total}…`;
          }
        });
        ui.indexProgress.value = 1;
        const bytes = await state.mine.toBytes();
        await dbRequest('readwrite', (s) => s.put({ bytes, docs: state.myDocs.filter((d) => !d.error), embedder: state.embedder }, 'index'));
      }
      const ok = state.myDocs.filter((d) => !d.error).length;
      const failed = state.myDocs.length - ok;
      ui.docsStatus.textContent = `${ok} document${ok === 1 ? '' : 's'} indexed and saved in this browser${failed ? `; ${failed} could not be read` : ''}.`;
      renderDocs();
      if (added > 0) ui.corpusMine.checked = true;
    } catch (e) {
      ui.docsStatus.textContent = (await notBuiltYet('docent_wasm')) ?? `Indexing failed: ${e.message}`;
    } finally {
      ui.indexProgress.hidden = true;
    }
  }

  async function restoreDocs() {
    let saved;
    try {
      saved = await dbRequest('readonly', (s) => s.get('index'));
    } catch {
      return; // no IndexedDB (private mode…): the visitor can still index, without persistence
    }
    if (!saved?.bytes) return;
    if (saved.embedder !== state.embedder) {
      ui.docsStatus.textContent = 'Your saved documents were indexed with another model; add them again.';
      return;
    }
    try {
      const { model } = await modelFor();
      const { openDocent } = await facade();
      state.mine = await openDocent(saved.bytes, { model, worker: true });
      state.myDocs = saved.docs ?? [];
      ui.docsStatus.textContent = `${state.myDocs.length} saved document${state.myDocs.length === 1 ? '' : 's'} restored from this browser.`;
      renderDocs();
    } catch (e) {
      const pending = await notBuiltYet('docent_wasm');
      if (pending) {
        ui.docsStatus.textContent = pending;
        return;
      }
      ui.docsStatus.textContent = `Could not reopen your saved documents (${e.message}); clear them and add them again.`;
      ui.clear.hidden = false;
    }
  }

  async function clearDocs() {
    state.mine?.free();
    state.mine = null;
    state.myDocs = [];
    try {
      await dbRequest('readwrite', (s) => s.delete('index'));
    } catch {
      // Nothing was stored.
    }
    ui.docsStatus.textContent = 'Your documents were removed from this browser.';
    renderDocs();
  }

  function wireDocs() {
    ui.files.addEventListener('change', () => {
      const files = [...ui.files.files];
      ui.files.value = '';
      indexFiles(files);
    });
    ui.drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      ui.drop.classList.add('over');
    });
    ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
    ui.drop.addEventListener('drop', (e) => {
      e.preventDefault();
      ui.drop.classList.remove('over');
      indexFiles([...(e.dataTransfer?.files ?? [])]);
    });
    ui.drop.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        ui.files.click();
      }
    });
    ui.clear.addEventListener('click', clearDocs);
  }

  return { wire: wireDocs, restore: restoreDocs };
}
