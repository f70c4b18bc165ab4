// The settings of <docent-ask>: the attributes read as numbers and choices (`timeout`,
// `index-timeout`, `embed`), and the model settings: which provider answers (offline, OpenAI-compatible,
// Anthropic, or a model in the reader's browser), each provider's endpoint, model and API key, and
// whether the key is remembered in localStorage. Reads the element's `offline`, `provider`,
// `endpoint`, `model`, `model-url` and `key` attributes once, keeps what the reader changes in the settings panel, and shows it there.
// Must not: send anything, or put a key anywhere but the panel's field and (when the reader asks
// to remember it) localStorage.
import { DEFAULT_ENDPOINTS, onThisMachine } from './llm/endpoints.js';
import { PROVIDERS } from './ask-view.js';

/** Default and bounds of the `timeout` attribute, in seconds. */
export const TIMEOUT_S = { default: 30, min: 1, max: 600 };
/** The `index-timeout` attribute: default 10 s, same bounds as `timeout`. */
export const INDEX_TIMEOUT_S = { ...TIMEOUT_S, default: 10 };
/** Values of the `embed` attribute; the first is the default. */
const EMBED = ['answer', 'focus', 'never'];

/** A seconds attribute's value in ms: `bounds.default` when absent or not a whole number within bounds. */
export function attributeMs(raw, bounds) {
  const s = raw === null || raw.trim() === '' ? NaN : Number(raw);
  return (Number.isInteger(s) && s >= bounds.min && s <= bounds.max ? s : bounds.default) * 1000;
}

/** The `embed` attribute's value: 'answer' (default), 'focus' or 'never'. */
export function embedMode(raw) {
  const v = (raw ?? '').trim().toLowerCase();
  return EMBED.includes(v) ? v : EMBED[0];
}

/** The localStorage key a provider's remembered API key is kept under. */
const keyStorage = (provider) => `docent-ask-api-key-${provider}`;

export class LlmSettings {
  #els;
  #keys = { openai: '', anthropic: '' };
  #endpoint = {};
  #model = {};
  /** 'none' (`key="none"`: a proxy adds the key, the panel asks for none) or 'ask'. */
  #keyMode = 'ask';
  provider = 'offline';
  /** The `model-url` attribute: the GGUF file of provider="local" (null: no local provider). */
  localUrl = null;

  /**
   * @param {object} els the view's elements (`buildView`): provider, endpoint, model, apiKey,
   *   remember, keyBox, llmBox, settings
   * @param {(name: string) => string | null} attr reads one of the element's attributes
   */
  constructor(els, attr) {
    this.#els = els;
    // The panel's listeners, once: `read` may run again whenever an attribute changes.
    els.provider.addEventListener('change', () => {
      this.provider = els.provider.value;
      this.#show();
    });
    els.endpoint.addEventListener('change', () => (this.#endpoint[this.provider] = els.endpoint.value.trim()));
    els.model.addEventListener('change', () => (this.#model[this.provider] = els.model.value.trim()));
    els.apiKey.addEventListener('input', () => {
      this.#keys[this.provider] = els.apiKey.value.trim();
      this.#remember();
    });
    els.remember.addEventListener('change', () => this.#remember());
    this.read(attr);
  }

  /**
   * Takes the element's `offline`, `provider`, `endpoint`, `model`, `model-url` and `key`
   * attributes (again), replacing what the reader chose in the panel; keys typed this visit stay.
   * @param {(name: string) => string | null} attr reads one of the element's attributes
   */
  read(attr) {
    const els = this.#els;
    const offline = attr('offline') !== null;
    const p = (attr('provider') ?? 'offline').toLowerCase();
    this.localUrl = attr('model-url')?.trim() || null;
    // The local provider needs the site's model file; without one it is not offered.
    this.provider = offline || !PROVIDERS.includes(p) || (p === 'local' && !this.localUrl) ? 'offline' : p;
    for (const option of els.provider.options) if (option.value === 'local') option.hidden = !this.localUrl;
    for (const name of ['openai', 'anthropic']) {
      this.#endpoint[name] = DEFAULT_ENDPOINTS[name];
      this.#model[name] = '';
    }
    if (this.provider !== 'offline' && this.provider !== 'local') {
      if (attr('endpoint')) this.#endpoint[this.provider] = attr('endpoint');
      this.#model[this.provider] = attr('model') ?? '';
    }
    this.#keyMode = attr('key') === 'none' ? 'none' : 'ask';
    els.settings.hidden = offline;
    this.#show();
  }

  /**
   * The provider that can answer now: the chosen one, or `offline` when the browser is offline
   * (`onLine` false) and the chosen one is a model on another host. A local model, the offline
   * answer and a model server on this machine (localhost, 127.0.0.1, [::1]) still answer.
   * @param {boolean} [onLine] default `navigator.onLine`
   */
  providerNow(onLine = typeof navigator === 'undefined' || navigator.onLine !== false) {
    const p = this.provider;
    if (onLine || (p !== 'openai' && p !== 'anthropic')) return p;
    return onThisMachine(this.#endpoint[p]) ? p : 'offline';
  }

  /** What `streamAnswer` needs for the current provider: endpoint, model and key (if any). */
  request() {
    const p = this.provider;
    return {
      endpoint: this.#endpoint[p],
      model: this.#model[p],
      apiKey: this.#keyMode === 'none' ? undefined : this.#keys[p] || undefined,
    };
  }

  #show() {
    const p = this.provider;
    const e = this.#els;
    e.provider.value = p;
    e.llmBox.hidden = p === 'offline' || p === 'local';
    e.keyBox.hidden = this.#keyMode === 'none';
    if (p === 'offline' || p === 'local') return;
    e.endpoint.value = this.#endpoint[p] ?? '';
    e.model.value = this.#model[p] ?? '';
    let stored = null;
    try {
      stored = localStorage.getItem(keyStorage(p));
    } catch {
      stored = null;
    }
    if (stored !== null && !this.#keys[p]) this.#keys[p] = stored;
    e.apiKey.value = this.#keys[p];
    e.remember.checked = stored !== null;
  }

  #remember() {
    const p = this.provider;
    if (p === 'offline' || p === 'local') return;
    try {
      if (this.#els.remember.checked && this.#keys[p]) localStorage.setItem(keyStorage(p), this.#keys[p]);
      else localStorage.removeItem(keyStorage(p));
    } catch {
      // No storage: the key stays in memory.
    }
  }
}
