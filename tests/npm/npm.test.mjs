// The npm round trip: `npm pack` the built package (pkg/), install the tarball into a fresh
// project, then use it the way users do: a Node ESM script importing 'docent', and a Vite 7 app
// built with `vite build` and opened in Chromium (any console error fails the test).
// Needs: ./build.sh wasm (pkg/), the CLI (DOCENT_BIN or target/debug/docent), Debian Chromium,
// playwright-core in tests/browser/node_modules and vite in tests/npm/node_modules (npm ci from
// their lock files). `./build.sh test npm` prepares all of that and runs `node --test tests/npm/`.
import { test, before, after } from 'node:test';
import { CHROMIUM, launchChromium } from '../support/chromium.mjs';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need, startStaticServer } from '../support/static-server.mjs';
import { writeOrchardPdf } from '../support/orchard-pdf.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkgDir = join(root, 'pkg');
const VITE = join(root, 'tests/npm/node_modules/vite/bin/vite.js');
const WAIT_MS = 120_000;

/** Runs a command, returning stdout; on failure the error carries its stderr. */
function run(cmd, args, cwd, env = {}) {
  try {
    return execFileSync(cmd, args, {
      cwd,
      env: { ...process.env, npm_config_update_notifier: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: WAIT_MS,
      encoding: 'utf8',
    });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

let tmp; // everything this test writes
let project; // the fresh project the tarball is installed into
let cli; // the native CLI
let listed; // files in the tarball

before(async () => {
  need(join(pkgDir, 'docent_wasm_bg.wasm'), 'run ./build.sh wasm first');
  cli = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  need(cli, 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  tmp = await mkdtemp(join(tmpdir(), 'docent-npm-test-'));

  // Pack a copy carrying the `.gitignore` (`*`) some wasm-bindgen versions write into their output:
  // package.json `files` must still ship everything.
  const copy = join(tmp, 'pkg');
  await cp(pkgDir, copy, { recursive: true, filter: (src) => !src.includes(`${sep}node_modules`) && !src.endsWith('.tgz') });
  await writeFile(join(copy, '.gitignore'), '*\n');
  const packed = JSON.parse(run('npm', ['pack', copy, '--json', '--pack-destination', tmp], tmp));
  listed = packed[0].files.map((f) => f.path).sort();
  const tarball = join(tmp, packed[0].filename);

  project = join(tmp, 'app');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'docent-npm-test-app', private: true, type: 'module' }, null, 2));
  run('npm', ['install', tarball, '--no-audit', '--no-fund', '--no-package-lock'], project);
});

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('npm pack ships the wasm, the JS glue, the type declarations and the README', () => {
  for (const f of ['README.md', 'package.json', 'cli.js', 'docent.js', 'docent.d.ts', 'worker.js', 'docent_wasm.js', 'docent_wasm.d.ts',
    'docent_wasm_bg.wasm', 'docent_wasm_bg.wasm.d.ts', 'docent-ask.js', 'ask-search.js', 'ask-view.js', 'ask-strings.js', 'ask-typeahead.js',
    'ask-modal.js', 'ask-offline.js', 'docent-sw.js', 'ask-feedback.js', 'ask-i18n.js', 'ask-report.js', 'ask-conversation.js', 'ask-settings.js', 'render.js', 'llm.js', 'llm.d.ts', 'llm/stream.js', 'llm/offline.js', 'llm/local.js', 'llm/local-prompt.js', 'llm/grounding.js', 'ask-local.js', 'llm/wllama/wllama.js', 'llm/wllama/wllama.wasm',
    'search.js', 'search.d.ts', 'docent_search.js', 'docent_search.d.ts', 'docent_search_bg.wasm',
    'docent_pdf.js', 'docent_pdf.d.ts', 'docent_pdf_bg.wasm', 'pdf.js', 'wasm-source.js', 'min/pdf.js', 'min/wasm-source.js',
    'prompt/template.js', 'proxy/proxy.js', 'proxy/proxy.d.ts', 'proxy/node.js', 'proxy/node.d.ts', 'proxy/cli.js',
    'min/docent-ask.js', 'min/docent_search.js', 'min/llm/stream.js']) {
    assert.ok(listed.includes(f), `the tarball lacks ${f}; it has: ${listed.join(', ')}`);
  }
  assert.ok(!listed.includes('.gitignore'), 'wasm-bindgen\'s .gitignore must not be shipped');
});

test('docent/proxy and docent/proxy/node resolve from the installed package, and `docent proxy --help` runs', async () => {
  const script = join(project, 'proxy.mjs');
  await writeFile(script, `import { createProxy } from 'docent/proxy';
import { nodeListener } from 'docent/proxy/node';
const p = createProxy({ provider: 'openai', model: 'm', allowOrigins: ['https://docs.example.com'], log: false });
const res = await p.fetch(new Request('https://x/proxy/chat/completions', { method: 'POST', headers: { origin: 'https://evil.example' }, body: '{}' }), {});
console.log(typeof nodeListener, res.status, (await res.json()).error.type);
`);
  assert.equal(run(process.execPath, [script], project).trim(), 'function 403 origin_not_allowed');
  assert.match(run(process.execPath, [join(project, 'node_modules/docent/cli.js'), 'proxy', '--help'], project), /DOCENT_API_KEY/);
});

test('Node ESM: import { init, Docent } from "docent" loads a CLI-written index', () => {
  const idx = join(tmp, 'idx');
  run(cli, ['index', join(root, 'tests/fixtures/corpus'), '--out', idx, '--embedder', 'hashing'], tmp);
  const script = join(project, 'search.mjs');
  const code = `import { readFile } from 'node:fs/promises';
import { init, Docent } from 'docent';
await init();
const docent = Docent.fromBytes(await readFile(process.argv[2]));
const r = docent.search('tyre pressure', { k: 3 });
console.log(JSON.stringify({ top: r.hits[0]?.url, answerable: r.answerable }));
`;
  return writeFile(script, code).then(() => {
    const out = JSON.parse(run(process.execPath, [script, join(idx, 'index.bin')], project).trim());
    assert.equal(out.top, 'bicycle.html#tyres', JSON.stringify(out));
  });
});

test('npx docent index (the wasm build) writes an index the native CLI searches', () => {
  const idx = join(tmp, 'npx-idx');
  run('npx', ['--no-install', 'docent', 'index', join(root, 'tests/fixtures/corpus'), '--out', idx, '--embedder', 'hashing'], project);
  const r = JSON.parse(run(cli, ['search', idx, 'tyre pressure', '--json'], tmp).trim());
  assert.equal(r.hits[0]?.url, 'bicycle.html#tyres', JSON.stringify(r.hits.map((h) => h.url)));
  assert.equal(r.answerable, true);
});

test('npx docent index writes the self-contained site folder and re-embeds only a changed page', async () => {
  const site = join(tmp, 'site');
  await cp(join(root, 'tests/fixtures/site'), site, { recursive: true });
  const out = join(site, 'docent'); // inside the indexed folder: not indexed itself
  const index = () => run('npx', ['--no-install', 'docent', 'index', site, '--out', out, '--embedder', 'static',
    '--model-dir', join(root, 'models')], project).trim();
  const first = index();
  assert.match(first, /^indexed 13 documents \(0 reused, 13 embedded, 0 removed\), \d+ chunks into .*: 3 skipped \(1 data-docent-ignore, 1 redirect stub, 1 robots noindex\), 1 unsupported, 1 duplicates, 0 empty; embedder static \(256-d\), dense flat; .* embed [\d.]+ s of [\d.]+ s total$/);
  const files = (await readdir(out, { recursive: true })).map((f) => f.split(sep).join('/')).sort();
  for (const f of ['manifest.json', 'index.bin', 'model/static.bin', 'model/tokenizer.json', 'docent.js', 'docent_wasm.js', 'docent_wasm_bg.wasm', 'render.js', 'llm/stream.js']) {
    assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
  }
  assert.ok(!files.includes('cli.js') && !files.some((f) => f.endsWith('.d.ts')), files.join(', '));
  assert.ok(!files.some((f) => f.startsWith('min/')), 'the minified copies replace the sources, under their names');
  // The site gets the minified runtime (what ./build.sh wasm wrote to pkg/min/, header line off).
  for (const f of ['docent-ask.js', 'llm/stream.js']) {
    const published = await readFile(join(out, ...f.split('/')), 'utf8');
    const min = await readFile(join(root, 'pkg/min', ...f.split('/')), 'utf8');
    assert.equal(published, min.slice(min.indexOf('\n') + 1), f);
    assert.ok(published.length < (await readFile(join(root, 'pkg', ...f.split('/')), 'utf8')).length / 1.5, `${f} is minified`);
  }
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
  const fragmentFiles = files.filter((f) => f.startsWith('fragments/'));
  assert.deepEqual(manifest.files.map((f) => f.path).sort(), files.filter((f) => !['manifest.json', 'model', 'llm', 'llm/wllama', 'fragments'].includes(f) && !fragmentFiles.includes(f)));
  // fragments/ holds exactly the files the manifest's fragment table names.
  const t = manifest.fragments;
  const named = [...t.lexical.files, ...t.text.files, ...(t.dense ? [t.dense.centroids, ...t.dense.files] : []), ...(t.common ? [t.common.file] : [])].sort();
  assert.deepEqual(fragmentFiles, named);
  assert.match(manifest.xxh3, /^[0-9a-f]{16}$/);
  assert.match(index(), /^indexed 13 documents \(13 reused, 0 embedded, 0 removed\), .*; \d+ files, 0 written; /);
  const page = join(site, 'network.html');
  await writeFile(page, (await readFile(page, 'utf8')).replace('expires after two minutes', 'expires after three minutes'));
  assert.match(index(), /^indexed 13 documents \(12 reused, 1 embedded, 0 removed\), /);
  // The native CLI reads it and agrees that nothing changed since.
  const native = JSON.parse(run(cli, ['index', site, '--out', out, '--embedder', 'static', '--json'], site,
    { DOCENT_MODEL_DIR: join(root, 'models') }));
  assert.equal(native.reused, 13);
  assert.ok(!native.written.includes('index.bin'), 'the wasm build wrote the index the native CLI writes');
  assert.equal(native.runtime, 'kept', 'no runtime found from the site folder: the copy in the output stays');
  assert.ok(existsSync(join(out, 'docent_wasm_bg.wasm')));
  assert.ok(existsSync(join(out, 'llm', 'stream.js')), 'the runtime\'s llm/ modules are kept too');
});

test('npx docent index --embedder static (the wasm build) writes what the native CLI writes: same index, hits and xxh3', async () => {
  const corpus = join(root, 'tests/fixtures/corpus');
  const models = join(root, 'models');
  need(join(models, 'static.bin'), 'run ./build.sh setup (prepares models/)');
  const env = { DOCENT_MODEL_DIR: models };
  const wasmIdx = join(tmp, 'npx-static');
  const nativeIdx = join(tmp, 'native-static');
  run('npx', ['--no-install', 'docent', 'index', corpus, '--out', wasmIdx, '--embedder', 'static', '--model-dir', models], project);
  run(cli, ['index', corpus, '--out', nativeIdx, '--embedder', 'static'], tmp, env);

  const queries = join(tmp, 'static-queries.jsonl');
  const qs = ['tyre pressure', 'how often should I water tomatoes in pots', 'sourdough starter', 'clean the chain',
    'lattice quantum chromodynamics'];
  await writeFile(queries, qs.map((q) => JSON.stringify({ q })).join('\n'));
  const search = (idx) => run(cli, ['search', idx, '--queries', queries, '--k', '5'], tmp, env).trim().split('\n').map((l) => JSON.parse(l));
  const fromWasm = search(wasmIdx);
  const fromNative = search(nativeIdx);
  assert.equal(fromWasm.length, qs.length);
  assert.equal(fromWasm[0].hits[0]?.url, 'bicycle.html#tyres', JSON.stringify(fromWasm[0].hits.map((h) => h.url)));
  assert.deepEqual(fromWasm, fromNative, 'the native CLI answers the same from the wasm-built and the native-built index');

  const manifest = async (idx) => JSON.parse(await readFile(join(idx, 'manifest.json'), 'utf8'));
  const [w, n] = [await manifest(wasmIdx), await manifest(nativeIdx)];
  assert.match(w.xxh3, /^[0-9a-f]{16}$/, `manifest xxh3 ${JSON.stringify(w.xxh3)}`);
  // Static embeddings agree to the bit between wasm and native here, so the two index files are
  // identical and the wasm CLI's checksum must be the one the native CLI computed.
  assert.deepEqual(await readFile(join(wasmIdx, 'index.bin')), await readFile(join(nativeIdx, 'index.bin')), 'index.bin differs');
  assert.equal(w.xxh3, n.xxh3);
  assert.deepEqual({ ...w, created_by: '' }, { ...n, created_by: '' });
  assert.match(w.created_by, /\(npm, wasm\)$/);
});

test('npx docent index --ranges always writes the ranged layout of large sites, as the native CLI does; a bad --ranges is refused', async () => {
  const corpus = join(root, 'tests/fixtures/corpus');
  const wasmIdx = join(tmp, 'npx-ranged');
  const nativeIdx = join(tmp, 'native-ranged');
  run('npx', ['--no-install', 'docent', 'index', corpus, '--out', wasmIdx, '--ranges', 'always'], project);
  run(cli, ['index', corpus, '--out', nativeIdx, '--embedder', 'hashing', '--ranges', 'always'], tmp);
  const manifest = async (idx) => JSON.parse(await readFile(join(idx, 'manifest.json'), 'utf8'));
  const [w, n] = [await manifest(wasmIdx), await manifest(nativeIdx)];
  assert.equal(w.fragments.text.ranged, true);
  assert.equal(w.fragments.lexical.ranged, true);
  assert.equal(w.fragments.dense.ranged, true);
  assert.equal(w.fragments.version, 5); // ranged: records' places in the postings and fine rows
  assert.deepEqual(w.fragments, n.fragments, 'the same fragments as the native CLI');
  let failure = '';
  try {
    run('npx', ['--no-install', 'docent', 'index', corpus, '--out', join(tmp, 'npx-bad'), '--ranges', 'sometimes'], project);
  } catch (e) {
    failure = e.message;
  }
  assert.match(failure, /docent: --ranges: expected auto, always or never, found "sometimes"/);
});

// The app also imports 'docent/docent-ask.js' and, in a worker of its own, 'docent/worker' for
// their side effects only (defining <docent-ask>, answering a DocentWorker): a bundler drops such
// an import when package.json says the module has none, so `sideEffects` must list both.
test('Vite 7 app: vite build bundles docent, its .wasm, its worker and the side-effect-only imports; the page searches in Chromium', { timeout: 2 * WAIT_MS }, async () => {
  need(VITE, 'run npm ci --prefix tests/npm (./build.sh test does)');
  need(CHROMIUM, 'install Debian Chromium (./build.sh test does) or set DOCENT_CHROMIUM');
  need(join(root, 'tests/browser/node_modules/playwright-core'), 'run npm ci --prefix tests/browser (./build.sh test does)');
  const app = join(project, 'web');
  await mkdir(app);
  await writeFile(join(app, 'index.html'), `<!doctype html>
<html><head><meta charset="utf-8"><title>docent in vite</title><link rel="icon" href="data:,"></head>
<body><output id="result"></output><script type="module" src="./main.js"></script></body></html>
`);
  await writeFile(join(app, 'own-worker.js'), `import 'docent/worker';\n`);
  await writeFile(join(app, 'main.js'), `import 'docent/docent-ask.js';
import { init, Docent, createDocent } from 'docent';

const out = document.getElementById('result');
try {
  await init();
  const docent = new Docent({ embedder: 'hashing' });
  docent.addDocument({ url: 'bikes.md', markdown: '# Bikes\\n\\n## Tyres\\n\\nPump the tyres to the pressure printed on the sidewall.' });
  docent.addDocument({ url: 'soup.md', markdown: '# Soup\\n\\n## Onions\\n\\nSlice the onions thinly and fry them slowly in butter.' });
  docent.build();
  const r = docent.search('tyre pressure', { k: 2 });
  out.dataset.top = r.hits[0]?.url ?? '';
  // The same in a Web Worker started from the bundled package (docent/worker).
  const remote = await createDocent({ embedder: 'hashing' }, { worker: true });
  await remote.addDocument({ url: 'bikes.md', markdown: '# Bikes\\n\\n## Tyres\\n\\nPump the tyres to the pressure printed on the sidewall.' });
  await remote.addDocument({ url: 'soup.md', markdown: '# Soup\\n\\n## Onions\\n\\nSlice the onions thinly.' });
  await remote.build();
  out.dataset.workerTop = (await remote.search('tyre pressure', { k: 2 })).hits[0]?.url ?? '';
  remote.free();
  // A worker of the app's own whose module only imports 'docent/worker'. If the bundler dropped
  // that import, the worker never answers: give up after a while instead of hanging.
  const started = new Worker(new URL('./own-worker.js', import.meta.url), { type: 'module' });
  let timer;
  const silent = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer from own-worker.js, whose only import is docent/worker')), 60000);
  });
  const own = await Promise.race([createDocent({ embedder: 'hashing' }, { worker: started }), silent]).finally(() => clearTimeout(timer));
  await own.addDocument({ url: 'bikes.md', markdown: '# Bikes\\n\\n## Tyres\\n\\nPump the tyres to the pressure printed on the sidewall.' });
  await own.build();
  out.dataset.ownWorkerTop = (await own.search('tyre pressure', { k: 1 })).hits[0]?.url ?? '';
  own.free();
  started.terminate(); // started by the app, so stopped by it
  out.textContent = 'done';
} catch (e) {
  out.dataset.error = String(e?.stack ?? e);
  out.textContent = 'failed';
}
`);
  run(process.execPath, [VITE, 'build', app, '--logLevel', 'warn'], project);
  const dist = join(app, 'dist');
  const assets = await readdir(join(dist, 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `vite emitted no .wasm asset: ${assets.join(', ')}`);

  const web = await startStaticServer([['/', dist]]);
  const browser = await launchChromium({ timeout: WAIT_MS });
  const problems = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
    });
    await page.goto(`${web.origin}/`, { timeout: WAIT_MS });
    await page.waitForFunction(() => document.getElementById('result')?.textContent !== '', null, { timeout: WAIT_MS });
    const r = await page.evaluate(() => ({ ...document.getElementById('result').dataset }));
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.top, 'bikes.md#tyres');
    assert.equal(r.workerTop, 'bikes.md#tyres', 'the worker entry survives bundling');
    assert.equal(r.ownWorkerTop, 'bikes.md#tyres', "import 'docent/worker' in the app's own worker survives bundling");
    assert.ok(await page.evaluate(() => customElements.get('docent-ask') !== undefined),
      "import 'docent/docent-ask.js' was dropped from the bundle: <docent-ask> is not defined (package.json sideEffects must list docent-ask.js)");
  } catch (e) {
    if (problems.length) e.message += `\nconsole/page errors:\n${problems.join('\n')}`;
    throw e;
  } finally {
    await browser.close();
    await web.close();
  }
  assert.deepEqual(problems, [], 'the console must stay free of errors');
});

// A bundled app that reads PDFs: Vite emits the PDF module (docent_pdf.js, its wasm) as assets
// through `?url` imports and the app says where with setPdfModule, so no plugin and no copy step;
// a PDF written here by a real PDF writer (fpdf2) is added on the page's thread and in docent's
// worker, and the offline answer cites its page.
test('Vite 7 app reads a PDF: setPdfModule with the ?url assets Vite emits, on the page and in the worker; the answer cites orchard.pdf#page=2', { timeout: 2 * WAIT_MS }, async () => {
  need(VITE, 'run npm ci --prefix tests/npm (./build.sh test does)');
  need(CHROMIUM, 'install Debian Chromium (./build.sh test does) or set DOCENT_CHROMIUM');
  const app = join(project, 'web-pdf');
  await mkdir(join(app, 'public'), { recursive: true });
  // Two pages, one section each (the outline gives the headings).
  writeOrchardPdf(join(app, 'public', 'orchard.pdf'), 'npm', WAIT_MS);
  await writeFile(join(app, 'index.html'), `<!doctype html>
<html><head><meta charset="utf-8"><title>docent reads a PDF in vite</title><link rel="icon" href="data:,"></head>
<body><output id="result"></output><script type="module" src="./main.js"></script></body></html>
`);
  await writeFile(join(app, 'main.js'), `import { init, Docent, createDocent, setPdfModule, streamAnswer } from 'docent';
import pdfModule from 'docent/docent_pdf.js?url';
import pdfWasm from 'docent/docent_pdf_bg.wasm?url';

setPdfModule({ module: pdfModule, wasm: pdfWasm });
const out = document.getElementById('result');
const question = 'When does the pear harvest start?';
async function answer(docent) {
  const prompt = await docent.assemble(question, { k: 2 });
  let text = '';
  for await (const d of streamAnswer({ provider: 'offline', prompt, messages: prompt.messages, question, docent })) text += d;
  return { text, sources: prompt.sources.map((s) => s.url) };
}
try {
  await init();
  const bytes = new Uint8Array(await (await fetch('./orchard.pdf')).arrayBuffer());
  const here = new Docent({ embedder: 'hashing' });
  out.dataset.chunks = String(await here.addDocument({ url: 'orchard.pdf', pdf: bytes.slice() }));
  here.build();
  out.dataset.page = JSON.stringify(await answer(here));
  const remote = await createDocent({ embedder: 'hashing' }, { worker: true });
  await remote.addDocument({ url: 'orchard.pdf', pdf: bytes });
  await remote.build();
  out.dataset.worker = JSON.stringify(await answer(remote));
  remote.free();
  out.textContent = 'done';
} catch (e) {
  out.dataset.error = String(e?.stack ?? e);
  out.textContent = 'failed';
}
`);
  run(process.execPath, [VITE, 'build', app, '--logLevel', 'warn'], project);
  const dist = join(app, 'dist');
  const assets = await readdir(join(dist, 'assets'));
  assert.ok(assets.some((f) => /^docent_pdf-.*\.js$/.test(f)) && assets.some((f) => /^docent_pdf_bg-.*\.wasm$/.test(f)),
    `vite emitted the PDF module and its wasm as assets: ${assets.join(', ')}`);

  const web = await startStaticServer([['/', dist]]);
  const browser = await launchChromium({ timeout: WAIT_MS });
  const problems = [];
  const requested = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
    });
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    await page.goto(`${web.origin}/`, { timeout: WAIT_MS });
    await page.waitForFunction(() => document.getElementById('result')?.textContent !== '', null, { timeout: WAIT_MS });
    const r = await page.evaluate(() => ({ ...document.getElementById('result').dataset }));
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.chunks, '2', 'one passage per page');
    for (const where of ['page', 'worker']) {
      const a = JSON.parse(r[where]);
      assert.equal(a.sources[0], 'orchard.pdf#page=2', `${where}: ${JSON.stringify(a)}`);
      assert.match(a.text, /The pear harvest starts when the fruit parts from the spur[^[]*\[1\]/, `${where}: ${JSON.stringify(a)}`);
    }
    assert.ok(requested.some((p) => /^\/assets\/docent_pdf-.*\.js$/.test(p)), `the page loaded the emitted PDF module: ${requested.join(', ')}`);
  } catch (e) {
    if (problems.length) e.message += `\nconsole/page errors:\n${problems.join('\n')}`;
    throw e;
  } finally {
    await browser.close();
    await web.close();
  }
  assert.deepEqual(problems, [], 'the console must stay free of errors');
});
