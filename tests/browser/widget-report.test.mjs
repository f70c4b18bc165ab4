// <docent-ask report="URL"> in Chromium: each question the relevance gate flagged is POSTed to a
// report endpoint (a 127.0.0.1 server this test starts and stops, on another port: a cross-origin
// endpoint) as JSON with exactly {question, missing, index, time}: no identifier, no cookie, no
// referrer; answered questions are not reported; without the attribute nothing is sent at all;
// a failing endpoint is tried once per question and the reader never notices. The site is
// tests/fixtures/garden, indexed by the CLI with the hashing embedder.
// Needs what tests/browser/browser.test.mjs needs (./build.sh test browser provides it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { closeServer, need, startStaticServer } from '../support/static-server.mjs';
import { indexedGarden } from '../support/garden.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 30_000;
const INDEX = '/garden/docent/';
const FLAGGED = 'Can I use Kubernetes to schedule the watering?';
const FLAGGED_2 = 'Is there a Slack channel for the garden?';
const ANSWERED = 'How do I borrow tools from the shed?';

let tmp;
let web;
let browser;
let manifest;
/** The report endpoint: every request it got, and how it answers (`status`). */
let sink;

/** A 127.0.0.1 server that records each request (method, headers, body) and answers CORS. */
function startSink() {
  const requests = [];
  const state = { requests, status: 204 };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const cors = {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'content-type',
      };
      res.writeHead(req.method === 'OPTIONS' ? 204 : state.status, cors).end();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      state.url = `http://127.0.0.1:${server.address().port}/gaps`;
      state.close = () => closeServer(server);
      state.posts = () => requests.filter((r) => r.method === 'POST');
      resolve(state);
    });
  });
}

before(async () => {
  need(join(root, 'pkg/docent_search_bg.wasm'), 'run ./build.sh wasm first');
  let site;
  ({ tmp, site } = await indexedGarden('docent-widget-report-', 2 * WAIT_MS));
  manifest = JSON.parse(await readFile(join(site, 'docent/manifest.json'), 'utf8'));
  web = await startStaticServer([['/garden/', site], ['/', root]]);
  sink = await startSink();
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await sink?.close();
  await web?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A fresh page with one widget (`attrs`), a cookie of the page's own, and every request it makes recorded. */
async function openWidget(attrs) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  const warnings = [];
  const requests = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    if (m.type() === 'warning') warnings.push(m.text());
  });
  page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
  await page.goto(`${web.origin}/tests/browser/widget.html?index=${encodeURIComponent(INDEX)}&attrs=${encodeURIComponent(JSON.stringify({ embed: 'never', ...attrs }))}`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.widgetAdded === true, null, { timeout: WAIT_MS });
  // A cookie on 127.0.0.1 (cookies ignore the port: the endpoint's host would get it if the widget sent credentials).
  await page.evaluate(() => (document.cookie = 'reader=r-42; path=/'));
  return { context, page, problems, warnings, requests };
}

/** Asks `q` and waits for its docent-question event; returns its detail. */
async function ask(page, q) {
  const before = await page.evaluate(() => window.docentEvents.filter((e) => e.type === 'docent-question').length);
  await page.evaluate((q) => document.querySelector('docent-ask').ask(q), q);
  await page.waitForFunction((n) => window.docentEvents.filter((e) => e.type === 'docent-question').length > n, before, { timeout: WAIT_MS });
  return page.evaluate(() => window.docentEvents.filter((e) => e.type === 'docent-question').at(-1).detail);
}

/** Waits until the endpoint has `n` POSTs (bounded). */
async function posts(n) {
  const until = Date.now() + WAIT_MS;
  while (sink.posts().length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  return sink.posts();
}

test('report="URL": each flagged question is POSTed with exactly question, missing, index and time; answered ones are not', { timeout: 4 * WAIT_MS }, async () => {
  sink.requests.length = 0;
  sink.status = 204;
  const { context, page, problems } = await openWidget({ report: sink.url });
  try {
    const first = await ask(page, FLAGGED);
    assert.equal(first.answerable, false);
    const [one] = await posts(1);
    const answered = await ask(page, ANSWERED);
    assert.equal(answered.answerable, true, 'the control question is answered');
    assert.equal((await ask(page, FLAGGED_2)).answerable, false);
    const got = await posts(2);
    assert.equal(got.length, 2, `two flagged questions, two reports: ${JSON.stringify(got.map((r) => r.body))}`);
    assert.equal(one, got[0]);

    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const bodies = got.map((r) => JSON.parse(r.body));
    assert.deepEqual(bodies.map((b) => b.question), [FLAGGED, FLAGGED_2]);
    for (const b of bodies) {
      assert.deepEqual(Object.keys(b).sort(), ['index', 'missing', 'question', 'time'], JSON.stringify(b));
      assert.deepEqual(b.index, { version: manifest.version, fingerprint: manifest.xxh3 });
      assert.match(b.time, /^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/);
      // The hour it was asked (or the one before, when the test ran across an hour).
      assert.ok([hour, hour - 3_600_000].includes(Date.parse(b.time)), b.time);
    }
    assert.deepEqual(bodies[0].missing, ['Kubernetes']);
    assert.deepEqual(bodies[1].missing, ['Slack']);
    // No identifier of the reader: no cookie, no referrer; JSON; one POST to the URL as given.
    for (const r of got) {
      assert.equal(r.url, '/gaps');
      assert.equal(r.headers.cookie, undefined, 'no credentials');
      assert.equal(r.headers.referer, undefined, 'no referrer');
      assert.match(r.headers['content-type'], /^application\/json/);
    }
    assert.ok(!JSON.stringify(got).includes('r-42'), 'the page cookie never reaches the endpoint');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('without the report attribute nothing is sent: no POST, no request to any endpoint', { timeout: 4 * WAIT_MS }, async () => {
  sink.requests.length = 0;
  const { context, page, problems, requests } = await openWidget({});
  try {
    assert.equal((await ask(page, FLAGGED)).answerable, false);
    assert.equal((await ask(page, FLAGGED_2)).answerable, false);
    const answer = await page.evaluate(() => document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="answer"]').textContent);
    assert.equal(answer, 'These documents do not mention Slack.');
    // Ask one more and wait for it: a report of the first two would have been sent by now.
    await ask(page, ANSWERED);
    assert.deepEqual(sink.requests, []);
    assert.deepEqual(requests.filter((r) => r.method !== 'GET'), [], 'only GETs of the site itself');
    assert.deepEqual(requests.filter((r) => !r.url.startsWith(web.origin)), []);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a failing report endpoint is tried once per flagged question, never again, and the reader sees the answer as usual', { timeout: 4 * WAIT_MS }, async () => {
  sink.requests.length = 0;
  sink.status = 500;
  const { context, page, problems } = await openWidget({ report: sink.url });
  try {
    assert.equal((await ask(page, FLAGGED)).answerable, false);
    assert.equal((await ask(page, FLAGGED_2)).answerable, false);
    await posts(2);
    // More time than any retry would take; still two.
    await page.waitForTimeout(1000);
    assert.equal(sink.posts().length, 2, JSON.stringify(sink.posts().map((r) => r.body)));
    const s = await page.evaluate(() => {
      const r = document.querySelector('docent-ask').shadowRoot;
      return { answer: r.querySelector('[data-testid="answer"]').textContent, status: r.querySelector('[data-testid="status"]').textContent };
    });
    assert.deepEqual(s, { answer: 'These documents do not mention Slack.', status: 'No relevant passage found.' });
    // The browser itself logs the failed request (a 500); nothing else may go wrong.
    assert.deepEqual(problems.filter((p) => !/status of 500/.test(p)), []);
  } finally {
    sink.status = 204;
    await context.close();
  }
});

test('a report attribute that is not an http(s) URL sends nothing and warns once', { timeout: 2 * WAIT_MS }, async () => {
  sink.requests.length = 0;
  const { context, page, problems, warnings, requests } = await openWidget({ report: 'javascript:alert(1)' });
  try {
    assert.equal((await ask(page, FLAGGED)).answerable, false);
    assert.equal((await ask(page, FLAGGED_2)).answerable, false);
    assert.deepEqual(requests.filter((r) => r.method !== 'GET'), []);
    assert.equal(warnings.filter((w) => w.includes('report="javascript:alert(1)" is not an http(s) URL')).length, 1, warnings.join('\n'));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
