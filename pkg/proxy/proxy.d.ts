// Types of docent/proxy (proxy.js) and docent/proxy/node (node.js).

export interface ProxyOptions {
  /** The upstream's wire format: `openai` (any OpenAI-compatible API) or `anthropic`. */
  provider: 'openai' | 'anthropic';
  /** The upstream's base URL, completed like the widget's `endpoint`. Default: the provider's API. */
  upstream?: string;
  /** The one model served; a request naming another is refused (400), one naming none gets it. */
  model: string;
  /** Origins allowed to call the proxy, e.g. `['https://docs.example.com']` (exact scheme, host, port). */
  allowOrigins?: string[];
  /** Also serve requests without an `Origin` header (server-side callers). Default false. */
  allowNoOrigin?: boolean;
  /** Requests per client, e.g. `'20/min'` (periods: s, min, h, day; `'3/10s'`). Default `'20/min'`. */
  rate?: string;
  /** Requests in all. Default: 30 times `rate`. */
  globalRate?: string;
  /** Header that carries the client's address (e.g. `CF-Connecting-IP`), set by a proxy in front;
   * default: the socket's address (the Node server's `ctx.clientAddress`). */
  clientIpHeader?: string;
  /** Clients the rate limiter remembers; the least recently seen are forgotten. Default 10,000. */
  maxClients?: number;
  /** Request body limit in bytes (or `'128k'`, `'1m'`), checked while reading. Default 128 KiB. */
  maxBodyBytes?: number | string;
  /** Cap on `max_tokens`; a request without one gets the cap. Default 1024. */
  maxTokens?: number;
  /** Messages per request. Default 4 (a docent prompt has 2). */
  maxMessages?: number;
  /** Allow tools and function calls. Default false (refused). */
  allowTools?: boolean;
  /** Allow image parts. Default false (refused). */
  allowImages?: boolean;
  /** Serve only prompts docent assembled (its system text, 1–10 sources, one question). Default false. */
  requireDocentPrompt?: boolean;
  /** Ask an OpenAI-compatible upstream for token usage in the stream (`stream_options`). Default true. */
  usage?: boolean;
  /** Ms for the upstream's first byte, and for any pause mid-stream. Default 30,000. */
  timeoutMs?: number;
  /** Log each request's question. Default false (prompts are never logged). */
  logPrompts?: boolean;
  /** Receives one line per request; default `console.log`; `false` for none. */
  log?: ((line: string) => void) | false;
  /** The fetch used upstream. Default: the global fetch. */
  fetch?: typeof fetch;
}

/** What the proxy reads from the environment a request is handled with. */
export interface ProxyEnv {
  /** The provider's API key (`none` for an endpoint without keys). */
  DOCENT_API_KEY?: string;
  [name: string]: unknown;
}

export interface Proxy {
  /** The handler: a Worker's `fetch(request, env)`; Node passes `{clientAddress}` as `ctx`. */
  fetch(request: Request, env?: ProxyEnv, ctx?: { clientAddress?: string }): Promise<Response>;
  /** The checked options. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The rate limiter; `size` is how many clients it remembers (at most `maxClients`). */
  readonly limiter: { readonly size: number };
}

/** Creates the proxy; throws `ProxyConfigError` for an invalid option. */
export function createProxy(options: ProxyOptions): Proxy;

export class ProxyConfigError extends Error {}

/** `'20/min'` → `{count: 20, periodMs: 60000, text}`. */
export function parseRate(name: string, text: string): { count: number; periodMs: number; text: string };

/** The question of a prompt docent assembled, or undefined when the body is not one. */
export function docentQuestion(provider: 'openai' | 'anthropic', body: unknown): string | undefined;
