// <docent-ask provider="local" model-url="…"> on a static site in Chromium, with a real model
// (SmolLM2 135M from models/llm/, the smaller one): a question the documents do not cover is
// answered without the model; a covered one asks the reader first, naming the size the server
// reports, and downloads nothing before the button is pressed; then the download's progress, and
// Stop while the model reads the prompt. The page is not cross-origin isolated: one thread, as on any static
// host. wllama's files are served beside the widget's llm/ folder (llm/wllama/), as a site copies
// them. Any console error fails the test.
// Needs what widget.test.mjs needs, plus ./build.sh setup's models/llm/ and ./build.sh wasm's
// pkg/llm/wllama/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { need, startStaticServer, closeServer } from '../support/static-server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 60_000;
/** The model reads the whole prompt before its first token: minutes on a busy two-core machine. */
const MODEL_WAIT_MS = 300_000;
const MODEL = 'SmolLM2-135M-Instruct.Q4_1.gguf';

let tmp;
let web;
let browser;

before(async () => {
  need(join(root, 'pkg/llm/wllama/wllama.wasm'), 'run ./build.sh wasm (copies wllama into pkg/llm/wllama/)');
  need(join(root, 'models/llm', MODEL), 'run ./build.sh setup (writes models/llm/)');
  const cli = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  need(cli, 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  const render = process.env.DOCENT_DEMO_SITE_BIN ?? join(root, 'target/debug/examples/demo_site');
  need(render, 'run cargo build --example demo_site (./build.sh test does) or set DOCENT_DEMO_SITE_BIN');
  tmp = await mkdtemp(join(tmpdir(), 'docent-widget-local-'));
  const site = join(tmp, 'site');
  execFileSync(render, [site, join(root, 'docs/faq.md')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: WAIT_MS });
  execFileSync(cli, ['index', site, '--out', join(site, 'docent'), '--base-url', '/site/', '--assets', join(root, 'pkg'), '--embedder', 'static'], {
    env: { ...process.env, DOCENT_MODEL_DIR: join(root, 'models') },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 3 * WAIT_MS,
  });
  web = await startStaticServer([
    ['/site/docent/llm/wllama/', join(root, 'pkg/llm/wllama')],
    ['/site/', site],
    ['/models/', join(root, 'models/llm')],
    ['/', root],
  ]);
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  if (web) await closeServer(web.server);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const modelRequests = () => web.requests.get(`/models/${MODEL}`) ?? 0;

test('provider="local": the gate needs no model, the reader is asked with the size, then progress, and Stop while the model reads', { timeout: 2 * MODEL_WAIT_MS }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  const attrs = { provider: 'local', 'model-url': `/models/${MODEL}`, sources: '1' };
  await page.goto(`${web.origin}/tests/browser/widget.html?index=${encodeURIComponent('/site/docent/')}&attrs=${encodeURIComponent(JSON.stringify(attrs))}`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.widgetAdded === true, null, { timeout: WAIT_MS });
  await page.evaluate(() => {
    window.statuses = [];
    const s = document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="status"]');
    new MutationObserver(() => window.statuses.push(s.textContent)).observe(s, { childList: true, characterData: true, subtree: true });
  });
  const shadow = (sel) => `docent-ask >> ${sel}`;
  assert.equal(await page.locator(shadow('[data-testid="provider"]')).inputValue(), 'local');

  await page.fill(shadow('[data-testid="question"]'), 'What is a good recipe for banana bread?');
  await page.click(shadow('[data-testid="ask"]'));
  await page.waitForFunction(() => window.statuses.includes('No relevant passage found.'), null, { timeout: WAIT_MS });
  assert.equal(modelRequests(), 0, 'the gate answered without the model');

  await page.fill(shadow('[data-testid="question"]'), 'How does docent decide that a question is not covered?');
  await page.click(shadow('[data-testid="ask"]'));
  const download = page.locator(shadow('[data-testid="download"]'));
  await download.waitFor({ state: 'visible', timeout: WAIT_MS });
  assert.equal(await download.textContent(), 'Download (98 MB) and answer');
  assert.ok(
    (await page.evaluate(() => window.statuses)).includes(`This answer is written by ${'SmolLM2-135M-Instruct.Q4_1.gguf'}, a model that runs in your browser: a 98 MB download, once, then kept in this browser.`),
  );
  assert.ok(modelRequests() <= 1 && web.requests.get(`/models/${MODEL}`) === modelRequests(), 'at most the one-byte size request');
  const beforeDownload = modelRequests();

  await download.click();
  // Stop while the model reads the prompt (the answer shows only sentences the post-check kept).
  await page.waitForFunction(() => window.statuses.includes('Answering…'), null, { timeout: MODEL_WAIT_MS });
  await page.click(shadow('[part="stop"]'));
  await page.waitForFunction(() => /^Stopped/.test(document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="status"]').textContent), null, { timeout: WAIT_MS });
  const seen = await page.evaluate(() => window.statuses);
  assert.ok(seen.some((s) => /^Downloading the model: \d+%$/.test(s)), `download progress: ${JSON.stringify(seen)}`);
  assert.ok(seen.includes('Loading the model…'), `load shown: ${JSON.stringify(seen)}`);
  // wllama asks for the size with a HEAD request, then downloads once.
  assert.equal(modelRequests(), beforeDownload + 2, 'one download');
  assert.equal(await page.evaluate(() => crossOriginIsolated), false);
  await context.close();
  assert.deepEqual(problems, []);
});
