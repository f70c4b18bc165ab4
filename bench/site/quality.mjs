// Retrieval quality of the fragmented path against the monolithic one, on the same index folder
// and eval set: `docent search DIR --queries QUESTIONS --k 10 --json --mode M` reads index.bin,
// the same with `--fragments` reads manifest.json and only the fragments each query needs (as
// the browser does). recall@1/5 and MRR@10 are computed here with `docent eval`'s rule (a hit is
// relevant when its url#anchor starts with one of the question's urls; answerable questions
// only), and `docent eval` itself is run on the monolithic index as a cross-check. BM25 must
// rank identically; the IVF dense path may lose at most 0.01.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MODES = ['lexical', 'dense', 'hybrid'];

function run(cli, argv, env) {
  const r = spawnSync(cli, argv, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`docent ${argv.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  return r;
}

function metrics(lines, questions) {
  let n = 0;
  let r1 = 0;
  let r5 = 0;
  let mrr = 0;
  lines.forEach((hits, i) => {
    const relevant = questions[i].relevant ?? [];
    if (!relevant.length) return;
    n++;
    const rank = hits.findIndex((h) => relevant.some((u) => h.startsWith(u)));
    if (rank === 0) r1++;
    if (rank >= 0 && rank < 5) r5++;
    if (rank >= 0 && rank < 10) mrr += 1 / (rank + 1);
  });
  return { answerable: n, recall1: r1 / n, recall5: r5 / n, mrr10: mrr / n };
}

/** The CLI's fragment option of `docent search`, or null. */
export function fragmentFlag(cli) {
  const help = spawnSync(cli, ['search', '--help'], { encoding: 'utf8' }).stdout ?? '';
  return /(--fragments)\b/.exec(help)?.[1] ?? null;
}

/** {monolithic, fragmented, sameRanking, fetched, evalCheck, note}: per mode. */
export function evalFragments(cli, dir, questionsFile, env) {
  const questions = readFileSync(questionsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const flag = fragmentFlag(cli);
  const out = { questions: questions.length, monolithic: {}, fragmented: flag ? {} : null, sameRanking: {}, fetched: {}, note: null };
  for (const mode of MODES) {
    const search = (extra) => {
      const r = run(cli, ['search', dir, '--queries', questionsFile, '--k', '10', '--json', '--mode', mode, ...extra], env);
      return { hits: r.stdout.trim().split('\n').map((l) => JSON.parse(l).hits.map((h) => h.url)), stderr: r.stderr };
    };
    const mono = search([]);
    out.monolithic[mode] = metrics(mono.hits, questions);
    if (!flag) continue;
    const frag = search([flag]);
    out.fragmented[mode] = metrics(frag.hits, questions);
    out.sameRanking[mode] = mono.hits.filter((h, i) => JSON.stringify(h) === JSON.stringify(frag.hits[i])).length;
    out.fetched[mode] = frag.stderr.trim().split('\n').filter((l) => /fetched/.test(l)).slice(-1)[0] ?? null;
  }
  if (!flag) out.note = '`docent search` has no --fragments option: only the monolithic numbers are measured';
  // Cross-check: docent eval's own numbers on index.bin.
  const ev = JSON.parse(run(cli, ['eval', dir, questionsFile, '--json'], env).stdout);
  out.evalCheck = Object.fromEntries(ev.modes.map((m) => [m.mode, { recall5: m.recall_at_5, mrr10: m.mrr_at_10 }]));
  return out;
}
