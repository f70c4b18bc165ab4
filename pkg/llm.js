// The LLM client of the docent npm package (browser and Node >= 18, no dependencies; the offline
// provider loads docent's wasm module on first use): this file is its public entry (`docent/llm`);
// the code is in llm/.
//
// Owns: streaming an answer from an OpenAI-compatible or Anthropic Messages endpoint (request,
// Server-Sent Events parsing, timeouts, one polite retry on HTTP 429, cancellation), the
// "offline" provider (an extractive answer from a prompt's sources, without any LLM, computed by
// docent's wasm core), the "local" provider (a small model in the page, downloaded only when the
// page calls LocalModel.load()), and splitting an answer into text and citation links that a UI renders
// with DOM nodes (never innerHTML; render.js does).
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
// Behaviour worth knowing (mirrors the native client, src/llm/, except where noted):
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
//
// Modules: llm/stream.js (streamAnswer), llm/network.js (a network provider's answer, reading
// events; loaded with the first such answer), llm/endpoints.js, llm/sse.js (Server-Sent Events),
// llm/request.js (options, endpoint URL, request), llm/http.js (sending, retry, errors, timeouts),
// llm/offline.js (the offline provider), llm/local.js (the local provider: a GGUF model run by
// llama.cpp in WebAssembly in the page; wllama's files, in llm/wllama/, load with its first
// use), llm/local-prompt.js (the local provider's prompt and sampling settings), llm/grounding.js
// (whether a sentence is supported by the sources it cites: the local post-check and the
// benchmark's judge), llm/citations.js (citations and safe links),
// llm/errors.js (LlmError and message helpers).

export { streamAnswer } from './llm/stream.js';
export { LlmError } from './llm/errors.js';
export { DEFAULT_ENDPOINTS } from './llm/endpoints.js';
export { NOT_IN_DOCUMENTS, offlineAnswer } from './llm/offline.js';
export { citationSegments, safeHref } from './llm/citations.js';
export { LocalModel, LOCAL_MODEL, LOCAL_CONTEXT, LOCAL_MAX_TOKENS, LOCAL_FALLBACK_NOTE, localBudget, formatChat } from './llm/local.js';
export { LOCAL_SETTINGS, completionPrompt } from './llm/local-prompt.js';
export { SUPPORT_SHARE, supportedBy, judgeAnswer } from './llm/grounding.js';
