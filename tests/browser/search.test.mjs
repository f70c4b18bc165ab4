// `docent/search` in Chromium: openSite (the lean module only) on a folder the native CLI wrote,
// a lexical question, then a second SiteIndex that takes the same fragments from the Cache API
// (the server forbids HTTP caching), then createEmbedder (the full module and the model in a
// worker, fetched there only) and a hybrid question. Any console or page error fails the test.
// Needs what tests/browser/browser.test.mjs needs. Run with `node --test tests/browser/`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { need, startStaticServer } from '../support/static-server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 60_000;

let tmp;
let web;
let browser;

before(async () => {
  need(join(root, 'pkg/docent_search_bg.wasm'), 'run ./build.sh wasm first');
  const cli = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  need(cli, 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  const models = join(root, 'models');
  tmp = await mkdtemp(join(tmpdir(), 'docent-search-test-'));
  execFileSync(cli, ['index', join(root, 'tests/fixtures/corpus'), '--out', join(tmp, 'docent'), '--embedder', 'static'], {
    env: { ...process.env, DOCENT_MODEL_DIR: models },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: WAIT_MS,
  });
  web = await startStaticServer([['/idx/', tmp], ['/', root]]);
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await web?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A new page whose page errors and console errors are collected in `problems`. */
async function watchedPage() {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  return { page, problems };
}

test('openSite and createEmbedder in Chromium: lean first answer, Cache API, hybrid in a worker', { timeout: 2 * WAIT_MS }, async () => {
  const { page, problems } = await watchedPage();
  try {
    await page.goto(`${web.origin}/tests/browser/search.html`, { timeout: WAIT_MS });
    const q = 'how often should tomatoes be watered';
    const first = await page.evaluate(async (q) => {
      const { openSite } = await import('/pkg/search.js');
      const s = await openSite('/idx/docent/');
      const r = await s.search(q, { k: 3 });
      const out = { hits: r.hits.map((h) => h.url), answerable: r.answerable, fetched: s.fetched(), stats: s.stats(), caches: 'caches' in self };
      s.free();
      return out;
    }, q);
    assert.equal(first.caches, true, JSON.stringify(first));
    assert.match(first.hits[0], /^guide\/gardening\.md#/, JSON.stringify(first.hits));
    assert.equal(first.stats.embedder.kind, 'static');
    const before = new Map(web.requests);
    const wasm = (name) => web.requests.get(`/pkg/${name}`) ?? 0;
    assert.equal(wasm('docent_search_bg.wasm'), 1, 'the lean module was fetched');
    assert.equal(wasm('docent_wasm_bg.wasm'), 0, 'the full module was not fetched for a lexical answer');
    assert.ok(![...web.requests.keys()].some((p) => p.startsWith('/idx/docent/model/')), 'no model file before the embedder');
    const fragmentsFetched = [...web.requests.keys()].filter((p) => p.includes('/fragments/'));
    assert.equal(fragmentsFetched.length, first.fetched.fragments);

    const second = await page.evaluate(async (q) => {
      const { openSite, createEmbedder } = await import('/pkg/search.js');
      const s = await openSite('/idx/docent/');
      const lexical = await s.search(q, { k: 3 });
      const e = await createEmbedder('/idx/docent/', { embedder: s.embedder() });
      const vector = await e.embed([q]);
      const hybrid = await s.search(q, { k: 3, vector });
      const out = {
        lexical: lexical.hits.map((h) => h.url),
        hybrid: hybrid.hits.map((h) => ({ url: h.url, dense: h.dense })),
        dim: e.dim,
        length: vector.length,
        fetched: s.fetched(),
      };
      e.free();
      s.free();
      return out;
    }, q);
    assert.deepEqual(second.lexical, first.hits);
    // The same fragments came from the Cache API: the server saw no second request for them.
    for (const p of fragmentsFetched) assert.equal(web.requests.get(p), before.get(p), `${p} was fetched again`);
    assert.equal(web.requests.get('/idx/docent/manifest.json'), 2, 'the manifest is revalidated on every open');
    assert.equal(second.dim, first.stats.embedder.dim);
    assert.equal(second.length, second.dim);
    assert.ok(second.hybrid.some((h) => typeof h.dense === 'number'), JSON.stringify(second.hybrid));
    assert.match(second.hybrid[0].url, /^guide\/gardening\.md#/);
    // The embedder's module and model were fetched once, by its worker only.
    assert.equal(wasm('docent_wasm_bg.wasm'), 1);
    for (const f of await readdir(join(tmp, 'docent', 'model'))) {
      assert.equal(web.requests.get(`/idx/docent/model/${f}`), 1, `model/${f}`);
    }
    assert.equal(wasm('docent_search_bg.wasm'), 1, 'the lean module was not fetched again');
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('openSite requests the manifest while the lean module downloads, once, and the module judges it', { timeout: 2 * WAIT_MS }, async () => {
  const { page, problems } = await watchedPage();
  try {
    await page.goto(`${web.origin}/tests/browser/search.html`, { timeout: WAIT_MS });
    // The module's bytes are held back 500 ms: a manifest requested only once the module is
    // ready would come after that.
    const seen = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/idx/docent/manifest.json')) seen.push({ manifest: Date.now() });
    });
    let released = 0;
    await page.route('**/docent_search_bg.wasm', async (route) => {
      await new Promise((r) => setTimeout(r, 500));
      released = Date.now();
      await route.continue();
    });
    const r = await page.evaluate(async () => {
      const { openSite } = await import('/pkg/search.js');
      const s = await openSite('/idx/docent/');
      const hits = (await s.search('how often should tomatoes be watered', { k: 3 })).hits.map((h) => h.url);
      s.free();
      // A failed early request is reported by the module as its own would be: one sentence
      // naming the URL.
      const { SiteIndex } = await import('/pkg/docent_search.js');
      const url = new URL('/idx/missing/', location.href).href;
      const failed = await SiteIndex.open(url, { manifest: fetch(`${url}manifest.json`, { cache: 'no-cache' }) })
        .then(() => 'opened', (e) => e.message);
      const wrong = await SiteIndex.open(url, { manifest: 'manifest.json' }).then(() => 'opened', (e) => e.message);
      return { hits, failed, wrong };
    });
    assert.match(r.hits[0], /^guide\/gardening\.md#/, JSON.stringify(r));
    assert.equal(seen.length, 1, 'one request for the manifest');
    assert.ok(released > 0 && seen[0].manifest < released, `the manifest was requested ${released - seen[0].manifest} ms before the module was released`);
    assert.match(r.failed, /\/idx\/missing\/manifest\.json: HTTP 404/, r.failed);
    assert.match(r.wrong, /manifest.*expected the Promise/, r.wrong);
    assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  } finally {
    await page.close();
  }
});

test('a fragment that never answers, or stalls mid-body, fails the question after timeoutMs with one sentence, and nothing unhandled', { timeout: 2 * WAIT_MS }, async () => {
  // A server that never answers requests for term shards (`silent`), or sends their headers and
  // half the body then stalls (`stall`), and serves everything else as the static server does.
  let mode = 'silent';
  const { createServer } = await import('node:http');
  const { readFile } = await import('node:fs/promises');
  const hang = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (/\/fragments\/lex-/.test(path)) {
      if (mode === 'stall') {
        const body = await readFile(join(tmp, path.slice(5)));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
        res.write(body.subarray(0, body.length >> 1));
      }
      return; // the rest never comes
    }
    const file = path.startsWith('/idx/') ? join(tmp, path.slice(5)) : join(root, path);
    try {
      const body = await readFile(file);
      const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.wasm') ? 'application/wasm' : file.endsWith('.html') ? 'text/html' : 'application/octet-stream';
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => hang.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${hang.address().port}`;
  const { page, problems } = await watchedPage();
  try {
    await page.goto(`${origin}/tests/browser/search.html`, { timeout: WAIT_MS });
    const ask = () => page.evaluate(async () => {
      const { openSite } = await import('/pkg/search.js');
      const s = await openSite('/idx/docent/', { timeoutMs: 500 });
      try {
        await s.search('pruning tomatoes');
        return 'no error';
      } catch (e) {
        return e.message;
      } finally {
        s.free();
      }
    });
    const timedOut = new RegExp(`^${origin}/idx/docent/fragments/lex-[0-9a-f]{16}\\.bin: no answer within 0\\.5 s \\(timed out\\)$`);
    assert.match(await ask(), timedOut);
    mode = 'stall';
    assert.match(await ask(), timedOut);
    await page.waitForTimeout(500); // room for a late rejection to surface
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    hang.closeAllConnections();
    await new Promise((r) => hang.close(r));
  }
});
