// Follow-up questions: recall of a follow-up searched with its conversation against the same
// question asked in full, on bench/eval/followups.jsonl (lines {site, history, q, full,
// relevant}: `history` the earlier questions, oldest first; `q` the follow-up as a reader types
// it after them; `full` the same question asked on its own). For each site it writes four
// questions files and runs `docent eval --json` on each, against the site's MiniLM index:
//
//   bare      q alone, as if there were no conversation
//   concat    q followed by every earlier question, word for word (the naive alternative)
//   followup  q with "history": the query docent forms (src/conversation.rs, retrieval_query)
//   full      full
//
// and writes bench/results/followups.md (and .json) with recall@1/5/10 and MRR@10 per variant,
// hybrid retrieval (lexical and dense in the JSON), per site and over all pairs.
//
//   node bench/eval/followups.mjs [--index DIR] [--pairs FILE] [--out bench/results/followups]
//
// FILE is the set of pairs (default bench/eval/followups.jsonl, the set the rules were set on;
// bench/eval/followups-heldout.jsonl is the held-out set, written before they were tuned).
//
// DIR holds one index folder per site (default $CARGO_TARGET_DIR/eval/index, written by
// `./build.sh eval`); the CLI is $DOCENT_BIN (default $CARGO_TARGET_DIR/debug/docent).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const CLI = process.env.DOCENT_BIN ?? join(TARGET, 'debug/docent');
const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const INDEX = opt('--index') ?? join(TARGET, 'eval/index');
const PAIRS = opt('--pairs') ?? 'bench/eval/followups.jsonl';
const OUT = opt('--out') ?? join(root, 'bench/results/followups');
const WORK = join(TARGET, 'eval/followups');
mkdirSync(WORK, { recursive: true });

const pairs = readFileSync(resolve(root, PAIRS), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l));
const VARIANTS = {
  bare: (p) => ({ q: p.q, relevant: p.relevant }),
  concat: (p) => ({ q: [p.q, ...p.history.slice().reverse()].join(' '), relevant: p.relevant }),
  followup: (p) => ({ q: p.q, history: p.history, relevant: p.relevant }),
  full: (p) => ({ q: p.full, relevant: p.relevant }),
};
const sites = [...new Set(pairs.map((p) => p.site))];
const results = {};
for (const site of sites) {
  const mine = pairs.filter((p) => p.site === site);
  results[site] = { pairs: mine.length };
  for (const [name, make] of Object.entries(VARIANTS)) {
    const file = join(WORK, `${basename(PAIRS, '.jsonl')}-${site}-${name}.jsonl`);
    writeFileSync(file, mine.map((p) => JSON.stringify(make(p))).join('\n') + '\n');
    const r = spawnSync(CLI, ['eval', join(INDEX, site), file, '--json'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`docent eval ${site} ${name} failed:\n${r.stderr}`);
    const j = JSON.parse(r.stdout);
    results[site][name] = { modes: j.modes, kept: j.gate.answerable_kept };
    console.error(`[followups] ${site} ${name}: hybrid recall@5 ${j.modes.find((m) => m.mode === 'hybrid').recall_at_5.toFixed(3)}`);
  }
}
// Over all pairs: each site's figures weighted by its pairs.
const all = { pairs: pairs.length };
for (const name of Object.keys(VARIANTS)) {
  const modes = {};
  for (const site of sites) {
    for (const m of results[site][name].modes) {
      modes[m.mode] ??= { mode: m.mode, recall_at_1: 0, recall_at_5: 0, recall_at_k: 0, mrr_at_10: 0 };
      for (const key of ['recall_at_1', 'recall_at_5', 'recall_at_k', 'mrr_at_10']) {
        modes[m.mode][key] += (m[key] * results[site].pairs) / pairs.length;
      }
    }
  }
  const kept = sites.reduce((s, site) => s + results[site][name].kept * results[site].pairs, 0) / pairs.length;
  all[name] = { modes: Object.values(modes), kept };
}
results.all = all;
writeFileSync(`${OUT}.json`, JSON.stringify(results, null, 2) + '\n');

const f = (x) => x.toFixed(3);
let md = `# Follow-up questions: recall with the conversation against the question asked in full\n\n`;
md += `${pairs.length} follow-ups written for the evaluation sites (\`bench/eval/followups.jsonl\`), each searched four ways against the site's MiniLM index with \`docent eval\`, hybrid retrieval (the default). \`bare\`: the follow-up alone; \`concat\`: the follow-up followed by the earlier questions word for word; \`followup\`: the query docent forms from the conversation (\`src/conversation.rs\`); \`full\`: the same question asked on its own. "kept": answerable follow-ups the gate let through.\n\n`;
md += `Command: \`node bench/eval/followups.mjs --index ${opt('--index') ? opt('--index').replace(/.*\/target\//, 'target/') : '$CARGO_TARGET_DIR/eval/index'}\` (CLI: \`${CLI.replace(/.*\/target\//, 'target/')}\`)\n\n`;
md += `| site | pairs | variant | recall@1 | recall@5 | recall@10 | MRR@10 | kept |\n|---|---:|---|---:|---:|---:|---:|---:|\n`;
for (const site of [...sites, 'all']) {
  for (const name of Object.keys(VARIANTS)) {
    const h = results[site][name].modes.find((m) => m.mode === 'hybrid');
    md += `| ${site} | ${results[site].pairs} | ${name} | ${f(h.recall_at_1)} | ${f(h.recall_at_5)} | ${f(h.recall_at_k)} | ${f(h.mrr_at_10)} | ${f(results[site][name].kept)} |\n`;
  }
}
const r5 = (name) => all[name].modes.find((m) => m.mode === 'hybrid').recall_at_5;
md += `\nrecall@5, follow-up with its conversation − asked in full: ${(r5('followup') - r5('full')).toFixed(3)} (target: within 0.05).\n`;
writeFileSync(`${OUT}.md`, md);
console.log(md);
