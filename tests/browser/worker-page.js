// The Web Worker scenario (tests/browser/browser.test.mjs opens worker.html): docent in a worker
// (`{worker: true}`) loads a CLI-written index, builds MiniLM and static indexes from documents in
// the page with progress, keeps the main thread free while it works, matches the same work done on
// the main thread, hands its index to the main thread, and turns core errors into rejected Errors.
// Results go to window.docentResult.
import { createDocent, loadDocent, openDocent, DocentWorker } from '/pkg/docent.js';

const QUESTION = 'how often should I water tomatoes';
const DOCS = ['guide/gardening.md', 'bicycle.html', 'bread.txt'];

async function documents() {
  const out = [];
  for (const path of DOCS) {
    const body = await (await fetch(`/tests/fixtures/corpus/${path}`)).text();
    const field = path.endsWith('.md') ? 'markdown' : path.endsWith('.html') ? 'html' : 'text';
    out.push({ url: path, [field]: body });
  }
  return out;
}

/** Runs `work` while counting main-thread timer ticks: a blocked thread counts none. */
async function ticking(work) {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 4);
  const t0 = performance.now();
  try {
    const value = await work();
    return { value, ticks, ms: performance.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}

const top = (r) => r.hits.map((h) => ({ url: h.url, score: h.score }));

async function build(docent, docs) {
  for (const d of docs) await docent.addDocument(d);
  const events = [];
  const run = await ticking(() => docent.build((stage, done, total) => events.push({ stage, done, total })));
  return { events, ticks: run.ticks, ms: run.ms };
}

async function scenario() {
  const docs = await documents();
  const out = {};

  // A site index in a worker.
  const loadEvents = [];
  const site = await loadDocent('/idx/docent/', { worker: true, onProgress: (e) => loadEvents.push(e) });
  out.site = {
    isWorker: site instanceof DocentWorker,
    dim: site.dim,
    stages: [...new Set(loadEvents.map((e) => e.stage))],
    hits: top(await site.search(QUESTION, { k: 3 })),
    prompt: (await site.assemble(QUESTION, { k: 2 })).sources.map((s) => s.url),
  };
  site.free();

  // MiniLM and static indexes built in a worker, then the same on the main thread.
  for (const embedder of ['minilm', 'static']) {
    const model = { baseUrl: '/models/' };
    const remote = await createDocent({ embedder, model }, { worker: true });
    const rb = await build(remote, docs);
    const rHits = top(await remote.search(QUESTION, { k: 3 }));
    const bytes = await remote.toBytes();
    const stats = await remote.stats();
    const embedded = await remote.embed([QUESTION]);

    const local = await createDocent({ embedder, model });
    const lb = await build(local, docs);
    const lHits = top(local.search(QUESTION, { k: 3 }));

    const reopened = await openDocent(bytes, { model });
    out[embedder] = {
      workerBuild: { ticks: rb.ticks, ms: rb.ms, last: rb.events.at(-1), stages: [...new Set(rb.events.map((e) => e.stage))] },
      localBuild: { ticks: lb.ticks, ms: lb.ms },
      workerHits: rHits,
      localHits: lHits,
      reopenedHits: top(reopened.search(QUESTION, { k: 3 })),
      bytesEqual: equalBytes(bytes, local.toBytes()),
      stats,
      embedded: { isFloat32: embedded instanceof Float32Array, length: embedded.length, dim: remote.dim },
    };
    remote.free();
    local.free();
    reopened.free();
  }

  // Core errors cross the worker as Errors with the core's message.
  const errors = {};
  const w = await createDocent({ embedder: 'hashing' }, { worker: true });
  errors.remove = await message(w.removeDocument('nowhere.md'));
  errors.local = await message(Promise.resolve().then(async () => (await createDocent({ embedder: 'hashing' })).removeDocument('nowhere.md')));
  errors.create = await message(createDocent({ embedder: 'bert' }, { worker: true }));
  errors.createLocal = await message(createDocent({ embedder: 'bert' }));
  w.free();
  errors.afterFree = await message(w.stats());
  out.errors = errors;
  return out;
}

function equalBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function message(promise) {
  try {
    await promise;
    return { threw: false };
  } catch (e) {
    return { threw: true, isError: e instanceof Error, message: String(e?.message ?? e) };
  }
}

const status = document.querySelector('[data-testid="status"]');
scenario().then(
  (result) => {
    window.docentResult = result;
    status.textContent = 'done';
  },
  (e) => {
    window.docentResult = { failed: `${e?.name}: ${e?.message}\n${e?.stack ?? ''}` };
    status.textContent = 'failed';
  },
);
