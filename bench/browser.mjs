// The browser benchmark: docent's npm package (pkg/) in headless Chromium on a site index of
// about 10 000 chunks, for the minilm and static embedders, and on one of about 135 000 chunks
// (the std API docs and the books) with the static embedder (embedding 135k chunks with MiniLM
// natively takes hours here; the question's MiniLM embedding costs the same at any index size).
//   (a) loadDocent time: cold (fresh browser profile: empty Cache API, so the model downloads) and
//       warm (same profile, new page: model files from the Cache API), split into wasm init,
//       downloads and building the in-memory index;
//   (b) question → assembled prompt latency, p50/p95 over the Cargo-book questions, with the
//       split embed / search / assemble measured by calling each separately.
// Writes bench/results/browser.md and prints it.
//
//   node bench/browser.mjs [--runs N]      (N loads of each kind, default 5; ./build.sh bench runs it)
//
// Needs: ./build.sh wasm (pkg/), ./build.sh setup (the CLI, models/), Debian Chromium and
// playwright-core in tests/browser/node_modules (./build.sh bench installs both). The indexes are
// built once with the native CLI ($DOCENT_BIN, default target/debug/docent) into
// target/bench/browser/ and reused while their corpus and the model files are unchanged; the
// minilm one takes several minutes of native embedding.
import { execFileSync } from 'node:child_process';
import { CHROMIUM, launchChromium } from '../tests/support/chromium.mjs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, modelFiles } from '../pkg/docent.js';
import { need, startStaticServer } from '../tests/support/static-server.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const CLI = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
const OUT = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'bench/browser');
const WAIT_MS = 600_000;
const K = 5;
/** Books shipped with the toolchain (rust-docs): together about 10 000 chunks (2026-11: 2534 +
 * 2323 + 2679 + 2700). */
const BOOKS = ['cargo', 'reference', 'book', 'rustc'];
/** The large corpus: the std API docs and six books (2026-11: 3 941 pages, 135 585 chunks). */
const LARGE = ['std', 'book', 'cargo', 'reference', 'rustc', 'rust-by-example'];
/** What is measured: an index name (its folder under target/bench/browser/), embedder, books. */
const CASES = [
  { name: 'static', embedder: 'static', books: BOOKS },
  { name: 'minilm', embedder: 'minilm', books: BOOKS },
  { name: 'static-large', embedder: 'static', books: LARGE },
];
// The model files of a site folder come from the core's table (`modelFiles`), as docent index and
// loadDocent use it.
await init();

const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) || 5;

function sysroot() {
  return execFileSync('rustc', ['--print', 'sysroot'], { encoding: 'utf8' }).trim();
}

/** The corpus: one folder of symlinks to the books, so urls are `<book>/<page>` (indexing the
 * books as separate arguments would give every book's `index.html` the same url). */
async function corpus(name, books) {
  const dir = join(OUT, `corpus-${name}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const b of books) await symlink(b, join(dir, basename(b)));
  return dir;
}

/** The site index of a case in target/bench/browser/<name>/ (built when missing or stale). */
async function siteIndex({ name, embedder, books }) {
  const dir = join(OUT, name);
  const modelDir = join(root, 'models');
  // Stale when the corpus list, the CLI's model files or the index format version differ.
  const format = /FORMAT_VERSION: u32 = (\d+);/.exec(readFileSync(join(root, 'src/format.rs'), 'utf8'))[1];
  const stamp = JSON.stringify({
    format,
    books,
    model: JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')),
  });
  const stampFile = join(dir, '.bench-stamp');
  if (existsSync(join(dir, 'manifest.json')) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    return dir;
  }
  console.error(`indexing ${books.length} books with ${embedder} into ${dir} (once; minilm takes minutes)`);
  await rm(dir, { recursive: true, force: true });
  execFileSync(CLI, ['index', await corpus(name, books), '--out', dir, '--embedder', embedder], {
    env: { ...process.env, DOCENT_MODEL_DIR: modelDir },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await writeFile(stampFile, stamp);
  return dir;
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))];
}
const median = (xs) => percentile(xs, 0.5);

/** One loadDocent in a page of `context`, then one question; returns the timings (ms) and the
 * index stats. */
async function loadOnce(context, origin, base, cold, question) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
  await page.goto(`${origin}/bench/browser.html`, { timeout: WAIT_MS });
  // Let the renderer settle: V8 may still be compiling the previous page's module in the
  // background, and this machine has few cores.
  await page.waitForTimeout(1500);
  const r = await page.evaluate(async ({ base, cold, question }) => {
    if (cold) await caches.delete('docent-models-v1');
    const t0 = performance.now();
    const { init, loadDocent } = await import('/pkg/docent.js');
    await init();
    const tInit = performance.now();
    const marks = { index: tInit, model: tInit };
    const docent = await loadDocent(base, {
      onProgress: (e) => {
        if (e.stage === 'index' || e.stage === 'model') marks[e.stage] = performance.now();
      },
    });
    const tReady = performance.now();
    // The first question on the page: V8 is still compiling the module's hot functions.
    docent.assemble(question, { k: 5 });
    const firstQuestion = performance.now() - tReady;
    const stats = docent.stats();
    docent.free();
    return {
      init: tInit - t0,
      downloads: Math.max(marks.index, marks.model) - tInit,
      build: tReady - Math.max(marks.index, marks.model),
      total: tReady - t0,
      firstQuestion,
      stats,
    };
  }, { base, cold, question });
  await page.close();
  if (problems.length) throw new Error(`console/page errors while loading ${base}:\n${problems.join('\n')}`);
  return r;
}

/** Loads `base` in a page and times embed, search and assemble per question. */
async function latency(context, origin, base, questions) {
  const page = await context.newPage();
  await page.goto(`${origin}/bench/browser.html`, { timeout: WAIT_MS });
  page.setDefaultTimeout(WAIT_MS);
  const r = await page.evaluate(async ({ base, questions, k }) => {
    const { loadDocent, Docent, modelFiles } = await import('/pkg/docent.js');
    const docent = await loadDocent(base);
    // Docent.fromBytes alone (model load + index decoding), the part of loadDocent after the
    // downloads: best of 3, on bytes fetched beforehand.
    const files = modelFiles(docent.stats().embedder.kind).map((m) => [m.field, m.file]);
    const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
    const manifest = await (await fetch(`${base}manifest.json`)).json();
    const index = await bytes(`${base}${manifest.index}`);
    const model = {};
    for (const [field, name] of files) model[field] = await bytes(`${base}model/${name}`);
    const fromBytes = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      Docent.fromBytes(index, model).free();
      fromBytes.push(performance.now() - t);
    }
    // Warm-up: the first calls allocate and fill caches.
    for (const q of questions.slice(0, 5)) docent.assemble(q, { k });
    const out = { embed: [], search: [], assemble: [], fromBytes: Math.min(...fromBytes) };
    for (const q of questions) {
      let t = performance.now();
      docent.embed([q]);
      out.embed.push(performance.now() - t);
      t = performance.now();
      docent.search(q, { k });
      out.search.push(performance.now() - t);
      t = performance.now();
      docent.assemble(q, { k });
      out.assemble.push(performance.now() - t);
    }
    docent.free();
    return out;
  }, { base, questions, k: K });
  await page.close();
  return r;
}

async function main() {
  need(join(root, 'pkg/docent_wasm_bg.wasm'), 'run ./build.sh wasm first');
  need(CLI, 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  need(join(root, 'models/model.json'), 'run ./build.sh setup (prepares models/)');
  need(CHROMIUM, 'install Debian Chromium (./build.sh bench does) or set DOCENT_CHROMIUM');
  const playwright = join(root, 'tests/browser/node_modules/playwright-core/index.mjs');
  need(playwright, 'run npm ci --prefix tests/browser (./build.sh bench does)');
  const docs = join(sysroot(), 'share/doc/rust/html');
  const cases = CASES.map((c) => ({ ...c, books: c.books.map((b) => join(docs, b)) }));
  for (const b of cases.flatMap((c) => c.books)) need(b, 'rustup component add rust-docs');
  const questions = (await readFile(join(root, 'bench/eval/cargo-book.jsonl'), 'utf8'))
    .trim().split('\n').map((l) => JSON.parse(l).q);

  const indexes = {};
  for (const c of cases) indexes[c.name] = await siteIndex(c);
  const loadBefore = loadavg();
  const started = new Date();

  const web = await startStaticServer([['/idx/', OUT], ['/', root]]);
  const browser = await launchChromium({ timeout: WAIT_MS });
  const results = {};
  try {
    for (const { name: emb, embedder } of cases) {
      const base = `/idx/${emb}/`;
      const cold = [];
      const warm = [];
      let lastContext;
      for (let r = 0; r < RUNS; r++) {
        // A fresh context is a fresh profile: empty Cache API and HTTP cache.
        const context = await browser.newContext();
        cold.push(await loadOnce(context, web.origin, base, true, questions[0]));
        warm.push(await loadOnce(context, web.origin, base, false, questions[0]));
        if (lastContext) await lastContext.close();
        lastContext = context;
      }
      const lat = await latency(lastContext, web.origin, base, questions);
      await lastContext.close();
      const manifest = JSON.parse(await readFile(join(OUT, emb, 'manifest.json'), 'utf8'));
      const modelBytes = modelFiles(embedder).reduce((n, f) => n + readFileSync(join(OUT, emb, f.path)).length, 0);
      results[emb] = { cold, warm, lat, manifest, modelBytes, stats: cold[0].stats };
      console.error(`${emb}: cold ${median(cold.map((c) => c.total)).toFixed(0)} ms, warm ${median(warm.map((c) => c.total)).toFixed(0)} ms, assemble p50 ${median(lat.assemble).toFixed(1)} ms`);
    }
  } finally {
    const version = browser.version();
    await browser.close();
    await web.close();
    results.chromium = version;
  }
  const loadAfter = loadavg();
  const wasm = readFileSync(join(root, 'pkg/docent_wasm_bg.wasm'));
  const f1 = (x) => x.toFixed(1);
  const mb = (n) => (n / 1e6).toFixed(1);
  const lines = [];
  const line = (s = '') => lines.push(s);
  line('# docent in the browser: load time and query latency');
  line();
  line(`- date: ${started.toISOString().slice(0, 16)}Z; machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`);
  line(`- load average (1/5/15 min) before: ${loadBefore.map(f1).join(' ')}, after: ${loadAfter.map(f1).join(' ')} (the machine is shared)`);
  line(`- browser: headless Chromium ${results.chromium} (Debian /usr/bin/chromium, playwright-core), server on 127.0.0.1 (no network latency, \`no-store\`)`);
  line(`- command: \`node bench/browser.mjs --runs ${RUNS}\` (run by \`./build.sh bench\`); wasm ${mb(wasm.length)} MB (pkg/docent_wasm_bg.wasm)`);
  line(`- corpora: ${BOOKS.join(', ')} (static, minilm) and ${LARGE.join(', ')} (static-large) from \`$(rustc --print sysroot)/share/doc/rust/html/\`, indexed by the native CLI; questions: the ${questions.length} of bench/eval/cargo-book.jsonl, k ${K}`);
  line();
  line('| embedder | documents | chunks | dense | index MB | model MB |');
  line('|---|---:|---:|---|---:|---:|');
  for (const { name: emb } of CASES) {
    const r = results[emb];
    line(`| ${emb} | ${r.manifest.documents} | ${r.manifest.chunks} | ${r.manifest.dense} | ${mb(r.manifest.bytes)} | ${mb(r.modelBytes)} |`);
  }
  line();
  line(`## loadDocent (median of ${RUNS}; ms)`);
  line();
  line('Cold: a fresh browser profile (empty Cache API and HTTP cache). Warm: the same profile, a new page: the model files come from the Cache API; the wasm module and the index are fetched again (the server sends `no-store`). *init*: fetching and compiling the wasm module (`init()`); *downloads*: from then to the last byte of manifest, index and model files (from the network or the Cache API); *after*: the rest of `loadDocent`, i.e. `Docent.fromBytes` (model load and index decoding; measured alone, warm, best of 3, in *fromBytes alone*) plus, on a cold load, writing the model files into the Cache API. *then the first question*: `assemble` of one question right after loading, while V8 is still compiling the module (compare with the warm latencies below).');
  line();
  line('| embedder | load | init | downloads | after | **total** | fromBytes alone | then the first question |');
  line('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const { name: emb } of CASES) {
    for (const kind of ['cold', 'warm']) {
      const xs = results[emb][kind];
      const m = (key) => f1(median(xs.map((x) => x[key])));
      line(`| ${emb} | ${kind} | ${m('init')} | ${m('downloads')} | ${m('build')} | **${m('total')}** | ${f1(results[emb].lat.fromBytes)} | ${m('firstQuestion')} |`);
    }
  }
  line();
  line(`## Question → prompt latency (${questions.length} questions, after 5 warm-up; ms)`);
  line();
  line('Each question is timed three times, calling one API each: `embed([q])`, `search(q, {k})` (embed + dense + BM25 + fusion + gate) and `assemble(q, {k})` (search + prompt with token budget). *search only* and *prompt only* are the per-question differences search − embed and assemble − search. Chromium rounds `performance.now()` to 0.1 ms (the page is not cross-origin isolated).');
  line();
  line('| embedder | step | p50 | p95 |');
  line('|---|---|---:|---:|');
  for (const { name: emb } of CASES) {
    const l = results[emb].lat;
    const diff = (a, b) => a.map((x, i) => x - b[i]);
    const rows = [
      ['embed question', l.embed],
      ['search (embed + retrieve)', l.search],
      ['**assemble (question → prompt)**', l.assemble],
      ['search only (search − embed)', diff(l.search, l.embed)],
      ['prompt only (assemble − search)', diff(l.assemble, l.search)],
    ];
    for (const [name, xs] of rows) line(`| ${emb} | ${name} | ${f1(percentile(xs, 0.5))} | ${f1(percentile(xs, 0.95))} |`);
  }
  const md = lines.join('\n') + '\n';
  await mkdir(join(root, 'bench/results'), { recursive: true });
  await writeFile(join(root, 'bench/results/browser.md'), md);
  console.log(md);
  console.error('written to bench/results/browser.md');
}

await main();
