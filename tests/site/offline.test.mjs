// <docent-ask service-worker> end to end: the fixture site (tests/fixtures/site) with the widget
// and the one-line root service worker a site owner serves (`importScripts('/docent/docent-sw.js')`),
// indexed by the native CLI, served on 127.0.0.1 under the demo's strict Content-Security-Policy
// and driven in Debian Chromium. "Network off" is Chromium's offline emulation *and* the server
// stopped, so that nothing a service worker fetches can reach it either. A second test gives the
// widget a local answer model (provider="local", SmolLM2, served under /models/): the line says
// "ready offline" only once the model is stored; a third has the network drop while the model
// downloads (under /held/, where its file stops coming part way): the line says what the copy
// lacks. Any console or page error fails a test.
// Needs: ./build.sh wasm (pkg/, with pkg/llm/wllama/), ./build.sh setup (CLI, models/, with
// models/llm/), Chromium, playwright-core in tests/browser/node_modules (./build.sh test does all).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { need, startStaticServer } from '../support/static-server.mjs';
import { CSP } from '../../www/serve.mjs';
import { STRINGS } from '../../pkg/ask-strings.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 60_000;
/** The model reads the whole prompt before its first token: minutes on a busy two-core machine. */
const MODEL_WAIT_MS = 300_000;
const MODEL = 'SmolLM2-135M-Instruct.Q4_1.gguf';
/** Bytes of a model under /held/ that arrive before its download stalls. */
const HELD = 8_000_000;
/** A sentence only the re-deployed build has. */
const NEW_FACT = 'The K3 plays a short tune called Zanzibar Lullaby when a firing ends.';

let tmp;
let site;
let web;
let port;
let browser;

/** `docent index` of the site, as a site owner runs it after each edit. */
function index() {
  execFileSync(process.env.DOCENT_BIN ?? join(root, 'target/debug/docent'),
    ['index', site, '--out', join(site, 'docent'), '--assets', join(root, 'pkg'), '--embedder', 'static'], {
      env: { ...process.env, DOCENT_MODEL_DIR: join(root, 'models') },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 3 * WAIT_MS,
    });
}

async function manifest() {
  return JSON.parse(await readFile(join(site, 'docent/manifest.json'), 'utf8'));
}

/** The server up again on the same port (the same origin, so the same service worker and caches). */
function serverUp() {
  return new Promise((resolve, reject) => {
    web.server.once('error', reject);
    web.server.listen(port, '127.0.0.1', resolve);
  });
}

before(async () => {
  need(join(root, 'pkg/docent_search_bg.wasm'), 'run ./build.sh wasm first');
  need(join(root, 'pkg/llm/wllama/wllama.wasm'), 'run ./build.sh wasm (copies wllama into pkg/llm/wllama/)');
  need(join(root, 'models/llm', MODEL), 'run ./build.sh setup (writes models/llm/)');
  need(process.env.DOCENT_BIN ?? join(root, 'target/debug/docent'), 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  tmp = await mkdtemp(join(tmpdir(), 'docent-offline-site-'));
  site = join(tmp, 'public');
  await cp(join(root, 'tests/fixtures/site'), site, { recursive: true });
  // The fixture's inline scripts would break the strict policy the pages are served with.
  for (const f of (await readdir(site, { recursive: true })).filter((f) => f.endsWith('.html'))) {
    await writeFile(join(site, f), (await readFile(join(site, f), 'utf8')).replace(/<script>[^<]*<\/script>/g, ''));
  }
  const html = await readFile(join(site, 'index.html'), 'utf8');
  const tag = '<script type="module" src="/docent/docent-ask.js"></script>\n<docent-ask service-worker="/docent-sw.js" embed="focus"></docent-ask>\n';
  await writeFile(join(site, 'index.html'), html.replace('</body>', `${tag}</body>`));
  // The site's own worker declares names of its own, as a site's may: docent's script must not clash.
  await writeFile(join(site, 'docent-sw.js'), "const CACHE = 'site-v1';\nfunction complete() {}\nimportScripts('/docent/docent-sw.js');\n");
  index();
  // provider="local": `docent index` put llama.cpp's runtime beside the widget.
  for (const f of ['wllama.js', 'wllama.wasm']) need(join(site, 'docent/llm/wllama', f), 'docent index copies llm/wllama/ from pkg/');
  web = await startStaticServer([['/models/', join(root, 'models/llm')], ['/held/', join(root, 'models/llm')], ['/', site]], {
    headers: (path) => (/\.(html|js)$|\/$/.test(path) ? { 'content-security-policy': CSP } : {}),
    // A model under /held/ stops coming after its first HELD bytes: the network dropped mid-download.
    stall: (path) => (path.startsWith('/held/') ? HELD : undefined),
  });
  port = web.server.address().port;
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  if (web?.server.listening) await web.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A page that records every console error and page error (the fixture has no favicon: not ours). */
async function watchPage(context) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  return { page, problems };
}

const saved = (page) => page.evaluate(() => document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="saved"]').textContent);

/** Focuses the box (the widget loads) and waits until its saved-copy line says `text`. */
async function focusAndWaitSaved(page, text) {
  await page.focus('docent-ask >> [data-testid="question"]');
  await page.waitForFunction(
    (want) => document.querySelector('docent-ask')?.shadowRoot.querySelector('[data-testid="saved"]').textContent === want,
    text,
    { timeout: WAIT_MS },
  ).catch(async (e) => {
    throw new Error(`the saved-copy line says ${JSON.stringify(await saved(page))}, expected ${JSON.stringify(text)}: ${e.message}`);
  });
}

async function ask(page, question, { wait = WAIT_MS, meanwhile = async () => {} } = {}) {
  await page.fill('docent-ask >> [data-testid="question"]', question);
  const answered = page.evaluate((ms) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no docent-answer event')), ms);
    document.addEventListener('docent-answer', (e) => {
      clearTimeout(timer);
      resolve(e.detail.search);
    }, { once: true });
  }), wait);
  await page.press('docent-ask >> [data-testid="question"]', 'Enter');
  await meanwhile();
  const search = await answered;
  return page.evaluate((path) => {
    const s = document.querySelector('docent-ask').shadowRoot;
    return {
      path,
      status: s.querySelector('[data-testid="status"]').textContent,
      answer: s.querySelector('[data-testid="answer"]').textContent,
      cites: [...s.querySelectorAll('[data-testid="answer"] .cite')].map((a) => a.href),
    };
  }, search);
}

/** What the origin's caches hold under `prefix` (every cache, the service worker's and the runtime's). */
function cachedUnder(page, prefix) {
  return page.evaluate(async (p) => {
    const urls = new Set();
    for (const name of await caches.keys()) {
      for (const r of await (await caches.open(name)).keys()) if (r.url.startsWith(p)) urls.add(r.url);
    }
    return [...urls].sort();
  }, prefix);
}

/** Network off: Chromium's offline emulation, and the server stopped. */
async function networkOff(context) {
  await context.setOffline(true);
  await web.close();
}

async function networkOn(context) {
  await serverUp();
  await context.setOffline(false);
}

test('<docent-ask service-worker>: after one visit the page opens and answers with the network off; a re-deployed index is noticed and saved in place of the old one', { timeout: 6 * WAIT_MS }, async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const { page, problems } = await watchPage(context);
  const origin = web.origin;
  const v1 = await manifest();

  // One visit: the box focused, the index opened, the embedder loaded (embed="focus"): the copy
  // holds the page, the runtime, every fragment and the model.
  await page.goto(`${origin}/`, { timeout: WAIT_MS });
  const embedderReady = page.evaluate((ms) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the embedder did not load')), ms);
    document.addEventListener('docent-embedder', (e) => {
      if (e.detail.state === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
  }), WAIT_MS);
  await focusAndWaitSaved(page, STRINGS.offlineReady);
  await embedderReady;
  const fragmentsV1 = [...v1.fragments.lexical.files, ...v1.fragments.text.files].map((f) => `${origin}/docent/${f}`);
  const modelFiles = v1.files.filter((f) => f.path.startsWith('model/')).map((f) => `${origin}/docent/${f.path}`);
  assert.ok(modelFiles.length >= 1, 'a static index has model files');
  await page.waitForFunction(async (urls) => {
    for (const u of urls) if (!(await caches.match(u))) return false;
    return true;
  }, [...fragmentsV1, ...modelFiles], { timeout: WAIT_MS, polling: 200 });
  assert.equal(await page.evaluate(() => navigator.serviceWorker.controller !== null), true, 'the service worker controls the page');
  // A question asked online: the pages it cites are kept, so its citations open offline too.
  const online = await ask(page, 'How do I replace the thermocouple?');
  const cited = [...new Set(online.cites.map((h) => { const u = new URL(h); u.hash = ''; return u.href; }))];
  assert.ok(cited.length >= 1, JSON.stringify(online));
  await page.waitForFunction(async (urls) => {
    for (const u of urls) if (!(await caches.match(u))) return false;
    return true;
  }, cited, { timeout: WAIT_MS, polling: 200 });

  // Each model file is stored once: in the runtime's model cache, not again in the worker's.
  await page.waitForFunction(async (urls) => {
    for (const u of urls) {
      let held = 0;
      for (const name of await caches.keys()) if (await (await caches.open(name)).match(u)) held += 1;
      if (held !== 1) return false;
    }
    return true;
  }, modelFiles, { timeout: WAIT_MS, polling: 200 }).catch(async (e) => {
    const where = await page.evaluate(async (urls) => Promise.all(urls.map(async (u) => {
      const names = [];
      for (const name of await caches.keys()) if (await (await caches.open(name)).match(u)) names.push(name);
      return `${u}: ${names.join(', ')}`;
    })), modelFiles);
    assert.fail(`a model file is not stored exactly once (${where.join('; ')}): ${e.message}`);
  });
  // Network off: the page, the widget and its answers come from the saved copy.
  await networkOff(context);
  await page.reload({ timeout: WAIT_MS });
  await focusAndWaitSaved(page, STRINGS.offlineNow);
  const off = await ask(page, 'How do I replace the thermocouple?');
  assert.ok(off.answer.length > 30, JSON.stringify(off));
  assert.ok(off.cites.length >= 1, `no citation: ${JSON.stringify(off)}`);
  assert.match(new URL(off.cites[0]).pathname, /thermocouple/, JSON.stringify(off));
  // Its citation opens the cited section from the saved copy.
  const target = new URL(off.cites[0]);
  await Promise.all([page.waitForURL((u) => u.pathname === target.pathname && u.hash === target.hash, { timeout: WAIT_MS }), page.click('docent-ask >> a.cite')]);
  assert.equal(await page.evaluate(() => document.querySelector(':target')?.id ?? null), decodeURIComponent(target.hash.slice(1)), 'the cited section, offline');
  await page.goto(`${origin}/`, { timeout: WAIT_MS });
  await focusAndWaitSaved(page, STRINGS.offlineNow);

  // A re-deploy: one page edited, the site indexed again.
  const faq = join(site, 'faq.html');
  const before = await readFile(faq, 'utf8');
  const glass = '<h2 id="glass">Can I fuse glass with it?</h2>';
  assert.ok(before.includes(glass), 'the fixture FAQ has its glass section to add one before');
  await writeFile(faq, before.replace(glass, `<h2 id="tune">What tune does it play when a firing ends?</h2>\n    <p>${NEW_FACT}</p>\n    ${glass}`));
  index();
  const v2 = await manifest();
  assert.notEqual(v2.xxh3, v1.xxh3, 'the edit changed the index');
  const named = (m) => new Set([...m.fragments.lexical.files, ...m.fragments.text.files, ...(m.fragments.dense ? [m.fragments.dense.centroids, ...m.fragments.dense.files] : []), ...(m.fragments.common ? [m.fragments.common.file] : [])].map((f) => `${origin}/docent/${f}`));
  const gone = [...named(v1)].filter((u) => !named(v2).has(u));
  assert.ok(gone.length >= 1, 'the re-index replaced some fragments');

  // Back online, the open page notices the new build and asks for a reload; reloaded, the widget
  // saves the new build in place of the old one.
  await networkOn(context);
  await page.waitForFunction((want) => document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="saved"]').textContent === want, STRINGS.offlineChanged, { timeout: WAIT_MS })
    .catch(async (e) => assert.fail(`the saved-copy line says ${JSON.stringify(await saved(page))} once online: ${e.message}`));
  await page.reload({ timeout: WAIT_MS });
  await focusAndWaitSaved(page, STRINGS.offlineUpdated);
  const savedManifest = await page.evaluate(async (u) => (await (await caches.match(u)).json()).xxh3, `${origin}/docent/manifest.json`);
  assert.equal(savedManifest, v2.xxh3, 'the saved manifest is the new one');
  const left = (await cachedUnder(page, `${origin}/docent/fragments/`)).filter((u) => !named(v2).has(u));
  assert.deepEqual(left, [], 'no cache keeps a fragment the new index does not name');

  // Offline again: the new page's text answers.
  await networkOff(context);
  await page.reload({ timeout: WAIT_MS });
  await focusAndWaitSaved(page, STRINGS.offlineNow);
  const fresh = await ask(page, 'What tune does the K3 play when a firing ends?');
  assert.match(fresh.answer, /Zanzibar/, JSON.stringify(fresh));
  assert.ok(fresh.cites.some((c) => new URL(c).pathname === '/faq.html'), JSON.stringify(fresh));

  // A widget that asks a model on another host: offline, the documents' own sentences answer in
  // its place, cited, and the note under the answer says so.
  await page.evaluate(() => {
    const el = document.querySelector('docent-ask');
    for (const [name, value] of Object.entries({ provider: 'openai', endpoint: 'https://llm.example.com/v1', model: 'site-model', key: 'none' })) el.setAttribute(name, value);
  });
  const instead = await ask(page, 'What tune does the K3 play when a firing ends?');
  assert.match(instead.answer, /Zanzibar/, JSON.stringify(instead));
  assert.ok(instead.cites.length >= 1, JSON.stringify(instead));
  const note = await page.evaluate(() => document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="search-note"]').textContent);
  assert.equal(note, `${STRINGS.paths[instead.path]} ${STRINGS.offlineInstead('site-model')}`);
  assert.deepEqual(problems, []);
  await context.close();
  await serverUp();
});

// Regression: the widget's line said "Ready offline" while the local model the reader had just
// agreed to was still downloading, so the copy it called complete could not answer with it.
test('<docent-ask service-worker provider="local">: the line says ready offline only once the model is stored, what is still downloading before, and the model answers with the network off', { timeout: 3 * MODEL_WAIT_MS }, async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const { page, problems } = await watchPage(context);
  try {
    await page.goto(`${web.origin}/`, { timeout: WAIT_MS });
    await focusAndWaitSaved(page, STRINGS.offlineReady);
    // Every text the saved-copy line and the status line show, side by side, from here on.
    await page.evaluate((model) => {
      const el = document.querySelector('docent-ask');
      const line = el.shadowRoot.querySelector('[data-testid="saved"]');
      const status = el.shadowRoot.querySelector('[data-testid="status"]');
      window.seen = [];
      const record = () => window.seen.push({ saved: line.textContent, status: status.textContent });
      for (const node of [line, status]) new MutationObserver(record).observe(node, { childList: true, characterData: true, subtree: true });
      el.setAttribute('model-url', `/models/${model}`);
      el.setAttribute('provider', 'local');
    }, MODEL);
    const first = await ask(page, 'How do I replace the thermocouple?', {
      wait: MODEL_WAIT_MS,
      // The widget asks before downloading: the button names the size.
      meanwhile: async () => {
        const button = page.locator('docent-ask >> [data-testid="download"]');
        await button.waitFor({ state: 'visible', timeout: WAIT_MS });
        assert.match(await button.textContent(), /\b98 MB\b/);
        assert.equal(await saved(page), STRINGS.offlineReady, 'not agreed to yet: the copy is complete without it');
        await button.click();
      },
    });
    assert.ok(first.cites.length >= 1, JSON.stringify(first));
    await focusAndWaitSaved(page, STRINGS.offlineReady);
    const seen = await page.evaluate(() => window.seen);
    const downloading = seen.filter((s) => s.status.startsWith('Downloading the model'));
    assert.ok(downloading.length >= 1, `the download was shown: ${JSON.stringify(seen)}`);
    assert.deepEqual(downloading.filter((s) => s.saved === STRINGS.offlineReady), [], 'never "ready offline" while the model downloads');
    assert.ok(downloading.some((s) => /^Ready offline except the answer model: \d+(\.\d)? MB still downloading\.$/.test(s.saved)),
      `the line said what is still downloading: ${JSON.stringify(downloading.map((s) => s.saved))}`);
    for (const f of ['wllama.js', 'wllama.wasm']) {
      assert.ok((await cachedUnder(page, `${web.origin}/docent/llm/wllama/${f}`)).length === 1, `the copy holds ${f}`);
    }
    assert.deepEqual(await cachedUnder(page, `${web.origin}/models/`), [], 'no cache holds the model file (OPFS does)');

    // Network off: the widget loads the stored model and answers with it.
    await networkOff(context);
    await page.reload({ timeout: WAIT_MS });
    await page.evaluate((model) => {
      const el = document.querySelector('docent-ask');
      el.setAttribute('model-url', `/models/${model}`);
      el.setAttribute('provider', 'local');
    }, MODEL);
    await focusAndWaitSaved(page, STRINGS.offlineNow);
    const off = await ask(page, 'How do I replace the thermocouple?', { wait: MODEL_WAIT_MS });
    // Which sentences the model wrote depends on it, not on the test: they cite pages of the site.
    assert.ok(off.cites.length >= 1, JSON.stringify(off));
    assert.ok(off.cites.every((c) => new URL(c).origin === web.origin && /\.html$/.test(new URL(c).pathname)), JSON.stringify(off));
    assert.equal(off.status, '', JSON.stringify(off));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    if (!web.server.listening) await serverUp();
  }
});

// The line's sentence for a reader who is offline while the answer model they agreed to is not
// stored yet had no test: it must say that answers come from the saved copy without the model,
// and how much of the model is missing.
test('<docent-ask service-worker provider="local">: the network drops while the model downloads: the line says the copy answers without the model and how much of it is missing', { timeout: 4 * WAIT_MS }, async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const { page, problems } = await watchPage(context);
  const bytes = (await stat(join(root, 'models/llm', MODEL))).size;
  /** The line once it matches `re` (the megabytes still missing vary with what the browser surfaced of the HELD bytes). */
  const savedMatching = (re) => page.waitForFunction(
    (src) => new RegExp(src).exec(document.querySelector('docent-ask')?.shadowRoot.querySelector('[data-testid="saved"]').textContent ?? '')?.[0],
    re.source,
    { timeout: WAIT_MS },
  ).then((h) => h.jsonValue()).catch(async (e) => {
    throw new Error(`the saved-copy line says ${JSON.stringify(await saved(page))}, expected it to match ${re}: ${e.message}`);
  });
  const megabytes = (text) => Number(/: ([\d.]+) MB still downloading\.$/.exec(text)[1]);
  try {
    await page.goto(`${web.origin}/`, { timeout: WAIT_MS });
    await focusAndWaitSaved(page, STRINGS.offlineReady);
    await page.evaluate((model) => {
      const el = document.querySelector('docent-ask');
      el.setAttribute('model-url', `/held/${model}`);
      el.setAttribute('provider', 'local');
    }, MODEL);
    await page.fill('docent-ask >> [data-testid="question"]', 'How do I replace the thermocouple?');
    await page.press('docent-ask >> [data-testid="question"]', 'Enter');
    const button = page.locator('docent-ask >> [data-testid="download"]');
    await button.waitFor({ state: 'visible', timeout: WAIT_MS });
    await button.click();
    // Some of the HELD bytes came, the rest does not: the copy lacks the model.
    const online = await savedMatching(/^Ready offline except the answer model: \d+\.\d MB still downloading\.$/);
    const left = megabytes(online);
    assert.ok(left >= Number(((bytes - HELD) / 1e6).toFixed(1)) && left < bytes / 1e6, online);
    assert.equal(await page.evaluate(() => navigator.onLine), true);
    await context.setOffline(true);
    const offline = await savedMatching(/^You are offline; .* MB still downloading\.$/);
    // The words, not only the table's entry: a reader must be told the model is missing.
    assert.equal(offline, `You are offline; answers come from the saved copy of these docs, without the answer model: ${megabytes(offline).toFixed(1)} MB still downloading.`);
    assert.equal(offline, STRINGS.offlineNowExcept(STRINGS.offlineModelLeft(`${megabytes(offline).toFixed(1)} MB`)));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
