// A static file server for the widget's browser tests that behaves like a real static host (gzip,
// ETag revalidation, long-lived caching for content-hashed fragments, single byte ranges) and injects faults into
// chosen files on request: 404, a truncated or corrupted body, the bytes of another build's
// fragment, or a response that never comes. 127.0.0.1 and port 0 only; started and stopped by
// the test that uses it. It records every request (path, status, bytes on the wire, bytes of the
// file), so a test can say what a question cost.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { basename, join, normalize, sep } from 'node:path';
import { closeServer, contentType } from './static-server.mjs';
import { byteRange, rangeResponse } from '../../www/range.mjs';


/** A fragment's file name, `<kind>-<16 hex digits>.bin` (the hash is the checksum of its bytes). */
const FRAGMENT = /^(lex|txt|ivf|vec|cmn)-[0-9a-f]{16}\.bin$/;

/**
 * The faults a test can inject, per request path (see `fault(path, kind, options)`):
 * - `404`: the file is missing (a fragment deleted by a re-deploy, an incomplete upload);
 * - `truncate`: a complete response with the first half of the file (an upload cut short);
 * - `corrupt`: the whole file with one byte flipped in the middle (damaged on disk or in a cache);
 * - `stale`: the bytes of another build's fragment of the same kind under this name (a cache or
 *   mirror that mixed two deploys); needs `options.from`, the other build's index folder;
 * - `hang`: no response at all until the fault is cleared (then the held connection is closed)
 *   or the server closes: a fragment that takes longer than any timeout.
 */
export const FAULTS = ['404', 'truncate', 'corrupt', 'stale', 'hang'];

/**
 * Serves `mounts` (`[urlPrefix, dir]`, tried in order; `/` last for the rest).
 * Files are gzipped when the request accepts it (`gzip: false` turns that off), sent with an ETag
 * and `no-cache` (revalidated on every use, as most static hosts do for HTML and scripts), except
 * fragments, which are `immutable` for a year (their name changes with their bytes).
 * @param {Array<[string, string]>} mounts
 * @param {{gzip?: boolean, headers?: (path: string) => Record<string, string>}} [options]
 */
export async function startFaultServer(mounts, { gzip = true, headers = () => ({}) } = {}) {
  /** Every request: {path, status, wire (bytes of the body as sent), bytes (of the file), at (Date.now() on arrival)}. */
  const log = [];
  /** path → {kind, from} */
  const faults = new Map();
  /** Responses held by a `hang` fault, released when it is cleared. */
  const held = new Set();
  /** path → {mtimeMs, body, gz, etag} */
  const cache = new Map();

  async function load(file) {
    const s = await stat(file);
    if (!s.isFile()) throw new Error('not a file');
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === s.mtimeMs && hit.size === s.size) return hit;
    const body = await readFile(file);
    const entry = { mtimeMs: s.mtimeMs, size: s.size, body, gz: null, etag: `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"` };
    cache.set(file, entry);
    return entry;
  }

  /** The bytes a fault serves instead of `body` (null: 404). */
  async function faulty(f, file, body) {
    switch (f.kind) {
      case '404':
        return null;
      case 'truncate':
        return body.subarray(0, Math.floor(body.length / 2));
      case 'corrupt': {
        const bad = Buffer.from(body);
        bad[bad.length >> 1] ^= 0x5a;
        return bad;
      }
      case 'stale': {
        // Another build's fragment at least as long as this one when there is one, so that a
        // reader's byte ranges fall inside it and it is its content that differs (a shorter
        // file would fail as a range the server cannot satisfy, HTTP 416, a fault of its own).
        const kind = basename(file).split('-')[0];
        const dir = join(f.from, 'fragments');
        const names = (await readdir(dir)).filter((n) => FRAGMENT.test(n) && n.startsWith(`${kind}-`) && n !== basename(file)).sort();
        if (!names.length) throw new Error(`stale fault: ${dir} has no other ${kind} fragment`);
        const others = await Promise.all(names.map(async (n) => readFile(join(dir, n))));
        return others.find((o) => o.length >= body.length) ?? others.reduce((a, b) => (b.length > a.length ? b : a));
      }
      default:
        throw new Error(`unknown fault ${f.kind}`);
    }
  }

  const server = createServer(async (req, res) => {
    const entry = { path: '', status: 0, wire: 0, bytes: 0, at: Date.now() };
    log.push(entry);
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      entry.status = 400;
      res.writeHead(400).end();
      return;
    }
    entry.path = path;
    if (path.endsWith('/')) path += 'index.html';
    const [prefix, dir] = mounts.find(([p]) => path.startsWith(p)) ?? [];
    const file = dir === undefined ? '' : normalize(join(dir, path.slice(prefix.length)));
    const inside = dir !== undefined && (file === dir || file.startsWith(dir.endsWith(sep) ? dir : dir + sep));
    if (req.method !== 'GET' || !inside) {
      entry.status = req.method !== 'GET' ? 405 : 403;
      res.writeHead(entry.status).end();
      return;
    }
    const f = faults.get(entry.path);
    if (f?.kind === 'hang') {
      entry.status = -1; // never answered
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    let served;
    try {
      served = await load(file);
    } catch {
      entry.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    let body = served.body;
    let etag = served.etag;
    if (f) {
      body = await faulty(f, file, body);
      etag = `"fault-${f.kind}-${Date.now()}"`;
      if (body === null) {
        entry.status = 404;
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
    }
    const fragment = FRAGMENT.test(basename(file));
    const head = {
      'content-type': contentType(file),
      'cache-control': fragment ? 'public, max-age=31536000, immutable' : 'no-cache',
      etag,
      vary: 'accept-encoding',
      ...headers(entry.path),
    };
    if (req.headers['if-none-match'] === etag) {
      entry.status = 304;
      res.writeHead(304, head).end();
      return;
    }
    entry.bytes = body.length;
    const range = byteRange(req.headers.range, body.length);
    if (range !== null) {
      // A byte range of what would be served (a fault's bytes too), never compressed.
      const partial = rangeResponse(range, body.length);
      const part = partial.status === 206 ? body.subarray(range.start, range.end + 1) : Buffer.alloc(0);
      entry.status = partial.status;
      entry.wire = part.length;
      res.writeHead(partial.status, { ...head, ...partial.headers }).end(part);
      return;
    }
    if (gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      if (!f) served.gz ??= gzipSync(body);
      body = f ? gzipSync(body) : served.gz;
      head['content-encoding'] = 'gzip';
    }
    head['content-length'] = body.length;
    entry.status = 200;
    entry.wire = body.length;
    res.writeHead(200, head).end(body);
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;

  return {
    origin,
    /** Every request so far (`clearLog()` empties it). */
    log,
    clearLog: () => {
      log.length = 0;
    },
    /** Injects `kind` (one of FAULTS) into `path` (a URL path such as `/idx/fragments/lex-….bin`). */
    fault(path, kind, options = {}) {
      if (!FAULTS.includes(kind)) throw new Error(`fault: expected one of ${FAULTS.join(', ')}, found ${kind}`);
      if (kind === 'stale' && !options.from) throw new Error('fault stale: options.from (another build\'s index folder) is needed');
      faults.set(path, { kind, from: options.from });
    },
    /** Removes every fault and closes the connections a `hang` held (their pages gave up on them). */
    clearFaults() {
      faults.clear();
      for (const res of held) res.destroy();
      held.clear();
    },
    close() {
      for (const res of held) res.destroy();
      return closeServer(server);
    },
  };
}

/** Requests and bytes of `log` entries, in total and by kind of file. */
export function summarize(log) {
  const kinds = { wasm: /\.wasm$/, model: /\/model\//, manifest: /manifest\.json$/, index: /index\.bin$/, fragments: /\/fragments\//, js: /\.m?js$/ };
  const out = { requests: log.length, wire: 0, bytes: 0, by: {} };
  for (const e of log) {
    out.wire += e.wire;
    out.bytes += e.bytes;
    const k = Object.keys(kinds).find((name) => kinds[name].test(e.path)) ?? 'other';
    out.by[k] ??= { requests: 0, wire: 0 };
    out.by[k].requests += 1;
    out.by[k].wire += e.wire;
  }
  return out;
}
