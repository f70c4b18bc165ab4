// The LLM client (pkg/llm.js) in real Chromium: a page served from one 127.0.0.1 port calls the
// mock LLM server on another port. Without CORS headers the failure must be an LlmError of kind
// 'cors' that explains what the endpoint must allow; with them the answer streams. Console errors
// fail the test, except Chromium's own report of the blocked or cut requests provoked on purpose.
// Needs Debian Chromium at /usr/bin/chromium and playwright-core in tests/browser/node_modules
// (npm ci --prefix tests/browser); not the wasm build. Run with `node --test tests/browser/llm-cors.test.mjs`.
import { test, before, after, beforeEach } from 'node:test';
import { CHROMIUM, launchChromium } from '../support/chromium.mjs';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need, startStaticServer } from '../support/static-server.mjs';
import { startMockLlm, openaiChunks } from '../support/mock-llm.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 30_000;
const KEY = 'sk-browser-S3CRET-4242';

let web;
let mock;
let browser;
let page;
let problems;
let expected; // console errors provoked on purpose, as predicates
let provoked; // the console errors that matched `expected`

before(async () => {
  need(CHROMIUM, 'install Debian Chromium (./build.sh test does: apt-get install chromium) or set DOCENT_CHROMIUM');
  need(join(root, 'tests/browser/node_modules/playwright-core'), 'run npm ci --prefix tests/browser (./build.sh test does)');
  web = await startStaticServer([['/', root]]);
  mock = await startMockLlm({ cors: false });
  assert.notEqual(web.origin, mock.origin, 'the page and the endpoint are on different origins');
  browser = await launchChromium({ timeout: WAIT_MS });
  page = await browser.newPage();
  problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = `${m.text()} (${m.location().url})`;
    if (expected.some((allowed) => allowed(text))) provoked.push(text);
    else problems.push(`console.error: ${text}`);
  });
  await page.goto(`${web.origin}/tests/browser/llm-page.html`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.llm !== undefined, null, { timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await mock?.close();
  await web?.close();
});

beforeEach(() => {
  mock.reset();
  expected = [];
  provoked = [];
});

/** Runs streamAnswer in the page; returns {deltas, error?: {kind, message, partial, isLlmError}}. */
function streamInPage(options, { abortAfterFirst = false } = {}) {
  return page.evaluate(async ({ options, abortAfterFirst }) => {
    const controller = new AbortController();
    const deltas = [];
    try {
      for await (const d of window.llm.streamAnswer({ ...options, signal: controller.signal })) {
        deltas.push(d);
        if (abortAfterFirst) controller.abort();
      }
      return { deltas };
    } catch (e) {
      return { deltas, error: { kind: e.kind, message: e.message, partial: e.partial, isLlmError: e instanceof window.llm.LlmError } };
    }
  }, { options, abortAfterFirst });
}

function assertClean() {
  assert.deepEqual(problems.splice(0), [], 'the console must stay free of unexpected errors');
}

const MESSAGES = [{ role: 'system', content: 'Answer from the sources.' }, { role: 'user', content: 'Question: why?' }];
const blockedByCors = (text) => text.includes(mock.origin) && (/CORS policy/.test(text) || /net::ERR_FAILED/.test(text));

test('CORS off: kind cors, with what the endpoint must allow; no POST reaches the server', { timeout: WAIT_MS }, async () => {
  mock.cors = false;
  expected = [blockedByCors];
  const openai = await streamInPage({ provider: 'openai', endpoint: mock.openai, model: 'm', apiKey: KEY, messages: MESSAGES });
  assert.ok(openai.error?.isLlmError, JSON.stringify(openai));
  assert.equal(openai.error.kind, 'cors');
  const m = openai.error.message;
  assert.ok(m.startsWith(`LLM endpoint ${mock.origin}/v1/chat/completions: the browser could not complete the request to ${mock.origin} (`), m);
  assert.ok(m.includes(`Access-Control-Allow-Origin: ${web.origin} (or *)`), m);
  assert.ok(m.includes('Access-Control-Allow-Headers: content-type, authorization'), m);
  assert.ok(m.includes('so this may also be a network failure'), m);
  assert.ok(!m.includes(KEY));

  const anthropic = await streamInPage({ provider: 'anthropic', endpoint: mock.anthropic, model: 'm', apiKey: KEY, messages: MESSAGES });
  assert.equal(anthropic.error?.kind, 'cors', JSON.stringify(anthropic));
  assert.ok(anthropic.error.message.includes('Access-Control-Allow-Headers: content-type, x-api-key, anthropic-version, anthropic-dangerous-direct-browser-access'), anthropic.error.message);

  assert.ok(provoked.some((t) => /blocked by CORS policy/.test(t)), `Chromium reported the CORS block: ${provoked.join('\n')}`);
  assert.deepEqual(mock.posts(), [], 'the preflight failed, so nothing was posted');
  assert.ok(mock.requests.some((r) => r.method === 'OPTIONS' && r.headers.origin === web.origin), 'the browser sent a preflight');
  assertClean();
});

test('CORS on: both providers stream; the key only in a header; errors are readable', { timeout: WAIT_MS }, async () => {
  mock.cors = true;
  mock.enqueue({ answer: ['Hello ', 'from ', 'Chromium [1].'] }, { answer: ['Bonjour', ' [1].'] });
  const openai = await streamInPage({ provider: 'openai', endpoint: mock.openai, model: 'm', apiKey: KEY, messages: MESSAGES });
  assert.equal(openai.error, undefined, JSON.stringify(openai.error));
  assert.deepEqual(openai.deltas, ['Hello ', 'from ', 'Chromium [1].']);
  const anthropic = await streamInPage({ provider: 'anthropic', endpoint: mock.anthropic, model: 'm', apiKey: KEY, messages: MESSAGES });
  assert.equal(anthropic.deltas.join(''), 'Bonjour [1].', JSON.stringify(anthropic));
  const [p1, p2] = mock.posts();
  assert.equal(p1.headers.authorization, `Bearer ${KEY}`);
  assert.equal(p2.headers['x-api-key'], KEY);
  assert.equal(p2.headers['anthropic-dangerous-direct-browser-access'], 'true');
  for (const r of mock.requests) assert.ok(!r.url.includes(KEY), r.url);

  // With CORS allowed, an error response and its JSON body are visible to the page.
  expected = [(text) => text.includes(mock.origin) && /status of 401/.test(text)];
  mock.enqueue({ status: 401, json: { error: { message: 'Invalid API key', type: 'authentication_error' } } });
  const denied = await streamInPage({ provider: 'openai', endpoint: mock.openai, model: 'm', apiKey: KEY, messages: MESSAGES });
  assert.equal(denied.error?.kind, 'auth', JSON.stringify(denied));
  assert.match(denied.error.message, /the API key was rejected \(HTTP 401\): check the key for 127\.0\.0\.1:\d+; the provider says: Invalid API key \(authentication_error\)$/);
  assertClean();
});

test('in Chromium: abort keeps the partial answer, a cut stream is incomplete', { timeout: WAIT_MS }, async () => {
  mock.cors = true;
  mock.enqueue({ answer: ['one', ' two', ' three'], chunkDelayMs: 50 });
  const aborted = await streamInPage({ provider: 'openai', endpoint: mock.openai, model: 'm', messages: MESSAGES }, { abortAfterFirst: true });
  assert.equal(aborted.error?.kind, 'aborted', JSON.stringify(aborted));
  assert.equal(aborted.error.partial, 'one');

  expected = [(text) => text.includes(mock.origin) && /net::ERR_/.test(text)];
  mock.enqueue({ chunks: openaiChunks(['cut ', 'short']).slice(0, 3), then: 'cut' });
  const cut = await streamInPage({ provider: 'openai', endpoint: mock.openai, model: 'm', messages: MESSAGES });
  assert.equal(cut.error?.kind, 'incomplete', JSON.stringify(cut));
  assert.equal(cut.error.partial, 'cut short');
  assert.match(cut.error.message, /the stream was cut after 9 characters of answer \(.+\): the answer is incomplete; try again$/);
  assertClean();
});

test('answers render as text nodes and links from the sources only', { timeout: WAIT_MS }, async () => {
  const r = await page.evaluate(() => {
    const sources = [{ n: 1, url: 'guide/a.md#intro' }, { n: 2, url: 'javascript:alert(1)' }];
    const answer = 'See [1](javascript:alert(2)) and [2]. <img src=x onerror="window.pwned=1"> [9]';
    const box = document.querySelector('[data-testid="answer"]');
    box.replaceChildren();
    for (const s of window.llm.citationSegments(answer, sources)) {
      if (s.n && s.href) {
        const a = document.createElement('a');
        a.href = s.href;
        a.textContent = s.text;
        box.append(a);
      } else {
        box.append(document.createTextNode(s.text));
      }
    }
    return {
      text: box.textContent,
      links: [...box.querySelectorAll('a')].map((a) => a.href),
      imgs: box.querySelectorAll('img').length,
      pwned: window.pwned === 1,
    };
  });
  assert.equal(r.text, 'See [1](javascript:alert(2)) and [2]. <img src=x onerror="window.pwned=1"> [9]');
  assert.deepEqual(r.links, [`${web.origin}/tests/browser/guide/a.md#intro`], 'the base defaults to the page');
  assert.equal(r.imgs, 0);
  assert.equal(r.pwned, false);
  assertClean();
});
