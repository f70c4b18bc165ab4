// `npx docent proxy …`: the proxy (proxy.js) on a plain Node server (node.js). The key is read
// from DOCENT_API_KEY only; there is no flag for it, so it never shows in `ps` or shell history.
// Log lines go to stdout, the start line and errors to stderr.
// Must not: print the key, or accept it from a flag.
import { createProxy, ProxyConfigError } from './proxy.js';
import { serveProxy } from './node.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CLIENTS, DEFAULT_MAX_MESSAGES, DEFAULT_MAX_TOKENS, DEFAULT_RATE, DEFAULT_TIMEOUT_MS } from './options.js';

export const USAGE = `usage: DOCENT_API_KEY=... docent proxy --provider openai|anthropic --model NAME --allow-origin URL [options]
  --provider NAME          openai (any OpenAI-compatible API) or anthropic
  --upstream URL           the provider's base URL (default: https://api.openai.com/v1, https://api.anthropic.com)
  --model NAME             the one model the proxy serves; a request for another is refused
  --allow-origin URL       a site allowed to use the proxy, e.g. https://docs.example.com (repeat for more)
  --allow-no-origin        also serve callers that send no Origin (server-side scripts, curl)
  --port N                 default 8787
  --host ADDR              default 127.0.0.1 (0.0.0.0 to listen on every interface)
  --rate N/PERIOD          requests per client, e.g. 20/min (default ${DEFAULT_RATE}); PERIOD: s, min, h, day
  --global-rate N/PERIOD   requests in all (default: 30 times --rate)
  --client-ip-header NAME  the client's address comes from this header (e.g. CF-Connecting-IP,
                           X-Forwarded-For) set by a proxy in front; default: the socket's address
  --max-clients N          clients the rate limiter remembers (default ${DEFAULT_MAX_CLIENTS})
  --max-body SIZE          request body limit, e.g. 128k (default ${DEFAULT_MAX_BODY_BYTES / 1024}k)
  --max-tokens N           max_tokens cap (default ${DEFAULT_MAX_TOKENS})
  --max-messages N         messages per request (default ${DEFAULT_MAX_MESSAGES})
  --allow-tools            allow tools and function calls (refused by default)
  --allow-images           allow image parts (refused by default)
  --require-docent-prompt  serve only prompts docent assembled (its system text, sources, one question)
  --no-usage               do not ask an OpenAI-compatible upstream for token usage (stream_options)
  --timeout SECONDS        for the first byte, and for any pause mid-stream (default ${DEFAULT_TIMEOUT_MS / 1000})
  --log-prompts            log each request's question (never logged otherwise)
The API key is read from the environment variable DOCENT_API_KEY (DOCENT_API_KEY=none for an
endpoint that needs no key).`;

function fail(message) {
  console.error(`docent proxy: ${message}`);
  process.exit(2);
}

/** The options for createProxy and the server from `argv` (after `proxy`). */
export function parseProxyArgs(argv) {
  const o = { allowOrigins: [] };
  const server = { port: 8787, host: '127.0.0.1' };
  const flags = {
    '--allow-no-origin': () => (o.allowNoOrigin = true),
    '--allow-tools': () => (o.allowTools = true),
    '--allow-images': () => (o.allowImages = true),
    '--require-docent-prompt': () => (o.requireDocentPrompt = true),
    '--no-usage': () => (o.usage = false),
    '--log-prompts': () => (o.logPrompts = true),
  };
  const values = {
    '--provider': (v) => (o.provider = v),
    '--upstream': (v) => (o.upstream = v),
    '--model': (v) => (o.model = v),
    '--allow-origin': (v) => o.allowOrigins.push(...v.split(',').map((s) => s.trim()).filter(Boolean)),
    '--rate': (v) => (o.rate = v),
    '--global-rate': (v) => (o.globalRate = v),
    '--client-ip-header': (v) => (o.clientIpHeader = v),
    '--max-clients': (v) => (o.maxClients = v),
    '--max-body': (v) => (o.maxBodyBytes = v),
    '--max-tokens': (v) => (o.maxTokens = v),
    '--max-messages': (v) => (o.maxMessages = v),
    '--timeout': (v) => {
      if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) fail(`--timeout: expected seconds > 0, found ${JSON.stringify(v)}`);
      o.timeoutMs = Math.round(Number(v) * 1000);
    },
    '--port': (v) => {
      if (!/^\d+$/.test(v) || Number(v) > 65535) fail(`--port: expected a port from 0 to 65535, found ${JSON.stringify(v)}`);
      server.port = Number(v);
    },
    '--host': (v) => (server.host = v),
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline;
    if (a.startsWith('--') && a.includes('=')) [a, inline] = [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)];
    if (a === '-h' || a === '--help') return { help: true };
    if (/^--(api-)?key$/.test(a)) fail(`there is no ${a} flag on purpose: set DOCENT_API_KEY in the environment`);
    if (flags[a] && inline === undefined) flags[a]();
    else if (values[a]) {
      if (inline === undefined && i + 1 >= argv.length) fail(`${a} expects a value\n${USAGE}`);
      values[a](inline ?? argv[++i]);
    } else fail(`unknown option ${JSON.stringify(argv[i])}\n${USAGE}`);
  }
  return { options: o, server };
}

export async function main(argv) {
  const parsed = parseProxyArgs(argv);
  if (parsed.help) {
    console.log(USAGE);
    return;
  }
  if (!process.env.DOCENT_API_KEY?.trim()) fail('DOCENT_API_KEY is not set: export the provider\'s API key (or DOCENT_API_KEY=none for an endpoint without keys) and start again');
  let proxy;
  try {
    proxy = createProxy({ ...parsed.options, log: (line) => process.stdout.write(`${line}\n`) });
  } catch (e) {
    if (e instanceof ProxyConfigError) fail(e.message.replace(/^invalid (\w+)/, (_, n) => `invalid ${flagOf(n)}`));
    throw e;
  }
  let running;
  try {
    running = await serveProxy(proxy, { ...parsed.server, env: process.env });
  } catch (e) {
    fail(`cannot listen on ${parsed.server.host}:${parsed.server.port} (${e.code ?? e.message})`);
  }
  const o = proxy.options;
  const origins = [...o.allowOrigins].join(', ') || 'none';
  console.error(`docent proxy: ${running.url}/ → ${o.upstreamDisplay} (${o.provider}, model ${o.model}); origins: ${origins}${o.allowNoOrigin ? ' and callers without Origin' : ''}; ${o.rate.text} per client, ${o.globalRate.text} in all`);
  const stop = () => {
    running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The flag of an option named in a ProxyConfigError. */
function flagOf(name) {
  const map = { allowOrigins: '--allow-origin', globalRate: '--global-rate', clientIpHeader: '--client-ip-header', maxClients: '--max-clients', maxBodyBytes: '--max-body', maxTokens: '--max-tokens', maxMessages: '--max-messages', timeoutMs: '--timeout' };
  return map[name] ?? `--${name}`;
}
