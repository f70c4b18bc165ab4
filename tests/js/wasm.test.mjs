// The wasm boundary under Node: the npm package (pkg/) built by `./build.sh wasm`.
// Run with `node --test tests/js/` after `./build.sh wasm` (./build.sh test does both).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// mulberry32: deterministic, so every run sees the same vectors.
import { rng as prng } from '../support/hostile.mjs';

const root = new URL('../../', import.meta.url);
const pkgEntry = new URL('pkg/docent.js', root);
const wasmFile = new URL('pkg/docent_wasm_bg.wasm', root);

let Docent, VectorIndex, xxh3;

before(async () => {
  assert.ok(existsSync(wasmFile), `${fileURLToPath(wasmFile)} is missing: run ./build.sh wasm first`);
  const pkg = await import(pkgEntry);
  await pkg.init();
  await pkg.init(); // idempotent
  ({ Docent, VectorIndex } = pkg);
  // Not re-exported by the facade; the same module instance the facade initialised.
  ({ xxh3 } = await import(new URL('pkg/docent_wasm.js', root)));
});

// The fixture corpus shared with the Rust tests (tests/fixtures/corpus), with the urls the CLI gives.
const CORPUS = [
  { url: 'bicycle.html', file: 'bicycle.html', kind: 'html' },
  { url: 'bread.txt', file: 'bread.txt', kind: 'text' },
  { url: 'guide/gardening.md', file: 'guide/gardening.md', kind: 'markdown' },
];

async function corpusDocs() {
  const docs = [];
  for (const d of CORPUS) {
    const content = await readFile(new URL(`tests/fixtures/corpus/${d.file}`, root), 'utf8');
    docs.push({ url: d.url, [d.kind]: content });
  }
  return docs;
}

async function corpusIndex(options = { embedder: 'hashing' }) {
  const docent = new Docent(options);
  for (const doc of await corpusDocs()) {
    assert.ok(docent.addDocument(doc) >= 1, doc.url);
  }
  const stages = [];
  docent.build((stage, done, total) => stages.push([stage, done, total]));
  const chunks = docent.stats().chunks;
  assert.deepEqual(stages.slice(-3), [['lexical', chunks, chunks], ['calibrate', 0, 1], ['calibrate', 1, 1]]);
  assert.ok(stages.some(([s]) => s === 'embed'));
  return docent;
}

/** Expects `fn` to throw a JS Error whose message is exactly `message`. */
function throwsExactly(fn, message) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error, `expected an Error, got ${typeof e}: ${e}`);
    assert.equal(e.message, message);
    return true;
  });
}

test('search finds the answering section and keeps its anchor', async () => {
  const docent = await corpusIndex();
  const r = docent.search('how often should I water tomatoes in pots', { k: 3 });
  assert.equal(r.answerable, true, JSON.stringify(r.evidence));
  assert.equal(r.hits[0].url, 'guide/gardening.md#watering');
  assert.equal(r.hits[0].heading, 'Balcony gardening > Watering');
  assert.equal(r.hits[0].title, 'Balcony gardening');
  assert.ok(r.hits.length <= 3);
  const t = docent.search('tyre pressure bar', { k: 3 }).hits[0];
  assert.equal(t.url, 'bicycle.html#tyres');
  assert.equal(typeof t.dense, 'number');
  assert.equal(typeof t.lexical, 'number');
  assert.equal(docent.search('puncture patch glue', { k: 1 }).hits[0].url, 'bicycle.html#puncture');
  assert.equal(docent.search('puncture patch glue').hits.length <= 5, true, 'default k is 5');
  const lexical = docent.search('puncture patch glue', { k: 3, mode: 'lexical' });
  assert.ok(lexical.hits.length >= 1);
  assert.ok(lexical.hits.every((h) => h.score === h.lexical), 'lexical mode ranks by the BM25 score');
  const s = docent.stats();
  assert.equal(s.documents, 3);
  assert.equal(s.pending, 0);
  assert.equal(s.embedder.kind, 'hashing');
  assert.equal(s.denseKind, 'flat');
});

test('assemble numbers its sources and abstains on an unrelated question', async () => {
  const docent = await corpusIndex();
  const p = docent.assemble('How do I clean a bicycle chain?', { k: 4, budget: 2000 });
  assert.equal(p.abstained, false);
  assert.ok(p.sources.length >= 1 && p.sources.length <= 4);
  p.sources.forEach((s, i) => {
    assert.equal(s.n, i + 1);
    assert.ok(p.user.includes(`<source id="${s.n}"`), p.user);
    assert.ok(p.user.includes(`url="${s.url}"`), p.user);
  });
  assert.equal(p.sources[0].url, 'bicycle.html#chain');
  assert.deepEqual(p.messages.map((m) => m.role), ['system', 'user']);
  assert.equal(p.messages[1].content, p.user);
  assert.ok(p.tokens > 0 && p.tokens <= 2000);

  const q = 'lattice quantum chromodynamics renormalisation';
  assert.equal(docent.search(q, { k: 5 }).answerable, false);
  const a = docent.assemble(q, { k: 5, budget: 2000 });
  assert.equal(a.abstained, true);
  assert.deepEqual(a.sources, []);
  assert.ok(a.user.includes('do not cover'), a.user);
});

test('follow-ups: followupQuery forms the query, assemble takes the history, checks it and puts the turns in the prompt', async () => {
  const docent = await corpusIndex();
  const { followupQuery } = await import(pkgEntry);
  const history = [{ question: 'How does a self-watering pot work?', answer: 'It keeps a reservoir under the soil [1].' }];
  assert.equal(followupQuery('and what is the gauge for?', history), 'and what is the gauge for? self watering pot');
  assert.equal(followupQuery('and what is the gauge for?'), 'and what is the gauge for?');
  assert.equal(followupQuery('How do I bake a sourdough loaf?', history), 'How do I bake a sourdough loaf?');
  const p = docent.assemble('and what is the gauge for?', { history, historyTokens: 200 });
  assert.equal(p.sources[0].url, 'guide/gardening.md#self-watering-pots');
  assert.deepEqual(p.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
  assert.equal(p.messages[2].content, 'It keeps a reservoir under the soil.');
  assert.equal(p.turns, 1);
  assert.equal(p.query, 'and what is the gauge for? self watering pot');
  const bike = docent.assemble('and what is the gauge for?', { history: [{ question: 'How do I look after my bicycle tyres?' }] });
  assert.equal(bike.sources[0].url, 'bicycle.html#tyres');
  throwsExactly(() => docent.assemble('and then?', { history: [{ question: ' ' }] }), 'invalid history: turn 1: field "question" must be a non-empty string');
  throwsExactly(() => docent.assemble('and then?', { historyTokens: 2e6 }), 'invalid history_tokens: expected 0..=1000000 tokens, found 2000000');
  assert.throws(() => docent.assemble('and then?', { history: [{ answer: 'x' }] }), /question/);
  assert.throws(() => followupQuery('and then?', 'not an array'), /invalid history/);
});

test('follow-ups: a turn carries the urls its answer cited, and the follow-up is searched on their pages', async () => {
  const docent = await corpusIndex();
  const { followupQuery } = await import(pkgEntry);
  const q = 'and what is the gauge for?';
  const question = 'How does a self-watering pot work?';
  const at = (p, url) => p.sources.findIndex((s) => s.url === url);
  const garden = docent.assemble(q, { history: [{ question, sources: ['guide/gardening.md#self-watering-pots'] }] });
  assert.equal(garden.sources[0].url, 'guide/gardening.md#self-watering-pots');
  // The earlier answer was built on the bicycle page: the follow-up's own word finds the tyre gauge there.
  const bike = docent.assemble(q, { history: [{ question, answer: 'See [1].', sources: ['bicycle.html#chain'] }] });
  assert.ok(at(bike, 'bicycle.html#tyres') >= 0 && (at(garden, 'bicycle.html#tyres') < 0 || at(bike, 'bicycle.html#tyres') < at(garden, 'bicycle.html#tyres')), JSON.stringify([bike.sources.map((s) => s.url), garden.sources.map((s) => s.url)]));
  // The sources do not change the formed query; they are checked like the rest of a turn.
  assert.equal(followupQuery(q, [{ question, sources: ['bicycle.html#chain'] }]), 'and what is the gauge for? self watering pot');
  throwsExactly(() => docent.assemble(q, { history: [{ question, sources: ['a.html#x', ' '] }] }), 'invalid history: turn 1: field "sources": url 2 is empty (expected page#anchor)');
  assert.throws(() => docent.assemble(q, { history: [{ question, sources: [{ url: 'a.html' }] }] }), /invalid/);
  assert.throws(() => followupQuery(q, [{ question, sources: 'a.html' }]), /invalid history/);
});

test('toBytes / fromBytes round trip gives equal results', async () => {
  const docent = await corpusIndex();
  const bytes = docent.toBytes();
  assert.ok(bytes instanceof Uint8Array && bytes.length > 100);
  const loaded = Docent.fromBytes(bytes);
  for (const q of ['how often should I water tomatoes', 'tyre pressure', 'sourdough starter', 'lattice quantum']) {
    assert.deepEqual(loaded.search(q, { k: 5 }), docent.search(q, { k: 5 }), q);
  }
  assert.deepEqual(loaded.assemble('clean the chain', {}), docent.assemble('clean the chain', {}));
  assert.deepEqual(loaded.stats(), docent.stats());
  assert.deepEqual(loaded.toBytes(), bytes);
});

test('addDocument after build is searchable at once; removeDocument removes at once; toBytes keeps both', async () => {
  const docent = await corpusIndex();
  const before = docent.stats();
  assert.equal(docent.addDocument({ url: 'kites.md', text: 'Flying a kite needs steady wind of 10 to 25 km/h and an open field.' }), 1);
  assert.equal(docent.stats().pending, 1);
  assert.equal(docent.stats().documents, before.documents + 1);
  for (const mode of ['hybrid', 'dense', 'lexical']) {
    assert.equal(docent.search('kite wind field', { k: 3, mode }).hits[0].url, 'kites.md', mode);
  }
  const removed = docent.removeDocument('bicycle.html');
  assert.ok(removed >= 3, `bicycle.html has several sections: ${removed}`);
  assert.equal(docent.stats().chunks, before.chunks + 1 - removed);
  for (const q of ['tyre pressure bar', 'puncture patch glue']) {
    assert.ok(docent.search(q, { k: 20 }).hits.every((h) => !h.url.startsWith('bicycle.html')), q);
  }
  throwsExactly(() => docent.removeDocument('bicycle.html'), 'document bicycle.html: no document with this url is in the index');
  throwsExactly(() => docent.removeDocument('nowhere.md'), 'document nowhere.md: no document with this url is in the index');

  const bytes = docent.toBytes();
  const loaded = Docent.fromBytes(bytes);
  assert.deepEqual(loaded.stats(), docent.stats());
  for (const q of ['kite wind field', 'tyre pressure', 'sourdough starter', 'how often should I water tomatoes']) {
    assert.deepEqual(loaded.search(q, { k: 5 }), docent.search(q, { k: 5 }), q);
  }
  assert.deepEqual(loaded.toBytes(), bytes);

  // The loaded index takes updates too, and build() merges the delta.
  loaded.addDocument({ url: 'owls.md', text: 'Owls hunt at night and swallow mice whole.' });
  assert.equal(loaded.search('owls hunt mice', { k: 1 }).hits[0].url, 'owls.md');
  loaded.build();
  assert.equal(loaded.stats().pending, 0);
  assert.equal(loaded.search('owls hunt mice', { k: 1 }).hits[0].url, 'owls.md');
  assert.equal(loaded.search('kite wind field', { k: 1 }).hits[0].url, 'kites.md');
  assert.ok(loaded.search('tyre pressure bar', { k: 20 }).hits.every((h) => !h.url.startsWith('bicycle.html')));
});

test('embed returns n × dim L2-normalised rows from the index embedder', async () => {
  const docent = new Docent({ embedder: 'hashing', dim: 64 });
  const v = docent.embed(['water the tomatoes', 'tyre pressure', '']);
  assert.ok(v instanceof Float32Array);
  assert.equal(v.length, 3 * 64);
  assert.equal(docent.dim, 64);
  const norm = (r) => Math.hypot(...v.subarray(r * 64, (r + 1) * 64));
  assert.ok(Math.abs(norm(0) - 1) < 1e-5 && Math.abs(norm(1) - 1) < 1e-5);
  assert.equal(norm(2), 0, 'an empty text gives a zero row');
});


function bruteForce(vectors, dim, query, k) {
  const n = vectors.length / dim;
  const qn = Math.hypot(...query);
  const scored = [];
  for (let i = 0; i < n; i++) {
    const row = vectors.subarray(i * dim, (i + 1) * dim);
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += row[j] * query[j];
    scored.push([i, dot / (Math.hypot(...row) * qn)]);
  }
  scored.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  return scored.slice(0, k).map(([i]) => i);
}

for (const [name, opts] of [
  ['flat scan', undefined],
  ['HNSW', { flatThreshold: 0, efSearch: 32 }],
]) {
  test(`VectorIndex (${name}) matches brute force on 200 random vectors`, () => {
    const seed = 0x5eed;
    const rand = prng(seed);
    const dim = 48;
    const n = 200;
    const vectors = new Float32Array(n * dim).map(() => rand() * 2 - 1);
    const index = VectorIndex.build(vectors, dim, opts);
    assert.equal(index.len, n);
    assert.equal(index.dim, dim);
    let found = 0;
    const queries = 20;
    for (let q = 0; q < queries; q++) {
      const query = new Float32Array(dim).map(() => rand() * 2 - 1);
      const { ids, scores } = index.search(query, 10);
      assert.ok(ids instanceof Uint32Array && scores instanceof Float32Array);
      assert.equal(ids.length, 10);
      for (let i = 1; i < scores.length; i++) assert.ok(scores[i - 1] >= scores[i], 'best first');
      const truth = new Set(bruteForce(vectors, dim, query, 10));
      found += [...ids].filter((id) => truth.has(id)).length;
    }
    const recall = found / (queries * 10);
    assert.ok(recall >= 0.95, `recall@10 ${recall} < 0.95 (seed ${seed})`);

    const bytes = index.toBytes();
    const loaded = VectorIndex.fromBytes(bytes);
    assert.equal(loaded.len, n);
    const query = vectors.subarray(0, dim);
    assert.deepEqual(loaded.search(query, 5), index.search(query, 5));
    assert.equal(index.search(query, 1).ids[0], 0, 'a stored vector finds itself');
  });
}

test('VectorIndex: ef per query trades speed for recall; a large ef finds 99% of the exact scan on clustered vectors', () => {
  const seed = 0xef;
  const rand = prng(seed);
  const dim = 32;
  const n = 12_000;
  const centres = Array.from({ length: 60 }, () => Float32Array.from({ length: dim }, () => rand() * 2 - 1));
  const vectors = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = centres[Math.floor(rand() * centres.length)];
    for (let j = 0; j < dim; j++) vectors[i * dim + j] = c[j] + (rand() - 0.5) * 0.6;
  }
  const index = VectorIndex.build(vectors, dim, { m: 8, efConstruction: 64 });
  // The exact scan over the same int8 rows is the reference: what the graph should find (f32
  // brute force differs from it by int8 rounding among near-ties, whatever the graph does).
  const exact = VectorIndex.build(vectors, dim, { flatThreshold: n + 1 });
  assert.ok(index.toBytes().length < n * (dim + 4 + 8 * 2 * 4 + 16), 'int8 rows + 2m links per row');
  const recall = (ef) => {
    let found = 0;
    for (let q = 0; q < 30; q++) {
      const query = vectors.slice(q * 397 * dim, (q * 397 + 1) * dim).map((v) => v + (rand() - 0.5) * 0.2);
      const truth = new Set(exact.search(query, 10).ids);
      const { ids } = ef === undefined ? index.search(query, 10) : index.search(query, 10, ef);
      assert.equal(ids.length, 10);
      found += [...ids].filter((id) => truth.has(id)).length;
    }
    return found / 300;
  };
  const high = recall(256);
  assert.ok(high >= 0.99, `ef 256: recall@10 ${high} < 0.99 (seed ${seed})`);
  assert.ok(high >= recall(10), 'recall must not fall as ef grows');
  assert.ok(recall(undefined) >= 0.9, 'the stored efSearch is used when ef is not given');
  index.free();
  exact.free();
});

// Regression: the query was quantized to int8 as well, so a change of 1e-6 that crossed a rounding
// boundary moved every score by ~1e-3 (how wasm and native disagreed on the same MiniLM index).
for (const [name, opts] of [['flat scan', undefined], ['HNSW', { flatThreshold: 0 }]]) {
  test(`VectorIndex (${name}) scores move continuously with the query`, () => {
    const seed = 0x1e5;
    const rand = prng(seed);
    const dim = 64;
    const index = VectorIndex.build(new Float32Array(300 * dim).map(() => rand() * 2 - 1), dim, opts);
    const q = new Float32Array(dim).map(() => rand() * 1.8 - 0.9);
    q[0] = 1; // the largest value: the int8 code of column j is round(127 · q[j])
    const below = q.slice();
    const above = q.slice();
    below[1] = 10.5 / 127 - 1e-6;
    above[1] = 10.5 / 127 + 1e-6;
    const a = index.search(below, 10);
    const b = index.search(above, 10);
    assert.deepEqual([...a.ids], [...b.ids], `seed ${seed}`);
    a.scores.forEach((s, i) => assert.ok(Math.abs(s - b.scores[i]) < 1e-5, `seed ${seed} rank ${i}: ${s} vs ${b.scores[i]}`));
  });
}

test('errors reach JS as Errors with the core message', async () => {
  const docent = await corpusIndex();
  throwsExactly(() => docent.search('tyres', { k: 0 }), 'invalid k: expected 1..=1000 results, found 0');
  throwsExactly(() => docent.search('   ', { k: 3 }), 'invalid query: expected non-empty text');
  throwsExactly(() => docent.assemble('tyres', { k: 51 }), 'invalid k: expected 1..=50 sources, found 51');
  throwsExactly(
    () => docent.addDocument({ url: 'empty.md', markdown: '' }),
    'document empty.md: no text to index (the document is empty after extraction)',
  );
  throwsExactly(
    () => docent.addDocument({ url: 'both.md', markdown: '# a', text: 'b' }),
    'document both.md: expected exactly one of the fields text, html, markdown or pdf, found several',
  );
  throwsExactly(
    () => docent.addDocument({ url: 'bicycle.html', html: '<p>again</p>' }),
    'document bicycle.html: a document with this url is already in the index; remove it first',
  );
  assert.throws(
    () => docent.addDocument({ url: 'hidden.html', html: '<html><head><meta name="robots" content="noindex"></head><body><p>secret</p></body></html>' }),
    (e) => e instanceof Error && e.message.startsWith('document hidden.html: not indexed: ') && /noindex/.test(e.message),
  );
  throwsExactly(
    () => docent.addDocument({ url: 'x.md', markdwn: '# typo' }),
    'invalid document: unknown field "markdwn", expected one of url, title, text, html, markdown, pdf',
  );
  throwsExactly(
    () => docent.search('tyres', { top: 3 }),
    'invalid search options: unknown field "top", expected one of k, mode',
  );
  throwsExactly(
    () => new Docent({ embedder: 'bert' }),
    'invalid embedder: expected one of minilm, static, hashing, vectors; found "bert"',
  );
  throwsExactly(
    () => new Docent({ embedder: 'static' }),
    'invalid model.table: the static embedder needs the bytes of static.bin (a Uint8Array), found none',
  );
  throwsExactly(
    () => new Docent({ embedder: 'hashing', chunkTokens: 8 }),
    'invalid chunk max_tokens: expected 16..=2048, found 8',
  );
  const fresh = new Docent({ embedder: 'hashing' });
  throwsExactly(
    () => fresh.search('tyres', { k: 3 }),
    'the index is not built: call build() after adding documents, before searching',
  );

  const bytes = docent.toBytes();
  const corrupted = bytes.slice();
  corrupted[corrupted.length - 3] ^= 0x40;
  assert.throws(() => Docent.fromBytes(corrupted), (e) => e instanceof Error && e.message.startsWith('index: ') && /checksum|corrupt/i.test(e.message), 'corrupted body');
  assert.throws(() => Docent.fromBytes(bytes.subarray(0, 10)), (e) => e instanceof Error && e.message.startsWith('index: ') && /truncated/.test(e.message));
  assert.throws(() => Docent.fromBytes(new TextEncoder().encode('not an index at all, just text')), (e) => e instanceof Error && /magic/.test(e.message));

  const throwing = new Docent({ embedder: 'hashing' });
  throwing.addDocument({ url: 'a.txt', text: 'some words to index' });
  const boom = new RangeError('stop');
  assert.throws(() => throwing.build(() => { throw boom; }), (e) => e === boom, 'the callback exception is rethrown');

  const dim = 8;
  const index = VectorIndex.build(new Float32Array(4 * dim).fill(0.5), dim);
  throwsExactly(() => index.search(new Float32Array(dim), 0), 'invalid k: expected 1..=1000 results, found 0');
  assert.throws(() => index.search(new Float32Array(dim + 1), 3), (e) => e instanceof Error && e.message.startsWith('invalid vector: ') && /9/.test(e.message) && /8/.test(e.message));
  throwsExactly(
    () => VectorIndex.build(new Float32Array(10), 4),
    'invalid vector: vectors has 10 floats, not a multiple of dim 4',
  );
  throwsExactly(
    () => VectorIndex.build(new Float32Array([1, 2, NaN, 4]), 2),
    'invalid vector: vectors row 1 column 0 is NaN; every value must be finite',
  );
  const vbytes = index.toBytes();
  const vbad = vbytes.slice();
  vbad[vbad.length - 1] ^= 1;
  assert.throws(() => VectorIndex.fromBytes(vbad), (e) => e instanceof Error && e.message.startsWith('vector index: '));
  throwsExactly(() => VectorIndex.fromBytes(bytes), "vector index: the section 'vectors' is missing");
});

const modelDir = new URL('models/', root);

async function modelFile(name) {
  const url = new URL(name, modelDir);
  assert.ok(existsSync(url), `${fileURLToPath(url)} is missing: run ./build.sh setup (prepares models/)`);
  return new Uint8Array(await readFile(url));
}

/** The native CLI built by ./build.sh setup (target/debug/docent), or DOCENT_BIN. */
function nativeCli() {
  const bin = process.env.DOCENT_BIN ?? fileURLToPath(new URL('target/debug/docent', root));
  assert.ok(existsSync(bin), `${bin} is missing: run ./build.sh setup (builds the CLI) or set DOCENT_BIN`);
  return bin;
}

// Queries for the native-vs-wasm comparisons: each kind of fixture document, near-duplicates of
// one another (close scores), one the corpus does not cover (the gate's verdict must agree), and
// the 150 Cargo-book questions (off-topic here, but their dense scores must agree just as well).
// wasm and native MiniLM embeddings differ by ~1e-7; when the query was quantized to int8 too,
// that flipped a query code for about one query in 150 here and moved its scores by ~1e-4.
const FIXTURE_QUERIES = [
  'how often should I water tomatoes in pots',
  'tyre pressure',
  'fixing a flat tyre with a patch',
  'clean and oil the bicycle chain',
  'sourdough starter feeding',
  'how long does bread dough rise',
  'which herbs grow on a balcony',
  'lattice quantum chromodynamics renormalisation',
];

async function comparisonQueries() {
  const questions = [];
  for (const file of ['bench/eval/cargo-book-dev.jsonl', 'bench/eval/cargo-book.jsonl']) {
    const lines = (await readFile(new URL(file, root), 'utf8')).trim().split('\n');
    questions.push(...lines.map((line) => JSON.parse(line).q));
  }
  return [...FIXTURE_QUERIES, ...questions];
}

/** Indexes the fixture corpus with the native CLI and returns [index.bin bytes, the CLI's
 * `search --queries` answers to comparisonQueries() with k 5]. */
async function nativeIndex(embedder) {
  const cli = nativeCli();
  const dir = await mkdtemp(join(tmpdir(), 'docent-wasm-test-'));
  try {
    const env = { ...process.env, DOCENT_MODEL_DIR: fileURLToPath(modelDir) };
    const corpus = fileURLToPath(new URL('tests/fixtures/corpus', root));
    execFileSync(cli, ['index', corpus, '--out', dir, '--embedder', embedder], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const qs = await comparisonQueries();
    const queries = join(dir, 'queries.jsonl');
    await writeFile(queries, qs.map((q) => JSON.stringify({ q })).join('\n'));
    const out = execFileSync(cli, ['search', dir, '--queries', queries, '--k', '5'], { env, encoding: 'utf8' });
    const native = out.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(native.map((r) => r.q), qs);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    const bytes = new Uint8Array(await readFile(join(dir, manifest.index)));
    assert.equal(xxh3(bytes), manifest.xxh3, 'wasm xxh3 = the manifest xxh3 the native CLI wrote');
    return [bytes, native];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** wasm loads the CLI's index.bin and answers every query like the CLI (queries embedded in
 * wasm): same verdict, same ranked urls and texts, fused and dense scores within `tolerance`.
 * Returns the largest dense score difference seen. */
function assertSameAsNative(loaded, natives, tolerance) {
  let worst = 0;
  for (const native of natives) {
    const w = loaded.search(native.q, { k: 5 });
    const q = JSON.stringify(native.q);
    assert.equal(w.answerable, native.answerable, q);
    assert.deepEqual(w.hits.map((h) => h.url), native.hits.map((h) => h.url), q);
    assert.deepEqual(w.hits.map((h) => h.text), native.hits.map((h) => h.text), q);
    w.hits.forEach((h, i) => {
      const n = native.hits[i];
      assert.ok(Math.abs(h.score - n.score) <= tolerance, `${q}: score ${h.score} vs native ${n.score}`);
      assert.equal(h.dense === null, n.dense === undefined, `${q}: dense candidate in one only`);
      const d = Math.abs((h.dense ?? 0) - (n.dense ?? 0));
      assert.ok(d <= tolerance, `${q}: dense ${h.dense} vs native ${n.dense}`);
      worst = Math.max(worst, d);
    });
  }
  return worst;
}

test('static embedder: wasm indexes the corpus and agrees with the native CLI', async () => {
  const model = { table: await modelFile('static.bin'), tokenizer: await modelFile('tokenizer.json') };
  const docent = await corpusIndex({ embedder: 'static', model });
  assert.equal(docent.stats().embedder.kind, 'static');
  const q = 'how often should I water tomatoes in pots';
  const r = docent.search(q, { k: 3 });
  assert.equal(r.hits[0].url, 'guide/gardening.md#watering');
  assert.equal(docent.search('fixing a flat tyre with a patch', { k: 3 }).hits[0].url, 'bicycle.html#puncture');

  const [bytes, natives] = await nativeIndex('static');
  assert.equal(natives[0].hits[0].url, r.hits[0].url);
  const worst = assertSameAsNative(Docent.fromBytes(bytes, model), natives, 1e-5);
  console.log(`static: largest |wasm - native| dense score ${worst}`);
  throwsExactly(
    () => Docent.fromBytes(bytes, { table: model.table }),
    'invalid model.tokenizer: the static embedder needs the bytes of tokenizer.json (a Uint8Array), found none',
  );
  assert.throws(
    () => Docent.fromBytes(docent.toBytes()),
    (e) => e instanceof Error && e.message.startsWith('invalid model.table: '),
  );
});

test('minilm embedder: queries embedded in wasm find what the native CLI finds', async () => {
  const model = {
    weights: await modelFile('minilm.int8'),
    tokenizer: await modelFile('tokenizer.json'),
    config: await modelFile('config.json'),
  };
  const [bytes, natives] = await nativeIndex('minilm');
  const loaded = Docent.fromBytes(bytes, model);
  assert.equal(loaded.stats().embedder.kind, 'minilm');
  assert.equal(loaded.dim, 384);
  const worst = assertSameAsNative(loaded, natives, 1e-5);
  console.log(`minilm: largest |wasm - native| dense score ${worst}`);
  assert.equal(natives[0].hits[0].url, 'guide/gardening.md#watering');
  // A hashing index needs no model files: the ones given are ignored.
  const hashingIndex = (await corpusIndex()).toBytes();
  const other = Docent.fromBytes(hashingIndex, model); // hashing ignores model files
  assert.equal(other.stats().embedder.kind, 'hashing');
  const tampered = { ...model, weights: model.weights.slice() };
  tampered.weights[tampered.weights.length - 1] ^= 1;
  assert.throws(
    () => Docent.fromBytes(bytes, tampered),
    (e) => e instanceof Error && e.message.startsWith('model minilm.int8: corrupted file: checksum'),
    'a damaged weights file is detected',
  );
});

test('createDocent / openDocent under Node: model files given as bytes, embedderOf, and clear errors for worker: true and workers: N', async () => {
  const pkg = await import(pkgEntry);
  const docent = await pkg.createDocent({ embedder: 'hashing', dim: 64 });
  for (const d of await corpusDocs()) docent.addDocument(d);
  docent.build();
  const bytes = docent.toBytes();
  assert.deepEqual(Docent.embedderOf(bytes), { kind: 'hashing', model: Docent.embedderOf(bytes).model, dim: 64, fingerprint: Docent.embedderOf(bytes).fingerprint });
  const events = [];
  const reopened = await pkg.openDocent(bytes, { onProgress: (e) => events.push(e.stage) });
  assert.deepEqual(events, ['ready']);
  assert.deepEqual(
    reopened.search('tyre pressure', { k: 3 }).hits.map((h) => h.url),
    docent.search('tyre pressure', { k: 3 }).hits.map((h) => h.url),
  );
  assert.throws(() => Docent.embedderOf(new Uint8Array([1, 2, 3])), (e) => e instanceof Error && /index/.test(e.message));
  await assert.rejects(pkg.createDocent({ embedder: 'hashing' }, { worker: true }), {
    message: 'options.worker: Web Workers are not available here (e.g. Node); leave `worker` unset to run on this thread',
  });
  await assert.rejects(pkg.createDocent({ embedder: 'hashing' }, { workers: 2 }), {
    message: 'options.workers: Web Workers are not available here (e.g. Node); leave `workers` unset to run on this thread',
  });
  await assert.rejects(pkg.createDocent({ embedder: 'hashing' }, { workers: 2.5 }), {
    message: 'options.workers: expected an integer from 1 to 16 (embedder workers), found 2.5',
  });
  // The model file table is the core's (src/site.rs): an unknown embedder gets the core's message,
  // the one `new Docent({embedder: 'bert'})` gives, before anything is fetched.
  await assert.rejects(pkg.createDocent({ embedder: 'bert', model: { baseUrl: 'http://127.0.0.1:9/' } }), {
    message: 'invalid embedder: expected one of minilm, static, hashing, vectors; found "bert"',
  });
  throwsExactly(() => new Docent({ embedder: 'bert' }), 'invalid embedder: expected one of minilm, static, hashing, vectors; found "bert"');
});

test('build() calibrates the site gate as docent index does: an absent technology is flagged and named', async () => {
  // The tally documentation of tests/fixtures/gate (24 sections: enough to calibrate on).
  const docent = new Docent({ embedder: 'hashing' });
  for (const name of ['config', 'faq', 'install', 'projects', 'reports', 'tracking']) {
    const markdown = await readFile(new URL(`tests/fixtures/gate/${name}.md`, root), 'utf8');
    docent.addDocument({ url: `${name}.md`, markdown });
  }
  docent.build();
  const bytes = docent.toBytes();
  // The index carries the fitted gate (its JSON section), as index.bin of `docent index` does.
  assert.ok(Buffer.from(bytes).includes('"strong_dense"'), 'index.bin has the gate section');
  const r = docent.search('How do I run tally inside Kubernetes?', { k: 5 });
  assert.equal(r.answerable, false, JSON.stringify(r.evidence));
  assert.deepEqual(r.missing, ['Kubernetes']);
  assert.equal(docent.search('How do I export a report to CSV?', { k: 5 }).answerable, true);
  // calibrateGate() fits the same gate again (deterministic): the bytes do not change.
  docent.calibrateGate();
  assert.deepEqual(docent.toBytes(), bytes);
  // Pages added since the build: calibrating needs a build first.
  docent.addDocument({ url: 'extra.md', markdown: '# Extra\n\nMore about tally reports.' });
  assert.throws(() => docent.calibrateGate(), /build/);
});

test('reuseFrom: a rebuild embeds only changed documents and reports what it reused', async () => {
  const docs = await corpusDocs();
  const before = await corpusIndex();
  const bytes = before.toBytes();
  const next = new Docent({ embedder: 'hashing' });
  assert.equal(next.reuseFrom(bytes), undefined, 'the same embedder and chunking: reusable');
  const changed = docs.map((d) => (d.url === 'bread.txt' ? { ...d, text: `${d.text}\nRye bread needs a longer proof.` } : d));
  for (const d of changed.filter((d) => d.url !== 'guide/gardening.md')) next.addDocument(d);
  next.build();
  assert.deepEqual(next.reuseReport(), {
    reused: 1, embedded: 1, removed: 1,
    reusedChunks: next.reuseReport().reusedChunks, embeddedChunks: next.reuseReport().embeddedChunks, rebuild: null,
  });
  assert.equal(next.reuseReport().reusedChunks + next.reuseReport().embeddedChunks, next.stats().chunks);
  assert.equal(next.search('rye bread proof', { k: 1 }).hits[0].url, 'bread.txt');
  // Equal to a full build of the same documents.
  const full = new Docent({ embedder: 'hashing' });
  for (const d of changed.filter((d) => d.url !== 'guide/gardening.md')) full.addDocument(d);
  full.build();
  assert.deepEqual(next.toBytes(), full.toBytes());
  // Not reusable: the reason, and everything is embedded.
  const other = new Docent({ embedder: 'hashing', dim: 64 });
  assert.match(other.reuseFrom(bytes), /^the previous index was built with hashing \(hashing-v1, 256-d.*this one uses hashing \(hashing-v1, 64-d/);
  assert.match(new Docent({ embedder: 'hashing' }).reuseFrom(new Uint8Array([1, 2, 3])),
    /^the previous index could not be loaded: previous index: not a docent index/);
  throwsExactly(() => before.reuseFrom(bytes),
    'invalid reuse_from: expected an empty engine (call it before adding documents and before building)');
});
