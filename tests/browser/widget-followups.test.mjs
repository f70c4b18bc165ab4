// Follow-up questions in <docent-ask>, in Chromium: a three-turn conversation on the garden
// handbook (tests/fixtures/garden, indexed by the CLI with the hashing embedder, keyword search:
// embed="never"), whose elliptical second question is answered from the section its
// conversation points to, with the earlier turns shown above the answer and carried in the
// prompt, each turn handed to the index with its answer's source urls; "New question" clears it,
// and the same follow-up asked alone has no history. `turns`
// caps how many earlier turns are kept. Fails on any console error.
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
const WAIT_MS = 30_000;
const INDEX = '/garden/docent/';
const T1 = 'How do I borrow a spade from the shed?';
const T2 = 'and what if it is broken?';
const T3 = 'When is the seed swap?';

let tmp;
let web;
let browser;

before(async () => {
  need(join(root, 'pkg/docent_search_bg.wasm'), 'run ./build.sh wasm first');
  let site;
  ({ tmp, site } = await indexedGarden('docent-widget-followups-', 2 * WAIT_MS));
  web = await startStaticServer([['/garden/', site], ['/', root]]);
  browser = await launchChromium({ timeout: WAIT_MS });
});

after(async () => {
  await browser?.close();
  await web?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function openWidget(attrs = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack || e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  await page.goto(`${web.origin}/tests/browser/widget.html?index=${encodeURIComponent(INDEX)}&attrs=${encodeURIComponent(JSON.stringify({ embed: 'never', ...attrs }))}`, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.widgetAdded === true, null, { timeout: WAIT_MS });
  return { context, page, problems };
}

/** Asks `q` as a reader does (type, Enter) and waits for its docent-question event. */
async function ask(page, q) {
  const before = await page.evaluate(() => window.docentEvents.filter((e) => e.type === 'docent-question').length);
  await page.fill('docent-ask >> [data-testid="question"]', q);
  await page.press('docent-ask >> [data-testid="question"]', 'Enter');
  await page.waitForFunction((n) => window.docentEvents.filter((e) => e.type === 'docent-question').length > n, before, { timeout: WAIT_MS });
  return page.evaluate(() => window.docentEvents.filter((e) => e.type === 'docent-question').at(-1).detail);
}

/** What the reader sees: the earlier turns, the answer's citation links, the prompt's messages. */
const view = (page) => page.evaluate(() => {
  const s = document.querySelector('docent-ask').shadowRoot;
  return {
    turns: [...s.querySelectorAll('[data-testid="turns"] > li')].map((li) => ({
      question: li.querySelector('.turn-question').textContent,
      answer: li.querySelector('.turn-answer').textContent,
      tags: [...li.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
    })),
    answer: s.querySelector('[data-testid="answer"]').textContent,
    cites: [...s.querySelectorAll('[data-testid="answer"] a')].map((a) => a.getAttribute('href')),
    messages: JSON.parse(s.querySelector('[data-testid="prompt"]').textContent || '[]'),
    newQuestion: !s.querySelector('[data-testid="new-question"]').hidden,
    input: s.querySelector('[data-testid="question"]').value,
  };
});

test('a three-turn conversation: the elliptical second question cites the section its conversation points to; New question clears it', { timeout: 4 * WAIT_MS }, async () => {
  const { context, page, problems } = await openWidget();
  try {
    const first = await ask(page, T1);
    assert.ok(first.sources.some((s) => s.url === 'tools.html#borrowing-tools'), JSON.stringify(first.sources));
    let v = await view(page);
    assert.deepEqual(v.turns, [], 'nothing earlier yet');
    assert.equal(v.newQuestion, true, 'New question is offered once there is something to clear');
    const answer1 = v.answer;
    // What the widget hands the index with each question: watch the lean module's assemble
    // (the module instance the widget loaded from the index folder).
    await page.evaluate(async (index) => {
      const { SiteIndex } = await import(`${index}docent_search.js`);
      const assemble = SiteIndex.prototype.assemble;
      window.histories = [];
      SiteIndex.prototype.assemble = function (question, options) {
        window.histories.push(structuredClone(options?.history ?? []));
        return assemble.call(this, question, options);
      };
    }, INDEX);

    const second = await ask(page, T2);
    // The earlier turn carries the urls of the sources its answer was given.
    const histories = await page.evaluate(() => window.histories);
    assert.deepEqual(histories.at(-1).map((t) => t.question), [T1]);
    assert.deepEqual(histories.at(-1)[0].sources, first.sources.map((s) => s.url), JSON.stringify(histories));
    assert.equal(second.answerable, true, JSON.stringify(second));
    v = await view(page);
    assert.ok(v.cites.length >= 1, v.answer);
    assert.equal(new URL(v.cites[0], web.origin).hash, '#broken-tools', `the second answer cites the broken tools section: ${JSON.stringify(v.cites)}`);
    assert.deepEqual(v.turns.map((t) => t.question), [T1]);
    assert.equal(v.turns[0].answer, answer1, 'the earlier answer stays on screen above');
    assert.ok(v.turns[0].tags.every((t) => ['p', 'div', 'a', 'span'].includes(t)), v.turns[0].tags.join());
    assert.deepEqual(v.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user'], 'the prompt carries the earlier turn');
    assert.equal(v.messages[1].content, T1);
    assert.ok(!/\[\d+\]/.test(v.messages[2].content), `the earlier answer goes without its citations: ${v.messages[2].content}`);

    const third = await ask(page, T3);
    assert.ok(third.sources.some((s) => s.url.startsWith('seeds.html')), `a question with its own topic is searched as written: ${JSON.stringify(third.sources)}`);
    v = await view(page);
    assert.deepEqual(v.turns.map((t) => t.question), [T1, T2]);
    assert.deepEqual(v.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant', 'user']);

    // New question: the conversation, the answer and the box are cleared; the focus is in the box.
    await page.click('docent-ask >> [data-testid="new-question"]');
    v = await view(page);
    assert.deepEqual(v.turns, []);
    assert.equal(v.answer, '');
    assert.equal(v.input, '');
    assert.equal(v.newQuestion, false);
    assert.equal(await page.evaluate(() => document.querySelector('docent-ask').shadowRoot.activeElement?.dataset.testid), 'question');
    // The same follow-up on its own has no history.
    await ask(page, T2);
    v = await view(page);
    assert.deepEqual(v.turns, []);
    assert.deepEqual(v.messages.map((m) => m.role), ['system', 'user']);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('turns="1" keeps only the latest earlier turn; turns="0" answers each question on its own', { timeout: 4 * WAIT_MS }, async () => {
  for (const [turns, kept] of [['1', [T2]], ['0', []]]) {
    const { context, page, problems } = await openWidget({ turns });
    try {
      for (const q of [T1, T2, T3]) await ask(page, q);
      const v = await view(page);
      assert.deepEqual(v.turns.map((t) => t.question), kept, `turns=${turns}`);
      assert.equal(v.messages.filter((m) => m.role === 'assistant').length, kept.length);
      assert.equal(v.newQuestion, kept.length > 0);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  }
});
