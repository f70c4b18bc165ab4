// Bytes a follow-up costs through the fragments (the lean module, pkg/docent_search_bg.wasm, as
// the widget's keyword search runs it), after its earlier question in the same session: with the
// earlier turn carrying the urls its answer was given (the context search of
// SiteIndex::search_conversation) against the same turn without them (the formed query alone).
// For each pair of a follow-ups file: a fresh SiteIndex over the site's index folder served on
// 127.0.0.1, the earlier question asked (k 5), then the follow-up; `fetched().bytes` before and
// after. Lexical path (no vector), as the widget's keyword search.
//
//   node bench/eval/followup_bytes.mjs [--index DIR] [--pairs FILE]
//
// DIR as in followups.mjs ($CARGO_TARGET_DIR/eval/index); FILE default bench/eval/followups.jsonl.
// Needs ./build.sh wasm. Prints a Markdown table (median, mean, max bytes of the follow-up).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStaticServer } from '../../tests/support/static-server.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const INDEX = resolve(opt('--index') ?? join(TARGET, 'eval/index'));
const PAIRS = resolve(opt('--pairs') ?? join(root, 'bench/eval/followups.jsonl'));

const { openSite } = await import(join(root, 'pkg/search.js'));
const pairs = readFileSync(PAIRS, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const web = await startStaticServer([['/', INDEX]]);
const costs = { cited: [], uncited: [], earlier: [] };
let elliptical = 0;
try {
  for (const p of pairs) {
    for (const kind of ['cited', 'uncited']) {
      const site = await openSite(`${web.origin}/${p.site}/`);
      try {
        const history = [];
        for (const question of p.history) {
          const prompt = await site.assemble(question, { k: 5, history: history.slice() });
          history.push({ question, answer: '', sources: kind === 'cited' && !prompt.abstained ? prompt.sources.map((s) => s.url) : [] });
        }
        const before = site.fetched().bytes;
        if (kind === 'cited') costs.earlier.push(before);
        const prompt = await site.assemble(p.q, { k: 5, history });
        if (kind === 'cited' && prompt.query) elliptical++;
        costs[kind].push(site.fetched().bytes - before);
      } finally {
        site.free();
      }
    }
  }
} finally {
  await web.close();
}
const median = (xs) => { const s = xs.slice().sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`Command: \`node bench/eval/followup_bytes.mjs --pairs ${PAIRS.replace(root, '')}\` (${pairs.length} pairs, ${elliptical} searched in their conversation)\n`);
console.log('| bytes fetched | median | mean | max |\n|---|---:|---:|---:|');
for (const [name, xs] of [['earlier question(s), from a fresh index', costs.earlier], ['follow-up, turn without sources (formed query alone)', costs.uncited], ['follow-up, turn with its sources (context search)', costs.cited]]) {
  console.log(`| ${name} | ${median(xs).toFixed(0)} | ${mean(xs).toFixed(0)} | ${Math.max(...xs)} |`);
}
