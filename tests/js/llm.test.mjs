// The LLM client of the npm package (pkg/llm.js) under Node, against the mock LLM server
// (tests/support/mock-llm.mjs): both providers' streams, every error kind with its message, and
// the network faults of a real endpoint. The shared SSE transcripts are in sse.test.mjs, the
// offline answer in offline.test.mjs, citations and links in citations.test.mjs.
// Needs nothing built (llm.js is plain JavaScript). Run with `node --test tests/js/llm.test.mjs`.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startMockLlm, openaiChunks, anthropicChunks, byteChunks } from '../support/mock-llm.mjs';
import { streamAnswer, LlmError, DEFAULT_ENDPOINTS } from '../../pkg/llm.js';
import { collect as collectStream } from '../support/stream.mjs';

const KEY = 'sk-test-S3CRET-key-0123456789';
const MESSAGES = [
  { role: 'system', content: 'Answer from the sources.' },
  { role: 'user', content: 'Sources: ...\n\nQuestion: why?' },
];

let mock;
before(async () => {
  mock = await startMockLlm();
});
after(async () => {
  await mock?.close();
});
beforeEach(() => mock.reset());

/** Options for the mock endpoint of `provider`. */
function opts(provider, extra = {}) {
  return { provider, endpoint: mock[provider], model: 'mock-model', apiKey: KEY, messages: MESSAGES, ...extra };
}

/** Streams to the end; returns the deltas and the generator's return value. */
const collect = (options) => collectStream(streamAnswer, options);

/**
 * Streams expecting an LlmError; checks that `partial` is exactly what was yielded and that the
 * key appears nowhere in the error or the recorded URLs. Returns the error.
 */
async function failure(options, kind) {
  const deltas = [];
  try {
    for await (const d of streamAnswer(options)) deltas.push(d);
  } catch (e) {
    assert.ok(e instanceof LlmError, `expected an LlmError, got ${e?.stack ?? e}`);
    assert.equal(e.name, 'LlmError');
    assert.equal(e.kind, kind, e.message);
    assert.equal(e.partial, deltas.join(''), 'partial is the text yielded before the failure');
    assertNoKey(e);
    return e;
  }
  assert.fail(`expected an LlmError of kind '${kind}', the stream completed with ${JSON.stringify(deltas.join(''))}`);
}

function assertNoKey(e) {
  for (const text of [e.message, String(e.stack), JSON.stringify(e), e.endpoint ?? '']) {
    assert.ok(!text.includes(KEY), `the API key leaked: ${text}`);
  }
  for (const r of mock.requests) assert.ok(!r.url.includes(KEY), `the API key is in a URL: ${r.url}`);
}

const textEvent = (content) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;

// --- streaming -------------------------------------------------------------------------------

test('openai: streams the deltas; the key travels only in the Authorization header', async () => {
  mock.enqueue({ answer: ['The ', 'answer', ' [1].'] });
  const { deltas, result } = await collect(opts('openai', { temperature: 0.2 }));
  assert.deepEqual(deltas, ['The ', 'answer', ' [1].']);
  assert.deepEqual(result, { text: 'The answer [1].', stopReason: 'stop', skippedEvents: 0 });
  const [r] = mock.requests;
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/v1/chat/completions');
  assert.equal(r.headers.authorization, `Bearer ${KEY}`);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['x-api-key'], undefined);
  assert.deepEqual(r.json, { model: 'mock-model', messages: MESSAGES, stream: true, max_tokens: 1024, temperature: 0.2 });
  assert.equal(r.body.split(KEY).length, 1, 'the key is not in the body');
});

test('openai: no key, no Authorization header (Ollama, llama.cpp, LM Studio, vLLM)', async () => {
  mock.enqueue({ answer: ['ok'] }, { answer: ['ok'] }, { answer: ['ok'] }, { answer: ['ok'] });
  await collect(opts('openai', { apiKey: undefined }));
  await collect(opts('openai', { apiKey: '  ', endpoint: `${mock.origin}/v1/` }));
  await collect(opts('openai', { apiKey: '', endpoint: `${mock.origin}/v1/chat/completions` }));
  await collect(opts('openai', { apiKey: undefined, maxTokens: null, endpoint: `${mock.origin}/openai/deployments/x?api-version=2024-10-21` }));
  for (const r of mock.requests) assert.equal(r.headers.authorization, undefined);
  assert.deepEqual(mock.requests.map((r) => r.url), [
    '/v1/chat/completions',
    '/v1/chat/completions',
    '/v1/chat/completions',
    '/openai/deployments/x/chat/completions?api-version=2024-10-21',
  ]);
  assert.equal('max_tokens' in mock.requests[3].json, false, 'maxTokens: null leaves max_tokens to the server');
});

test('anthropic: streams the deltas; system goes top-level, the key only in x-api-key', async () => {
  mock.enqueue({ answer: ['Bonjour', ' ', 'à tous'] });
  const { deltas, result } = await collect(opts('anthropic'));
  assert.deepEqual(deltas, ['Bonjour', ' ', 'à tous']);
  assert.deepEqual(result, { text: 'Bonjour à tous', stopReason: 'end_turn', skippedEvents: 0 });
  const [r] = mock.requests;
  assert.equal(r.url, '/v1/messages');
  assert.equal(r.headers['x-api-key'], KEY);
  assert.equal(r.headers['anthropic-version'], '2023-06-01');
  assert.equal(r.headers['anthropic-dangerous-direct-browser-access'], 'true');
  assert.equal(r.headers.authorization, undefined);
  assert.deepEqual(r.json, {
    model: 'mock-model',
    max_tokens: 1024,
    messages: [MESSAGES[1]],
    stream: true,
    system: MESSAGES[0].content,
  });
});

test('anthropic: endpoint forms map to /v1/messages; a prompt may be passed instead of messages', async () => {
  for (let i = 0; i < 3; i++) mock.enqueue({ answer: ['x'] });
  await collect(opts('anthropic', { provider: ' Anthropic ', endpoint: mock.origin, maxTokens: 300 }));
  await collect(opts('anthropic', { endpoint: `${mock.origin}/v1/` }));
  await collect({ ...opts('anthropic', { endpoint: `${mock.origin}/v1/messages` }), messages: undefined, prompt: { messages: MESSAGES } });
  assert.deepEqual(mock.requests.map((r) => r.url), ['/v1/messages', '/v1/messages', '/v1/messages']);
  assert.equal(mock.requests[0].json.max_tokens, 300);
  assert.equal(DEFAULT_ENDPOINTS.anthropic, 'https://api.anthropic.com');
});

test('SSE: CRLF and CR line ends, comments, multi-line data, a CRLF split across reads', async () => {
  mock.enqueue({
    chunks: [
      ': keep-alive comment\r\n\r\n',
      'data: {"choices":[{"delta":\r',
      '\ndata: {"content":"one "}}]}\r\n\r\n',
      'event: ignored-name\rdata: {"choices":[{"delta":{"content":"two"}}]}\r\r',
      'id: 7\nretry: 100\ndata:{"choices":[{"delta":{"content":" three"}}]}\n\n',
      'data: [DONE]',
    ],
  });
  const { text } = await collect(opts('openai'));
  assert.equal(text, 'one two three');
});

test('SSE: pieces split inside UTF-8 sequences decode intact (one byte per read)', async () => {
  const words = ['Grüße ', '👋🏽 ', '日本語', ' — ok'];
  mock.enqueue({ chunks: byteChunks(openaiChunks(words).join(''), 1), chunkDelayMs: 0 });
  const openai = await collect(opts('openai'));
  assert.equal(openai.text, words.join(''));
  mock.enqueue({ chunks: byteChunks(anthropicChunks(words).join(''), 3), chunkDelayMs: 1 });
  const anthropic = await collect(opts('anthropic'));
  assert.equal(anthropic.text, words.join(''));
  assert.ok(!anthropic.text.includes('\uFFFD'), 'no replacement characters');
});

test('SSE: a malformed data line is skipped and counted, the rest of the answer still arrives', async () => {
  mock.enqueue({ chunks: [textEvent('a'), 'data: {"choices":[{"delta":\n\n', 'data: not json at all\n\n', textEvent('b'), 'data: [DONE]\n\n'] });
  const { text, result } = await collect(opts('openai'));
  assert.equal(text, 'ab');
  assert.equal(result.skippedEvents, 2);
});

test('SSE: a stream with no valid event is a protocol error, even with [DONE]', async () => {
  mock.enqueue({ chunks: ['data: <html>\n\n', 'data: {oops\n\n', 'data: [DONE]\n\n'] });
  const e = await failure(opts('openai'), 'protocol');
  assert.match(e.message, /: the response stream ended without one valid event \(2 data lines were not valid JSON\): check that the endpoint speaks the 'openai' protocol$/);
  mock.enqueue({ chunks: [] });
  const empty = await failure(opts('anthropic'), 'protocol');
  assert.match(empty.message, /the response stream ended before any event arrived: check that the endpoint speaks the 'anthropic' protocol and streams Server-Sent Events$/);
});

test('SSE: an endless line (no newline for over 1 MiB) is a protocol error, not unbounded memory', async () => {
  mock.enqueue({ chunks: [textEvent('before'), `data: ${'x'.repeat(600_000)}`, 'y'.repeat(600_000)], then: 'stall' });
  const e = await failure(opts('openai', { stallTimeoutMs: 5000 }), 'protocol');
  assert.equal(e.partial, 'before');
  assert.match(e.message, /: a line of the event stream is longer than 1048576 characters: check that the endpoint streams Server-Sent Events$/);
});

test('SSE: the stream stops at the first [DONE]; a duplicate and anything after it are ignored', async () => {
  mock.enqueue({ chunks: [textEvent('kept'), 'data: [DONE]\n\n', textEvent(' ignored'), 'data: [DONE]\n\n'] });
  const { text } = await collect(opts('openai'));
  assert.equal(text, 'kept');
  mock.enqueue({ answer: ['next'] });
  assert.equal((await collect(opts('openai'))).text, 'next', 'the next call is unaffected');
});

test('SSE: an OpenAI finish_reason followed by the end of the body counts as complete', async () => {
  mock.enqueue({ chunks: openaiChunks(['done', ' here'], { finishReason: 'length' }).slice(0, -1) });
  const { text, result } = await collect(opts('openai'));
  assert.equal(text, 'done here');
  assert.equal(result.stopReason, 'length');
});

test('a 2xx JSON body (a server that ignores stream: true) is the whole answer', async () => {
  mock.enqueue({ json: { choices: [{ message: { role: 'assistant', content: 'Whole answer [1].' }, finish_reason: 'stop' }] } });
  assert.deepEqual((await collect(opts('openai'))).deltas, ['Whole answer [1].']);
  mock.enqueue({ json: { content: [{ type: 'text', text: 'Tout ' }, { type: 'text', text: 'entier.' }], stop_reason: 'end_turn' } });
  assert.deepEqual((await collect(opts('anthropic'))).deltas, ['Tout entier.']);
  mock.enqueue({ json: { object: 'list', data: [] } });
  const e = await failure(opts('openai'), 'protocol');
  assert.match(e.message, /the response is JSON without an answer in it \(expected an 'openai' response\): check the endpoint URL and the provider$/);
});

test('an HTML page instead of an event stream is a protocol error', async () => {
  mock.enqueue({ body: '<!doctype html><title>Docs</title>', headers: { 'content-type': 'text/html; charset=utf-8' } });
  const e = await failure(opts('openai'), 'protocol');
  assert.match(e.message, /expected an event stream \(text\/event-stream\) but the endpoint sent text\/html; charset=utf-8: check the endpoint URL/);
});

// --- HTTP errors -------------------------------------------------------------------------------

test('401 with a key: auth, the provider message quoted, the echoed key redacted', async () => {
  mock.enqueue({ status: 401, json: { error: { message: `Incorrect API key provided: ${KEY}.`, type: 'invalid_request_error', code: 'invalid_api_key' } } });
  const e = await failure(opts('openai'), 'auth');
  assert.equal(e.status, 401);
  assert.equal(e.endpoint, `${mock.origin}/v1/chat/completions`);
  assert.equal(e.message, `LLM endpoint ${mock.origin}/v1/chat/completions: the API key was rejected (HTTP 401): check the key for ${mock.origin.slice(7)}; the provider says: Incorrect API key provided: <redacted>. (invalid_request_error)`);
});

test('a short key is redacted from what the provider says without mangling our own words', async () => {
  mock.enqueue({ status: 401, json: { error: { message: 'rejected: ke' } } });
  const e = await failure(opts('openai', { apiKey: 'ke' }), 'auth');
  assert.match(e.message, /: the API key was rejected \(HTTP 401\): check the key for 127\.0\.0\.1:\d+; the provider says: rejected: <redacted>$/);
});

test('403 without a key: auth, says no key was sent', async () => {
  mock.enqueue({ status: 403, json: { type: 'error', error: { type: 'permission_error', message: 'x-api-key header is required' } } });
  const e = await failure(opts('anthropic', { apiKey: undefined }), 'auth');
  assert.equal(e.status, 403);
  assert.match(e.message, /: no API key was sent and the endpoint requires one \(HTTP 403\): give a valid key for 127\.0\.0\.1:\d+; the provider says: x-api-key header is required \(permission_error\)$/);
});

test('404: not_found, names the model and quotes the provider', async () => {
  mock.enqueue({ status: 404, json: { type: 'error', error: { type: 'not_found_error', message: 'model: claude-nope' } } });
  const e = await failure(opts('anthropic', { model: 'claude-nope' }), 'not_found');
  assert.equal(e.status, 404);
  assert.match(e.message, /: not found \(HTTP 404\): check the endpoint URL and the model name 'claude-nope'; the provider says: model: claude-nope \(not_found_error\)$/);
  mock.enqueue({ status: 404, body: '<html><body>404 page</body></html>', headers: { 'content-type': 'text/html' } });
  const html = await failure(opts('openai'), 'not_found');
  assert.ok(!html.message.includes('the provider says'), 'an HTML error page is not quoted');
});

test('other 4xx: bad_request; a long provider message is cut to 200 characters', async () => {
  const long = `max_tokens is too large: ${'x'.repeat(400)}`;
  mock.enqueue({ status: 400, json: { error: { message: long } } });
  const e = await failure(opts('openai', { maxTokens: 999999 }), 'bad_request');
  assert.equal(e.status, 400);
  const said = e.message.split('; the provider says: ')[1];
  assert.equal(said, `${long.slice(0, 200)}…`);
  assert.match(e.message, /the provider rejected the request \(HTTP 400\): check the model name 'mock-model' and maxTokens \(999999\)/);
  mock.enqueue({ status: 413, body: 'too big' });
  assert.match((await failure(opts('openai'), 'bad_request')).message, /the request is too large \(HTTP 413\).*; the provider says: too big$/);
});

test('5xx: server', async () => {
  mock.enqueue({ status: 503, json: { error: 'model is loading' } });
  const e = await failure(opts('openai'), 'server');
  assert.equal(e.status, 503);
  assert.match(e.message, /: the provider had an internal error \(HTTP 503\): try again later; the provider says: model is loading$/);
});

test('a redirect is not followed (a POST must not turn into a GET): not_found naming the target', async () => {
  mock.enqueue({ status: 301, headers: { location: 'https://user:pw@api.example/v2/chat?token=t' }, body: '' });
  const e = await failure(opts('openai'), 'not_found');
  assert.match(e.message, /: the endpoint redirects \(HTTP 301\) to https:\/\/api\.example\/v2\/chat: use that URL as the endpoint$/);
  assert.equal(mock.posts().length, 1);
});

// --- 429 ---------------------------------------------------------------------------------------

const rateLimited = (retryAfter) => ({
  status: 429,
  headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
  json: { error: { message: 'Rate limit reached', type: 'rate_limit_error' } },
});

test('429 then success: Retry-After (seconds) is honoured once, then the answer streams', async () => {
  mock.enqueue(rateLimited('0.3'), { answer: ['after ', 'waiting'] });
  const t0 = performance.now();
  const { text } = await collect(opts('openai'));
  const waited = performance.now() - t0;
  assert.equal(text, 'after waiting');
  assert.equal(mock.posts().length, 2);
  assert.ok(waited >= 280 && waited < 3000, `waited ${waited.toFixed(0)} ms for Retry-After: 0.3`);
  assert.equal(mock.posts()[1].headers.authorization, `Bearer ${KEY}`, 'the retry sends the same request');
});

test('429 with an HTTP-date Retry-After in the past retries at once', async () => {
  mock.enqueue(rateLimited(new Date(Date.now() - 60_000).toUTCString()), { answer: ['ok'] });
  assert.equal((await collect(opts('anthropic'))).text, 'ok');
  assert.equal(mock.posts().length, 2);
});

test('429 twice: rate_limit saying when to retry; no third request', async () => {
  mock.enqueue(rateLimited('0'), rateLimited('7'));
  const e = await failure(opts('openai'), 'rate_limit');
  assert.equal(e.status, 429);
  assert.equal(e.retryAfterMs, 7000);
  assert.match(e.message, /: rate limited \(HTTP 429\) again after waiting 0 ms: try again in 7 s; the provider says: Rate limit reached \(rate_limit_error\)$/);
  assert.equal(mock.posts().length, 2);
  mock.reset();
  mock.enqueue(rateLimited(undefined), rateLimited(undefined));
  const plain = await failure(opts('openai', { maxRetryWaitMs: 50 }), 'rate_limit');
  assert.match(plain.message, /again after waiting 50 ms: wait a while and try again, or check the account's rate limits;/);
});

test('429 asking for longer than maxRetryWaitMs fails at once, seconds or HTTP-date', async () => {
  mock.enqueue(rateLimited('120'));
  const t0 = performance.now();
  const e = await failure(opts('openai'), 'rate_limit');
  assert.ok(performance.now() - t0 < 2000, 'no waiting');
  assert.equal(e.retryAfterMs, 120_000);
  assert.match(e.message, /: rate limited \(HTTP 429\): the provider asks to wait 2 min, longer than maxRetryWaitMs \(20 s\); try again in 2 min;/);
  mock.enqueue(rateLimited(new Date(Date.now() + 3_600_000).toUTCString()));
  const date = await failure(opts('openai', { maxRetryWaitMs: 5000 }), 'rate_limit');
  assert.match(date.message, /the provider asks to wait (59|60) min, longer than maxRetryWaitMs \(5 s\); try again in (59|60) min/);
  mock.enqueue(rateLimited('1'));
  const off = await failure(opts('openai', { maxRetryWaitMs: 0 }), 'rate_limit');
  assert.match(off.message, /: rate limited \(HTTP 429\): try again in 1 s;/);
  assert.equal(mock.posts().length, 3, 'one request each');
});

test('the Retry-After wait is abortable', async () => {
  mock.enqueue(rateLimited('10'));
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const t0 = performance.now();
  const e = await failure(opts('openai', { signal: controller.signal }), 'aborted');
  assert.ok(performance.now() - t0 < 2000, 'stopped waiting at the abort');
  assert.match(e.message, /: cancelled by the caller before the answer started$/);
  assert.equal(mock.posts().length, 1);
});

// --- network faults ---------------------------------------------------------------------------

test('connection refused: network', async () => {
  const port = await new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const e = await failure(opts('openai', { endpoint: `http://127.0.0.1:${port}/v1` }), 'network');
  assert.equal(e.message, `LLM endpoint http://127.0.0.1:${port}/v1/chat/completions: could not connect to 127.0.0.1:${port}: connection refused (is the server running and listening on that port?)`);
});

test('connection reset before the response: network', async () => {
  mock.enqueue({ reset: true });
  const e = await failure(opts('anthropic'), 'network');
  assert.match(e.message, /: the connection to 127\.0\.0\.1:\d+ was closed before a response arrived \(.+\): try again, and check that the URL's http\/https matches the server$/);
  assert.equal(e.status, undefined);
});

test('no first byte within firstByteTimeoutMs: timeout, bounded', async () => {
  mock.enqueue({ firstByteDelayMs: 3000, answer: ['late'] });
  const t0 = performance.now();
  const e = await failure(opts('openai', { firstByteTimeoutMs: 150 }), 'timeout');
  const took = performance.now() - t0;
  assert.ok(took >= 140 && took < 1500, `gave up after ${took.toFixed(0)} ms`);
  assert.match(e.message, /: no response within 150 ms \(firstByteTimeoutMs\): the model may be loading or overloaded; try again or raise the timeout$/);
  // Headers at once, then nothing: the same budget covers the first byte of the stream.
  mock.enqueue({ chunks: [{ delayMs: 3000 }, textEvent('late')] });
  const t1 = performance.now();
  const silent = await failure(opts('anthropic', { firstByteTimeoutMs: 150, stallTimeoutMs: 10_000 }), 'timeout');
  assert.ok(performance.now() - t1 < 1500);
  assert.match(silent.message, /: the endpoint answered but sent no data within 150 ms \(firstByteTimeoutMs\)/);
});

test('a stall mid-stream: timeout after stallTimeoutMs, the partial answer kept', async () => {
  mock.enqueue({ chunks: [textEvent('Half '), textEvent('an answer')], then: 'stall' });
  const t0 = performance.now();
  const e = await failure(opts('openai', { stallTimeoutMs: 200 }), 'timeout');
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(e.partial, 'Half an answer');
  assert.match(e.message, /: the stream stalled: no data for 200 ms \(stallTimeoutMs\) after 14 characters of answer; try again or raise the timeout$/);
});

test('slow but steady streams and keep-alive comments do not trip the stall timeout', async () => {
  // 2 × 250 ms of silence between pieces, each under the 500 ms stall limit, 500 ms in total.
  mock.enqueue({ chunks: [textEvent('a'), { delayMs: 250 }, ': ping\n\n', { delayMs: 250 }, textEvent('b'), 'data: [DONE]\n\n'] });
  assert.equal((await collect(opts('openai', { stallTimeoutMs: 500 }))).text, 'ab');
});

test('the socket cut mid-stream: incomplete, the partial answer kept', async () => {
  mock.enqueue({ chunks: anthropicChunks(['Cut ', 'here']).slice(0, 5), then: 'cut' });
  const e = await failure(opts('anthropic'), 'incomplete');
  assert.equal(e.partial, 'Cut here');
  assert.match(e.message, /: the stream was cut after 8 characters of answer \(.+\): the answer is incomplete; try again$/);
});

test('a body that ends without [DONE] / message_stop: incomplete, the partial answer kept', async () => {
  mock.enqueue({ answer: ['no ', 'end'], marker: false });
  const e = await failure(opts('openai'), 'incomplete');
  assert.equal(e.partial, 'no end');
  assert.match(e.message, /: the stream ended without its end marker \(data: \[DONE\]\) after 6 characters of answer: the answer is incomplete; try again$/);
  mock.enqueue({ answer: ['ended'], marker: false });
  const a = await failure(opts('anthropic'), 'incomplete');
  assert.match(a.message, /without its end marker \(message_stop\) after 5 characters/);
});

test('aborting mid-stream: aborted, the partial answer kept, the connection closed', async () => {
  mock.enqueue({ answer: ['first', ' second', ' third'], chunkDelayMs: 50 });
  const controller = new AbortController();
  const deltas = [];
  let error;
  try {
    for await (const d of streamAnswer(opts('openai', { signal: controller.signal }))) {
      deltas.push(d);
      controller.abort();
    }
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof LlmError, String(error));
  assert.equal(error.kind, 'aborted');
  assert.deepEqual(deltas, ['first']);
  assert.equal(error.partial, 'first');
  assert.match(error.message, /: cancelled by the caller after 5 characters of answer$/);
});

test('aborting while the stream is silent, and before the request', async () => {
  mock.enqueue({ chunks: [textEvent('waiting')], then: 'stall' });
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('user pressed stop')), 150);
  const t0 = performance.now();
  const e = await failure(opts('anthropic', { signal: controller.signal, stallTimeoutMs: 5000 }), 'aborted');
  assert.ok(performance.now() - t0 < 1500);
  assert.equal(e.cause?.message, 'user pressed stop');

  const before = mock.posts().length;
  const done = new AbortController();
  done.abort();
  const early = await failure(opts('openai', { signal: done.signal }), 'aborted');
  assert.match(early.message, /cancelled by the caller before the request was sent$/);
  assert.equal(mock.posts().length, before, 'nothing was sent');
});

test('breaking out of the loop ends the request (no error)', async () => {
  mock.enqueue({ answer: ['one', 'two', 'three'], chunkDelayMs: 30 });
  const seen = [];
  for await (const d of streamAnswer(opts('openai'))) {
    seen.push(d);
    break;
  }
  assert.deepEqual(seen, ['one']);
  mock.enqueue({ answer: ['again'] });
  assert.equal((await collect(opts('openai'))).text, 'again');
});

test('errors reported inside the stream keep the partial answer', async () => {
  mock.enqueue({
    chunks: [
      ...anthropicChunks(['Partial']).slice(0, 4),
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
    ],
  });
  const e = await failure(opts('anthropic'), 'server');
  assert.equal(e.partial, 'Partial');
  assert.match(e.message, /: the provider reported an error mid-stream: Overloaded \(overloaded_error\)$/);
  mock.enqueue({ chunks: [textEvent('So far'), 'data: {"error":{"message":"context length exceeded","type":"invalid_request_error"}}\n\n'] });
  const o = await failure(opts('openai'), 'bad_request');
  assert.equal(o.partial, 'So far');
  assert.match(o.message, /mid-stream: context length exceeded \(invalid_request_error\)$/);
});

// --- options -----------------------------------------------------------------------------------

test('bad options: config errors naming the option, nothing sent, the key never shown', async () => {
  const cases = [
    [{ provider: 'gemini' }, /^invalid provider: expected 'openai' \(or any OpenAI-compatible server\), 'anthropic', 'offline' or 'local', found 'gemini'$/],
    [{ endpoint: 'api.openai.com/v1' }, /^invalid endpoint: expected an http:\/\/ or https:\/\/ URL such as https:\/\/api\.openai\.com\/v1, found 'api\.openai\.com\/v1' \(not a URL\)$/],
    [{ endpoint: 'ftp://files.example/v1' }, /\(unsupported scheme\)$/],
    [{ endpoint: `https://user:${KEY}@host.example/v1?key=${KEY}` , model: '' }, /^invalid model: expected a model name, found ''$/],
    [{ apiKey: `${KEY}\nX-Injected: 1` }, /^invalid apiKey: the key contains spaces, control or non-ASCII characters, which an HTTP header cannot carry: check that it was copied whole and alone$/],
    [{ apiKey: 'sk-é' }, /^invalid apiKey: the key contains/],
    [{ messages: [] }, /^invalid messages: expected a non-empty array of \{role, content\}/],
    [{ messages: [{ role: 'tool', content: 'x' }] }, /^invalid messages: message 0 has role 'tool'; expected system, user or assistant$/],
    [{ maxTokens: 0 }, /^invalid maxTokens: expected a whole number ≥ 1/],
    [{ temperature: -1 }, /^invalid temperature: expected a finite number ≥ 0, found -1$/],
    [{ stallTimeoutMs: 0 }, /^invalid stallTimeoutMs: expected a number of milliseconds > 0/],
    [{ fetch: 'no' }, /^invalid fetch: expected a function, found string$/],
  ];
  for (const [extra, pattern] of cases) {
    const e = await failure(opts('openai', extra), 'config');
    assert.match(e.message, pattern);
  }
  const anth = await failure(opts('anthropic', { messages: [MESSAGES[0]] }), 'config');
  assert.match(anth.message, /Anthropic needs at least one user message besides the system messages/);
  assert.equal(mock.posts().length, 0);
});

test('an injected fetch is used, with the request and an abort signal', async () => {
  const calls = [];
  const fakeFetch = async (url, init) => {
    calls.push({ url, init });
    const body = new ReadableStream({
      start(c) {
        const enc = new TextEncoder();
        for (const piece of ['data: {"choices":[{"delta":{"content":"fake"}}]}\n', '\ndata: [DONE]\n\n']) c.enqueue(enc.encode(piece));
        c.close();
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
  const { text } = await collect({ provider: 'openai', endpoint: 'https://llm.example/v1', model: 'm', messages: MESSAGES, fetch: fakeFetch });
  assert.equal(text, 'fake');
  assert.equal(calls[0].url, 'https://llm.example/v1/chat/completions');
  assert.equal(calls[0].init.method, 'POST');
  assert.equal(calls[0].init.redirect, 'manual');
  assert.ok(calls[0].init.signal instanceof AbortSignal);
});

test('nothing is written to the console, even on failure', async () => {
  const logged = [];
  const saved = {};
  for (const m of ['log', 'info', 'warn', 'error', 'debug']) {
    saved[m] = console[m];
    console[m] = (...args) => logged.push(args.join(' '));
  }
  try {
    mock.enqueue({ status: 401, json: { error: { message: `bad key ${KEY}` } } }, { answer: ['ok'] });
    await failure(opts('openai'), 'auth');
    await collect(opts('anthropic'));
  } finally {
    Object.assign(console, saved);
  }
  assert.deepEqual(logged, []);
});
