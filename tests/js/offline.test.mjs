// The offline provider of the npm package (pkg/llm/offline.js) under Node. Its answer comes from
// docent's wasm module (src/answer/), so it gives the golden answers of
// tests/fixtures/offline/cases.json that the Rust tests check too, whether it is asked through
// offlineAnswer, streamAnswer, a Docent, or the wasm export itself.
// `docent ask --provider offline` must print the same answer and sources for the same index and
// question. Needs ./build.sh wasm (pkg/docent_wasm*) and the CLI (DOCENT_BIN, default
// target/debug/docent). Run with `node --test tests/js/offline.test.mjs`.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { init, Docent } from '../../pkg/docent.js';
import { notCovered, offlineAnswer as coreAnswer } from '../../pkg/docent_wasm.js';
import { streamAnswer, offlineAnswer, LlmError, NOT_IN_DOCUMENTS } from '../../pkg/llm.js';
import { collect as collectStream } from '../support/stream.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const GOLDEN = JSON.parse(readFileSync(join(root, 'tests/fixtures/offline/cases.json'), 'utf8'));
const GARDEN = GOLDEN.prompts.garden;
const GARDEN_ANSWER = GOLDEN.cases.find((c) => c.prompt === 'garden' && c.question === null).answer;
/** A fetch that fails the test: the offline provider must send nothing. */
const noFetch = () => assert.fail('the offline provider sent a request');

before(() => init());

/** Streams to the end; returns the deltas and the generator's return value. */
const collect = (options) => collectStream(streamAnswer, options);

test('the golden answers of tests/fixtures/offline/cases.json, through every route to the core', async () => {
  assert.ok(GOLDEN.cases.length >= 10, 'the golden file lost its cases');
  const docent = new Docent({ embedder: 'hashing' });
  try {
    for (const c of GOLDEN.cases) {
      const prompt = GOLDEN.prompts[c.prompt];
      const question = c.question ?? undefined;
      assert.deepEqual(offlineAnswer(prompt, question), c.answer, `offlineAnswer: ${c.name}`);
      assert.deepEqual(coreAnswer(prompt, question), c.answer, `the wasm export: ${c.name}`);
      assert.deepEqual(docent.offlineAnswer(prompt, question), c.answer, `Docent.offlineAnswer: ${c.name}`);
      const streamed = await collect({ provider: 'offline', prompt, question, fetch: noFetch });
      assert.equal(streamed.text, c.answer.text, `streamAnswer: ${c.name}`);
      assert.equal(streamed.result.stopReason, c.answer.abstained ? 'abstained' : 'stop');
    }
  } finally {
    docent.free();
  }
});

test('"not covered" is one text: the JS constant is the core\'s', () => {
  assert.equal(NOT_IN_DOCUMENTS, notCovered());
  assert.equal(offlineAnswer({ sources: [], abstained: true }).text, NOT_IN_DOCUMENTS);
});

test('a prompt is read leniently: a source that is not an object with a string text is skipped, keeping its rank', () => {
  const text = 'Water tomatoes deeply twice a week.';
  const prompt = { sources: [null, { n: 2, text: 5 }, { text, title: 7 }, 'x'] };
  assert.deepEqual(offlineAnswer(prompt, 'water'), { text: 'Water tomatoes deeply twice a week [3].', abstained: false }, 'n defaults to the position from 1');
  assert.deepEqual(offlineAnswer({ ...GARDEN, question: 'ignored' }, 42), GARDEN_ANSWER, 'a question that is not a string is read from the prompt');
  for (const bad of [null, 'prompt', { sources: 'none' }, {}]) {
    assert.throws(() => offlineAnswer(bad), (e) => e instanceof LlmError && e.kind === 'config' && /^invalid prompt: expected an assembled prompt with a `sources` array/.test(e.message));
  }
  assert.throws(() => coreAnswer({ sources: 'none' }), /^Error: invalid prompt: expected an assembled prompt with a `sources` array \(docent\.assemble\(question\)\), found an object without one$/);
  assert.throws(() => coreAnswer('prompt'), /found a string$/);
});

test('offline through streamAnswer: a sentence with its citation at a time; abstained in one piece; abortable', async () => {
  const { deltas, result } = await collect({ provider: 'offline', prompt: GARDEN, fetch: noFetch });
  assert.deepEqual(deltas, [
    'Water tomatoes deeply twice a week [1]. ',
    'Shallow watering every day makes roots lazy [1]. ',
    'In a heat wave, check the soil each morning and water when the top inch is dry [1]. ',
    'Tomatoes like rich, loose soil [3].',
  ]);
  assert.deepEqual(result, { text: GARDEN_ANSWER.text, stopReason: 'stop', skippedEvents: 0 });
  const none = await collect({ provider: 'offline', prompt: { ...GARDEN, abstained: true }, question: 'x' });
  assert.deepEqual(none.deltas, [NOT_IN_DOCUMENTS]);
  const controller = new AbortController();
  const seen = [];
  await assert.rejects(async () => {
    for await (const d of streamAnswer({ provider: 'offline', prompt: GARDEN, signal: controller.signal })) {
      seen.push(d);
      controller.abort();
    }
  }, (e) => e instanceof LlmError && e.kind === 'aborted' && e.partial === seen.join('') && seen.length === 1);
  await assert.rejects(collect({ provider: 'offline', prompt: null }), (e) => e instanceof LlmError && e.kind === 'config');
});

test('offline with `docent`: the answer comes from that Docent (a DocentWorker computes it in its worker)', async () => {
  const calls = [];
  const remote = {
    offlineAnswer: async (prompt, question) => {
      calls.push({ prompt, question });
      return { text: 'From the worker [1]. Second [2].', abstained: false };
    },
  };
  const r = await collect({ provider: 'offline', prompt: GARDEN, question: 'chain', docent: remote, fetch: noFetch });
  assert.deepEqual(r.deltas, ['From the worker [1]. ', 'Second [2].']);
  assert.deepEqual(calls, [{ prompt: GARDEN, question: 'chain' }]);
  const failing = { offlineAnswer: async () => Promise.reject(new Error('docent worker: free() was called')) };
  await assert.rejects(collect({ provider: 'offline', prompt: GARDEN, docent: failing }), /free\(\) was called/);
});

test('in a thread without the wasm module: offlineAnswer says to init(), streamAnswer loads the module itself', () => {
  const llm = pathToFileURL(join(root, 'pkg/llm.js')).href;
  const script = `
    import { offlineAnswer, streamAnswer } from ${JSON.stringify(llm)};
    const prompt = ${JSON.stringify(GARDEN)};
    let error;
    try { offlineAnswer(prompt); } catch (e) { error = { name: e.name, kind: e.kind, message: e.message }; }
    let text = '';
    for await (const d of streamAnswer({ provider: 'offline', prompt })) text += d;
    console.log(JSON.stringify({ error, text, after: offlineAnswer(prompt).text }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 }));
  assert.deepEqual(out.error, {
    name: 'LlmError',
    kind: 'config',
    message: "offline answer: docent's WebAssembly module is not loaded in this thread: await init() (from docent) first, or use streamAnswer({provider: 'offline'}), which loads it",
  });
  assert.equal(out.text, GARDEN_ANSWER.text);
  assert.equal(out.after, GARDEN_ANSWER.text, 'once loaded, offlineAnswer works too');
});

test('`docent ask --provider offline` prints the answer and the sources the wasm module gives for the same index and question', () => {
  const cli = process.env.DOCENT_BIN ?? join(root, 'target/debug/docent');
  assert.ok(existsSync(cli), `${cli} is missing: run ./build.sh setup (builds the CLI) or set DOCENT_BIN`);
  const tmp = mkdtempSync(join(tmpdir(), 'docent-offline-'));
  try {
    const idx = join(tmp, 'idx');
    execFileSync(cli, ['index', join(root, 'tests/fixtures/corpus'), '--out', idx, '--embedder', 'hashing'], { stdio: 'ignore' });
    const docent = Docent.fromBytes(readFileSync(join(idx, 'index.bin')));
    const ask = (q, ...extra) => execFileSync(cli, ['ask', idx, q, '--provider', 'offline', ...extra], { encoding: 'utf8' });
    const seen = { answered: 0, abstained: 0 };
    for (const q of ['How do I feed a sourdough starter?', 'how do I clean the chain', 'How much water does bread dough need?',
      'when should I water balcony plants', 'How do I fix a puncture?', 'galaxy redshift survey results']) {
      // The CLI's defaults: 5 sources, a budget of 2000 tokens.
      const prompt = docent.assemble(q, { k: 5, budget: 2000 });
      const out = JSON.parse(ask(q, '--json'));
      assert.equal(out.abstained, prompt.abstained || offlineAnswer(prompt, q).abstained, q);
      if (prompt.abstained) {
        assert.deepEqual(out.sources, [], q);
        seen.abstained += 1;
        continue;
      }
      const answer = offlineAnswer(prompt, q);
      assert.equal(out.answer, answer.text, q);
      assert.deepEqual(out.sources.map((s) => [s.n, s.url, s.text]), prompt.sources.map((s) => [s.n, s.url, s.text]), q);
      const lines = prompt.sources.map((s) => `[${s.n}] ${s.heading || s.title} — ${s.url}`);
      assert.equal(ask(q), `${answer.text}\n\nSources:\n${lines.join('\n')}\n`, q);
      if (!answer.abstained) seen.answered += 1;
    }
    assert.ok(seen.answered >= 3 && seen.abstained >= 1, `the questions should cover both outcomes: ${JSON.stringify(seen)}`);
    docent.free();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
