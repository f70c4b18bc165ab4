// The fragmented site index under Node: `openSite` (the lean module, pkg/docent_search_bg.wasm)
// against a site folder on a 127.0.0.1 server started here, which can inject faults (404, damaged
// bytes, a fragment of another build, a slow answer, a refused connection). The folder is written
// by `npx docent index` (pkg/cli.js, which writes what the native CLI writes) over the fixture
// corpus and docs/*.md. Lexical and hybrid results are compared with the same index searched in
// memory (its index.bin through `Docent.fromBytes`). Also: the lean module's size and contents.
// Needs ./build.sh wasm. Run with `node --test tests/js/`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { cp, mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A full garbage collection now (`gc`, exposed to this file only). */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc');
const pkgDir = join(root, 'pkg');
const leanWasm = join(pkgDir, 'docent_search_bg.wasm');

/** The lean module's budget, gzip bytes (the issue's target; build.sh checks it too). */
const LEAN_GZIP_BUDGET = 250_000;

let pkg; // docent.js (full module: writes the folder, searches in memory)
let search; // search.js (lean module)
let tmp;
let site; // the site folder
let docent; // the same index in memory
let server;
let base;
/** Faults by request path: (req, res) => true when the fault answered the request. */
const faults = new Map();
/** Every request: {path, at} (ms since the test server started), and in-flight counts. */
let log = [];
let inflight = 0;
let maxInflight = 0;

/** The corpus folder: the fixture corpus and docs/*.md. */
async function writeCorpus(dir) {
  await cp(join(root, 'tests/fixtures/corpus'), dir, { recursive: true });
  await mkdir(join(dir, 'docs'));
  for (const f of (await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md'))) {
    await cp(join(root, 'docs', f), join(dir, 'docs', f));
  }
}

function startServer(dir) {
  const started = Date.now();
  const srv = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    log.push({ path, at: Date.now() - started });
    inflight += 1;
    maxInflight = Math.max(maxInflight, inflight);
    res.on('close', () => { inflight -= 1; });
    const fault = faults.get(path.replace(/^\/site\//, ''));
    if (fault && (await fault(req, res))) return;
    try {
      const body = await readFile(join(dir, path.replace(/^\/site\//, '')));
      // A short delay, so that requests of one stage overlap when they are sent together.
      await new Promise((r) => setTimeout(r, 30));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
    } catch {
      res.writeHead(404, 'Not Found').end();
    }
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

before(async () => {
  assert.ok(existsSync(leanWasm), `${leanWasm} is missing: run ./build.sh wasm first`);
  pkg = await import(join(pkgDir, 'docent.js'));
  await pkg.init();
  search = await import(join(pkgDir, 'search.js'));
  tmp = await mkdtemp(join(tmpdir(), 'docent-fragments-js-'));
  site = join(tmp, 'site');
  await writeCorpus(join(tmp, 'corpus'));
  const line = execFileSync(process.execPath, [join(pkgDir, 'cli.js'), 'index', join(tmp, 'corpus'), '--out', site], { encoding: 'utf8' });
  const written = (await readdir(join(site, 'fragments'))).length;
  assert.match(line, new RegExp(`; fragments: ${written} \\(0 reused, ${written} written, 0 removed\\);`));
  for (const f of ['search.js', 'docent_search.js', 'docent_search_bg.wasm']) {
    assert.ok(existsSync(join(site, f)), `the runtime copied into the site folder includes ${f}`);
  }
  docent = pkg.Docent.fromBytes(await readFile(join(site, 'index.bin')));
  server = await startServer(site);
  base = `http://127.0.0.1:${server.address().port}/site/`;
});

after(async () => {
  server?.close();
  docent?.free();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function resetLog() {
  log = [];
  maxInflight = 0;
}

/** The fragment files of the folder whose name starts with `prefix` (`lex`, `txt`, `ivf`, `vec`). */
async function fragmentsOf(prefix) {
  return (await readdir(join(site, 'fragments'))).filter((f) => f.startsWith(`${prefix}-`)).map((f) => `fragments/${f}`);
}

const urls = (r) => r.hits.map((h) => h.url);

test('a lexical question through fragments ranks as the index in memory, fetching only a few fragments', async () => {
  const s = await search.openSite(base);
  try {
    const stats = s.stats();
    assert.equal(stats.chunks, docent.stats().chunks);
    assert.equal(stats.documents, docent.stats().documents);
    assert.deepEqual(stats.embedder, docent.stats().embedder);
    assert.equal(stats.tokens, 'estimate');
    // Which build it is (what a report of an uncovered question names): the manifest's version and xxh3.
    const m = JSON.parse(await readFile(join(site, 'manifest.json'), 'utf8'));
    assert.deepEqual(stats.index, { version: m.version, fingerprint: m.xxh3 });
    assert.match(stats.index.fingerprint, /^[0-9a-f]{16}$/);
    assert.equal(s.hasDense(), true);
    assert.deepEqual(s.embedder(), docent.stats().embedder);
    for (const q of ['sourdough starter flour', 'chunk size overlap tokens', 'relevance gate threshold']) {
      resetLog();
      const got = await s.search(q, { k: 5, typos: false });
      const want = docent.search(q, { k: 5, mode: 'lexical' });
      assert.deepEqual(urls(got), urls(want), q);
      assert.deepEqual(got.hits.map((h) => h.text), want.hits.map((h) => h.text), q);
      assert.ok(got.hits.every((h) => h.dense === null), 'no dense scores without a vector');
      assert.ok(!log.some((r) => /\/(ivf|vec)-/.test(r.path)), `a lexical question fetched no vectors: ${log.map((r) => r.path)}`);
    }
    const f = s.fetched();
    // Per question: term shards, then text packs, and at most two more rounds of packs when
    // deduplication and the per-page limit drop too many hits (each round at least doubles what
    // it fetches; tests/fragments.rs measures how often over many questions).
    assert.ok(f.requests >= 2 && f.requests <= 3 * 4, `fetch calls: ${JSON.stringify(f)}`);
    assert.ok(f.stages >= 2 && f.stages <= f.requests, `fetch stages: ${JSON.stringify(f)}`);
    const all = (await readdir(join(site, 'fragments'))).length;
    assert.ok(f.fragments < all, `fetched ${f.fragments} of ${all} fragments`);
    // The same question again fetches nothing.
    resetLog();
    await s.search('sourdough starter flour', { k: 5 });
    assert.deepEqual(log, []);
  } finally {
    s.free();
  }
});

test('one stage requests its fragments together', async () => {
  const s = await search.openSite(base);
  try {
    resetLog();
    // Terms spread over the vocabulary (several term shards), hits on several pages (text packs).
    await s.search('bicycle chain sourdough tomatoes embedder manifest zero', { k: 10 });
    const fragments = log.filter((r) => r.path.includes('/fragments/'));
    assert.ok(fragments.length >= 3, `expected several fragments, fetched ${fragments.map((r) => r.path)}`);
    assert.ok(maxInflight >= 2, `requests of one stage overlapped at most ${maxInflight} at a time`);
  } finally {
    s.free();
  }
});

test('a vector makes the question hybrid and ranks as the index in memory', async () => {
  const s = await search.openSite(base);
  try {
    for (const q of ['how is a question embedded', 'watering tomatoes in summer']) {
      const vector = docent.embed([q]);
      const got = await s.search(q, { k: 5, vector, typos: false });
      const want = docent.search(q, { k: 5 });
      assert.deepEqual(urls(got), urls(want), q);
      assert.equal(got.answerable, want.answerable, q);
    }
    await assert.rejects(s.search('x', { vector: [0.1, 0.2] }), {
      message: 'invalid vector: expected a Float32Array (the question embedded with the index\'s embedder), found an array',
    });
    await assert.rejects(s.search('x', { vector: new Float32Array(3) }), /dimension|dim/);
    await assert.rejects(s.search('x', { kk: 1 }), {
      message: 'invalid search options: unknown field "kk", expected one of k, vector, prefixLast, typos',
    });
    // A failed call does not stop the next one.
    assert.ok((await s.search('bicycle chain')).hits.length > 0);
  } finally {
    s.free();
  }
});

test('createEmbedder embeds with the index\'s embedder, checked against its record', async () => {
  const s = await search.openSite(base);
  const e = await search.createEmbedder(base, { worker: false, embedder: s.embedder() });
  try {
    assert.equal(e.dim, s.embedder().dim);
    const v = await e.embed(['watering tomatoes in summer']);
    assert.ok(v instanceof Float32Array && v.length === e.dim);
    assert.deepEqual(Array.from(v), Array.from(docent.embed(['watering tomatoes in summer'])));
    const r = await s.search('watering tomatoes in summer', { vector: v });
    assert.match(r.hits[0].url, /gardening/);
    // Without the record it reads the manifest.
    const again = await search.createEmbedder(base, { worker: false });
    assert.equal(again.dim, e.dim);
    again.free();
    await assert.rejects(search.createEmbedder(base, { worker: false, embedder: { ...s.embedder(), fingerprint: 'ffffffffffffffff' } }),
      /not the ones the index was built with/);
  } finally {
    e.free();
    s.free();
  }
});

test('assemble budgets the prompt with the estimate, and the offline answer runs on the lean module', async () => {
  const s = await search.openSite(base);
  try {
    const p = await s.assemble('How does docent decide that a question is not covered?', { k: 4, budget: 700 });
    assert.equal(p.abstained, false);
    assert.ok(p.sources.length >= 1, 'sources');
    assert.ok(p.tokens <= 700, `tokens ${p.tokens}`);
    const full = docent.assemble('How does docent decide that a question is not covered?', { k: 4, budget: 700 });
    // The estimate overcounts, so the lean prompt never holds more source text than the exact one.
    assert.ok(p.sources.map((x) => x.text).join('').length <= full.sources.map((x) => x.text).join('').length + 8);
    const lean = await import(join(pkgDir, 'docent_search.js'));
    const answer = lean.offlineAnswer(p);
    assert.equal(answer.abstained, false);
    assert.match(answer.text, /\[\d+\]/);
    assert.deepEqual(answer, docent.offlineAnswer(p), 'the lean and the full module answer alike');
  } finally {
    s.free();
  }
});

test('a follow-up through the fragments: the lean module forms the query (followupQuery) and carries the turns, as the index in memory does', async () => {
  const s = await search.openSite(base);
  try {
    const history = [{ question: 'How does docent decide that a question is not covered?', answer: 'The gate decides [1].' }];
    const q = 'and how is it calibrated?';
    const formed = search.followupQuery(q, history);
    assert.ok(formed.startsWith(`${q} `) && formed.length > q.length + 8, formed);
    const p = await s.assemble(q, { k: 4, budget: 2000, history });
    const full = docent.assemble(q, { k: 4, budget: 2000, history });
    assert.equal(p.query, formed);
    assert.equal(full.query, formed);
    assert.equal(p.turns, 1);
    assert.deepEqual(p.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
    assert.equal(p.messages[2].content, 'The gate decides.');
    // With the urls the earlier answer cited (as the widget keeps them), the lean module (keyword
    // search here) and the index in memory (hybrid) both search the follow-up on their pages.
    const first = await s.assemble(history[0].question, { k: 4, budget: 2000 });
    const cited = [{ ...history[0], sources: first.sources.map((x) => x.url) }];
    const lean = await s.assemble(q, { k: 4, budget: 2000, history: cited });
    const mem = docent.assemble(q, { k: 4, budget: 2000, history: cited });
    assert.equal(lean.query, formed);
    const pages = new Set(cited[0].sources.map((u) => u.split('#')[0]));
    for (const p of [lean, mem]) assert.ok(pages.has(p.sources[0].url.split('#')[0]), `${p.sources[0].url} is on a cited page: ${[...pages]}`);
    // Cited pages elsewhere move the lean module's sources there.
    const elsewhere = await s.assemble(q, { k: 4, budget: 2000, history: [{ ...history[0], sources: ['docs/cli.md#docent-eval'] }] });
    assert.ok(elsewhere.sources.some((x) => x.url.startsWith('docs/cli.md')), JSON.stringify(elsewhere.sources.map((x) => x.url)));
  } finally {
    s.free();
  }
});

test('the full module\'s SiteIndex counts exactly with the tokenizer; the estimate counts more', async () => {
  const tokenizer = new Uint8Array(await readFile(join(root, 'models', 'tokenizer.json')));
  const exact = await pkg.SiteIndex.open(base, { tokenizer });
  const lean = await search.openSite(base);
  try {
    assert.equal(exact.stats().tokens, 'exact');
    assert.equal(lean.stats().tokens, 'estimate');
    const q = 'How is the index split into fragments?';
    const a = await exact.assemble(q, { k: 3, budget: 100000 });
    const b = await lean.assemble(q, { k: 3, budget: 100000 });
    assert.deepEqual(a.sources, b.sources, 'with room for every source both prompts are the same');
    assert.equal(a.user, b.user);
    assert.ok(b.tokens >= a.tokens, `the estimate (${b.tokens}) never counts fewer tokens than the tokenizer (${a.tokens})`);
    await assert.rejects(pkg.SiteIndex.open(base, { tokenizer: 'x' }), { message: 'invalid tokenizer: expected a Uint8Array, found a string' });
  } finally {
    exact.free();
    lean.free();
  }
});

test('faults: each fails the question with one sentence naming the fragment and what failed', async () => {
  const txt = await fragmentsOf('txt');
  const q = 'sourdough starter flour';
  const allLex = await fragmentsOf('lex');
  const setAll = (paths, fault) => paths.forEach((p) => faults.set(p, fault));
  try {
    // 404 on every term shard.
    setAll(allLex, async (_, res) => { res.writeHead(404, 'Not Found').end(); return true; });
    let s = await search.openSite(base);
    await assert.rejects(s.search(q), (e) => {
      assert.match(e.message, new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}fragments/lex-[0-9a-f]{16}\\.bin: HTTP 404 Not Found$`));
      return true;
    });
    faults.clear();
    // The index recovers once the fragment is served again (nothing bad was kept).
    assert.ok((await s.search(q)).hits.length > 0);
    s.free();

    // Damaged bytes: one byte flipped.
    setAll(allLex, async (req, res) => {
      const body = await readFile(join(site, new URL(req.url, 'http://x').pathname.replace(/^\/site\//, '')));
      body[body.length - 1] ^= 0xff;
      res.writeHead(200).end(body);
      return true;
    });
    s = await search.openSite(base);
    await assert.rejects(s.search(q), /fragments\/lex-[0-9a-f]{16}\.bin: .*(does not match|checksum|damaged)/);
    s.free();
    faults.clear();

    // A text pack from another build (the bytes of another pack under this name).
    setAll(txt, async (req, res) => {
      const other = txt.find((t) => !req.url.endsWith(t)) ?? txt[0];
      res.writeHead(200).end(await readFile(join(site, other)));
      return true;
    });
    s = await search.openSite(base);
    await assert.rejects(s.search(q), /fragments\/txt-[0-9a-f]{16}\.bin: /);
    s.free();
    faults.clear();

    // Slow: no answer within the timeout, with the garbage collector running while the requests
    // wait (Node's fetch follows a Request's signal only weakly: a collected Request would lose
    // its timeout and wait for Node's own 300 s limit).
    setAll(allLex, async () => true); // never answers
    s = await search.openSite(base, { timeoutMs: 300 });
    const t0 = Date.now();
    const collector = setInterval(collectGarbage, 40);
    let guard;
    try {
      const lost = new Promise((_, reject) => {
        guard = setTimeout(() => reject(new Error('still waiting after 5 s: the timeout was lost')), 5000);
      });
      await assert.rejects(Promise.race([s.search(q), lost]), new RegExp(`fragments/lex-[0-9a-f]{16}\\.bin: no answer within 0.3 s \\(timed out\\)$`));
    } finally {
      clearInterval(collector);
      clearTimeout(guard);
    }
    assert.ok(Date.now() - t0 < 3000, 'the timeout cut the wait');
    s.free();
    faults.clear();
  } finally {
    faults.clear();
  }
});

test('openSite errors: an older folder, a missing folder, a refused connection, bad options', async () => {
  const old = join(tmp, 'old');
  await mkdir(old, { recursive: true });
  const m = JSON.parse(await readFile(join(site, 'manifest.json'), 'utf8'));
  delete m.fragments;
  await writeFile(join(old, 'manifest.json'), JSON.stringify(m));
  // The lean module reads the manifest with the browser's JSON.parse: a damaged one is still
  // refused by name, saying what is wrong.
  const text = await readFile(join(site, 'manifest.json'), 'utf8');
  const good = JSON.parse(text);
  const damaged = {
    cut: text.slice(0, text.length >> 1),
    typed: JSON.stringify({ ...good, chunks: 'many' }),
    other: JSON.stringify({ ...good, format: 'pagefind' }),
  };
  for (const [dir, body] of Object.entries(damaged)) {
    await mkdir(join(old, dir), { recursive: true });
    await writeFile(join(old, dir, 'manifest.json'), body);
  }
  const oldServer = await startServer(old);
  try {
    const oldBase = `http://127.0.0.1:${oldServer.address().port}/site/`;
    await assert.rejects(search.openSite(oldBase), (e) => {
      assert.equal(e.name, 'DocentNotFragmented');
      assert.match(e.message, /^http:\/\/127\.0\.0\.1:\d+\/site\/manifest\.json: the manifest has no "fragments" object/);
      return true;
    });
    const refused = {
      cut: /^http:\/\/127\.0\.0\.1:\d+\/site\/cut\/manifest\.json: not a docent manifest: not JSON \(.+\)$/,
      typed: /^http:\/\/127\.0\.0\.1:\d+\/site\/typed\/manifest\.json: not a docent manifest: invalid type: string "many", expected usize$/,
      other: /^http:\/\/127\.0\.0\.1:\d+\/site\/other\/manifest\.json: field 'format' is "pagefind", expected "docent-index"$/,
    };
    for (const [dir, message] of Object.entries(refused)) {
      await assert.rejects(search.openSite(`${oldBase}${dir}/`), (e) => {
        assert.notEqual(e.name, 'DocentNotFragmented', dir);
        assert.match(e.message, message, dir);
        return true;
      });
    }
  } finally {
    oldServer.close();
  }
  await assert.rejects(search.openSite(`${base}nowhere/`), { message: `${base}nowhere/manifest.json: HTTP 404 Not Found` });
  // A port nothing listens on (this server's, closed).
  const closed = await startServer(site);
  const port = closed.address().port;
  await new Promise((r) => closed.close(r));
  await assert.rejects(search.openSite(`http://127.0.0.1:${port}/`), (e) => {
    assert.match(e.message, new RegExp(`^http://127\\.0\\.0\\.1:${port}/manifest\\.json: network error \\(.+\\)$`));
    return true;
  });
  await assert.rejects(search.openSite(base, { timeoutMs: 0 }), { message: 'invalid timeoutMs: expected milliseconds from 1 to 600000, found 0' });
  await assert.rejects(search.openSite(base, { timeout: 5 }), { message: 'invalid options: unknown field "timeout", expected one of timeoutMs, tokenizer, manifest' });
  await assert.rejects(search.openSite(base, { tokenizer: new Uint8Array(4) }), /this module \(docent_search\) counts tokens with an estimate/);
});

test('the lean module stays small and holds no tokenizer, model or indexer', async () => {
  const bytes = await readFile(leanWasm);
  const gz = gzipSync(bytes, { level: 9 }).length;
  console.log(`lean module docent_search_bg.wasm: ${bytes.length} bytes, ${gz} bytes gzip (budget ${LEAN_GZIP_BUDGET})`);
  assert.ok(gz <= LEAN_GZIP_BUDGET, `${gz} bytes gzip, above ${LEAN_GZIP_BUDGET}`);
  const full = await readFile(join(pkgDir, 'docent_wasm_bg.wasm'));
  assert.ok(bytes.length * 4 < full.length, `lean ${bytes.length} bytes vs full ${full.length}`);
  const lean = await import(join(pkgDir, 'docent_search.js'));
  assert.equal(typeof lean.SiteIndex, 'function');
  assert.equal(typeof lean.offlineAnswer, 'function');
  for (const name of ['Docent', 'VectorIndex', 'modelFiles']) assert.equal(lean[name], undefined, name);
  const text = new TextDecoder('latin1').decode(bytes);
  for (const marker of ['WordPiece', 'BertNormalizer', 'DOCENTQ8']) assert.ok(!text.includes(marker), `lean module contains ${marker}`);
  assert.ok(new TextDecoder('latin1').decode(full).includes('WordPiece'), 'the marker exists in the full module');
});
