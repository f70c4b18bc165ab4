// streamAnswer: one answer streamed from an OpenAI-compatible or Anthropic endpoint (network.js,
// imported with the first such answer, so a page that answers offline never loads it), the
// offline answer (offline.js) or a model running in the page (local.js, imported likewise).
// Must not: log anything, or put the key anywhere but the request header.
import { configError, quote } from './errors.js';
import { streamOffline } from './offline.js';

const PROVIDERS = ['openai', 'anthropic', 'offline', 'local'];

/**
 * Streams an answer as text deltas. See llm.d.ts (`StreamOptions`) for every option, its default
 * and range. Errors are `LlmError`s, thrown from the iteration (the first `next()` for bad
 * options). The generator's return value (seen only by calling `next()` by hand) is
 * `{text, stopReason, skippedEvents}`.
 * @param {import('../llm.d.ts').StreamOptions} options
 * @returns {AsyncGenerator<string, import('../llm.d.ts').Completion, void>}
 */
export async function* streamAnswer(options) {
  const o = options ?? {};
  const provider = typeof o.provider === 'string' ? o.provider.trim().toLowerCase() : o.provider ?? 'openai';
  if (!PROVIDERS.includes(provider)) {
    throw configError('provider', `expected 'openai' (or any OpenAI-compatible server), 'anthropic', 'offline' or 'local', found ${quote(provider)}`);
  }
  if (provider === 'offline') return yield* streamOffline(o);
  if (provider === 'local') {
    const { streamLocal } = await import('./local.js');
    return yield* streamLocal(o);
  }
  // The network client loads with the first question a provider other than offline answers.
  const { streamNetwork } = await import('./network.js');
  return yield* streamNetwork(provider, o);
}

