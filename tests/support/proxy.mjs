// The docent proxy (pkg/proxy/) on 127.0.0.1 for the tests and bench/proxy.mjs: a proxy in
// front of the mock LLM, its log lines collected, and small helpers to call it. Every server is
// started on port 0 and closed by the caller.
import { createProxy } from '../../pkg/proxy/proxy.js';
import { serveProxy } from '../../pkg/proxy/node.js';

/** The owner's key in every test: long and recognisable, so a leak anywhere is found. */
export const KEY = 'sk-owner-SECRET-0123456789abcdef';
/** The allowed site's origin in the Node tests. */
export const SITE = 'https://docs.example.com';

/**
 * Starts a proxy. `options` are createProxy's; provider 'openai', model 'proxy-model', allowed
 * origin SITE and the collected log are the defaults.
 * @returns {Promise<{url: string, proxy: object, lines: string[], close: () => Promise<void>}>}
 */
export async function startProxy(upstream, options = {}, { env = { DOCENT_API_KEY: KEY } } = {}) {
  const lines = [];
  const proxy = createProxy({
    provider: 'openai',
    upstream,
    model: 'proxy-model',
    allowOrigins: [SITE],
    log: (line) => lines.push(line),
    ...options,
  });
  const server = await serveProxy(proxy, { port: 0, env });
  return { url: server.url, proxy, lines, close: server.close };
}

/** A chat body as the widget sends it (OpenAI shape unless `anthropic`). */
export function chatBody({ model = 'proxy-model', messages, anthropic = false, ...rest } = {}) {
  const m = messages ?? [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello?' }];
  if (anthropic) {
    const system = m.filter((x) => x.role === 'system').map((x) => x.content).join('\n\n');
    return { model, max_tokens: 1024, messages: m.filter((x) => x.role !== 'system'), stream: true, ...(system ? { system } : {}), ...rest };
  }
  return { model, messages: m, stream: true, max_tokens: 1024, ...rest };
}

/**
 * POSTs `body` (an object, sent as JSON, or a string) to the proxy's `path` from `origin`
 * (null: no Origin header). Resolves to `{status, headers, text, json}`.
 */
export async function post(url, body, { origin = SITE, path = '/v1/chat/completions', headers = {}, signal } = {}) {
  const h = { 'content-type': 'application/json', ...headers };
  if (origin !== null) h.origin = origin;
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: h, body: typeof body === 'string' ? body : JSON.stringify(body), signal });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: Object.fromEntries(res.headers), text, json };
}

/** The median of `values`. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The `q` quantile (0–1) of `values`, nearest rank. */
export function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/**
 * Ms from sending a POST to `url` until its response body's first chunk, and the text of it;
 * the rest is read to the end.
 */
export async function firstChunkMs(url, body, headers = {}) {
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const reader = res.body.getReader();
  const first = await reader.read();
  const ms = performance.now() - t0;
  for (;;) if ((await reader.read()).done) break;
  return { ms, status: res.status, first: new TextDecoder().decode(first.value ?? new Uint8Array()) };
}
