// The local provider's parts that run without a model (pkg/llm/local.js): the turn formats for a
// model file without a chat template, the prompt budget, the gate's answer without the model,
// option checks, the size asked of a server before any download, the completion and chat prompts
// (llm/local-prompt.js) and the post-check of what a model writes (llm/grounding.js), driven by a
// LocalModel whose text is scripted (the offline answer it falls back to is the real wasm core's).
// The model itself runs in Chromium: tests/demo/local-model.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { streamAnswer, LlmError, NOT_IN_DOCUMENTS, LocalModel, localBudget, formatChat, LOCAL_CONTEXT, LOCAL_MAX_TOKENS, LOCAL_FALLBACK_NOTE, LOCAL_SETTINGS, completionPrompt, judgeAnswer, supportedBy } from '../../pkg/llm.js';
import { sentencesBySource, localEvidence, localPrompt, chatKind, CHAT_INSTRUCTION, COMPLETION_INSTRUCTION, COMPLETION_EXAMPLE } from '../../pkg/llm/local-prompt.js';
import { checkAnswer } from '../../pkg/llm/grounding.js';

const GOLDEN = JSON.parse(readFileSync(new URL('../fixtures/offline/cases.json', import.meta.url), 'utf8'));
const GARDEN = GOLDEN.prompts.garden;
const GARDEN_ANSWER = GOLDEN.cases.find((c) => c.prompt === 'garden' && c.question === null).answer;

/** A LocalModel whose "model" writes `deltas` (and records what it was given); no engine, no download. */
class ScriptedModel extends LocalModel {
  constructor(deltas, { controller, abortAt } = {}) {
    super('http://127.0.0.1:9/scripted.gguf');
    this.deltas = deltas;
    this.controller = controller;
    this.abortAt = abortAt;
    this.inputs = [];
  }

  async *stream(input, { signal } = {}) {
    this.inputs.push(input);
    let text = '';
    for (const [i, d] of this.deltas.entries()) {
      if (i === this.abortAt) this.controller.abort();
      if (signal?.aborted) throw new LlmError('aborted', 'local model: cancelled by the caller', { partial: text, provider: 'local' });
      text += d;
      yield d;
    }
    return { text, stopReason: 'stop', skippedEvents: 0 };
  }
}

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

test('completionPrompt: the instruction, the worked example with its answer, then the evidence and the question, ending in "Answer:"', () => {
  const prompt = completionPrompt('How often should I  water\ntomatoes?', [{ n: 1, text: 'Water tomatoes deeply twice a week.' }, { n: 3, text: 'Mulch keeps the water in.' }]);
  assert.ok(prompt.startsWith(`${COMPLETION_INSTRUCTION}\n\nSources:\n[1] ${COMPLETION_EXAMPLE.sources[0].text}\n`));
  assert.ok(prompt.includes(`Question: ${COMPLETION_EXAMPLE.question}\nAnswer: ${COMPLETION_EXAMPLE.answer}\n\n`));
  assert.ok(prompt.endsWith('Sources:\n[1] Water tomatoes deeply twice a week.\n[3] Mulch keeps the water in.\nQuestion: How often should I water tomatoes?\nAnswer:'));
  // The example's answer is what the post-check keeps: it is supported by its own source.
  assert.equal(judgeAnswer(COMPLETION_EXAMPLE.answer, COMPLETION_EXAMPLE.sources).faithful, true);
});

test('chatKind: the turn format of a file\'s chat template, when formatChat writes it', () => {
  assert.equal(chatKind("{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"), 'chatml');
  assert.equal(chatKind('{{ bos_token }}{% for m in messages %}<start_of_turn>{{ m.role }}{% endfor %}'), 'gemma');
  assert.equal(chatKind('[INST] {{ m.content }} [/INST]'), null);
  assert.equal(chatKind(null), null);
});

test('localPrompt: a model with a ChatML or Gemma template gets the short prompt in its own turns, the example answered by the assistant; one without, the completion', () => {
  const evidence = [{ n: 1, text: 'Water tomatoes deeply twice a week.' }];
  const chat = localPrompt('How often?', evidence, 'chatml', { ...LOCAL_SETTINGS, templated: 'chat' });
  assert.equal(chat.style, 'chat');
  assert.ok(chat.prompt.startsWith(`<|im_start|>system\n${CHAT_INSTRUCTION}<|im_end|>\n<|im_start|>user\nSources:\n[1] ${COMPLETION_EXAMPLE.sources[0].text}\n`), chat.prompt);
  assert.ok(chat.prompt.includes(`Question: ${COMPLETION_EXAMPLE.question}<|im_end|>\n<|im_start|>assistant\n${COMPLETION_EXAMPLE.answer}<|im_end|>\n`), chat.prompt);
  assert.ok(chat.prompt.endsWith('<|im_start|>user\nSources:\n[1] Water tomatoes deeply twice a week.\nQuestion: How often?<|im_end|>\n<|im_start|>assistant\n'), chat.prompt);
  assert.deepEqual(chat.stop, ['<|im_end|>', '\n']);
  assert.equal(chat.repeatPenalty, LOCAL_SETTINGS.chatRepeatPenalty);
  const gemma = localPrompt('How often?', evidence, 'gemma', { ...LOCAL_SETTINGS, templated: 'chat' });
  assert.ok(gemma.prompt.endsWith('Question: How often?<end_of_turn>\n<start_of_turn>model\n'), gemma.prompt);
  for (const [kind, settings] of [[null, { ...LOCAL_SETTINGS, templated: 'chat' }], ['chatml', { ...LOCAL_SETTINGS, templated: 'completion' }]]) {
    const plain = localPrompt('How often?', evidence, kind, settings);
    assert.deepEqual(plain, { prompt: completionPrompt('How often?', evidence), stop: [...LOCAL_SETTINGS.stop], style: 'completion', repeatPenalty: LOCAL_SETTINGS.repeatPenalty });
  }
});

test('the evidence: the offline answer\'s sentences grouped by source, else the first sources cut to maxChars', () => {
  assert.deepEqual(sentencesBySource('Chains need oil [2]. Water twice a week [1]. Wipe the excess [2].'), [
    { n: 1, text: 'Water twice a week.' },
    { n: 2, text: 'Chains need oil. Wipe the excess.' },
  ]);
  assert.deepEqual(sentencesBySource('Run it:\n```\nnpx docent index site/\n```\n[1]'), [{ n: 1, text: 'Run it: npx docent index site/.' }]);
  const long = { sources: [{ n: 1, text: `${'Word '.repeat(30).trim()}. ${'More '.repeat(200)}` }, { n: 2, text: 'B.' }] };
  const cut = localEvidence(long, null, { ...LOCAL_SETTINGS, k: 1, maxChars: 300 });
  assert.equal(cut.length, 1);
  assert.ok(cut[0].text.length <= 300 && cut[0].text.endsWith('…'), cut[0].text);
  assert.deepEqual(localEvidence(GARDEN, 'Water tomatoes deeply twice a week [1].'), [{ n: 1, text: 'Water tomatoes deeply twice a week.' }]);
});

test('the post-check rule: a cited sentence stays when 60% of its content words are in the sources it cites', () => {
  const sources = GARDEN.sources;
  assert.equal(supportedBy('Water tomatoes deeply twice a week [1].', [1], sources), true);
  assert.equal(supportedBy('Water tomatoes deeply twice a week [2].', [2], sources), false, 'the wrong source');
  assert.equal(supportedBy('Water tomatoes deeply [4].', [4], sources), false, 'no such source');
  assert.equal(supportedBy('Tomatoes need daily fertilizer and bright sunshine [1].', [1], sources), false, '1 of 6 content words');
  assert.deepEqual(judgeAnswer('Water tomatoes deeply twice a week [1]. Oil the rose bushes weekly [2].', sources), { cites: true, faithful: false, cited: 2, supported: 1 });
  assert.deepEqual(judgeAnswer('Water them.', sources), { cites: false, faithful: false, cited: 0, supported: 0 });
  assert.deepEqual(checkAnswer('Oil the chain every 300 km. Oil the chain every 300 km [2]. Bake bread [1]. Yes.', sources), {
    text: 'Oil the chain every 300 km [2].', kept: 1, dropped: 3,
  });
  // A sentence that only repeats the question is not kept, though its words are in the source.
  const question = 'How often should I water tomatoes?';
  assert.deepEqual(checkAnswer('You should water tomatoes often. Water tomatoes deeply twice a week.', sources, question), {
    text: 'Water tomatoes deeply twice a week [1].', kept: 1, dropped: 1,
  });
});

test('local provider: the model gets the completion prompt; only supported sentences reach the reader, as they are written', async () => {
  const model = new ScriptedModel([' Water tomatoes', ' deeply twice a week [1].', ' The moon is cheese [1].', ' Water tomatoes deeply twice a week [1].', ' Shallow watering every day makes roots lazy']);
  const deltas = [];
  for await (const d of streamAnswer({ provider: 'local', local: model, prompt: GARDEN, messages: [], question: 'How often should I water tomatoes?' })) deltas.push(d);
  assert.deepEqual(deltas, ['Water tomatoes deeply twice a week [1].', ' Shallow watering every day makes roots lazy [1]']);
  const [input] = model.inputs;
  assert.deepEqual(input.stop, [...LOCAL_SETTINGS.stop]);
  // The evidence is the core's offline answer, grouped by source.
  assert.equal(input.prompt, completionPrompt('How often should I water tomatoes?', sentencesBySource(GARDEN_ANSWER.text)));
});

test('local provider: a model whose file carries a ChatML template gets what localPrompt gives for it', async () => {
  const model = new ScriptedModel([' Water tomatoes deeply twice a week [1].']);
  model.chatKind = 'chatml';
  const question = 'How often should I water tomatoes?';
  const text = await collect(streamAnswer({ provider: 'local', local: model, prompt: GARDEN, messages: [], question }));
  assert.equal(text, 'Water tomatoes deeply twice a week [1].');
  const { prompt, stop } = localPrompt(question, sentencesBySource(GARDEN_ANSWER.text), 'chatml');
  assert.deepEqual(model.inputs, [{ prompt, stop }]);
});

test('local provider: when no sentence is supported, it says so and gives the offline answer', async () => {
  const model = new ScriptedModel(['The answer is:', '\n\nThe answer is:']);
  const text = await collect(streamAnswer({ provider: 'local', local: model, prompt: GARDEN, messages: [] }));
  assert.equal(text, `${LOCAL_FALLBACK_NOTE}\n\n${GARDEN_ANSWER.text}`);
});

test('local provider: an abort keeps only the checked text as the partial answer', async () => {
  const controller = new AbortController();
  const model = new ScriptedModel(['Water tomatoes deeply twice a week [1]. ', 'The moon', ' is cheese [1]. More'], { controller, abortAt: 2 });
  const seen = [];
  await assert.rejects(async () => {
    for await (const d of streamAnswer({ provider: 'local', local: model, prompt: GARDEN, messages: [], signal: controller.signal })) seen.push(d);
  }, (e) => e instanceof LlmError && e.kind === 'aborted' && e.partial === 'Water tomatoes deeply twice a week [1].');
  assert.deepEqual(seen, ['Water tomatoes deeply twice a week [1].']);
});
