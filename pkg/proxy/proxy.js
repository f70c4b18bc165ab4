// `docent/proxy`: a request handler, written once against the Fetch API (`Request` → `Response`),
// that lets `<docent-ask endpoint="https://…/proxy" key="none">` answer with a model without a
// key in the page: it adds the site owner's key (from `DOCENT_API_KEY` in the environment the
// request is handled with, never from an option or the request) and forwards the widget's
// request, in the same wire format, to one OpenAI-compatible or Anthropic endpoint. The same code
// runs on Cloudflare Workers, Deno, Bun, Node ≥ 18 (`docent proxy`, proxy/node.js) and edge
// functions.
//
// A proxy with a paid key on the internet is an open relay unless it refuses, so it refuses,
// each with `{error: {type, message}}` and without sending anything upstream: an Origin not on
// the allow-list, or none (403; `allowNoOrigin` admits server-side callers); more than the rate
// per client or in all (429 + Retry-After); a body over the size limit (413, while reading); a
// model other than the pinned one, max_tokens over the cap, tools or images unless enabled, more
// than N messages, and with `requireDocentPrompt` anything but a prompt docent assembled (400).
// CORS preflights are answered for allowed origins only. The answer is piped through as it
// streams; a client that leaves aborts the upstream request. One log line per request: time,
// origin, status, tokens when the stream reports them, duration; never the key, and the question
// only with `logPrompts`.
//
//   import { createProxy } from 'docent/proxy';
//   export default createProxy({ provider: 'openai', upstream: 'https://api.openai.com/v1',
//     model: 'gpt-4o-mini', allowOrigins: ['https://docs.example.com'], rate: '20/min',
//     clientIpHeader: 'CF-Connecting-IP' });   // a Worker: `fetch(request, env)`, env.DOCENT_API_KEY
//
// Modules: proxy/options.js (options), proxy/limits.js (rate limits), proxy/body.js (reading and
// checking the body, the docent prompt's shape), proxy/upstream.js (forwarding, pass-through,
// upstream errors), proxy/node.js (a Node server around the handler), proxy/cli.js (`docent proxy`).
// Must not: import anything runtime-specific (node:*), or log anything that holds the key.
import { checkOptions } from './options.js';
import { RateLimiter } from './limits.js';
import { Refusal, checkBody, readBody } from './body.js';
import { forward } from './upstream.js';

export { ProxyConfigError, parseRate } from './options.js';
export { docentQuestion } from './body.js';

/** The headers a browser may send on the proxied POST (auth headers are allowed, then dropped). */
const ALLOW_HEADERS = 'content-type, authorization, x-api-key, anthropic-version, anthropic-dangerous-direct-browser-access';
/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = 600;

/**
 * Creates the proxy. Throws ProxyConfigError for an invalid option.
 * @param {import('./proxy.d.ts').ProxyOptions} options
 * @returns {{fetch: (request: Request, env?: object, ctx?: {clientAddress?: string}) => Promise<Response>, limiter: RateLimiter, options: object}}
 */
export function createProxy(options) {
  const o = checkOptions(options);
  const limiter = new RateLimiter(o.rate, o.globalRate, o.maxClients);
  const fetch = (request, env, ctx) => handle(o, limiter, request, env, ctx);
  return { fetch, limiter, options: o };
}

async function handle(o, limiter, request, env, ctx) {
  const started = o.now();
  const at = new Date(started).toISOString();
  const origin = request.headers.get('origin');
  const allowed = origin !== null && o.allowOrigins.has(origin);
  const line = { at, method: request.method, path: safePath(request.url), origin };
  const cors = allowed ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'retry-after' } : {};
  const finish = (response, extra = {}) => {
    log(o, { ...line, status: response.status, ms: o.now() - started, ...extra });
    return response;
  };
  const refuse = (r, extra = {}) => finish(errorResponse(r, cors), { error: r.type, ...extra });

  try {
    if (origin === null ? !o.allowNoOrigin : !allowed) {
      return refuse(origin === null
        ? new Refusal(403, 'origin_missing', 'this proxy answers browsers on its allowed sites only, and the request has no Origin header')
        : new Refusal(403, 'origin_not_allowed', `this proxy does not serve pages on ${origin}: the site owner can add it to the allowed origins`));
    }
    const dialect = pathProvider(request.url);
    if (dialect !== o.provider) {
      const wants = o.provider === 'openai' ? 'POST <proxy URL>/chat/completions (provider="openai")' : 'POST <proxy URL>/v1/messages (provider="anthropic")';
      return refuse(dialect === undefined
        ? new Refusal(404, 'not_found', `not a path this proxy serves: it answers ${wants}`)
        : new Refusal(400, 'wrong_provider', `this proxy speaks the ${o.provider === 'openai' ? 'OpenAI-compatible' : 'Anthropic'} API: set provider="${o.provider}" on the widget`));
    }
    if (request.method === 'OPTIONS') {
      return finish(new Response(null, { status: 204, headers: {
        ...cors,
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': ALLOW_HEADERS,
        'access-control-max-age': String(PREFLIGHT_MAX_AGE),
        vary: 'Origin',
      } }));
    }
    if (request.method !== 'POST') {
      return refuse(new Refusal(405, 'method_not_allowed', `this proxy answers POST only, found ${request.method}`, { allow: 'POST, OPTIONS' }));
    }
    const turn = limiter.take(clientOf(o, request, ctx), o.now());
    if (!turn.ok) {
      const seconds = Math.max(1, Math.ceil(turn.retryAfterMs / 1000));
      return refuse(turn.scope === 'client'
        ? new Refusal(429, 'rate_limited', `too many questions from here: this site allows ${o.rate.text} per reader; try again in ${seconds} s`, { 'retry-after': String(seconds) })
        : new Refusal(429, 'busy', `this site's assistant is answering as many questions as it allows (${o.globalRate.text}); try again in ${seconds} s`, { 'retry-after': String(seconds) }));
    }
    const text = await readBody(request, o.maxBodyBytes);
    if (text instanceof Refusal) return refuse(text);
    const checked = checkBody(text, o);
    if (checked instanceof Refusal) return refuse(checked);
    const prompt = o.logPrompts && checked.question !== undefined ? { question: checked.question } : {};
    const key = typeof env?.DOCENT_API_KEY === 'string' ? env.DOCENT_API_KEY.trim() : '';
    if (!key) {
      return refuse(new Refusal(500, 'proxy_not_configured', 'the proxy has no API key: the site owner must set DOCENT_API_KEY (or DOCENT_API_KEY=none for an endpoint without keys)'), prompt);
    }
    const sent = await forward(o, checked.body, key, request.signal);
    if (sent instanceof Refusal) return refuse(sent, prompt);
    const { status, headers, body, done } = sent.response;
    for (const [k, v] of Object.entries(cors)) headers.set(k, v);
    headers.set('vary', 'Origin');
    headers.set('x-content-type-options', 'nosniff');
    done.then(({ end, tokens }) => log(o, { ...line, status, ms: o.now() - started, tokens, end, ...prompt }));
    return new Response(body, { status, headers });
  } catch (e) {
    return refuse(new Refusal(500, 'proxy_error', `the proxy failed: ${String(e?.message ?? e).split(typeof env?.DOCENT_API_KEY === 'string' && env.DOCENT_API_KEY ? env.DOCENT_API_KEY : '\0').join('<redacted>')}`));
  }
}

/** The provider whose path `url` ends with: `…/chat/completions` or `…/messages`. */
function pathProvider(url) {
  const path = new URL(url).pathname.replace(/\/+$/, '');
  if (path.endsWith('/chat/completions')) return 'openai';
  if (path.endsWith('/messages')) return 'anthropic';
  return undefined;
}

/** The path only (a query string may carry anything; it is never logged). */
function safePath(url) {
  try {
    return new URL(url).pathname;
  } catch {
    return '?';
  }
}

/** The client a rate applies to: the configured header's first address, else the socket's. */
function clientOf(o, request, ctx) {
  if (o.clientIpHeader) {
    const v = request.headers.get(o.clientIpHeader);
    if (v) return v.split(',')[0].trim().slice(0, 64);
  }
  return typeof ctx?.clientAddress === 'string' ? ctx.clientAddress : 'unknown';
}

function errorResponse(r, cors) {
  return new Response(JSON.stringify({ error: { type: r.type, message: r.message } }), {
    status: r.status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', vary: 'Origin', ...cors, ...r.headers },
  });
}

/**
 * One line per request: `<ISO time> <METHOD> <path> <status> origin=<origin> ms=<n>`, then
 * `tokens=in:<n>,out:<n>` when the stream reported them, `end=` (done, cut, stalled,
 * client-closed) for a streamed answer, `error=<type>` for a refusal, and `question=<JSON>` only
 * with `logPrompts`. Never the key: it is in no field.
 */
function log(o, f) {
  let text = `${f.at} ${f.method} ${f.path} ${f.status} origin=${f.origin === null ? '-' : JSON.stringify(f.origin).slice(1, -1).replace(/\s/g, '_')} ms=${Math.round(f.ms)}`;
  if (f.tokens) text += ` tokens=in:${f.tokens.input ?? '?'},out:${f.tokens.output ?? '?'}`;
  if (f.end) text += ` end=${f.end}`;
  if (f.error) text += ` error=${f.error}`;
  if (f.question !== undefined) text += ` question=${JSON.stringify(f.question.slice(0, 1000))}`;
  try {
    o.log(text);
  } catch {
    // a failing logger must not fail the request
  }
}
