// Citations and links of the npm package's LLM client (pkg/llm/citations.js) under Node: which
// `[n]` of an answer become links, and which source URLs may be linked at all. What render.js
// builds from them is checked in Chromium (tests/demo, tests/site).
// Needs nothing built. Run with `node --test tests/js/citations.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { citationSegments, safeHref } from '../../pkg/llm.js';

const SOURCES = [
  { n: 1, url: 'guide/a.md#intro' },
  { n: 2, url: 'https://other.example/page' },
  { n: 3, url: 'javascript:alert(1)' },
];
const BASE = 'https://site.example/docs/';

test('citationSegments: text and [n] links; out-of-range and malformed numbers stay text', () => {
  const segs = citationSegments('See [1] and [2][3]; not [0], [01], [4] or [ 1].', SOURCES, { base: BASE });
  assert.deepEqual(segs, [
    { text: 'See ' },
    { text: '[1]', n: 1, href: 'https://site.example/docs/guide/a.md#intro' },
    { text: ' and ' },
    { text: '[2]', n: 2, href: 'https://other.example/page' },
    { text: '[3]', n: 3, href: null },
    { text: '; not [0], [01], [4] or [ 1].' },
  ]);
  assert.deepEqual(citationSegments('', SOURCES), []);
  assert.deepEqual(citationSegments('no sources [1]', []), [{ text: 'no sources [1]' }]);
});

test('citationSegments: hostile answers stay text; links come only from the sources', () => {
  const answer = 'Click [1](javascript:alert(1)) or <img src=x onerror=alert(1)> or [x](data:text/html,<script>alert(1)</script>)';
  const segs = citationSegments(answer, SOURCES, { base: BASE });
  assert.equal(segs.map((s) => s.text).join(''), answer, 'every character is kept, as text');
  const links = segs.filter((s) => 'href' in s);
  assert.deepEqual(links, [{ text: '[1]', n: 1, href: 'https://site.example/docs/guide/a.md#intro' }]);
  assert.ok(segs.some((s) => s.text.includes('<img src=x onerror=alert(1)>') && !('href' in s)));
});

test('safeHref: only http(s), or relative URLs that stay on the base origin', () => {
  const ok = [
    ['https://example.com/a?b#c', 'https://example.com/a?b#c'],
    ['HTTP://Example.com/', 'http://example.com/'],
    ['guide/a.md#x', 'https://site.example/docs/guide/a.md#x'],
    ['/root.html', 'https://site.example/root.html'],
    ['#top', 'https://site.example/docs/#top'],
    ['  guide/b.md  ', 'https://site.example/docs/guide/b.md'],
    ['//site.example/same-host', 'https://site.example/same-host'],
    // A NUL inside is not stripped by the URL parser, so this is a harmless relative path.
    ['java\u0000script:alert(1)', 'https://site.example/docs/java%00script:alert(1)'],
  ];
  for (const [url, want] of ok) assert.equal(safeHref(url, BASE), want, url);
  const bad = [
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    ' javascript:alert(1)',
    '\u0001\u0002javascript:alert(1)',
    '\tjava\nscript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'DATA:text/html;base64,PHNjcmlwdD4=',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    'blob:https://site.example/uuid',
    '//evil.example/x',
    '\\\\evil.example/x',
    '/\\evil.example/x',
    'https://user:pw@site.example/',
    'https://site.example@evil.example/',
  ];
  for (const url of bad) assert.equal(safeHref(url, BASE), null, JSON.stringify(url));
  assert.equal(safeHref('guide/a.md'), null, 'a relative URL without a base (Node, no page) is refused');
  assert.equal(safeHref('https://example.com/'), 'https://example.com/', 'an absolute URL needs no base');
  assert.equal(safeHref(42, BASE), null);
  assert.equal(safeHref('guide/a.md', 'file:///tmp/'), null, 'a relative URL on a file: base is not http(s)');
});

test('citationSegments + safeHref, property: for seeded hostile answers and source urls, the text is kept whole and every link is http(s), on the base origin unless the source gave an absolute http(s) url', async () => {
  const { rng, PAYLOADS, SEED } = await import('../support/hostile.mjs');
  const random = rng(SEED);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const urls = [
    'guide/a.md#x', '/root.html', '#top', 'https://site.example/docs/ok', 'http://other.example/', 'HTTPS://Other.Example/x',
    'javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', '\u0000javascript:alert(1)', '\u001fjavascript:alert(1)',
    'java\tscript:alert(1)', 'java\nscript:alert(1)', 'java\rscript:alert(1)', 'javascript&colon;alert(1)', '&#106;avascript:alert(1)',
    'jav&#x09;ascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:msgbox(1)', 'file:///etc/passwd',
    '//evil.example/x', '\\\\evil.example\\x', '/\\evil.example/x', '\\/evil.example/x', 'https:evil.example', 'http:/\\evil.example',
    'https://user:pw@site.example/', 'https://site.example@evil.example/', 'blob:https://site.example/x', 'about:blank',
    'javascript:alert(1).html', ' JaVaScRiPt:alert(2).html', 'java\tscript:alert(3).html', '\u202ejavascript:alert(1)', 'ja\u200bvascript:alert(1)',
    '', '   ', 'x'.repeat(5000), undefined, null, 42,
  ];
  const base = new URL('https://site.example/docs/');
  const absoluteHttp = (u) => {
    try {
      return /^https?:$/.test(new URL(u).protocol);
    } catch {
      return false;
    }
  };
  const ROUNDS = 400;
  let links = 0;
  let refused = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const sources = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) => ({ n: i + 1, url: pick(urls) }));
    let answer = '';
    for (let i = 0; i < 6; i++) answer += pick([pick(PAYLOADS), `[${1 + Math.floor(random() * 7)}]`, ' ', pick(urls) ?? '', '[1](javascript:alert(1))']);
    const segs = citationSegments(answer, sources, { base });
    const where = `round ${round}, seed ${SEED}: ${JSON.stringify(answer).slice(0, 200)} with ${JSON.stringify(sources)}`;
    assert.equal(segs.map((s) => s.text).join(''), answer, `every character is kept, as text (${where})`);
    for (const s of segs) {
      if (!('href' in s)) continue;
      assert.match(s.text, /^\[\d+\]$/, where);
      const source = sources.find((x) => x.n === s.n);
      assert.ok(source, `a link only for an existing source (${where})`);
      if (s.href === null) {
        refused++;
        continue;
      }
      links++;
      const u = new URL(s.href);
      assert.ok(/^https?:$/.test(u.protocol) && !u.username && !u.password, `${s.href} (${where})`);
      if (!absoluteHttp(source.url)) assert.equal(u.origin, base.origin, `a relative url stays on the site: ${JSON.stringify(source.url)} → ${s.href} (${where})`);
    }
  }
  assert.ok(links > 50 && refused > 50, `both outcomes were exercised: ${links} links, ${refused} refused`);
});
