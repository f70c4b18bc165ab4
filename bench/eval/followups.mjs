// Follow-up questions: recall of a follow-up searched in its conversation against the same
// question asked in full. Each set of pairs is JSON lines {site, history, q, full, relevant}:
// `history` the earlier questions, oldest first; `q` the follow-up as a reader types it after
// them; `full` the same question asked on its own. For each site of a set it writes one
// questions file per variant and runs `docent eval --json` on it, against the site's MiniLM index:
//
//   bare        q alone, as if there were no conversation
//   concat      q followed by every earlier question, word for word (the naive alternative)
//   formed      the query docent forms from the conversation (src/conversation.rs,
//               retrieval_query; read from `docent ask --history --json`), searched alone
//   lean-uncited  q with "history" through the fragments (--fragments), the earlier turns
//               without sources: the formed query alone
//   lean        the same, each earlier turn carrying the sources the system gave it (see
//               followup), as the lean module and the widget search a follow-up
//   uncited     q with "history" through index.bin, the earlier turns without sources:
//               searched in its conversation (Docent::search_conversation: the formed query,
//               fused with q's own hits on the pages of the topic question's first hits)
//   followup    the same, each earlier turn carrying the sources the system gave it: `docent
//               eval` asks the earlier questions first, in their own conversation, and each turn
//               keeps the urls of its first 5 hits (none when the gate flagged it), as the widget
//               keeps its answers' sources; never the pairs' relevant urls
//   full        full
//
// and writes bench/results/followups.md (and .json) with recall@1/5/10 and MRR@10 per variant,
// hybrid retrieval (lexical and dense in the JSON), per site and over all pairs of each set.
//
//   node bench/eval/followups.mjs [--index DIR] [--pairs FILE] [--out bench/results/followups]
//
// The sets: bench/eval/followups.jsonl, the 48 pairs the rules were chosen on (the tuning set),
// bench/eval/followups-heldout.jsonl, 24 pairs written before any rule was tuned and not
// looked at while tuning (the held-out set), bench/eval/followups-heldout2.jsonl, 38 more
// written from the pages before the context search's fusion was changed (held-out 2), and
// bench/eval/followups-unanswerable.jsonl, 13 follow-ups the sites do not cover after a topic
// they do (every `relevant` empty: only the share the gate flags is reported); --pairs FILE
// measures one file instead.
//
// DIR holds one index folder per site (default $CARGO_TARGET_DIR/eval/index, written by
// `./build.sh eval`); the CLI is $DOCENT_BIN (default $CARGO_TARGET_DIR/debug/docent).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const CLI = process.env.DOCENT_BIN ?? join(TARGET, 'debug/docent');
const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const INDEX = opt('--index') ?? join(TARGET, 'eval/index');
const SETS = opt('--pairs')
  ? [{ name: basename(opt('--pairs'), '.jsonl'), file: resolve(opt('--pairs')) }]
  : [
      { name: 'tuning', file: join(root, 'bench/eval/followups.jsonl') },
      { name: 'held-out', file: join(root, 'bench/eval/followups-heldout.jsonl') },
      { name: 'held-out 2', file: join(root, 'bench/eval/followups-heldout2.jsonl') },
      { name: 'unanswerable', file: join(root, 'bench/eval/followups-unanswerable.jsonl') },
    ];
const OUT = opt('--out') ?? join(root, 'bench/results/followups');
const WORK = join(TARGET, 'eval/followups');
mkdirSync(WORK, { recursive: true });

const VARIANTS = {
  bare: { make: (p) => ({ q: p.q, relevant: p.relevant }) },
  concat: { make: (p) => ({ q: [p.q, ...p.history.slice().reverse()].join(' '), relevant: p.relevant }) },
  formed: { make: (p, site) => ({ q: formedQuery(site, p), relevant: p.relevant }) },
  'lean-uncited': { make: (p) => ({ q: p.q, history: p.history.map((question) => ({ question })), relevant: p.relevant }), flags: ['--fragments'] },
  lean: { make: (p) => ({ q: p.q, history: p.history, relevant: p.relevant }), flags: ['--fragments'] },
  uncited: { make: (p) => ({ q: p.q, history: p.history.map((question) => ({ question })), relevant: p.relevant }) },
  followup: { make: (p) => ({ q: p.q, history: p.history, relevant: p.relevant }) },
  full: { make: (p) => ({ q: p.full, relevant: p.relevant }) },
};
/** The query docent forms for pair `p`: the prompt's `query` (empty when it is the question). */
function formedQuery(site, p) {
  const history = join(WORK, 'history.json');
  writeFileSync(history, JSON.stringify(p.history.map((question) => ({ question }))));
  const r = spawnSync(CLI, ['ask', join(INDEX, site), p.q, '--history', history, '--json'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docent ask ${site} ${p.q} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout).query || p.q;
}
const KEYS = ['recall_at_1', 'recall_at_5', 'recall_at_k', 'mrr_at_10'];

/** Runs every variant on every site of one set; returns {site: {pairs, variant: {modes, kept}}, all}. */
function measure(set) {
  const pairs = readFileSync(set.file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const sites = [...new Set(pairs.map((p) => p.site))];
  // A set of follow-ups the documents do not cover (every `relevant` empty) measures the gate only.
  const unanswerable = pairs.every((p) => p.relevant.length === 0);
  const results = { file: relative(root, set.file), unanswerable };
  for (const site of sites) {
    const mine = pairs.filter((p) => p.site === site);
    results[site] = { pairs: mine.length };
    for (const [name, v] of Object.entries(VARIANTS)) {
      const file = join(WORK, `${basename(set.file, '.jsonl')}-${site}-${name}.jsonl`);
      writeFileSync(file, mine.map((p) => JSON.stringify(v.make(p, site))).join('\n') + '\n');
      const argv = ['eval', join(INDEX, site), file, '--json', ...(v.flags ?? [])];
      const r = spawnSync(CLI, argv, { cwd: root, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`docent eval ${site} ${name} failed:\n${r.stderr}`);
      const j = JSON.parse(r.stdout);
      results[site][name] = { modes: j.modes, kept: j.gate.answerable_kept, flagged: j.gate.unanswerable_flagged };
      const r5 = j.modes.find((m) => m.mode === 'hybrid').recall_at_5;
      console.error(`[followups] ${set.name} ${site} ${name}: hybrid recall@5 ${r5.toFixed(3)}, flagged ${j.gate.unanswerable_flagged.toFixed(3)}`);
    }
  }
  // Over all pairs: each site's figures weighted by its pairs.
  const all = { pairs: pairs.length };
  for (const name of Object.keys(VARIANTS)) {
    const modes = {};
    for (const site of sites) {
      for (const m of results[site][name].modes) {
        modes[m.mode] ??= { mode: m.mode, recall_at_1: 0, recall_at_5: 0, recall_at_k: 0, mrr_at_10: 0 };
        for (const key of KEYS) modes[m.mode][key] += (m[key] * results[site].pairs) / pairs.length;
      }
    }
    const kept = sites.reduce((s, site) => s + results[site][name].kept * results[site].pairs, 0) / pairs.length;
    const flagged = sites.reduce((s, site) => s + results[site][name].flagged * results[site].pairs, 0) / pairs.length;
    all[name] = { modes: Object.values(modes), kept, flagged };
  }
  results.all = all;
  results.sites = sites;
  return results;
}

const f = (x) => x.toFixed(3);
const hybrid = (r, name) => r[name].modes.find((m) => m.mode === 'hybrid');
const measured = SETS.map((set) => ({ ...set, results: measure(set) }));
writeFileSync(`${OUT}.json`, JSON.stringify(Object.fromEntries(measured.map((s) => [s.name, s.results])), null, 2) + '\n');

let md = `# Follow-up questions: recall in the conversation against the question asked in full\n\n`;
md += `Follow-ups written for the evaluation sites, each searched eight ways against the site's MiniLM index with \`docent eval\`, hybrid retrieval (the default). \`bare\`: the follow-up alone; \`concat\`: the follow-up followed by the earlier questions word for word; \`formed\`: the query docent forms from the conversation (\`retrieval_query\`) searched alone; \`lean-uncited\`: in its conversation through the fragments, the earlier turns carrying no sources (the formed query alone); \`lean\`: the same with each earlier turn carrying the sources the system gave it (see \`followup\`), as the lean module and the widget search a follow-up; \`uncited\`: in its conversation through index.bin (\`Docent::search_conversation\`: the formed query fused with the follow-up's own hits on the pages of the topic question's first 5 hits), the earlier turns carrying no sources; \`followup\`: the same with each earlier turn carrying the sources the system gave it (\`docent eval\` asks the earlier questions first and keeps the urls of their first 5 hits, as the widget keeps its answers' sources; never the relevant urls), as \`docent ask --history\` and the in-memory index search a follow-up; \`full\`: the same question asked on its own. "kept": answerable follow-ups the gate let through.\n\n`;
// Paths as a reader of the results can use them: under $CARGO_TARGET_DIR, or the repo's target/.
const shown = (p) => {
  const dir = process.env.CARGO_TARGET_DIR;
  if (dir && p.startsWith(`${dir.replace(/\/$/, '')}/`)) return `$CARGO_TARGET_DIR/${p.slice(dir.replace(/\/$/, '').length + 1)}`;
  return p.replace(/.*\/target\//, 'target/');
};
md += `Command: \`node bench/eval/followups.mjs --index ${opt('--index') ? shown(opt('--index')) : '$CARGO_TARGET_DIR/eval/index'}\` (CLI: \`${shown(CLI)}\`)\n`;
for (const set of measured) {
  const r = set.results;
  if (r.unanswerable) {
    md += `\n## ${set.name}: \`${r.file}\` (${r.all.pairs} follow-ups the documents do not cover)\n\n`;
    md += `Share the gate flags as not covered ("full": the same question asked on its own).\n\n`;
    md += `| site | follow-ups | ${Object.keys(VARIANTS).join(' | ')} |\n|---|---:|${Object.keys(VARIANTS).map(() => '---:').join('|')}|\n`;
    for (const site of [...r.sites, 'all']) {
      md += `| ${site} | ${r[site].pairs} | ${Object.keys(VARIANTS).map((name) => f(r[site][name].flagged)).join(' | ')} |\n`;
    }
    continue;
  }
  md += `\n## ${set.name}: \`${r.file}\` (${r.all.pairs} pairs)\n\n`;
  md += `| site | pairs | variant | recall@1 | recall@5 | recall@10 | MRR@10 | kept |\n|---|---:|---|---:|---:|---:|---:|---:|\n`;
  for (const site of [...r.sites, 'all']) {
    for (const name of Object.keys(VARIANTS)) {
      const h = hybrid(r[site], name);
      md += `| ${site} | ${r[site].pairs} | ${name} | ${f(h.recall_at_1)} | ${f(h.recall_at_5)} | ${f(h.recall_at_k)} | ${f(h.mrr_at_10)} | ${f(r[site][name].kept)} |\n`;
    }
  }
}
md += `\nrecall@5 in the conversation − asked in full (target: within 0.05):\n\n`;
for (const set of measured.filter((s) => !s.results.unanswerable)) {
  const r5 = (name) => hybrid(set.results.all, name).recall_at_5;
  const d = (name) => (r5(name) - r5('full')).toFixed(3);
  md += `- ${set.name}: followup ${d('followup')}, uncited ${d('uncited')}, formed ${d('formed')}, lean ${d('lean')}, lean-uncited ${d('lean-uncited')}\n`;
}
writeFileSync(`${OUT}.md`, md);
console.log(md);
