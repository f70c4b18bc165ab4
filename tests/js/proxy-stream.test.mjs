// docent/proxy (pkg/proxy/) streaming under Node: the answer is passed through as the mock
// sends it (never buffered; the first-chunk latency through the proxy is measured by
// bench/proxy.mjs, not asserted here: a benchmark, not a timed test), a client that leaves aborts the upstream request, upstream stalls,
// timeouts and failures reach the widget's LLM client (pkg/llm.js) as its usual one-sentence
// errors, a bounded burst gets exactly the configured 429s, and `docent proxy` runs the same
// handler from the command line. Run with `node --test tests/js/proxy-stream.test.mjs`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { streamAnswer, LlmError } from '../../pkg/llm.js';
import { openaiChunks, startMockLlm } from '../support/mock-llm.mjs';
import { KEY, SITE, chatBody, post, startProxy } from '../support/proxy.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
let mock;
const seen = [];

before(async () => {
  mock = await startMockLlm();
});

after(async () => {
  await mock?.close();
  for (const s of seen) assert.ok(!String(s).includes(KEY), `the key leaked: ${String(s).slice(0, 200)}`);
});

async function withProxy(options, fn) {
  mock.reset();
  const p = await startProxy(mock.openai, options);
  try {
    return await fn(p);
  } finally {
    await p.close();
    seen.push(...p.lines);
  }
}

/** Polls `fn` every 10 ms until it is truthy, at most `ms`. */
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('the stream is passed through as it arrives: each chunk reaches the client before the next is sent', async () => {
  await withProxy({}, async (p) => {
    const events = openaiChunks(['one', ' two', ' three', ' four']);
    const chunks = [];
    for (const e of events) chunks.push(e, { delayMs: 150 });
    mock.enqueue({ chunks, chunkDelayMs: 0 });
    const t0 = performance.now();
    const res = await fetch(`${p.url}/v1/chat/completions`, { method: 'POST', headers: { origin: SITE, 'content-type': 'application/json' }, body: JSON.stringify(chatBody()) });
    const reader = res.body.getReader();
    const arrivals = [];
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push(performance.now() - t0);
      text += new TextDecoder().decode(value);
    }
    seen.push(text);
    assert.match(text, /four/);
    // The mock sends event i at about i × 150 ms, so the last one no sooner than (n - 1) × 150 ms.
    const lastSent = (events.length - 1) * 150;
    assert.ok(arrivals[0] < lastSent - 300, `the first chunk came after ${arrivals[0].toFixed(0)} ms, not well before the last was sent (${lastSent} ms)`);
    const last = arrivals.at(-1);
    assert.ok(last - arrivals[0] > 4 * 150 - 50, `chunks arrived together (${arrivals.map((a) => a.toFixed(0)).join(', ')} ms): the proxy buffered`);
    assert.ok(arrivals.length >= events.length, `${arrivals.length} reads for ${events.length} events`);
  });
});

test('a client that leaves aborts the upstream request (the mock sees the connection close)', async () => {
  await withProxy({}, async (p) => {
    mock.enqueue({ chunks: openaiChunks(['Hel']).slice(0, 2), then: 'stall' });
    const controller = new AbortController();
    const res = await fetch(`${p.url}/v1/chat/completions`, { method: 'POST', headers: { origin: SITE, 'content-type': 'application/json' }, body: JSON.stringify(chatBody()), signal: controller.signal });
    const reader = res.body.getReader();
    await reader.read();
    await until(() => mock.posts().length === 1, 2000, 'the upstream request');
    assert.equal(mock.posts()[0].clientClosed, undefined, 'the upstream is still open before the client leaves');
    controller.abort();
    await until(() => mock.posts()[0].clientClosed === true, 2000, 'the upstream connection to close');
    await until(() => p.lines.length === 1, 2000, 'the log line');
    assert.match(p.lines[0], / 200 .* end=client-closed$/);
  });
});

test('an upstream that stalls mid-stream is cut after the timeout: the client sees a cut stream, not a clean end', async () => {
  await withProxy({ timeoutMs: 300, allowNoOrigin: true }, async (p) => {
    mock.enqueue({ chunks: openaiChunks(['Hel']).slice(0, 2), then: 'stall' });
    let error;
    try {
      for await (const _ of streamAnswer({ provider: 'openai', endpoint: p.url, model: 'proxy-model', messages: chatBody().messages, stallTimeoutMs: 5000 })) {
        // the text before the stall
      }
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof LlmError, String(error));
    assert.equal(error.kind, 'incomplete', error.message);
    assert.equal(error.partial, 'Hel');
    await until(() => mock.posts()[0].clientClosed === true, 2000, 'the upstream connection to close');
    await until(() => p.lines.length === 1, 2000, 'the log line');
    assert.match(p.lines[0], / end=stalled$/);
  });
});

test('upstream failures reach the widget\'s LLM client as its usual one-sentence errors', async () => {
  await withProxy({ timeoutMs: 200, allowNoOrigin: true }, async (p) => {
    const ask = async () => {
      try {
        for await (const _ of streamAnswer({ provider: 'openai', endpoint: `${p.url}/proxy`, model: 'proxy-model', messages: chatBody().messages, maxRetryWaitMs: 0 })) {
          // no answer expected
        }
      } catch (e) {
        seen.push(e.message);
        return e;
      }
      assert.fail('expected an error');
    };
    mock.enqueue({ firstByteDelayMs: 1500, answer: ['late'] });
    const slow = await ask();
    assert.equal(slow.kind, 'server');
    assert.match(slow.message, /HTTP 504.*the model provider did not answer within 200 ms/);
    await until(() => mock.posts()[0].clientClosed === true, 2000, 'the timed-out upstream request to be closed');
    mock.enqueue({ status: 401, json: { error: { message: 'bad key' } } });
    const auth = await ask();
    assert.equal(auth.kind, 'server', 'a reader cannot fix the owner\'s key: not an "auth" error');
    assert.match(auth.message, /refused the proxy's API key/);
    mock.enqueue({ status: 500, json: { error: { message: 'boom' } } });
    assert.match((await ask()).message, /HTTP 502.*the model provider had an internal error \(HTTP 500\)/);
    mock.enqueue({ status: 200, body: 'not json' });
    mock.enqueue({ status: 400, json: { error: { message: 'context too long' } } });
    await ask();
    const rejected = await ask();
    assert.equal(rejected.kind, 'bad_request');
    assert.match(rejected.message, /context too long/);
  });
  const dead = await startMockLlm();
  const url = dead.openai;
  await dead.close();
  const p = await startProxy(url, { allowNoOrigin: true });
  try {
    const r = await post(p.url, chatBody(), { origin: null });
    assert.equal(r.status, 502);
    assert.equal(r.json.error.type, 'upstream_unreachable');
  } finally {
    await p.close();
  }
});

test('the proxy\'s own 429 reaches the widget\'s client as a rate-limit error with the wait', async () => {
  await withProxy({ rate: '1/min', allowNoOrigin: true }, async (p) => {
    const ask = async () => {
      let text = '';
      for await (const d of streamAnswer({ provider: 'openai', endpoint: p.url, model: 'proxy-model', messages: chatBody().messages, maxRetryWaitMs: 0 })) text += d;
      return text;
    };
    assert.equal(await ask(), 'Hello from the mock.');
    const e = await ask().catch((err) => err);
    assert.ok(e instanceof LlmError);
    assert.equal(e.kind, 'rate_limit');
    assert.equal(e.retryAfterMs, 60_000);
    assert.match(e.message, /too many questions from here/);
  });
});

test('a bounded burst (300 requests, 20 at a time, 3 clients at 50/day): exactly 150 served and 150 refused', { timeout: 30_000 }, async () => {
  await withProxy({ rate: '50/day', clientIpHeader: 'x-client' }, async (p) => {
    mock.fallback = { answer: ['ok'], chunkDelayMs: 0 };
    const statuses = [];
    let next = 0;
    const worker = async () => {
      while (next < 300) {
        const i = next++;
        const r = await post(p.url, chatBody(), { headers: { 'x-client': `198.51.100.${i % 3}` } });
        statuses.push(r.status);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    assert.equal(statuses.filter((s) => s === 200).length, 150);
    assert.equal(statuses.filter((s) => s === 429).length, 150);
    assert.equal(mock.posts().length, 150, 'no upstream request beyond the limits');
    assert.equal(p.lines.length, 300);
  });
});

test('docent proxy: the CLI serves the same handler, reads the key from DOCENT_API_KEY only, and logs one line per request', { timeout: 20_000 }, async () => {
  mock.reset();
  const cli = `${root}pkg/cli.js`;
  const run = (args, env) => new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'proxy', ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
  const args = ['--provider', 'openai', '--upstream', mock.openai, '--model', 'proxy-model', '--allow-origin', SITE, '--port', '0'];
  const noKey = await run(args, {});
  assert.equal(noKey.code, 2);
  assert.match(noKey.err, /DOCENT_API_KEY is not set/);
  const flag = await run([...args, '--api-key', 'sk-x'], { DOCENT_API_KEY: KEY });
  assert.equal(flag.code, 2);
  assert.match(flag.err, /no --api-key flag on purpose/);
  const badRate = await run([...args, '--rate', 'often'], { DOCENT_API_KEY: KEY });
  assert.equal(badRate.code, 2);
  assert.match(badRate.err, /invalid --rate: expected requests per period/);

  const child = spawn(process.execPath, [cli, 'proxy', ...args], { env: { PATH: process.env.PATH, DOCENT_API_KEY: KEY }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    await until(() => /http:\/\/127\.0\.0\.1:\d+\//.test(err), 10_000, 'the start line');
    const url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(err)[1];
    const r = await post(url, chatBody());
    assert.equal(r.status, 200);
    assert.equal(mock.posts()[0].headers.authorization, `Bearer ${KEY}`);
    await until(() => out.includes('\n'), 2000, 'the log line');
    assert.match(out, / POST \/v1\/chat\/completions 200 origin=https:\/\/docs\.example\.com ms=\d+ end=done\n$/);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
  }
  seen.push(out, err);
  assert.match(err, /→ .*\(openai, model proxy-model\); origins: https:\/\/docs\.example\.com; 20\/min per client, 600\/min in all/);
});
