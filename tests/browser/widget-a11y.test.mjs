// Accessibility of <docent-ask>, checked by axe-core (npm, pinned in tests/browser/package.json)
// in Chromium: inline and modal modes, each in light and dark (prefers-color-scheme emulated on a
// page that follows it, showcase.html), with an answer, its sources and actions shown and with
// the search-as-you-type list open. No violation of impact `serious` or `critical` may remain;
// the others are printed. The site is tests/fixtures/garden indexed with the hashing embedder.
// Needs what tests/browser/browser.test.mjs needs (./build.sh test browser provides it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { need, startStaticServer } from '../support/static-server.mjs';
import { indexedGarden } from '../support/garden.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const AXE = join(root, 'tests/browser/node_modules/axe-core/axe.min.js');
const WAIT_MS = 30_000;
const INDEX = '/garden/docent/';
const QUESTION = 'How do I borrow tools from the shed?';

let tmp;
let web;
let browser;

before(async () => {
  need(join(root, 'pkg/docent_search_bg.wasm'), 'run ./build.sh wasm first');
  need(AXE, 'run npm ci --prefix tests/browser (./build.sh test does)');
  let site;
  ({ tmp, site } = await indexedGarden('docent-widget-a11y-', 2 * WAIT_MS));
  web = await startStaticServer([['/garden/', site], ['/', root]]);
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await web?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function openPage(attrs, colorScheme) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, colorScheme });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  await page.goto(`${web.origin}/tests/browser/showcase.html?index=${encodeURIComponent(INDEX)}&attrs=${encodeURIComponent(JSON.stringify({ embed: 'never', ...attrs }))}`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.widgetAdded === true, null, { timeout: WAIT_MS });
  await page.addScriptTag({ path: AXE });
  return { context, page, problems };
}

/** Asks QUESTION and waits until its answer, sources and actions show. */
async function answer(page) {
  await page.evaluate((q) => document.querySelector('docent-ask').ask(q), QUESTION);
  await page.waitForFunction(() => {
    const s = document.querySelector('docent-ask').shadowRoot;
    return !s.querySelector('[data-testid="actions"]').hidden && s.querySelector('[data-testid="sources"]').children.length > 0;
  }, null, { timeout: WAIT_MS });
}

/** Types a few words so that the results list opens. */
async function typeAhead(page) {
  await page.fill('docent-ask >> [data-testid="question"]', '');
  await page.focus('docent-ask >> [data-testid="question"]');
  await page.keyboard.type('borrow to', { delay: 20 });
  await page.waitForFunction(() => {
    const list = document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="results"]');
    return !list.hidden && list.children.length > 0;
  }, null, { timeout: WAIT_MS });
  await page.keyboard.press('ArrowDown');
}

/** axe on the whole page; returns [serious or critical violations, the others], each as lines. */
async function axe(page) {
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => `${JSON.stringify(n.target)} ${n.failureSummary?.split('\n').slice(1).join(' ')}`) }));
  });
  const line = (v) => `${v.impact} ${v.id} (${v.help}):\n    ${v.nodes.join('\n    ')}`;
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical').map(line);
  const other = result.filter((v) => !(v.impact === 'serious' || v.impact === 'critical')).map(line);
  return [bad, other];
}

for (const scheme of ['light', 'dark']) {
  test(`axe: inline mode, ${scheme}, with an answer and with the results list open: no serious or critical violation`, { timeout: 4 * WAIT_MS }, async (t) => {
    const { context, page, problems } = await openPage({}, scheme);
    try {
      const dark = await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches);
      assert.equal(dark, scheme === 'dark');
      await answer(page);
      const [bad, other] = await axe(page);
      if (other.length) t.diagnostic(`minor: ${other.join('\n')}`);
      assert.deepEqual(bad, [], `with an answer:\n${bad.join('\n')}`);
      await typeAhead(page);
      const [bad2] = await axe(page);
      assert.deepEqual(bad2, [], `with the results list open:\n${bad2.join('\n')}`);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test(`axe: modal mode, ${scheme}, the button and the open dialog with an answer: no serious or critical violation`, { timeout: 4 * WAIT_MS }, async (t) => {
    const { context, page, problems } = await openPage({ mode: 'modal' }, scheme);
    try {
      const [closed] = await axe(page);
      assert.deepEqual(closed, [], `the open button:\n${closed.join('\n')}`);
      await page.click('docent-ask >> [data-testid="open"]');
      await page.waitForFunction(() => document.querySelector('docent-ask').shadowRoot.querySelector('dialog').open, null, { timeout: WAIT_MS });
      await answer(page);
      const [bad, other] = await axe(page);
      if (other.length) t.diagnostic(`minor: ${other.join('\n')}`);
      assert.deepEqual(bad, [], `the dialog with an answer:\n${bad.join('\n')}`);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
}
