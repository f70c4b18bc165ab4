// The demo page's settings: the provider, its endpoint, model and API key, the "wait for the
// model" timeout, the number of sources, and the light or dark theme, kept in localStorage. The
// API key is kept there only when the visitor ticks "remember"; otherwise it lives in `state.keys`
// (memory) for this visit, and it is never logged or put in a URL.

/** localStorage keys; the API key one only when "remember" is ticked. */
const SETTINGS_KEY = 'docent-demo-settings';
const THEME_KEY = 'docent-demo-theme';
const apiKeyStorage = (provider) => `docent-demo-api-key-${provider}`;
/** Bounds of the "wait for the model" setting, in seconds. */
const TIMEOUT_RANGE = [1, 600];

const DEFAULTS = {
  provider: 'offline',
  k: 5,
  /**
   * Seconds the model may take to send the first byte, and the longest silence mid-stream, before
   * the answer fails with a timeout (the client's firstByteTimeoutMs and stallTimeoutMs). Default
   * 30, range 1..=600; a local server loading a large model may need more.
   */
  timeoutS: 30,
  /** The local provider's model: a file name of LOCAL_MODELS (local.js). */
  localModel: 'gemma-3-270m-q4_k_m.gguf',
  endpoint: { openai: 'https://api.openai.com/v1', anthropic: 'https://api.anthropic.com' },
  model: { openai: 'gpt-4o-mini', anthropic: 'claude-3-5-haiku-latest' },
};

/** The saved settings, each checked and replaced by its default when missing or invalid. */
export function loadSettings() {
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') ?? {};
  } catch {
    saved = {};
  }
  return {
    provider: ['offline', 'openai', 'anthropic', 'local'].includes(saved.provider) ? saved.provider : DEFAULTS.provider,
    localModel: typeof saved.localModel === 'string' ? saved.localModel : DEFAULTS.localModel,
    k: Number.isInteger(saved.k) && saved.k >= 1 && saved.k <= 10 ? saved.k : DEFAULTS.k,
    timeoutS: validTimeout(saved.timeoutS) ?? DEFAULTS.timeoutS,
    endpoint: { ...DEFAULTS.endpoint, ...(saved.endpoint ?? {}) },
    model: { ...DEFAULTS.model, ...(saved.model ?? {}) },
  };
}

/** `value` as whole seconds when it is a number within TIMEOUT_RANGE; undefined otherwise. */
export function validTimeout(value) {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return Number.isInteger(n) && n >= TIMEOUT_RANGE[0] && n <= TIMEOUT_RANGE[1] ? n : undefined;
}

/**
 * The settings panel on the page's elements `ui` for `state` (`settings`, `keys`).
 * @param {{showLocal: () => void}} hooks `showLocal` shows the local model's own settings
 * @returns {{save: () => void, wire: () => void}} `save` writes `state.settings` (never a key);
 *   `wire` fills the inputs from the settings and listens to them
 */
export function settingsPanel(ui, state, hooks) {
  function saveSettings() {
    try {
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(state.settings)); // no key in here
    } catch {
      // Storage may be disabled: settings then last for this visit only.
    }
  }

  function showProviderSettings() {
    const p = state.settings.provider;
    ui.provider.value = p;
    ui.llmSettings.hidden = p === 'offline' || p === 'local';
    ui.localSettings.hidden = p !== 'local';
    if (p === 'local') hooks.showLocal();
    if (p === 'offline' || p === 'local') return;
    ui.endpoint.value = state.settings.endpoint[p];
    ui.model.value = state.settings.model[p];
    let stored = null;
    try {
      stored = localStorage.getItem(apiKeyStorage(p));
    } catch {
      stored = null;
    }
    if (stored !== null && !state.keys[p]) state.keys[p] = stored;
    ui.apiKey.value = state.keys[p];
    ui.remember.checked = stored !== null;
  }

  function rememberKey() {
    const p = state.settings.provider;
    if (p === 'offline' || p === 'local') return;
    try {
      if (ui.remember.checked && state.keys[p]) localStorage.setItem(apiKeyStorage(p), state.keys[p]);
      else localStorage.removeItem(apiKeyStorage(p));
    } catch {
      // No storage: the key stays in memory only.
    }
  }

  function wireSettings() {
    ui.provider.addEventListener('change', () => {
      state.settings.provider = ui.provider.value;
      saveSettings();
      showProviderSettings();
    });
    ui.endpoint.addEventListener('change', () => {
      state.settings.endpoint[state.settings.provider] = ui.endpoint.value.trim();
      saveSettings();
    });
    ui.model.addEventListener('change', () => {
      state.settings.model[state.settings.provider] = ui.model.value.trim();
      saveSettings();
    });
    ui.apiKey.addEventListener('input', () => {
      state.keys[state.settings.provider] = ui.apiKey.value.trim();
      rememberKey();
    });
    ui.remember.addEventListener('change', rememberKey);
    ui.timeout.value = String(state.settings.timeoutS);
    ui.timeout.addEventListener('change', () => {
      const s = validTimeout(ui.timeout.value);
      if (s !== undefined) {
        state.settings.timeoutS = s;
        saveSettings();
      }
      ui.timeout.value = String(state.settings.timeoutS); // an invalid entry reverts
    });
    ui.k.value = String(state.settings.k);
    ui.kValue.textContent = String(state.settings.k);
    ui.k.addEventListener('input', () => {
      state.settings.k = Number(ui.k.value);
      ui.kValue.textContent = ui.k.value;
      saveSettings();
    });
    showProviderSettings();
  }

  return { save: saveSettings, wire: wireSettings };
}

function applyTheme(ui, theme) {
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  const dark = theme === 'dark' || (theme !== 'light' && matchMedia('(prefers-color-scheme: dark)').matches);
  ui.theme.textContent = dark ? 'Light mode' : 'Dark mode';
  ui.theme.setAttribute('aria-pressed', String(dark));
}

export function wireTheme(ui) {
  let theme = null;
  try {
    theme = localStorage.getItem(THEME_KEY);
  } catch {
    theme = null;
  }
  applyTheme(ui, theme);
  ui.theme.addEventListener('click', () => {
    const dark = document.documentElement.dataset.theme === 'dark' ||
      (!document.documentElement.dataset.theme && matchMedia('(prefers-color-scheme: dark)').matches);
    const next = dark ? 'light' : 'dark';
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch {
      // The choice lasts for this visit.
    }
    applyTheme(ui, next);
  });
}
