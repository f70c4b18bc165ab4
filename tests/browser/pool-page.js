// The worker-pool scenario (tests/browser/pool.test.mjs opens pool.html): `createDocent(…,
// {workers: 2})` builds MiniLM and hashing indexes of the project docs in small chunks (several
// embed groups), byte-identical to a single worker's and to the main thread's; an embedder
// worker's error rejects build() with an Error naming it; free() stops every worker; bad pool
// options are clear Errors. Results go to window.docentResult.
import { createDocent, DocentWorker } from '/pkg/docent.js';

const DOCS = ['cli.md', 'faq.md', 'getting-started.md', 'how-it-works.md', 'index-format.md', 'tuning.md'];

// Counts the workers started and terminated in this page, and lets a test break the next one.
let started = 0;
let terminated = 0;
let breakNext = 0;
const NativeWorker = window.Worker;
window.Worker = class extends NativeWorker {
  constructor(url, options) {
    super(url, options);
    started++;
    if (breakNext > 0 && --breakNext === 0) {
      // This worker answers every `embed` with the error of an unknown operation.
      const post = this.postMessage.bind(this);
      this.postMessage = (msg, transfer) => post(msg?.op === 'embed' ? { ...msg, op: 'embedBroken' } : msg, transfer);
    }
  }
  terminate() {
    terminated++;
    super.terminate();
  }
};

async function documents() {
  const out = [];
  for (const name of DOCS) out.push({ url: name, markdown: await (await fetch(`/docs/${name}`)).text() });
  return out;
}

function equalBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function build(docent, docs) {
  for (const d of docs) await docent.addDocument(d);
  const events = [];
  const t0 = performance.now();
  await docent.build((stage, done, total) => events.push({ stage, done, total }));
  return { events, ms: performance.now() - t0 };
}

const caught = async (work) => {
  try {
    await work();
    return { isError: false };
  } catch (e) {
    return { isError: e instanceof Error, message: String(e?.message ?? e) };
  }
};

async function scenario() {
  const docs = await documents();
  const out = {};
  for (const embedder of ['minilm', 'hashing']) {
    const options = embedder === 'minilm'
      ? { embedder, model: { baseUrl: '/models/' }, chunkTokens: 16, overlap: 2 }
      : { embedder, chunkTokens: 16, overlap: 2 };
    const before = { started, terminated };
    const pool = await createDocent(options, { workers: 2 });
    const poolStarted = started - before.started;
    const pb = await build(pool, docs);
    const poolBytes = await pool.toBytes();
    const stats = await pool.stats();
    const hits = (await pool.search('how does the relevance gate work', { k: 3 })).hits.map((h) => h.url);
    pool.free();
    const afterFree = await caught(() => pool.search('x'));
    const poolTerminated = terminated - before.terminated;

    const single = await createDocent(options, { worker: true });
    const sb = await build(single, docs);
    const singleBytes = await single.toBytes();
    single.free();

    const local = await createDocent(options);
    await build(local, docs);
    const localBytes = local.toBytes();
    local.free();

    out[embedder] = {
      isWorker: pool instanceof DocentWorker,
      poolStarted,
      poolTerminated,
      afterFree,
      chunks: stats.chunks,
      pending: stats.pending,
      hits,
      embedEvents: pb.events.filter((e) => e.stage === 'embed'),
      stages: [...new Set(pb.events.map((e) => e.stage))],
      lastEvent: pb.events.at(-1),
      poolEqualsSingle: equalBytes(poolBytes, singleBytes),
      poolEqualsLocal: equalBytes(poolBytes, localBytes),
      ms: { pool: pb.ms, single: sb.ms },
    };
  }

  // An embedder worker that fails: build() rejects with an Error naming it, and free() stops all.
  {
    const before = { started, terminated };
    breakNext = 3; // index worker, embedder 1, embedder 2 (broken)
    const pool = await createDocent({ embedder: 'hashing', chunkTokens: 16, overlap: 2 }, { workers: 2 });
    for (const d of await documents()) await pool.addDocument(d);
    out.broken = { build: await caught(() => pool.build()) };
    pool.free();
    out.broken.started = started - before.started;
    out.broken.terminated = terminated - before.terminated;
  }
  out.badCount = await caught(() => createDocent({ embedder: 'hashing' }, { workers: 0 }));
  out.badCount17 = await caught(() => createDocent({ embedder: 'hashing' }, { workers: 17 }));
  {
    const before = { started, terminated };
    out.badModel = await caught(() => createDocent({ embedder: 'minilm', model: { baseUrl: '/nowhere/' } }, { workers: 2 }));
    out.badModelStarted = started - before.started;
    out.badModelTerminated = terminated - before.terminated;
  }
  return out;
}

scenario().then(
  (r) => {
    window.docentResult = r;
    document.querySelector('[data-testid=status]').textContent = 'done';
  },
  (e) => {
    window.docentResult = { failed: `${e?.stack ?? e}` };
    document.querySelector('[data-testid=status]').textContent = 'failed';
  },
);
