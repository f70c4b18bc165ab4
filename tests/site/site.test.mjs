// Static-site embedding end to end: the fixture site (tests/fixtures/site, a kiln controller's
// docs) gets one <script> and one <docent-ask> tag per page, is indexed by the native CLI into
// its own docent/ folder (index, model, wasm, widget: the whole deployment), served by a plain
// static file server on 127.0.0.1, and driven in Debian Chromium via playwright-core. The mock
// LLM server stands in for an OpenAI-compatible proxy. Any console or page error fails a test.
// Needs: ./build.sh wasm (pkg/), ./build.sh setup (CLI, models/), Chromium, playwright-core in
// tests/browser/node_modules (./build.sh test does all).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { need, startStaticServer } from '../support/static-server.mjs';
import { startMockLlm } from '../support/mock-llm.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.DOCENT_CHROMIUM ?? '/usr/bin/chromium';
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
  const out = execFileSync(cli, ['index', site, '--out', join(site, 'docent'), '--assets', join(root, 'pkg'), '--json'], {
    env: { ...process.env, DOCENT_MODEL_DIR: join(root, 'models'), DOCENT_API_KEY: 'sk-never-in-the-site-3141' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 3 * WAIT_MS,
  });
  summary = JSON.parse(out.toString());
  web = await startStaticServer([['/', site]]);
  const { chromium } = await import(join(root, 'tests/browser/node_modules/playwright-core/index.mjs'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: WAIT_MS,
  });
});

after(async () => {
  await browser?.close();
  if (web) {
    const closed = new Promise((resolve) => web.server.close(resolve));
    web.server.closeAllConnections();
    await closed;
  }
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
  const forbidden = [tmp, root.replace(/\/$/, ''), process.env.HOME, 'sk-never-in-the-site-3141'].filter((s) => s && s.length > 1);
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
