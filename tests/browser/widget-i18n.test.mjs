// <docent-ask> in a page's own language, in Chromium: the `strings` attribute (JSON, partial:
// the rest stays English; templates for sentences that take values), `element.setStrings()`
// from JavaScript (live, also in modal mode), a console warning for unknown keys and for an
// attribute that is not JSON (the widget then works in English), and a right-to-left page in
// Hebrew (rtl.html, over tests/fixtures/rtl, a Hebrew handbook written for this test): the box,
// the results and the answer lie mirrored, and the stylesheet has no physical left/right
// property. The English site is tests/fixtures/garden; both are indexed with the hashing embedder.
// Needs what tests/browser/browser.test.mjs needs (./build.sh test browser provides it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { need, startStaticServer } from '../support/static-server.mjs';
import { indexedFixtures } from '../support/garden.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 30_000;

let tmp;
let web;
let browser;

before(async () => {
  need(join(root, 'pkg/docent_search_bg.wasm'), 'run ./build.sh wasm first');
  ({ tmp } = await indexedFixtures('docent-widget-i18n-', ['garden', 'rtl'], 2 * WAIT_MS));
  web = await startStaticServer([['/garden/', join(tmp, 'garden')], ['/rtl/', join(tmp, 'rtl')], ['/', root]]);
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await web?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function openWidget(attrs, { page: file = 'widget.html', index = '/garden/docent/', viewport = { width: 900, height: 800 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  const warnings = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    if (m.type() === 'warning') warnings.push(m.text());
  });
  await page.goto(`${web.origin}/tests/browser/${file}?index=${encodeURIComponent(index)}&attrs=${encodeURIComponent(JSON.stringify({ embed: 'never', ...attrs }))}`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.widgetAdded === true, null, { timeout: WAIT_MS });
  return { context, page, problems, warnings };
}

/** The texts a reader sees in the widget. */
const seen = (page) => page.evaluate(() => {
  const s = document.querySelector('docent-ask').shadowRoot;
  const q = (id) => s.querySelector(`[data-testid="${id}"]`);
  return {
    ask: q('ask').textContent,
    placeholder: q('question').placeholder,
    retry: q('retry').textContent,
    settings: s.querySelector('[part="settings"] summary').textContent,
    offline: s.querySelector('option[value="offline"]').textContent,
    openai: s.querySelector('option[value="openai"]').textContent,
    results: q('results').getAttribute('aria-label'),
    status: q('status').textContent,
    answer: q('answer').textContent,
    note: q('search-note').textContent,
    // The copy and thumbs row is built with the first answer (its module loads then).
    copy: q('copy')?.textContent ?? null,
    helpful: q('helpful')?.getAttribute('aria-label') ?? null,
  };
});

async function ask(page, q) {
  const n = await page.evaluate(() => window.docentEvents.filter((e) => e.type === 'docent-question').length);
  await page.evaluate((q) => document.querySelector('docent-ask').ask(q), q);
  await page.waitForFunction((n) => window.docentEvents.filter((e) => e.type === 'docent-question').length > n, n, { timeout: WAIT_MS });
}

test('the strings attribute: the keys given replace English, the others stay; templates take their values; unknown keys warn', { timeout: 4 * WAIT_MS }, async () => {
  const strings = {
    ask: 'Fragen',
    placeholder: 'Eine Frage zu diesen Seiten',
    providers: { offline: 'Offline (Auszug, ohne LLM)' },
    noPassage: 'Keine passende Stelle gefunden.',
    notMentioned: 'Diese Seiten erwähnen {terms} nicht.',
    paths: { keyword: 'Stichwortsuche' },
    copy: 'Kopieren',
    helpful: 'Hilfreich',
    bogus: 'x',
    answering: 7,
  };
  const { context, page, problems, warnings } = await openWidget({ strings: JSON.stringify(strings) });
  try {
    let s = await seen(page);
    assert.equal(s.ask, 'Fragen');
    assert.equal(s.placeholder, 'Eine Frage zu diesen Seiten');
    assert.equal(s.offline, 'Offline (Auszug, ohne LLM)');
    assert.equal(s.openai, 'OpenAI-compatible', 'a nested table keeps the keys not given');
    assert.equal(s.retry, 'Retry', 'keys not given stay English');
    assert.equal(s.settings, 'Model settings');
    await ask(page, 'Can I use Kubernetes to schedule the watering?');
    s = await seen(page);
    assert.equal(s.answer, 'Diese Seiten erwähnen Kubernetes nicht.');
    assert.equal(s.status, 'Keine passende Stelle gefunden.');
    assert.equal(s.note, 'Stichwortsuche');
    assert.equal(s.copy, 'Kopieren');
    assert.equal(s.helpful, 'Hilfreich');
    await ask(page, 'How do I borrow tools from the shed?');
    s = await seen(page);
    assert.match(s.answer, /logbook/, 'answered as usual');
    assert.ok(warnings.some((w) => w.includes('unknown key "bogus"')), warnings.join('\n'));
    assert.ok(warnings.some((w) => w.includes('"answering" must be a string')), warnings.join('\n'));
    assert.equal(warnings.filter((w) => w.includes('<docent-ask>')).length, 2, warnings.join('\n'));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a strings attribute that is not JSON warns and leaves the widget in English, working', { timeout: 2 * WAIT_MS }, async () => {
  const { context, page, problems, warnings } = await openWidget({ strings: '{ask: Fragen' });
  try {
    assert.equal((await seen(page)).ask, 'Ask');
    assert.ok(warnings.some((w) => /<docent-ask> the strings attribute is not JSON/.test(w)), warnings.join('\n'));
    await ask(page, 'How do I borrow tools from the shed?');
    assert.match((await seen(page)).answer, /logbook/);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('setStrings() from JavaScript: live, over the attribute, functions or templates; setStrings({}) goes back; modal mode too', { timeout: 4 * WAIT_MS }, async () => {
  const { context, page, problems, warnings } = await openWidget({ mode: 'modal', strings: JSON.stringify({ ask: 'Fragen', close: 'Schließen' }) });
  try {
    const modal = () => page.evaluate(() => {
      const s = document.querySelector('docent-ask').shadowRoot;
      return { open: s.querySelector('[data-testid="open"]').textContent, title: s.querySelector('[data-testid="open"]').title, close: s.querySelector('[data-testid="close"]').textContent, dialog: s.querySelector('dialog').getAttribute('aria-label') };
    });
    assert.deepEqual(await modal(), { open: 'Ask the docs/', title: 'Press / or Ctrl+K', close: 'Schließen', dialog: 'Ask the documentation' });
    await page.evaluate(() => document.querySelector('docent-ask').setStrings({
      open: 'Demander', openShortcut: 'Touche / ou Ctrl+K', dialog: 'Demander à la documentation', ask: 'Demander',
      noPassage: 'Aucun passage pertinent.', notMentioned: (terms) => `Ces documents ne parlent pas de ${terms}.`,
    }));
    assert.deepEqual(await modal(), { open: 'Demander/', title: 'Touche / ou Ctrl+K', close: 'Schließen', dialog: 'Demander à la documentation' });
    assert.equal((await seen(page)).ask, 'Demander', 'setStrings wins over the attribute');
    await page.click('docent-ask >> [data-testid="open"]');
    await ask(page, 'Is there a Slack channel for the garden?');
    let s = await seen(page);
    assert.equal(s.answer, 'Ces documents ne parlent pas de Slack.');
    assert.equal(s.status, 'Aucun passage pertinent.');
    assert.equal(await page.evaluate(() => document.querySelector('docent-ask').strings.noPassage), 'Aucun passage pertinent.');
    await page.evaluate(() => document.querySelector('docent-ask').setStrings({}));
    s = await seen(page);
    assert.equal(s.ask, 'Fragen', 'back to the attribute');
    assert.deepEqual(await modal(), { open: 'Ask the docs/', title: 'Press / or Ctrl+K', close: 'Schließen', dialog: 'Ask the documentation' });
    assert.deepEqual(warnings.filter((w) => w.includes('<docent-ask>')), []);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('right to left: on a Hebrew page the box, the results list and the answer lie mirrored; no physical left or right in the stylesheet', { timeout: 4 * WAIT_MS }, async () => {
  const strings = { ask: 'שאלו', placeholder: 'שאלה על המדריך', label: 'שאלו את המדריך', results: 'סעיפים מתאימים', sources: 'מקורות', answer: 'תשובה' };
  const { context, page, problems } = await openWidget({ strings: JSON.stringify(strings) }, { page: 'rtl.html', index: '/rtl/docent/' });
  try {
    // Type: the results list opens, its first result selected.
    await page.focus('docent-ask >> [data-testid="question"]');
    await page.keyboard.type('משקים את הערו', { delay: 20 });
    await page.waitForFunction(() => {
      const l = document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="results"]');
      return !l.hidden && l.children.length > 0;
    }, null, { timeout: WAIT_MS });
    await page.keyboard.press('ArrowDown');
    const typing = await page.evaluate(() => {
      const s = document.querySelector('docent-ask').shadowRoot;
      const rect = (e) => e.getBoundingClientRect();
      const form = rect(s.querySelector('form'));
      const input = rect(s.querySelector('[data-testid="question"]'));
      const button = rect(s.querySelector('[data-testid="ask"]'));
      const option = s.querySelector('[role="option"][aria-selected="true"]');
      const title = option.querySelector('.result-title');
      const range = document.createRange();
      range.setStart(title.firstChild ?? title, 0);
      range.setEnd(title.firstChild ?? title, 1);
      const st = getComputedStyle(option);
      return {
        direction: getComputedStyle(s.querySelector('[data-testid="question"]')).direction,
        inputAtRight: Math.abs(form.right - input.right) <= 1,
        buttonLeftOfInput: button.right <= input.left,
        borderRight: st.borderRightWidth,
        borderLeft: st.borderLeftWidth,
        titleStartsRight: rect(option).right - range.getBoundingClientRect().right,
        titleText: title.textContent,
      };
    });
    assert.equal(typing.direction, 'rtl');
    assert.ok(typing.inputAtRight, 'the box starts at the right');
    assert.ok(typing.buttonLeftOfInput, 'the Ask button is to its left');
    assert.deepEqual([typing.borderRight, typing.borderLeft], ['3px', '0px'], 'the selected result is marked on its right (inline start)');
    assert.ok(typing.titleStartsRight >= 0 && typing.titleStartsRight < 20, `the title starts at the right: ${JSON.stringify(typing)}`);
    await page.keyboard.press('Escape');
    await ask(page, 'מתי משקים את הערוגות?');
    const answered = await page.evaluate(() => {
      const s = document.querySelector('docent-ask').shadowRoot;
      const answer = s.querySelector('[data-testid="answer"]');
      const sources = s.querySelector('[data-testid="sources"]');
      const walker = document.createTreeWalker(answer, NodeFilter.SHOW_TEXT);
      const first = walker.nextNode();
      const range = document.createRange();
      range.setStart(first, 0);
      range.setEnd(first, 1);
      const st = getComputedStyle(sources);
      return {
        text: answer.textContent,
        fromRight: answer.getBoundingClientRect().right - range.getBoundingClientRect().right,
        paddingRight: parseFloat(st.paddingRight),
        paddingLeft: parseFloat(st.paddingLeft),
        source: sources.querySelector('a')?.getAttribute('href'),
      };
    });
    assert.match(answered.text, /משקים את הערוגות בבוקר/);
    assert.ok(answered.fromRight >= 0 && answered.fromRight < 4, `the answer starts at the right: ${JSON.stringify(answered)}`);
    assert.ok(answered.paddingRight > 0 && answered.paddingLeft === 0, `the sources' numbers sit at the right: ${JSON.stringify(answered)}`);
    // The widget's own stylesheet: logical properties only.
    const physical = await page.evaluate(() => {
      const s = document.querySelector('docent-ask').shadowRoot;
      const sheets = [...s.adoptedStyleSheets, ...[...s.querySelectorAll('style')].map((e) => e.sheet)];
      const text = sheets.flatMap((sh) => [...sh.cssRules].map((r) => r.cssText)).join('\n');
      return text.match(/[^\n;{]*\b((margin|padding|border)-(left|right)[\w-]*|(?<![\w-])(left|right)\s*:|text-align:\s*(left|right)|float:\s*(left|right))[^;}]*/g) ?? [];
    });
    assert.deepEqual(physical, []);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('dir="rtl" on the element itself mirrors it on a left-to-right page', { timeout: 2 * WAIT_MS }, async () => {
  const { context, page, problems } = await openWidget({ dir: 'rtl' });
  try {
    const r = await page.evaluate(() => {
      const s = document.querySelector('docent-ask').shadowRoot;
      const form = s.querySelector('form').getBoundingClientRect();
      const input = s.querySelector('[data-testid="question"]').getBoundingClientRect();
      return { page: getComputedStyle(document.body).direction, direction: getComputedStyle(s.querySelector('form')).direction, inputAtRight: Math.abs(form.right - input.right) <= 1 };
    });
    assert.deepEqual(r, { page: 'ltr', direction: 'rtl', inputAtRight: true });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
