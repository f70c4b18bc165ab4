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
  if (web) {
    const closed = new Promise((resolve) => web.server.close(resolve));
    web.server.closeAllConnections();
    await closed;
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('openSite and createEmbedder in Chromium: lean first answer, Cache API, hybrid in a worker', { timeout: 2 * WAIT_MS }, async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
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
    assert.equal(first.caches, true);
    assert.match(first.hits[0], /^guide\/gardening\.md#/, JSON.stringify(first.hits));
    assert.equal(first.answerable, true);
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
