// An answer streamed from an OpenAI-compatible or Anthropic endpoint, read event by event from
// the response: text deltas, the stop reason, the end marker, errors the provider reports
// mid-stream, and a whole JSON body from a server that does not stream. streamAnswer (stream.js)
// imports it for the first answer a network provider gives.
// Must not: log anything, or put the key anywhere but the request header.
import { shorten } from './errors.js';
import { Guard, Interrupt, failure, open, providerError, readText } from './http.js';
import { context } from './request.js';
import { MAX_LINE, SseParser } from './sse.js';

/** How much of a non-streamed JSON answer is read. */
const MAX_JSON_BODY = 4 * 1024 * 1024;

/**
 * Streams the answer of `provider` ('openai' or 'anthropic') for the options `o` of
 * streamAnswer (checked there and here); its return value is streamAnswer's.
 */
export async function* streamNetwork(provider, o) {
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
