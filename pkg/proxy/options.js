// The proxy's options: every one checked once, when the proxy is created, with a message that
// names it, says what was expected and what was found; defaults filled in.
// Must not: read the environment (the key comes with each request's `env`), or send anything.
import { DEFAULT_ENDPOINTS, endpointUrl } from '../llm/request.js';

/** Default per-client rate: 20 requests a minute. */
export const DEFAULT_RATE = '20/min';
/** Default of `maxBodyBytes`: 128 KiB, several times a docent prompt of 10 sources. */
export const DEFAULT_MAX_BODY_BYTES = 128 * 1024;
/** Default of `maxTokens`: the widget's own default answer length. */
export const DEFAULT_MAX_TOKENS = 1024;
/** Default of `maxMessages`: a docent prompt is 2 (system and user); a little room for follow-ups. */
export const DEFAULT_MAX_MESSAGES = 4;
/** Default of `timeoutMs`: 30 s for the first byte, and for any pause mid-stream. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Default of `maxClients`: clients remembered by the rate limiter (about 100 bytes each). */
export const DEFAULT_MAX_CLIENTS = 10_000;

const PERIODS = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000, d: 86_400_000, day: 86_400_000 };

/** An invalid option, named: thrown by `createProxy` and shown by `docent proxy`. */
export class ProxyConfigError extends Error {
  constructor(name, reason) {
    super(`invalid ${name}: ${reason}`);
    this.name = 'ProxyConfigError';
  }
}

const show = (v) => (typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'nothing' : String(v));

/** `"20/min"` → `{count: 20, periodMs: 60000}`; also `/s`, `/sec`, `/h`, `/hour`, `/day`, `/10min`. */
export function parseRate(name, text) {
  const m = /^\s*(\d+)\s*\/\s*(\d*)\s*([a-z]+)\s*$/i.exec(String(text));
  const unit = m && PERIODS[m[3].toLowerCase()];
  const count = m ? Number(m[1]) : NaN;
  const times = m && m[2] ? Number(m[2]) : 1;
  if (!unit || !(count >= 1) || !Number.isSafeInteger(count) || !(times >= 1)) {
    throw new ProxyConfigError(name, `expected requests per period such as 20/min, 5/s or 1000/day, found ${show(text)}`);
  }
  return { count, periodMs: unit * times, text: `${count}/${m[2] || ''}${m[3].toLowerCase()}` };
}

/** `131072`, `128k`, `1m` (KiB and MiB) → bytes. */
export function parseBytes(name, value) {
  const m = /^\s*(\d+)\s*(k|kb|kib|m|mb|mib)?\s*$/i.exec(String(value));
  const bytes = m ? Number(m[1]) * ({ k: 1024, m: 1024 * 1024 }[m[2]?.[0].toLowerCase()] ?? 1) : NaN;
  if (!(bytes >= 1) || !Number.isSafeInteger(bytes)) throw new ProxyConfigError(name, `expected a size in bytes such as 131072, 128k or 1m, found ${show(value)}`);
  return bytes;
}

function whole(name, value, fallback, min, max) {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ProxyConfigError(name, `expected a whole number from ${min} to ${max}, found ${show(value)}`);
  return n;
}

/** An allowed origin: scheme, host and port, exactly as a browser sends it in `Origin`. */
function origin(text) {
  let url;
  try {
    url = new URL(String(text));
  } catch {
    throw new ProxyConfigError('allowOrigins', `expected an origin such as https://docs.example.com, found ${show(text)}`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin === 'null') {
    throw new ProxyConfigError('allowOrigins', `expected an http:// or https:// origin, found ${show(text)}`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
    throw new ProxyConfigError('allowOrigins', `an origin is a scheme, a host and a port only (such as ${url.origin}), found ${show(text)}`);
  }
  return url.origin;
}

/**
 * The checked options with their defaults (see proxy.d.ts, `ProxyOptions`, for each one's meaning).
 * @param {object} o
 */
export function checkOptions(o = {}) {
  if (o === null || typeof o !== 'object') throw new ProxyConfigError('options', `expected an object, found ${show(o)}`);
  if ('apiKey' in o || 'key' in o) {
    throw new ProxyConfigError('apiKey', 'the key is never an option: it is read from DOCENT_API_KEY in the environment each request is handled with (a Worker secret, process.env in Node)');
  }
  const provider = o.provider;
  if (provider !== 'openai' && provider !== 'anthropic') {
    throw new ProxyConfigError('provider', `expected "openai" (any OpenAI-compatible API) or "anthropic", found ${show(provider)}`);
  }
  let upstream;
  try {
    upstream = endpointUrl(provider, o.upstream ?? DEFAULT_ENDPOINTS[provider]);
  } catch (e) {
    throw new ProxyConfigError('upstream', e.message.replace(/^invalid endpoint: /, ''));
  }
  if (typeof o.model !== 'string' || !o.model.trim()) {
    throw new ProxyConfigError('model', `expected the one model name the proxy serves, such as gpt-4o-mini, found ${show(o.model)}`);
  }
  const list = o.allowOrigins === undefined ? [] : Array.isArray(o.allowOrigins) ? o.allowOrigins : [o.allowOrigins];
  const allowOrigins = new Set(list.map(origin));
  const allowNoOrigin = o.allowNoOrigin === true;
  if (allowOrigins.size === 0 && !allowNoOrigin) {
    throw new ProxyConfigError('allowOrigins', 'give the origins of the sites allowed to use the proxy, such as https://docs.example.com (or allowNoOrigin for server-side callers only)');
  }
  const rate = parseRate('rate', o.rate ?? DEFAULT_RATE);
  const globalRate = o.globalRate === undefined
    ? { count: rate.count * 30, periodMs: rate.periodMs, text: `${rate.count * 30}/${rate.text.split('/')[1]}` }
    : parseRate('globalRate', o.globalRate);
  const clientIpHeader = o.clientIpHeader === undefined ? undefined : String(o.clientIpHeader).trim().toLowerCase();
  if (clientIpHeader !== undefined && !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(clientIpHeader)) {
    throw new ProxyConfigError('clientIpHeader', `expected a header name such as CF-Connecting-IP, found ${show(o.clientIpHeader)}`);
  }
  if (o.log !== undefined && o.log !== false && typeof o.log !== 'function') throw new ProxyConfigError('log', `expected a function that takes one line, or false, found ${typeof o.log}`);
  if (o.fetch !== undefined && typeof o.fetch !== 'function') throw new ProxyConfigError('fetch', `expected a function, found ${typeof o.fetch}`);
  return {
    provider,
    upstream: upstream.href,
    upstreamDisplay: `${upstream.origin}${upstream.pathname}`,
    model: o.model.trim(),
    allowOrigins,
    allowNoOrigin,
    rate,
    globalRate,
    clientIpHeader,
    maxClients: whole('maxClients', o.maxClients, DEFAULT_MAX_CLIENTS, 1, 10_000_000),
    maxBodyBytes: o.maxBodyBytes === undefined ? DEFAULT_MAX_BODY_BYTES : parseBytes('maxBodyBytes', o.maxBodyBytes),
    maxTokens: whole('maxTokens', o.maxTokens, DEFAULT_MAX_TOKENS, 1, 1_000_000),
    maxMessages: whole('maxMessages', o.maxMessages, DEFAULT_MAX_MESSAGES, 1, 1000),
    allowTools: o.allowTools === true,
    allowImages: o.allowImages === true,
    requireDocentPrompt: o.requireDocentPrompt === true,
    usage: o.usage !== false,
    timeoutMs: whole('timeoutMs', o.timeoutMs, DEFAULT_TIMEOUT_MS, 1, 3_600_000),
    logPrompts: o.logPrompts === true,
    log: o.log === false ? () => {} : o.log ?? ((line) => console.log(line)),
    fetch: o.fetch,
    now: typeof o.now === 'function' ? o.now : () => Date.now(),
  };
}
