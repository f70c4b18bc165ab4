// The demo page (www/) with the network off, in Debian Chromium via playwright-core: after one
// visit, its service worker (www/sw.js, docent's pkg/docent-sw.js) opens the page from the saved
// copy and questions are answered with citations. "Network off" is Chromium's offline emulation
// *and* the demo server stopped, so that nothing the service worker fetches reaches it either.
// The demo site is rendered and indexed as `./build.sh demo` does, with the static embedder (the
// page works the same with any; MiniLM would only make the test slower). A second test adds the
// local answer model (SmolLM2, the smaller one): the copy says "ready offline" only once the model
// is stored, and the model answers with the network off. Any console or page error fails a test.
// Needs: ./build.sh wasm (pkg/, with pkg/llm/wllama/), ./build.sh setup (CLI, models/, with
// models/llm/), `cargo build --example demo_site`, Chromium, playwright-core in
// tests/browser/node_modules (./build.sh test does all).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { need } from '../support/static-server.mjs';
import { serveDemo } from '../../www/serve.mjs';
import { STRINGS } from '../../pkg/ask-strings.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 60_000;
/** The model reads the whole prompt before its first token: minutes on a busy two-core machine. */
const MODEL_WAIT_MS = 300_000;
const MODEL = 'SmolLM2-135M-Instruct.Q4_1.gguf';
const COVERED = 'How does docent decide that a question is not covered by the documents?';

let tmp;
let site;
let browser;

before(async () => {
  need(join(root, 'pkg/docent_search_bg.wasm'), 'run ./build.sh wasm first');
  need(join(root, 'pkg/llm/wllama/wllama.wasm'), 'run ./build.sh wasm (copies wllama into pkg/llm/wllama/)');
  need(join(root, 'models/llm', MODEL), 'run ./build.sh setup (writes models/llm/)');
  const cli = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  need(cli, 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  const render = process.env.DOCENT_DEMO_SITE_BIN ?? join(root, 'target/debug/examples/demo_site');
  need(render, 'run cargo build --example demo_site (./build.sh test does) or set DOCENT_DEMO_SITE_BIN');
  tmp = await mkdtemp(join(tmpdir(), 'docent-demo-offline-'));
  site = join(tmp, 'site');
  const docs = ['faq', 'getting-started', 'how-it-works'].map((d) => join(root, 'docs', `${d}.md`));
  execFileSync(render, [site, ...docs, join(root, 'README.md')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: WAIT_MS });
  execFileSync(cli, ['index', site, '--out', join(site, 'docent'), '--base-url', '/site/', '--assets', join(root, 'pkg'), '--embedder', 'static'], {
    env: { ...process.env, DOCENT_MODEL_DIR: join(root, 'models') },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 3 * WAIT_MS,
  });
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A page of `context` that records every console error and page error in `problems`. */
async function watched(context, problems) {
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  return page;
}

/** The names of the caches of the page's origin that hold `url`. */
const holding = (page, url) => page.evaluate(async (u) => {
  const names = [];
  for (const name of await caches.keys()) if (await (await caches.open(name)).match(u)) names.push(name);
  return names;
}, url);

const text = (page, id) => page.evaluate((t) => document.querySelector(`[data-testid="${t}"]`).textContent, id);

async function waitText(page, id, re) {
  await page.waitForFunction(([t, src]) => new RegExp(src).test(document.querySelector(`[data-testid="${t}"]`)?.textContent ?? ''), [id, re.source], { timeout: WAIT_MS })
    .catch(async (e) => {
      throw new Error(`[data-testid="${id}"] says ${JSON.stringify(await text(page, id).catch(() => null))}, expected ${re}: ${e.message}`);
    });
}

async function askAndWait(page, question) {
  await page.fill('[data-testid="question"]', question);
  await page.click('[data-testid="ask"]');
  await waitText(page, 'status', /^(Answered|No relevant passage|The model did not answer|Stopped|Search failed|Could not load)/);
  return page.evaluate(() => ({
    status: document.querySelector('[data-testid="status"]').textContent,
    answer: document.querySelector('[data-testid="answer"]').textContent,
    links: [...document.querySelectorAll('[data-testid="answer"] .cite')].map((a) => a.getAttribute('href')),
    sources: document.querySelectorAll('[data-testid="sources"] li').length,
    note: document.getElementById('answer-note').hidden ? '' : document.getElementById('answer-note').textContent,
    searchNote: document.querySelector('[data-testid="search-note"]').textContent,
    prompt: document.querySelector('[data-testid="prompt"]').textContent,
  }));
}

test('after one visit the demo opens and answers with citations with the network off, from its saved copy; a remote provider gives way to the Offline one, and says so', { timeout: 4 * WAIT_MS }, async () => {
  const demo = await serveDemo({ port: 0, site });
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  try {
    // One visit: the index opens, the embedder loads at once (the demo shows both paths), and the
    // page says when its copy is complete.
    await page.goto(`${demo.origin}/`, { timeout: WAIT_MS });
    await waitText(page, 'status', /^Ready/);
    await waitText(page, 'embed-status', /^Semantic search ready/);
    await waitText(page, 'offline-copy', new RegExp(`^${STRINGS.offlineReady.replace(/[.;]/g, '\\$&')}$`));
    const m = JSON.parse(await readFile(join(site, 'docent/manifest.json'), 'utf8'));
    const model = m.files.filter((f) => f.path.startsWith('model/')).map((f) => `${demo.origin}/site/docent/${f.path}`);
    await page.waitForFunction(async (urls) => {
      for (const u of urls) if (!(await caches.match(u))) return false;
      return true;
    }, model, { timeout: WAIT_MS, polling: 200 });

    // A question asked online: the pages it cites are kept, so its citations open offline too.
    const online = await askAndWait(page, COVERED);
    assert.match(online.status, /^Answered/, JSON.stringify(online));
    const citedPages = [...new Set(online.links.map((h) => new URL(h, demo.origin)).map((u) => `${u.origin}${u.pathname}`))];
    await page.waitForFunction(async (urls) => {
      for (const u of urls) if (!(await caches.match(u))) return false;
      return true;
    }, citedPages, { timeout: WAIT_MS, polling: 200 });

    // Each model file is stored once: in the runtime's model cache, not again in the worker's.
    const holders = () => page.evaluate(async (urls) => Promise.all(urls.map(async (u) => {
      const names = [];
      for (const name of await caches.keys()) if (await (await caches.open(name)).match(u)) names.push(name);
      return names;
    })), model);
    assert.deepEqual(await holders(), model.map(() => ['docent-models-v1']), 'the caches holding each model file');

    // Network off.
    await context.setOffline(true);
    await demo.close();
    await page.reload({ timeout: WAIT_MS });
    await waitText(page, 'status', /^Ready/);
    await waitText(page, 'offline-copy', new RegExp(`^${STRINGS.offlineNow.replace(/[.;]/g, '\\$&')}$`));
    // The saved model loads too: semantic search works offline.
    await waitText(page, 'embed-status', /^Semantic search ready/);
    const r = await askAndWait(page, COVERED);
    assert.match(r.status, /^Answered/, JSON.stringify(r));
    assert.ok(r.answer.length > 40, r.answer);
    const cited = r.links.map((h) => new URL(h, demo.origin));
    assert.ok(cited.length >= 1 && cited.every((u) => u.pathname.startsWith('/site/') && u.hash.length > 1), JSON.stringify(r.links));
    assert.ok(r.sources >= 1);
    assert.equal(r.searchNote, 'Found by keyword + semantic search.');
    assert.equal(r.note, '');
    // Its first citation opens the cited section from the saved copy.
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('[data-testid="answer"] a.cite')]);
    await popup.waitForLoadState();
    const landed = new URL(popup.url());
    assert.equal(await popup.evaluate(() => document.querySelector(':target')?.id ?? null), decodeURIComponent(landed.hash.slice(1)), `the cited section, offline: ${popup.url()}`);
    await popup.close();

    // The reader's provider is a remote API: offline, the Offline provider answers instead, and the
    // page says so; nothing is sent.
    await page.selectOption('[data-testid="provider"]', 'openai');
    const remote = await askAndWait(page, COVERED);
    assert.match(remote.status, /^Answered/, JSON.stringify(remote));
    assert.ok(remote.links.length >= 1, JSON.stringify(remote));
    assert.match(remote.note, /^You are offline: answered by the Offline provider \(extractive\) instead of /, JSON.stringify(remote));
    assert.match(remote.prompt, /offline: nothing is sent/);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    if (demo.server.listening) await demo.close();
  }
});

// Regression: the line said "Ready offline" as soon as the page, runtime and index were saved,
// while the local model the reader had agreed to was still downloading (and llama.cpp's runtime
// was not in the copy): on a plane, the answer model would be missing.
test('with the local model agreed to, the saved copy says ready offline only once the model is stored, says how much is still downloading before, and the model answers with the network off', { timeout: 3 * MODEL_WAIT_MS }, async () => {
  const demo = await serveDemo({ port: 0, site });
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const problems = [];
  const page = await watched(context, problems);
  const ready = STRINGS.offlineReady;
  try {
    await page.goto(`${demo.origin}/`, { timeout: WAIT_MS });
    await waitText(page, 'status', /^Ready/);
    await waitText(page, 'offline-copy', new RegExp(`^${ready.replace(/[.;]/g, '\\$&')}$`));
    // Every text the two lines show, side by side, from here on.
    await page.evaluate(() => {
      const copy = document.querySelector('[data-testid="offline-copy"]');
      const local = document.querySelector('[data-testid="local-status"]');
      window.seen = [];
      const record = () => window.seen.push({ copy: copy.textContent, local: local.textContent });
      for (const el of [copy, local]) new MutationObserver(record).observe(el, { childList: true, characterData: true, subtree: true });
    });
    await page.selectOption('[data-testid="provider"]', 'local');
    await page.selectOption('[data-testid="local-model"]', MODEL);
    const button = page.locator('[data-testid="local-load"]');
    await button.waitFor({ state: 'visible', timeout: WAIT_MS });
    // Not agreed to yet: the copy is complete without it.
    assert.equal(await text(page, 'offline-copy'), ready);
    await button.click();
    await waitText(page, 'local-status', /ready in this page/);
    await waitText(page, 'offline-copy', new RegExp(`^${ready.replace(/[.;]/g, '\\$&')}$`));
    const seen = await page.evaluate(() => window.seen);
    const downloading = seen.filter((s) => s.local.startsWith('Downloading'));
    assert.ok(downloading.length >= 1, `the download was shown: ${JSON.stringify(seen)}`);
    assert.deepEqual(downloading.filter((s) => s.copy === ready), [], 'never "ready offline" while the model downloads');
    assert.ok(downloading.some((s) => /^Ready offline except the answer model: \d+(\.\d)? MB still downloading\.$/.test(s.copy)),
      `the line said what is still downloading: ${JSON.stringify(downloading.map((s) => s.copy))}`);

    // The model file is stored once (OPFS, by the provider), not again by the service worker;
    // llama.cpp's runtime is in the copy.
    const modelUrl = `${demo.origin}/models/llm/${MODEL}`;
    assert.deepEqual(await holding(page, modelUrl), [], 'no cache holds the model file');
    for (const f of ['wllama.js', 'wllama.wasm']) {
      assert.deepEqual(await holding(page, `${demo.origin}/pkg/llm/wllama/${f}`), ['docent-offline-v1'], `the copy holds ${f}`);
    }

    // Network off: the page opens, the model loads from the browser's storage and answers.
    await context.setOffline(true);
    await demo.close();
    await page.reload({ timeout: WAIT_MS });
    await waitText(page, 'status', /^Ready/);
    await waitText(page, 'local-status', /ready in this page/);
    await waitText(page, 'offline-copy', new RegExp(`^${STRINGS.offlineNow.replace(/[.;]/g, '\\$&')}$`));
    // One source keeps the prompt short.
    await page.evaluate(() => {
      const k = document.getElementById('k');
      k.value = '1';
      k.dispatchEvent(new Event('input'));
    });
    await page.fill('[data-testid="question"]', COVERED);
    await page.click('[data-testid="ask"]');
    await page.waitForFunction(() => /^(Answered|The model did not answer|Stopped)/.test(document.querySelector('[data-testid="status"]').textContent), null, { timeout: MODEL_WAIT_MS });
    assert.match(await text(page, 'status'), /^Answered/);
    assert.match(await text(page, 'prompt'), /SmolLM2 135M Instruct \(Q4_1\) \(in this page: nothing is sent\)/);
    assert.ok((await page.locator('[data-testid="answer"] a.cite').count()) >= 1, await text(page, 'answer'));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    if (demo.server.listening) await demo.close();
  }
});
