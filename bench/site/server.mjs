// A static server on 127.0.0.1 that behaves like a CDN in front of a static site and counts what
// a reader's browser pulls: every response is gzip-compressed when that makes it smaller (level 6,
// as CDNs compress on the fly; Pagefind's own files are already gzip inside and go out as they
// are), content-hashed files may be cached forever, the entry files (`manifest.json`,
// `pagefind-entry.json`) and pages are `no-cache`. Counts requests and bytes on the wire (the
// compressed body) with the time each request arrived, so a session can split them at the moments
// it asked and got answers; paths under `/__bench/` (the benchmark's own pages) are not counted.
// A single byte range (ranged text packs) is answered 206 from the file, uncompressed.
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { open as openFile, readFile, stat } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { closeServer, contentType } from '../../tests/support/static-server.mjs';
import { byteRange, rangeResponse } from '../../www/range.mjs';


/** Files above this size are not compressed (gzip in memory would take minutes). */
const HUGE = 256 << 20;

/** Entry files: re-validated on every visit (their names do not change with their content). */
const ENTRY = /(^|\/)(manifest\.json|pagefind-entry\.json|[^/]*\.html)$/;

/**
 * Serves `mounts` ([urlPrefix, dir], first match wins). Returns the server with `log` (every
 * counted request: {t: arrival, epoch ms; path; bytes; status}), `clear()`, and `idle(quietMs,
 * maxMs)`, which resolves once no request has been open for `quietMs`.
 */
export async function startCountingServer(mounts) {
  const cache = new Map(); // file → {body, encoding}
  const log = [];
  let open = 0;
  let lastActivity = Date.now();
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const t = Date.now();
    const counted = !path.startsWith('/__bench/');
    open++;
    lastActivity = Date.now();
    const done = () => {
      open--;
      lastActivity = Date.now();
    };
    res.on('close', done);
    const file = resolve(mounts, path.endsWith('/') ? path + 'index.html' : path);
    if (req.method !== 'GET' || !file) {
      res.writeHead(req.method !== 'GET' ? 405 : 403).end();
      return;
    }
    const st = req.headers.range ? await stat(file).catch(() => null) : null;
    const range = st?.isFile() ? byteRange(req.headers.range, st.size) : null;
    if (range !== null) {
      // A byte range (ranged text packs): read from the file, sent as is (never compressed,
      // as hosts do), counted like any response.
      const partial = rangeResponse(range, st.size);
      let part = Buffer.alloc(0);
      if (partial.status === 206) {
        const fh = await openFile(file, 'r');
        try {
          part = Buffer.alloc(range.end - range.start + 1);
          await fh.read(part, 0, part.length, range.start);
        } finally {
          await fh.close();
        }
      }
      if (counted) log.push({ t, path, bytes: part.length, status: partial.status });
      res.writeHead(partial.status, {
        'content-type': contentType(file),
        'cache-control': 'public, max-age=31536000, immutable',
        'access-control-allow-origin': '*',
        ...partial.headers,
      }).end(part);
      return;
    }
    let entry = cache.get(file);
    if (!entry) {
      try {
        const st = await stat(file);
        if (!st.isFile()) throw new Error('not a file');
        if (st.size > HUGE) {
          // Too big to compress in memory (the 1M-chunk site's monolithic index.bin): sent as is.
          if (counted) log.push({ t, path, bytes: st.size, status: 200 });
          res.writeHead(200, { 'content-type': contentType(file), 'content-length': st.size, 'cache-control': 'no-cache' });
          createReadStream(file).pipe(res);
          return;
        }
        const raw = await readFile(file);
        const gz = gzipSync(raw, { level: 6 });
        entry = gz.length < raw.length ? { body: gz, encoding: 'gzip', raw: raw.length } : { body: raw, encoding: null, raw: raw.length };
        if (raw.length < 64 << 20) cache.set(file, entry);
      } catch {
        if (counted) log.push({ t, path, bytes: 0, status: 404 });
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
    }
    const gzipOk = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    const body = entry.encoding && !gzipOk ? await readFile(file) : entry.body;
    const headers = {
      'content-type': contentType(file),
      'content-length': body.length,
      'cache-control': ENTRY.test(path) ? 'no-cache' : 'public, max-age=31536000, immutable',
      'access-control-allow-origin': '*',
    };
    if (entry.encoding && gzipOk) headers['content-encoding'] = 'gzip';
    if (counted) log.push({ t, path, bytes: body.length, status: 200 });
    res.writeHead(200, headers).end(body);
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  return {
    server,
    origin: `http://127.0.0.1:${server.address().port}`,
    log,
    clear() {
      log.length = 0;
    },
    /** Resolves once no request has been open for `quietMs` (or after `maxMs`, with `false`). */
    async idle(quietMs, maxMs) {
      const until = Date.now() + maxMs;
      while (Date.now() < until) {
        if (open === 0 && Date.now() - lastActivity >= quietMs) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    },
    close() {
      return closeServer(server);
    },
  };
}

function resolve(mounts, path) {
  const [prefix, dir] = mounts.find(([p]) => path.startsWith(p)) ?? [];
  if (dir === undefined) return null;
  const file = normalize(join(dir, path.slice(prefix.length)));
  return file === dir || file.startsWith(dir.endsWith(sep) ? dir : dir + sep) ? file : null;
}
