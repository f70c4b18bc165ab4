// bench/results/site.md and site.json from one run of bench/site/run.mjs.

const kB = (n) => (n / 1e3).toFixed(1);
const MB = (n) => (n / 1e6).toFixed(2);
const s1 = (x) => x.toFixed(1);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Bytes and requests of one session: to the 1st, 2nd and 10th answer (cumulative, with what was
 * loaded in the background between the 1st and the 2nd), and the median of questions 2..n. */
export function sums(sess) {
  if (!sess || sess.error || !sess.questions.length) return null;
  const q = sess.questions;
  const bg = sess.background ?? { bytes: 0, requests: 0 };
  const upto = (n) => ({
    bytes: q.slice(0, n).reduce((a, x) => a + x.bytes, 0) + (n > 1 ? bg.bytes : 0),
    requests: q.slice(0, n).reduce((a, x) => a + x.requests, 0) + (n > 1 ? bg.requests : 0),
  });
  const later = q.slice(1);
  return {
    first: upto(1),
    second: q.length >= 2 ? upto(2) : null,
    tenth: q.length >= 10 ? upto(10) : null,
    background: bg,
    laterMedian: later.length ? { bytes: median(later.map((x) => x.bytes)), requests: median(later.map((x) => x.requests)), max: Math.max(...later.map((x) => x.bytes)), min: Math.min(...later.map((x) => x.bytes)) } : null,
    firstMs: q[0]?.ms ?? NaN,
  };
}

/** The issue's targets, each with what was measured. */
function targets(sites) {
  const out = [];
  const add = (what, site, value, limit, unit) => {
    if (value == null || Number.isNaN(value)) return;
    const met = value <= limit;
    const by = met ? `met, ${s1(((limit - value) / limit) * 100)}% under` : `missed by ${unit === 'ms' ? `${(value - limit).toFixed(0)} ms` : `${kB(value - limit)} kB`} (×${(value / limit).toFixed(1)})`;
    out.push({ what, site, value, limit, unit, met, by });
  };
  for (const name of ['rust-book', 'cargo-book']) {
    const r = sites[name];
    if (!r) continue;
    add('gzip bytes to the first answer', name, sums(r.docent.dense)?.first.bytes, 300e3, 'B');
    add('median gzip bytes per later lexical question', name, sums(r.docent.lexical)?.laterMedian?.bytes, 20e3, 'B');
    add('first answer, throttled 10 Mbit/s + 50 ms (focus → answer)', name, r.docent.throttled?.questions[0]?.ms, 1000, 'ms');
  }
  const big = sites['gen-1m'];
  if (big) {
    add('gzip bytes to the first answer', 'gen-1m', sums(big.docent.dense)?.first.bytes, 500e3, 'B');
    add('median gzip bytes per question on the dense path (embedder loaded)', 'gen-1m', sums(big.docent.dense)?.laterMedian?.bytes, 300e3, 'B');
  }
  return out;
}

function topFiles(files, n = 5) {
  return [...files].sort((a, b) => b[1] - a[1]).slice(0, n).map(([p, b]) => `${p.split('/').pop()} ${kB(b)}`).join(', ');
}

export function report(results) {
  const sites = results.sites;
  const lines = [];
  const line = (s = '') => lines.push(s);
  const f1 = (x) => x.toFixed(1);
  line('# A static site\'s search box: bytes and time per question, docent against Pagefind');
  line();
  line(`- date: ${results.started.slice(0, 16)}Z; machine: ${results.machine}; load average before ${results.loadBefore.map(f1).join(' ')}, after ${results.loadAfter.map(f1).join(' ')} (shared machine)`);
  line(`- browser: headless Chromium ${results.chromium} (Debian /usr/bin/chromium via playwright-core), a fresh profile (empty HTTP cache, Cache API, storage) per session`);
  line('- server: 127.0.0.1, gzip level 6 on the fly when it shrinks the file (as a CDN does; Pagefind\'s own files are gzip already), hashed files `immutable`, entry files and pages `no-cache`; bytes are the compressed bodies the server sent, requests every GET (the Web Worker\'s too); the benchmark\'s own page is not counted');
  line(`- command: \`${results.command}\` (\`./build.sh bench\` runs it); Pagefind ${Object.values(sites)[0]?.pagefind.build.version ?? '?'} (npm) on the same pages as docent, twice: \`--root-selector main\` (the pages\' text without the navigation, as docent reads them) and its defaults (the whole \`<body>\`, as the issue measured it)`);
  line('- questions: bench/site/questions.json, 10 per site as a reader types them; Pagefind: its Default UI, a question counts as answered when its first page of results (5) has loaded its data; docent: `<docent-ask offline>` (the extractive answer, no LLM), answered at its `docent-answer` event');
  line('- docent modes: *lexical* `embed="never"` (BM25 only); *dense* `embed="answer"` (the first answer lexical, then the embedder loads in the background and later questions are hybrid). A widget without these attributes (the monolithic one) loads the whole index and the model before the first answer in both.');
  const earlier = Object.entries(sites).filter(([, r]) => r.command && r.command !== results.command);
  for (const [name, r] of earlier) line(`- ${name}: kept from an earlier run (${r.measured.slice(0, 16)}Z, \`${r.command}\`)`);
  line();
  line('## The sites and their indexes');
  line();
  line('Pagefind: `--root-selector main`; in brackets its defaults (the whole `<body>`). docent: the folder holds the index, the model files and the web runtime; *index* is manifest.json, index.bin and fragments/.');
  line();
  line('| site | pages | docent chunks | embedder | Pagefind build s | Pagefind folder MB (files) | docent build s: fresh / re-run | docent folder MB (files) | of which index MB | fragments (re-run: reused, written) |');
  line('|---|---:|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const [name, r] of Object.entries(sites)) {
    const p = r.pagefind.build;
    const d = r.docent.build;
    const pd = r.pagefindDefaults?.build;
    const fr = d.rerun?.fragments;
    line(`| ${name} (${r.title}) | ${p.pages} | ${d.chunks} | ${d.embedder.kind} | ${s1(p.seconds)}${pd ? ` (${s1(pd.seconds)})` : ''} | ${MB(p.bytes)} (${p.files})${pd ? ` [${MB(pd.bytes)} (${pd.files})]` : ''} | ${s1(d.fresh.seconds)} / ${d.rerun ? s1(d.rerun.seconds) : '–'} | ${MB(d.bytes)} (${d.files}) | ${MB(d.indexBytes)} | ${d.fragmented ? `${d.fragments}${fr ? ` (${fr.reused}, ${fr.written})` : ''}` : 'none (monolithic)'} |`);
  }
  line();
  line('## Bytes and requests per answer (gzip kB / requests)');
  line();
  line('*to 2nd* and *to 10th* are cumulative from the page load (for docent dense, with what the widget loaded in the background between the 1st and 2nd question); *later* is the median of questions 2–10 (min–max).');
  line();
  line('| site | tool | to 1st answer | background after 1st | to 2nd | to 10th | later, median (min–max) | 1st answer ms (unthrottled) | docent ÷ Pagefind (÷ defaults), 1st |');
  line('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, r] of Object.entries(sites)) {
    const pf = sums(r.pagefind.session);
    const pfd = sums(r.pagefindDefaults?.session);
    const rows = [
      ['Pagefind', pf, r.pagefind.session],
      ['Pagefind, defaults', pfd, r.pagefindDefaults?.session],
      ['docent lexical', sums(r.docent.lexical), r.docent.lexical],
      ['docent dense', sums(r.docent.dense), r.docent.dense],
    ];
    for (const [tool, s, sess] of rows) {
      if (!s) {
        if (sess?.error) line(`| ${name} | ${tool} | failed: ${sess.error.replace(/\|/g, '\\|')} | | | | | | |`);
        continue;
      }
      const c = (x) => (x ? `${kB(x.bytes)} / ${x.requests}` : '–');
      const later = s.laterMedian ? `${kB(s.laterMedian.bytes)} / ${s.laterMedian.requests} (${kB(s.laterMedian.min)}–${kB(s.laterMedian.max)})` : '–';
      const ratio = tool.startsWith('Pagefind') || !pf ? '' : `×${(s.first.bytes / pf.first.bytes).toFixed(2)}${pfd ? ` / ×${(s.first.bytes / pfd.first.bytes).toFixed(2)}` : ''}`;
      line(`| ${name} | ${tool} | ${c(s.first)} | ${tool === 'docent dense' ? c(s.background) : '–'} | ${c(s.second)} | ${c(s.tenth)} | ${later} | ${s.firstMs.toFixed(0)} | ${ratio} |`);
    }
  }
  line();
  line('Largest files of the first answer (kB):');
  line();
  for (const [name, r] of Object.entries(sites)) {
    const files = (sess) => (sess?.questions[0] ? topFiles(sess.questions[0].files) : '–');
    line(`- ${name}: Pagefind ${files(r.pagefind.session)}; Pagefind, defaults ${files(r.pagefindDefaults?.session)}; docent ${files(r.docent.dense)}`);
  }
  if (Object.values(sites).some((r) => r.docent.throttled)) {
    line();
    line('## Time to the first answer, throttled (Chromium DevTools: 10 Mbit/s down and up, 50 ms latency)');
    line();
    line('From focusing the box (the widget starts loading then; Pagefind\'s UI is loaded with the page) to the answer, the page itself already loaded. One cold session each.');
    line();
    line('| site | Pagefind ms (kB) | Pagefind, defaults ms (kB) | docent ms (kB) | docent ÷ Pagefind |');
    line('|---|---:|---:|---:|---:|');
    for (const [name, r] of Object.entries(sites)) {
      if (!r.docent.throttled) continue;
      const p = r.pagefind.throttled?.questions[0];
      const d = r.docent.throttled.questions[0];
      const cell = (x, sess) => (x ? `${x.ms.toFixed(0)} (${kB(x.bytes)})` : `failed: ${sess?.error ?? '?'}`);
      const pd = r.pagefindDefaults?.throttled;
      line(`| ${name} | ${cell(p, r.pagefind.throttled)} | ${pd ? cell(pd.questions[0], pd) : '–'} | ${cell(d, r.docent.throttled)} | ${p && d ? `×${(d.ms / p.ms).toFixed(2)}` : '–'} |`);
    }
  }
  const quality = (q, title, how) => {
    if (!q) return;
    line();
    line(`## ${title} (bench/eval/cargo-book.jsonl, ${q.monolithic.lexical?.answerable ?? '?'} answerable of ${q.questions})`);
    line();
    line(how + ' `docent eval` on index.bin, as a cross-check: ' + Object.entries(q.evalCheck ?? {}).map(([m, x]) => `${m} ${x.recall5.toFixed(3)} / ${x.mrr10.toFixed(3)}`).join(', ') + '.');
    if (q.note) line(q.note + '.');
    line();
    line('| mode | monolithic recall@5 | MRR@10 | fragmented recall@5 | MRR@10 | Δ recall@5 | Δ MRR@10 | same top 10 |');
    line('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const [mode, m] of Object.entries(q.monolithic)) {
      const f = q.fragmented?.[mode];
      const d = (a, b) => (b == null ? '–' : (b - a >= 0 ? '+' : '') + (b - a).toFixed(3));
      line(`| ${mode} | ${m.recall5.toFixed(3)} | ${m.mrr10.toFixed(3)} | ${f ? f.recall5.toFixed(3) : '–'} | ${f ? f.mrr10.toFixed(3) : '–'} | ${d(m.recall5, f?.recall5)} | ${d(m.mrr10, f?.mrr10)} | ${q.sameRanking?.[mode] ?? '–'} / ${q.questions} |`);
    }
  };
  quality(sites['cargo-book']?.quality, 'Retrieval quality: fragmented against monolithic',
    '`docent search <cargo-book folder> --queries bench/eval/cargo-book.jsonl --k 10 --json --mode M`, reading index.bin, and the same with `--fragments` (manifest, then only the fragments each query needs, as the browser does); recall and MRR computed with `docent eval`\'s rule (relevant when the hit\'s url#anchor starts with a listed url). *same top 10*: questions whose 10 hits are identical, in order.');
  quality(sites['cargo-book']?.qualityRanged, 'The same for the layout of large sites (`--ranges always`)',
    'The book\'s folder copied and re-indexed with `docent index --ranges always` (chunks and vectors reused): ranged text packs, term shards and IVF partitions, as on a site of a million chunks. A book of a few thousand rows has no more partitions than a question probes (16), so here the dense path differs from the flat scan only by the sign codes\' shortlist of the 64 rows it rescores.');
  const t = targets(sites);
  line();
  line('## The targets of issue 16');
  line();
  line('| target | site | measured | limit | |');
  line('|---|---|---:|---:|---|');
  for (const x of t) {
    const v = (n) => (x.unit === 'ms' ? `${n.toFixed(0)} ms` : `${kB(n)} kB`);
    line(`| ${x.what} | ${x.site} | ${v(x.value)} | ${v(x.limit)} | ${x.met ? '**met**' : '**missed**'}: ${x.by} |`);
  }
  const md = lines.join('\n') + '\n';
  // The JSON keeps the per-file lists of the first answer and the background only.
  const json = JSON.parse(JSON.stringify(results, (k, v) => v));
  for (const r of Object.values(json.sites)) {
    for (const s of [r.pagefind.session, r.pagefind.throttled, r.pagefindDefaults?.session, r.pagefindDefaults?.throttled, r.docent.lexical, r.docent.dense, r.docent.throttled]) {
      if (!s?.questions) continue;
      s.questions.forEach((x, i) => {
        if (i > 0 && Array.isArray(x.files)) x.files = x.files.length;
      });
    }
  }
  json.targets = t;
  return { md, json };
}
