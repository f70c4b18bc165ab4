// Fetch stages and bytes per question on a large site's ranged layout, as the browser reads the
// folder (`docent search --fragments`: the manifest, then only the fragments each question needs;
// a fresh reader for every question). The same pages are indexed twice by this build: with the
// records' places in the term postings (fragment version 5, the default) and without them
// (`--without-places`, version 4, where a question reads its hits' pack entries before their
// records). Questions: the Cargo book's evaluation questions (bench/eval/cargo-book.jsonl; the
// book is one of the site's six) and the large sites' reader questions (questions.json `mixed`).
//
//   node bench/site/stages.mjs [--site docs-135k] [--limit N]
//
// Writes bench/results/site-stages.md and .json. Needs the CLI (./build.sh setup) and the
// rust-docs component (the pages). A call is a batch of requests sent together; a stage is
// calls one after another (calls sent together count once); the manifest is not counted (the
// widget loads it while the module loads).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SITES, prepareBooks } from './sites.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CLI = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
const OUT = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'bench/site-stages');
const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const siteName = opt('--site') ?? 'docs-135k';
const limit = Number(opt('--limit') ?? Infinity);
const log = (s) => console.error(`[stages] ${s}`);

function run(argv, env = {}) {
  const r = spawnSync(CLI, argv, { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`docent ${argv.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr?.slice(-3000)}`);
  return r;
}

/** `fetched N fragments (B bytes) in R requests (S stages)` from a search's stderr. */
function fetched(stderr) {
  const m = /fetched (\d+) fragments \((\d+) bytes\) in (\d+) requests \((\d+) stages\)/.exec(stderr);
  if (!m) throw new Error(`no fetch line in: ${stderr.slice(-500)}`);
  return { fragments: Number(m[1]), bytes: Number(m[2]), calls: Number(m[3]), stages: Number(m[4]) };
}

function questions() {
  const evalQs = readFileSync(join(root, 'bench/eval/cargo-book.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l).q);
  const mixed = JSON.parse(readFileSync(join(root, 'bench/site/questions.json'), 'utf8')).mixed;
  return [...mixed, ...evalQs].slice(0, limit);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : 0;
};
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

async function main() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run ./build.sh setup or set DOCENT_BIN`);
  const site = SITES.find((s) => s.name === siteName && !s.generated);
  if (!site) throw new Error(`--site: expected one of ${SITES.filter((s) => !s.generated).map((s) => s.name).join(', ')}`);
  const dir = join(OUT, site.name);
  const pages = await prepareBooks(site, dir);
  const env = { DOCENT_MODEL_DIR: join(root, 'models') };
  const layouts = [
    { name: 'places (version 5)', flags: [] },
    { name: 'no places (version 4)', flags: ['--without-places'] },
  ];
  const qs = questions();
  const load = { before: loadavg().map((x) => x.toFixed(1)).join(' ') };
  const results = [];
  for (const layout of layouts) {
    const out = join(dir, layout.flags.length ? 'v4' : 'v5');
    const argv = ['index', pages.public, '--out', out, '--embedder', site.embedder, '--ranges', 'always', '--json', ...layout.flags];
    log(`docent ${argv.join(' ')}`);
    const summary = JSON.parse(run(argv, env).stdout);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    const lexBytes = manifest.fragments.lexical.bytes.reduce((a, b) => a + b, 0);
    const rows = [];
    for (const mode of ['lexical', 'hybrid']) {
      for (const q of qs) {
        const r = run(['search', out, '--fragments', '--mode', mode, '--k', '5', '--json', q], env);
        const hits = JSON.parse(r.stdout).hits?.length ?? 0;
        rows.push({ mode, q, hits, ...fetched(r.stderr) });
      }
    }
    results.push({ layout: layout.name, version: manifest.fragments.version, chunks: summary.chunks ?? manifest.chunks, lexBytes, rows });
  }
  load.after = loadavg().map((x) => x.toFixed(1)).join(' ');
  const json = { date: new Date().toISOString(), site: site.name, cpus: cpus().length, load, questions: qs.length, results };
  writeFileSync(join(root, 'bench/results/site-stages.json'), `${JSON.stringify(json, null, 1)}\n`);
  writeFileSync(join(root, 'bench/results/site-stages.md'), report(json));
  log('bench/results/site-stages.md');
}

function report(j) {
  const lines = [
    `# Fetch stages per question on the ranged layout (${j.site})`,
    '',
    `- date: ${j.date}; ${j.cpus} cores; load average before ${j.load.before}, after ${j.load.after}`,
    '- command: `node bench/site/stages.mjs` (this build of the CLI indexes the pages twice with `--ranges always`, with and without `--without-places`)',
    `- questions: ${j.questions} (the large sites' reader questions, then the Cargo book's evaluation questions), each asked by a fresh reader with \`docent search --fragments --k 5\`, which reads the folder as the browser does`,
    '- a *call* is a batch of requests sent together; a *stage* is calls one after another (calls sent together count once); the manifest is not counted: the widget requests it while the lean module loads. *bytes*: as stored (range requests are not compressed).',
    '',
    '| layout | mode | questions with hits | stages: mean | 3 stages or fewer | 4 | 5+ | calls: mean | bytes: median (max) | lex fragments, MB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of j.results) {
    for (const mode of ['lexical', 'hybrid']) {
      const rows = r.rows.filter((x) => x.mode === mode && x.hits > 0);
      const n = (f) => rows.filter(f).length;
      lines.push(
        `| ${r.layout} | ${mode} | ${rows.length} | ${mean(rows.map((x) => x.stages)).toFixed(2)} | ${n((x) => x.stages <= 3)} | ${n((x) => x.stages === 4)} | ${n((x) => x.stages >= 5)} | ${mean(rows.map((x) => x.calls)).toFixed(2)} | ${(median(rows.map((x) => x.bytes)) / 1024).toFixed(1)} kB (${(Math.max(0, ...rows.map((x) => x.bytes)) / 1024).toFixed(1)}) | ${(r.lexBytes / 1e6).toFixed(2)} |`,
      );
    }
  }
  lines.push(
    '',
    'The fewest stages: 3 lexical (shard heads; postings; the records of the hits shown), 4 hybrid (the fine IVF rows before the records; each reader here is fresh, so its question also fetches the IVF directory beside the heads). One more comes from a typo (the postings of the spelling picked, after the heads of its spellings\' shards, which come beside the postings) and from a hit outside every query term\'s best postings (its record is located by its pack entry first). The places carry each chunk\'s section, page and text as chunk ids, so the hits that repeat a section or a text, or overfill a page, are dropped before any text is read (version 5).',
    '',
  );
  return `${lines.join('\n')}\n`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
