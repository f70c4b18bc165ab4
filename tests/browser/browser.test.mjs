// Browser end-to-end: the npm package (pkg/) in real Chromium, loading a site index written by the
// native CLI through loadDocent. Any console error or page error fails the test.
// Needs: ./build.sh wasm (pkg/), ./build.sh setup (target/debug/docent, models/), Debian Chromium
// at /usr/bin/chromium and playwright-core in tests/browser/node_modules (./build.sh test installs
// both). Run with `node --test tests/browser/`.
import { test, before, after } from 'node:test';
import { CHROMIUM, launchChromium } from '../support/chromium.mjs';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need, startStaticServer } from '../support/static-server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
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
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await web?.close();
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

test('docent in a Web Worker: load, build MiniLM and static indexes with progress, same results as the main thread', { timeout: 4 * WAIT_MS }, async () => {
  for (const f of ['minilm.int8', 'config.json']) need(join(root, 'models', f), 'run ./build.sh setup (prepares models/)');
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  try {
    await page.goto(`${web.origin}/tests/browser/worker.html`, { timeout: WAIT_MS });
    await page.waitForFunction(() => window.docentResult !== undefined, null, { timeout: 3 * WAIT_MS });
    const r = await page.evaluate(() => window.docentResult);
    assert.equal(r.failed, undefined, r.failed);

    assert.equal(r.site.isWorker, true);
    assert.ok(r.site.dim > 0);
    assert.deepEqual(r.site.stages, ['index', 'model', 'ready'], 'load progress crosses the worker');
    assert.equal(r.site.hits[0].url, 'guide/gardening.md#watering', JSON.stringify(r.site.hits));
    assert.equal(r.site.prompt[0], 'guide/gardening.md#watering');

    for (const embedder of ['minilm', 'static']) {
      const e = r[embedder];
      const what = `${embedder}: ${JSON.stringify(e)}`;
      assert.deepEqual(e.workerBuild.stages.includes('embed'), true, what);
      assert.equal(e.workerBuild.last.done, e.workerBuild.last.total, what);
      assert.equal(e.stats.documents, 3, what);
      assert.equal(e.stats.pending, 0, what);
      assert.equal(e.workerHits[0].url, 'guide/gardening.md#watering', what);
      assert.deepEqual(e.workerHits, e.localHits, 'the worker computes exactly what the main thread does');
      assert.deepEqual(e.reopenedHits, e.localHits, 'bytes from the worker reopen on the main thread');
      assert.equal(e.bytesEqual, true, 'worker and main-thread builds write identical bytes');
      assert.deepEqual(e.embedded, { isFloat32: true, length: e.embedded.dim, dim: e.embedded.dim });
      // A build on the main thread blocks it (no timer fires until it returns); in the worker the
      // page's timers keep running.
      assert.equal(e.localBuild.ticks, 0, what);
      if (e.workerBuild.ms > 100) assert.ok(e.workerBuild.ticks > 0, `the main thread was blocked during the worker build: ${what}`);
      console.log(`worker: ${embedder} build of 3 documents ${e.workerBuild.ms.toFixed(0)} ms (main thread ${e.localBuild.ms.toFixed(0)} ms), ${e.workerBuild.ticks} timer ticks meanwhile`);
    }
    assert.ok(r.minilm.workerBuild.ms > 100, `the MiniLM build is long enough to see the main thread run: ${r.minilm.workerBuild.ms} ms`);

    const err = r.errors;
    assert.equal(err.remove.isError, true);
    assert.equal(err.remove.message, err.local.message, 'same core message through the worker');
    assert.match(err.remove.message, /nowhere\.md/);
    assert.equal(err.create.isError, true);
    assert.equal(err.create.message, err.createLocal.message);
    assert.match(err.create.message, /bert/);
    assert.equal(err.afterFree.message, 'docent worker: free() was called');
  } catch (e) {
    if (problems.length) e.message += `\nconsole/page errors:\n${problems.join('\n')}`;
    throw e;
  } finally {
    await page.close();
  }
  assert.deepEqual(problems, [], 'the console must stay free of errors');
});
