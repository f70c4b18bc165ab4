// MiniLM embedding speed of the wasm build in Node, single thread: chunks/s at batch 1 and 8 and
// the median latency of one ~10-token query, through the package's `Docent.embed`.
//
//   node bench/minilm_node.mjs [PKG_DIR] [MODEL_DIR]     (defaults: pkg/ and models/)
//
// PKG_DIR is a package folder built by `./build.sh wasm` (so two builds can be compared);
// MODEL_DIR a prepared model folder (`./build.sh setup`). The texts are the same 64 chunks as
// `cargo bench --bench minilm_speed`: the words of docs/*.md (sorted), README.md and
// bench/README.md in windows of 66 words.
import { readFile, readdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const root = new URL('../', import.meta.url);
const pkgDir = resolve(process.argv[2] ?? new URL('pkg/', root).pathname);
const modelDir = resolve(process.argv[3] ?? new URL('models/', root).pathname);

async function chunks() {
  const docs = (await readdir(new URL('docs/', root))).filter((f) => f.endsWith('.md')).sort();
  const files = [...docs.map((f) => `docs/${f}`), 'README.md', 'bench/README.md'];
  const words = [];
  for (const f of files) words.push(...(await readFile(new URL(f, root), 'utf8')).split(/\s+/).filter(Boolean));
  const out = [];
  for (let i = 0; i + 66 <= words.length && out.length < 64; i += 66) out.push(words.slice(i, i + 66).join(' '));
  return out;
}

const QUERY = 'How do I add a dependency to my project?';

const pkg = await import(pathToFileURL(`${pkgDir}/docent.js`));
await pkg.init();
const file = (n) => new Uint8Array(readFileSync(`${modelDir}/${n}`));
const model = { weights: file('minilm.int8'), tokenizer: file('tokenizer.json'), config: file('config.json') };
let t0 = performance.now();
const docent = new pkg.Docent({ embedder: 'minilm', model });
console.log(`${pkgDir}: model ready in ${(performance.now() - t0).toFixed(0)} ms; load average ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
const texts = await chunks();
// Best of PASSES passes over the chunks (the machine is shared: the best pass is the least disturbed).
const PASSES = Number(process.env.MINILM_PASSES ?? 3);
for (const batch of [1, 8]) {
  docent.embed(texts.slice(0, batch)); // warm-up
  let best = Infinity;
  let bestCpu = Infinity;
  for (let p = 0; p < PASSES; p++) {
    t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < texts.length; i += batch) docent.embed(texts.slice(i, i + batch));
    const c = process.cpuUsage(c0);
    best = Math.min(best, (performance.now() - t0) / 1e3);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
  }
  // Per CPU-second too: on a loaded machine it moves less than wall time.
  console.log(
    `batch ${batch}: ${(texts.length / best).toFixed(1)} chunks/s wall, ${(texts.length / bestCpu).toFixed(1)} per CPU-second (${texts.length} chunks, best of ${PASSES} passes)`,
  );
}
for (let i = 0; i < 5; i++) docent.embed([QUERY]);
const times = [];
for (let i = 0; i < 60; i++) {
  t0 = performance.now();
  docent.embed([QUERY]);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(`query "${QUERY}": median ${times[30].toFixed(2)} ms, min ${times[0].toFixed(2)} ms (60 runs)`);
if (process.env.MINILM_DUMP) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.MINILM_DUMP, Buffer.from(docent.embed(texts).buffer));
}
