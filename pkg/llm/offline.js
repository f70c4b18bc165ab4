// The offline provider: an answer without any LLM, computed by docent's WebAssembly core
// (src/answer/, the same code as `docent ask --provider offline`), streamed a sentence at a time.
// Must not: choose sentences itself, or load the wasm module before an offline answer is asked for
// (the OpenAI and Anthropic paths never load it).
import { LlmError, configError } from './errors.js';

/**
 * What the offline provider answers when the sources do not cover the question: the core's
 * `NOT_COVERED` (src/prompt.rs), which the wasm module exports as `notCovered()`. A copy, so that
 * this client needs no wasm to name it; the Rust and Node tests keep the two equal.
 */
export const NOT_IN_DOCUMENTS = 'The documents do not cover this question.';

/** The wasm module's `offlineAnswer`, once docent.js has initialised the module in this thread. */
let core;

/** @internal docent.js hands over the wasm module's `offlineAnswer` when its `init()` is done. */
export function setOfflineCore(offlineAnswer) {
  core = offlineAnswer;
}

/**
 * The extractive answer of the "offline" provider, without any LLM: the whole prose sentences of
 * the prompt's sources that share the most words with the question, each followed by its
 * source's `[n]`, tables left out, a code block quoted in a ``` fence only when the question asks
 * for a command (see `offline_answer` in src/answer/offline.rs and docs/design.md for the rules). Computed by docent's wasm
 * module, which must be initialised in this thread (`await init()` from docent; streamAnswer
 * loads it by itself).
 * @param {{sources: Array<{n?: number, title?: string, heading?: string, text: string}>, abstained?: boolean, user?: string}} prompt
 *   an assembled prompt (`docent.assemble(...)`)
 * @param {string} [question] the question; default: read from the prompt's `Question:` line (the
 *   default template's), so pass it when the template was changed
 * @returns {{text: string, abstained: boolean}} `abstained` when the prompt abstained or no
 *   sentence matched; `text` is then NOT_IN_DOCUMENTS
 */
export function offlineAnswer(prompt, question) {
  checkPrompt(prompt);
  if (!core) {
    throw new LlmError('config', "offline answer: docent's WebAssembly module is not loaded in this thread: await init() (from docent) first, or use streamAnswer({provider: 'offline'}), which loads it", { provider: 'offline' });
  }
  return core(prompt, typeof question === 'string' ? question : undefined);
}

/** streamAnswer for `provider: 'offline'`: the answer a sentence (with its citation) at a time. */
export async function* streamOffline(o) {
  const { text, abstained } = await answer(o);
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

/**
 * The offline answer for streamAnswer's options `o` (`prompt`, `question`, `docent`): from
 * `o.docent` (a Docent or DocentWorker: in its worker for the latter), else from this thread's
 * wasm module, loaded on first use. The local provider shows its sentences to the model and falls
 * back to it.
 * @returns {Promise<{text: string, abstained: boolean}>}
 */
export async function answer(o) {
  checkPrompt(o.prompt);
  const question = typeof o.question === 'string' ? o.question : undefined;
  if (typeof o.docent?.offlineAnswer === 'function') return o.docent.offlineAnswer(o.prompt, question);
  if (!core) {
    try {
      await (await import('../docent.js')).init();
    } catch (e) {
      throw new LlmError('network', `offline answer: could not load docent's WebAssembly module (${e?.message ?? e})`, { provider: 'offline', cause: e });
    }
  }
  return offlineAnswer(o.prompt, question);
}

function checkPrompt(prompt) {
  if (prompt === null || typeof prompt !== 'object' || !Array.isArray(prompt.sources)) {
    throw configError('prompt', 'expected an assembled prompt with a `sources` array (docent.assemble(question))');
  }
}
