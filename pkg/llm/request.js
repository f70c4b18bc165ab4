// Options and request of one streamAnswer call: every option checked (a 'config' LlmError naming
// it otherwise), the endpoint URL completed with the provider's path, and the request built in
// the provider's shape with the key only in its header.
// Must not: send anything, or put the key anywhere but that header.
import { LlmError, configError, crudeDisplay, pageHref, quote } from './errors.js';
import { DEFAULT_ENDPOINTS } from './endpoints.js';

export { DEFAULT_ENDPOINTS };

/** Default of `maxTokens`: 1024 answer tokens. */
const DEFAULT_MAX_TOKENS = 1024;
/** Default of `firstByteTimeoutMs`: 30 s. */
const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 30_000;
/** Default of `stallTimeoutMs`: 30 s. */
const DEFAULT_STALL_TIMEOUT_MS = 30_000;
/** Default of `maxRetryWaitMs`: 20 s. */
const DEFAULT_MAX_RETRY_WAIT_MS = 20_000;
const ANTHROPIC_VERSION = '2023-06-01';

/** Everything one call needs: validated options, the request, and the key to keep out of text. */
export function context(provider, o) {
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
export function endpointUrl(provider, endpoint) {
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
