// A scriptable mock LLM server for the JS test suites (Node and browser): speaks the streaming
// formats of OpenAI-compatible chat completions and the Anthropic Messages API, and can fail in
// every way a real endpoint does. 127.0.0.1, port 0; start and close it inside the test.
//
//   import { startMockLlm } from '../support/mock-llm.mjs';
//   const mock = await startMockLlm({ cors: true });
//   mock.enqueue({ status: 429, headers: { 'retry-after': '0' }, json: { error: { message: 'slow down' } } },
//                { answer: ['Hel', 'lo'] });
//   // streamAnswer({ provider: 'openai', endpoint: mock.openai, ... }) gets the 429, then "Hello"
//   mock.requests[0].headers.authorization; // every request is recorded
//   await mock.close();
//
// Each POST takes the next queued reply (or `mock.fallback` when the queue is empty). A reply is
// an object with these optional fields, applied in this order:
//   reset: true             destroy the connection before any response (the request is recorded).
//                           A browser retries a POST once when a reused keep-alive connection is
//                           reset before any response, so queue two to show a browser the failure
//   firstByteDelayMs: n     wait n ms before sending the status line and headers
//   status: 200             HTTP status; headers: {name: value} added to the response
//   json: value             a JSON body (content-type application/json), e.g. an error object
//   body: string | Buffer   a raw body (content-type text/plain unless headers say otherwise)
//   answer: [delta, ...]    the text deltas as an event stream in the request's format: OpenAI
//                           when the path ends with /chat/completions, else Anthropic; with its
//                           end marker unless marker: false
//   chunks: [string | Buffer | {delayMs}, ...]
//                           a raw event stream written piece by piece (content-type
//                           text/event-stream); Buffers may split a UTF-8 sequence anywhere
//   chunkDelayMs: n         pause between pieces (default 2 ms, so pieces reach the client as
//                           separate reads)
//   then: 'end' | 'stall' | 'cut'
//                           after the pieces: end the response (default), keep the connection
//                           open without sending anything (until the client leaves, at most
//                           stallMaxMs, default 10 s), or close the connection mid-stream
//                           (a FIN after the pieces, without the chunked body's last chunk: a
//                           reset could make the client's network stack drop pieces not yet read)
// With `cors` on, responses carry Access-Control-Allow-Origin (the request's Origin, or *) and
// Access-Control-Expose-Headers: retry-after, and OPTIONS preflights are answered (204); with it
// off, OPTIONS gets 405 and no response has CORS headers, as a server that does not allow
// cross-origin calls. `mock.cors` may be switched between requests.
import { createServer } from 'node:http';

/** Text deltas as an OpenAI chat-completions event stream (one chunk per event). */
export function openaiChunks(deltas, { marker = true, finishReason = 'stop' } = {}) {
  const event = (delta, finish = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', model: 'mock', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const out = [event({ role: 'assistant', content: '' })];
  for (const d of deltas) out.push(event({ content: d }));
  if (marker) out.push(event({}, finishReason), 'data: [DONE]\n\n');
  return out;
}

/** Text deltas as an Anthropic Messages event stream (one chunk per event). */
export function anthropicChunks(deltas, { marker = true, stopReason = 'end_turn' } = {}) {
  const event = (name, data) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
  const out = [
    event('message_start', { message: { id: 'msg_mock', type: 'message', role: 'assistant', content: [], model: 'mock' } }),
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    event('ping', {}),
  ];
  for (const d of deltas) out.push(event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: d } }));
  if (marker) {
    out.push(
      event('content_block_stop', { index: 0 }),
      event('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: deltas.length } }),
      event('message_stop', {}),
    );
  }
  return out;
}

/** `text` as UTF-8 Buffers of `size` bytes each (so multi-byte characters are split). */
export function byteChunks(text, size = 1) {
  const bytes = Buffer.from(text, 'utf8');
  const out = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

const DEFAULT_FALLBACK = Object.freeze({ answer: ['Hello', ' from the mock.'] });

/**
 * Starts the mock.
 * @param {{cors?: boolean, stallMaxMs?: number}} [options] cors: default false
 * @returns {Promise<MockLlm>}
 */
export async function startMockLlm({ cors = false, stallMaxMs = 10_000 } = {}) {
  const mock = new MockLlm(cors, stallMaxMs);
  await new Promise((resolve, reject) => {
    mock.server.once('error', reject);
    mock.server.listen(0, '127.0.0.1', resolve);
  });
  mock.origin = `http://127.0.0.1:${mock.server.address().port}`;
  mock.openai = `${mock.origin}/v1`;
  mock.anthropic = mock.origin;
  return mock;
}

class MockLlm {
  constructor(cors, stallMaxMs) {
    /** Whether CORS is allowed; may be switched between requests. */
    this.cors = cors;
    /** Every request, in arrival order: {method, path, url, headers, body, json, at, clientClosed}. */
    this.requests = [];
    /** The reply used when the queue is empty. */
    this.fallback = DEFAULT_FALLBACK;
    this.queue = [];
    this.stallMaxMs = stallMaxMs;
    this.sockets = new Set();
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Queues replies for the next POSTs, in order. */
  enqueue(...replies) {
    this.queue.push(...replies);
    return this;
  }

  /** Forgets queued replies and recorded requests, and restores the fallback. */
  reset() {
    this.queue = [];
    this.requests = [];
    this.fallback = DEFAULT_FALLBACK;
  }

  /** The recorded POSTs (preflights left out). */
  posts() {
    return this.requests.filter((r) => r.method === 'POST');
  }

  /** Stops the server and drops every open connection. */
  async close() {
    const closed = new Promise((resolve) => this.server.close(resolve));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  corsHeaders(req) {
    if (!this.cors) return {};
    return {
      'access-control-allow-origin': req.headers.origin ?? '*',
      'access-control-expose-headers': 'retry-after',
      vary: 'Origin',
    };
  }

  async handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString('utf8');
    let json;
    try {
      json = body ? JSON.parse(body) : undefined;
    } catch {
      json = undefined;
    }
    const url = new URL(req.url, 'http://mock');
    const record = { method: req.method, path: url.pathname, url: req.url, headers: { ...req.headers }, body, json, at: Date.now() };
    this.requests.push(record);
    // `clientClosed`: the client left before the reply ended (e.g. a proxy that aborted upstream).
    res.on('close', () => {
      record.clientClosed = !res.writableFinished;
    });

    if (req.method === 'OPTIONS') {
      if (!this.cors) {
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      res.writeHead(204, {
        ...this.corsHeaders(req),
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'content-type, authorization, x-api-key, anthropic-version, anthropic-dangerous-direct-browser-access',
        'access-control-max-age': '0',
      }).end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', ...this.corsHeaders(req) }).end();
      return;
    }
    const reply = this.queue.length ? this.queue.shift() : this.fallback;
    await this.reply(req, res, url.pathname, reply);
  }

  async reply(req, res, path, r) {
    let gone = false;
    res.on('close', () => {
      gone = true;
    });
    // Resolves after `ms`, or at once when the client leaves; removes its close listener either
    // way (a long stream of pieces would otherwise pile them up on the response).
    const wait = (ms) => new Promise((resolve) => {
      if (gone) return resolve();
      const onClose = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        res.off('close', onClose);
        resolve();
      }, ms);
      res.once('close', onClose);
    });
    if (r.reset) {
      req.socket.destroy();
      return;
    }
    if (r.firstByteDelayMs) await wait(r.firstByteDelayMs);
    if (gone) return;
    const headers = { ...this.corsHeaders(req), 'cache-control': 'no-store', ...(r.headers ?? {}) };
    const status = r.status ?? 200;
    if (r.json !== undefined) {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(r.json));
      return;
    }
    if (r.body !== undefined) {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(r.body);
      return;
    }
    let pieces = r.chunks ?? [];
    if (r.answer) {
      const format = path.endsWith('/chat/completions') ? openaiChunks : anthropicChunks;
      pieces = format(r.answer, { marker: r.marker ?? true });
    }
    res.writeHead(status, { 'content-type': 'text/event-stream; charset=utf-8', ...headers });
    res.flushHeaders();
    const delay = r.chunkDelayMs ?? 2;
    for (const piece of pieces) {
      if (gone) return;
      if (piece && typeof piece === 'object' && !Buffer.isBuffer(piece)) {
        await wait(piece.delayMs ?? 0);
        continue;
      }
      res.write(piece);
      if (delay) await wait(delay);
    }
    if (gone) return;
    if (r.then === 'cut') {
      req.socket.end();
    } else if (r.then === 'stall') {
      await wait(this.stallMaxMs);
      if (!gone) res.end();
    } else {
      res.end();
    }
  }
}
