// The demo page (www/) end to end in Debian Chromium via playwright-core: the demo site is
// rendered and indexed by the CLI exactly as `./build.sh demo` does (into a temporary folder),
// served by www/serve.mjs on 127.0.0.1 with its strict CSP, and driven through its data-testid
// hooks. The mock LLM server (tests/support/mock-llm.mjs) stands in for OpenAI and Anthropic.
// Any console error or page error fails a test. Screenshots (light and dark) go to
// target/screenshots/.
// Needs: ./build.sh wasm (pkg/), ./build.sh setup (CLI, models/), `cargo build --example
// demo_site`, Chromium, playwright-core in tests/browser/node_modules (./build.sh test does all).
import { test, before, after } from 'node:test';
import { CHROMIUM, launchChromium } from '../support/chromium.mjs';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need } from '../support/static-server.mjs';
import { writeOrchardPdf } from '../support/orchard-pdf.mjs';
import { startMockLlm } from '../support/mock-llm.mjs';
import { serveDemo, CSP } from '../../www/serve.mjs';
import { startFaultServer } from '../support/fault-server.mjs';
import { NOT_IN_DOCUMENTS } from '../../pkg/llm.js';
import { SEED, watch, auditDom, findInStorage, hostileAnswers, hostileSite, PAYLOADS, TOPIC_QUESTION } from '../support/hostile.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 60_000;
const COVERED = 'How does docent decide that a question is not covered by the documents?';
const UNCOVERED = 'What is a good recipe for banana bread?';
const KEY = 'sk-demo-test-9f3a7c1e5b';
/** Secrets in the indexer's environment, which must never reach the site folder. */
const ENV_SECRETS = { DOCENT_API_KEY: 'sk-env-docent-2718281828', OPENAI_API_KEY: 'sk-env-openai-1414213562', ANTHROPIC_API_KEY: 'sk-ant-env-1732050807' };

let tmp;
let site;
let demo;
let mock;
let browser;
/** The demo served with a hostile site instead of the bundled docs (see tests/support/hostile.mjs). */
let hostile;
/** Every request the demo servers received: {url (path and query), headers}. */
const served = [];
/** What `watch` recorded for each page (dialogs, CSP violations, all console messages). */
const watched = new WeakMap();

before(async () => {
  need(join(root, 'pkg/docent_wasm_bg.wasm'), 'run ./build.sh wasm first');
  need(join(root, 'pkg/llm.js'), 'pkg/llm.js is part of the repository');
  const cli = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  need(cli, 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  const render = process.env.DOCENT_DEMO_SITE_BIN ?? join(root, 'target/debug/examples/demo_site');
  need(render, 'run cargo build --example demo_site (./build.sh test does) or set DOCENT_DEMO_SITE_BIN');
  const models = join(root, 'models');
  for (const f of ['minilm.int8', 'tokenizer.json', 'config.json']) need(join(models, f), 'run ./build.sh setup (prepares models/)');
  need(CHROMIUM, 'install Debian Chromium (./build.sh test does) or set DOCENT_CHROMIUM');
  need(join(root, 'tests/browser/node_modules/playwright-core'), 'run npm ci --prefix tests/browser (./build.sh test does)');

  // What ./build.sh demo does (build_demo_site), into a temporary folder.
  tmp = await mkdtemp(join(tmpdir(), 'docent-demo-test-'));
  site = join(tmp, 'site');
  const docs = ['cli', 'faq', 'getting-started', 'how-it-works', 'index-format', 'tuning'].map((d) => join(root, 'docs', `${d}.md`));
  execFileSync(render, [site, ...docs, join(root, 'README.md')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: WAIT_MS });
  execFileSync(cli, ['index', site, '--out', join(site, 'docent'), '--base-url', '/site/', '--assets', join(root, 'pkg')], {
    env: { ...process.env, ...ENV_SECRETS, DOCENT_MODEL_DIR: models },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 3 * WAIT_MS,
  });
  // A hostile site, indexed without --base-url so that the file names are the urls (some are
  // javascript: URLs), served by a second demo server.
  const bad = join(tmp, 'hostile');
  await mkdir(bad);
  for (const [name, text] of Object.entries(hostileSite())) await writeFile(join(bad, name), text);
  execFileSync(cli, ['index', bad, '--out', join(bad, 'docent'), '--assets', join(root, 'pkg')], {
    env: { ...process.env, ...ENV_SECRETS, DOCENT_MODEL_DIR: models },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 3 * WAIT_MS,
  });

  demo = await serveDemo({ port: 0, site });
  demo.server.on('request', (req) => served.push({ url: req.url, headers: req.headers }));
  hostile = await serveDemo({ port: 0, site: bad });
  hostile.server.on('request', (req) => served.push({ url: req.url, headers: req.headers }));
  mock = await startMockLlm({ cors: true });
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await demo?.close();
  await hostile?.close();
  await mock?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/**
 * A fresh browser context (empty storage) with a page that records every console problem; dialogs,
 * CSP violations and all console messages are recorded too (`watched`) and checked by `finish`.
 */
async function openDemo({ context, server = demo } = {}) {
  const ctx = context ?? (await browser.newContext({ viewport: { width: 1100, height: 900 } }));
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  watched.set(page, await watch(page));
  const t0 = Date.now();
  await page.goto(`${server.origin}/`, { timeout: WAIT_MS });
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent.startsWith('Ready'), null, { timeout: WAIT_MS });
  return { ctx, page, problems, readyMs: Date.now() - t0 };
}

async function askAndWait(page, question) {
  await page.fill('[data-testid="question"]', question);
  await page.click('[data-testid="ask"]');
  await page.waitForFunction(
    () => {
      const s = document.querySelector('[data-testid="status"]')?.textContent ?? '';
      return /^(Answered|No relevant passage|The model did not answer|Stopped|Search failed|Could not load the search index)/.test(s);
    },
    null,
    { timeout: WAIT_MS },
  );
  return page.evaluate(() => ({
    status: document.querySelector('[data-testid="status"]').textContent,
    answer: document.querySelector('[data-testid="answer"]').textContent,
    html: document.querySelector('[data-testid="answer"]').innerHTML,
    links: [...document.querySelectorAll('[data-testid="answer"] .cite')].map((a) => ({ text: a.textContent, href: a.getAttribute('href'), tag: a.tagName })),
    sources: [...document.querySelectorAll('[data-testid="sources"] li')].map((li) => ({
      title: li.querySelector('.title')?.textContent,
      href: li.querySelector('a.title')?.getAttribute('href') ?? null,
      meta: li.querySelector('.meta')?.textContent,
      excerpt: li.querySelector('.excerpt')?.textContent,
    })),
    prompt: document.querySelector('[data-testid="prompt"]').textContent,
    note: document.getElementById('answer-note').hidden ? '' : document.getElementById('answer-note').textContent,
    searchNote: document.querySelector('[data-testid="search-note"]').textContent,
  }));
}

/** Fails unless `href` (an absolute URL on the demo server) names an element id on its page. */
async function assertRealAnchor(href) {
  const u = new URL(href);
  assert.equal(u.origin, demo.origin, `citation leaves the site: ${href}`);
  assert.ok(u.hash.length > 1, `citation without an anchor: ${href}`);
  const page = await readFile(join(site, decodeURIComponent(u.pathname.replace(/^\/site\//, ''))), 'utf8');
  const id = decodeURIComponent(u.hash.slice(1));
  assert.ok(page.includes(`id="${id}"`), `${u.pathname} has no element with id "${id}"`);
}

/** Fails on console errors, CSP violations, dialogs or `window.pwned`; closes the context. */
async function finish(t, page, problems) {
  try {
    const seen = watched.get(page);
    assert.deepEqual(seen.csp, [], 'the page must cause no Content-Security-Policy violation');
    assert.deepEqual(seen.dialogs, [], 'no dialog may open');
    if (!page.isClosed()) assert.equal(await page.evaluate(() => window.pwned), undefined, 'window.pwned was set');
    assert.deepEqual(problems, [], 'the console must stay free of errors');
  } finally {
    await page.context().close();
  }
}

test('offline: answers from the bundled docs with citation links to real anchors; says plainly when not covered', { timeout: 3 * WAIT_MS }, async (t) => {
  const { page, problems, readyMs } = await openDemo();
  const t0 = Date.now();
  const r = await askAndWait(page, COVERED);
  const answerMs = Date.now() - t0;
  assert.match(r.status, /^Answered/, JSON.stringify(r));
  assert.ok(r.answer.length > 40, r.answer);
  assert.ok(r.links.length >= 1, `no citation links in ${JSON.stringify(r)}`);
  for (const l of r.links) {
    assert.equal(l.tag, 'A');
    assert.match(l.text, /^\[\d+\]$/);
    await assertRealAnchor(new URL(l.href, demo.origin).href);
  }
  assert.ok(r.sources.length >= 1);
  for (const s of r.sources) await assertRealAnchor(new URL(s.href, demo.origin).href);
  assert.ok(r.sources.some((s) => /faq|how-it-works/.test(s.href)), JSON.stringify(r.sources));
  assert.match(r.prompt, /offline: nothing is sent/);
  // Which search found the sources (keyword only until the embedder has loaded, for a fragmented index).
  assert.match(r.searchNote, /^Found by (keyword search|keyword \+ semantic search)\.$/);
  assert.match(r.prompt, /<source id=\\"1\\"/, 'the panel shows the messages as JSON');
  console.log(`demo: ready ${readyMs} ms after navigation (the index opened; MiniLM loads in a worker meanwhile); offline answer ${answerMs} ms after clicking Ask`);

  const no = await askAndWait(page, UNCOVERED);
  assert.match(no.status, /^No relevant passage/, JSON.stringify(no));
  assert.equal(no.answer, NOT_IN_DOCUMENTS, 'the one "not covered" text of the core');
  assert.equal(no.links.length, 0);

  // Following a citation opens the cited page at the cited section.
  await askAndWait(page, COVERED);
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('[data-testid="answer"] a.cite')]);
  await popup.waitForLoadState();
  const landed = new URL(popup.url());
  assert.ok(landed.pathname.startsWith('/site/') && landed.hash.length > 1, popup.url());
  assert.equal(await popup.evaluate(() => document.querySelector(':target')?.id ?? null), decodeURIComponent(landed.hash.slice(1)));
  await popup.close();
  await finish(t, page, problems);
});

test('OpenAI-compatible endpoint (mock): streams the answer; the request carries the sources and citation rules; the key stays in a header', { timeout: 2 * WAIT_MS }, async (t) => {
  mock.reset();
  mock.enqueue({ answer: ['The relevance ', 'gate decides [1]', '; it checks similarity [2].'] });
  const { page, problems } = await openDemo();
  await page.selectOption('[data-testid="provider"]', 'openai');
  await page.fill('[data-testid="endpoint"]', mock.openai);
  await page.dispatchEvent('[data-testid="endpoint"]', 'change');
  await page.fill('[data-testid="model"]', 'mock-model');
  await page.dispatchEvent('[data-testid="model"]', 'change');
  await page.fill('[data-testid="api-key"]', KEY);
  const r = await askAndWait(page, COVERED);
  assert.match(r.status, /^Answered/, JSON.stringify(r));
  assert.equal(r.answer, 'The relevance gate decides [1]; it checks similarity [2].');
  assert.deepEqual(r.links.map((l) => l.text), ['[1]', '[2]']);
  const posts = mock.posts();
  assert.equal(posts.length, 1);
  const req = posts[0];
  assert.equal(req.path, '/v1/chat/completions');
  assert.equal(req.headers.authorization, `Bearer ${KEY}`);
  assert.ok(!req.url.includes(KEY), 'the key must not be in the URL');
  assert.equal(req.json.model, 'mock-model');
  assert.equal(req.json.stream, true);
  const [system, user] = req.json.messages;
  assert.equal(system.role, 'system');
  assert.match(system.content, /\[n\]|\[1\]/, 'citation instructions');
  assert.match(user.content, /<source id="1"/);
  assert.ok(r.sources.length >= 1);
  // The retrieved passages themselves were sent: every listed source's text is in the user text.
  for (const s of r.sources) {
    const start = s.excerpt.slice(0, 80);
    assert.ok(user.content.includes(start), `user message lacks the passage "${start}"`);
  }
  assert.equal(await page.evaluate((k) => Object.values(localStorage).some((v) => v.includes(k)), KEY), false, 'the key is not stored unless remembered');
  await finish(t, page, problems);
});

test('Anthropic Messages (mock): streams; system text in `system`, sources in the user message, x-api-key header', { timeout: 2 * WAIT_MS }, async (t) => {
  mock.reset();
  mock.enqueue({ answer: ['Docent abstains ', 'when the gate ', 'says no [1].'] });
  const { page, problems } = await openDemo();
  await page.selectOption('[data-testid="provider"]', 'anthropic');
  await page.fill('[data-testid="endpoint"]', mock.anthropic);
  await page.dispatchEvent('[data-testid="endpoint"]', 'change');
  await page.fill('[data-testid="model"]', 'claude-mock');
  await page.dispatchEvent('[data-testid="model"]', 'change');
  await page.fill('[data-testid="api-key"]', KEY);
  await page.check('#remember');
  const r = await askAndWait(page, COVERED);
  assert.match(r.status, /^Answered/, JSON.stringify(r));
  assert.equal(r.answer, 'Docent abstains when the gate says no [1].');
  const req = mock.posts()[0];
  assert.match(req.path, /\/v1\/messages$/);
  assert.equal(req.headers['x-api-key'], KEY);
  assert.equal(req.headers['anthropic-dangerous-direct-browser-access'], 'true');
  assert.equal(req.headers.authorization, undefined);
  assert.ok(!req.url.includes(KEY));
  assert.equal(req.json.model, 'claude-mock');
  assert.match(req.json.system, /\[n\]|\[1\]/);
  assert.equal(req.json.messages.length, 1);
  assert.match(req.json.messages[0].content, /<source id="1"/);
  // "remember" ticked: the key is in localStorage (and only under its own entry).
  const stored = await page.evaluate(() => ({ ...localStorage }));
  assert.equal(stored['docent-demo-api-key-anthropic'], KEY);
  assert.ok(!stored['docent-demo-settings'].includes(KEY));
  await page.uncheck('#remember');
  assert.equal(await page.evaluate(() => localStorage.getItem('docent-demo-api-key-anthropic')), null, 'unticking forgets the key');
  await finish(t, page, problems);
});

/** Whether a request for the PDF module (docent_pdf.js or its wasm) is among `requests`. */
const pdfModuleFetched = (requests) => requests.some((r) => /\/docent_pdf(\.js|_bg\.wasm)/.test(r.url));

test('your documents: a dropped file is indexed in the worker, answered with its citation, kept across a reload, and cleared', { timeout: 3 * WAIT_MS }, async (t) => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const firstRequest = served.length;
  const { page, problems } = await openDemo({ context });
  const notes = [
    '# Aquarium log',
    '',
    '## Water changes',
    '',
    'Every Sunday I replace a quarter of the tank water with dechlorinated water at the same temperature.',
    '',
    '## Feeding',
    '',
    'The neon tetras get flakes twice a day, only as much as they finish in two minutes.',
  ].join('\n');
  // Dropped on the drop zone (a real drop event carrying a File), like a reader would.
  const dataTransfer = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'aquarium.md', { type: 'text/markdown' }));
    return dt;
  }, notes);
  await page.dispatchEvent('#drop', 'dragover', { dataTransfer });
  await page.dispatchEvent('#drop', 'drop', { dataTransfer });
  await page.waitForFunction(() => /indexed and saved/.test(document.getElementById('docs-status').textContent), null, { timeout: WAIT_MS });
  assert.equal(await page.textContent('#docs'), 'aquarium.md (2 passages)');
  // Picked with the file chooser: a second file, and one that cannot be indexed (an empty file).
  await page.setInputFiles('[data-testid="files"]', [
    { name: 'kettle.txt', mimeType: 'text/plain', buffer: Buffer.from('Descale the kettle monthly with citric acid.') },
    { name: 'empty.md', mimeType: 'text/markdown', buffer: Buffer.from('') },
  ]);
  await page.waitForFunction(() => /2 documents indexed/.test(document.getElementById('docs-status').textContent), null, { timeout: WAIT_MS });
  const listed = await page.$$eval('#docs li', (lis) => lis.map((li) => ({ text: li.textContent, failed: li.className === 'failed' })));
  assert.equal(listed.length, 3, JSON.stringify(listed));
  assert.ok(listed.some((l) => l.failed && l.text.startsWith('empty.md: ')), `the empty file is reported with its reason: ${JSON.stringify(listed)}`);
  assert.match(await page.textContent('#docs-status'), /1 could not be read/);
  assert.equal(await page.isChecked('#corpus-mine'), true, 'the page switches to your documents');
  const r = await askAndWait(page, 'How often do I change the tank water?');
  assert.match(r.status, /^Answered/, JSON.stringify(r));
  assert.match(r.answer, /quarter of the tank water/);
  assert.ok(r.links.length >= 1 && r.links.every((l) => l.tag === 'SPAN'), 'own files have no web address: citations are not links');
  assert.match(r.sources[0].meta, /^local:aquarium\.md#water-changes/);
  assert.ok(!pdfModuleFetched(served.slice(firstRequest)), 'no PDF among the documents: the PDF module is never fetched');

  await page.reload();
  await page.waitForFunction(() => /restored/.test(document.getElementById('docs-status').textContent), null, { timeout: WAIT_MS });
  await page.check('#corpus-mine');
  const again = await askAndWait(page, 'What do the neon tetras eat?');
  assert.match(again.answer, /flakes twice a day/);

  await page.click('#clear');
  await page.waitForFunction(() => /removed/.test(document.getElementById('docs-status').textContent), null, { timeout: WAIT_MS });
  assert.equal(await page.isDisabled('#corpus-mine'), true);
  await page.reload();
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]').textContent.startsWith('Ready'), null, { timeout: WAIT_MS });
  assert.equal(await page.evaluate(() => document.getElementById('docs').children.length), 0, 'cleared documents stay cleared');
  await finish(t, page, problems);
});

test('your documents: a PDF (written by fpdf2) is read by the PDF module, fetched only then, and cited as file.pdf#page=N', { timeout: 3 * WAIT_MS }, async (t) => {
  // A two-page PDF with an outline, written by a real PDF writer from the test's text.
  const pdfPath = join(tmp, 'orchard.pdf');
  writeOrchardPdf(pdfPath, 'demo', WAIT_MS);
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const { page, problems } = await openDemo({ context });
  const firstRequest = served.length;
  await page.setInputFiles('[data-testid="files"]', [{ name: 'orchard.pdf', mimeType: 'application/pdf', buffer: await readFile(pdfPath) }]);
  await page.waitForFunction(() => /indexed and saved/.test(document.getElementById('docs-status').textContent), null, { timeout: WAIT_MS });
  assert.equal(await page.textContent('#docs'), 'orchard.pdf (2 passages)');
  const requests = served.slice(firstRequest).map((r) => r.url);
  assert.ok(requests.includes('/pkg/docent_pdf.js') && requests.includes('/pkg/docent_pdf_bg.wasm'), `the PDF module is fetched for a PDF: ${requests.join(', ')}`);
  const r = await askAndWait(page, 'When does the pear harvest start?');
  assert.match(r.status, /^Answered/, JSON.stringify(r));
  assert.match(r.answer, /parts from the spur/);
  assert.match(r.sources[0].meta, /^local:orchard\.pdf#page=2\b/);
  await finish(t, page, problems);
});

/**
 * A copy of pkg/ without the modules whose names match `drop` (their glue and wasm), served by a
 * second demo server: the page as `./build.sh demo` serves it before those modules are built.
 */
async function servePartialPackage(name, drop) {
  const dir = join(tmp, name);
  await cp(join(root, 'pkg'), dir, { recursive: true, filter: (src) => !drop.test(basename(src)) });
  return serveDemo({ port: 0, site, pkg: dir });
}

/** The console errors a missing module causes (the 404s of its files), which are expected here. */
const missingModuleErrors = (problems, drop) =>
  problems.filter((p) => !(/status of 404/.test(p) && drop.test(p.slice(p.lastIndexOf('/') + 1, -1))));

// Regression: `./build.sh demo` prints the URL once the lean module is built and builds the full
// and PDF modules after it; the page must answer meanwhile and say what is not ready yet (a static
// import of the full module's facade stopped the whole page while it was missing).
test('before the full and PDF modules are built: keyword answers, and the page says semantic search and your documents are not ready yet', { timeout: 3 * WAIT_MS }, async (t) => {
  const drop = /^docent_(wasm|pdf)(\.js|\.d\.ts|_bg\.wasm)/;
  const partial = await servePartialPackage('pkg-lean-only', drop);
  try {
    const { page, problems } = await openDemo({ server: partial });
    await page.waitForFunction(() => /not ready yet/.test(document.getElementById('embed-status').textContent), null, { timeout: WAIT_MS });
    assert.match(await page.textContent('#embed-status'), /^Semantic search and your own documents are not ready yet: \.\/build\.sh demo is still building the package's full module \(docent_wasm\); reload the page when the terminal says it is done\. Keyword search answers meanwhile\.$/);
    const r = await askAndWait(page, COVERED);
    assert.match(r.status, /^Answered/, JSON.stringify(r));
    assert.equal(r.searchNote, 'Found by keyword search.');
    assert.ok(r.links.length >= 1, JSON.stringify(r));
    await page.setInputFiles('[data-testid="files"]', [{ name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n\nThe quince tree flowers in May.\n') }]);
    await page.waitForFunction(() => /not ready yet/.test(document.getElementById('docs-status').textContent), null, { timeout: WAIT_MS });
    assert.match(await page.textContent('#docs-status'), /^Semantic search and your own documents are not ready yet: .*\(docent_wasm\)/);
    await finish(t, page, missingModuleErrors(problems, drop));
  } finally {
    await partial.close();
  }
});

test('before the PDF module is built: a dropped PDF says PDF reading is not ready yet', { timeout: 3 * WAIT_MS }, async (t) => {
  const pdfPath = join(tmp, 'orchard-pending.pdf');
  writeOrchardPdf(pdfPath, 'demo', WAIT_MS);
  const drop = /^docent_pdf(\.js|\.d\.ts|_bg\.wasm)/;
  const partial = await servePartialPackage('pkg-no-pdf', drop);
  try {
    const { page, problems } = await openDemo({ server: partial });
    await page.setInputFiles('[data-testid="files"]', [{ name: 'orchard.pdf', mimeType: 'application/pdf', buffer: await readFile(pdfPath) }]);
    await page.waitForFunction(() => /could not be read/.test(document.getElementById('docs-status').textContent), null, { timeout: WAIT_MS });
    assert.equal(await page.textContent('#docs'), "orchard.pdf: PDF reading is not ready yet: ./build.sh demo is still building the package's PDF module (docent_pdf); reload the page when the terminal says it is done.");
    await finish(t, page, missingModuleErrors(problems, drop));
  } finally {
    await partial.close();
  }
});

test('screenshots in light and dark mode (target/screenshots/)', { timeout: 2 * WAIT_MS }, async (t) => {
  const shots = join(root, 'target/screenshots');
  await mkdir(shots, { recursive: true });
  for (const colorScheme of ['light', 'dark']) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, colorScheme });
    const { page, problems } = await openDemo({ context });
    await askAndWait(page, COVERED);
    await page.screenshot({ path: join(shots, `demo-${colorScheme}.png`), fullPage: true });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = bg.match(/\d+/g).map(Number);
    const luminance = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    if (colorScheme === 'dark') assert.ok(luminance < 0.3, `dark background expected, got ${bg}`);
    else assert.ok(luminance > 0.8, `light background expected, got ${bg}`);
    await finish(t, page, problems);
  }
  const narrow = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const { page, problems } = await openDemo({ context: narrow });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways on a phone-sized screen by ${overflow}px`);
  await page.screenshot({ path: join(shots, 'demo-narrow.png'), fullPage: true });
  await finish(t, page, problems);
});

test('faults (mock OpenAI endpoint): bad key, cut stream, stalled stream, Stop — each says what happened, keeps the partial answer, and the page keeps working', { timeout: 3 * WAIT_MS }, async (t) => {
  mock.reset();
  const { page, problems } = await openDemo();
  await page.selectOption('[data-testid="provider"]', 'openai');
  await page.fill('[data-testid="endpoint"]', mock.openai);
  await page.dispatchEvent('[data-testid="endpoint"]', 'change');
  await page.fill('[data-testid="model"]', 'mock-model');
  await page.dispatchEvent('[data-testid="model"]', 'change');
  await page.fill('[data-testid="api-key"]', KEY);

  mock.enqueue({ status: 401, json: { error: { message: 'Incorrect API key provided' } } });
  let r = await askAndWait(page, COVERED);
  assert.equal(r.status, 'The model did not answer.');
  assert.match(r.note, /the API key was rejected \(HTTP 401\)/);
  assert.match(r.note, /Incorrect API key provided/);
  assert.ok(!r.note.includes(KEY), 'the key is never shown');

  mock.enqueue({ chunks: ['data: {"choices":[{"delta":{"content":"Half an ans"}}]}\n\n', { delayMs: 300 }], then: 'cut' });
  r = await askAndWait(page, COVERED);
  assert.equal(r.answer, 'Half an ans');
  assert.match(r.note, /the stream was cut/);
  assert.match(r.note, /The answer above is incomplete\.$/);

  // Stalled: the page's client waits stallTimeoutMs (30 s) by default; Stop ends it at once.
  mock.enqueue({ chunks: ['data: {"choices":[{"delta":{"content":"Still thinking"}}]}\n\n'], then: 'stall' });
  await page.fill('[data-testid="question"]', COVERED);
  await page.click('[data-testid="ask"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="answer"]').textContent === 'Still thinking', null, { timeout: WAIT_MS });
  assert.equal(await page.isVisible('#stop'), true, 'Stop is offered while streaming');
  await page.click('#stop');
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]').textContent === 'Stopped.', null, { timeout: WAIT_MS });
  assert.equal(await page.textContent('#answer-note'), 'Stopped: the answer above is incomplete.');
  assert.equal(await page.textContent('[data-testid="answer"]'), 'Still thinking');
  assert.equal(await page.isVisible('#stop'), false);

  // Still usable: the next question streams normally.
  mock.enqueue({ answer: ['Back to ', 'normal [1].'] });
  r = await askAndWait(page, COVERED);
  assert.match(r.status, /^Answered/);
  assert.equal(r.answer, 'Back to normal [1].');
  // Chromium logs the provoked failures itself (the 401 response, the cut chunked body): allow
  // exactly those two, nothing else.
  const unexpected = problems.filter((p) => !/status of 401|ERR_INCOMPLETE_CHUNKED_ENCODING/.test(p));
  problems.length = 0;
  problems.push(...unexpected);
  await finish(t, page, problems);
});

// ------------------------------------------------------------------------------------------
// Hardening (issue 6): hostile documents and model output, secrets, network faults, CSP.

/** What a source item of the demo may hold, and the containers that must hold text only. */
const DEMO_SOURCE_PARTS = ['A.title', 'SPAN.title', 'DIV.meta', 'P.excerpt'];
const DEMO_TEXT_ONLY = ['[data-testid="prompt"]', '[data-testid="status"]', '#answer-note', '#docs li', '#docs-status'];

/** An OpenAI event carrying one text delta. */
const textEvent = (content) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;

/** Points the page at the mock as an OpenAI-compatible endpoint (or Anthropic). */
async function useMock(page, provider = 'openai') {
  await page.selectOption('[data-testid="provider"]', provider);
  await page.fill('[data-testid="endpoint"]', provider === 'openai' ? mock.openai : mock.anthropic);
  await page.dispatchEvent('[data-testid="endpoint"]', 'change');
  await page.fill('[data-testid="model"]', 'mock-model');
  await page.dispatchEvent('[data-testid="model"]', 'change');
}

/** Keeps only the console problems not matched by `expected` (each pattern may match any number). */
function without(problems, ...expected) {
  const left = problems.filter((p) => !expected.some((re) => re.test(p)));
  problems.length = 0;
  problems.push(...left);
}

test('output safety: hostile documents, file names and model output reach the page only as text; links only http(s) on this site', { timeout: 3 * WAIT_MS }, async (t) => {
  const { page, problems } = await openDemo({ server: hostile });
  const origins = [hostile.origin];
  const { counts: baseline } = await page.evaluate(auditDom, { ui: null, origins, sourceParts: DEMO_SOURCE_PARTS, textOnly: [] });
  const check = async (what) => {
    const r = await page.evaluate(auditDom, { ui: null, origins, baseline, sourceParts: DEMO_SOURCE_PARTS, textOnly: DEMO_TEXT_ONLY });
    assert.deepEqual(r.problems, [], `${what} (seed ${SEED})`);
    assert.equal(r.pwned, undefined, `${what}: window.pwned was set (seed ${SEED})`);
  };
  // Every source, so that the javascript:-named pages are among them.
  await page.evaluate(() => {
    const k = document.getElementById('k');
    k.value = '10';
    k.dispatchEvent(new Event('input'));
  });

  // 1. Document text: the offline answer quotes the hostile pages; the sources list them. First
  // by keyword search (the embedder is still loading), then, once it is ready, with every source.
  const keyword = await askAndWait(page, TOPIC_QUESTION);
  assert.match(keyword.status, /^(Answered|No relevant passage)/, keyword.status);
  await check('keyword search answer from hostile documents');
  await page.waitForFunction(() => /^Semantic search ready/.test(document.getElementById('embed-status').textContent), null, { timeout: WAIT_MS });
  const off = await askAndWait(page, TOPIC_QUESTION);
  assert.equal(off.searchNote, 'Found by keyword + semantic search.');
  assert.match(off.status, /^Answered/, JSON.stringify(off.status));
  assert.ok(off.answer.length > 40 && off.links.length > 0, off.answer);
  await check('offline answer from hostile documents');
  const scripted = off.sources.filter((s) => /^\s*java\s*script:/i.test(s.meta));
  assert.ok(scripted.length >= 1, `the javascript:-named pages are retrieved: ${off.sources.map((s) => s.meta).join(' | ')}`);
  for (const s of scripted) assert.equal(s.href, null, `a source whose url is ${s.meta} is not a link`);
  assert.ok(off.sources.some((s) => s.href && /<img|&lt;|<script|<svg/.test(s.title + s.excerpt)), 'markup in titles and text is shown as text');
  assert.match(off.prompt, /zebra ledger/);

  // 2. The visitor's own files, with hostile names and content, indexed in the worker.
  const files = hostileSite();
  await page.setInputFiles('[data-testid="files"]', [
    { name: '<img src=x onerror=alert(1)>.md', mimeType: 'text/markdown', buffer: Buffer.from(files['notes.md']) },
    { name: 'javascript:alert(1).html', mimeType: 'text/html', buffer: Buffer.from(files['raw.html']) },
    { name: '"><svg onload=alert(1)>.txt', mimeType: 'text/plain', buffer: Buffer.from(files['plain.txt']) },
  ]);
  await page.waitForFunction(() => /indexed and saved/.test(document.getElementById('docs-status').textContent), null, { timeout: WAIT_MS });
  const listed = await page.evaluate(() => [...document.querySelectorAll('#docs li')].map((li) => li.textContent));
  assert.ok(listed.some((l) => l.startsWith('<img src=x onerror=alert(1)>.md')), listed.join(' | '));
  const mine = await askAndWait(page, TOPIC_QUESTION);
  assert.match(mine.status, /^Answered/);
  assert.ok(mine.sources.length >= 2 && mine.sources.every((s) => s.href === null && s.meta.startsWith('local:')), JSON.stringify(mine.sources.map((s) => s.meta)));
  assert.ok(mine.links.every((l) => l.tag === 'SPAN'));
  await check('offline answer from hostile dropped files');

  // 3. Model output: seeded mixes of every payload, streamed in deltas cut anywhere.
  await page.check('input[name="corpus"][value="site"]');
  await useMock(page);
  const answers = hostileAnswers({ count: 6 });
  for (const [i, a] of answers.entries()) {
    mock.enqueue({ answer: a.deltas });
    const r = await askAndWait(page, TOPIC_QUESTION);
    assert.match(r.status, /^Answered/, `answer ${i}: ${r.status} ${r.note} (seed ${SEED})`);
    assert.equal(r.answer, a.text, `answer ${i} is rendered character for character, as text (seed ${SEED})`);
    await check(`model answer ${i}`);
  }
  // Error text quoted from the provider, before and during a stream.
  mock.enqueue({ status: 400, json: { error: { message: PAYLOADS.slice(0, 6).join(' ') } } });
  const rejected = await askAndWait(page, TOPIC_QUESTION);
  assert.match(rejected.note, /the provider says: <img src=x onerror="window\.pwned=1">/);
  await check('a provider error message with markup');
  mock.enqueue({ chunks: [textEvent('Partial <b>answer</b> [1]'), `data: ${JSON.stringify({ error: { message: '<svg onload=alert(1)> overloaded', type: 'server_error' } })}\n\n`] });
  const midway = await askAndWait(page, TOPIC_QUESTION);
  assert.equal(midway.answer, 'Partial <b>answer</b> [1]');
  assert.match(midway.note, /<svg onload=alert\(1\)> overloaded/);
  await check('a mid-stream error with markup');
  without(problems, /status of 400/);
  await finish(t, page, problems);
});

/** Every file under `dir`, relative paths. */
async function filesUnder(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath ?? e.path, e.name));
  }
  return out;
}

test('secrets: the indexer\'s keys never reach the site folder', async () => {
  const files = await filesUnder(join(site, 'docent'));
  assert.ok(files.length >= 5, files.join(', '));
  for (const f of files) {
    const text = (await readFile(f)).toString('latin1');
    for (const [name, value] of Object.entries(ENV_SECRETS)) assert.ok(!text.includes(value), `${f} contains $${name}`);
  }
});

test('secrets: the API key stays out of the console (page and worker), URLs, other hosts, the DOM and storage unless "remember" is ticked', { timeout: 3 * WAIT_MS }, async (t) => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const requests = [];
  context.on('request', (r) => requests.push(r));
  const { page, problems } = await openDemo({ context });
  const seen = watched.get(page);
  // The collector hears the page and its workers (the embedder runs in one, started when the page
  // is ready; a whole index runs in one from the start).
  const worker = page.workers()[0] ?? (await page.waitForEvent('worker', { timeout: WAIT_MS }));
  assert.ok(worker, 'the embedder runs in a worker');
  await Promise.all([
    page.waitForEvent('console', { predicate: (m) => m.text() === 'probe from the worker', timeout: WAIT_MS }),
    worker.evaluate(() => console.info('probe from the worker')),
  ]);
  // Own documents, so that IndexedDB holds something to search.
  await page.setInputFiles('[data-testid="files"]', [{ name: 'note.md', mimeType: 'text/markdown', buffer: Buffer.from('# Note\n\nThe spare key hangs behind the blue door.\n') }]);
  await page.waitForFunction(() => /indexed and saved/.test(document.getElementById('docs-status').textContent), null, { timeout: WAIT_MS });
  await page.check('input[name="corpus"][value="site"]');

  mock.reset();
  await useMock(page);
  await page.fill('[data-testid="api-key"]', KEY);
  mock.enqueue(
    { answer: ['The gate [1].'] },
    // A provider that echoes the key back in its error, then a reset connection.
    { status: 401, json: { error: { message: `Incorrect API key provided: ${KEY}. You can find your key at …`, type: 'invalid_api_key' } } },
    { reset: true },
    { reset: true },
  );
  assert.match((await askAndWait(page, COVERED)).status, /^Answered/);
  const denied = await askAndWait(page, COVERED);
  assert.match(denied.note, /Incorrect API key provided: <redacted>/);
  const reset = await askAndWait(page, COVERED);
  assert.match(reset.note, /could not complete the request/);
  mock.queue.length = 0;

  const leaks = (text) => String(text).includes(KEY);
  assert.deepEqual(seen.console.filter((m) => leaks(m.text)), [], 'no console message (any type) holds the key');
  assert.ok(seen.console.length >= 1);
  assert.deepEqual(seen.errors.filter(leaks), []);
  const urls = [...requests.map((r) => r.url()), ...served.map((r) => r.url), ...mock.requests.map((r) => r.url), page.url()];
  assert.deepEqual(urls.filter(leaks), [], 'no URL holds the key');
  for (const r of served) assert.ok(!JSON.stringify(r.headers).includes(KEY), `a request to the page's server carried the key: ${r.url}`);
  const carried = mock.requests.filter((r) => JSON.stringify(r.headers).includes(KEY) || r.body.includes(KEY));
  assert.deepEqual(carried, mock.posts(), 'the key went to the configured endpoint with each POST (and nothing else did)');
  assert.ok(carried.length >= 3);
  for (const r of carried) {
    assert.equal(r.method, 'POST');
    assert.equal(r.headers.authorization, `Bearer ${KEY}`);
    assert.ok(!r.body.includes(KEY) && !r.url.includes(KEY), 'in the header only');
  }
  const foreign = requests.filter((r) => !r.url().startsWith(demo.origin) && !r.url().startsWith(mock.origin));
  assert.deepEqual(foreign.map((r) => r.url()), [], 'the page talks to nothing but its server and the endpoint');
  assert.equal(await page.evaluate((k) => document.documentElement.outerHTML.includes(k), KEY), false, 'the key is not in the DOM');

  const scan = await page.evaluate(findInStorage, KEY);
  assert.deepEqual(scan.hits, [], 'not remembered: the key is in no storage');
  assert.ok(scan.inventory.cached >= 3 && scan.inventory.idb >= 1 && scan.inventory.local >= 1, `the scan read the stores: ${JSON.stringify(scan.inventory)}`);

  // Remembered: in localStorage under its own entry only; it comes back after a reload.
  await page.check('#remember');
  assert.deepEqual((await page.evaluate(findInStorage, KEY)).hits, ['localStorage[docent-demo-api-key-openai]']);
  await page.reload();
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent.startsWith('Ready'), null, { timeout: WAIT_MS });
  assert.equal(await page.inputValue('[data-testid="api-key"]'), KEY);
  await page.check('input[name="corpus"][value="site"]');
  mock.enqueue({ answer: ['Remembered [1].'] });
  assert.equal((await askAndWait(page, COVERED)).answer, 'Remembered [1].');
  assert.equal(mock.posts().at(-1).headers.authorization, `Bearer ${KEY}`);
  await page.uncheck('#remember');
  assert.deepEqual((await page.evaluate(findInStorage, KEY)).hits, [], 'unticking forgets it');
  assert.deepEqual(seen.console.filter((m) => leaks(m.text)), []);
  without(problems, /status of 401/, /ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|Failed to fetch/);
  await finish(t, page, problems);
});

test('network faults through the page: slow first byte, stall, malformed SSE, duplicate [DONE], 429 once and twice, reset; the next question answers after each', { timeout: 3 * WAIT_MS }, async (t) => {
  const { page, problems } = await openDemo();
  mock.reset();
  await useMock(page);
  // The page's documented setting, so the test waits 1 s instead of the default 30.
  await page.fill('[data-testid="timeout"]', '1');
  await page.dispatchEvent('[data-testid="timeout"]', 'change');
  const timed = async (label) => {
    const t0 = Date.now();
    const r = await askAndWait(page, COVERED);
    return { ...r, ms: Date.now() - t0, label };
  };
  const usable = async (label) => {
    mock.enqueue({ answer: ['Fine ', 'again [1].'] });
    const r = await askAndWait(page, COVERED);
    assert.equal(r.answer, 'Fine again [1].', `after ${label}: the next question answers (${r.status} ${r.note})`);
    assert.equal(r.note, '', `after ${label}: no stale message`);
  };

  mock.enqueue({ firstByteDelayMs: 4000, answer: ['too late'] });
  let r = await timed('slow first byte');
  assert.equal(r.status, 'The model did not answer.');
  assert.match(r.note, /: no response within 1 s \(firstByteTimeoutMs\): the model may be loading or overloaded; try again or raise the timeout$/);
  assert.equal(r.answer, '');
  assert.ok(r.ms >= 900 && r.ms < 3500, `gave up after the 1 s setting, took ${r.ms} ms`);
  await usable(r.label);

  mock.enqueue({ chunks: [textEvent('Partial answer [1]')], then: 'stall' });
  r = await timed('stalled stream');
  assert.equal(r.answer, 'Partial answer [1]', 'the partial answer is kept');
  assert.match(r.note, /: the stream stalled: no data for 1 s \(stallTimeoutMs\) after 18 characters of answer; try again or raise the timeout\. The answer above is incomplete\.$/);
  assert.ok(r.ms < 3500, `${r.ms} ms`);
  await usable(r.label);

  mock.enqueue({ chunks: [textEvent('Good '), 'data: {"choices":[{"delta":\n\n', 'data: <html>\n\n', ': a comment\n\n', 'event: odd\ndata: [1,2\n\n', 'nonsense line\n\n', textEvent('answer [1].'), 'data: [DONE]\n\n'] });
  r = await timed('malformed SSE lines');
  assert.match(r.status, /^Answered/);
  assert.equal(r.answer, 'Good answer [1].');
  await usable(r.label);

  mock.enqueue({ chunks: [textEvent('Once [1].'), 'data: [DONE]\n\n', 'data: [DONE]\n\n', textEvent(' ignored'), 'data: [DONE]\n\n'] });
  r = await timed('duplicate [DONE]');
  assert.match(r.status, /^Answered/);
  assert.equal(r.answer, 'Once [1].');
  await usable(r.label);

  let before = mock.posts().length;
  mock.enqueue({ status: 429, headers: { 'retry-after': '1' }, json: { error: { message: 'slow down' } } }, { answer: ['After the wait [1].'] });
  r = await timed('429 once');
  assert.match(r.status, /^Answered/, r.note);
  assert.equal(r.answer, 'After the wait [1].');
  assert.ok(r.ms >= 1000, `Retry-After: 1 was honoured (${r.ms} ms)`);
  assert.equal(mock.posts().length - before, 2);
  await usable(r.label);

  before = mock.posts().length;
  mock.enqueue(
    { status: 429, headers: { 'retry-after': '1' }, json: { error: { message: 'slow down' } } },
    { status: 429, headers: { 'retry-after': '1' }, json: { error: { message: 'still too fast' } } },
  );
  r = await timed('429 twice');
  assert.equal(r.status, 'The model did not answer.');
  assert.match(r.note, /: rate limited \(HTTP 429\) again after waiting 1 s: try again in 1 s; the provider says: still too fast$/);
  assert.equal(mock.posts().length - before, 2, 'one retry, no more');
  await usable(r.label);

  // Chromium retries a POST once when a reused connection is reset before any response: the
  // second reset reaches the page.
  mock.enqueue({ reset: true }, { reset: true });
  r = await timed('connection reset');
  mock.queue.length = 0; // the second reset, when the first connection was fresh and not retried
  assert.equal(r.status, 'The model did not answer.');
  assert.match(r.note, /could not complete the request to http:\/\/127\.0\.0\.1:\d+ \(Failed to fetch\)/);
  assert.match(r.note, /may also be a network failure/);
  await usable(r.label);

  without(problems, /status of 429/, /ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET/);
  await finish(t, page, problems);
});

test('index faults: with the demo site\'s lexical fragments missing, the question fails in one sentence with Retry, and Retry answers once they are back', { timeout: 2 * WAIT_MS }, async (t) => {
  const manifest = JSON.parse(await readFile(join(site, 'docent/manifest.json'), 'utf8'));
  assert.ok(manifest.fragments, 'docent index wrote no fragments (manifest.json has no "fragments")');
  // The demo's folders, served by a host that can lose files.
  const faulty = await startFaultServer([['/pkg/', join(root, 'pkg')], ['/site/', site], ['/', join(root, 'www')]], {
    headers: () => ({ 'content-security-policy': CSP }),
  });
  try {
    for (const f of manifest.fragments.lexical.files) faulty.fault(`/site/docent/${f}`, '404');
    const { page, problems } = await openDemo({ server: faulty });
    const r = await askAndWait(page, COVERED);
    assert.match(r.status, /^Could not load the search index: .*lex-[0-9a-f]{16}\.bin.*404/, r.status);
    assert.equal(await page.isVisible('[data-testid="retry"]'), true, 'Retry is offered');
    assert.equal(r.answer, '', 'nothing is answered from part of the index');
    assert.equal(r.sources.length, 0);
    faulty.clearFaults();
    await page.click('[data-testid="retry"]');
    await page.waitForFunction(() => /^Answered/.test(document.querySelector('[data-testid="status"]').textContent), null, { timeout: WAIT_MS });
    assert.equal(await page.isVisible('[data-testid="retry"]'), false);
    assert.ok((await page.textContent('[data-testid="answer"]')).length > 40);
    without(problems, /status of 404/);
    await finish(t, page, problems);
  } finally {
    await faulty.close();
  }
});

test('the watchers are not blind: a CSP violation and a dialog are caught', { timeout: 2 * WAIT_MS }, async () => {
  const { page, problems } = await openDemo();
  const seen = watched.get(page);
  await page.evaluate(() => {
    const img = document.createElement('img');
    img.src = 'https://blocked.invalid/pixel.png';
    document.body.append(img);
  });
  for (let i = 0; i < 50 && seen.csp.length < 2; i++) await page.waitForTimeout(20);
  // One report per policy that blocks it: the header's and the <meta> tag's.
  assert.ok(seen.csp.length >= 1, 'the violation was reported');
  assert.deepEqual([...new Set(seen.csp.map((v) => `${v.directive} ${v.blocked}`))], ['img-src https://blocked.invalid/pixel.png']);
  await page.evaluate(() => alert('caught'));
  assert.deepEqual(seen.dialogs, ['alert: caught']);
  assert.ok(problems.some((p) => /Content Security Policy/.test(p)), 'Chromium also reports it on the console');
  await page.context().close();
});

test('follow-ups: the earlier turn shows above the answer and goes in the prompt; New question clears it', { timeout: 3 * WAIT_MS }, async (t) => {
  const { page, problems } = await openDemo();
  await askAndWait(page, COVERED);
  assert.equal(await page.isVisible('[data-testid="new-question"]'), true);
  const r = await askAndWait(page, 'and how is it calibrated?');
  assert.match(r.status, /^Answered/, JSON.stringify(r));
  assert.deepEqual(await page.$$eval('[data-testid="turns"] .turn-question', (qs) => qs.map((q) => q.textContent)), [COVERED]);
  assert.match(r.prompt, /, 1 earlier turn[,\n]/, 'the prompt carries the earlier turn');
  assert.match(r.prompt, /searched as: and how is it calibrated\? \S/, 'the follow-up is searched with its topic');
  await page.click('[data-testid="new-question"]');
  assert.equal(await page.$$eval('[data-testid="turns"] li', (l) => l.length), 0);
  assert.equal(await page.textContent('[data-testid="answer"]'), '');
  assert.equal(await page.isVisible('[data-testid="new-question"]'), false);
  await finish(t, page, problems);
});
