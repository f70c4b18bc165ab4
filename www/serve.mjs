// Serves the demo on 127.0.0.1: the page (www/), the npm package it imports (/pkg/), the
// rendered demo site with its docent index (/site/, written by `./build.sh demo`) and the local
// provider's models (/models/llm/, written by `./build.sh setup`). Every response is
// cross-origin isolated (COOP + COEP), so the local model may run with threads.
//
//   node www/serve.mjs [--port N] [--site DIR]      (default port 8080, or $DOCENT_PORT; 0 = any)
//
// Read-only and GET/HEAD only; never serves outside its folders; sends the same strict
// Content-Security-Policy as the page's <meta> tag. Also imported by the demo's browser tests.
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { byteRange, rangeResponse } from './range.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** The policy of www/index.html, also sent as a header (a header covers workers and pages alike);
 * blob: workers are the local model's (wllama starts its workers from blob URLs). */
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self' https: http://localhost:* http://127.0.0.1:*; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'none'";

const repo = fileURLToPath(new URL('../', import.meta.url));

/**
 * Starts the demo server.
 * @param {{port?: number, site?: string, pkg?: string, host?: string}} [options] port 0 picks a
 *   free one; `site` is the rendered site folder (default target/demo/site); `pkg` the package
 *   folder served at /pkg/ (default pkg/)
 * @returns {Promise<{server: import('node:http').Server, origin: string, close: () => Promise<void>}>}
 */
export function serveDemo({ port = 8080, site = join(repo, 'target/demo/site'), pkg = join(repo, 'pkg'), host = '127.0.0.1' } = {}) {
  const mounts = [
    ['/pkg/', resolve(pkg)],
    ['/site/', resolve(site)],
    ['/models/llm/', join(repo, 'models/llm')],
    ['/', join(repo, 'www')],
  ];
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const [prefix, dir] = mounts.find(([p]) => path.startsWith(p));
    const file = normalize(join(dir, path.slice(prefix.length)));
    if (!(file === dir || file.startsWith(dir + sep)) || path.endsWith('serve.mjs')) {
      res.writeHead(403).end();
      return;
    }
    try {
      const s = await stat(file);
      if (!s.isFile()) throw new Error('not a file');
      // A site folder's ranged text packs are read a record at a time.
      const range = byteRange(req.headers.range, s.size);
      const partial = rangeResponse(range, s.size);
      res.writeHead(partial.status, {
        'content-type': MIME[extname(file)] ?? 'application/octet-stream',
        'content-length': s.size,
        'cache-control': 'no-cache',
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        // Cross-origin isolation: SharedArrayBuffer, so the local model's threads. Requests to
        // other origins (LLM endpoints) are CORS requests, which it allows.
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
        ...partial.headers,
      });
      if (req.method === 'HEAD' || partial.status === 416) res.end();
      else createReadStream(file, partial.status === 206 ? range : {}).pipe(res);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path}\n`);
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const origin = `http://${host}:${server.address().port}`;
      const close = () =>
        new Promise((done) => {
          server.close(() => done());
          server.closeAllConnections();
        });
      resolvePromise({ server, origin, close });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const value = (flag) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const port = Number(value('--port') ?? process.env.DOCENT_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port: expected a port number 0..65535, found ${JSON.stringify(value('--port') ?? process.env.DOCENT_PORT)}`);
    process.exit(2);
  }
  try {
    const { origin } = await serveDemo({ port, site: value('--site') });
    console.log(`docent demo: ${origin}/   (Ctrl-C stops it)`);
  } catch (e) {
    console.error(e.code === 'EADDRINUSE' ? `port ${port} is in use: pass --port N (or DOCENT_PORT=N; 0 picks a free one)` : String(e));
    process.exit(1);
  }
}
