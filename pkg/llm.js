// The LLM client of the docent npm package (browser and Node >= 18, no dependencies).
//
// Owns: streaming an answer from an OpenAI-compatible or Anthropic Messages endpoint (request,
// Server-Sent Events parsing, timeouts, one polite retry on HTTP 429, cancellation), the
// extractive "offline" answer built from a prompt's sources without any LLM, and splitting an
// answer into text and citation links that a UI renders with DOM nodes (never innerHTML).
// Must not: search, assemble prompts (the wasm engine does), touch the DOM, log anything, or ever
// put the API key into an error message, a URL or the console.
//
// Usage:
//   import { streamAnswer, LlmError } from 'docent/llm';
//   const prompt = docent.assemble(question, { k: 5 });
//   try {
//     for await (const delta of streamAnswer({ provider: 'openai', endpoint: 'http://127.0.0.1:11434/v1',
//       model: 'llama3.2', messages: prompt.messages, signal })) out.append(delta);
//   } catch (e) {
//     if (e instanceof LlmError) show(e.kind, e.message, e.partial); else throw e;
//   }
//
// Behaviour worth knowing (mirrors the native client, src/llm.rs, except where noted):
// - A stream that stops before its end marker (`data: [DONE]` / `message_stop`) throws an
//   LlmError of kind 'incomplete' (cut, or ended early) or 'timeout' (stalled); its `partial`
//   holds the text received so far, which was also yielded. The native client returns such a
//   stream as an incomplete completion instead; an iterator cannot, so here it is an error.
// - An OpenAI-compatible stream that sent a `finish_reason` and then ended without `[DONE]` counts
//   as complete (some servers omit `[DONE]`).
// - A `data:` payload that is not valid JSON is skipped and counted (`skippedEvents` in the
//   generator's return value). A stream in which no payload at all was valid JSON is a 'protocol'
//   error, whether or not it ended with its end marker.
// - A 2xx response with a JSON body instead of an event stream (a server that ignores
//   `stream: true`) is read as a whole answer and yielded once.

/** Default of `maxTokens`: 1024 answer tokens. */
const DEFAULT_MAX_TOKENS = 1024;
/** Default of `firstByteTimeoutMs`: 30 s. */
const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 30_000;
/** Default of `stallTimeoutMs`: 30 s. */
const DEFAULT_STALL_TIMEOUT_MS = 30_000;
/** Default of `maxRetryWaitMs`: 20 s. */
const DEFAULT_MAX_RETRY_WAIT_MS = 20_000;
/** Default endpoints when `endpoint` is not given. */
export const DEFAULT_ENDPOINTS = Object.freeze({
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
});
/** What the offline provider answers when the sources do not cover the question. */
export const NOT_IN_DOCUMENTS = 'The documents do not cover this question.';

/** The wait before the one retry when an HTTP 429 carries no usable Retry-After (capped by maxRetryWaitMs). */
const DEFAULT_RETRY_WAIT_MS = 1000;
const ANTHROPIC_VERSION = '2023-06-01';
/** How many characters of a provider's own error message are quoted. */
const MESSAGE_CHARS = 200;
/** How much of an error body is read. */
const MAX_ERROR_BODY = 64 * 1024;
/** How much of a non-streamed JSON answer is read. */
const MAX_JSON_BODY = 4 * 1024 * 1024;
/** Longest SSE line accepted (characters); a longer one is a 'protocol' error. */
const MAX_LINE = 1024 * 1024;
const PROVIDERS = ['openai', 'anthropic', 'offline'];

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

/**
 * Streams an answer as text deltas. See llm.d.ts (`StreamOptions`) for every option, its default
 * and range. Errors are `LlmError`s, thrown from the iteration (the first `next()` for bad
 * options). The generator's return value (seen only by calling `next()` by hand) is
 * `{text, stopReason, skippedEvents}`.
 * @param {import('./llm.d.ts').StreamOptions} options
 * @returns {AsyncGenerator<string, import('./llm.d.ts').Completion, void>}
 */
export async function* streamAnswer(options) {
  const o = options ?? {};
  const provider = typeof o.provider === 'string' ? o.provider.trim().toLowerCase() : o.provider ?? 'openai';
  if (!PROVIDERS.includes(provider)) {
    throw configError('provider', `expected 'openai' (or any OpenAI-compatible server), 'anthropic' or 'offline', found ${quote(provider)}`);
  }
  if (provider === 'offline') return yield* streamOffline(o);
  const ctx = context(provider, o);
  if (o.signal?.aborted) throw ctx.error('aborted', 'cancelled by the caller before the request was sent', { cause: o.signal.reason });
  const guard = new Guard(o.signal);
  try {
    const res = await open(ctx, guard);
    return yield* readAnswer(ctx, guard, res);
  } finally {
    guard.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Options and request

/** Everything one call needs: validated options, the request, and the key to keep out of text. */
function context(provider, o) {
  const url = endpointUrl(provider, o.endpoint ?? DEFAULT_ENDPOINTS[provider]);
  const key = typeof o.apiKey === 'string' ? o.apiKey.trim() : o.apiKey == null ? '' : null;
  if (key === null) throw configError('apiKey', `expected a string, found ${typeof o.apiKey}`);
  if (key && !/^[\x21-\x7e]+$/.test(key)) {
    throw configError('apiKey', 'the key contains spaces, control or non-ASCII characters, which an HTTP header cannot carry: check that it was copied whole and alone');
  }
  if (typeof o.model !== 'string' || o.model.trim() === '') {
    throw configError('model', `expected a model name, found ${o.model === undefined ? 'none' : quote(o.model)}`);
  }
  const maxTokens = o.maxTokens === undefined ? DEFAULT_MAX_TOKENS : o.maxTokens;
  if (maxTokens !== null && !(Number.isSafeInteger(maxTokens) && maxTokens >= 1)) {
    throw configError('maxTokens', `expected a whole number ≥ 1 (or null to leave it to an OpenAI-compatible server), found ${quote(maxTokens)}`);
  }
  if (o.temperature !== undefined && !(typeof o.temperature === 'number' && Number.isFinite(o.temperature) && o.temperature >= 0)) {
    throw configError('temperature', `expected a finite number ≥ 0, found ${quote(o.temperature)}`);
  }
  const firstByteTimeoutMs = duration('firstByteTimeoutMs', o.firstByteTimeoutMs, DEFAULT_FIRST_BYTE_TIMEOUT_MS, false);
  const stallTimeoutMs = duration('stallTimeoutMs', o.stallTimeoutMs, DEFAULT_STALL_TIMEOUT_MS, false);
  const maxRetryWaitMs = duration('maxRetryWaitMs', o.maxRetryWaitMs, DEFAULT_MAX_RETRY_WAIT_MS, true);
  if (o.fetch !== undefined && typeof o.fetch !== 'function') throw configError('fetch', `expected a function, found ${typeof o.fetch}`);
  if (o.fetch === undefined && typeof globalThis.fetch !== 'function') {
    throw configError('fetch', 'this JavaScript runtime has no global fetch (Node >= 18 and browsers do): pass options.fetch');
  }
  const messages = checkMessages(o.messages ?? o.prompt?.messages);

  const headers = { 'content-type': 'application/json', accept: 'text/event-stream' };
  let body;
  if (provider === 'openai') {
    if (key) headers.authorization = `Bearer ${key}`;
    body = { model: o.model, messages: messages.map(({ role, content }) => ({ role, content })), stream: true };
    if (maxTokens !== null) body.max_tokens = maxTokens;
  } else {
    if (key) headers['x-api-key'] = key;
    headers['anthropic-version'] = ANTHROPIC_VERSION;
    headers['anthropic-dangerous-direct-browser-access'] = 'true';
    const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => m.content);
    const turns = messages.filter((m) => m.role === 'user' || m.role === 'assistant').map(({ role, content }) => ({ role, content }));
    if (turns.length === 0) {
      throw configError('messages', 'Anthropic needs at least one user message besides the system messages, found none');
    }
    body = { model: o.model, max_tokens: maxTokens ?? DEFAULT_MAX_TOKENS, messages: turns, stream: true };
    if (system.length) body.system = system.join('\n\n');
  }
  if (o.temperature !== undefined) body.temperature = o.temperature;

  // The key is redacted from every text that comes from outside (the endpoint, the model name,
  // provider and runtime messages) where it is inserted, and from the whole message as well when
  // it is long enough (8+ characters) not to mangle ordinary words.
  const redact = (text) => (key ? String(text).split(key).join('<redacted>') : String(text));
  const display = redact(`${url.origin}${url.pathname}`);
  return {
    provider,
    url: url.href,
    display,
    origin: redact(url.origin),
    host: redact(url.host),
    model: redact(o.model),
    hasKey: key !== '',
    maxTokens,
    headerNames: Object.keys(headers).filter((h) => h !== 'accept'),
    init: { method: 'POST', headers, body: JSON.stringify(body), redirect: 'manual', cache: 'no-store' },
    fetch: o.fetch,
    signal: o.signal,
    firstByteTimeoutMs,
    stallTimeoutMs,
    maxRetryWaitMs,
    redact,
    /** An LlmError about this endpoint: `LLM endpoint <url>: <reason>`, without the key. */
    error(kind, reason, details = {}) {
      const message = `LLM endpoint ${display}: ${reason}`;
      return new LlmError(kind, key.length >= 8 ? redact(message) : message, {
        ...details,
        partial: details.partial ?? '',
        endpoint: display,
        provider,
      });
    },
  };
}

function configError(name, reason) {
  return new LlmError('config', `invalid ${name}: ${reason}`);
}

function duration(name, value, fallback, zeroOk) {
  if (value === undefined) return fallback;
  const ok = typeof value === 'number' && !Number.isNaN(value) && (zeroOk ? value >= 0 : value > 0);
  if (!ok) throw configError(name, `expected a number of milliseconds ${zeroOk ? '≥ 0' : '> 0'} (Infinity for no limit), found ${quote(value)}`);
  return value;
}

function checkMessages(messages) {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw configError('messages', 'expected a non-empty array of {role, content} (a prompt\'s `messages`), found ' + (Array.isArray(messages) ? 'an empty array' : typeof messages));
  }
  messages.forEach((m, i) => {
    if (m === null || typeof m !== 'object' || typeof m.content !== 'string') {
      throw configError('messages', `message ${i} is not {role, content} with a string content`);
    }
    if (!['system', 'developer', 'user', 'assistant'].includes(m.role)) {
      throw configError('messages', `message ${i} has role ${quote(m.role)}; expected system, user or assistant`);
    }
  });
  return messages;
}

/**
 * The URL a request goes to: `endpoint` completed with the provider's path. OpenAI-compatible:
 * `<base>/chat/completions` unless it already ends so. Anthropic: `<base>/v1/messages`, or
 * `<base>/messages` when the base ends with `/v1`, or as is when it ends with `/messages`. Query
 * strings are kept; user info and fragments are dropped. In a browser a path starting with `/`
 * (a same-origin proxy) is resolved against the page.
 */
function endpointUrl(provider, endpoint) {
  const example = DEFAULT_ENDPOINTS[provider];
  const text = typeof endpoint === 'string' ? endpoint.trim() : '';
  const bad = (what) => configError('endpoint', `expected an http:// or https:// URL such as ${example}, found ${quote(crudeDisplay(text || String(endpoint)))} (${what})`);
  if (!text) throw bad('empty');
  const page = pageHref();
  let url;
  try {
    url = text.startsWith('/') && !text.startsWith('//') && page ? new URL(text, page) : new URL(text);
  } catch {
    throw bad('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('unsupported scheme');
  if (!url.hostname) throw bad('no host');
  url.username = '';
  url.password = '';
  url.hash = '';
  let path = url.pathname.replace(/\/+$/, '');
  if (provider === 'openai') {
    if (!path.endsWith('/chat/completions')) path += '/chat/completions';
  } else if (!path.endsWith('/messages')) {
    path += path.endsWith('/v1') ? '/messages' : '/v1/messages';
  }
  url.pathname = path;
  return url;
}

/** Sends the request; on HTTP 429 waits once as asked and retries once. Returns a 2xx response. */
async function open(ctx, guard) {
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
function providerError(ctx, error, partial, midStream) {
  const type = error && typeof error === 'object' ? error.type ?? error.code : undefined;
  const where = midStream ? 'mid-stream' : 'in its response';
  return ctx.error(kindOfErrorType(type), `the provider reported an error ${where}: ${ctx.redact(errorText(error))}`, { partial });
}

/** Maps a rejected fetch or read to an LlmError, by what interrupted it and where. */
function failure(ctx, guard, e, phase, partial) {
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
class Interrupt extends Error {}

/**
 * One call's cancellation: the caller's signal and our timers abort one internal controller
 * (which cancels the fetch and its body), and every await is raced against it so nothing waits
 * past an abort even if a fetch implementation ignores the signal.
 */
class Guard {
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

// ---------------------------------------------------------------------------------------------
// Reading the answer

/** Reads a whole body as text (at most `limit` bytes); each read may take up to `stallMs`. */
async function readText(res, guard, limit, stallMs) {
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

async function* readAnswer(ctx, guard, res) {
  const type = (res.headers.get('content-type') ?? '').toLowerCase();
  if (type.includes('json') && !type.includes('event-stream')) {
    return yield* wholeAnswer(ctx, guard, res);
  }
  if (type && !type.includes('event-stream') && !type.startsWith('text/plain')) {
    throw ctx.error('protocol', `expected an event stream (text/event-stream) but the endpoint sent ${shorten(type)}: check the endpoint URL (it may point at a web page rather than the API)`, { status: res.status });
  }
  const state = { text: '', valid: 0, skipped: 0, finished: false, stopReason: undefined };
  const handle = ctx.provider === 'openai' ? openaiEvent : anthropicEvent;
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = res.body ? res.body.getReader() : textReader(await res.text());
  let first = true;
  try {
    for (;;) {
      if (!first) guard.arm('stall', ctx.stallTimeoutMs); // the first read runs on the first-byte timer
      first = false;
      let chunk;
      try {
        chunk = await guard.race(reader.read());
      } catch (e) {
        throw failure(ctx, guard, e, 'stream', state.text);
      }
      guard.clear();
      const events = chunk.done ? parser.end(decoder.decode()) : parser.push(decoder.decode(chunk.value, { stream: true }));
      if (events === null) {
        throw ctx.error('protocol', `a line of the event stream is longer than ${MAX_LINE} characters: check that the endpoint streams Server-Sent Events`, { partial: state.text });
      }
      for (const event of events) {
        const step = handle(ctx, event, state);
        if (step.text) {
          state.text += step.text;
          yield step.text;
          guard.check(); // the caller may have aborted while it had the text
        }
        if (step.done) return finish(ctx, state);
      }
      if (chunk.done) return ended(ctx, state);
    }
  } catch (e) {
    throw e instanceof Interrupt ? failure(ctx, guard, e, 'stream', state.text) : e;
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** The end marker arrived. */
function finish(ctx, state) {
  if (state.valid === 0 && state.skipped > 0) {
    throw ctx.error('protocol', `the response stream ended without one valid event (${state.skipped} data ${state.skipped === 1 ? 'line was' : 'lines were'} not valid JSON): check that the endpoint speaks the '${ctx.provider}' protocol`);
  }
  return { text: state.text, stopReason: state.stopReason, skippedEvents: state.skipped };
}

/** The body ended without the end marker. */
function ended(ctx, state) {
  if (state.finished) return finish(ctx, state);
  if (state.valid === 0 && !state.text) {
    throw ctx.error('protocol', state.skipped > 0
      ? `the response stream ended without one valid event (${state.skipped} data ${state.skipped === 1 ? 'line was' : 'lines were'} not valid JSON): check that the endpoint speaks the '${ctx.provider}' protocol`
      : `the response stream ended before any event arrived: check that the endpoint speaks the '${ctx.provider}' protocol and streams Server-Sent Events`);
  }
  const marker = ctx.provider === 'openai' ? 'data: [DONE]' : 'message_stop';
  const got = state.text ? `after ${state.text.length} characters of answer` : 'before any answer text';
  throw ctx.error('incomplete', `the stream ended without its end marker (${marker}) ${got}: the answer is incomplete; try again`, { partial: state.text });
}

function parseData(data, state) {
  try {
    const value = JSON.parse(data);
    state.valid += 1;
    return value;
  } catch {
    state.skipped += 1;
    return undefined;
  }
}

const CONTINUE = Object.freeze({});
const DONE = Object.freeze({ done: true });

function openaiEvent(ctx, event, state) {
  const data = event.data.trim();
  if (data === '[DONE]') return DONE;
  if (!data) return CONTINUE;
  const value = parseData(data, state);
  if (value === undefined || value === null || typeof value !== 'object') return CONTINUE;
  if (value.error != null) throw providerError(ctx, value.error, state.text, true);
  const choice = Array.isArray(value.choices) ? value.choices[0] : undefined;
  if (!choice) return CONTINUE;
  if (choice.finish_reason) {
    state.stopReason = String(choice.finish_reason);
    state.finished = true;
  }
  const text = choice.delta?.content;
  return typeof text === 'string' && text ? { text } : CONTINUE;
}

function anthropicEvent(ctx, event, state) {
  const data = event.data.trim();
  if (!data) return event.event === 'message_stop' ? DONE : CONTINUE;
  const value = parseData(data, state);
  if (value === undefined || value === null || typeof value !== 'object') {
    if (event.event === 'error') throw providerError(ctx, data, state.text, true);
    return CONTINUE;
  }
  switch (event.event || value.type) {
    case 'content_block_delta':
      if (value.delta?.type === 'text_delta' && typeof value.delta.text === 'string' && value.delta.text) {
        return { text: value.delta.text };
      }
      return CONTINUE;
    case 'message_delta':
      if (typeof value.delta?.stop_reason === 'string') state.stopReason = value.delta.stop_reason;
      return CONTINUE;
    case 'message_stop':
      return DONE;
    case 'error':
      throw providerError(ctx, value.error ?? value, state.text, true);
    default:
      return CONTINUE;
  }
}

/** A 2xx response that is one JSON document rather than an event stream. */
async function* wholeAnswer(ctx, guard, res) {
  let body;
  try {
    body = await readText(res, guard, MAX_JSON_BODY, ctx.stallTimeoutMs);
  } catch (e) {
    throw failure(ctx, guard, e, 'stream', '');
  }
  let value;
  try {
    value = JSON.parse(body);
  } catch {
    throw ctx.error('protocol', 'the response was declared JSON but is not valid JSON: check the endpoint URL', { status: res.status });
  }
  if (value?.error != null) throw providerError(ctx, value.error, '', false);
  let text;
  let stopReason;
  if (ctx.provider === 'openai') {
    const choice = value?.choices?.[0];
    text = choice?.message?.content;
    stopReason = choice?.finish_reason ?? undefined;
  } else if (Array.isArray(value?.content)) {
    text = value.content.filter((b) => b?.type === 'text' && typeof b.text === 'string').map((b) => b.text).join('');
    stopReason = value.stop_reason ?? undefined;
  }
  if (typeof text !== 'string') {
    throw ctx.error('protocol', `the response is JSON without an answer in it (expected an '${ctx.provider}' response): check the endpoint URL and the provider`, { status: res.status });
  }
  if (text) yield text;
  return { text, stopReason, skippedEvents: 0 };
}

function textReader(text) {
  let sent = false;
  return {
    read: async () => (sent ? { done: true, value: undefined } : ((sent = true), { done: false, value: new TextEncoder().encode(text) })),
    cancel: async () => {},
  };
}

/**
 * Server-Sent Events parser fed with decoded text in arbitrary pieces. Lines end with `\n`,
 * `\r\n` or `\r` (a `\r\n` split across pieces counts once); `:` lines are comments; `data:` lines
 * of one event are joined with `\n`; `event:` names it; other fields are ignored. An event is
 * dispatched at a blank line, and also at the end of the stream without one (more lenient than
 * the specification, as servers often omit the final blank line after `[DONE]`).
 */
class SseParser {
  constructor() {
    this.buffer = '';
    this.skipLf = false;
    this.data = [];
    this.event = '';
  }

  /** Events completed by `text`; null when a line exceeds MAX_LINE. Scans only the new text. */
  push(text) {
    const events = [];
    let start = 0;
    if (this.skipLf && text.length) {
      if (text.charCodeAt(0) === 10) start = 1;
      this.skipLf = false;
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer + text.slice(start, i), events);
      this.buffer = '';
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.skipLf = true;
        }
      }
      start = i + 1;
    }
    this.buffer += text.slice(start);
    return this.buffer.length > MAX_LINE ? null : events;
  }

  /** The events left at the end of the stream (after `rest`, the decoder's tail). */
  end(rest = '') {
    const events = this.push(rest);
    if (events === null) return null;
    if (this.buffer) this.line(this.buffer, events);
    this.buffer = '';
    this.line('', events);
    return events;
  }

  line(line, events) {
    if (line === '') {
      if (this.data.length) events.push({ event: this.event, data: this.data.join('\n') });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}

// ---------------------------------------------------------------------------------------------
// Offline (extractive) answers

/** Words that carry no topic: left out of the question's terms. */
const STOPWORDS = new Set(('a about after all also am an and any are as at be been before being both but by can could ' +
  'did do does doing done for from get got had has have having he her here him his how i if in into is it its ' +
  'just me more most my no nor not of off on once only or other our out over own please same she should so some ' +
  'such tell than that the their them then there these they this those through to too under until up very was ' +
  'we were what when where which while who whom why will with would you your yours explain describe').split(' '));

/**
 * The extractive answer of the "offline" provider: no LLM. Splits the prompt's sources into
 * sentences, scores each by how many distinct terms of the question it contains (plus a quarter
 * point per term found in its source's title or heading), and keeps the best 2 to 4 (fewer when
 * fewer match; a sentence scoring under half the best one is dropped once two are kept), in
 * document order, each followed by its source's `[n]`. Deterministic: ties go to the better
 * ranked source, then the earlier sentence.
 * @param {{sources: Array<{n?: number, title?: string, heading?: string, text: string}>, abstained?: boolean, user?: string}} prompt
 *   an assembled prompt (`docent.assemble(...)`)
 * @param {string} [question] the question; default: read from the prompt's `Question:` line (the
 *   default template's), so pass it when the template was changed
 * @returns {{text: string, abstained: boolean}} `abstained` when the prompt abstained or no
 *   sentence matched; `text` is then NOT_IN_DOCUMENTS
 */
export function offlineAnswer(prompt, question) {
  if (prompt === null || typeof prompt !== 'object' || !Array.isArray(prompt.sources)) {
    throw configError('prompt', 'expected an assembled prompt with a `sources` array (docent.assemble(question))');
  }
  const none = { text: NOT_IN_DOCUMENTS, abstained: true };
  if (prompt.abstained || prompt.sources.length === 0) return none;
  const q = typeof question === 'string' ? question : questionOf(prompt.user);
  const terms = new Set(words(q).filter((w) => !STOPWORDS.has(w)).map(stem));
  if (terms.size === 0) return none;

  const candidates = [];
  prompt.sources.forEach((source, rank) => {
    if (source === null || typeof source !== 'object' || typeof source.text !== 'string') return;
    const n = Number.isSafeInteger(source.n) ? source.n : rank + 1;
    const label = new Set(words(`${source.title ?? ''} ${source.heading ?? ''}`).map(stem));
    sentences(source.text).forEach((sentence, pos) => {
      const own = new Set(words(sentence).map(stem));
      let matched = 0;
      let labelled = 0;
      for (const t of terms) {
        if (own.has(t)) matched += 1;
        else if (label.has(t)) labelled += 1;
      }
      if (matched > 0) candidates.push({ sentence, n, rank, pos, score: matched + 0.25 * labelled });
    });
  });
  if (candidates.length === 0) return none;
  candidates.sort((a, b) => b.score - a.score || a.rank - b.rank || a.pos - b.pos);
  const best = candidates[0].score;
  const kept = [];
  const seen = new Set();
  // The retriever ranked the first source best (dense + lexical): its best sentence leads even
  // when a sentence of a later source shares more words with the question.
  const lead = candidates.find((c) => c.rank === 0);
  if (lead) {
    kept.push(lead);
    seen.add(lead.sentence.toLowerCase());
  }
  for (const c of candidates) {
    if (kept.length === 4 || (kept.length >= 2 && c.score < best / 2)) break;
    const key = c.sentence.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(c);
  }
  kept.sort((a, b) => a.rank - b.rank || a.pos - b.pos);
  return { text: kept.map((c) => cite(c.sentence, c.n)).join(' '), abstained: false };
}

async function* streamOffline(o) {
  const { text, abstained } = offlineAnswer(o.prompt, o.question);
  // Yield a sentence (with its citation) at a time, so the page renders it like a stream.
  const pieces = abstained ? [text] : text.match(/.*?\[\d+\][.!?]?(?:\s+|$)|.+$/gs) ?? [text];
  let sent = '';
  for (const piece of pieces) {
    if (o.signal?.aborted) {
      throw new LlmError('aborted', `offline answer: cancelled by the caller after ${sent.length} characters of answer`, { partial: sent, provider: 'offline', cause: o.signal.reason });
    }
    await Promise.resolve();
    sent += piece;
    yield piece;
  }
  return { text, stopReason: abstained ? 'abstained' : 'stop', skippedEvents: 0 };
}

/** The question in a prompt built from the default template (its last `Question:` line). */
function questionOf(user) {
  if (typeof user !== 'string') return '';
  const all = [...user.matchAll(/(?:^|\n)Question:[ \t]*([^\n]*)/g)];
  return all.length ? all[all.length - 1][1] : '';
}

function words(text) {
  return (String(text).toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 1 || /\d/.test(w));
}

/** A crude English stemmer, enough to match "watering"/"waters" with "water". */
function stem(w) {
  if (w.length > 5 && w.endsWith('ing')) return w.slice(0, -3);
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && /(?:ss|x|z|ch|sh|o)es$/.test(w)) return w.slice(0, -2);
  if (w.length > 4 && w.endsWith('ed')) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

/** Markdown line markers: headings, list items, quotes. */
const LINE_MARKER = /^\s*(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s*)/;

/**
 * A source's text as sentences. Paragraphs are separated by blank lines; inside one, a line
 * continues the previous one (hard-wrapped text) unless it starts with a Markdown heading, list
 * or quote marker. A short line without punctuation (a title) is left out. Sentences end at `.`,
 * `!` or `?` followed by a capital, a digit or an opening quote.
 */
function sentences(text) {
  const out = [];
  for (const paragraph of text.split(/\n[ \t]*\n/)) {
    const lines = [];
    for (const raw of paragraph.split('\n')) {
      const marked = LINE_MARKER.test(raw);
      const line = raw.replace(LINE_MARKER, '').trim();
      if (!line) continue;
      if (marked || lines.length === 0) lines.push(line);
      else lines[lines.length - 1] += ` ${line}`;
    }
    for (const line of lines) {
      if (!/[.!?…:;]/.test(line) && line.split(/\s+/).length < 6) continue;
      for (let s of line.split(/(?<=[.!?]["')\]]?)\s+(?=["'(\[]?[\p{Lu}\p{N}])/u)) {
        s = s.trim();
        if (s.length < 8 || !/\s/.test(s)) continue;
        if (s.length > 400) s = `${s.slice(0, 400).replace(/\s+\S*$/, '')} …`;
        out.push(s);
      }
    }
  }
  return out;
}

/** `sentence` with ` [n]` before its final `.`, `!` or `?` (after it otherwise). */
function cite(sentence, n) {
  const m = /^(.*?)([.!?]+)$/s.exec(sentence);
  return m ? `${m[1]} [${n}]${m[2]}` : `${sentence} [${n}]`;
}

// ---------------------------------------------------------------------------------------------
// Rendering citations safely

/**
 * Splits an answer into plain text and citation segments, for rendering with text nodes and
 * `<a>` elements (never innerHTML). A citation is `[n]` with n a source's number (its `n`, else
 * its position from 1); any other bracket, `[0]`, `[01]` or a number without a source stays
 * text. The link of a citation comes only from the source (`safeHref(source.url, base)`), never
 * from the answer, so `[1](javascript:…)` in an answer is a citation followed by plain text.
 * @param {string} text the answer
 * @param {Array<{n?: number, url?: string}>} sources the prompt's sources
 * @param {{base?: string | URL}} [options] base for relative source URLs; default the page's URL
 * @returns {Array<{text: string} | {text: string, n: number, href: string | null}>} adjacent
 *   text is merged; `href` is null when the source's URL is not safe to link
 */
export function citationSegments(text, sources, { base } = {}) {
  const answer = typeof text === 'string' ? text : String(text ?? '');
  const byNumber = new Map();
  (Array.isArray(sources) ? sources : []).forEach((s, i) => {
    if (s === null || typeof s !== 'object') return;
    byNumber.set(Number.isSafeInteger(s.n) ? s.n : i + 1, s);
  });
  const out = [];
  let plain = '';
  let last = 0;
  for (const m of answer.matchAll(/\[([1-9]\d{0,3})\]/g)) {
    const n = Number(m[1]);
    const source = byNumber.get(n);
    if (!source) continue;
    plain += answer.slice(last, m.index);
    if (plain) out.push({ text: plain });
    plain = '';
    out.push({ text: m[0], n, href: safeHref(source.url, base) });
    last = m.index + m[0].length;
  }
  plain += answer.slice(last);
  if (plain) out.push({ text: plain });
  return out;
}

/**
 * A link target that is safe to put in `href`: the absolute URL when `url` is an http(s) URL, or
 * a relative URL that resolves against `base` (default: the page's URL) to the same origin;
 * otherwise null: other schemes (`javascript:`, `data:`, `vbscript:`, `file:`…, however they are
 * cased or prefixed with spaces and control characters), protocol-relative or backslash tricks
 * that leave the base's origin, URLs with user info, and relative URLs without a base.
 * @param {string} url
 * @param {string | URL} [base]
 * @returns {string | null}
 */
export function safeHref(url, base) {
  if (typeof url !== 'string') return null;
  let baseUrl;
  const b = base ?? pageHref();
  if (b !== undefined) {
    try {
      baseUrl = new URL(String(b));
    } catch {
      baseUrl = undefined;
    }
  }
  let absolute = true;
  try {
    new URL(url);
  } catch {
    absolute = false;
  }
  let u;
  try {
    u = new URL(url, baseUrl);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  if (u.username || u.password) return null;
  if (!absolute && u.origin !== baseUrl?.origin) return null;
  return u.href;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function isNode() {
  return typeof process !== 'undefined' && process.versions != null && process.versions.node != null;
}

/** The page's (or worker's) URL in a browser; undefined elsewhere. */
function pageHref() {
  if (isNode()) return undefined;
  const href = globalThis.location?.href;
  return typeof href === 'string' ? href : undefined;
}

/** One line, at most MESSAGE_CHARS characters. */
function shorten(text) {
  const line = String(text).split(/\s+/).filter(Boolean).join(' ');
  const chars = [...line];
  return chars.length <= MESSAGE_CHARS ? line : `${chars.slice(0, MESSAGE_CHARS).join('')}…`;
}

function quote(value) {
  if (typeof value === 'string') return `'${shorten(value)}'`;
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}

/** A URL safe to show: without user info, query or fragment. */
function safeDisplay(url, base) {
  try {
    const u = new URL(url, base);
    return `${u.origin}${u.pathname}`;
  } catch {
    return quote(crudeDisplay(url));
  }
}

/** For a string that is not a URL: without query, fragment or anything up to an `@`, shortened. */
function crudeDisplay(text) {
  const cut = String(text).trim().split(/[?#]/)[0];
  const at = cut.lastIndexOf('@');
  return shorten(at >= 0 ? cut.slice(at + 1) : cut);
}

function formatMs(ms) {
  if (!Number.isFinite(ms)) return 'ever';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s >= 120) return `${Math.ceil(s / 60)} min`;
  return Number.isInteger(s) ? `${s} s` : `${s.toFixed(1)} s`;
}
