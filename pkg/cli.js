#!/usr/bin/env node
// `npx docent proxy …` runs the proxy of docent/proxy on a Node server (proxy/cli.js).
// `npx docent index <dir> --out <dir> [--embedder hashing|static] [--model-dir DIR] [--ranges auto|always|never] [--json]`: builds
// a site index with the WebAssembly build, no Rust toolchain needed, into the same self-contained
// folder the native CLI writes: `index.bin`, the fragmented index (`fragments/`, what a site's
// reader fetches per question), `manifest.json`, `model/` (the model files the browser needs) and
// the web runtime (this package's .js files but cli.js, the .wasm modules, and llama.cpp's
// llm/wllama/ when the package has it). Run again with the same --out, it re-embeds only new and
// changed pages (`Docent.reuseFrom`) and prints the same summary line as the native CLI.
//
// This file only reads and writes files. What the folder holds (file names, the model file table,
// the manifest), which pages are skipped and why, and the summary are defined once in the Rust core
// (src/site.rs) and reach this file through the wasm module's exports.
import { createHash } from 'node:crypto';
import { open, readdir, readFile, mkdir, rename, rm, rmdir, lstat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, Docent } from './docent.js';
import { duplicateNote, formatOf, isRuntimeFile, modelFiles, previousSite, runtimeBytes, siteLayout, xxh3 } from './docent_wasm.js';

/** The embedders this CLI can index with (MiniLM indexing is for the native CLI: it is much faster there). */
const EMBEDDERS = ['hashing', 'static'];

/** This package's folder: the web runtime copied into the site folder. */
const HERE = dirname(fileURLToPath(import.meta.url));

/** The usage text; the static embedder's files come from the core's table. */
function usage() {
  const files = modelFiles('static').map((f) => f.file).join(' and ');
  return `usage: docent index <dir> --out <dir> [--embedder hashing|static] [--model-dir DIR] [--ranges auto|always|never] [--json]
  --embedder   hashing (default; no model files) or static (needs ${files})
  --model-dir  folder with the model files (default: $DOCENT_MODEL_DIR)
  --ranges     auto (default): fragments read by HTTP range requests once the site outgrows small
               whole files (a few thousand chunks); always; never (a host without range requests)
  --json       print the summary as one JSON object`;
}

function fail(message) {
  console.error(`docent: ${message}`);
  process.exit(2);
}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command !== 'index') fail(`expected the command "index" (or "proxy": docent proxy --help), found ${command === undefined ? 'nothing' : JSON.stringify(command)}\n${usage()}`);
  const opts = { dirs: [], embedder: 'hashing', modelDir: process.env.DOCENT_MODEL_DIR, ranges: 'auto', json: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const value = () => {
      if (i + 1 >= rest.length) fail(`${a} expects a value\n${usage()}`);
      return rest[++i];
    };
    if (a === '--out') opts.out = value();
    else if (a === '--embedder') opts.embedder = value();
    else if (a === '--model-dir') opts.modelDir = value();
    else if (a === '--ranges') opts.ranges = value();
    else if (a === '--json') opts.json = true;
    else if (a === '-h' || a === '--help') { console.log(usage()); process.exit(0); }
    else if (a.startsWith('-')) fail(`unknown option ${a}\n${usage()}`);
    else opts.dirs.push(a);
  }
  if (opts.dirs.length === 0) fail(`give at least one folder to index\n${usage()}`);
  if (!opts.out) fail(`--out <dir> is required\n${usage()}`);
  if (!EMBEDDERS.includes(opts.embedder)) {
    fail(`--embedder: expected ${EMBEDDERS.join(' or ')}, found ${JSON.stringify(opts.embedder)} (minilm indexing needs the native CLI)`);
  }
  if (!['auto', 'always', 'never'].includes(opts.ranges)) fail(`--ranges: expected auto, always or never, found ${JSON.stringify(opts.ranges)}`);
  const needs = modelFiles(opts.embedder).map((f) => f.file);
  if (needs.length > 0 && !opts.modelDir) fail(`--embedder ${opts.embedder} needs --model-dir DIR (or DOCENT_MODEL_DIR) with ${needs.join(' and ')}`);
  return opts;
}

/**
 * Files under `dir`, sorted, as paths relative to `dir` with `/` separators; hidden entries,
 * node_modules and the folder `skip` (the output, when it lies inside) left out. `counts` gets
 * `unsupported` (formats docent does not read) and `excluded` (1 when `skip` was inside `dir`).
 */
async function walk(dir, skip, counts) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const out = [];
  let excluded = false;
  for (const e of entries) {
    if (!e.isFile()) continue;
    const abs = join(e.parentPath ?? e.path, e.name);
    const rel = relative(dir, abs).split(sep).join('/');
    if (rel.split('/').some((part) => part.startsWith('.') || part === 'node_modules')) continue;
    if (abs.startsWith(skip + sep)) {
      excluded = true;
      continue;
    }
    if (formatOf(e.name)) out.push(rel);
    else counts.unsupported++;
  }
  if (excluded) counts.excluded++;
  return out.sort();
}

async function readOrFail(path, what) {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    fail(`${path}: cannot read ${what} (${e.code ?? e.message})`);
  }
}

async function readIfExists(path) {
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    return undefined;
  }
}

/** Writes `bytes` unless the file already holds exactly them (re-runs keep mtimes); true when written. */
async function writeIfChanged(path, bytes) {
  try {
    const st = await lstat(path);
    if (st.isFile() && st.size === bytes.length) {
      const old = new Uint8Array(await readFile(path));
      if (Buffer.compare(old, bytes) === 0) return false;
    }
  } catch {
    // missing: write it
  }
  await mkdir(dirname(path), { recursive: true });
  await writeSynced(path, bytes);
  return true;
}

/** Writes `PATH.tmp`, flushes it to disk and renames it over `path` (never a partial file under the name). */
async function writeSynced(path, bytes) {
  const handle = await open(`${path}.tmp`, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(`${path}.tmp`, path);
}

/** A fragment file name (`lex|txt|ivf|vec|cmn-<16 hex>.bin`, or that plus `.tmp` from an interrupted run). */
const FRAGMENT_NAME = /^(lex|txt|ivf|vec|cmn)-[0-9a-f]{16}\.bin(\.tmp)?$/;

/**
 * Writes the fragments of the built index as the native CLI does: a file whose name exists with
 * the right size is kept (its name is its content's hash), the others are written synced under a
 * temporary name and renamed. Returns the table for the manifest and the counts.
 */
async function writeFragments(docent, out, ranges) {
  const { table, files } = docent.siteFragments(ranges);
  const counts = { total: files.length, reused: 0, written: 0, removed: 0 };
  await mkdir(join(out, 'fragments'), { recursive: true });
  for (const f of files) {
    const path = inside(out, f.path);
    const st = await lstat(path).catch(() => undefined);
    if (st?.isFile() && st.size === f.bytes.length) {
      counts.reused++;
      continue;
    }
    await writeSynced(path, f.bytes);
    counts.written++;
  }
  return { table, counts, paths: files.map((f) => f.path) };
}

/** Deletes the fragment files of `out/fragments/` that `keep` (paths as manifests name them) lacks; returns how many. */
async function removeUnnamedFragments(out, keep) {
  let removed = 0;
  const names = await readdir(join(out, 'fragments')).catch(() => []);
  for (const name of names.sort()) {
    if (!FRAGMENT_NAME.test(name) || keep.has(`fragments/${name}`)) continue;
    try {
      await rm(join(out, 'fragments', name));
      if (!name.endsWith('.tmp')) removed++;
    } catch {
      // already gone
    }
  }
  return removed;
}

/** `a/b` inside `root`, with the platform's separators. */
const inside = (root, path) => join(root, ...path.split('/'));

async function main() {
  const started = performance.now();
  await init();
  const opts = parseArgs(process.argv.slice(2));
  const layout = siteLayout();
  const out = resolve(opts.out);
  const model = {};
  const modelCopies = [];
  for (const f of modelFiles(opts.embedder)) {
    model[f.field] = await readOrFail(join(opts.modelDir, f.file), 'the model file');
    modelCopies.push([f.path, model[f.field]]);
  }
  const docent = new Docent({ embedder: opts.embedder, model });

  const previous = previousSite(await readIfExists(join(out, layout.manifest)));
  const previousIndex = await readIfExists(inside(out, previous.index));
  if (previousIndex) {
    const why = docent.reuseFrom(previousIndex);
    if (why) console.error(`docent: note: re-embedding every page: ${why}`);
  }

  // Every page is known before the first is added (a canonical link may name a later one). The
  // lines are printed in the native CLI's order: decoding warnings while reading, then the notes
  // on duplicates, then the pages' warnings.
  const counts = { unsupported: 0, duplicates: 0, excluded: 0 };
  const walked = [];
  for (const dir of opts.dirs) for (const url of await walk(resolve(dir), out, counts)) walked.push([dir, url]);
  docent.expectPages(walked.map(([, url]) => url));
  const seen = new Map();
  const notes = [];
  const warnings = [];
  for (const [dir, url] of walked) {
    const path = inside(dir, url);
    const bytes = new Uint8Array(await readFile(path));
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (seen.has(hash)) {
      counts.duplicates++;
      notes.push(`docent: note: ${duplicateNote(url, seen.get(hash))}`);
      continue;
    }
    seen.set(hash, url);
    // A PDF's page is a Promise: docent.js reads it with the PDF module (loaded on the first).
    const page = await docent.addPage({ url, [formatOf(url)]: bytes });
    if (page.note) console.error(`docent: warning: ${path}: ${page.note}`);
    if (page.warning) warnings.push(`docent: warning: ${page.warning}`);
  }
  for (const line of [...notes, ...warnings]) console.error(line);
  docent.checkIndexed(opts.dirs, counts.unsupported);
  const seconds = { read: (performance.now() - started) / 1000 };
  const buildStart = performance.now();
  let embedEnd;
  docent.build((stage) => {
    if (stage !== 'embed' && embedEnd === undefined) embedEnd = performance.now();
  });
  embedEnd ??= performance.now();
  // build() also calibrated the gate on this site's own questions, as the native CLI does
  // (src/gate/; its time counts as index time).
  seconds.embed = (embedEnd - buildStart) / 1000;
  seconds.index = (performance.now() - embedEnd) / 1000;

  const writeStart = performance.now();
  const bytes = docent.toBytes();
  const wanted = [[layout.index, bytes], ...modelCopies];
  for (const entry of (await readdir(HERE, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    // Runtime modules in a folder (llm/) are one level down; the core says which.
    const names = entry.isDirectory() ? (await readdir(join(HERE, entry.name))).sort().map((n) => `${entry.name}/${n}`) : [entry.name];
    for (const name of names.filter((n) => isRuntimeFile(n))) {
      const source = new Uint8Array(await readFile(join(HERE, ...name.split('/'))));
      // The minified copy ./build.sh wasm made (min/), when made from exactly this source.
      const min = name.endsWith('.js') ? await readFile(join(HERE, 'min', ...name.split('/'))).then((b) => new Uint8Array(b), () => undefined) : undefined;
      wanted.push([name, runtimeBytes(source, min)]);
    }
  }
  // llama.cpp's runtime for provider="local" (llm/wllama/), as the core names it: both files or neither.
  const local = await Promise.all(layout.localRuntime.map((name) => readFile(join(HERE, ...name.split('/'))).then((b) => [name, new Uint8Array(b)], () => null)));
  if (local.every(Boolean)) wanted.push(...local);
  await mkdir(out, { recursive: true });
  const files = [];
  const written = [];
  for (const [path, data] of wanted) {
    if (await writeIfChanged(inside(out, path), data)) written.push(path);
    files.push({ path, bytes: data.length, xxh3: xxh3(data) });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const deleted = [];
  for (const old of previous.files) {
    if (files.some((f) => f.path === old.path)) continue;
    try {
      await rm(inside(out, old.path));
      deleted.push(old.path);
    } catch {
      // already gone
    }
  }
  if (modelCopies.length === 0) await rmdir(join(out, layout.modelDir)).catch(() => {});
  // The fragments: new files first, then the manifest naming them, then the removal of fragments
  // that neither it nor the previous manifest names (a reader mid-session may still use those).
  const fragments = await writeFragments(docent, out, opts.ranges);
  const { version } = JSON.parse(await readFile(join(HERE, 'package.json'), 'utf8'));
  const manifest = docent.siteManifest(bytes, `docent ${version} (npm, wasm)`, files, fragments.table);
  if (await writeIfChanged(join(out, layout.manifest), new TextEncoder().encode(manifest))) written.push(layout.manifest);
  const keep = new Set([...fragments.paths, ...(previous.fragments ?? [])]);
  fragments.counts.removed = await removeUnnamedFragments(out, keep);
  seconds.write = (performance.now() - writeStart) / 1000;
  seconds.total = (performance.now() - started) / 1000;

  const work = { ...counts, indexBytes: bytes.length, runtime: 'copied', files, written, deleted, seconds, fragments: fragments.counts };
  console.log(docent.indexSummary(work, opts.out, opts.json));
}

// `docent proxy …` (proxy/cli.js): the key-adding proxy for <docent-ask key="none">.
const run = process.argv[2] === 'proxy' ? import('./proxy/cli.js').then((m) => m.main(process.argv.slice(3))) : main();
run.catch((e) => {
  console.error(`docent: ${e?.message ?? e}`);
  process.exit(1);
});
