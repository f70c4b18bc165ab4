// Retrieval quality and the relevance gate on every evaluation site, in one run: lays out each
// site's HTML pages, indexes them with the docent CLI (MiniLM), runs `docent eval --json` on each
// questions file of the site and writes bench/results/eval.md and eval.json.
//
//   node bench/eval/run.mjs [--sites cargo-book,sphinx-doc,git-doc] [--reuse] [--keep-going]
//                           [--questions DIR] [--embedder minilm] [--note TEXT]
//
// Sites and their questions (bench/eval/, or DIR with --questions: <site>.jsonl, the test set;
// <site>-dev.jsonl, the development set; a missing file is skipped and said so in the results):
//   cargo-book  the Cargo book of the Rust toolchain ($(rustc --print sysroot)/share/doc/rust/html/cargo)
//   sphinx-doc  Sphinx's own documentation (Debian sphinx-doc: /usr/share/doc/sphinx-doc/html)
//   git-doc     git's manual pages and guides (Debian git-doc: /usr/share/doc/git-doc)
// Only the .html files of a site are copied (keeping their relative paths) into
// $CARGO_TARGET_DIR/eval/sites/<site>: those are the pages a reader browses (git-doc's folder
// also holds the .txt sources, Sphinx's the _sources/*.txt copies, the Cargo book font licences).
// Each is indexed from scratch into $CARGO_TARGET_DIR/eval/index/<site> (index.bin and the
// fragmented folder); --reuse keeps an index that is already there (to iterate on question files
// only; never for numbers that compare docent versions). The test sets are evaluated through
// index.bin and through the fragments (`--fragments`, as the browser reads the folder), the
// development sets through index.bin. --keep-going records a failed step and goes on.
//
// Needs: the CLI ($DOCENT_BIN, default $CARGO_TARGET_DIR/debug/docent), models/ (./build.sh
// setup), the Debian packages sphinx-doc and git-doc; `./build.sh eval` sets all up and runs this.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const CLI = process.env.DOCENT_BIN ?? join(TARGET, 'debug/docent');
const WORK = join(TARGET, 'eval');
const RESULTS = join(root, 'bench/results');
const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
// MiniLM, the default and the one the results are reported with; `--embedder hashing` only checks
// the pipeline quickly (its numbers mean nothing).
const EMBEDDER = opt('--embedder') ?? 'minilm';
const WORDS = '/usr/share/dict/american-english';
// Where the questions files are read (default bench/eval/; another folder, e.g. a branch's
// checkout, to measure its sets before they are merged). Each file's sha256 is recorded.
const QUESTIONS = resolve(opt('--questions') ?? join(root, 'bench/eval'));
const shownQuestions = relative(root, QUESTIONS).startsWith('..') ? QUESTIONS : relative(root, QUESTIONS) || '.';

const flag = (name) => args.includes(name);
const log = (s) => console.error(`[eval] ${s}`);

/** Runs a command, timed; returns {seconds, stdout, stderr}. Throws with its stderr on failure. */
function timed(cmd, argv) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20 });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr.slice(-4000)}`);
  return { seconds, stdout: r.stdout, stderr: r.stderr };
}

const sh = (cmd, argv) => spawnSync(cmd, argv, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';

const SITES = [
  {
    name: 'cargo-book',
    about: 'the Cargo book (mdBook) of the Rust toolchain',
    source: () => join(sh('rustc', ['--print', 'sysroot']), 'share/doc/rust/html/cargo'),
    shownSource: '$(rustc --print sysroot)/share/doc/rust/html/cargo',
  },
  {
    name: 'sphinx-doc',
    about: "Sphinx's documentation (Sphinx), Debian package sphinx-doc",
    source: () => '/usr/share/doc/sphinx-doc/html',
  },
  {
    name: 'git-doc',
    about: "git's manual pages and guides (AsciiDoc), Debian package git-doc",
    source: () => '/usr/share/doc/git-doc',
  },
];

/** Every .html file under `dir`, as paths relative to it, sorted. */
function htmlFiles(dir, sub = '') {
  const out = [];
  for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...htmlFiles(dir, rel));
    else if (e.name.endsWith('.html') && (e.isFile() || e.isSymbolicLink())) out.push(rel);
  }
  return out.sort();
}

/** Copies the site's .html pages into a fresh WORK/sites/<name>; returns {dir, pages}. */
function layOut(site, source) {
  if (!existsSync(source)) throw new Error(`${site.name}: ${source} does not exist (./build.sh eval installs it)`);
  const dir = join(WORK, 'sites', site.name);
  rmSync(dir, { recursive: true, force: true });
  const files = htmlFiles(source);
  if (files.length === 0) throw new Error(`${site.name}: no .html file under ${source}`);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(source, f), join(dir, f));
  }
  return { dir, pages: files.length };
}

/** The record `index` keeps beside each index folder (WORK/index/<name>.json): how long it took,
 * the summary, and the date, docent version and commit that built it. */
const recordFile = (name) => join(WORK, 'index', `${name}.json`);

/** Indexes the laid-out pages into WORK/index/<name> (from scratch unless --reuse). */
function index(site, pagesDir) {
  const out = join(WORK, 'index', site.name);
  // The gate's English word list (Debian wamerican, installed by ./build.sh setup).
  const words = existsSync(WORDS) ? ['--words', WORDS] : [];
  const argv = ['index', pagesDir, '--out', out, '--embedder', EMBEDDER, '--json', ...words];
  const command = `docent index $EVAL/sites/${site.name} --out $EVAL/index/${site.name} --embedder ${EMBEDDER} --json${words.length ? ` --words ${WORDS}` : ''}`;
  if (flag('--reuse') && existsSync(join(out, 'manifest.json'))) {
    log(`${site.name}: reusing ${out}`);
    let built = {};
    try {
      built = JSON.parse(readFileSync(recordFile(site.name), 'utf8'));
    } catch {
      log(`${site.name}: no ${recordFile(site.name)}: the index's build time is unknown`);
    }
    return { ...built, out, command, reused: true };
  }
  rmSync(out, { recursive: true, force: true });
  log(`${site.name}: ${command}`);
  const r = timed(CLI, argv);
  let summary = null;
  try {
    // The folder's file lists are long and say nothing about quality.
    const { files, written, deleted, ...rest } = JSON.parse(r.stdout);
    summary = rest;
  } catch {
    summary = r.stdout.trim();
  }
  log(`${site.name}: indexed in ${r.seconds.toFixed(1)} s`);
  const built = { date: RUN.date, docent: RUN.docent, commit: RUN.commit };
  writeFileSync(recordFile(site.name), `${JSON.stringify({ seconds: r.seconds, summary, built }, null, 2)}\n`);
  return { out, command, seconds: r.seconds, summary, reused: false };
}

/** The question sets of a site and how each is read: the test set through index.bin and the
 * fragments, the development set through index.bin. */
function runsOf(site) {
  return [
    { set: 'test', file: `${site.name}.jsonl`, read: 'index.bin' },
    { set: 'test', file: `${site.name}.jsonl`, read: 'fragments' },
    { set: 'dev', file: `${site.name}-dev.jsonl`, read: 'index.bin' },
  ];
}

function evaluate(site, indexDir, run) {
  const argv = ['eval', indexDir, join(QUESTIONS, run.file), '--json', ...(run.read === 'fragments' ? ['--fragments'] : [])];
  const command = `docent eval $EVAL/index/${site.name} ${shownQuestions}/${run.file} --json${run.read === 'fragments' ? ' --fragments' : ''}`;
  const sha256 = createHash('sha256').update(readFileSync(join(QUESTIONS, run.file))).digest('hex').slice(0, 16);
  log(`${site.name}: ${command}`);
  const r = timed(CLI, argv);
  return { command, sha256, seconds: r.seconds, result: JSON.parse(r.stdout) };
}

function machine() {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    os: sh('uname', ['-srm']),
  };
}

const f3 = (x) => (typeof x === 'number' ? x.toFixed(3) : '–');
const pct = (x) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '–');

/** The run's options as shown in the results (the --note text is printed below them). */
const shownArgs = (a) => a.map((x, i) => (a[i - 1] === '--note' ? '…' : x)).map((x) => ` ${x}`).join('');

/** bench/results/eval.md from the run's record. */
function markdown(rec) {
  const lines = [
    '# Retrieval quality and the relevance gate on the evaluation sites',
    '',
    `Run ${rec.date} on ${rec.machine.cpu}, ${rec.machine.cores} cores, ${rec.machine.memory_gib} GiB (${rec.machine.os}); load average ${rec.load_start} at start, ${rec.load_end} at end.`,
    `docent ${rec.docent}, commit ${rec.commit}; embedder ${EMBEDDER}; \`node bench/eval/run.mjs${shownArgs(rec.args)}\` (\`./build.sh eval\`), ${rec.seconds.toFixed(0)} s in all.`,
    ...(rec.note ? ['', rec.note] : []),
    '',
    'recall@k: share of answerable questions with a relevant hit among the first k; MRR@10: mean of',
    '1/rank of the first relevant hit within 10. A hit is relevant when its `page#anchor` is one of',
    'the question\'s relevant entries exactly, or lies on a relevant page listed without `#`. Gate',
    '(hybrid search): answerable questions kept and unanswerable ones flagged as not covered.',
    '`read`: through index.bin, or through the fragmented folder as the browser reads it',
    '(`--fragments`).',
    '',
    '| site | set | questions (answerable / unanswerable) | read | mode | recall@1 | recall@5 | MRR@10 | gate kept | gate flagged |',
    '|---|---|---|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rec.runs) {
    if (!r.result) {
      lines.push(`| ${r.site} | ${r.set} | – | ${r.read} | – | – | – | – | – | ${r.skipped ?? 'failed'} |`);
      continue;
    }
    const e = r.result;
    for (const m of e.modes) {
      const hybrid = m.mode === 'hybrid';
      const kept = hybrid ? `${Math.round(e.gate.answerable_kept * e.answerable)}/${e.answerable} (${pct(e.gate.answerable_kept)})` : '';
      const flagged = hybrid ? `${Math.round(e.gate.unanswerable_flagged * e.unanswerable)}/${e.unanswerable} (${pct(e.gate.unanswerable_flagged)})` : '';
      const b = (s) => (hybrid ? `**${s}**` : s);
      lines.push(
        `| ${r.site} | ${r.set} | ${e.questions} (${e.answerable} / ${e.unanswerable}) | ${r.read} | ${b(m.mode)} | ${b(f3(m.recall_at_1))} | ${b(f3(m.recall_at_5))} | ${b(f3(m.mrr_at_10))} | ${kept} | ${flagged} |`,
      );
    }
  }
  lines.push('', '## Sites', '', '| site | pages (.html) | chunks | index time | source |', '|---|---:|---:|---:|---|');
  for (const s of rec.sites) {
    const chunks = s.index?.summary?.chunks ?? '–';
    const built = s.index?.reused && s.index.built ? ` (reused: built ${s.index.built.date}, commit ${s.index.built.commit})` : '';
    const time = s.index?.seconds ? `${s.index.seconds.toFixed(0)} s${built}` : s.index?.reused ? 'reused' : '–';
    lines.push(`| ${s.site} | ${s.pages ?? '–'} | ${chunks} | ${time} | ${s.about}: \`${s.source}\` |`);
  }
  lines.push('', '## Commands', '', `\`$EVAL\` is \`$CARGO_TARGET_DIR/eval\`; \`docent\` is \`$DOCENT_BIN\` (default \`$CARGO_TARGET_DIR/debug/docent\`).`, '', '```sh');
  for (const s of rec.sites) {
    lines.push(`# ${s.site}: copy the .html files of ${s.source} into $EVAL/sites/${s.site}`);
    if (s.index?.command) lines.push(s.index.command);
    for (const r of rec.runs.filter((r) => r.site === s.site && r.command)) lines.push(`${r.command}  # ${r.file} sha256 ${r.sha256}…`);
  }
  lines.push('```');
  const problems = [...rec.sites.filter((s) => s.error), ...rec.runs.filter((r) => r.error || r.skipped)];
  if (problems.length) {
    lines.push('', '## Not measured', '');
    for (const p of problems) lines.push(`- ${p.site}${p.set ? ` ${p.set} (${p.read})` : ''}: ${p.skipped ?? p.error.split('\n')[0]}`);
  }
  return `${lines.join('\n')}\n`;
}

/** When and by which docent this run is made. */
const RUN = {
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  docent: sh(CLI, ['--version']).replace(/^docent /, ''),
  commit: `${sh('git', ['rev-parse', '--short', 'HEAD'])}${sh('git', ['status', '--porcelain', '--untracked-files=no']) ? ' (with uncommitted changes)' : ''}`,
};

async function main() {
  const wanted = opt('--sites')?.split(',') ?? SITES.map((s) => s.name);
  for (const w of wanted) if (!SITES.some((s) => s.name === w)) throw new Error(`unknown site ${w} (known: ${SITES.map((s) => s.name).join(', ')})`);
  if (!existsSync(CLI)) throw new Error(`docent CLI not found at ${CLI}: run ./build.sh setup or set DOCENT_BIN`);
  const started = process.hrtime.bigint();
  const rec = {
    date: RUN.date,
    machine: machine(),
    load_start: loadavg().map((x) => x.toFixed(2)).join(' '),
    docent: RUN.docent,
    commit: RUN.commit,
    args,
    // --note TEXT: a sentence for the results (e.g. where a reused index or a question file came from).
    note: opt('--note'),
    embedder: EMBEDDER,
    sites: [],
    runs: [],
  };
  for (const site of SITES.filter((s) => wanted.includes(s.name))) {
    const source = site.source();
    const s = { site: site.name, about: site.about, source: site.shownSource ?? source };
    rec.sites.push(s);
    try {
      const laid = layOut(site, source);
      s.pages = laid.pages;
      s.index = index(site, laid.dir);
    } catch (e) {
      if (!flag('--keep-going')) throw e;
      s.error = e.message;
      log(`${site.name}: ${e.message}`);
      continue;
    }
    for (const run of runsOf(site)) {
      const r = { site: site.name, ...run };
      rec.runs.push(r);
      if (!existsSync(join(QUESTIONS, run.file))) {
        r.skipped = `no ${shownQuestions}/${run.file}`;
        log(`${site.name}: ${r.skipped}`);
        continue;
      }
      try {
        Object.assign(r, evaluate(site, s.index.out, run));
      } catch (e) {
        if (!flag('--keep-going')) throw e;
        r.error = e.message;
        log(`${site.name}: ${e.message}`);
      }
    }
    delete s.index.out;
  }
  rec.load_end = loadavg().map((x) => x.toFixed(2)).join(' ');
  rec.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'eval.json'), `${JSON.stringify(rec, null, 2)}\n`);
  writeFileSync(join(RESULTS, 'eval.md'), markdown(rec));
  log(`wrote bench/results/eval.md and eval.json (${rec.seconds.toFixed(0)} s)`);
}

main().catch((e) => {
  console.error(`[eval] ${e.message}`);
  process.exit(1);
});
