// Fusion rules for a follow-up's two searches, compared: hybrid recall@5, the share kept by the
// gate (answerable sets) and the share flagged (bench/eval/followups-unanswerable.jsonl) of the
// `followup` (index.bin) and `lean` (fragments) paths of bench/eval/followups.mjs, for the rule
// the CLI was built with. The rules other than the one docent ships (conversation::fuse_on_topic,
// reciprocal rank sum) come from bench/eval/followup-rules.patch, which makes the rule a choice
// of the DOCENT_FUSE environment variable: `sum` (the shipped rule), `min` (each hit's better
// rank, ties by the sum then id), `min-formed` / `min-own` (better rank, a hit of both lists
// first, then the formed query's / the own words' hit), `w=X` (the own hits on the topic's pages
// weighted X), `k=X` (the RRF constant X for this fusion only). Not for shipping: measuring only.
//
//   git apply bench/eval/followup-rules.patch && cargo build --bin docent --no-default-features \
//     --features parallel,models,instant-distance,pdf,http
//   DOCENT_FUSE=min node bench/eval/followup-rules.mjs bench/eval/followups.jsonl followup,lean
//
// Indexes: $CARGO_TARGET_DIR/eval/index/<site> (./build.sh eval); CLI: $DOCENT_BIN (default
// $CARGO_TARGET_DIR/debug/docent); SITES=a,b limits the sites. Prints one line per site and
// variant and one for all pairs (weighted by each site's pairs).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const [file, vs] = process.argv.slice(2);
const root = fileURLToPath(new URL('../../', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const CLI = process.env.DOCENT_BIN ?? join(TARGET, 'debug/docent');
const INDEX = join(TARGET, 'eval/index');
const WORK = join(TARGET, 'eval/followup-rules');
const V = {
  lean: { make: (p) => ({ q: p.q, history: p.history, relevant: p.relevant }), flags: ['--fragments'] },
  followup: { make: (p) => ({ q: p.q, history: p.history, relevant: p.relevant }) },
  full: { make: (p) => ({ q: p.full, relevant: p.relevant }) },
};
const pairs = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const sites = [...new Set(pairs.map((p) => p.site))].filter((s) => !process.env.SITES || process.env.SITES.split(',').includes(s));
mkdirSync(WORK, { recursive: true });
const tot = {};
for (const name of vs.split(',')) {
  for (const site of sites) {
    const mine = pairs.filter((p) => p.site === site);
    const f = `${WORK}/${basename(file, '.jsonl')}-${site}-${name}.jsonl`;
    writeFileSync(f, mine.map((p) => JSON.stringify(V[name].make(p))).join('\n') + '\n');
    const r = spawnSync(CLI, ['eval', `${INDEX}/${site}`, f, '--json', ...(V[name].flags ?? [])], { encoding: 'utf8', cwd: root });
    if (r.status !== 0) throw new Error(r.stderr);
    const j = JSON.parse(r.stdout);
    const r5 = j.modes.find((m) => m.mode === 'hybrid').recall_at_5;
    const t = (tot[name] ??= { r5: 0, kept: 0, flagged: 0, n: 0 });
    t.r5 += r5 * mine.length; t.kept += j.gate.answerable_kept * mine.length; t.flagged += j.gate.unanswerable_flagged * mine.length; t.n += mine.length;
    console.log(`${basename(file)} ${process.env.DOCENT_FUSE ?? 'sum'} ${site} ${name} r5 ${r5.toFixed(3)} kept ${j.gate.answerable_kept.toFixed(3)} flagged ${j.gate.unanswerable_flagged.toFixed(3)}`);
  }
  const t = tot[name];
  console.log(`${basename(file)} ${process.env.DOCENT_FUSE ?? 'sum'} ALL ${name} r5 ${(t.r5 / t.n).toFixed(3)} kept ${(t.kept / t.n).toFixed(3)} flagged ${(t.flagged / t.n).toFixed(3)} n ${t.n}`);
}
