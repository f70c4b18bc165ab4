// <docent-ask> on a fragmented site index in Chromium: the first answer by keyword search without
// any model, the embedder loaded in the background (embed="answer" | "focus" | "never", never
// with saveData), later answers by keyword + semantic search, nothing fetched twice; and the
// faults a static host can cause (a missing, truncated, corrupted, other build's or hanging
// fragment or manifest, a re-deploy under a reader's feet): one sentence and a Retry that answers
// once the fault is gone. The site is the demo's (docs/ rendered by examples/demo_site and
// indexed by the CLI, as `./build.sh demo` does), served by tests/support/fault-server.mjs with
// gzip; the test prints the requests and gzip bytes to the first and second answer.
// Needs what tests/browser/browser.test.mjs needs, plus `cargo build --example demo_site`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { need } from '../support/static-server.mjs';
import { startFaultServer, summarize } from '../support/fault-server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 60_000;
const Q1 = 'How does docent decide that a question is not covered by the documents?';
const Q2 = 'Which embedders can docent index a site with?';

let tmp;
let siteA;
let siteB;
let web;
let browser;
/** The mount of the site: its folder is swapped to simulate a re-deploy. */
const siteMount = ['/site/', ''];
let manifest;

function indexSite(cli, site) {
  execFileSync(cli, ['index', site, '--out', join(site, 'docent'), '--base-url', '/site/', '--assets', join(root, 'pkg')], {
    env: { ...process.env, DOCENT_MODEL_DIR: join(root, 'models') },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 5 * WAIT_MS,
  });
}

before(async () => {
  need(join(root, 'pkg/docent_wasm_bg.wasm'), 'run ./build.sh wasm first');
  const cli = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  need(cli, 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  const render = process.env.DOCENT_DEMO_SITE_BIN ?? join(root, 'target/debug/examples/demo_site');
  need(render, 'run cargo build --example demo_site (./build.sh test does) or set DOCENT_DEMO_SITE_BIN');
  for (const f of ['minilm.int8', 'tokenizer.json', 'config.json']) need(join(root, 'models', f), 'run ./build.sh setup (prepares models/)');

  tmp = await mkdtemp(join(tmpdir(), 'docent-widget-test-'));
  siteA = join(tmp, 'a');
  const docs = (await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f));
  execFileSync(render, [siteA, ...docs, join(root, 'README.md'), join(root, 'ARCHITECTURE.md')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: WAIT_MS });
  indexSite(cli, siteA);
  // Build B: the same site after an edit of one page, re-indexed in a copy (a re-deploy).
  siteB = join(tmp, 'b');
  await cp(siteA, siteB, { recursive: true });
  const page = (await readdir(siteB)).find((f) => f.endsWith('.html') && f !== 'index.html');
  const html = await readFile(join(siteB, page), 'utf8');
  await writeFile(join(siteB, page), html.replace('</main>', '<p>A paragraph added by the second deploy about lighthouse keepers.</p></main>'));
  indexSite(cli, siteB);
  // A deploy that uploads the new build only: B keeps no fragment of A that its manifest does not name.
  const named = JSON.stringify(JSON.parse(await readFile(join(siteB, 'docent/manifest.json'), 'utf8')).fragments ?? {});
  for (const f of await readdir(join(siteB, 'docent/fragments')).catch(() => [])) {
    if (!named.includes(f)) await rm(join(siteB, 'docent/fragments', f));
  }
  manifest = JSON.parse(await readFile(join(siteA, 'docent/manifest.json'), 'utf8'));

  siteMount[1] = siteA;
  web = await startFaultServer([siteMount, ['/', root]]);
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await web?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function needFragments() {
  assert.ok(manifest.fragments, 'docent index wrote no fragments (manifest.json has no "fragments"): the fragmented path cannot be tested');
}

/** Fragment paths of `kind` (lex, txt, ivf, vec) as the server sees them. */
function fragmentPaths(kind) {
  const f = manifest.fragments;
  const files = { lex: f.lexical.files, txt: f.text.files, vec: f.dense?.files ?? [], ivf: f.dense ? [f.dense.centroids] : [] }[kind];
  return files.map((p) => `/site/docent/${p}`);
}

/** A fresh context and page with the widget (attributes `attrs`); console errors are collected. */
async function openWidget(attrs = {}, { saveData = false } = {}) {
  const context = await browser.newContext();
  if (saveData) {
    await context.addInitScript(() => Object.defineProperty(navigator, 'connection', { value: { saveData: true, effectiveType: '4g' } }));
  }
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  web.clearLog();
  await page.goto(`${web.origin}/tests/browser/widget.html?attrs=${encodeURIComponent(JSON.stringify(attrs))}`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.widgetAdded === true, null, { timeout: WAIT_MS });
  return { context, page, problems };
}

/** Asks through the widget; waits until it is idle (answered, abstained or failed). */
async function ask(page, question) {
  await page.evaluate(() => {
    document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="status"]').textContent = '(test: asking)';
  });
  await page.fill('docent-ask >> [data-testid="question"]', question);
  await page.click('docent-ask >> [data-testid="ask"]');
  return idle(page);
}

async function idle(page) {
  await page.waitForFunction(() => {
    const s = document.querySelector('docent-ask').shadowRoot;
    const status = s.querySelector('[data-testid="status"]').textContent;
    return s.querySelector('[part="stop"]').hidden && !['(test: asking)', 'Searching…', 'Answering…', 'Ready.', 'Loading…'].includes(status) && !status.startsWith('Loading');
  }, null, { timeout: WAIT_MS });
  return page.evaluate(() => {
    const s = document.querySelector('docent-ask').shadowRoot;
    const status = s.querySelector('[data-testid="status"]');
    return {
      status: status.textContent,
      error: status.classList.contains('error'),
      retry: !s.querySelector('[data-testid="retry"]').hidden,
      answer: s.querySelector('[data-testid="answer"]').textContent,
      note: s.querySelector('[data-testid="search-note"]').textContent,
      sources: [...s.querySelectorAll('[data-testid="sources"] li')].length,
    };
  });
}

function waitForEmbedder(page) {
  return page.waitForFunction(() => window.docentEvents.some((e) => e.type === 'docent-embedder' && e.detail.state !== 'loading'), null, { timeout: 3 * WAIT_MS })
    .then(() => page.evaluate(() => window.docentEvents.filter((e) => e.type === 'docent-embedder').map((e) => e.detail)));
}

const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
const line = (s) => `${s.requests} requests, ${kb(s.wire)} on the wire (${kb(s.bytes)} of files)`;
/** Paths served whole (200) more than once. */
const twice = (log) => {
  const n = new Map();
  for (const e of log) if (e.status === 200) n.set(e.path, (n.get(e.path) ?? 0) + 1);
  return [...n].filter(([, c]) => c > 1).map(([p, c]) => `${p} ×${c}`);
};

test('first answer by keyword search with no model; the embedder loads after it; the second answer is hybrid; nothing is fetched twice', { timeout: 5 * WAIT_MS }, async () => {
  const { context, page, problems } = await openWidget();
  try {
    await page.waitForTimeout(200);
    const early = web.log.filter((e) => /\.(wasm|bin|int8)$|tokenizer\.json|manifest\.json|\/fragments\//.test(e.path)).map((e) => e.path);
    assert.deepEqual(early, [], 'no index, module or model is fetched before the reader focuses the box');
    await page.focus('docent-ask >> [data-testid="question"]');
    const first = await ask(page, Q1);
    const toFirst = summarize(web.log);
    const firstLog = [...web.log];
    assert.equal(first.error, false, first.status);
    assert.ok(first.answer.length > 40 && first.sources >= 1, JSON.stringify(first));
    if (manifest.fragments) {
      assert.equal(first.note, 'keyword search');
      const heavy = firstLog.filter((e) => /\/model\/|docent_wasm_bg\.wasm$|index\.bin$/.test(e.path)).map((e) => e.path);
      assert.deepEqual(heavy, [], 'the first answer needs no model, no full module, no index.bin');
      assert.ok(firstLog.some((e) => e.path.includes('/fragments/lex-')) && firstLog.some((e) => e.path.includes('/fragments/txt-')), firstLog.map((e) => e.path).join(' '));
    } else {
      assert.equal(first.note, 'keyword + semantic search', 'a folder without fragments loads the whole index (hybrid)');
    }
    let embedder = [];
    if (manifest.fragments?.dense) {
      embedder = await waitForEmbedder(page);
      assert.deepEqual(embedder.map((e) => e.state), ['loading', 'ready'], JSON.stringify(embedder));
    }
    const beforeSecond = web.log.length;
    const second = await ask(page, Q2);
    const toSecond = summarize(web.log);
    const secondOnly = summarize(web.log.slice(beforeSecond));
    assert.equal(second.error, false, second.status);
    assert.ok(second.sources >= 1, JSON.stringify(second));
    assert.equal(second.note, manifest.fragments && !manifest.fragments.dense ? 'keyword search' : 'keyword + semantic search');
    assert.deepEqual(twice(web.log), [], 'no file is downloaded twice (page and worker share, fragments are kept)');
    const answers = await page.evaluate(() => window.docentEvents.filter((e) => e.type === 'docent-answer').map((e) => e.detail.search));
    assert.deepEqual(answers, [manifest.fragments ? 'keyword' : 'hybrid', manifest.fragments && !manifest.fragments.dense ? 'keyword' : 'hybrid']);
    const path = manifest.fragments ? 'fragmented' : 'whole index';
    console.log(`widget (${path}): to the first answer ${line(toFirst)}; by kind ${JSON.stringify(toFirst.by)}`);
    console.log(`widget (${path}): to the second answer ${line(toSecond)}; the second question alone ${line(secondOnly)}`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('embed="never", embed="focus" and saveData: the embedder loads only when and where it should', { timeout: 4 * WAIT_MS }, async () => {
  needFragments();
  const models = () => web.log.filter((e) => /\/model\/|docent_wasm_bg\.wasm$/.test(e.path)).map((e) => e.path);
  {
    const { context, page, problems } = await openWidget({ embed: 'never' });
    await page.focus('docent-ask >> [data-testid="question"]');
    assert.equal((await ask(page, Q1)).note, 'keyword search');
    assert.equal((await ask(page, Q2)).note, 'keyword search');
    await page.waitForTimeout(300);
    assert.deepEqual(models(), [], 'embed="never" loads no model');
    assert.deepEqual(problems, []);
    await context.close();
  }
  if (manifest.fragments.dense) {
    const { context, page, problems } = await openWidget({ embed: 'focus' });
    await page.focus('docent-ask >> [data-testid="question"]');
    const states = await waitForEmbedder(page);
    assert.deepEqual(states.map((e) => e.state), ['loading', 'ready'], 'embed="focus" loads it before any question');
    assert.ok(models().length >= 2, models().join(' '));
    assert.equal((await ask(page, Q1)).note, 'keyword + semantic search');
    assert.deepEqual(problems, []);
    await context.close();
  }
  {
    const { context, page, problems } = await openWidget({ embed: 'focus' }, { saveData: true });
    await page.focus('docent-ask >> [data-testid="question"]');
    assert.equal((await ask(page, Q1)).note, 'keyword search');
    assert.equal((await ask(page, Q2)).note, 'keyword search');
    await page.waitForTimeout(300);
    assert.deepEqual(models(), [], 'a reader who asks to save data downloads no model');
    assert.deepEqual(problems, []);
    await context.close();
  }
});

/**
 * Each fault on the fragments a keyword question needs (every lexical shard, or every text pack),
 * and on the manifest: the message it must produce. `hang` is the slow fragment (index-timeout="1").
 */
const FAULT_CASES = [
  { kind: '404', on: 'lex', message: /lex-[0-9a-f]{16}\.bin.*404/ },
  { kind: 'truncate', on: 'txt', message: /txt-[0-9a-f]{16}\.bin.*(bytes|does not match|damaged)/ },
  { kind: 'corrupt', on: 'lex', message: /lex-[0-9a-f]{16}\.bin.*(does not match|damaged)/ },
  { kind: 'stale', on: 'txt', message: /txt-[0-9a-f]{16}\.bin.*(different builds|another build|does not match)/ },
  { kind: 'hang', on: 'lex', message: /lex-[0-9a-f]{16}\.bin.*(1 s|1000 ms|timed? ?out|timeout)/i },
  { kind: '404', on: 'manifest', message: /manifest\.json.*404/ },
];

test('faults: a missing, truncated, corrupted, other build\'s or hanging fragment, and a missing manifest: one sentence, Retry answers once the fault is gone', { timeout: 6 * WAIT_MS }, async () => {
  needFragments();
  for (const c of FAULT_CASES) {
    const what = `${c.kind} on ${c.on}`;
    const { context, page, problems } = await openWidget({ 'index-timeout': '1', embed: 'never' });
    try {
      const paths = c.on === 'manifest' ? ['/site/docent/manifest.json'] : fragmentPaths(c.on);
      for (const p of paths) web.fault(p, c.kind, { from: join(siteB, 'docent') });
      await page.focus('docent-ask >> [data-testid="question"]');
      const t0 = Date.now();
      const r = await ask(page, Q1);
      const ms = Date.now() - t0;
      assert.equal(r.error, true, `${what}: ${JSON.stringify(r)}`);
      assert.match(r.status, /^Could not load the search index: /, what);
      assert.match(r.status, c.message, what);
      assert.match(r.status, /[.!?…]$/, `${what}: one sentence`);
      assert.equal(r.status.split(/[.!?…]\s+(?=[A-Z])/).length, 1, `${what}: one sentence: ${r.status}`);
      assert.equal(r.retry, true, `${what}: Retry is offered`);
      assert.equal(r.answer, '', `${what}: no answer from a partial index`);
      assert.equal(r.sources, 0, what);
      if (c.kind === 'hang') assert.ok(ms >= 900 && ms < 8000, `${what}: gave up after index-timeout="1": ${ms} ms`);

      web.clearFaults();
      await page.click('docent-ask >> [data-testid="retry"]');
      const again = await idle(page);
      assert.equal(again.error, false, `${what}: after Retry: ${again.status}`);
      assert.ok(again.answer.length > 40 && again.sources >= 1, `${what}: Retry answers: ${JSON.stringify(again)}`);
      assert.equal(again.retry, false, `${what}: Retry is hidden again`);
      // Chromium logs a failed resource load itself; nothing else may reach the console.
      const unexpected = problems.filter((p) => !/status of 404|ERR_|net::/.test(p));
      assert.deepEqual(unexpected, [], what);
    } finally {
      web.clearFaults();
      await context.close();
    }
  }
});

test('a re-deploy under a reading page: the old manifest\'s fragments are gone; the question fails in one sentence and Retry reads the new manifest', { timeout: 3 * WAIT_MS }, async () => {
  needFragments();
  const { context, page, problems } = await openWidget({ embed: 'never' });
  try {
    // The page has read A's manifest (focus), and no fragment yet.
    await page.focus('docent-ask >> [data-testid="question"]');
    await page.waitForFunction(() => window.docentEvents.some((e) => e.type === 'docent-ready'), null, { timeout: WAIT_MS });
    // Deploy B: its folder replaces A's; the shard holding the new word "lighthouse" has a new name.
    siteMount[1] = siteB;
    const r = await ask(page, 'Who keeps the lighthouse according to the second deploy?');
    assert.equal(r.error, true, JSON.stringify(r));
    assert.match(r.status, /^Could not load the search index: .*fragments\/.*404/, r.status);
    assert.equal(r.retry, true);
    assert.equal(r.answer, '', 'nothing is answered from a mix of two builds');
    await page.click('docent-ask >> [data-testid="retry"]');
    const again = await idle(page);
    assert.equal(again.error, false, again.status);
    assert.match(again.answer, /lighthouse/, 'after Retry the new build answers');
    assert.deepEqual(problems.filter((p) => !/status of 404/.test(p)), []);
  } finally {
    siteMount[1] = siteA;
    await context.close();
  }
});
