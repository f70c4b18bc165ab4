// <docent-ask key="none"> through docent/proxy (pkg/proxy/) in Chromium: on an allowed site the
// widget's request passes the proxy's CORS preflight, the proxy adds the owner's key and the mock
// LLM's answer streams back with citations; a page on another origin (the same files served as
// http://localhost:PORT instead of http://127.0.0.1:PORT) is refused at the preflight, shows the
// reader a clear sentence, and nothing reaches the upstream. The site is tests/fixtures/corpus
// indexed by `npx docent index` (the wasm build, hashing embedder).
// Needs ./build.sh wasm and Chromium with playwright-core (tests/browser/node_modules).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { need, startStaticServer } from '../support/static-server.mjs';
import { startMockLlm } from '../support/mock-llm.mjs';
import { KEY, startProxy } from '../support/proxy.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 60_000;
const QUESTION = 'How often should I water tomatoes in pots?';

let tmp;
let web;
let mock;
let proxy;
let browser;

before(async () => {
  need(join(root, 'pkg/docent_wasm_bg.wasm'), 'run ./build.sh wasm first');
  tmp = await mkdtemp(join(tmpdir(), 'docent-proxy-test-'));
  const site = join(tmp, 'site');
  await cp(join(root, 'tests/fixtures/corpus'), site, { recursive: true });
  execFileSync(process.execPath, [join(root, 'pkg/cli.js'), 'index', site, '--out', join(site, 'docent')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: WAIT_MS });
  web = await startStaticServer([['/site/', site], ['/', root]]);
  mock = await startMockLlm();
  // The proxy allows the site's origin only; the same page at http://localhost:PORT is another origin.
  proxy = await startProxy(mock.openai, { allowOrigins: [web.origin], rate: '100/min' });
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  await mock?.close();
  await web?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A page with the widget, answered through the proxy, at `origin`; console errors are collected. */
async function openWidget(origin) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  const attrs = { provider: 'openai', endpoint: `${proxy.url}/proxy`, model: 'proxy-model', key: 'none', embed: 'never', sources: '3' };
  await page.goto(`${origin}/tests/browser/widget.html?index=${encodeURIComponent('/site/docent/')}&attrs=${encodeURIComponent(JSON.stringify(attrs))}`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.widgetAdded === true, null, { timeout: WAIT_MS });
  return { context, page, problems };
}

/** Asks; waits until the widget is idle; returns what the reader sees. */
async function ask(page, question) {
  await page.fill('docent-ask >> [data-testid="question"]', question);
  await page.click('docent-ask >> [data-testid="ask"]');
  await page.waitForFunction(() => {
    const s = document.querySelector('docent-ask').shadowRoot;
    const status = s.querySelector('[data-testid="status"]').textContent;
    return s.querySelector('[part="stop"]').hidden && !['', 'Searching…', 'Answering…', 'Ready.', 'Loading…'].includes(status) && !status.startsWith('Loading')
      || window.docentEvents.some((e) => e.type === 'docent-question');
  }, null, { timeout: WAIT_MS });
  return page.evaluate(() => {
    const s = document.querySelector('docent-ask').shadowRoot;
    const status = s.querySelector('[data-testid="status"]');
    return {
      status: status.textContent,
      error: status.classList.contains('error'),
      role: status.getAttribute('role'),
      answer: s.querySelector('[data-testid="answer"]').textContent,
      cites: [...s.querySelectorAll('[part="cite"]')].map((a) => ({ text: a.textContent, href: a.getAttribute('href') })),
      sources: [...s.querySelectorAll('[data-testid="sources"] li')].length,
    };
  });
}

test('key="none" through the proxy: the answer streams back with citations, and the owner\'s key stays on the server', { timeout: 3 * WAIT_MS }, async () => {
  mock.reset();
  proxy.lines.length = 0;
  mock.enqueue({ answer: ['Water them ', 'every morning [1]', ', more in summer [2].'] });
  const { context, page, problems } = await openWidget(web.origin);
  try {
    const seen = await ask(page, QUESTION);
    assert.equal(seen.error, false, seen.status);
    assert.equal(seen.answer, 'Water them every morning [1], more in summer [2].');
    assert.deepEqual(seen.cites.map((c) => c.text), ['[1]', '[2]']);
    assert.ok(seen.cites.every((c) => c.href && c.href.includes('#')), JSON.stringify(seen.cites));
    assert.ok(seen.sources >= 2, JSON.stringify(seen));
    const [sent] = mock.posts();
    assert.equal(sent.headers.authorization, `Bearer ${KEY}`, 'the proxy added the owner\'s key');
    assert.equal(sent.json.model, 'proxy-model');
    assert.equal(sent.json.messages[0].role, 'system');
    assert.match(sent.json.messages[1].content, /<source id="1"/);
    assert.ok(proxy.lines.some((l) => / OPTIONS \/proxy\/chat\/completions 204 /.test(l)), proxy.lines.join('\n'));
    assert.ok(proxy.lines.some((l) => / POST \/proxy\/chat\/completions 200 .* end=done$/.test(l)), proxy.lines.join('\n'));
    const inPage = await page.content();
    assert.ok(!inPage.includes(KEY) && !proxy.lines.join('\n').includes(KEY), 'the key is nowhere in the page or the log');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a page on a disallowed origin gets a clear refusal, and nothing reaches the upstream', { timeout: 3 * WAIT_MS }, async () => {
  mock.reset();
  proxy.lines.length = 0;
  const other = web.origin.replace('127.0.0.1', 'localhost');
  const { context, page, problems } = await openWidget(other);
  try {
    const seen = await ask(page, QUESTION);
    assert.equal(seen.error, true, seen.status);
    assert.equal(seen.role, 'alert');
    assert.match(seen.status, /does not allow cross-origin requests from this page/);
    assert.match(seen.status, new RegExp(`Access-Control-Allow-Origin: ${other.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.equal(seen.answer, '');
    assert.equal(mock.requests.length, 0, 'the upstream saw nothing');
    assert.ok(proxy.lines.length >= 1 && proxy.lines.every((l) => / 403 origin=http:\/\/localhost:\d+ .*error=origin_not_allowed$/.test(l)), proxy.lines.join('\n'));
    // Chromium reports the refused preflight on the console; nothing else may appear there.
    const other_ = problems.filter((p) => !/CORS policy|Failed to load resource|net::ERR_FAILED/.test(p));
    assert.deepEqual(other_, []);
  } finally {
    await context.close();
  }
});
