// The local provider's parts that run without a model (pkg/llm/local.js): the turn formats for a
// model file without a chat template, the prompt budget, the gate's answer without the model,
// option checks, and the size asked of a server before any download. The model itself runs in
// Chromium: tests/demo/local-model.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { streamAnswer, LlmError, NOT_IN_DOCUMENTS, LocalModel, localBudget, formatChat, LOCAL_CONTEXT, LOCAL_MAX_TOKENS } from '../../pkg/llm.js';

const MESSAGES = [
  { role: 'system', content: 'Use the sources.' },
  { role: 'user', content: 'How do I install it?' },
  { role: 'assistant', content: 'Run npm i docent [1].' },
  { role: 'user', content: 'Sources: [1] …\n\nQuestion: and on Windows?' },
];

async function collect(stream) {
  let text = '';
  for await (const d of stream) text += d;
  return text;
}

test('formatChat gemma: the system text opens the first user turn, the answer follows "model"', () => {
  const { prompt, stop } = formatChat('gemma', MESSAGES);
  assert.equal(prompt,
    '<start_of_turn>user\nUse the sources.\n\nHow do I install it?<end_of_turn>\n' +
    '<start_of_turn>model\nRun npm i docent [1].<end_of_turn>\n' +
    '<start_of_turn>user\nSources: [1] …\n\nQuestion: and on Windows?<end_of_turn>\n' +
    '<start_of_turn>model\n');
  assert.deepEqual(stop, ['<end_of_turn>']);
});

test('formatChat chatml: one block per message, system first, the answer after "assistant"', () => {
  const { prompt, stop } = formatChat('chatml', [{ role: 'user', content: 'Q?' }, { role: 'developer', content: 'Be brief.' }]);
  assert.equal(prompt, '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n');
  assert.deepEqual(stop, ['<|im_end|>']);
  assert.throws(() => formatChat('llama2', MESSAGES), /^LlmError: invalid chat format: expected 'gemma' or 'chatml', found 'llama2'$/);
});

test('localBudget: the context less the answer and the template markers, over the tokenizer ratio 1.15, never below 64', () => {
  assert.equal(localBudget(LOCAL_CONTEXT), Math.floor((LOCAL_CONTEXT - LOCAL_MAX_TOKENS - 64) / 1.15));
  assert.equal(localBudget(2048, 256), 1502);
  assert.equal(localBudget(4096, 512), 3060);
  assert.equal(localBudget(256, 256), 64);
});

test('local provider: an abstained prompt is answered "not covered" without a model', async () => {
  const text = await collect(streamAnswer({ provider: 'local', prompt: { abstained: true, sources: [] }, messages: [] }));
  assert.equal(text, NOT_IN_DOCUMENTS);
});

test('local provider: without a loaded LocalModel it fails with a config error and downloads nothing', async () => {
  await assert.rejects(collect(streamAnswer({ provider: 'local', messages: MESSAGES, prompt: { sources: [{ text: 'x' }] } })),
    (e) => e instanceof LlmError && e.kind === 'config' && /expected a LocalModel/.test(e.message));
  const model = new LocalModel('http://127.0.0.1:9/m.gguf');
  assert.equal(model.loaded, false);
  assert.equal(model.budget(), 0);
  await assert.rejects(collect(streamAnswer({ provider: 'local', local: model, messages: MESSAGES, prompt: { sources: [{ text: 'x' }] } })),
    (e) => e instanceof LlmError && e.kind === 'config' && e.message === 'local model http://127.0.0.1:9/m.gguf: not loaded; call load() once the reader agreed to download it');
});

test('LocalModel: options are checked when it is made', () => {
  assert.throws(() => new LocalModel('http://127.0.0.1/model.bin'), /invalid model URL: expected a URL of a \.gguf file, found http:\/\/127\.0\.0\.1\/model\.bin$/);
  assert.throws(() => new LocalModel('http://127.0.0.1/m.gguf', { context: 100 }), /invalid context: expected 256\.\.=32768 tokens, found 100$/);
  assert.throws(() => new LocalModel('http://127.0.0.1/m.gguf', { threads: 0 }), /invalid threads: expected 1\.\.=16, found 0$/);
  assert.equal(new LocalModel('http://127.0.0.1/m.gguf').threads, 1, 'one thread where memory cannot be shared');
});

test('LocalModel.size: one byte asked for, the size read from Content-Range (or Content-Length)', async () => {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.range);
    if (req.url === '/ranged.gguf') res.writeHead(206, { 'content-range': 'bytes 0-0/253113024', 'content-length': 1 }).end('G');
    else if (req.url === '/whole.gguf') res.writeHead(200, { 'content-length': 4 }).end('GGUF');
    else res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  try {
    assert.equal(await new LocalModel(`${origin}/ranged.gguf`).size(), 253113024);
    assert.equal(await new LocalModel(`${origin}/whole.gguf`).size(), 4);
    assert.equal(await new LocalModel(`${origin}/missing.gguf`).size(), null);
    assert.deepEqual(seen, ['bytes=0-0', 'bytes=0-0', 'bytes=0-0']);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
