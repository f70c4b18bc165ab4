// The proxy as a plain Node server (`docent proxy`, Node ≥ 18): each request becomes a Fetch
// `Request` for the one handler (proxy.js), and its `Response` is written back chunk by chunk as
// it arrives. A request body is read only as the handler asks (so the size limit stops a large
// upload early), a client that closes the connection aborts the request's signal and cancels the
// response body (which aborts the upstream request), and the client is the socket's address
// unless `clientIpHeader` names a header set by a proxy in front.
// Must not: buffer a response, or read the key from anywhere but the environment it is given.
import { createServer } from 'node:http';
import { once } from 'node:events';

/** A refused request's unread body up to this size is read and dropped, keeping the connection. */
const DRAIN_BYTES = 64 * 1024;

/**
 * A `(req, res)` listener for `http.createServer` around `proxy.fetch`.
 * @param {{fetch: Function}} proxy from createProxy
 * @param {object} env the environment that holds DOCENT_API_KEY (default: process.env)
 */
export function nodeListener(proxy, env = process.env) {
  return (req, res) => {
    serve(proxy, env, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"type":"proxy_error","message":"the proxy failed"}}');
      else res.destroy();
    });
  };
}

/**
 * Starts a server on `host:port` (default 127.0.0.1, port 0 picks a free one). Resolves to
 * `{server, url, close()}`; `close()` stops it and drops open connections.
 */
export async function serveProxy(proxy, { port = 8787, host = '127.0.0.1', env = process.env } = {}) {
  const server = createServer(nodeListener(proxy, env));
  const sockets = new Set();
  server.on('connection', (s) => {
    s.setNoDelay(true);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.once('error', (e) => server.emit('startError', e));
  await new Promise((resolve, reject) => {
    server.once('startError', reject);
    server.listen(port, host, () => {
      server.off('startError', reject);
      resolve();
    });
  });
  const a = server.address();
  const url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  return {
    server,
    url,
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

async function serve(proxy, env, req, res) {
  const aborter = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) aborter.abort();
  });
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    } catch {
      // a header the Fetch API cannot hold is dropped
    }
  }
  let request;
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const body = hasBody ? bodyStream(req) : { stream: undefined, discard: () => req.resume() };
  try {
    request = new Request(new URL(req.url, 'http://proxy.invalid'), {
      method: req.method,
      headers,
      body: body.stream,
      duplex: 'half',
      signal: aborter.signal,
    });
  } catch {
    res.writeHead(400, { 'content-type': 'application/json', connection: 'close' }).end('{"error":{"type":"invalid_request","message":"the request cannot be read"}}');
    return;
  }
  const response = await proxy.fetch(request, env, { clientAddress: req.socket.remoteAddress });
  const out = [];
  response.headers.forEach((v, k) => out.push(k, v));
  // A refusal sent before the upload ended: a small rest is read and dropped (the connection
  // stays open), anything else closes the connection (the rest is never read).
  if (!req.complete) {
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length <= DRAIN_BYTES) {
      body.discard();
    } else {
      out.push('connection', 'close');
      res.once('finish', () => req.socket.destroySoon?.() ?? req.destroy());
    }
  }
  res.writeHead(response.status, out);
  res.flushHeaders();
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.once('close', () => {
    if (!res.writableFinished) reader.cancel(new Error('the client closed the connection')).catch(() => {});
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      if (res.destroyed) return;
    }
    res.end();
  } catch {
    res.destroy(); // the upstream stream broke: the client sees a cut stream, not a clean end
  }
}

/**
 * The request body as a byte stream that reads from the socket only when asked, and
 * `discard()`, which reads the rest and drops it.
 */
function bodyStream(req) {
  let stopped = false;
  const stream = new ReadableStream({
    start(controller) {
      req.on('data', (chunk) => {
        if (stopped) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if (controller.desiredSize <= 0) req.pause();
      });
      req.on('end', () => {
        if (!stopped) controller.close();
      });
      req.on('error', (e) => {
        if (!stopped) controller.error(e);
      });
      req.pause();
    },
    pull() {
      req.resume();
    },
    cancel() {
      stopped = true;
      req.pause();
    },
  }, { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength });
  const discard = () => {
    stopped = true;
    req.resume();
  };
  return { stream, discard };
}
