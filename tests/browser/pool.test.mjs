// Browser end-to-end: a pool of Web Workers embedding the chunks of a build
// (`createDocent(…, {workers: 2})`, pkg/docent.js) in real Chromium. Any console error or page
// error fails the test. Needs: ./build.sh wasm (pkg/), models/ (./build.sh setup), Debian Chromium
// and playwright-core in tests/browser/node_modules. Run with `node --test tests/browser/`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, launchChromium } from '../support/chromium.mjs';
import { need, startStaticServer } from '../support/static-server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 60_000;

let web;
let browser;

before(async () => {
  need(join(root, 'pkg/docent_wasm_bg.wasm'), 'run ./build.sh wasm first');
  for (const f of ['minilm.int8', 'tokenizer.json', 'config.json']) need(join(root, 'models', f), 'run ./build.sh setup (prepares models/)');
  need(CHROMIUM, 'install Debian Chromium (./build.sh test does: apt-get install chromium) or set DOCENT_CHROMIUM');
  web = await startStaticServer([['/', root]]);
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await web?.close();
});

test('a pool of 2 embedder workers builds the index a single worker builds, surfaces worker errors and stops on free()', { timeout: 6 * WAIT_MS }, async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    // The one request meant to fail (the bad-model case below): Chromium logs every 404 resource.
    const expected404 = m.location().url.endsWith('/nowhere/minilm.int8') && /status of 404/.test(m.text());
    if (m.type() === 'error' && !expected404) problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  try {
    await page.goto(`${web.origin}/tests/browser/pool.html`, { timeout: WAIT_MS });
    await page.waitForFunction(() => window.docentResult !== undefined, null, { timeout: 5 * WAIT_MS });
    const r = await page.evaluate(() => window.docentResult);
    assert.equal(r.failed, undefined, r.failed);

    for (const embedder of ['minilm', 'hashing']) {
      const e = r[embedder];
      const what = `${embedder}: ${JSON.stringify({ ...e, embedEvents: e.embedEvents.length })}`;
      assert.equal(e.isWorker, true, what);
      assert.equal(e.poolStarted, 3, `one index worker and 2 embedder workers: ${what}`);
      assert.ok(e.chunks > 128, `many embed groups of at most 32 chunks: ${what}`);
      assert.equal(e.pending, 0, what);
      assert.equal(e.poolEqualsSingle, true, `pool and single worker write identical bytes: ${what}`);
      assert.equal(e.poolEqualsLocal, true, `pool and main thread write identical bytes: ${what}`);
      assert.deepEqual(e.stages, ['embed', 'dense', 'lexical', 'calibrate'], what);
      const pooled = e.embedEvents.filter((x) => x.total === e.chunks);
      assert.ok(pooled.length >= 5, `embed progress per group: ${what}`);
      assert.deepEqual(pooled.at(-1), { stage: 'embed', done: e.chunks, total: e.chunks }, what);
      assert.deepEqual(e.lastEvent, { stage: 'calibrate', done: 1, total: 1 }, what);
      assert.ok(e.hits.length > 0, what);
      assert.equal(e.poolTerminated, 3, `free() stops every worker of the pool: ${what}`);
      assert.deepEqual(e.afterFree, { isError: true, message: 'docent worker: free() was called' });
      console.log(`pool: ${embedder} build of ${e.chunks} chunks with 2 embedder workers ${e.ms.pool.toFixed(0)} ms, single worker ${e.ms.single.toFixed(0)} ms`);
    }

    assert.equal(r.broken.build.isError, true, JSON.stringify(r.broken));
    assert.match(r.broken.build.message, /^docent pool: embedder worker [12] of 2: docent worker: unknown operation "embedBroken"$/);
    assert.equal(r.broken.started, 3);
    assert.equal(r.broken.terminated, 3, 'free() after a failed build still stops every worker');

    for (const [bad, n] of [[r.badCount, 0], [r.badCount17, 17]]) {
      assert.deepEqual(bad, { isError: true, message: `options.workers: expected an integer from 1 to 16 (embedder workers), found ${n}` });
    }
    assert.equal(r.badModel.isError, true);
    assert.match(r.badModel.message, /\/nowhere\/minilm\.int8: HTTP 404/);
    assert.equal(r.badModelStarted, r.badModelTerminated, 'workers of a pool that failed to start are stopped');
  } catch (e) {
    if (problems.length) e.message += `\nconsole/page errors:\n${problems.join('\n')}`;
    throw e;
  } finally {
    await page.close();
  }
  assert.deepEqual(problems, [], 'the console must stay free of errors');
});
