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
/** A's index as an older `docent index` wrote it: manifest.json without fragments, no fragments/. */
let siteOld;
/** A's pages indexed with ranged text packs (`--ranges always`, the layout of large sites). */
let siteRanged;
let rangedManifest;
let web;
let browser;
/** The mount of the site: its folder is swapped to simulate a re-deploy. */
const siteMount = ['/site/', ''];
let manifest;

function indexSite(cli, site, extra = []) {
  execFileSync(cli, ['index', site, '--out', join(site, 'docent'), '--base-url', '/site/', '--assets', join(root, 'pkg'), ...extra], {
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
  await writeFile(join(siteB, page), html.replace('</main>', '<p>The lighthouse keeper rings the brass bell at dusk.</p></main>'));
  indexSite(cli, siteB);
  // A deploy that uploads the new build only: B keeps no fragment of A that its manifest does not name.
  const named = JSON.stringify(JSON.parse(await readFile(join(siteB, 'docent/manifest.json'), 'utf8')).fragments ?? {});
  for (const f of await readdir(join(siteB, 'docent/fragments')).catch(() => [])) {
    if (!named.includes(f)) await rm(join(siteB, 'docent/fragments', f));
  }
  manifest = JSON.parse(await readFile(join(siteA, 'docent/manifest.json'), 'utf8'));

  siteOld = join(tmp, 'old');
  await cp(siteA, siteOld, { recursive: true });
  await rm(join(siteOld, 'docent/fragments'), { recursive: true, force: true });
  const { fragments: _, ...older } = JSON.parse(await readFile(join(siteOld, 'docent/manifest.json'), 'utf8'));
  await writeFile(join(siteOld, 'docent/manifest.json'), JSON.stringify(older, null, 2));

  siteRanged = join(tmp, 'ranged');
  await cp(siteA, siteRanged, { recursive: true });
  await rm(join(siteRanged, 'docent'), { recursive: true, force: true });
  indexSite(cli, siteRanged, ['--ranges', 'always']);
  rangedManifest = JSON.parse(await readFile(join(siteRanged, 'docent/manifest.json'), 'utf8'));

  siteMount[1] = siteA;
  web = await startFaultServer([siteMount, ['/ranged/', siteRanged], ['/old/', siteOld], ['/', root]]);
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
async function openWidget(attrs = {}, { saveData = false, index = '/site/docent/' } = {}) {
  const context = await browser.newContext();
  if (saveData) {
    await context.addInitScript(() => Object.defineProperty(navigator, 'connection', { value: { saveData: true, effectiveType: '4g' } }));
  }
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  web.clearLog();
  await page.goto(`${web.origin}/tests/browser/widget.html?index=${encodeURIComponent(index)}&attrs=${encodeURIComponent(JSON.stringify(attrs))}`, { timeout: WAIT_MS });
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

/** The requests for an index folder (what a site's reader pays; not the test page). */
const site = (log) => log.filter((e) => /^\/(site|old|ranged)\/docent\//.test(e.path));
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
const line = (s) => `${s.requests} requests, ${kb(s.wire)} on the wire (${kb(s.bytes)} of files)`;
/** Paths served whole (200) more than once. */
const twice = (log) => {
  const n = new Map();
  for (const e of log) if (e.status === 200) n.set(e.path, (n.get(e.path) ?? 0) + 1);
  return [...n].filter(([, c]) => c > 1).map(([p, c]) => `${p} ×${c}`);
};

test('first answer by keyword search with no model; the embedder loads after it; the second answer is hybrid; nothing is fetched twice', { timeout: 5 * WAIT_MS }, async () => {
  needFragments();
  const { context, page, problems } = await openWidget();
  try {
    await page.waitForTimeout(200);
    const early = web.log.filter((e) => /\.(wasm|bin|int8)$|tokenizer\.json|manifest\.json|\/fragments\//.test(e.path)).map((e) => e.path);
    assert.deepEqual(early, [], 'no index, module or model is fetched before the reader focuses the box');
    await page.focus('docent-ask >> [data-testid="question"]');
    const first = await ask(page, Q1);
    // What was requested until the answer was there (the embedder starts right after it).
    const answeredAt = await page.evaluate(() => window.docentEvents.find((e) => e.type === 'docent-answer').at);
    const firstLog = web.log.filter((e) => e.at <= answeredAt);
    const toFirst = summarize(site(firstLog));
    assert.equal(first.error, false, first.status);
    assert.ok(first.answer.length > 40 && first.sources >= 1, JSON.stringify(first));
    assert.equal(first.note, 'keyword search');
    const heavy = firstLog.filter((e) => /\/model\/|docent_wasm_bg\.wasm$|index\.bin$|docent_wasm\.js$/.test(e.path)).map((e) => e.path);
    assert.deepEqual(heavy, [], 'the first answer needs no model, no full module, no index.bin');
    assert.ok(firstLog.some((e) => e.path.includes('/fragments/lex-')) && firstLog.some((e) => e.path.includes('/fragments/txt-')), firstLog.map((e) => e.path).join(' '));
    assert.ok(manifest.fragments.dense, 'the demo index (MiniLM) has dense fragments');
    const embedder = await waitForEmbedder(page);
    assert.deepEqual(embedder.map((e) => e.state), ['loading', 'ready'], JSON.stringify(embedder));
    const beforeSecond = web.log.length;
    const second = await ask(page, Q2);
    const toSecond = summarize(site(web.log));
    const secondOnly = summarize(site(web.log.slice(beforeSecond)));
    assert.equal(second.error, false, second.status);
    assert.ok(second.sources >= 1, JSON.stringify(second));
    assert.equal(second.note, 'keyword + semantic search');
    assert.deepEqual(twice(web.log), [], 'no file is downloaded twice (page and worker share, fragments are kept)');
    const answers = await page.evaluate(() => window.docentEvents.filter((e) => e.type === 'docent-answer').map((e) => e.detail.search));
    assert.deepEqual(answers, ['keyword', 'hybrid']);
    console.log(`widget (fragmented): to the first answer ${line(toFirst)}; by kind ${JSON.stringify(toFirst.by)}`);
    console.log(`widget (fragmented): to the second answer ${line(toSecond)}, by kind ${JSON.stringify(toSecond.by)}; the second question alone ${line(secondOnly)}`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('search as you type on the demo site: typing a question fetches only lexical fragments, each once, and prints what typing and then asking cost', { timeout: 3 * WAIT_MS }, async () => {
  needFragments();
  const { context, page, problems } = await openWidget({ embed: 'never' });
  try {
    await page.focus('docent-ask >> [data-testid="question"]');
    await page.waitForFunction(() => window.docentEvents.some((e) => e.type === 'docent-ready'), null, { timeout: WAIT_MS });
    const start = web.log.length;
    // Typed as a reader types (with pauses that let the debounced searches run).
    for (const word of Q1.split(' ')) {
      await page.keyboard.type(`${word} `, { delay: 30 });
      await page.waitForTimeout(250);
    }
    await page.waitForFunction(() => {
      const list = document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="results"]');
      return !list.hidden && list.children.length > 0;
    }, null, { timeout: WAIT_MS });
    const typing = web.log.slice(start);
    const other = typing.filter((e) => !/^\/site\/docent\/fragments\/(lex|txt|cmn)-[0-9a-f]+\.bin$/.test(e.path)).map((e) => e.path);
    assert.deepEqual(other, [], 'typing fetches lexical fragments only');
    assert.deepEqual(twice(typing), [], 'no fragment twice');
    const beforeAsk = web.log.length;
    await page.keyboard.press('Enter');
    const r = await idle(page);
    assert.equal(r.error, false, r.status);
    assert.ok(r.answer.length > 40, JSON.stringify(r));
    const asking = web.log.slice(beforeAsk);
    assert.deepEqual(twice([...typing, ...asking]), [], 'asking fetches nothing typing already fetched');
    console.log(`widget (search as you type): typing Q1 word by word ${line(summarize(site(typing)))}; then Enter ${line(summarize(site(asking)))}`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a folder without fragments (older docent index output) is loaded whole, as before, and answers by keyword + semantic search', { timeout: 3 * WAIT_MS }, async () => {
  const { context, page, problems } = await openWidget({}, { index: '/old/docent/' });
  try {
    await page.focus('docent-ask >> [data-testid="question"]');
    const first = await ask(page, Q1);
    const toFirst = summarize(site(web.log));
    assert.equal(first.error, false, first.status);
    assert.ok(first.answer.length > 40 && first.sources >= 1, JSON.stringify(first));
    assert.equal(first.note, 'keyword + semantic search');
    assert.ok(web.log.some((e) => e.path === '/old/docent/index.bin' && e.status === 200), 'index.bin is loaded');
    const beforeSecond = web.log.length;
    const second = await ask(page, Q2);
    assert.equal(second.error, false, second.status);
    const secondOnly = summarize(site(web.log.slice(beforeSecond)));
    assert.equal(secondOnly.requests, 0, 'the second question needs nothing more');
    assert.deepEqual(twice(web.log), []);
    console.log(`widget (whole index): to the first answer ${line(toFirst)}; by kind ${JSON.stringify(toFirst.by)}; the second question alone ${line(secondOnly)}`);
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

test('a question naming a term no page contains is answered "do not mention" by keyword search, without waiting for the model', { timeout: 3 * WAIT_MS }, async () => {
  needFragments();
  assert.ok(manifest.fragments.gate, 'the demo index has a calibrated gate (the missing-term rule needs it)');
  const { context, page, problems } = await openWidget({ embed: 'answer' });
  try {
    await page.focus('docent-ask >> [data-testid="question"]');
    const r = await ask(page, 'How do I connect docent to a MongoDB database?');
    const answeredAt = await page.evaluate(() => window.docentEvents.find((e) => e.type === 'docent-answer').at);
    assert.equal(r.error, false, r.status);
    assert.match(r.answer, /do not mention .*MongoDB/i, JSON.stringify(r));
    assert.equal(r.note, 'keyword search');
    const before = web.log.filter((e) => e.at <= answeredAt && /\/model\/|docent_wasm_bg\.wasm$|\/fragments\/(ivf|vec)-/.test(e.path));
    assert.deepEqual(before.map((e) => e.path), [], 'no model, full module or vectors before this answer');
    assert.deepEqual(problems, []);
  } finally {
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

/**
 * Injects fault case `c` on `paths`, asks Q1 through the widget on the index at `index`, and
 * checks one sentence naming the file, a Retry, no partial answer, and an answer after Retry once
 * the fault is cleared.
 */
async function checkFault(c, paths, index) {
  const what = `${c.kind} on ${c.on} (${index})`;
  const { context, page, problems } = await openWidget({ 'index-timeout': '1', embed: 'never' }, { index });
  try {
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
    const unexpected = problems.filter((p) => !/status of (404|416)|ERR_|net::/.test(p));
    assert.deepEqual(unexpected, [], what);
  } finally {
    web.clearFaults();
    await context.close();
  }
}

test('faults: a missing, truncated, corrupted, other build\'s or hanging fragment, and a missing manifest: one sentence, Retry answers once the fault is gone', { timeout: 6 * WAIT_MS }, async () => {
  needFragments();
  for (const c of FAULT_CASES) {
    const paths = c.on === 'manifest' ? ['/site/docent/manifest.json'] : fragmentPaths(c.on);
    await checkFault(c, paths, '/site/docent/');
  }
});

/** Faults on ranged text packs: the file cut short (its later records out of reach: 416, or
 * fewer bytes), missing, another build's bytes, no answer. */
const RANGED_FAULT_CASES = [
  { kind: '404', on: 'txt', message: /txt-[0-9a-f]{16}\.bin.*404/ },
  { kind: 'truncate', on: 'txt', message: /txt-[0-9a-f]{16}\.bin.*(416|bytes|damaged)/ },
  // Records are read at the places the postings give: another build's (shorter) pack may not
  // reach them, and the server refuses the range (416) before any check can.
  { kind: 'stale', on: 'txt', message: /txt-[0-9a-f]{16}\.bin.*(different builds|does not match|416)/ },
  { kind: 'hang', on: 'txt', message: /txt-[0-9a-f]{16}\.bin.*(1 s|timed? ?out)/i },
];

test('ranged text packs and IVF partitions (the layout of large sites): the answer of whole packs from a few byte ranges, a hybrid answer from sign codes and a few rows; a missing, truncated, other build\'s or hanging pack: one sentence and Retry', { timeout: 6 * WAIT_MS }, async () => {
  needFragments();
  assert.equal(rangedManifest.fragments.text.ranged, true, 'docent index --ranges always wrote ranged packs');
  assert.notEqual(manifest.fragments.text.ranged, true, 'the small site keeps whole packs by default');
  const whole = await openWidget({ embed: 'never' });
  await whole.page.focus('docent-ask >> [data-testid="question"]');
  const a = await ask(whole.page, Q1);
  await whole.context.close();
  const { context, page, problems } = await openWidget({ embed: 'never' }, { index: '/ranged/docent/' });
  try {
    await page.focus('docent-ask >> [data-testid="question"]');
    const b = await ask(page, Q1);
    assert.equal(b.error, false, b.status);
    assert.equal(b.answer, a.answer, 'the same answer from ranged packs');
    assert.equal(b.sources, a.sources);
    const txt = web.log.filter((e) => e.path.startsWith('/ranged/docent/fragments/txt-'));
    assert.ok(txt.length >= 2 && txt.every((e) => e.status === 206), JSON.stringify(txt));
    const packs = rangedManifest.fragments.text.bytes.reduce((n, x) => n + x, 0);
    const wire = txt.reduce((n, e) => n + e.wire, 0);
    assert.ok(wire * 10 < packs, `${kb(wire)} of text read from ${kb(packs)} of packs`);
    console.log(`widget (ranged text packs): the first answer read ${txt.length} byte ranges, ${kb(wire)} of ${kb(packs)} of packs`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
  // The hybrid path over ranged IVF partitions: the directory whole, then sign codes and a few
  // int8 rows by byte ranges, checked inside the wasm module.
  const dense = rangedManifest.fragments.dense;
  assert.equal(dense?.ranged, true, 'docent index --ranges always wrote ranged IVF partitions');
  // Version 5: the ranged term shards and fine rows carry their records' places.
  assert.equal(rangedManifest.fragments.version, 5);
  {
    const { context, page, problems } = await openWidget({ embed: 'focus' }, { index: '/ranged/docent/' });
    try {
      await page.focus('docent-ask >> [data-testid="question"]');
      const states = await waitForEmbedder(page);
      assert.deepEqual(states.map((e) => e.state), ['loading', 'ready'], JSON.stringify(states));
      const before = web.log.length;
      const r = await ask(page, Q2);
      assert.equal(r.error, false, r.status);
      assert.equal(r.note, 'keyword + semantic search');
      assert.ok(r.sources >= 1, JSON.stringify(r));
      const log = web.log.slice(before);
      const vec = log.filter((e) => e.path.startsWith('/ranged/docent/fragments/vec-'));
      assert.ok(vec.length >= 2 && vec.every((e) => e.status === 206), JSON.stringify(vec));
      assert.ok(log.some((e) => e.path === `/ranged/docent/${dense.centroids}` && e.status === 200), 'the IVF directory is fetched whole');
      const wire = vec.reduce((n, e) => n + e.wire, 0);
      const files = dense.bytes.reduce((n, x) => n + x, 0);
      assert.ok(wire * 2 < files, `${kb(wire)} of ${kb(files)} of partitions`);
      console.log(`widget (ranged IVF partitions): a hybrid question read ${vec.length} byte ranges, ${kb(wire)} of ${kb(files)} of partitions`);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  }
  const paths = rangedManifest.fragments.text.files.map((p) => `/ranged/docent/${p}`);
  for (const c of RANGED_FAULT_CASES) await checkFault(c, paths, '/ranged/docent/');
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
    const r = await ask(page, 'When does the lighthouse keeper ring the brass bell?');
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
