#!/usr/bin/env node
// `npx docent index <dir> --out <dir> [--embedder hashing|static] [--model-dir DIR]`: builds a site
// index with the WebAssembly build, no Rust toolchain needed. Writes `index.bin` and a
// `manifest.json` with the fields of the native CLI's manifest (src/bin/docent.rs), so the result
// loads with `loadDocent(url)` in a browser and with the native `docent search <dir> QUERY`; its
// `xxh3` is the checksum of index.bin computed like the native CLI's (wasm `indexChecksum`).
import { readdir, readFile, mkdir, writeFile, rename } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { init, Docent } from './docent.js';
import { indexChecksum } from './docent_wasm.js';

const USAGE = `usage: docent index <dir> --out <dir> [--embedder hashing|static] [--model-dir DIR]
  --embedder   hashing (default; no model files) or static (needs static.bin and tokenizer.json)
  --model-dir  folder with the model files (default: $DOCENT_MODEL_DIR)`;

const FORMATS = {
  '.html': 'html', '.htm': 'html', '.xhtml': 'html',
  '.md': 'markdown', '.markdown': 'markdown', '.mdown': 'markdown',
  '.txt': 'text', '.text': 'text',
};

function fail(message) {
  console.error(`docent: ${message}`);
  process.exit(2);
}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command !== 'index') fail(`expected the command "index", found ${command === undefined ? 'nothing' : JSON.stringify(command)}\n${USAGE}`);
  const opts = { dirs: [], embedder: 'hashing', modelDir: process.env.DOCENT_MODEL_DIR };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const value = () => {
      if (i + 1 >= rest.length) fail(`${a} expects a value\n${USAGE}`);
      return rest[++i];
    };
    if (a === '--out') opts.out = value();
    else if (a === '--embedder') opts.embedder = value();
    else if (a === '--model-dir') opts.modelDir = value();
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

/** Supported files under `dir`, sorted, as paths relative to `dir` with `/` separators. */
async function walk(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && FORMATS[extname(e.name).toLowerCase()])
    .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)).split(sep).join('/'))
    .filter((p) => !p.split('/').some((part) => part.startsWith('.')))
    .sort();
}

async function readModel(dir) {
  const read = async (name) => {
    try {
      return new Uint8Array(await readFile(join(dir, name)));
    } catch (e) {
      fail(`${join(dir, name)}: cannot read the model file (${e.code ?? e.message})`);
    }
  };
  return { table: await read('static.bin'), tokenizer: await read('tokenizer.json') };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  await init();
  const model = opts.embedder === 'static' ? await readModel(opts.modelDir) : undefined;
  const docent = new Docent(model ? { embedder: opts.embedder, model } : { embedder: opts.embedder });
  let documents = 0;
  for (const dir of opts.dirs) {
    for (const url of await walk(dir)) {
      const content = await readFile(join(dir, ...url.split('/')), 'utf8');
      try {
        docent.addDocument({ url, [FORMATS[extname(url).toLowerCase()]]: content });
        documents++;
      } catch (e) {
        if (/no text/.test(e.message)) console.error(`docent: warning: ${url}: no text to index, skipped`);
        else throw e;
      }
    }
  }
  if (documents === 0) fail(`no indexable text found in ${opts.dirs.join(', ')}`);
  docent.build();
  const bytes = docent.toBytes();
  const stats = docent.stats();
  const version = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  const { version: pkgVersion } = JSON.parse(await readFile(new URL('./package.json', import.meta.url), 'utf8'));
  const manifest = {
    format: 'docent-index',
    version,
    index: 'index.bin',
    bytes: bytes.length,
    xxh3: indexChecksum(bytes),
    embedder: stats.embedder,
    documents: stats.documents,
    chunks: stats.chunks,
    dense: stats.denseKind,
    created_by: `docent ${pkgVersion} (npm, wasm)`,
  };
  await mkdir(opts.out, { recursive: true });
  await writeAtomic(join(opts.out, 'index.bin'), bytes);
  await writeAtomic(join(opts.out, 'manifest.json'), JSON.stringify(manifest, null, 2));
  console.error(`docent: indexed ${stats.documents} documents, ${stats.chunks} chunks → ${opts.out}`);
}

async function writeAtomic(path, data) {
  await writeFile(`${path}.tmp`, data);
  await rename(`${path}.tmp`, path);
}

main().catch((e) => {
  console.error(`docent: ${e?.message ?? e}`);
  process.exit(1);
});
