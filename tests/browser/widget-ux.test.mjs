// <docent-ask> as a reader uses it, in Chromium: search as you type (results before Enter, the
// typed words marked, arrows and Enter, stale results dropped, nothing but the lexical fragments
// fetched, markup in a page shown as text), the modal mode (Ctrl+K and `/`, not from a text
// field, focus trapped and given back, Escape, full screen on a phone), copy and thumbs with
// their events, and one keyboard-only run. The site is tests/fixtures/garden (a community garden's
// handbook written for these tests; seeds.html carries markup as text), indexed by the CLI with
// the hashing embedder, served on 127.0.0.1 by tests/support/static-server.mjs.
// Needs what tests/browser/browser.test.mjs needs (./build.sh test browser provides it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { need, startStaticServer } from '../support/static-server.mjs';
import { indexedGarden } from '../support/garden.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 30_000;
const INDEX = '/garden/docent/';

let tmp;
let web;
let browser;

before(async () => {
  need(join(root, 'pkg/docent_search_bg.wasm'), 'run ./build.sh wasm first');
  let site;
  ({ tmp, site } = await indexedGarden('docent-widget-ux-', 2 * WAIT_MS));
  // The same index as an older `docent index` wrote it: no fragments, loaded whole.
  const old = join(tmp, 'old');
  await cp(site, old, { recursive: true });
  await rm(join(old, 'docent/fragments'), { recursive: true, force: true });
  const { fragments: _, ...older } = JSON.parse(await readFile(join(old, 'docent/manifest.json'), 'utf8'));
  await writeFile(join(old, 'docent/manifest.json'), JSON.stringify(older, null, 2));
  web = await startStaticServer([['/garden/', site], ['/old/', old], ['/', root]]);
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await web?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/**
 * A fresh page with one widget (attributes `attrs`), a button and a text field before it, and a
 * stubbed clipboard (`window.copied` gets what is written; `clipboard: false` removes it).
 */
async function openWidget(attrs = {}, { viewport = { width: 1000, height: 800 }, clipboard = true, index = INDEX } = {}) {
  const context = await browser.newContext({ viewport });
  await context.addInitScript((stub) => {
    const value = stub ? { writeText: async (text) => void (window.copied = text) } : undefined;
    Object.defineProperty(navigator, 'clipboard', { value, configurable: true });
  }, clipboard);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  await page.goto(`${web.origin}/tests/browser/widget.html?index=${encodeURIComponent(index)}&attrs=${encodeURIComponent(JSON.stringify({ embed: 'never', ...attrs }))}`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.widgetAdded === true, null, { timeout: WAIT_MS });
  await page.evaluate(() => {
    const main = document.querySelector('main');
    const before = Object.assign(document.createElement('button'), { id: 'before', textContent: 'A page button' });
    const field = Object.assign(document.createElement('input'), { id: 'field', type: 'text' });
    main.append(before, field);
  });
  return { context, page, problems };
}

/** The results list as the reader sees it. */
function results(page) {
  return page.evaluate(() => {
    const s = document.querySelector('docent-ask').shadowRoot;
    const input = s.querySelector('[data-testid="question"]');
    const list = s.querySelector('[data-testid="results"]');
    return {
      open: !list.hidden,
      expanded: input.getAttribute('aria-expanded'),
      role: input.getAttribute('role'),
      active: input.getAttribute('aria-activedescendant'),
      items: [...list.children].map((li) => ({
        id: li.firstElementChild.id,
        role: li.firstElementChild.getAttribute('role'),
        selected: li.firstElementChild.getAttribute('aria-selected'),
        href: li.querySelector('a')?.href ?? null,
        title: li.querySelector('.result-title').textContent,
        snippet: li.querySelector('.snippet').textContent,
        marks: [...li.querySelectorAll('mark')].map((m) => m.textContent),
        tags: [...li.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
      })),
      answer: s.querySelector('[data-testid="answer"]').textContent,
    };
  });
}

const waitForResults = (page) => page.waitForFunction(() => {
  const list = document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="results"]');
  return !list.hidden && list.children.length > 0;
}, null, { timeout: WAIT_MS });

/** What the shadow root's focus is on: a data-testid, a part, or the tag. */
const focused = (page) => page.evaluate(() => {
  const host = document.activeElement;
  if (host?.tagName !== 'DOCENT-ASK') return host?.id || host?.tagName.toLowerCase() || null;
  const a = host.shadowRoot.activeElement;
  return a ? a.dataset.testid || a.getAttribute('part') || a.tagName.toLowerCase() : 'docent-ask';
});

async function waitIdle(page) {
  await page.waitForFunction(() => {
    const s = document.querySelector('docent-ask').shadowRoot;
    return !s.querySelector('[data-testid="actions"]').hidden;
  }, null, { timeout: WAIT_MS });
}

test('search as you type: the top sections before Enter, the typed words marked, markup from a page shown as text, only lexical fragments fetched', { timeout: 4 * WAIT_MS }, async () => {
  const { context, page, problems } = await openWidget();
  try {
    await page.focus('docent-ask >> [data-testid="question"]');
    await page.waitForFunction(() => window.docentEvents.some((e) => e.type === 'docent-ready'), null, { timeout: WAIT_MS });
    web.requests.clear();
    // One character: no search.
    await page.keyboard.type('s');
    await page.waitForTimeout(500);
    assert.equal((await results(page)).open, false, 'no list for one character');
    await page.keyboard.type('eed sw', { delay: 40 });
    await waitForResults(page);
    const r = await results(page);
    assert.equal(r.answer, '', 'nothing is asked before Enter');
    assert.equal(r.role, 'combobox');
    assert.equal(r.expanded, 'true');
    assert.ok(r.items.length >= 1 && r.items.length <= 5, JSON.stringify(r.items));
    for (const item of r.items) {
      assert.equal(item.role, 'option');
      assert.match(item.href, /^http:\/\/127\.0\.0\.1:\d+\/garden\/[a-z]+\.html(#[a-z-]+)?$/, item.href);
    }
    const top = r.items[0];
    assert.match(top.href, /\/garden\/seeds\.html#seed-swap-day$/);
    // The words typed so far are marked (the last one as a prefix), in the title and the snippet.
    assert.ok(top.marks.length >= 2, JSON.stringify(top));
    for (const m of top.marks) assert.match(m, /^(seed|sw)/i, JSON.stringify(top.marks));
    assert.ok(top.marks.some((m) => /^swap$/i.test(m)), 'the word being typed marks the words it starts');
    // The page's markup is text: seen as written, no element made from it.
    assert.ok(top.title.includes('<img src=x onerror="window.pwned=1">') && top.title.includes('<script>'), top.title);
    assert.ok(r.items.some((i) => i.snippet.includes('<img')), JSON.stringify(r.items.map((i) => i.snippet)));
    const tags = new Set(r.items.flatMap((i) => i.tags));
    assert.deepEqual([...tags].filter((t) => !['a', 'span', 'mark'].includes(t)), [], [...tags].join(' '));
    const made = await page.evaluate(() => ({
      pwned: window.pwned ?? null,
      elements: document.querySelector('docent-ask').shadowRoot.querySelectorAll('img, script, svg, iframe').length + document.querySelectorAll('img, svg, iframe').length,
    }));
    assert.deepEqual(made, { pwned: null, elements: 0 });
    // What typing cost: lexical fragments (term shards, text packs) and nothing else.
    const fetched = [...web.requests.keys()].filter((p) => p.startsWith(INDEX));
    assert.ok(fetched.some((p) => /\/fragments\/lex-/.test(p)), fetched.join(' '));
    assert.deepEqual(fetched.filter((p) => !/\/fragments\/(lex|txt)-[0-9a-f]+\.bin$/.test(p)), [], `only lexical fragments: ${fetched.join(' ')}`);
    // Fewer than two characters again: the list closes.
    for (let i = 0; i < 6; i++) await page.keyboard.press('Backspace');
    await page.waitForFunction(() => document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="results"]').hidden, null, { timeout: WAIT_MS });
    assert.equal((await results(page)).expanded, 'false');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('search as you type: arrows move through the results, Enter follows the selected one, and an older, slower search never shows', { timeout: 4 * WAIT_MS }, async () => {
  const { context, page, problems } = await openWidget();
  try {
    // Every titled list the widget shows, in order.
    await page.evaluate(() => {
      window.shown = [];
      const list = document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="results"]');
      new MutationObserver(() => {
        if (list.children.length) window.shown.push([...list.querySelectorAll('.result-title')].map((t) => t.textContent).join(' | '));
      }).observe(list, { childList: true });
    });
    await page.focus('docent-ask >> [data-testid="question"]');
    await page.waitForFunction(() => window.docentEvents.some((e) => e.type === 'docent-ready'), null, { timeout: WAIT_MS });
    // The first query's fragments are slow; it is overtaken by the next one.
    let slow = true;
    await page.route('**/garden/docent/fragments/**', async (route) => {
      if (slow) await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue();
    });
    await page.keyboard.type('compost', { delay: 20 });
    await page.waitForTimeout(400); // debounced: its search is now waiting for fragments
    slow = false;
    await page.fill('docent-ask >> [data-testid="question"]', 'borrow tools');
    await waitForResults(page);
    await page.waitForTimeout(2000); // past the slow answer
    const shown = await page.evaluate(() => window.shown);
    assert.ok(shown.length >= 1, 'results shown');
    assert.ok(shown.every((s) => !/Compost/.test(s) || /Tools/.test(s)), `the stale query's results never show: ${JSON.stringify(shown)}`);
    const r = await results(page);
    assert.match(r.items[0].href, /tools\.html#borrowing-tools$/, JSON.stringify(r.items));
    assert.equal(r.active, null);

    await page.keyboard.press('ArrowDown');
    let s = await results(page);
    assert.equal(s.active, s.items[0].id);
    assert.deepEqual(s.items.map((i) => i.selected), s.items.map((_, i) => String(i === 0)));
    if (s.items.length > 1) {
      await page.keyboard.press('ArrowDown');
      s = await results(page);
      assert.equal(s.active, s.items[1].id);
      assert.equal(s.items[0].selected, 'false');
      await page.keyboard.press('ArrowUp');
      s = await results(page);
      assert.equal(s.active, s.items[0].id);
    }
    assert.equal(await focused(page), 'question', 'the focus stays in the box while arrows move the selection');
    const target = s.items[0].href;
    await Promise.all([page.waitForURL(target, { timeout: WAIT_MS }), page.keyboard.press('Enter')]);
    assert.equal(page.url(), target);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('modal mode: Ctrl+K and / open the dialog from the page, not from a text field; focus moves in, stays in, and returns on Escape; inline mode unchanged', { timeout: 4 * WAIT_MS }, async () => {
  {
    // Inline (the default): the form is on the page; no dialog, no shortcut.
    const { context, page, problems } = await openWidget();
    const inline = await page.evaluate(() => {
      const s = document.querySelector('docent-ask').shadowRoot;
      return { dialog: s.querySelector('dialog') !== null, open: s.querySelector('[part="open"]') !== null, visible: s.querySelector('form').getClientRects().length > 0 };
    });
    assert.deepEqual(inline, { dialog: false, open: false, visible: true });
    await page.focus('#before');
    await page.keyboard.press('/');
    await page.keyboard.press('Control+k');
    assert.equal(await focused(page), 'before', 'inline mode takes no shortcut');
    assert.deepEqual(problems, []);
    await context.close();
  }
  const { context, page, problems } = await openWidget({ mode: 'modal' });
  try {
    const isOpen = () => page.evaluate(() => document.querySelector('docent-ask').shadowRoot.querySelector('dialog').open);
    assert.equal(await isOpen(), false);
    assert.equal(await page.evaluate(() => document.querySelector('docent-ask').shadowRoot.querySelector('form').getClientRects().length), 0, 'the box is in the closed dialog');

    await page.focus('#before');
    await page.keyboard.press('Control+k');
    assert.equal(await isOpen(), true, 'Ctrl+K opens');
    assert.equal(await focused(page), 'question', 'the focus moves into the box');
    // Tab and Shift+Tab stay inside the dialog.
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      const inside = await page.evaluate(() => {
        const s = document.querySelector('docent-ask').shadowRoot;
        return document.activeElement?.tagName === 'DOCENT-ASK' && s.querySelector('dialog').contains(s.activeElement);
      });
      assert.ok(inside, `Tab ${i + 1} keeps the focus in the dialog (on ${await focused(page)})`);
    }
    await page.focus('docent-ask >> [data-testid="question"]');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(page), 'close', 'Shift+Tab from the box goes to the dialog\'s Close button');
    await page.keyboard.press('Shift+Tab');
    assert.notEqual(await focused(page), 'before', 'and not out of the dialog');
    await page.keyboard.press('Escape');
    assert.equal(await isOpen(), false, 'Escape closes');
    assert.equal(await focused(page), 'before', 'the focus returns to where it was');

    await page.keyboard.press('/');
    assert.equal(await isOpen(), true, '/ opens');
    assert.equal(await page.inputValue('docent-ask >> [data-testid="question"]'), '', 'the / is not typed into the box');
    await page.keyboard.press('Escape');
    assert.equal(await isOpen(), false);

    await page.focus('#field');
    await page.keyboard.type('a/b');
    await page.keyboard.press('Control+k');
    assert.equal(await isOpen(), false, '/ and Ctrl+K typed in a text field do not open it');
    assert.equal(await page.inputValue('#field'), 'a/b');

    await page.click('docent-ask >> [data-testid="open"]');
    assert.equal(await isOpen(), true, 'the button opens');
    await page.keyboard.press('Escape');
    assert.equal(await isOpen(), false);
    assert.equal(await focused(page), 'open', 'the focus returns to the button that opened it');

    // Escape first closes the results list, then the dialog.
    await page.keyboard.press('Control+k');
    await page.keyboard.type('compost', { delay: 20 });
    await waitForResults(page);
    await page.keyboard.press('Escape');
    assert.equal((await results(page)).open, false, 'Escape closes the list');
    assert.equal(await isOpen(), true, '… and not yet the dialog');
    assert.equal(await page.inputValue('docent-ask >> [data-testid="question"]'), 'compost', 'nor clears the box');
    await page.keyboard.press('Escape');
    assert.equal(await isOpen(), false);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('modal mode on a phone: the dialog fills the screen and its buttons are at least 44 px', { timeout: 2 * WAIT_MS }, async () => {
  const { context, page, problems } = await openWidget({ mode: 'modal' }, { viewport: { width: 390, height: 740 } });
  try {
    const button = await page.evaluate(() => document.querySelector('docent-ask').shadowRoot.querySelector('[part="open"]').getBoundingClientRect().height);
    assert.ok(button >= 44, `open button ${button}px`);
    await page.keyboard.press('Control+k');
    const box = await page.evaluate(() => {
      const s = document.querySelector('docent-ask').shadowRoot;
      const r = s.querySelector('dialog').getBoundingClientRect();
      const small = [...s.querySelectorAll('dialog button:not([hidden]), dialog input[type="search"]')]
        .filter((b) => b.getClientRects().length > 0)
        .map((b) => ({ what: b.dataset.testid || b.getAttribute('part') || b.textContent, h: b.getBoundingClientRect().height }))
        .filter((b) => b.h < 44);
      return { left: r.left, top: r.top, width: r.width, height: r.height, small };
    });
    assert.deepEqual(box, { left: 0, top: 0, width: 390, height: 740, small: [] });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('copy puts the answer and its sources on the clipboard as Markdown; thumbs fire docent-feedback; docent-question fires once per answer', { timeout: 4 * WAIT_MS }, async () => {
  const { context, page, problems } = await openWidget();
  try {
    const events = (type) => page.evaluate((t) => window.docentEvents.filter((e) => e.type === t).map((e) => e.detail), type);
    const ask = async (q) => {
      const before = (await events('docent-question')).length;
      await page.fill('docent-ask >> [data-testid="question"]', q);
      await page.press('docent-ask >> [data-testid="question"]', 'Enter');
      await page.waitForFunction((n) => window.docentEvents.filter((e) => e.type === 'docent-question').length > n, before, { timeout: WAIT_MS });
      await waitIdle(page);
    };
    await ask('How do I borrow a spade from the shed?');
    const [q1] = await events('docent-question');
    assert.equal(q1.question, 'How do I borrow a spade from the shed?');
    assert.equal(q1.answerable, true);
    assert.equal(q1.provider, 'offline');
    assert.equal(q1.path, 'keyword');
    assert.ok(Number.isInteger(q1.ms) && q1.ms >= 0 && q1.ms < WAIT_MS, String(q1.ms));
    assert.ok(q1.sources.length >= 1, JSON.stringify(q1));
    assert.deepEqual(Object.keys(q1).sort(), ['answerable', 'ms', 'path', 'provider', 'question', 'sources']);
    for (const s of q1.sources) assert.deepEqual(Object.keys(s).sort(), ['n', 'title', 'url']);
    assert.ok(q1.sources.some((s) => s.url === 'tools.html#borrowing-tools'), JSON.stringify(q1.sources));

    const answer = await page.evaluate(() => document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="answer"]').textContent);
    await page.click('docent-ask >> [data-testid="copy"]');
    await page.waitForFunction(() => typeof window.copied === 'string', null, { timeout: WAIT_MS });
    const copied = await page.evaluate(() => window.copied);
    const site = `${web.origin}/garden/`;
    const expected = [answer.trim(), '', 'Sources:', ...q1.sources.map((s) => `- [${s.n}] [${s.title}](${new URL(s.url, site).href})`)].join('\n') + '\n';
    assert.equal(copied, expected);
    assert.equal(await page.textContent('docent-ask >> [data-testid="copy-status"]'), 'Copied');

    const thumbs = () => page.evaluate(() => {
      const s = document.querySelector('docent-ask').shadowRoot;
      return [s.querySelector('[data-testid="helpful"]'), s.querySelector('[data-testid="not-helpful"]')].map((b) => b.getAttribute('aria-pressed'));
    });
    assert.deepEqual(await thumbs(), ['false', 'false']);
    await page.click('docent-ask >> [data-testid="helpful"]');
    assert.deepEqual(await thumbs(), ['true', 'false']);
    await page.click('docent-ask >> [data-testid="not-helpful"]');
    assert.deepEqual(await thumbs(), ['false', 'true']);
    const feedback = await events('docent-feedback');
    assert.deepEqual(feedback, [
      { question: q1.question, helpful: true, sources: q1.sources, provider: 'offline' },
      { question: q1.question, helpful: false, sources: q1.sources, provider: 'offline' },
    ]);

    // A question the documents do not cover is an answer too: one event, answerable false.
    await ask('What is the airspeed velocity of an unladen swallow over Jupiter?');
    await ask('When is the seed swap?');
    const all = await events('docent-question');
    assert.deepEqual(all.map((e) => e.question), [q1.question, 'What is the airspeed velocity of an unladen swallow over Jupiter?', 'When is the seed swap?'], 'one event per answer');
    assert.equal(all[1].answerable, false, JSON.stringify(all[1]));
    assert.deepEqual(all[1].sources, []);
    assert.equal(all[2].answerable, true);
    assert.deepEqual(await thumbs(), ['false', 'false'], 'a new answer starts without a vote');
    assert.equal((await events('docent-answer')).length, 3);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
  // Without a clipboard: a clear message instead.
  {
    const { context, page, problems } = await openWidget({}, { clipboard: false });
    await page.fill('docent-ask >> [data-testid="question"]', 'How do I turn the compost pile?');
    await page.press('docent-ask >> [data-testid="question"]', 'Enter');
    await waitIdle(page);
    await page.click('docent-ask >> [data-testid="copy"]');
    // The message follows the click's handler (the copy row loads with the first answer).
    await page.waitForFunction(() => /not available/.test(document.querySelector('docent-ask').shadowRoot.querySelector('[data-testid="copy-status"]')?.textContent ?? ''), null, { timeout: WAIT_MS });
    assert.match(await page.textContent('docent-ask >> [data-testid="copy-status"]'), /not available/);
    assert.deepEqual(problems, []);
    await context.close();
  }
});

test('keyboard only: Tab to the box, type, arrow to a result, Escape, ask with Enter, Tab to Copy and copy', { timeout: 4 * WAIT_MS }, async () => {
  const { context, page, problems } = await openWidget();
  try {
    // The page's first stop is the widget's box (the test page has nothing focusable before it).
    for (let i = 0; i < 10 && (await focused(page)) !== 'question'; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'question');
    const question = 'how do I water during a hosepipe ban';
    await page.keyboard.type(question, { delay: 15 });
    await waitForResults(page);
    await page.keyboard.press('ArrowDown');
    assert.ok((await results(page)).active, 'a result is selected');
    await page.keyboard.press('Escape');
    const closed = await results(page);
    assert.equal(closed.open, false);
    assert.equal(closed.active, null);
    assert.equal(await page.inputValue('docent-ask >> [data-testid="question"]'), question, 'Escape keeps what was typed');
    await page.keyboard.press('Enter');
    await waitIdle(page);
    const asked = await page.evaluate(() => window.docentEvents.filter((e) => e.type === 'docent-question').map((e) => e.detail.question));
    assert.deepEqual(asked, [question]);
    let steps = 0;
    for (; steps < 30 && (await focused(page)) !== 'copy'; steps++) await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'copy', `Copy is reached with Tab (${steps} presses)`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => typeof window.copied === 'string', null, { timeout: WAIT_MS });
    assert.match(await page.evaluate(() => window.copied), /hosepipe-ban\)/);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('an index folder without fragments (loaded whole) shows no results while typing, and still answers on Enter', { timeout: 2 * WAIT_MS }, async () => {
  const { context, page, problems } = await openWidget({}, { index: '/old/docent/' });
  try {
    await page.focus('docent-ask >> [data-testid="question"]');
    await page.waitForFunction(() => window.docentEvents.some((e) => e.type === 'docent-ready'), null, { timeout: WAIT_MS });
    await page.keyboard.type('compost bays', { delay: 20 });
    await page.waitForTimeout(800);
    const r = await results(page);
    assert.equal(r.open, false, JSON.stringify(r));
    assert.equal(r.expanded, 'false');
    await page.keyboard.press('Enter');
    await waitIdle(page);
    const [q] = await page.evaluate(() => window.docentEvents.filter((e) => e.type === 'docent-question').map((e) => e.detail));
    assert.equal(q.path, 'hybrid');
    assert.ok(q.sources.some((s) => s.url.startsWith('compost.html')), JSON.stringify(q));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
