// wasm memory of the npm package under Node (pkg/, `./build.sh wasm`): `free()` returns an index's
// memory for reuse, and the browser build's size limits refuse work before the 4 GiB ceiling.
// Each test file of `node --test` runs in its own process, so this module instance is fresh.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);
const wasmFile = new URL('pkg/docent_wasm_bg.wasm', root);

let Docent, memoryBytes;

before(async () => {
  assert.ok(existsSync(wasmFile), `${fileURLToPath(wasmFile)} is missing: run ./build.sh wasm first`);
  const pkg = await import(new URL('pkg/docent.js', root));
  await pkg.init();
  ({ Docent, memoryBytes } = pkg);
});

const CORPUS = [
  ['bicycle.html', 'html'],
  ['bread.txt', 'text'],
  ['guide/gardening.md', 'markdown'],
];

async function corpus() {
  const docs = [];
  for (const [file, kind] of CORPUS) {
    docs.push({ url: file, [kind]: await readFile(new URL(`tests/fixtures/corpus/${file}`, root), 'utf8') });
  }
  // Some bulk, so that a leak of one round would show: 300 chunks of generated prose.
  let seed = 7;
  const word = () => ['ka', 'lo', 'mi', 'tre', 'sun', 'da', 'ver', 'po'][(seed = (seed * 48271) % 2147483647) % 8];
  for (let d = 0; d < 30; d++) {
    const text = Array.from({ length: 10 }, () => Array.from({ length: 160 }, () => word() + word()).join(' ')).join('\n\n');
    docs.push({ url: `bulk-${d}.txt`, text });
  }
  return docs;
}

test('memoryBytes is the size of the WebAssembly memory', () => {
  const m = memoryBytes();
  assert.ok(Number.isInteger(m) && m > 0 && m % 65536 === 0, `${m}`);
  assert.ok(m < 4 * 2 ** 30);
});

test('20 rounds of build, toBytes, fromBytes and free() do not grow the memory', async () => {
  const docs = await corpus();
  const sizes = [];
  for (let round = 0; round < 20; round++) {
    const d = new Docent({ embedder: 'hashing', dim: 384 });
    for (const doc of docs) d.addDocument(doc);
    d.build();
    const bytes = d.toBytes();
    const loaded = Docent.fromBytes(bytes);
    assert.equal(loaded.search('tyre pressure', { k: 3 }).hits[0].url, 'bicycle.html#tyres');
    assert.ok(loaded.stats().chunks > 300);
    d.free();
    loaded.free();
    sizes.push(memoryBytes());
  }
  // wasm memory never shrinks; freed memory must be reused, so it settles after a few rounds.
  const settled = sizes[4];
  assert.ok(sizes.slice(4).every((s) => s === settled), `memory grew after round 5: ${sizes.join(' ')}`);
});

test('a document over 64 MiB is refused before it is parsed, and the index keeps working', () => {
  const d = new Docent({ embedder: 'hashing' });
  d.addDocument({ url: 'a.txt', text: 'Tomatoes need water.' });
  d.build();
  const before = d.toBytes();
  const big = 'word '.repeat((64 * 2 ** 20) / 5 + 1);
  assert.throws(
    () => d.addDocument({ url: 'big.html', html: big }),
    (e) => {
      assert.ok(e instanceof Error);
      assert.equal(
        e.message,
        `document big.html: ${big.length} bytes of text; at most 67108864 bytes (64 MiB) fit in one document in the browser build (wasm32 memory is at most 4 GiB); split it into several documents`,
      );
      return true;
    },
  );
  assert.deepEqual(d.toBytes(), before);
  assert.equal(d.search('tomatoes', { k: 1 }).hits[0].url, 'a.txt');
  d.free();
});
