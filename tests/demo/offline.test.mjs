// The demo page (www/) with the network off, in Debian Chromium via playwright-core: after one
// visit, its service worker (www/sw.js, docent's pkg/docent-sw.js) opens the page from the saved
// copy and questions are answered with citations. "Network off" is Chromium's offline emulation
// *and* the demo server stopped, so that nothing the service worker fetches reaches it either.
// The demo site is rendered and indexed as `./build.sh demo` does, with the static embedder (the
// page works the same with any; MiniLM would only make the test slower). Any console or page
// error fails the test.
// Needs: ./build.sh wasm (pkg/), ./build.sh setup (CLI, models/), `cargo build --example
// demo_site`, Chromium, playwright-core in tests/browser/node_modules (./build.sh test does all).
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
const COVERED = 'How does docent decide that a question is not covered by the documents?';

let tmp;
let site;
let browser;

before(async () => {
  need(join(root, 'pkg/docent_search_bg.wasm'), 'run ./build.sh wasm first');
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
