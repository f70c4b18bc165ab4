// The site folder through the wasm build: the core's exports (src/wasm/site.rs) that the npm CLI
// (pkg/cli.js) and the facade use instead of copies of their own, and the npm CLI against the
// native one on the same folder: the same summary, skip and warning lines, the same files and
// manifest, the model files of the core's table.
// Needs ./build.sh wasm (pkg/) and the native CLI (DOCENT_BIN or target/debug/docent), and
// models/ for the static embedder (./build.sh setup). Run with `node --test tests/js/`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkgDir = join(root, 'pkg');
const models = join(root, 'models');

let wasm; // docent_wasm.js, initialised by the facade
let Docent;
let tmp;

before(async () => {
  assert.ok(existsSync(join(pkgDir, 'docent_wasm_bg.wasm')), 'pkg/docent_wasm_bg.wasm is missing: run ./build.sh wasm first');
  const pkg = await import(join(pkgDir, 'docent.js'));
  await pkg.init();
  wasm = await import(join(pkgDir, 'docent_wasm.js'));
  ({ Docent } = pkg);
  tmp = await mkdtemp(join(tmpdir(), 'docent-site-js-'));
});

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Expects `fn` to throw a JS Error whose message is exactly `message`. */
function throwsExactly(fn, message) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error, `expected an Error, got ${typeof e}: ${e}`);
    assert.equal(e.message, message);
    return true;
  });
}

test('the model file table, the folder names and the runtime files come from the core', async () => {
  const pkg = await import(join(pkgDir, 'docent.js'));
  assert.equal(pkg.modelFiles, wasm.modelFiles, 'the facade re-exports the core table');
  assert.deepEqual(wasm.modelFiles('minilm'), [
    { field: 'weights', file: 'minilm.int8', path: 'model/minilm.int8' },
    { field: 'tokenizer', file: 'tokenizer.json', path: 'model/tokenizer.json' },
    { field: 'config', file: 'config.json', path: 'model/config.json' },
  ]);
  assert.deepEqual(wasm.modelFiles('static'), [
    { field: 'table', file: 'static.bin', path: 'model/static.bin' },
    { field: 'tokenizer', file: 'tokenizer.json', path: 'model/tokenizer.json' },
  ]);
  // The offline service worker knows model files by these paths (it leaves them to the
  // runtime's own cache): its pattern must match every file of the table, and nothing else here.
  const sw = await readFile(join(pkgDir, 'docent-sw.js'), 'utf8');
  const pattern = new RegExp(/const MODEL_FILE = \/(.+)\/;/.exec(sw)[1]);
  for (const kind of ['minilm', 'static']) {
    for (const f of wasm.modelFiles(kind)) assert.ok(pattern.test(`/docs/docent/${f.path}`), `docent-sw.js's MODEL_FILE misses ${f.path}`);
  }
  assert.ok(!pattern.test('/docs/model/index.html') && !pattern.test('/docent/manifest.json'), 'MODEL_FILE matches only model files');
  const cacheName = (src) => /const MODEL_CACHE = '([^']+)'/.exec(src)?.[1];
  assert.equal(cacheName(sw), cacheName(await readFile(join(pkgDir, 'docent.js'), 'utf8')), 'the worker and docent.js name the same model cache');
  assert.deepEqual(wasm.modelFiles('hashing'), []);
  assert.deepEqual(wasm.modelFiles('vectors'), []);
  throwsExactly(() => wasm.modelFiles('bert'), 'invalid embedder: expected one of minilm, static, hashing, vectors; found "bert"');
  // The `field`s are what `new Docent({model})` reads: a model object keyed by them loads.
  const model = {};
  for (const f of wasm.modelFiles('static')) model[f.field] = new Uint8Array(await readFile(join(models, f.file)));
  assert.equal(new Docent({ embedder: 'static', model }).dim, 256);
  // pkg/docent.js keeps no table of its own.
  const facade = await readFile(join(pkgDir, 'docent.js'), 'utf8');
  for (const name of ['static.bin', 'minilm.int8', 'tokenizer.json', 'config.json']) {
    assert.ok(!facade.includes(`'${name}'`), `pkg/docent.js names ${name}: the table is the core's`);
  }

  assert.deepEqual(wasm.siteLayout(), { index: 'index.bin', manifest: 'manifest.json', modelDir: 'model', wasm: 'docent_wasm_bg.wasm', localRuntime: ['llm/wllama/wllama.js', 'llm/wllama/wllama.wasm'] });
  for (const name of ['docent.js', 'worker.js', 'docent_wasm.js', 'docent_wasm_bg.wasm', 'search.js', 'docent_search.js', 'docent_search_bg.wasm']) assert.equal(wasm.isRuntimeFile(name), true, name);
  // The PDF module is the package's, not a site's: its readers never add PDFs.
  for (const name of ['cli.js', 'docent.d.ts', 'package.json', 'README.md', 'docent_pdf.js', 'docent_pdf_bg.wasm']) assert.equal(wasm.isRuntimeFile(name), false, name);
  assert.deepEqual(['a.HTML', 'b.md', 'c.rst', 'd.css', 'e', 'f.PDF'].map(wasm.formatOf), ['html', 'markdown', 'text', undefined, undefined, 'pdf']);
});

test('previousSite reads what an earlier run recorded, and never offers a path outside the folder', () => {
  const none = { index: 'index.bin', files: [], fragments: [] };
  assert.deepEqual(wasm.previousSite(undefined), none);
  assert.deepEqual(wasm.previousSite(new TextEncoder().encode('{"format": "other"}')), none);
  const manifest = {
    format: 'docent-index', version: 2, index: 'old.bin', bytes: 3, xxh3: '',
    embedder: { kind: 'hashing', model: 'hashing-v1', dim: 256, fingerprint: '0000000000000100' },
    documents: 1, chunks: 1, dense: 'flat', created_by: 'test',
    files: [{ path: 'old.bin', bytes: 3, xxh3: 'x' }, { path: '../escape.js', bytes: 1, xxh3: 'y' }, { path: 'model/static.bin', bytes: 1, xxh3: 'z' }],
  };
  const p = wasm.previousSite(new TextEncoder().encode(JSON.stringify(manifest)));
  assert.equal(p.index, 'old.bin');
  assert.deepEqual(p.files.map((f) => f.path), ['old.bin', 'model/static.bin']);
  assert.equal(wasm.previousSite(new TextEncoder().encode(JSON.stringify({ ...manifest, index: '../x.bin' }))).index, 'index.bin');
});

const PAGES = [
  { url: 'stub.html', html: '<html><head><meta http-equiv="refresh" content="0; url=guide.html"></head><body></body></html>' },
  { url: 'hidden.html', html: '<html><head><meta name="robots" content="noindex"></head><body><p>marmalade</p></body></html>' },
  { url: 'guide.html', html: '<html><body><main><h1 id="kilns">Kilns</h1><p>Fire the kiln slowly to cone 6.</p></main></body></html>' },
  { url: 'blank.html', html: '<html><body><main></main></body></html>' },
];

test('addPage reports skipped and empty pages as outcomes; addDocument throws the same reasons', () => {
  const d = new Docent({ embedder: 'hashing' });
  const outcomes = PAGES.map((p) => d.addPage(p));
  assert.deepEqual(outcomes, [
    { chunks: 0, skipped: 'redirect stub', warning: null, encoding: 'UTF-8', note: null },
    { chunks: 0, skipped: 'robots noindex', warning: null, encoding: 'UTF-8', note: null },
    { chunks: 1, skipped: null, warning: null, encoding: 'UTF-8', note: null },
    { chunks: 0, skipped: null, warning: 'blank.html: no text to index, skipped', encoding: 'UTF-8', note: null },
  ]);
  // Bytes are decoded by the core: a declared charset silently, a guess with a note.
  const latin1 = (text) => new Uint8Array(Buffer.from(text, 'latin1'));
  assert.deepEqual(d.addPage({ url: 'menu.html', html: latin1('<meta charset="iso-8859-1"><p>Cr\u00e8me br\u00fbl\u00e9e</p>') }),
    { chunks: 1, skipped: null, warning: null, encoding: 'windows-1252', note: null });
  assert.deepEqual(d.addPage({ url: 'menu.txt', text: latin1('Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e') }),
    { chunks: 1, skipped: null, warning: null, encoding: 'windows-1252', note: 'not valid UTF-8; decoded as windows-1252 (no charset declared, guessed from the bytes)' });
  // A canonical link to a page of the run makes a page a duplicate (addDocument does not look).
  d.expectPages(['guide.html', 'v2/guide.html']);
  assert.deepEqual(d.addPage({ url: 'v2/guide.html', html: '<link rel=canonical href="../guide.html"><p>Copy.</p>' }),
    { chunks: 0, skipped: 'duplicate of guide.html (canonical)', warning: 'v2/guide.html: duplicate of guide.html (canonical), skipped', encoding: 'UTF-8', note: null });
  d.build();
  assert.equal(d.search('brûlée', { mode: 'lexical' }).hits.length, 2, 'both decoded pages are found by their accented words');
  const other = new Docent({ embedder: 'hashing' });
  assert.equal(other.addDocument({ url: 'v2/guide.html', html: '<link rel=canonical href="../guide.html"><p>Copy.</p>' }), 1);
  const e = new Docent({ embedder: 'hashing' });
  throwsExactly(() => e.addDocument(PAGES[0]), 'document stub.html: not indexed: the page is a redirect stub');
  throwsExactly(() => e.addDocument(PAGES[1]), 'document hidden.html: not indexed: the page is a robots noindex');
  assert.throws(() => e.addDocument(PAGES[3]), /^Error: document blank\.html: no text to index/);
  // Other errors are errors for both.
  throwsExactly(() => d.addPage(PAGES[2]), 'document guide.html: a document with this url is already in the index; remove it first');
  throwsExactly(() => d.addPage({ url: 'x.md' }), 'document x.md: expected one of the fields text, html, markdown or pdf, found none');
  // Nothing indexed: the core's message, with the pages addPage counted.
  const empty = new Docent({ embedder: 'hashing' });
  empty.addPage(PAGES[0]);
  empty.addPage(PAGES[3]);
  throwsExactly(() => empty.checkIndexed(['site', 'docs'], 2),
    'invalid paths: no indexable text found in site, docs (2 unsupported files, 1 skipped, 1 empty)');
  d.checkIndexed(['site'], 0); // something was indexed: no error
});

test('indexSummary and siteManifest: the sentence, the JSON and the manifest the native CLI writes', () => {
  const d = new Docent({ embedder: 'hashing' });
  for (const p of PAGES) d.addPage(p);
  d.build();
  const bytes = d.toBytes();
  const files = [{ path: 'index.bin', bytes: bytes.length, xxh3: wasm.xxh3(bytes) }];
  const work = { unsupported: 2, duplicates: 1, excluded: 0, indexBytes: 1_440_000, runtime: 'none', files, written: ['index.bin', 'manifest.json'], deleted: [],
    seconds: { read: 0.5, embed: 0.126, index: 0.25, write: 0.01, total: 2.3456 } };
  assert.equal(d.indexSummary(work, 'public/docent', false),
    'indexed 1 documents (0 reused, 1 embedded, 0 removed), 1 chunks into public/docent: 2 skipped (1 redirect stub, 1 robots noindex), ' +
    '2 unsupported, 1 duplicates, 1 empty; embedder hashing (256-d), dense flat; 1.4 MB index; 2 files, 2 written; embed 0.13 s of 2.35 s total');
  const json = JSON.parse(d.indexSummary(work, 'public/docent', true));
  assert.deepEqual(Object.keys(json), ['documents', 'reused', 'embedded', 'removed', 'chunks', 'reused_chunks', 'embedded_chunks', 'rebuild',
    'skipped', 'unsupported', 'duplicates', 'empty', 'excluded', 'embedder', 'dense', 'index_bytes', 'runtime', 'files', 'written', 'deleted', 'seconds']);
  assert.deepEqual(json.skipped, { 'redirect stub': 1, 'robots noindex': 1 });
  assert.equal(json.runtime, 'none');
  assert.deepEqual(json.files, files);
  throwsExactly(() => d.indexSummary({ ...work, runtime: 'maybe' }, 'out', false),
    'invalid work: unknown variant `maybe`, expected one of `copied`, `kept`, `none`');
  throwsExactly(() => d.indexSummary({ ...work, sconds: 1 }, 'out', false),
    'invalid work: unknown field "sconds", expected one of unsupported, duplicates, excluded, indexBytes, runtime, files, written, deleted, seconds, fragments');
  // The fragment counts of the run are in the sentence and the JSON, as the native CLI prints them.
  const counts = { total: 12, reused: 9, written: 3, removed: 2 };
  assert.match(d.indexSummary({ ...work, fragments: counts }, 'out', false), /; fragments: 12 \(9 reused, 3 written, 2 removed\); embed /);
  assert.deepEqual(JSON.parse(d.indexSummary({ ...work, fragments: counts }, 'out', true)).fragments, counts);
  throwsExactly(() => d.indexSummary(undefined, 'out', false), 'invalid work: expected an object, found undefined');
  const { indexBytes, ...noBytes } = work;
  assert.equal(indexBytes, 1_440_000);
  throwsExactly(() => d.indexSummary(noBytes, 'out', false), 'invalid work: missing field `indexBytes`');

  const manifest = d.siteManifest(bytes, 'docent test', files);
  const m = JSON.parse(manifest);
  assert.equal(manifest, JSON.stringify(m, null, 2), 'two-space JSON, as manifest.json is written');
  assert.deepEqual({ ...m, embedder: undefined }, {
    format: 'docent-index', version: 3, index: 'index.bin', bytes: bytes.length, xxh3: wasm.xxh3(bytes), embedder: undefined,
    documents: 1, chunks: 1, dense: 'flat', created_by: 'docent test', files,
  });
  assert.deepEqual(m.embedder, d.stats().embedder);
  assert.throws(() => d.siteManifest(bytes, 'x', [{ path: 'a' }]), /^Error: invalid files: missing field `bytes`/);
});

// ---------------------------------------------------------------------------------------------
// The two CLIs on the same folder

/** The native CLI built by ./build.sh setup (target/debug/docent), or DOCENT_BIN. */
function nativeCli() {
  const bin = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  assert.ok(existsSync(bin), `${bin} is missing: run ./build.sh setup (builds the CLI) or set DOCENT_BIN`);
  return bin;
}

/** Runs a CLI (`node pkg/cli.js` or the native one) in `cwd`; returns {status, stdout, stderr}. */
function run(which, args, cwd) {
  const [cmd, pre] = which === 'npm' ? [process.execPath, [join(pkgDir, 'cli.js')]] : [nativeCli(), []];
  const env = { ...process.env, DOCENT_MODEL_DIR: models };
  delete env.DOCENT_ASSETS;
  const r = spawnSync(cmd, [...pre, ...args], { cwd, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.error, undefined, String(r.error));
  return r;
}

/** A summary line with its timings and the output folder's name masked. */
const masked = (line, out) => line.replace(` into ${out}: `, ' into OUT: ').replace(/embed [\d.]+ s of [\d.]+ s total/, 'embed T s of T s total');

/** Every file under `dir`, relative, `/`-separated, sorted. */
async function filesUnder(dir) {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1).split(sep).join('/')).sort();
}

test('pkg/cli.js and the native CLI print the same summary, skip and warning lines and write the same folder', async () => {
  assert.ok(existsSync(join(models, 'static.bin')), 'models/ is missing: run ./build.sh setup');
  const site = join(tmp, 'public');
  await cp(join(root, 'tests/fixtures/site'), site, { recursive: true });
  await writeFile(join(site, 'blank.html'), '<html><body><main></main></body></html>'); // an empty page
  const args = (out, json) => ['index', 'public', '--out', out, '--embedder', 'static', ...(json ? ['--json'] : [])];
  // The native CLI copies the same runtime the npm CLI copies from its own folder.
  const native = (out, json) => run('native', [...args(out, json), '--assets', pkgDir], tmp);
  const npm = (out, json) => run('npm', args(out, json), tmp);

  const [n, w] = [native('native-out'), npm('npm-out')];
  assert.equal(n.status, 0, n.stderr);
  assert.equal(w.status, 0, w.stderr);
  const line = masked(n.stdout, 'native-out');
  assert.match(line, /: 3 skipped \(1 data-docent-ignore, 1 redirect stub, 1 robots noindex\), 1 unsupported, 1 duplicates, 1 empty; /);
  assert.equal(masked(w.stdout, 'npm-out'), line);
  const warnings = (r) => r.stderr.split('\n').filter((l) => l.startsWith('docent: warning: '));
  assert.deepEqual(warnings(n), ['docent: warning: blank.html: no text to index, skipped']);
  assert.deepEqual(warnings(w), warnings(n));

  // The same files, index and manifest (but who wrote it); the model files are the core's table.
  const files = await filesUnder(join(tmp, 'native-out'));
  assert.deepEqual(await filesUnder(join(tmp, 'npm-out')), files);
  // llama.cpp's runtime (./build.sh wasm puts it in pkg/), for provider="local", by both.
  for (const f of wasm.siteLayout().localRuntime) assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
  for (const f of wasm.modelFiles('static')) assert.ok(files.includes(f.path), `${f.path} in ${files.join(', ')}`);
  assert.deepEqual(files.filter((f) => f.startsWith('model/')), wasm.modelFiles('static').map((f) => f.path).sort());
  const read = (dir, f) => readFile(join(tmp, dir, f));
  assert.deepEqual(await read('npm-out', 'index.bin'), await read('native-out', 'index.bin'));
  const manifest = async (dir) => (await read(dir, 'manifest.json')).toString().replace(/"created_by": "[^"]*"/, '"created_by": ""');
  assert.equal(await manifest('npm-out'), await manifest('native-out'));

  // A re-run: everything reused, nothing written, by both; --json the same object but timings.
  const [nj, wj] = [native('native-out', true), npm('npm-out', true)];
  const summary = (r) => ({ ...JSON.parse(r.stdout), seconds: undefined });
  assert.equal(summary(nj).reused, 13);
  assert.deepEqual(summary(nj).written, []);
  assert.deepEqual(summary(wj), summary(nj));

  // Nothing to index: the same error from both.
  const nothing = join(tmp, 'nothing');
  await cp(join(site, 'search.html'), join(nothing, 'search.html'));
  await writeFile(join(nothing, 'blank.html'), '<main></main>');
  const [ne, we] = [run('native', ['index', 'nothing', '--out', 'n1', '--embedder', 'hashing'], tmp), run('npm', ['index', 'nothing', '--out', 'n2', '--embedder', 'hashing'], tmp)];
  assert.equal(ne.status, 1);
  assert.equal(we.status, 1);
  assert.equal(ne.stderr.trim().split('\n').at(-1), 'docent: invalid paths: no indexable text found in nothing (0 unsupported files, 1 skipped, 1 empty)');
  assert.equal(we.stderr, ne.stderr);
});

test('bad input gives the same summary, warning and note lines from both CLIs', async () => {
  // Other encodings, canonical and byte duplicates, empty sections: the decoding, the canonical
  // links, the counting and every line are the core's, so both CLIs must print the same. Only
  // the guess for an undeclared page differs (chardetng natively, windows-1252 in wasm): the
  // guessed page here is windows-1252 text, which both read as windows-1252.
  const site = join(tmp, 'bad');
  for (const sub of ['copy', 'latest']) await mkdir(join(site, sub), { recursive: true });
  await cp(join(root, 'tests/fixtures/site/alarms.html'), join(site, 'alarms.html'));
  await cp(join(root, 'tests/fixtures/site/alarms.html'), join(site, 'copy/alarms.html'));
  const html = (head, body) => `<html><head>${head}</head><body><main><h1 id=t>Page</h1>${body}</main></body></html>`;
  const latin1 = (text) => Buffer.from(text, 'latin1');
  await writeFile(join(site, 'declared.html'), latin1(html('<meta charset="iso-8859-1">', '<p>Cr\u00e8me br\u00fbl\u00e9e au four.</p>')));
  await writeFile(join(site, 'guessed.txt'), latin1('Caf\u00e9 cr\u00e8me, g\u00e2teau \u00e0 la fran\u00e7aise, cr\u00eape br\u00fbl\u00e9e.\n'));
  await writeFile(join(site, 'utf16.html'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(html('', '<p>\u041e\u0431\u0436\u0438\u0433 \u043a\u0435\u0440\u0430\u043c\u0438\u043a\u0438</p>'), 'utf16le')]));
  await writeFile(join(site, 'guide.html'), html('<link rel="canonical" href="https://docs.example.com/guide.html">', '<p>Load the kiln loosely.</p>'));
  await writeFile(join(site, 'latest/guide.html'), html('<link rel="canonical" href="../guide.html">', '<p>Load the kiln loosely (latest).</p>'));
  await writeFile(join(site, 'sections.html'), html('', '<h2 id=a>Empty</h2><h2 id=b>Full</h2><p>Text under a heading.</p><h2 id=c>Last</h2>'));
  const args = (out, json) => ['index', 'bad', '--out', out, '--embedder', 'hashing', ...(json ? ['--json'] : [])];
  const [n, w] = [run('native', [...args('bad-native'), '--assets', pkgDir], tmp), run('npm', args('bad-npm'), tmp)];
  assert.equal(n.status, 0, n.stderr);
  assert.equal(w.status, 0, w.stderr);
  const line = masked(n.stdout, 'bad-native');
  assert.match(line, /: 1 skipped \(1 canonical duplicate\), 0 unsupported, 1 duplicates, 0 empty, 3 not UTF-8 \(1 UTF-16LE, 2 windows-1252\), 2 empty sections; /);
  assert.equal(masked(w.stdout, 'bad-npm'), line);
  const told = (r) => r.stderr.split('\n').filter((l) => /^docent: (warning|note): /.test(l));
  assert.deepEqual(told(n), [
    'docent: warning: bad/guessed.txt: not valid UTF-8; decoded as windows-1252 (no charset declared, guessed from the bytes)',
    'docent: note: copy/alarms.html: same content as alarms.html, skipped as a duplicate',
    'docent: warning: latest/guide.html: duplicate of guide.html (canonical), skipped',
  ]);
  assert.deepEqual(told(w), told(n));
  const read = (dir, f) => readFile(join(tmp, dir, f));
  assert.deepEqual(await read('bad-npm', 'index.bin'), await read('bad-native', 'index.bin'), 'the same index');
  const summary = (r) => ({ ...JSON.parse(r.stdout), seconds: undefined });
  const [nj, wj] = [run('native', [...args('bad-native', true), '--assets', pkgDir], tmp), run('npm', args('bad-npm', true), tmp)];
  assert.deepEqual(summary(nj).encodings, { 'UTF-16LE': 1, 'windows-1252': 2 });
  assert.deepEqual(summary(wj), summary(nj));
});

test('PDFs: both CLIs read them with the same core reader, cite url#page=N and skip bad ones with the same lines', async () => {
  // Hand-written PDFs (tests/fixtures/pdf/handwritten.py): two pages with an outline, a page with
  // no text layer, and an error page saved under a .pdf name.
  const dir = join(tmp, 'pdfs');
  await mkdir(dir, { recursive: true });
  await cp(join(root, 'tests/fixtures/pdf/harbour.pdf'), join(dir, 'harbour.pdf'));
  await cp(join(root, 'tests/fixtures/pdf/blank.pdf'), join(dir, 'blank.pdf'));
  await writeFile(join(dir, 'error.pdf'), '<html><body>502 Bad Gateway</body></html>');
  const args = (out) => ['index', 'pdfs', '--out', out, '--embedder', 'hashing'];
  const [n, w] = [run('native', [...args('pdf-native'), '--assets', pkgDir], tmp), run('npm', args('pdf-npm'), tmp)];
  assert.equal(n.status, 0, n.stderr);
  assert.equal(w.status, 0, w.stderr);
  const line = masked(n.stdout, 'pdf-native');
  assert.match(line, /^indexed 1 documents .*: 2 skipped \(1 PDF without a text layer \(no text, OCR it first\), 1 unreadable PDF\), 0 unsupported/);
  assert.equal(masked(w.stdout, 'pdf-npm'), line);
  const told = (r) => r.stderr.split('\n').filter((l) => /^docent: (warning|note): /.test(l));
  assert.deepEqual(told(n), [
    'docent: warning: pdfs/blank.pdf: not indexed: PDF without a text layer (no text, OCR it first): none of its 1 pages has text',
    'docent: warning: pdfs/error.pdf: not indexed: unreadable PDF: no %PDF- header in the first 1024 bytes',
  ]);
  assert.deepEqual(told(w), told(n));
  const read = (d, f) => readFile(join(tmp, d, f));
  assert.deepEqual(await read('pdf-npm', 'index.bin'), await read('pdf-native', 'index.bin'), 'the same index');
  const hits = JSON.parse(execFileSync(nativeCli(), ['search', join(tmp, 'pdf-npm'), 'boats north pier', '--k', '1', '--json'], { encoding: 'utf8' }));
  assert.equal(hits.hits[0].url, 'harbour.pdf#page=2');
});

test('the npm CLI reuses the index a native run left and deletes only what an earlier run recorded', async () => {
  const site = join(tmp, 'public2');
  await cp(join(root, 'tests/fixtures/corpus'), site, { recursive: true });
  const out = join(tmp, 'mixed');
  assert.equal(run('native', ['index', site, '--out', out, '--embedder', 'static', '--assets', pkgDir], tmp).status, 0);
  await writeFile(join(out, 'mine.txt'), 'not docent\'s');
  const r = run('npm', ['index', site, '--out', out, '--embedder', 'hashing', '--json'], tmp);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.match(s.rebuild, /^the previous index was built with static/);
  assert.deepEqual(s.deleted, ['model/static.bin', 'model/tokenizer.json']);
  assert.equal(s.runtime, 'copied');
  assert.ok(existsSync(join(out, 'mine.txt')), 'a file docent did not write stays');
  assert.ok(!existsSync(join(out, 'model')), 'the emptied model/ folder goes');
  assert.equal(execFileSync(nativeCli(), ['search', out, 'tyre pressure', '--json'], { encoding: 'utf8', env: { ...process.env, DOCENT_MODEL_DIR: models } })
    .includes('"answerable":'), true);
});
