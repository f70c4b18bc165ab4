// Static-site embedding end to end: the fixture site (tests/fixtures/site, a kiln controller's
// docs) gets one <script> and one <docent-ask> tag per page, is indexed by the native CLI into
// its own docent/ folder (index, model, wasm, widget: the whole deployment), served by a plain
// static file server on 127.0.0.1, and driven in Debian Chromium via playwright-core. The mock
// LLM server stands in for an OpenAI-compatible proxy. Any console or page error fails a test.
// Needs: ./build.sh wasm (pkg/), ./build.sh setup (CLI, models/), Chromium, playwright-core in
// tests/browser/node_modules (./build.sh test does all).
import { test, before, after } from 'node:test';
import { CHROMIUM, launchChromium } from '../support/chromium.mjs';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need, startStaticServer } from '../support/static-server.mjs';
import { startMockLlm } from '../support/mock-llm.mjs';
import { CSP } from '../../www/serve.mjs';
import { SEED, watch, auditDom, findInStorage, hostileAnswers, hostileSite, PAYLOADS, TOPIC_QUESTION } from '../support/hostile.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 60_000;

let tmp;
let site;
let web;
let mock;
let browser;
let summary;

/** Adds the widget to a page, the way a site owner would: one script tag and one element. */
async function addWidget(page, attributes) {
  const file = join(site, page);
  const html = await readFile(file, 'utf8');
  const tag = `<script type="module" src="/docent/docent-ask.js"></script>\n<docent-ask ${attributes}></docent-ask>\n`;
  assert.ok(html.includes('</body>'), `${page} has no </body>`);
  await writeFile(file, html.replace('</body>', `${tag}</body>`));
}

before(async () => {
  need(join(root, 'pkg/docent_wasm_bg.wasm'), 'run ./build.sh wasm first');
  const cli = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  need(cli, 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  need(CHROMIUM, 'install Debian Chromium (./build.sh test does) or set DOCENT_CHROMIUM');
  need(join(root, 'tests/browser/node_modules/playwright-core'), 'run npm ci --prefix tests/browser (./build.sh test does)');
  mock = await startMockLlm({ cors: true });

  tmp = await mkdtemp(join(tmpdir(), 'docent-site-test-'));
  site = join(tmp, 'public');
  await cp(join(root, 'tests/fixtures/site'), site, { recursive: true });
  await addWidget('index.html', 'offline placeholder="Ask the K3 docs"');
  await addWidget('faq.html', `provider="openai" endpoint="${mock.openai}" model="proxy-model" key="none" sources="3"`);
  // The reader brings their own key (key="ask", the default); timeout="1" keeps fault tests short;
  // embed="focus" starts the embedder's worker with the box (a fragmented index needs none before).
  await addWidget('alarms.html', `provider="openai" endpoint="${mock.openai}" model="mock-model" sources="10" timeout="1" embed="focus"`);
  // That page is served with the demo's strict Content-Security-Policy (see below): drop the
  // fixture's one inline script, which such a policy blocks, so every violation left is the widget's.
  const alarms = await readFile(join(site, 'alarms.html'), 'utf8');
  assert.equal(alarms.match(/<script>[^<]*<\/script>/g)?.length, 1);
  await writeFile(join(site, 'alarms.html'), alarms.replace(/<script>[^<]*<\/script>/, ''));
  // Hostile pages (payloads in titles, headings, ids, text; javascript: file names, which are
  // their urls since the site is indexed without --base-url).
  for (const [name, text] of Object.entries(hostileSite())) await writeFile(join(site, name), text);
  const out = execFileSync(cli, ['index', site, '--out', join(site, 'docent'), '--assets', join(root, 'pkg'), '--json'], {
    env: { ...process.env, DOCENT_MODEL_DIR: join(root, 'models'), DOCENT_API_KEY: 'sk-never-in-the-site-3141', OPENAI_API_KEY: 'sk-openai-never-2718', ANTHROPIC_API_KEY: 'sk-ant-never-1618' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 3 * WAIT_MS,
  });
  summary = JSON.parse(out.toString());
  // alarms.html and every script (the worker's policy comes from its script's response) are
  // served with the demo's strict Content-Security-Policy, as a site owner may send it.
  web = await startStaticServer([['/', site]], {
    headers: (path) => (path === '/alarms.html' || path.endsWith('.js') ? { 'content-security-policy': CSP } : {}),
  });
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await web?.close();
  await mock?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function open(path) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    // The fixture site has no favicon (like many sites); Chromium's 404 for it is not ours.
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  web.requests.clear();
  await page.goto(`${web.origin}${path}`, { timeout: WAIT_MS });
  return { page, problems };
}

async function answerOf(page) {
  return page.evaluate(() => {
    const w = document.querySelector('docent-ask');
    const s = w.shadowRoot;
    return {
      status: s.querySelector('[data-testid="status"]').textContent,
      answer: s.querySelector('[data-testid="answer"]').textContent,
      cites: [...s.querySelectorAll('[data-testid="answer"] .cite')].map((a) => ({ tag: a.tagName, text: a.textContent, href: a.href })),
      sources: [...s.querySelectorAll('[data-testid="sources"] a')].map((a) => a.href),
    };
  });
}

function waitForAnswer(page) {
  return page.evaluate(
    (ms) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no docent-answer event')), ms);
        document.addEventListener('docent-answer', (e) => {
          clearTimeout(timer);
          resolve({ text: e.detail.text });
        }, { once: true });
      }),
    WAIT_MS,
  );
}

test('the docent/ folder is the whole deployment: index, model, wasm, widget; no machine paths, no secrets', async () => {
  const files = [];
  const walk = async (dir) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else files.push(relative(join(site, 'docent'), p));
    }
  };
  await walk(join(site, 'docent'));
  for (const f of ['manifest.json', 'index.bin', 'docent.js', 'docent-ask.js', 'llm.js', 'worker.js', 'docent_wasm.js', 'docent_wasm_bg.wasm', 'model/minilm.int8', 'model/tokenizer.json', 'model/config.json']) {
    assert.ok(files.includes(f), `docent/${f} is missing; the folder holds ${files.join(', ')}`);
  }
  assert.ok(!files.includes('cli.js'), 'the npm CLI is not part of a site');
  const forbidden = [tmp, root.replace(/\/$/, ''), process.env.HOME, 'sk-never-in-the-site-3141', 'sk-openai-never-2718', 'sk-ant-never-1618'].filter((s) => s && s.length > 1);
  for (const f of files) {
    const bytes = await readFile(join(site, 'docent', f));
    const text = bytes.toString('latin1');
    for (const s of forbidden) assert.ok(!text.includes(s), `docent/${f} contains "${s}"`);
  }
});

test('<docent-ask offline>: lazy until focused, answers with a citation link that opens the right page and section', { timeout: 3 * WAIT_MS }, async () => {
  const { page, problems } = await open('/index.html');
  await page.waitForFunction(() => customElements.get('docent-ask') !== undefined, null, { timeout: WAIT_MS });
  await page.waitForTimeout(300);
  const early = [...web.requests.keys()].filter((p) => /\.(wasm|bin|int8)$|tokenizer\.json|manifest\.json/.test(p));
  assert.deepEqual(early, [], 'nothing heavy downloads before the reader focuses the box');

  // Keyboard: Tab reaches the box (its label is "Ask the documentation").
  const label = await page.evaluate(() => document.querySelector('docent-ask').shadowRoot.querySelector('label').textContent);
  assert.equal(label, 'Ask the documentation');
  const t0 = Date.now();
  await page.focus('docent-ask >> [data-testid="question"]');
  await page.waitForFunction(() => document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="status"]').textContent === 'Ready.', null, { timeout: WAIT_MS });
  const readyMs = Date.now() - t0;
  // A question the manual does not cover gets the core's "not covered" text, naming the words of
  // the question that no page contains ("These documents do not mention World or Cup."), and no
  // citation.
  await page.fill('docent-ask >> [data-testid="question"]', 'Which football club won the 1998 World Cup final?');
  const abstained = waitForAnswer(page);
  await page.press('docent-ask >> [data-testid="question"]', 'Enter');
  assert.equal((await abstained).text, '', 'an abstained question reports no answer text');
  const none = await answerOf(page);
  assert.equal(none.answer, 'These documents do not mention World or Cup.', JSON.stringify(none));
  assert.deepEqual(none.cites, []);

  await page.fill('docent-ask >> [data-testid="question"]', 'How do I replace the thermocouple?');
  const answered = waitForAnswer(page);
  await page.press('docent-ask >> [data-testid="question"]', 'Enter');
  await answered;
  const r = await answerOf(page);
  assert.ok(r.answer.length > 30, JSON.stringify(r));
  assert.ok(r.cites.length >= 1 && r.cites.every((c) => c.tag === 'A'), JSON.stringify(r));
  const target = new URL(r.cites[0].href);
  assert.equal(target.origin, web.origin);
  assert.match(target.pathname, /thermocouple/, `the first citation should be the thermocouple page: ${JSON.stringify(r)}`);
  assert.ok(target.hash.length > 1, 'the citation names a section');

  // Bytes served for docent/ (the server counts requests, the workers' ones included).
  const served = [];
  for (const [p, n] of web.requests) {
    if (p.startsWith('/docent/')) served.push([p, n * (await stat(join(site, p))).size]);
  }
  const sum = (re) => served.filter(([p]) => re.test(p)).reduce((a, [, b]) => a + b, 0);
  console.log(`site: ready ${readyMs} ms after focus; before the first answer: wasm ${sum(/\.wasm$/)} B, model ${sum(/\/model\//)} B, index ${sum(/index\.bin$|manifest\.json$/)} B, js ${sum(/\.js$/)} B`);

  await Promise.all([page.waitForURL((u) => u.pathname === target.pathname && u.hash === target.hash), page.click('docent-ask >> a.cite')]);
  const landed = await page.evaluate(() => ({ id: document.querySelector(':target')?.id ?? null, path: location.pathname }));
  assert.equal(landed.id, decodeURIComponent(target.hash.slice(1)), 'the cited section exists on the page');
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('<docent-ask provider="openai" key="none">: streams from the site owner\'s proxy, sends no key, renders no HTML', { timeout: 2 * WAIT_MS }, async () => {
  mock.reset();
  mock.enqueue({ answer: ['Use cone-fire mode ', '<img src=x onerror="window.pwned=1"> ', '[1].'] });
  const { page, problems } = await open('/faq.html');
  await page.focus('docent-ask >> [data-testid="question"]');
  assert.equal(await page.isVisible('docent-ask >> [data-testid="api-key"]'), false, 'no key box for a proxy');
  await page.fill('docent-ask >> [data-testid="question"]', 'Which mode fires to a target cone?');
  const answered = waitForAnswer(page);
  await page.click('docent-ask >> [data-testid="ask"]');
  const event = await answered;
  assert.equal(event.text, 'Use cone-fire mode <img src=x onerror="window.pwned=1"> [1].');
  const r = await answerOf(page);
  assert.equal(r.answer, event.text, 'the markup is shown as text');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.evaluate(() => document.querySelector('docent-ask').shadowRoot.querySelectorAll('img').length), 0);
  const req = mock.posts()[0];
  assert.equal(req.headers.authorization, undefined, 'key="none": no key is sent');
  assert.equal(req.json.model, 'proxy-model');
  assert.equal(req.json.messages.length, 2);
  assert.match(req.json.messages[1].content, /<source id="1"/);
  assert.ok(req.json.messages[1].content.split('<source ').length - 1 <= 3, 'sources="3"');
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('re-index after editing one page re-embeds only that page', { timeout: 3 * WAIT_MS }, async () => {
  const cli = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  const file = join(site, 'network.html');
  const html = await readFile(file, 'utf8');
  await writeFile(file, html.replace('</main>', '<p>The controller also answers on port 8443 when TLS is enabled.</p></main>'));
  const out = JSON.parse(execFileSync(cli, ['index', site, '--out', join(site, 'docent'), '--assets', join(root, 'pkg'), '--json'], {
    env: { ...process.env, DOCENT_MODEL_DIR: join(root, 'models') },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 3 * WAIT_MS,
  }).toString());
  assert.ok(summary.documents > 5, JSON.stringify(summary));
  assert.equal(out.documents, summary.documents, JSON.stringify(out));
  assert.equal(out.reused, summary.documents - 1, JSON.stringify(out));
  assert.equal(out.embedded, 1, JSON.stringify(out));
  const s = await stat(join(site, 'docent/model/minilm.int8'));
  assert.ok(s.size > 1e6);
});

// ------------------------------------------------------------------------------------------
// Hardening (issue 6): hostile documents and model output, secrets and network faults, through
// the widget on alarms.html (provider openai → the mock, the reader's own key, timeout="1").

const KEY = 'sk-reader-own-key-5772156649';
/** What a source item of the widget may hold, and its containers that must hold text only. */
const WIDGET_SOURCE_PARTS = ['A', 'SPAN'];
const WIDGET_TEXT_ONLY = ['[data-testid="status"]', '[data-testid="prompt"]'];
const textEvent = (content) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;

/**
 * Opens `path` with every watcher on (dialogs, CSP, all console messages, requests) and loads the
 * widget. alarms.html comes with the demo's strict Content-Security-Policy (no inline script or
 * style): the widget must work under it without a violation.
 */
async function openWidget(path, { context } = {}) {
  const ctx = context ?? (await browser.newContext({ viewport: { width: 1000, height: 800 } }));
  const page = await ctx.newPage();
  const seen = await watch(page);
  web.requests.clear();
  const res = await page.goto(`${web.origin}${path}`, { timeout: WAIT_MS });
  assert.equal(res.headers()['content-security-policy'], CSP, 'the page runs under the strict policy');
  await page.focus('docent-ask >> [data-testid="question"]');
  await page.waitForFunction(() => document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="status"]').textContent === 'Ready.', null, { timeout: WAIT_MS });
  return { page, seen };
}

/** Asks through the widget and waits until it is idle again (answered, failed or abstained). */
async function askWidget(page, question) {
  await page.evaluate(() => {
    document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="status"]').textContent = '(test: asking)';
  });
  await page.fill('docent-ask >> [data-testid="question"]', question);
  await page.click('docent-ask >> [data-testid="ask"]');
  await page.waitForFunction(() => {
    const s = document.querySelector('docent-ask').shadowRoot;
    const status = s.querySelector('[data-testid="status"]').textContent;
    return s.querySelector('[part="stop"]').hidden && !['(test: asking)', 'Searching…', 'Answering…', 'Ready.'].includes(status) && !status.startsWith('Loading');
  }, null, { timeout: WAIT_MS });
  return page.evaluate(() => {
    const s = document.querySelector('docent-ask').shadowRoot;
    const status = s.querySelector('[data-testid="status"]');
    return {
      status: status.textContent,
      error: status.classList.contains('error'),
      answer: s.querySelector('[data-testid="answer"]').textContent,
      cites: [...s.querySelectorAll('[data-testid="answer"] .cite')].map((a) => ({ tag: a.tagName, text: a.textContent, href: a.getAttribute('href') })),
      sources: [...s.querySelectorAll('[data-testid="sources"] li > *')].map((a) => ({ tag: a.tagName, text: a.textContent, href: a.getAttribute('href') })),
    };
  });
}

/** Fails on what hostile input or a fault must never cause; `expected` console errors are allowed. */
async function assertClean(page, seen, ...expected) {
  assert.deepEqual(seen.csp, [], 'no Content-Security-Policy violation');
  assert.deepEqual(seen.dialogs, [], 'no dialog');
  assert.deepEqual(seen.errors, [], 'no page error');
  assert.equal(await page.evaluate(() => window.pwned), undefined, 'window.pwned was set');
  const errors = seen.console.filter((m) => m.type === 'error' && !m.url.endsWith('/favicon.ico') && !expected.some((re) => re.test(m.text)));
  assert.deepEqual(errors, [], 'no unexpected console error');
}

async function openSettings(page) {
  const open = await page.evaluate(() => document.querySelector('docent-ask').shadowRoot.querySelector('[part="settings"]').open);
  if (!open) await page.click('docent-ask >> [part="settings"] > summary');
}

test('<docent-ask> output safety: hostile pages and model output reach the widget only as text; links only http(s) on this site', { timeout: 3 * WAIT_MS }, async () => {
  const { page, seen } = await openWidget('/alarms.html');
  const options = { ui: 'docent-ask', origins: [web.origin], sourceParts: WIDGET_SOURCE_PARTS, textOnly: WIDGET_TEXT_ONLY };
  const { counts: baseline } = await page.evaluate(auditDom, options);
  const check = async (what) => {
    const r = await page.evaluate(auditDom, { ...options, baseline });
    assert.deepEqual(r.problems, [], `${what} (seed ${SEED})`);
    assert.equal(r.pwned, undefined);
  };

  // Document text, through the offline answer.
  await openSettings(page);
  await page.selectOption('docent-ask >> [data-testid="provider"]', 'offline');
  const off = await askWidget(page, TOPIC_QUESTION);
  assert.equal(off.error, false, off.status);
  assert.ok(off.answer.length > 40 && off.cites.length > 0, JSON.stringify(off));
  await check('offline answer from hostile pages');
  const scripted = off.sources.filter((s) => /zebra ledger (script url|cased|tab)|Clerk (four|five|six)/.test(s.text));
  assert.ok(scripted.length >= 1, `the javascript:-named pages are retrieved: ${JSON.stringify(off.sources)}`);
  for (const s of scripted) assert.deepEqual([s.tag, s.href], ['SPAN', null], `${s.text}: a javascript: url is not a link`);
  // Headings carrying markup as text (from Markdown/text pages) stay text wherever retrieval puts
  // them; which hostile pages rank in the top k depends on the embedder, so no count is assumed.
  for (const s of off.sources.filter((x) => /<img|<script|<svg/.test(x.text))) {
    assert.ok(['A', 'SPAN'].includes(s.tag), `markup in a heading is shown as text: ${JSON.stringify(s)}`);
  }

  // Model output: seeded mixes of every payload, streamed in deltas cut anywhere.
  await page.selectOption('docent-ask >> [data-testid="provider"]', 'openai');
  mock.reset();
  for (const [i, a] of hostileAnswers({ count: 6, seed: SEED + 1 }).entries()) {
    mock.enqueue({ answer: a.deltas });
    const r = await askWidget(page, TOPIC_QUESTION);
    assert.equal(r.error, false, `answer ${i}: ${r.status} (seed ${SEED})`);
    assert.equal(r.answer, a.text, `answer ${i} is rendered character for character, as text (seed ${SEED})`);
    await check(`model answer ${i}`);
  }
  mock.enqueue({ status: 400, json: { error: { message: PAYLOADS.slice(0, 6).join(' ') } } });
  const rejected = await askWidget(page, TOPIC_QUESTION);
  assert.match(rejected.status, /the provider says: <img src=x onerror="window\.pwned=1">/);
  await check('a provider error message with markup');
  await assertClean(page, seen, /status of 400/);
  await page.context().close();
});

test('<docent-ask> secrets: the reader\'s key stays out of the console (page and worker), URLs, other hosts, the DOM and storage unless "remember" is ticked', { timeout: 3 * WAIT_MS }, async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const requests = [];
  context.on('request', (r) => requests.push(r));
  const { page, seen } = await openWidget('/alarms.html', { context });
  const worker = page.workers()[0] ?? (await page.waitForEvent('worker', { timeout: WAIT_MS }));
  assert.ok(worker, 'the widget runs its index or its embedder in a worker');
  await Promise.all([
    page.waitForEvent('console', { predicate: (m) => m.text() === 'probe from the worker', timeout: WAIT_MS }),
    worker.evaluate(() => console.info('probe from the worker')),
  ]);
  mock.reset();
  await openSettings(page);
  await page.fill('docent-ask >> [data-testid="api-key"]', KEY);
  mock.enqueue(
    { answer: ['E-03 means [1].'] },
    { status: 401, json: { error: { message: `Incorrect API key provided: ${KEY}.`, type: 'invalid_api_key' } } },
    { reset: true },
    { reset: true },
  );
  assert.equal((await askWidget(page, 'What does error code E-03 over-temperature mean?')).answer, 'E-03 means [1].');
  assert.match((await askWidget(page, 'What does error code E-03 over-temperature mean?')).status, /the API key was rejected \(HTTP 401\).*Incorrect API key provided: <redacted>/);
  assert.match((await askWidget(page, 'What does error code E-03 over-temperature mean?')).status, /could not complete the request/);
  mock.queue.length = 0;

  const leaks = (text) => String(text).includes(KEY);
  assert.deepEqual(seen.console.filter((m) => leaks(m.text)), [], 'no console message (any type) holds the key');
  const urls = [...requests.map((r) => r.url()), ...web.requests.keys(), ...mock.requests.map((r) => r.url), page.url()];
  assert.deepEqual(urls.filter(leaks), [], 'no URL holds the key');
  const carried = mock.requests.filter((r) => JSON.stringify(r.headers).includes(KEY) || r.body.includes(KEY));
  assert.deepEqual(carried, mock.posts(), 'every POST to the endpoint carried the key (and nothing else did)');
  assert.ok(carried.length >= 3);
  for (const r of carried) assert.ok(r.method === 'POST' && r.headers.authorization === `Bearer ${KEY}` && !r.body.includes(KEY), 'the key travels in the header only');
  const foreign = requests.filter((r) => !r.url().startsWith(web.origin) && !r.url().startsWith(mock.origin));
  assert.deepEqual(foreign.map((r) => r.url()), [], 'the widget talks to nothing but the site and the endpoint');
  assert.equal(await page.evaluate((k) => document.documentElement.outerHTML.includes(k) || document.querySelector('docent-ask').shadowRoot.innerHTML.includes(k), KEY), false, 'the key is not in the DOM');
  const scan = await page.evaluate(findInStorage, KEY);
  assert.deepEqual(scan.hits, [], 'not remembered: the key is in no storage');
  assert.ok(scan.inventory.cached >= 3, `the scan read the model cache: ${JSON.stringify(scan.inventory)}`);

  await page.check('docent-ask >> #docent-ask-remember');
  assert.deepEqual((await page.evaluate(findInStorage, KEY)).hits, ['localStorage[docent-ask-api-key-openai]']);
  await page.reload();
  await page.focus('docent-ask >> [data-testid="question"]');
  mock.enqueue({ answer: ['Remembered [1].'] });
  assert.equal((await askWidget(page, 'What does error code E-03 over-temperature mean?')).answer, 'Remembered [1].');
  assert.equal(mock.posts().at(-1).headers.authorization, `Bearer ${KEY}`, 'the remembered key is used after a reload');
  await openSettings(page);
  await page.uncheck('docent-ask >> #docent-ask-remember');
  assert.deepEqual((await page.evaluate(findInStorage, KEY)).hits, [], 'unticking forgets it');
  assert.deepEqual(seen.console.filter((m) => leaks(m.text)), []);
  await assertClean(page, seen, /status of 401/, /ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET/);
  await context.close();
});

test('<docent-ask> network faults: slow first byte, stall, malformed SSE, duplicate [DONE], 429 once and twice, reset; the next question answers after each', { timeout: 3 * WAIT_MS }, async () => {
  const { page, seen } = await openWidget('/alarms.html');
  mock.reset();
  const Q = 'What does error code E-03 over-temperature mean?';
  const timed = async (label) => {
    const t0 = Date.now();
    const r = await askWidget(page, Q);
    return { ...r, ms: Date.now() - t0, label };
  };
  const usable = async (label) => {
    mock.enqueue({ answer: ['Fine ', 'again [1].'] });
    const r = await askWidget(page, Q);
    assert.equal(r.answer, 'Fine again [1].', `after ${label}: the next question answers (${r.status})`);
    assert.deepEqual([r.status, r.error], ['', false], `after ${label}: no stale message`);
  };

  mock.enqueue({ firstByteDelayMs: 4000, answer: ['too late'] });
  let r = await timed('slow first byte');
  assert.equal(r.error, true);
  assert.match(r.status, /: no response within 1 s \(firstByteTimeoutMs\): the model may be loading or overloaded; try again or raise the timeout$/);
  assert.equal(r.answer, '');
  assert.ok(r.ms >= 900 && r.ms < 3500, `gave up after timeout="1", took ${r.ms} ms`);
  await usable(r.label);

  mock.enqueue({ chunks: [textEvent('Partial answer [1]')], then: 'stall' });
  r = await timed('stalled stream');
  assert.equal(r.answer, 'Partial answer [1]', 'the partial answer is kept');
  assert.match(r.status, /: the stream stalled: no data for 1 s \(stallTimeoutMs\) after 18 characters of answer; try again or raise the timeout\. The answer above is incomplete\.$/);
  await usable(r.label);

  mock.enqueue({ chunks: [textEvent('Good '), 'data: {"choices":[{"delta":\n\n', 'data: <html>\n\n', ': a comment\n\n', 'event: odd\ndata: [1,2\n\n', 'nonsense line\n\n', textEvent('answer [1].'), 'data: [DONE]\n\n'] });
  r = await timed('malformed SSE lines');
  assert.deepEqual([r.answer, r.error], ['Good answer [1].', false], r.status);
  await usable(r.label);

  mock.enqueue({ chunks: [textEvent('Once [1].'), 'data: [DONE]\n\n', 'data: [DONE]\n\n', textEvent(' ignored'), 'data: [DONE]\n\n'] });
  r = await timed('duplicate [DONE]');
  assert.deepEqual([r.answer, r.error], ['Once [1].', false], r.status);
  await usable(r.label);

  let before = mock.posts().length;
  mock.enqueue({ status: 429, headers: { 'retry-after': '1' }, json: { error: { message: 'slow down' } } }, { answer: ['After the wait [1].'] });
  r = await timed('429 once');
  assert.deepEqual([r.answer, r.error], ['After the wait [1].', false], r.status);
  assert.ok(r.ms >= 1000, `Retry-After: 1 was honoured (${r.ms} ms)`);
  assert.equal(mock.posts().length - before, 2);
  await usable(r.label);

  before = mock.posts().length;
  mock.enqueue(
    { status: 429, headers: { 'retry-after': '1' }, json: { error: { message: 'slow down' } } },
    { status: 429, headers: { 'retry-after': '1' }, json: { error: { message: 'still too fast' } } },
  );
  r = await timed('429 twice');
  assert.equal(r.error, true);
  assert.match(r.status, /: rate limited \(HTTP 429\) again after waiting 1 s: try again in 1 s; the provider says: still too fast$/);
  assert.equal(mock.posts().length - before, 2, 'one retry, no more');
  await usable(r.label);

  // Chromium retries a POST once when a reused connection is reset before any response: the
  // second reset reaches the page.
  mock.enqueue({ reset: true }, { reset: true });
  r = await timed('connection reset');
  mock.queue.length = 0; // the second reset, when the first connection was fresh and not retried
  assert.equal(r.error, true);
  assert.match(r.status, /could not complete the request to http:\/\/127\.0\.0\.1:\d+ \(Failed to fetch\).*may also be a network failure/);
  await usable(r.label);

  await assertClean(page, seen, /status of 429/, /ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET/);
  await page.context().close();
});
