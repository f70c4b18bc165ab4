// The upstream side of one request: send the checked body with the owner's key, pass the answer
// through as it arrives (the upstream body is piped, read only as fast as the client reads it,
// with no buffer of its own), note the tokens the stream reports, and turn every upstream failure
// (status, network, timeout) into a `{error: {type, message}}` whose status makes the widget's
// LLM client say the usual one sentence (pkg/llm/http.js: 5xx "the provider had an internal
// error", 429 "rate limited", 4xx "the provider rejected the request").
// Must not: forward anything of the client's request but the checked body, or put the key
// anywhere but the upstream request's header (upstream texts quoted back are redacted).
import { Refusal } from './body.js';
import { formatMs, shorten } from '../llm/errors.js';

const ANTHROPIC_VERSION = '2023-06-01';
/** How much of an upstream error body is read. */
const MAX_ERROR_BODY = 64 * 1024;
/** A line of the event stream longer than this is not looked at for usage. */
const MAX_LINE = 256 * 1024;

/**
 * Sends `body` upstream. Returns `{response}` (a 2xx whose body is being passed through; `done`
 * settles with `{end, tokens}` when it ends) or a Refusal.
 * @param {object} o checked options
 * @param {object} body the checked body
 * @param {string} key the owner's key ('' or 'none' for none)
 * @param {AbortSignal} clientSignal aborted when the client goes away
 */
export async function forward(o, body, key, clientSignal) {
  const controller = new AbortController();
  let why;
  const stop = (reason) => {
    why ??= reason;
    controller.abort();
  };
  const onClient = () => stop('client');
  if (clientSignal?.aborted) stop('client');
  clientSignal?.addEventListener('abort', onClient, { once: true });
  let timer = setTimeout(() => stop('timeout'), o.timeoutMs);
  const release = () => {
    clearTimeout(timer);
    clientSignal?.removeEventListener('abort', onClient);
  };
  const redact = (text) => (key && key !== 'none' ? String(text).split(key).join('<redacted>') : String(text));

  const headers = { 'content-type': 'application/json', accept: body.stream ? 'text/event-stream' : 'application/json' };
  if (o.provider === 'openai') {
    if (key && key !== 'none') headers.authorization = `Bearer ${key}`;
  } else {
    if (key && key !== 'none') headers['x-api-key'] = key;
    headers['anthropic-version'] = ANTHROPIC_VERSION;
  }
  let res;
  try {
    const send = o.fetch ?? globalThis.fetch;
    res = await send(o.upstream, { method: 'POST', headers, body: JSON.stringify(body), signal: controller.signal, redirect: 'manual' });
  } catch (e) {
    release();
    if (why === 'client') return new Refusal(499, 'client_closed', 'the client went away before the provider answered');
    if (why === 'timeout') return new Refusal(504, 'upstream_timeout', `the model provider did not answer within ${formatMs(o.timeoutMs)}: try again in a moment`);
    return new Refusal(502, 'upstream_unreachable', `the proxy could not reach the model provider (${redact(shorten(e?.cause?.code ?? e?.message ?? String(e)))}): try again later`);
  }
  if (res.status < 200 || res.status > 299) {
    const detail = await errorDetail(res, redact);
    release();
    return statusRefusal(res, detail, o);
  }
  clearTimeout(timer);
  return { response: passThrough(res, o, { stop, why: () => why, release, rearm: (on) => {
    clearTimeout(timer);
    if (on) timer = setTimeout(() => stop('timeout'), o.timeoutMs);
  } }) };
}

/** The Refusal for an upstream non-2xx: statuses chosen so the widget says the right sentence. */
function statusRefusal(res, detail, o) {
  const s = res.status;
  const says = detail ? `; the provider says: ${detail}` : '';
  if (s === 401 || s === 403) {
    return new Refusal(502, 'upstream_auth', `the model provider refused the proxy's API key (HTTP ${s}): the site owner must check DOCENT_API_KEY`);
  }
  if (s === 404) return new Refusal(502, 'upstream_not_found', `the model provider does not know the model or the path (HTTP 404): the site owner must check the upstream URL and the model ${JSON.stringify(o.model)}${says}`);
  if (s === 429) {
    const retry = res.headers.get('retry-after');
    return new Refusal(429, 'upstream_rate_limited', `the model provider is limiting this site's requests (HTTP 429): try again in a minute${says}`, retry && /^\d+$/.test(retry.trim()) ? { 'retry-after': retry.trim() } : {});
  }
  if (s === 413) return new Refusal(413, 'upstream_too_large', `the model provider found the prompt too large (HTTP 413): ask with fewer sources${says}`);
  if (s >= 400 && s <= 499) return new Refusal(400, 'upstream_rejected', `the model provider rejected the request (HTTP ${s})${says}`);
  if (s >= 500 && s <= 599) return new Refusal(502, 'upstream_error', `the model provider had an internal error (HTTP ${s}): try again later${says}`);
  return new Refusal(502, 'upstream_error', `the model provider answered with an unexpected HTTP ${s || 'redirect'}: the site owner must check the upstream URL`);
}

/** The provider's message in an error body, shortened, without the key; never throws. */
async function errorDetail(res, redact) {
  let text = '';
  try {
    const reader = res.body?.getReader();
    if (!reader) return undefined;
    const decoder = new TextDecoder();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      bytes += value.byteLength;
      if (bytes >= MAX_ERROR_BODY) {
        reader.cancel().catch(() => {});
        break;
      }
    }
  } catch {
    return undefined;
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return text.trim() && !text.trim().startsWith('<') ? redact(shorten(text)) : undefined;
  }
  const e = value?.error ?? value?.message ?? value?.detail;
  const m = typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : undefined;
  return m ? redact(shorten(m)) : undefined;
}

/**
 * The response to the client: the upstream status, its content type and the body piped through
 * a stream that reads one upstream chunk per client read (highWaterMark 0: nothing is read ahead
 * or held), re-arms the stall timeout per chunk, and notes the usage the events report.
 */
function passThrough(res, o, ctl) {
  const reader = res.body.getReader();
  const usage = new UsageReader();
  let settle;
  const done = new Promise((resolve) => {
    settle = resolve;
  });
  let ended = false;
  const end = (how) => {
    if (ended) return;
    ended = true;
    ctl.release();
    settle({ end: how, tokens: usage.tokens() });
  };
  const body = new ReadableStream({
    async pull(controller) {
      ctl.rearm(true);
      let r;
      try {
        r = await reader.read();
      } catch (e) {
        ctl.rearm(false);
        const why = ctl.why();
        end(why === 'timeout' ? 'stalled' : why === 'client' ? 'client-closed' : 'cut');
        controller.error(e);
        return;
      }
      ctl.rearm(false);
      if (r.done) {
        end('done');
        controller.close();
        return;
      }
      usage.push(r.value);
      controller.enqueue(r.value);
    },
    cancel(reason) {
      ctl.stop('client');
      // A client that stops reading after the end marker (the widget's client does) got it all.
      end(usage.complete ? 'done' : 'client-closed');
      return reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
  const headers = new Headers({ 'content-type': res.headers.get('content-type') ?? 'text/event-stream', 'cache-control': 'no-store' });
  return { status: res.status, headers, body, done };
}

/** The token counts an event stream reports (OpenAI `usage`, Anthropic `message_start` / `message_delta`), and its end marker. */
class UsageReader {
  constructor() {
    this.decoder = new TextDecoder();
    this.line = '';
    this.input = undefined;
    this.output = undefined;
    /** Whether the stream's end marker (`data: [DONE]`, `event: message_stop`) went through. */
    this.complete = false;
  }

  push(bytes) {
    const text = this.decoder.decode(bytes, { stream: true });
    const lines = (this.line + text).split('\n');
    this.line = lines.pop();
    if (this.line.length > MAX_LINE) this.line = '';
    for (const line of lines) {
      if (/^(data: ?\[DONE\]|event: ?message_stop)\r?$/.test(line)) this.complete = true;
      if (!line.startsWith('data:') || !line.includes('_tokens')) continue;
      let v;
      try {
        v = JSON.parse(line.slice(5));
      } catch {
        continue;
      }
      const u = v?.usage ?? v?.message?.usage;
      if (!u || typeof u !== 'object') continue;
      const input = u.prompt_tokens ?? u.input_tokens;
      const output = u.completion_tokens ?? u.output_tokens;
      if (Number.isFinite(input)) this.input = input;
      if (Number.isFinite(output)) this.output = output;
    }
  }

  tokens() {
    return this.input === undefined && this.output === undefined ? undefined : { input: this.input, output: this.output };
  }
}
