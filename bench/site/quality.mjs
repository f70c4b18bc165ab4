// Retrieval quality of the fragmented path against the monolithic one, on the same index folder
// and eval set: `docent eval DIR QUESTIONS --json` reads index.bin; with the CLI's fragment flag
// (the first `--…fragment…` option `docent eval --help` lists) it searches the fragments as the
// browser does. BM25 must rank identically; the IVF dense path may lose at most 0.01.
import { spawnSync } from 'node:child_process';

/** The CLI's option that makes `docent eval` read the fragments, or null when it has none. */
export function fragmentFlag(cli) {
  const help = spawnSync(cli, ['eval', '--help'], { encoding: 'utf8' }).stdout ?? '';
  return /(--[a-z-]*fragment[a-z-]*)/.exec(help)?.[1] ?? null;
}

function evalJson(cli, argv, env) {
  const r = spawnSync(cli, ['eval', ...argv, '--json'], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`docent eval ${argv.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout);
  return Object.fromEntries(out.modes.map((m) => [m.mode, { recall5: m.recall_at_5, mrr10: m.mrr_at_10, recall1: m.recall_at_1, recallK: m.recall_at_k }]));
}

/** {monolithic, fragmented|null, flag, note}: recall@5 and MRR@10 per mode. */
export function evalFragments(cli, dir, questions, env) {
  const monolithic = evalJson(cli, [dir, questions], env);
  const flag = fragmentFlag(cli);
  if (!flag) {
    return { monolithic, fragmented: null, flag: null, note: '`docent eval` has no option to search the fragments yet: only the monolithic numbers are measured' };
  }
  const fragmented = evalJson(cli, [dir, questions, flag], env);
  return { monolithic, fragmented, flag, note: null };
}
