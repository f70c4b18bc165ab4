// The widget's and the demo's conversation (pkg/ask-conversation.js) under Node: the turns it
// keeps carry their answers' sources, and `history()` hands them to the core as urls. A minimal
// stand-in for the two DOM elements it draws into (it only creates elements and sets text).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conversation, turnsOf, TURNS } from '../../pkg/ask-conversation.js';

/** An element with what Conversation uses: children, text, hidden, click listeners. */
function element(doc, tag) {
  const listeners = [];
  return {
    tagName: tag,
    ownerDocument: doc,
    children: [],
    hidden: true,
    className: '',
    textContent: '',
    append(...nodes) { this.children.push(...nodes); },
    replaceChildren(...nodes) { this.children = nodes; },
    addEventListener(type, f) { if (type === 'click') listeners.push(f); },
    click() { for (const f of listeners) f(); },
  };
}

function conversation() {
  const doc = { createElement: (tag) => element(doc, tag) };
  const list = element(doc, 'ol');
  const clear = element(doc, 'button');
  let cleared = 0;
  const c = new Conversation(list, clear, { render: (text) => ({ text }), onClear: () => cleared++ });
  return { c, list, clear, cleared: () => cleared };
}

const source = (url) => ({ n: 1, url, title: 'T', heading: 'H', text: 'x', score: 1 });

test('each turn keeps the urls of the sources its answer was given; an abstained turn has none', () => {
  const { c, list, clear, cleared } = conversation();
  c.add('How do I install it?', 'Run the installer [1].', [source('install.html#linux'), source('install.html#windows')]);
  c.add('and GraphQL?', 'These documents do not mention GraphQL.');
  const history = c.begin(4);
  assert.deepEqual(history, [
    { question: 'How do I install it?', answer: 'Run the installer [1].', sources: ['install.html#linux', 'install.html#windows'] },
    { question: 'and GraphQL?', answer: 'These documents do not mention GraphQL.', sources: [] },
  ]);
  assert.equal(list.children.length, 2);
  assert.equal(clear.hidden, false);
  // At most `max` turns, the oldest dropped first; New question forgets them all.
  c.add('and on Windows?', 'Use the MSI [1].', [source('install.html#windows')]);
  assert.deepEqual(c.begin(1).map((t) => t.sources), [['install.html#windows']]);
  clear.click();
  assert.deepEqual(c.history(), []);
  assert.equal(cleared(), 1);
  assert.equal(clear.hidden, true);
});

test('turnsOf reads the turns attribute within its bounds', () => {
  assert.equal(turnsOf(null), TURNS.default);
  assert.equal(turnsOf('2'), 2);
  assert.equal(turnsOf('0'), 0);
  assert.equal(turnsOf('21'), TURNS.default);
  assert.equal(turnsOf('1.5'), TURNS.default);
});
