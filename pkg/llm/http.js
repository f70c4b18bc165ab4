// The HTTP side of one streamAnswer call: sending the request (one polite retry on HTTP 429),
// turning every failure (status, network, CORS, timeout, cancellation) into an LlmError whose
// message says what to do, and the guard that races every await against the caller's signal and
// the timers.
// Must not: log anything, or put the key into a message (every outside text is redacted).
import { LlmError, formatMs, pageHref, quote, safeDisplay, shorten } from './errors.js';

/** The wait before the one retry when an HTTP 429 carries no usable Retry-After (capped by maxRetryWaitMs). */
const DEFAULT_RETRY_WAIT_MS = 1000;
/** How much of an error body is read. */
const MAX_ERROR_BODY = 64 * 1024;

/** Sends the request; on HTTP 429 waits once as asked and retries once. Returns a 2xx response. */
export async function open(ctx, guard) {
  let waitedMs;
  for (;;) {
    guard.arm('first-byte', ctx.firstByteTimeoutMs);
    let res;
    try {
      res = await guard.race(ctx.fetch ? ctx.fetch(ctx.url, { ...ctx.init, signal: guard.signal }) : globalThis.fetch(ctx.url, { ...ctx.init, signal: guard.signal }));
    } catch (e) {
      throw failure(ctx, guard, e, 'connect', '');
    }
    if (res.status >= 200 && res.status < 300) return res;
    const detail = await errorDetail(ctx, guard, res);
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    if (res.status === 429 && waitedMs === undefined && ctx.maxRetryWaitMs > 0) {
      const wait = retryAfterMs ?? Math.min(DEFAULT_RETRY_WAIT_MS, ctx.maxRetryWaitMs);
      if (wait <= ctx.maxRetryWaitMs) {
        try {
          await guard.race(sleep(wait, guard.signal));
        } catch (e) {
          throw failure(ctx, guard, e, 'connect', '');
        }
        waitedMs = wait;
        continue;
      }
    }
    throw statusError(ctx, res, { detail, retryAfterMs, waitedMs });
  }
}

/** The LlmError for a non-2xx response. */
function statusError(ctx, res, { detail, retryAfterMs, waitedMs }) {
  const status = res.status;
  const host = ctx.host;
  let kind;
  let reason;
  if (status === 401 || status === 403) {
    kind = 'auth';
    reason = ctx.hasKey
      ? `the API key was rejected${status === 403 ? ' or lacks permission' : ''} (HTTP ${status}): check the key for ${host}`
      : `no API key was sent and the endpoint requires one (HTTP ${status}): give a valid key for ${host}`;
  } else if (status === 404) {
    kind = 'not_found';
    reason = `not found (HTTP 404): check the endpoint URL and the model name ${quote(ctx.model)}`;
  } else if (status === 429) {
    kind = 'rate_limit';
    const when = retryAfterMs === undefined ? undefined : `try again in ${formatMs(retryAfterMs)}`;
    if (waitedMs !== undefined) {
      reason = `rate limited (HTTP 429) again after waiting ${formatMs(waitedMs)}: ${when ?? 'wait a while and try again, or check the account\'s rate limits'}`;
    } else if (ctx.maxRetryWaitMs === 0) {
      reason = `rate limited (HTTP 429): ${when ?? 'wait a moment and try again'}`;
    } else {
      reason = `rate limited (HTTP 429): the provider asks to wait ${formatMs(retryAfterMs)}, longer than maxRetryWaitMs (${formatMs(ctx.maxRetryWaitMs)}); ${when}`;
    }
  } else if (status >= 500 && status <= 599) {
    kind = 'server';
    reason = `the provider had an internal error (HTTP ${status}): try again later`;
  } else if (status === 413) {
    kind = 'bad_request';
    reason = 'the request is too large (HTTP 413): lower the prompt budget or the number of sources';
  } else if (status >= 400 && status <= 499) {
    kind = 'bad_request';
    reason = `the provider rejected the request (HTTP ${status}): check the model name ${quote(ctx.model)} and maxTokens (${ctx.maxTokens ?? 'not sent'})`;
  } else if ((status >= 300 && status <= 399) || res.type === 'opaqueredirect') {
    kind = 'not_found';
    const location = res.headers.get('location');
    const to = location ? ctx.redact(safeDisplay(location, ctx.url)) : 'another URL';
    reason = `the endpoint redirects${status ? ` (HTTP ${status})` : ''} to ${to}: use that URL as the endpoint`;
  } else {
    kind = 'protocol';
    reason = `unexpected response (HTTP ${status}): check the endpoint URL and the provider`;
  }
  if (detail) reason += `; the provider says: ${detail}`;
  return ctx.error(kind, reason, { status: status || undefined, retryAfterMs: kind === 'rate_limit' ? retryAfterMs : undefined });
}

/** The provider's own explanation in an error body, shortened and without the key; never throws. */
async function errorDetail(ctx, guard, res) {
  let text;
  try {
    text = await readText(res, guard, MAX_ERROR_BODY, ctx.stallTimeoutMs);
  } catch (e) {
    if (guard.why === 'caller') throw failure(ctx, guard, e, 'connect', '');
    return undefined;
  }
  return providerMessage(ctx.redact(text));
}

function providerMessage(body) {
  const text = body.trim();
  if (!text) return undefined;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return text.startsWith('<') ? undefined : shorten(text); // plain text is worth quoting, an HTML page is not
  }
  if (value === null || typeof value !== 'object') return shorten(String(value));
  const found = value.error ?? value.message ?? value.detail;
  return found == null ? undefined : errorText(found);
}

/** The message of a provider's error object (`{message, type}`, or a string). */
function errorText(error) {
  if (typeof error === 'string') return shorten(error);
  if (error && typeof error === 'object') {
    const m = typeof error.message === 'string' ? error.message : undefined;
    const t = typeof error.type === 'string' ? error.type : typeof error.code === 'string' ? error.code : undefined;
    if (m && t) return shorten(`${m} (${t})`);
    if (m || t) return shorten(m ?? t);
  }
  return shorten(JSON.stringify(error));
}

/** The LlmError kind of a provider's error `type` (Anthropic names; OpenAI codes fall back to 'server'). */
function kindOfErrorType(type) {
  switch (type) {
    case 'authentication_error':
    case 'permission_error':
    case 'invalid_api_key':
      return 'auth';
    case 'not_found_error':
    case 'model_not_found':
      return 'not_found';
    case 'rate_limit_error':
    case 'rate_limit_exceeded':
      return 'rate_limit';
    case 'invalid_request_error':
    case 'request_too_large':
      return 'bad_request';
    default:
      return 'server';
  }
}

/** An error the provider reported inside a 2xx response. */
export function providerError(ctx, error, partial, midStream) {
  const type = error && typeof error === 'object' ? error.type ?? error.code : undefined;
  const where = midStream ? 'mid-stream' : 'in its response';
  return ctx.error(kindOfErrorType(type), `the provider reported an error ${where}: ${ctx.redact(errorText(error))}`, { partial });
}

/** Maps a rejected fetch or read to an LlmError, by what interrupted it and where. */
export function failure(ctx, guard, e, phase, partial) {
  if (e instanceof LlmError) return e;
  const chars = partial.length;
  const got = chars ? `after ${chars} characters of answer` : 'before any answer text';
  if (guard.why === 'caller' || (!guard.why && ctx.signal?.aborted)) {
    return ctx.error('aborted', `cancelled by the caller ${phase === 'connect' ? 'before the answer started' : got}`, { partial, cause: ctx.signal?.reason });
  }
  if (guard.why === 'first-byte') {
    const what = phase === 'stream' ? 'the endpoint answered but sent no data' : 'no response';
    return ctx.error('timeout', `${what} within ${formatMs(ctx.firstByteTimeoutMs)} (firstByteTimeoutMs): the model may be loading or overloaded; try again or raise the timeout`, { partial });
  }
  if (guard.why === 'stall') {
    return ctx.error('timeout', `the stream stalled: no data for ${formatMs(ctx.stallTimeoutMs)} (stallTimeoutMs) ${got}; try again or raise the timeout`, { partial });
  }
  if (phase === 'stream') {
    return ctx.error('incomplete', `the stream was cut ${got} (${causeText(ctx, e)}): the answer is incomplete; try again`, { partial, cause: e });
  }
  return networkError(ctx, e);
}

/** A fetch that rejected before any response: 'cors' in a browser for a cross-origin endpoint, else 'network'. */
function networkError(ctx, e) {
  const host = ctx.host;
  if (pageHref() !== undefined) {
    const page = globalThis.location.origin; // 'null' for file: and sandboxed pages
    if (page !== ctx.origin) {
      const mixed = page.startsWith('https:') && ctx.origin.startsWith('http:') && !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:|$)/.test(ctx.origin)
        ? ' An https page may also not call a plain http:// endpoint (mixed content).'
        : '';
      return ctx.error('cors',
        `the browser could not complete the request to ${ctx.origin} (${causeText(ctx, e)}). Most likely the endpoint does not allow cross-origin requests from this page (CORS): it must answer the OPTIONS preflight with Access-Control-Allow-Origin: ${page} (or *), Access-Control-Allow-Methods: POST and Access-Control-Allow-Headers: ${ctx.headerNames.join(', ')}, and send Access-Control-Allow-Origin on its responses too (Ollama: set OLLAMA_ORIGINS; LM Studio: enable CORS).${mixed} A browser reports a blocked request and an unreachable server the same way, so this may also be a network failure: check that the server is running at that address.`,
        { cause: e });
    }
    return ctx.error('network', `could not reach ${host} (${causeText(ctx, e)}): check that the server is running and the endpoint URL is right`, { cause: e });
  }
  const cause = e?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  let reason;
  if (code === 'ECONNREFUSED') {
    reason = `could not connect to ${host}: connection refused (is the server running and listening on that port?)`;
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    reason = `could not connect to ${host}: the host name could not be resolved (check the spelling and the network)`;
  } else if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') {
    reason = `the connection to ${host} was closed before a response arrived (${causeText(ctx, e)}): try again, and check that the URL's http/https matches the server`;
  } else if (/CERT|TLS|SSL|SELF_SIGNED/.test(code)) {
    reason = `could not connect to ${host}: TLS error (${causeText(ctx, e)})`;
  } else {
    reason = `could not connect to ${host}: ${causeText(ctx, e)}`;
  }
  return ctx.error('network', reason, { cause: e });
}

/** What a runtime error says (with its cause), shortened, without the key. */
function causeText(ctx, e) {
  const inner = e?.cause?.message ?? e?.cause?.code;
  const outer = e?.message ?? String(e);
  return ctx.redact(shorten(inner && inner !== outer ? `${outer}: ${inner}` : outer));
}

// ---------------------------------------------------------------------------------------------
// Timeouts and cancellation

/** Raised inside by Guard; `failure` turns it into the right LlmError. */
export class Interrupt extends Error {}

/**
 * One call's cancellation: the caller's signal and our timers abort one internal controller
 * (which cancels the fetch and its body), and every await is raced against it so nothing waits
 * past an abort even if a fetch implementation ignores the signal.
 */
export class Guard {
  constructor(callerSignal) {
    this.controller = new AbortController();
    this.signal = this.controller.signal;
    /** Why it stopped: 'caller' | 'first-byte' | 'stall'; undefined while running. */
    this.why = undefined;
    this.timer = undefined;
    this.interrupted = new Promise((_, reject) => {
      this.reject = reject;
    });
    this.interrupted.catch(() => {});
    this.callerSignal = callerSignal;
    this.onAbort = () => this.stop('caller');
    callerSignal?.addEventListener('abort', this.onAbort, { once: true });
  }

  stop(why) {
    if (this.why) return;
    this.why = why;
    this.clear();
    this.reject(new Interrupt(why));
    this.controller.abort();
  }

  /** (Re)starts the timer; `ms` may be Infinity for none. */
  arm(why, ms) {
    this.clear();
    if (Number.isFinite(ms)) this.timer = setTimeout(() => this.stop(why), ms);
  }

  clear() {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Throws when stopped. */
  check() {
    if (this.why) throw new Interrupt(this.why);
  }

  /** `promise`, unless the guard stops first. */
  async race(promise) {
    this.check();
    const value = await Promise.race([promise, this.interrupted]);
    this.check(); // an abort wins over data that was already buffered
    return value;
  }

  dispose() {
    this.clear();
    this.callerSignal?.removeEventListener('abort', this.onAbort);
    if (!this.controller.signal.aborted) this.controller.abort(); // frees the connection if still open
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => clearTimeout(t), { once: true });
  });
}

/**
 * `Retry-After` in ms: seconds (a decimal is accepted) or an HTTP date (a past date is 0);
 * undefined when absent or unreadable.
 */
function parseRetryAfter(value) {
  if (value == null) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Reads a whole body as text (at most `limit` bytes); each read may take up to `stallMs`. */
export async function readText(res, guard, limit, stallMs) {
  if (!res.body) {
    guard.arm('stall', stallMs);
    const text = await guard.race(res.text());
    guard.clear();
    return text.slice(0, limit);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  try {
    for (;;) {
      guard.arm('stall', stallMs);
      const { done, value } = await guard.race(reader.read());
      if (done) break;
      bytes += value.length;
      text += decoder.decode(value, { stream: true });
      if (bytes >= limit) break;
    }
    return text + decoder.decode();
  } finally {
    guard.clear();
    reader.cancel().catch(() => {});
  }
}
