// The LLM client's one error type, and the small text helpers its messages are made with.
// Must not: log anything, or put an API key into a message (callers redact before they quote).

/** How many characters of a provider's own error message are quoted. */
const MESSAGE_CHARS = 200;

/**
 * The one error type of the LLM client. `message` is user-facing text that says what happened
 * and what to do, and never contains the API key.
 */
export class LlmError extends Error {
  /**
   * @param {string} kind see `LlmErrorKind` in llm.d.ts
   * @param {string} message user-facing text
   * @param {{status?: number, partial?: string, endpoint?: string, provider?: string,
   *   retryAfterMs?: number, cause?: unknown}} [details]
   */
  constructor(kind, message, { status, partial = '', endpoint, provider, retryAfterMs, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'LlmError';
    /** 'auth' | 'not_found' | 'rate_limit' | 'server' | 'bad_request' | 'network' | 'cors' | 'timeout' | 'incomplete' | 'aborted' | 'protocol' | 'config' */
    this.kind = kind;
    /** The HTTP status when the endpoint answered with one. */
    this.status = status;
    /** The answer text received (and yielded) before the failure; '' when none. */
    this.partial = partial;
    /** The endpoint URL without query string or credentials (safe to show). */
    this.endpoint = endpoint;
    this.provider = provider;
    /** For 'rate_limit': how long the provider asked to wait, in ms, when it said. */
    this.retryAfterMs = retryAfterMs;
  }
}

/** An LlmError of kind 'config': an invalid option, named. */
export function configError(name, reason) {
  return new LlmError('config', `invalid ${name}: ${reason}`);
}

/** Whether this runs in Node (where there is no page to resolve relative URLs against). */
export function isNode() {
  return typeof process !== 'undefined' && process.versions != null && process.versions.node != null;
}

/** The page's (or worker's) URL in a browser; undefined elsewhere. */
export function pageHref() {
  if (isNode()) return undefined;
  const href = globalThis.location?.href;
  return typeof href === 'string' ? href : undefined;
}

/** One line, at most MESSAGE_CHARS characters. */
export function shorten(text) {
  const line = String(text).split(/\s+/).filter(Boolean).join(' ');
  const chars = [...line];
  return chars.length <= MESSAGE_CHARS ? line : `${chars.slice(0, MESSAGE_CHARS).join('')}…`;
}

/** `value` for a message: a string quoted and shortened, a number as is, else its type. */
export function quote(value) {
  if (typeof value === 'string') return `'${shorten(value)}'`;
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}

/** A URL safe to show: without user info, query or fragment. */
export function safeDisplay(url, base) {
  try {
    const u = new URL(url, base);
    return `${u.origin}${u.pathname}`;
  } catch {
    return quote(crudeDisplay(url));
  }
}

/** For a string that is not a URL: without query, fragment or anything up to an `@`, shortened. */
export function crudeDisplay(text) {
  const cut = String(text).trim().split(/[?#]/)[0];
  const at = cut.lastIndexOf('@');
  return shorten(at >= 0 ? cut.slice(at + 1) : cut);
}

/** A duration for a message: `800 ms`, `1.5 s`, `2 min`, or `ever` for Infinity. */
export function formatMs(ms) {
  if (!Number.isFinite(ms)) return 'ever';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s >= 120) return `${Math.ceil(s / 60)} min`;
  return Number.isInteger(s) ? `${s} s` : `${s.toFixed(1)} s`;
}
