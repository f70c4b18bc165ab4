#!/usr/bin/env node
// `npx docent index <dir> --out <dir> [--embedder hashing|static] [--model-dir DIR] [--json]`: builds
// a site index with the WebAssembly build, no Rust toolchain needed, into the same self-contained
// folder the native CLI writes (src/bin/docent.rs): `index.bin`, `manifest.json` (same fields,
// `files` included), `model/` (the model files the browser needs) and the web runtime (this
// package's .js files but cli.js, and the .wasm). Run again with the same --out, it re-embeds only
// new and changed pages (`Docent.reuseFrom`) and prints the same summary line as the native CLI.
import { createHash } from 'node:crypto';
import { readdir, readFile, mkdir, writeFile, rename, rm, rmdir, lstat } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, Docent } from './docent.js';
import { xxh3 } from './docent_wasm.js';

const USAGE = `usage: docent index <dir> --out <dir> [--embedder hashing|static] [--model-dir DIR] [--json]
  --embedder   hashing (default; no model files) or static (needs static.bin and tokenizer.json)
  --model-dir  folder with the model files (default: $DOCENT_MODEL_DIR)
  --json       print the summary as one JSON object`;

const FORMATS = {
  '.html': 'html', '.htm': 'html', '.xhtml': 'html',
  '.md': 'markdown', '.markdown': 'markdown', '.mdown': 'markdown',
  '.txt': 'text', '.text': 'text', '.rst': 'text', '.adoc': 'text',
};

/** Model files per embedder, as pkg/docent.js `MODEL_FILES` fetches them from `model/`. */
const MODEL_FILES = { hashing: [], static: ['static.bin', 'tokenizer.json'] };

/** This package's folder: the web runtime copied into the site folder. */
const HERE = dirname(fileURLToPath(import.meta.url));
const WASM_FILE = 'docent_wasm_bg.wasm';

function fail(message) {
  console.error(`docent: ${message}`);
  process.exit(2);
}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command !== 'index') fail(`expected the command "index", found ${command === undefined ? 'nothing' : JSON.stringify(command)}\n${USAGE}`);
  const opts = { dirs: [], embedder: 'hashing', modelDir: process.env.DOCENT_MODEL_DIR, json: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const value = () => {
      if (i + 1 >= rest.length) fail(`${a} expects a value\n${USAGE}`);
      return rest[++i];
    };
    if (a === '--out') opts.out = value();
    else if (a === '--embedder') opts.embedder = value();
    else if (a === '--model-dir') opts.modelDir = value();
    else if (a === '--json') opts.json = true;
    else if (a === '-h' || a === '--help') { console.log(USAGE); process.exit(0); }
    else if (a.startsWith('-')) fail(`unknown option ${a}\n${USAGE}`);
    else opts.dirs.push(a);
  }
  if (opts.dirs.length === 0) fail(`give at least one folder to index\n${USAGE}`);
  if (!opts.out) fail(`--out <dir> is required\n${USAGE}`);
  if (!['hashing', 'static'].includes(opts.embedder)) {
    fail(`--embedder: expected hashing or static, found ${JSON.stringify(opts.embedder)} (minilm indexing needs the native CLI)`);
  }
  if (opts.embedder === 'static' && !opts.modelDir) fail('--embedder static needs --model-dir DIR (or DOCENT_MODEL_DIR) with static.bin and tokenizer.json');
  return opts;
}

/**
 * Files under `dir`, sorted, as paths relative to `dir` with `/` separators; hidden entries,
 * node_modules and the folder `skip` (the output, when it lies inside) left out. `counts` gets
 * `unsupported` (other extensions) and `excluded` (1 when `skip` was inside `dir`).
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
    if (FORMATS[extname(e.name).toLowerCase()]) out.push(rel);
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

/** The manifest a previous run left in `out`, when there is a readable one. */
async function previousManifest(out) {
  const bytes = await readIfExists(join(out, 'manifest.json'));
  if (!bytes) return undefined;
  try {
    const m = JSON.parse(new TextDecoder().decode(bytes));
    return m?.format === 'docent-index' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** A path recorded in a manifest that is safe to delete inside the output folder. */
function plainRelative(p) {
  return typeof p === 'string' && p !== '' && !p.includes('\\') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
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
  await writeFile(`${path}.tmp`, bytes);
  await rename(`${path}.tmp`, path);
  return true;
}

async function main() {
  const started = performance.now();
  const opts = parseArgs(process.argv.slice(2));
  await init();
  const out = resolve(opts.out);
  const modelNames = MODEL_FILES[opts.embedder];
  const modelBytes = {};
  for (const name of modelNames) modelBytes[name] = await readOrFail(join(opts.modelDir, name), 'the model file');
  const model = opts.embedder === 'static' ? { table: modelBytes['static.bin'], tokenizer: modelBytes['tokenizer.json'] } : undefined;
  const docent = new Docent(model ? { embedder: opts.embedder, model } : { embedder: opts.embedder });

  const previous = await previousManifest(out);
  const indexName = typeof previous?.index === 'string' && plainRelative(previous.index) && !previous.index.includes('/') ? previous.index : 'index.bin';
  const previousIndex = await readIfExists(join(out, indexName));
  if (previousIndex) {
    const why = docent.reuseFrom(previousIndex);
    if (why) console.error(`docent: note: re-embedding every page: ${why}`);
  }

  const counts = { unsupported: 0, duplicates: 0, empty: 0, excluded: 0 };
  const skipped = {};
  const seen = new Set();
  for (const dir of opts.dirs) {
    for (const url of await walk(resolve(dir), out, counts)) {
      const bytes = new Uint8Array(await readFile(join(dir, ...url.split('/'))));
      const hash = createHash('sha256').update(bytes).digest('hex');
      if (seen.has(hash)) {
        counts.duplicates++;
        continue;
      }
      seen.add(hash);
      const content = new TextDecoder().decode(bytes);
      try {
        docent.addDocument({ url, [FORMATS[extname(url).toLowerCase()]]: content });
      } catch (e) {
        const skip = /not indexed: the page is a (.+)$/.exec(e.message);
        if (skip) skipped[skip[1]] = (skipped[skip[1]] ?? 0) + 1;
        else if (/no text/.test(e.message)) {
          counts.empty++;
          console.error(`docent: warning: ${url}: no text to index, skipped`);
        } else throw e;
      }
    }
  }
  if (docent.stats().chunks === 0) fail(`no indexable text found in ${opts.dirs.join(', ')}`);
  const seconds = { read: (performance.now() - started) / 1000 };
  const buildStart = performance.now();
  let embedEnd;
  docent.build((stage) => {
    if (stage !== 'embed' && embedEnd === undefined) embedEnd = performance.now();
  });
  embedEnd ??= performance.now();
  seconds.embed = (embedEnd - buildStart) / 1000;
  seconds.index = (performance.now() - embedEnd) / 1000;

  const writeStart = performance.now();
  const bytes = docent.toBytes();
  const stats = docent.stats();
  const report = docent.reuseReport();
  const wanted = [[indexName, bytes]];
  for (const name of modelNames) wanted.push([`model/${name}`, modelBytes[name]]);
  for (const name of (await readdir(HERE)).sort()) {
    if ((name.endsWith('.js') && name !== 'cli.js') || name === WASM_FILE) wanted.push([name, new Uint8Array(await readFile(join(HERE, name)))]);
  }
  for (const name of (await readdir(join(HERE, 'llm'))).sort()) {
    if (name.endsWith('.js')) wanted.push([`llm/${name}`, new Uint8Array(await readFile(join(HERE, 'llm', name)))]);
  }
  await mkdir(out, { recursive: true });
  const files = [];
  const written = [];
  for (const [path, data] of wanted) {
    if (await writeIfChanged(join(out, ...path.split('/')), data)) written.push(path);
    files.push({ path, bytes: data.length, xxh3: xxh3(data) });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const deleted = [];
  for (const old of previous?.files ?? []) {
    if (!plainRelative(old?.path) || files.some((f) => f.path === old.path)) continue;
    try {
      await rm(join(out, ...old.path.split('/')));
      deleted.push(old.path);
    } catch {
      // already gone
    }
  }
  if (modelNames.length === 0) await rmdir(join(out, 'model')).catch(() => {});
  const version = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  const { version: pkgVersion } = JSON.parse(await readFile(join(HERE, 'package.json'), 'utf8'));
  const manifest = {
    format: 'docent-index',
    version,
    index: indexName,
    bytes: bytes.length,
    xxh3: xxh3(bytes),
    embedder: stats.embedder,
    documents: stats.documents,
    chunks: stats.chunks,
    dense: stats.denseKind,
    created_by: `docent ${pkgVersion} (npm, wasm)`,
    files,
  };
  if (await writeIfChanged(join(out, 'manifest.json'), new TextEncoder().encode(JSON.stringify(manifest, null, 2)))) {
    written.push('manifest.json');
  }
  seconds.write = (performance.now() - writeStart) / 1000;
  seconds.total = (performance.now() - started) / 1000;

  const summary = {
    documents: stats.documents,
    reused: report.reused,
    embedded: report.embedded,
    removed: report.removed,
    chunks: stats.chunks,
    reused_chunks: report.reusedChunks,
    embedded_chunks: report.embeddedChunks,
    rebuild: report.rebuild,
    skipped,
    ...counts,
    embedder: stats.embedder,
    dense: stats.denseKind,
    index_bytes: bytes.length,
    runtime: true,
    files,
    written,
    deleted,
    seconds,
  };
  if (opts.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  const nSkipped = Object.values(skipped).reduce((a, b) => a + b, 0);
  const skippedText = nSkipped === 0
    ? '0 skipped'
    : `${nSkipped} skipped (${Object.keys(skipped).sort().map((r) => `${skipped[r]} ${r}`).join(', ')})`;
  console.log(
    `indexed ${stats.documents} documents (${report.reused} reused, ${report.embedded} embedded, ${report.removed} removed), ` +
    `${stats.chunks} chunks into ${opts.out}: ${skippedText}, ${counts.unsupported} unsupported, ${counts.duplicates} duplicates, ` +
    `${counts.empty} empty; embedder ${stats.embedder.kind} (${stats.embedder.dim}-d), dense ${stats.denseKind}; ` +
    `${humanBytes(bytes.length)} index; ${files.length + 1} files, ${written.length} written; ` +
    `embed ${seconds.embed.toFixed(2)} s of ${seconds.total.toFixed(2)} s total`,
  );
}

/** A byte count for people, as the native CLI prints it: `850 B`, `36 kB`, `1.4 MB`. */
function humanBytes(n) {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(0)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

main().catch((e) => {
  console.error(`docent: ${e?.message ?? e}`);
  process.exit(1);
});
