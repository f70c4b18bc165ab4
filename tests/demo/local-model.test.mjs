// The demo page's local provider end to end in Debian Chromium, with a real model: SmolLM2 135M
// (the smaller of the two ./build.sh setup writes into models/llm/, so that the test stays short
// on two cores) run by llama.cpp in WebAssembly in the page. Checks that nothing is downloaded
// before the visitor agrees, that the gate answers "not covered" without the model, that the
// download shows its progress, that Stop stops the model while it reads the prompt, that a whole
// answer cites its source (sentences the post-check kept, or its offline fallback), and that a second visit
// loads the model from the browser's storage without a request for it. The page is the demo
// server's (cross-origin isolated, strict CSP); any console error fails the test.
// Needs: ./build.sh wasm (pkg/, with pkg/llm/wllama/), ./build.sh setup (CLI, models/),
// `cargo build --example demo_site`, Chromium, playwright-core (./build.sh test does all).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { need } from '../support/static-server.mjs';
import { serveDemo } from '../../www/serve.mjs';
import { LOCAL_FALLBACK_NOTE } from '../../pkg/llm.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 60_000;
/** The model reads the whole prompt before its first token: minutes on a busy two-core machine. */
const MODEL_WAIT_MS = 300_000;
const MODEL = 'SmolLM2-135M-Instruct.Q4_1.gguf';
const COVERED = 'How does docent decide that a question is not covered by the documents?';
const UNCOVERED = 'What is a good recipe for banana bread?';

let tmp;
let demo;
let browser;
/** Requests for the model file the demo server received. */
let modelRequests = 0;

before(async () => {
  need(join(root, 'pkg/llm/wllama/wllama.wasm'), 'run ./build.sh wasm (copies wllama into pkg/llm/wllama/)');
  need(join(root, 'models/llm', MODEL), 'run ./build.sh setup (writes models/llm/)');
  const cli = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  need(cli, 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  const render = process.env.DOCENT_DEMO_SITE_BIN ?? join(root, 'target/debug/examples/demo_site');
  need(render, 'run cargo build --example demo_site (./build.sh test does) or set DOCENT_DEMO_SITE_BIN');
  tmp = await mkdtemp(join(tmpdir(), 'docent-local-model-test-'));
  const site = join(tmp, 'site');
  execFileSync(render, [site, join(root, 'docs/faq.md'), join(root, 'docs/how-it-works.md')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: WAIT_MS });
  execFileSync(cli, ['index', site, '--out', join(site, 'docent'), '--base-url', '/site/', '--assets', join(root, 'pkg')], {
    env: { ...process.env, DOCENT_MODEL_DIR: join(root, 'models') },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 3 * WAIT_MS,
  });
  demo = await serveDemo({ port: 0, site });
  demo.server.on('request', (req) => {
    if (req.url.startsWith('/models/llm/')) modelRequests += 1;
  });
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await demo?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Opens the demo in `ctx`, recording console errors, and every text the local status showed. */
async function open(ctx, problems) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  await page.goto(`${demo.origin}/`, { timeout: WAIT_MS });
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent.startsWith('Ready'), null, { timeout: WAIT_MS });
  await page.evaluate(() => {
    window.localStatuses = [];
    const el = document.querySelector('[data-testid="local-status"]');
    new MutationObserver(() => window.localStatuses.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
  });
  return page;
}

const status = (page) => page.locator('[data-testid="status"]').textContent();
const note = (page) => page.evaluate(() => document.getElementById('answer-note').textContent);

async function ask(page, question, done) {
  await page.fill('[data-testid="question"]', question);
  await page.click('[data-testid="ask"]');
  await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('[data-testid="status"]').textContent), done.source, { timeout: WAIT_MS });
}

test('local model: asks before downloading, shows progress, stops, answers with a checked, cited answer, and loads from storage on a second visit', { timeout: 2 * MODEL_WAIT_MS }, async () => {
  const ctx = await browser.newContext();
  const problems = [];
  const page = await open(ctx, problems);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the demo server sends COOP and COEP');
  await page.selectOption('[data-testid="provider"]', 'local');
  await page.selectOption('[data-testid="local-model"]', MODEL);
  const button = page.locator('[data-testid="local-load"]');
  await button.waitFor({ state: 'visible', timeout: WAIT_MS });
  assert.match(await button.textContent(), /\b98 MB\b/, 'the button names the download size');

  // The gate: no model for a question the documents do not cover.
  await ask(page, UNCOVERED, /^No relevant passage/);
  assert.match(await note(page), /No request was sent to the model/);
  // A covered question before the visitor agreed: a note, no download.
  await ask(page, COVERED, /^The model did not answer/);
  assert.match(await note(page), /not loaded yet: press "Download SmolLM2/);
  assert.equal(modelRequests, 0, 'nothing was downloaded before the button was pressed');

  await button.click();
  await page.waitForFunction(() => /ready in this page/.test(document.querySelector('[data-testid="local-status"]').textContent), null, { timeout: MODEL_WAIT_MS });
  const seen = await page.evaluate(() => window.localStatuses);
  assert.ok(seen.some((s) => /^Downloading SmolLM2 .*: \d+ MB of 98 MB…$/.test(s)), `download progress was shown: ${JSON.stringify(seen)}`);
  assert.ok(seen.some((s) => /^Loading SmolLM2 .* into a Web Worker…$/.test(s)), `loading was shown: ${JSON.stringify(seen)}`);
  assert.match(seen.at(-1), /2048 tokens of context, \d+ threads? \(cross-origin isolated\)\.$/);
  const downloads = modelRequests;
  assert.ok(downloads >= 1);

  // One source keeps the prompt short. Stop while the model reads it: no answer, "Stopped.".
  await page.evaluate(() => {
    const k = document.getElementById('k');
    k.value = '1';
    k.dispatchEvent(new Event('input'));
  });
  await page.fill('[data-testid="question"]', COVERED);
  await page.click('[data-testid="ask"]');
  await page.waitForFunction(() => /is reading the sources in this page/.test(document.querySelector('[data-testid="status"]').textContent), null, { timeout: WAIT_MS });
  await page.click('#stop');
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]').textContent === 'Stopped.', null, { timeout: WAIT_MS });
  assert.match(await note(page), /^Stopped\.$/);
  assert.match(await page.locator('[data-testid="prompt"]').textContent(), /SmolLM2 135M Instruct \(Q4_1\) \(in this page: nothing is sent\)/);
  assert.ok((await page.locator('[data-testid="sources"] li').count()) === 1);
  // Asked again, it answers to the end: sentences the post-check kept, each citing the source, or
  // the note that it fell back to the offline answer (whose sentences cite it too).
  await page.fill('[data-testid="question"]', COVERED);
  await page.click('[data-testid="ask"]');
  await page.waitForFunction(() => /^Answered/.test(document.querySelector('[data-testid="status"]').textContent), null, { timeout: MODEL_WAIT_MS });
  const answer = await page.locator('[data-testid="answer"]').textContent();
  assert.ok((await page.locator('[data-testid="answer"] a').count()) >= 1, `the answer cites the source: ${answer}`);
  // Which of the two it was, for the log (the model's text depends on it, not the test).
  console.error(`local answer (${answer.startsWith(LOCAL_FALLBACK_NOTE) ? 'offline fallback' : 'model, checked'}): ${answer}`);
  await page.close();

  // A second visit: the model is in the browser's storage; it loads without a request or a question.
  const again = await open(ctx, problems);
  await again.waitForFunction(() => /ready in this page/.test(document.querySelector('[data-testid="local-status"]').textContent), null, { timeout: MODEL_WAIT_MS });
  assert.equal(await again.locator('[data-testid="local-load"]').isHidden(), true);
  assert.equal(modelRequests, downloads, 'the second visit did not request the model file');
  assert.match(await status(again), /^Ready/);
  await ctx.close();
  assert.deepEqual(problems, []);
});
