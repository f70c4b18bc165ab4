// Browser end-to-end: the npm package (pkg/) in real Chromium, loading a site index written by the
// native CLI through loadDocent. Any console error or page error fails the test.
// Needs: ./build.sh wasm (pkg/), ./build.sh setup (target/debug/docent, models/), Debian Chromium
// at /usr/bin/chromium and playwright-core in tests/browser/node_modules (./build.sh test installs
// both). Run with `node --test tests/browser/`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need, startStaticServer } from '../support/static-server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.DOCENT_CHROMIUM ?? '/usr/bin/chromium';
const WAIT_MS = 60_000;

let tmp;
let web;
let browser;

before(async () => {
  need(join(root, 'pkg/docent_wasm_bg.wasm'), 'run ./build.sh wasm first');
  const cli = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  need(cli, 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  const models = join(root, 'models');
  for (const f of ['static.bin', 'tokenizer.json']) need(join(models, f), 'run ./build.sh setup (prepares models/)');
  need(CHROMIUM, 'install Debian Chromium (./build.sh test does: apt-get install chromium) or set DOCENT_CHROMIUM');
  need(join(root, 'tests/browser/node_modules/playwright-core'), 'run npm ci --prefix tests/browser (./build.sh test does)');

  tmp = await mkdtemp(join(tmpdir(), 'docent-browser-test-'));
  const out = join(tmp, 'docent');
  // The CLI copies the model files the browser needs into out/model/.
  execFileSync(cli, ['index', join(root, 'tests/fixtures/corpus'), '--out', out, '--embedder', 'static'], {
    env: { ...process.env, DOCENT_MODEL_DIR: models },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: WAIT_MS,
  });
  for (const f of ['static.bin', 'tokenizer.json']) need(join(out, 'model', f), 'docent index should have copied it');

  web = await startStaticServer([['/idx/', tmp], ['/', root]]);
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: WAIT_MS,
  });
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

test('loadDocent in Chromium: search, assemble, Cache API, HTTP errors; console stays clean', { timeout: 2 * WAIT_MS }, async () => {
  const page = await browser.newPage();
  const problems = [];
  const missingManifest = `${web.origin}/idx/missing/manifest.json`;
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // The one request meant to fail (the error path below): Chromium logs every 404 resource.
    const expected404 = m.location().url === missingManifest && /status of 404/.test(m.text());
    if (!expected404) problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  try {
    await page.goto(`${web.origin}/tests/browser/page.html`, { timeout: WAIT_MS });
    await page.waitForFunction(() => window.docentResult !== undefined, null, { timeout: WAIT_MS });
    const r = await page.evaluate(() => window.docentResult);
    assert.equal(r.failed, undefined, r.failed);

    assert.equal(r.stats.embedder.kind, 'static');
    assert.equal(r.hits[0].url, 'guide/gardening.md#watering', JSON.stringify(r.hits));
    assert.equal(r.answerable, true);
    assert.equal(r.prompt.abstained, false);
    assert.ok(r.prompt.sources.length >= 1, 'the prompt has sources');
    assert.equal(r.prompt.sources[0].url, 'guide/gardening.md#watering');
    assert.ok(r.prompt.user.includes('<source id="1"'), r.prompt.user);

    const index = r.progress.first.filter((e) => e.stage === 'index');
    assert.ok(index.length >= 2, `index progress events: ${JSON.stringify(r.progress.first)}`);
    const last = index.at(-1);
    assert.ok(last.loaded > 0 && last.loaded === last.total, `last index event ${JSON.stringify(last)}`);
    const files = (events) => [...new Set(events.filter((e) => e.stage === 'model').map((e) => e.file))].sort();
    assert.deepEqual(files(r.progress.first), ['static.bin', 'tokenizer.json']);
    assert.deepEqual(files(r.progress.second), ['static.bin', 'tokenizer.json'], 'cached files report progress too');
    assert.equal(r.progress.first.at(-1).stage, 'ready');

    // The second load took the model files from the Cache API: the server saw one request each.
    assert.equal(r.againTop, 'guide/gardening.md#watering');
    assert.deepEqual(r.cached.sort(), ['/idx/docent/model/static.bin', '/idx/docent/model/tokenizer.json']);
    assert.equal(web.requests.get('/idx/docent/model/static.bin'), 1);
    assert.equal(web.requests.get('/idx/docent/model/tokenizer.json'), 1);
    assert.equal(web.requests.get('/idx/docent/manifest.json'), 2, 'the manifest is fetched on every load');

    assert.ok(r.error?.isError, `loading a missing index must throw an Error, got ${JSON.stringify(r.error)}`);
    assert.equal(r.error.message, `${missingManifest}: HTTP 404 Not Found`);
    console.log(`browser: first loadDocent ${r.loadMs.toFixed(0)} ms`);
  } catch (e) {
    if (problems.length) e.message += `\nconsole/page errors:\n${problems.join('\n')}`;
    throw e;
  } finally {
    await page.close();
  }
  assert.deepEqual(problems, [], 'the console must stay free of errors');
});
