// A read-only static file server for the JS test suites (browser and npm round trip): 127.0.0.1,
// port 0, GET and HEAD only (single byte ranges answered), never outside its mounted directories, `no-store` so that a file a page does
// not re-request came from the Cache API rather than the HTTP cache. Counts requests per path.
import { createServer } from 'node:http';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import assert from 'node:assert/strict';
import { extname, join, normalize, sep } from 'node:path';
import { byteRange, rangeResponse } from '../../www/range.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.int8': 'application/octet-stream',
};

/** The Content-Type of a served file, by its extension (`application/octet-stream` for others). */
export function contentType(file) {
  return MIME[extname(file)] ?? 'application/octet-stream';
}

/** Stops `server` and ends its open (keep-alive) connections; resolves once it is closed. */
export function closeServer(server) {
  const closed = new Promise((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

/** Fails with how to get `path` when it is missing. */
export function need(path, how) {
  assert.ok(existsSync(path), `${path} is missing: ${how}`);
}

/**
 * Serves `mounts`, a list of `[urlPrefix, dir]` tried in order (a prefix ends with `/`; use `/`
 * last for the rest). A path ending in `/` serves its `index.html`. `headers(path)` may add
 * response headers to a file (e.g. a Content-Security-Policy for some pages). `stall(path)` may
 * return a byte count: a response whose body is longer then sends that many bytes of it and no
 * more, holding the connection open (a download the network dropped half way; closing the
 * server ends it).
 * @param {Array<[string, string]>} mounts
 * @param {{headers?: (path: string) => Record<string, string>, stall?: (path: string) => number | undefined}} [options]
 * @returns {Promise<{server: import('node:http').Server, requests: Map<string, number>, origin: string}>}
 */
export function startStaticServer(mounts, { headers = () => ({}), stall = () => undefined } = {}) {
  const requests = new Map();
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (path.endsWith('/')) path += 'index.html';
    const [prefix, dir] = mounts.find(([p]) => path.startsWith(p)) ?? [];
    const file = dir === undefined ? '' : normalize(join(dir, path.slice(prefix.length)));
    const inside = dir !== undefined && (file === dir || file.startsWith(dir.endsWith(sep) ? dir : dir + sep));
    const head = req.method === 'HEAD';
    if ((req.method !== 'GET' && !head) || !inside) {
      res.writeHead(req.method !== 'GET' && !head ? 405 : 403).end();
      return;
    }
    try {
      const s = await stat(file);
      if (!s.isFile()) throw new Error('not a file');
      const range = byteRange(req.headers.range, s.size);
      const partial = rangeResponse(range, s.size);
      res.writeHead(partial.status, {
        'content-type': contentType(file),
        'content-length': s.size,
        'cache-control': 'no-store',
        ...headers(path),
        ...partial.headers,
      });
      const cut = stall(path);
      if (partial.status === 416 || head) res.end();
      else if (cut !== undefined) {
        const from = partial.status === 206 ? range.start : 0;
        const last = partial.status === 206 ? range.end : s.size - 1;
        const to = Math.min(last, from + cut - 1);
        createReadStream(file, { start: from, end: to }).pipe(res, { end: to === last });
      } else createReadStream(file, partial.status === 206 ? range : {}).pipe(res);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, requests, origin: `http://127.0.0.1:${server.address().port}`, close: () => closeServer(server) }));
  });
}
