// The site benchmark (issue 16): what a reader's browser downloads, and how long it waits, to
// get answers from a static site's search box — docent's <docent-ask> widget against Pagefind,
// both built from the same pages in the same run, served by the same gzip server, driven in the
// same headless Chromium. Writes bench/results/site.md and site.json.
//
//   node bench/site/run.mjs [--sites rust-book,cargo-book,docs-135k] [--large] [--no-throttle]
//                           [--no-pagefind-defaults]
//
// --large adds the generated 1M-chunk site (gen.mjs; its docent and Pagefind builds take long
// and are measured once, then reused while the site is unchanged). Needs: ./build.sh wasm (pkg/),
// the CLI ($DOCENT_BIN, default target/debug/docent), models/, Debian Chromium, playwright-core
// (tests/browser) and Pagefind (npm ci --prefix bench/site); ./build.sh bench sets all up.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../tests/support/chromium.mjs';
import { need } from '../../tests/support/static-server.mjs';
import { generate } from './gen.mjs';
import { session } from './measure.mjs';
import { evalFragments } from './quality.mjs';
import { report } from './report.mjs';
import { startCountingServer } from './server.mjs';
import { SITES, fileCount, prepareBooks, totalBytes } from './sites.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('./', import.meta.url));
const CLI = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
const OUT = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'bench/site');
const PAGEFIND = join(here, 'node_modules/.bin/pagefind');
const WAIT_MS = 180_000;

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const wanted = opt('--sites')?.split(',') ?? SITES.filter((s) => !s.optional || flag('--large')).map((s) => s.name);
const log = (s) => console.error(`[site bench] ${s}`);

/** The pages of `site` in OUT/<name>/public (laid out once, reused). */
async function sitePages(site, dir) {
  if (!site.generated) return prepareBooks(site, dir);
  const infoFile = join(dir, 'generated.json');
  if (existsSync(infoFile) && existsSync(join(dir, 'public'))) return JSON.parse(readFileSync(infoFile, 'utf8'));
  log(`generating ${site.name} (gen.mjs)`);
  await rm(join(dir, 'public'), { recursive: true, force: true });
  const info = generate(dir);
  writeFileSync(infoFile, JSON.stringify(info));
  return info;
}

/** Runs a command, timed; returns {seconds, stdout}. Fails with its stderr. */
function timed(cmd, argv, env = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 256 << 20 });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr?.slice(-4000)}`);
  return { seconds, stdout: r.stdout, stderr: r.stderr };
}

/** Pagefind's bundles for the site: `main` with `--root-selector main` (the pages' text without
 * the navigation, as docent's reader takes it; what a site owner would configure), `defaults`
 * with none (the whole <body>: on mdBook pages the sidebar's table of contents too). Built fresh
 * every run (seconds) unless the site is the large one and they were built before. */
const PAGEFIND_VARIANTS = [
  { name: 'main', dir: 'pagefind', argv: ['--root-selector', 'main'] },
  { name: 'defaults', dir: 'pagefind-defaults', argv: [] },
];

function pagefind(site, dir, pub, variant) {
  const out = join(dir, variant.dir);
  const stampFile = join(dir, `${variant.dir}.json`);
  if (site.optional && existsSync(stampFile)) return JSON.parse(readFileSync(stampFile, 'utf8'));
  const argv = ['--site', pub, '--output-path', out, ...variant.argv];
  execFileSync('rm', ['-rf', out]);
  log(`pagefind ${argv.join(' ')}`);
  const r = timed(PAGEFIND, argv);
  const pages = Number((/Indexed (\d+) pages?/.exec(r.stdout) ?? [])[1]);
  const words = Number((/Indexed (\d+) words?/.exec(r.stdout) ?? [])[1]);
  const info = { variant: variant.name, command: `pagefind ${argv.join(' ').replaceAll(OUT, '$OUT')}`, seconds: r.seconds, pages, words, bytes: totalBytes(out), files: fileCount(out), version: pagefindVersion() };
  writeFileSync(stampFile, JSON.stringify(info));
  return info;
}

function pagefindVersion() {
  return JSON.parse(readFileSync(join(here, 'node_modules/pagefind/package.json'), 'utf8')).version;
}

/** docent's folder for the site: `docent index` runs every time (unchanged pages are reused, so
 * a later run is quick and picks up a new CLI); the first, fresh build's time is kept. */
function docentIndex(site, dir, pub) {
  const out = join(dir, 'docent');
  const freshFile = join(dir, 'docent-fresh.json');
  const argv = ['index', pub, '--out', out, '--assets', join(root, 'pkg'), '--embedder', site.embedder, '--json'];
  const env = { DOCENT_MODEL_DIR: join(root, 'models') };
  const fresh = !existsSync(join(out, 'manifest.json'));
  // The large site is built once (its build takes long): kept while its folder is there.
  const keep = site.optional && !fresh && existsSync(freshFile);
  let run = null;
  if (!keep) {
    log(`docent ${argv.join(' ')}${fresh ? ' (fresh build)' : ' (re-run: unchanged pages reused)'}`);
    const r = timed(CLI, argv, env);
    const summary = JSON.parse(r.stdout);
    run = { seconds: r.seconds, summary, fragments: summary.fragments ?? null };
    if (fresh || !existsSync(freshFile)) writeFileSync(freshFile, JSON.stringify({ ...run, when: new Date().toISOString() }));
  }
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  const index = ['manifest.json', manifest.index, ...(manifest.fragments ? ['fragments'] : [])].reduce((n, f) => n + totalBytes(join(out, f)), 0);
  return {
    command: `docent ${argv.join(' ').replaceAll(OUT, '$OUT').replaceAll(root, '')}`,
    fresh: JSON.parse(readFileSync(freshFile, 'utf8')),
    rerun: fresh ? null : run,
    kept: keep,
    documents: manifest.documents,
    chunks: manifest.chunks,
    embedder: manifest.embedder,
    fragmented: Boolean(manifest.fragments),
    fragments: manifest.fragments ? fileCount(join(out, 'fragments')) : 0,
    bytes: totalBytes(out),
    indexBytes: index,
    files: fileCount(out),
  };
}

async function main() {
  need(join(root, 'pkg/docent-ask.js'), 'the widget is missing from pkg/');
  need(join(root, 'pkg/docent_wasm_bg.wasm'), 'run ./build.sh wasm first');
  need(CLI, 'run ./build.sh setup (builds the CLI) or set DOCENT_BIN');
  need(PAGEFIND, 'run npm ci --prefix bench/site (./build.sh bench does)');
  const questions = JSON.parse(readFileSync(join(here, 'questions.json'), 'utf8'));
  const started = new Date();
  const loadBefore = loadavg();
  const results = { started: started.toISOString(), machine: `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`, loadBefore, sites: {} };
  const browser = await launchChromium({ timeout: WAIT_MS });
  results.chromium = browser.version();
  try {
    for (const site of SITES.filter((s) => wanted.includes(s.name))) {
      const dir = join(OUT, site.name);
      await mkdir(dir, { recursive: true });
      const pages = await sitePages(site, dir);
      const pf = pagefind(site, dir, pages.public, PAGEFIND_VARIANTS[0]);
      const pfDefaults = flag('--no-pagefind-defaults') ? null : pagefind(site, dir, pages.public, PAGEFIND_VARIANTS[1]);
      const dc = docentIndex(site, dir, pages.public);
      log(`${site.name}: ${dc.documents} documents, ${dc.chunks} chunks; Pagefind ${pf.pages} pages`);
      const qs = questions[site.questions];
      const web = await startCountingServer([
        ['/__bench/', join(here, 'pages')],
        ['/pagefind/', join(dir, 'pagefind')],
        ['/pagefind-defaults/', join(dir, 'pagefind-defaults')],
        ['/docent/', join(dir, 'docent')],
        ['/', pages.public],
      ]);
      const r = { title: site.title, measured: new Date().toISOString(), pages, pagefind: { build: pf }, pagefindDefaults: pfDefaults && { build: pfDefaults }, docent: { build: dc }, questions: qs };
      try {
        // A session that fails (e.g. the monolithic widget refusing an index above the browser's
        // chunk limit) is recorded with its error; the others still run.
        const run = (o) =>
          session({ browser, web, questions: qs, waitMs: WAIT_MS, log, ...o }).catch((e) => {
            log(`${o.tool}${o.query ? `?${o.query}` : ''}${o.throttle ? ' (throttled)' : ''} failed: ${e.message.split('\n')[0]}`);
            return { tool: o.tool, query: o.query ?? '', throttled: Boolean(o.throttle), error: e.message.split('\n')[0], questions: [] };
          });
        r.pagefind.session = await run({ tool: 'pagefind' });
        if (pfDefaults) r.pagefindDefaults.session = await run({ tool: 'pagefind', query: 'bundle=/pagefind-defaults/' });
        r.docent.lexical = await run({ tool: 'docent', query: 'offline&embed=never' });
        r.docent.dense = await run({ tool: 'docent', query: 'offline&embed=answer' });
        if (!flag('--no-throttle')) {
          r.pagefind.throttled = await run({ tool: 'pagefind', throttle: true });
          if (pfDefaults) r.pagefindDefaults.throttled = await run({ tool: 'pagefind', query: 'bundle=/pagefind-defaults/', throttle: true });
          r.docent.throttled = await run({ tool: 'docent', query: 'offline&embed=answer', throttle: true });
        }
      } finally {
        await web.close();
      }
      if (site.name === 'cargo-book') {
        const env = { DOCENT_MODEL_DIR: join(root, 'models') };
        const questions = join(root, 'bench/eval/cargo-book.jsonl');
        r.quality = evalFragments(CLI, join(dir, 'docent'), questions, env);
        // The layout of large sites on the same book: a copy re-indexed with --ranges always
        // (its pages' chunks and vectors reused), through the same questions.
        const ranged = join(dir, 'docent-ranged');
        rmSync(ranged, { recursive: true, force: true });
        cpSync(join(dir, 'docent'), ranged, { recursive: true });
        timed(CLI, ['index', pages.public, '--out', ranged, '--assets', join(root, 'pkg'), '--embedder', site.embedder, '--ranges', 'always'], env);
        r.qualityRanged = evalFragments(CLI, ranged, questions, env);
      }
      results.sites[site.name] = r;
      writeFileSync(join(OUT, 'site.partial.json'), JSON.stringify(results, null, 1));
    }
  } finally {
    await browser.close();
  }
  // Sites not measured in this run keep their last results (each says when it was measured).
  const previous = join(root, 'bench/results/site.json');
  if (existsSync(previous)) {
    const old = JSON.parse(readFileSync(previous, 'utf8'));
    for (const [name, r] of Object.entries(old.sites ?? {})) {
      if (!(name in results.sites)) results.sites[name] = { ...r, measured: r.measured ?? old.started, command: r.command ?? old.command };
    }
    const order = SITES.map((s) => s.name);
    results.sites = Object.fromEntries(Object.entries(results.sites).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)));
  }
  results.loadAfter = loadavg();
  results.command = `node bench/site/run.mjs ${args.join(' ')}`.trim();
  const { md, json } = report(results);
  await mkdir(join(root, 'bench/results'), { recursive: true });
  // Paths of this machine's build folder are written as $OUT (like the commands).
  writeFileSync(join(root, 'bench/results/site.json'), JSON.stringify(json, null, 1).replaceAll(OUT, '$OUT') + '\n');
  writeFileSync(join(root, 'bench/results/site.md'), md);
  console.log(md);
  log('written to bench/results/site.md and site.json');
}

await main();
