// wasm memory per chunk of the browser build (pkg/, `./build.sh wasm`), measured under Node with
// `memoryBytes()` (the module's WebAssembly.Memory size: its high-water mark, since wasm memory
// never shrinks). Each measurement runs in a fresh Node process, so it starts from an empty heap.
//
//   node bench/wasm_memory.mjs [CHUNKS...]        default: 5000 20000 50000
//   DOCENT_MEM_KINDS=hashing node bench/wasm_memory.mjs 200000   (one embedder only)
//
// CHUNKS is a target: the synthetic words are short, so the corpora come out about twice as many
// chunks with the approximate counter (hashing) and 2.4 times with tokenizer.json (static).
//
// For each size and embedder it builds an index of a synthetic corpus (deterministic pseudo-words,
// ~1 kB chunks like documentation prose) and prints the memory after adding the documents, after
// build(), after toBytes(), and — in another fresh process — after fromBytes() of those bytes
// and one search. `hashing` at 384 dimensions has the layout of a MiniLM index (384-d int8 rows)
// without the model; `static` is the real static embedder (256-d, tokenizer.json). The model's
// own memory (MiniLM weights and runtime) is measured once, separately.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const MB = 1024 * 1024;

async function wasm() {
  const pkg = await import(new URL('pkg/docent.js', root));
  await pkg.init();
  return pkg;
}

async function model(kind) {
  const file = (n) => readFile(new URL(`models/${n}`, root));
  if (kind === 'static') return { table: await file('static.bin'), tokenizer: await file('tokenizer.json') };
  if (kind === 'minilm') {
    return { weights: await file('minilm.int8'), tokenizer: await file('tokenizer.json'), config: await file('config.json') };
  }
  return undefined;
}

/** Deterministic documents of about `words` words each, from a vocabulary of 6000 pseudo-words. */
function* corpus(chunks) {
  let seed = 0x5eed;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24);
  const syl = ['ka', 'lo', 'mi', 'tre', 'sun', 'da', 'ver', 'po', 'ly', 'ne', 'qua', 'ris', 'to', 'bel', 'an', 'or'];
  const vocab = Array.from({ length: 6000 }, () => {
    const n = 1 + Math.floor(rand() * 3);
    return Array.from({ length: n }, () => syl[Math.floor(rand() * syl.length)]).join('');
  });
  // ~170 words per 200-token chunk; 10 chunks per document.
  const docs = Math.ceil(chunks / 10);
  for (let d = 0; d < docs; d++) {
    const paras = [];
    for (let p = 0; p < 20; p++) {
      const words = Array.from({ length: 85 }, () => vocab[Math.floor(Math.pow(rand(), 2) * vocab.length)]);
      paras.push(words.join(' ') + '.');
    }
    yield { url: `doc-${d}.md`, markdown: `# Page ${d}\n\n${paras.join('\n\n')}\n` };
  }
}

async function child(args) {
  const [mode, kind, chunks, bytesFile] = args;
  const { Docent, memoryBytes } = await wasm();
  const out = { start: memoryBytes() };
  const opts = kind === 'hashing' ? { embedder: 'hashing', dim: 384 } : { embedder: kind, model: await model(kind) };
  if (mode === 'model') {
    const d = new Docent(opts);
    out.model = memoryBytes();
    d.embed(['one short query to run the model once']);
    out.embedded = memoryBytes();
  } else if (mode === 'build') {
    const d = new Docent(opts);
    out.model = memoryBytes();
    let started = Date.now();
    for (const doc of corpus(Number(chunks))) d.addDocument(doc);
    out.chunks = d.stats().chunks;
    out.added = memoryBytes();
    out.addSeconds = (Date.now() - started) / 1000;
    started = Date.now();
    d.build();
    out.buildSeconds = (Date.now() - started) / 1000;
    out.built = memoryBytes();
    out.denseKind = d.stats().denseKind;
    const bytes = d.toBytes();
    out.serialised = memoryBytes();
    out.indexBytes = bytes.length;
    await writeFile(bytesFile, bytes);
  } else {
    const bytes = await readFile(bytesFile);
    const m = await model(kind);
    const started = Date.now();
    const d = Docent.fromBytes(bytes, m);
    out.loadSeconds = (Date.now() - started) / 1000;
    out.loaded = memoryBytes();
    d.search('kalo mitre sunda', { k: 5 });
    out.searched = memoryBytes();
    out.chunks = d.stats().chunks;
  }
  process.stdout.write(JSON.stringify(out));
}

function run(...args) {
  const r = spawnSync(process.execPath, ['--max-old-space-size=8192', fileURLToPath(import.meta.url), '--child', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

const f = (b) => `${(b / MB).toFixed(1)} MB`;

if (process.argv[2] === '--child') {
  await child(process.argv.slice(3));
} else {
  const sizes = process.argv.slice(2).map(Number);
  const tmp = await mkdtemp(join(tmpdir(), 'docent-mem-'));
  try {
    const m = run('model', 'minilm', '0');
    console.log(`minilm model: ${f(m.model)} after loading, ${f(m.embedded)} after one embedding (empty module: ${f(m.start)})`);
    const s = run('model', 'static', '0');
    console.log(`static model: ${f(s.model)} after loading, ${f(s.embedded)} after one embedding`);
    for (const kind of (process.env.DOCENT_MEM_KINDS || 'hashing,static').split(',')) {
      for (const n of sizes.length ? sizes : [5000, 20000, 50000]) {
        const file = join(tmp, `${kind}-${n}.bin`);
        const b = run('build', kind, String(n), file);
        const l = run('load', kind, String(n), file);
        const per = (x) => `${Math.round((x - b.model) / b.chunks)} B/chunk`;
        const perLoad = (x) => `${Math.round((x - s.model * (kind === 'static') - m.start * (kind !== 'static')) / l.chunks)} B/chunk`;
        console.log(
          `${kind === 'hashing' ? 'hashing-384' : 'static-256'} ${b.chunks} chunks (${b.denseKind}, index ${f(b.indexBytes)}): ` +
            `added ${f(b.added)} (${per(b.added)}, ${b.addSeconds}s), built ${f(b.built)} (${per(b.built)}, ${b.buildSeconds}s), ` +
            `toBytes ${f(b.serialised)} (${per(b.serialised)}); fromBytes ${f(l.loaded)} (${perLoad(l.loaded)}, ${l.loadSeconds}s), ` +
            `after a search ${f(l.searched)}`,
        );
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
