// A request's body: read with a size limit that is checked while reading (never buffering more
// than the limit), then checked against what the proxy serves (the pinned model, the max_tokens
// cap, no tools or images unless enabled, at most N messages, with `requireDocentPrompt` the
// shape of a prompt docent assembled), and rebuilt from an allow-list of fields for the upstream.
// Must not: send anything, or keep the prompt text anywhere but the body it returns.
import { ABSTAIN, SYSTEM, USER } from '../prompt/template.js';

/** A refusal: the HTTP status and the `{error: {type, message}}` the client gets. */
export class Refusal {
  constructor(status, type, message, headers = {}) {
    this.status = status;
    this.type = type;
    this.message = message;
    this.headers = headers;
  }
}

const show = (v) => (typeof v === 'string' ? JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v) : v === undefined ? 'none' : typeof v === 'object' ? (v === null ? 'null' : Array.isArray(v) ? 'an array' : 'an object') : String(v));

/**
 * The body as text, or a Refusal (413 past `limit` bytes, by Content-Length before reading or
 * while reading: at most `limit` bytes plus one read are ever held).
 */
export async function readBody(request, limit) {
  const tooLarge = () => new Refusal(413, 'body_too_large', `the request body is larger than this proxy accepts (${limit} bytes): ask with fewer or shorter sources`);
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limit) return tooLarge();
  if (!request.body) return '';
  const reader = request.body.getReader();
  const parts = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        reader.cancel().catch(() => {});
        return tooLarge();
      }
      parts.push(value);
    }
  } finally {
    reader.releaseLock?.();
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new Refusal(400, 'invalid_json', 'the request body is not UTF-8 text');
  }
}

/** Fields forwarded upstream, per provider; everything else is dropped (e.g. `n`, `metadata`). */
const FIELDS = {
  openai: ['model', 'messages', 'max_tokens', 'temperature', 'top_p', 'stop', 'stream', 'presence_penalty', 'frequency_penalty', 'seed'],
  anthropic: ['model', 'system', 'messages', 'max_tokens', 'temperature', 'top_p', 'top_k', 'stop_sequences', 'stream'],
};
const TOOL_FIELDS = ['tools', 'tool_choice', 'functions', 'function_call', 'parallel_tool_calls'];
const ROLES = { openai: ['system', 'developer', 'user', 'assistant'], anthropic: ['user', 'assistant'] };

/**
 * Checks a parsed request body and returns `{body, question}` (the body to send upstream, and
 * the question when the prompt is a docent prompt), or a Refusal (400).
 */
export function checkBody(text, o) {
  const bad = (type, message) => new Refusal(400, type, message);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return bad('invalid_json', 'the request body is not JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return bad('invalid_request', 'the request body is not a JSON object');
  if (body.model !== undefined && body.model !== o.model) {
    return bad('model_not_allowed', `this proxy serves the model ${show(o.model)} only, found ${show(body.model)}: set model="${o.model}" on the widget`);
  }
  for (const name of ['max_tokens', 'max_completion_tokens']) {
    const v = body[name];
    if (v === undefined || v === null) continue;
    if (!Number.isSafeInteger(v) || v < 1) return bad('invalid_request', `${name} must be a whole number ≥ 1, found ${show(v)}`);
    if (v > o.maxTokens) return bad('max_tokens_too_high', `${name} ${v} is over this proxy's cap of ${o.maxTokens} answer tokens`);
  }
  if (!o.allowTools && TOOL_FIELDS.some((f) => body[f] !== undefined)) {
    return bad('tools_not_allowed', 'this proxy does not allow tools or function calls');
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return bad('invalid_request', `messages must be a non-empty array, found ${show(messages)}`);
  if (messages.length > o.maxMessages) return bad('too_many_messages', `${messages.length} messages is more than this proxy accepts (${o.maxMessages})`);
  const system = o.provider === 'anthropic' ? body.system : undefined;
  const parts = system === undefined ? [] : [['system', system]];
  for (const [i, m] of messages.entries()) {
    if (m === null || typeof m !== 'object') return bad('invalid_request', `message ${i} is not an object`);
    if (!ROLES[o.provider].includes(m.role) && !(o.allowTools && (m.role === 'tool' || m.role === 'function'))) {
      return bad(m.role === 'tool' || m.role === 'function' ? 'tools_not_allowed' : 'invalid_request', `message ${i} has role ${show(m.role)}, which this proxy does not accept`);
    }
    parts.push([`message ${i}`, m.content]);
  }
  for (const [where, content] of parts) {
    const refused = checkContent(where, content, o);
    if (refused) return refused;
  }
  let question;
  if (o.requireDocentPrompt || o.logPrompts) {
    question = docentQuestion(o.provider, body);
    if (o.requireDocentPrompt && question === undefined) {
      return bad('not_a_docent_prompt', 'this proxy answers questions about its site only: the request is not a prompt docent assembled (its system text, numbered sources, one question)');
    }
  }
  const out = {};
  for (const f of [...FIELDS[o.provider], ...(o.allowTools ? TOOL_FIELDS : [])]) if (body[f] !== undefined) out[f] = body[f];
  out.model = o.model;
  if (out.max_tokens == null && body.max_completion_tokens == null) out.max_tokens = o.maxTokens;
  else if (o.provider === 'openai' && body.max_completion_tokens != null) out.max_completion_tokens = body.max_completion_tokens;
  if (o.provider === 'openai' && out.stream === true && o.usage) out.stream_options = { include_usage: true };
  return { body: out, question: question ?? lastUserText(messages) };
}

/** A Refusal when a content is neither text nor an array of text parts (unless images are enabled). */
function checkContent(where, content, o) {
  if (typeof content === 'string') return undefined;
  if (!Array.isArray(content)) return new Refusal(400, 'invalid_request', `${where}: content must be text or an array of parts, found ${show(content)}`);
  for (const part of content) {
    const type = part?.type;
    if (type === 'text' && typeof part.text === 'string') continue;
    if (/^(tool_use|tool_result|server_tool_use|web_search_tool_result)$/.test(type) && o.allowTools) continue;
    if (/^(tool_use|tool_result|server_tool_use|web_search_tool_result)$/.test(type)) {
      return new Refusal(400, 'tools_not_allowed', `${where}: this proxy does not allow tools or function calls`);
    }
    if (o.allowImages && /^(image|image_url|input_image)$/.test(type)) continue;
    return new Refusal(400, 'images_not_allowed', `${where}: this proxy accepts text only, found a part of type ${show(type)}`);
  }
  return undefined;
}

function lastUserText(messages) {
  const m = [...messages].reverse().find((x) => x?.role === 'user');
  return typeof m?.content === 'string' ? m.content : undefined;
}

// ---------------------------------------------------------------------------------------------
// The shape of a docent prompt, from the one definition of its texts (pkg/prompt/template.js).

const [USER_HEAD, USER_REST] = USER.split('{sources}');
const [USER_MID, USER_TAIL] = USER_REST.split('{question}');
const [ABSTAIN_HEAD, ABSTAIN_TAIL] = ABSTAIN.split('{question}');
/** One source block's opening line, as src/prompt.rs renders it (attributes escaped, one line). */
const SOURCE_OPEN = /<source id="(\d+)" title="[^"\n]*" section="[^"\n]*" url="[^"\n]*">\n/y;
const SOURCE_CLOSE = '\n</source>';
/** How many sources a docent prompt may carry (the widget's `sources` is 1–10). */
const MAX_SOURCES = 10;

/**
 * The question of a docent prompt: the template's system text, then one user message that is
 * the template's user text with 1–10 numbered source blocks and a one-line question (or the
 * abstain text with a one-line question); undefined for anything else.
 */
export function docentQuestion(provider, body) {
  const messages = body.messages;
  let user;
  if (provider === 'anthropic') {
    if (body.system !== SYSTEM || messages.length !== 1) return undefined;
    user = messages[0];
  } else {
    if (messages.length !== 2 || messages[0]?.role !== 'system' || messages[0].content !== SYSTEM) return undefined;
    user = messages[1];
  }
  if (user?.role !== 'user' || typeof user.content !== 'string') return undefined;
  const text = user.content;
  const oneLine = (q) => (q.trim() && q === q.trim() && !/[\r\n]/.test(q) ? q : undefined);
  if (text.startsWith(ABSTAIN_HEAD) && text.endsWith(ABSTAIN_TAIL) && text.length >= ABSTAIN_HEAD.length + ABSTAIN_TAIL.length) {
    return oneLine(text.slice(ABSTAIN_HEAD.length, text.length - ABSTAIN_TAIL.length));
  }
  if (!text.startsWith(USER_HEAD) || !text.endsWith(USER_TAIL)) return undefined;
  const middle = text.slice(USER_HEAD.length, text.length - USER_TAIL.length);
  const cut = middle.lastIndexOf(USER_MID);
  if (cut < 0) return undefined;
  const question = oneLine(middle.slice(cut + USER_MID.length));
  return question !== undefined && sourceBlocks(middle.slice(0, cut)) ? question : undefined;
}

/** Whether `text` is 1–10 source blocks numbered from 1, one per line group, and nothing else. */
function sourceBlocks(text) {
  let at = 0;
  for (let n = 1; n <= MAX_SOURCES; n++) {
    SOURCE_OPEN.lastIndex = at;
    const open = SOURCE_OPEN.exec(text);
    if (!open || Number(open[1]) !== n) return false;
    const end = text.indexOf(SOURCE_CLOSE, SOURCE_OPEN.lastIndex);
    if (end < 0) return false;
    // Inside a block, look-alike delimiters are escaped by the core: a raw one means a forged block.
    if (/<\s*\/?\s*source/i.test(text.slice(SOURCE_OPEN.lastIndex, end))) return false;
    at = end + SOURCE_CLOSE.length;
    if (at === text.length) return true;
    if (text[at] !== '\n') return false;
    at += 1;
  }
  return false;
}
