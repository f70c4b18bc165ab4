// The look and the DOM of <docent-ask>: its stylesheet and the elements of its shadow root, built
// from elements and text only (no innerHTML), with every visible string from the element's
// strings (STRINGS with a page's overrides, each text bound to its key: ask-i18n.js). The element
// (docent-ask.js) wires them up. The stylesheet uses logical properties only (right-to-left pages)
// and colours that follow the page's light or dark color-scheme.
// Must not: listen to events, search, fetch or stream anything.
import { STRINGS } from './ask-strings.js';
import { Texts } from './ask-i18n.js';

/** The answer providers, in the order the settings list them. */
export const PROVIDERS = ['offline', 'openai', 'anthropic', 'local'];

const STYLE = `
:host {
  --_accent: var(--docent-accent, #2454c5);
  --_bg: var(--docent-bg, transparent);
  --_surface: var(--docent-surface, Canvas);
  --_text: var(--docent-text, CanvasText);
  --_muted: var(--docent-muted, color-mix(in srgb, CanvasText 62%, Canvas));
  --_border: var(--docent-border, color-mix(in srgb, CanvasText 18%, Canvas));
  --_radius: var(--docent-radius, 8px);
  --_cite-bg: var(--docent-cite-bg, color-mix(in srgb, var(--_accent) 14%, Canvas));
  --_on-accent: var(--docent-on-accent, #fff);
  --_error: #b3261e;
  display: block;
  font-family: var(--docent-font, inherit);
  color: var(--_text);
  background: var(--_bg);
  line-height: 1.5;
}
:host([hidden]) { display: none; }
/* A page in dark mode (color-scheme: dark, or light dark with a dark preference) gets colours
   that keep their contrast on its dark Canvas; browsers without light-dark() keep the light ones. */
@supports (color: light-dark(#000, #fff)) {
  :host {
    --_accent: var(--docent-accent, light-dark(#2454c5, #9cbcff));
    --_on-accent: var(--docent-on-accent, light-dark(#fff, #0d1b3d));
    --_error: light-dark(#b3261e, #ffb4ab);
  }
}
* { box-sizing: border-box; }
form { display: flex; gap: 8px; }
label.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
input, select, button { font: inherit; color: inherit; }
input[type="search"], input[type="url"], input[type="text"], input[type="password"], select {
  flex: 1; min-width: 0; padding: 8px 10px; border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_surface);
}
button { padding: 8px 14px; border-radius: var(--_radius); border: 1px solid var(--_accent); background: var(--_accent); color: var(--_on-accent); cursor: pointer; }
button.ghost { background: transparent; color: var(--_accent); }
button:disabled { opacity: .5; cursor: not-allowed; }
:focus-visible { outline: 3px solid color-mix(in srgb, var(--_accent) 50%, transparent); outline-offset: 2px; }
.status { color: var(--_muted); font-size: .9em; margin: 6px 0 0; min-height: 1.2em; }
.status.error { color: var(--_error); }
.status-row { display: flex; align-items: baseline; gap: 8px; }
.status-row button { padding: 2px 10px; font-size: .9em; }
.note { color: var(--_muted); font-size: .8em; margin: 4px 0 0; }
.note:empty { display: none; }
.note.error { color: var(--_error); }
.answer { white-space: pre-wrap; overflow-wrap: anywhere; margin: 8px 0 0; }
.answer:empty { display: none; }
.cite { text-decoration: none; background: var(--_cite-bg); color: var(--_accent); border-radius: 4px; padding: 0 3px; font-size: .85em; font-weight: 600; }
ol.sources { margin: 8px 0 0; padding-inline-start: 1.3em; font-size: .92em; }
ol.sources:empty { display: none; }
ol.sources li { margin: 2px 0; }
.where { color: var(--_muted); }
details { margin-top: 8px; font-size: .9em; }
details label { display: block; margin: 6px 0 2px; }
details .row { display: flex; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 300px; overflow: auto; font-size: .85em; background: color-mix(in srgb, CanvasText 6%, Canvas); padding: 8px; border-radius: var(--_radius); }
ul.results { list-style: none; margin: 6px 0 0; padding: 4px; border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_surface); }
ul.results[hidden] { display: none; }
.results a, .results li > span { display: block; padding: 6px 8px; color: inherit; text-decoration: none; border-radius: calc(var(--_radius) - 2px); border-inline-start: 3px solid transparent; }
.results [aria-selected="true"] { background: var(--_cite-bg); border-inline-start-color: var(--_accent); }
.result-title { display: block; font-weight: 600; color: var(--_accent); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.snippet { display: block; font-size: .88em; color: var(--_muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
mark { background: color-mix(in srgb, var(--_accent) 22%, Canvas); color: var(--_text); border-radius: 2px; padding: 0 1px; }
.actions { display: flex; align-items: center; gap: 6px; margin: 8px 0 0; flex-wrap: wrap; }
.actions[hidden] { display: none; }
.actions button { padding: 4px 10px; font-size: .9em; }
.actions button[aria-pressed="true"] { background: var(--_accent); color: var(--_on-accent); }
.copied { color: var(--_muted); font-size: .85em; }
ol.turns { list-style: none; margin: 8px 0 0; padding: 0; }
ol.turns:empty { display: none; }
ol.turns li { border-inline-start: 3px solid var(--_border); padding-inline-start: 10px; margin: 0 0 10px; }
.turn-question { font-weight: 600; margin: 0; }
.turn-answer { white-space: pre-wrap; overflow-wrap: anywhere; color: var(--_muted); }
.copied.error { color: var(--_error); }
button.open { display: inline-flex; align-items: center; gap: 10px; min-height: 44px; }
button.open kbd { font: inherit; font-size: .8em; border: 1px solid currentColor; border-radius: 4px; padding: 0 5px; opacity: .8; }
dialog { width: min(720px, calc(100vw - 32px)); max-height: calc(100vh - 64px); padding: 12px 16px 16px; border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_surface); color: var(--_text); font-family: var(--docent-font, inherit); line-height: 1.5; }
dialog::backdrop { background: rgb(0 0 0 / .45); }
.dialog-head { display: flex; justify-content: flex-end; margin-bottom: 8px; }
@media (max-width: 640px) {
  dialog { width: 100vw; max-width: 100vw; height: 100vh; height: 100dvh; max-height: 100dvh; margin: 0; border: 0; border-radius: 0; }
}
/* Touch targets of at least 44 px on small or touch screens. */
@media (max-width: 640px), (pointer: coarse) {
  button, input[type="search"], select, summary, .results a, .results li > span { min-height: 44px; }
  .actions button, button.close { min-width: 44px; }
}
`;

/**
 * STYLE as one constructed stylesheet shared by every element, or null where constructable
 * stylesheets are missing (then a <style> element carries it). A page's Content-Security-Policy
 * `style-src` blocks a <style> element without 'unsafe-inline', but not a constructed sheet, so
 * the widget keeps its look on a site with a strict policy.
 */
let sheet;
function styleSheet() {
  if (sheet === undefined) {
    try {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
    } catch {
      sheet = null;
    }
  }
  return sheet;
}

/**
 * An element: `props` are set as properties, except `part`, `for`, `role`, `data-*` and `aria-*`,
 * which are attributes; `children` are nodes or strings (text).
 */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'part' || k.startsWith('data-') || k.startsWith('aria-') || k === 'for' || k === 'role') e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}

/**
 * Fills the shadow root `root` with the widget: the form, the search-as-you-type results, status,
 * answer, note, sources, the answer's actions (copy, thumbs), the saved copy's line, model settings and prompt. Returns the elements the element drives, by name.
 * Every text it shows is bound in `texts` to its key of `strings` (ask-i18n.js), so that a page's
 * own strings reach it later too.
 * @param {ShadowRoot} root
 * @param {object} [strings] the element's strings (default: English)
 * @param {import('./ask-i18n.js').Texts} [texts] where the texts are bound
 */
export function buildView(root, strings = STRINGS, texts = new Texts()) {
  const t = (node, prop, key) => texts.bind(node, prop, key, strings);
  const id = (s) => `docent-ask-${s}`;
  const label = t(el('label', { className: 'sr', for: id('q') }), 'textContent', 'label');
  const input = el('input', { type: 'search', id: id('q'), part: 'input', 'data-testid': 'question', autocomplete: 'off', required: true });
  const button = t(el('button', { type: 'submit', part: 'button', 'data-testid': 'ask' }), 'textContent', 'ask');
  const stop = t(el('button', { type: 'button', className: 'ghost', part: 'stop', hidden: true }), 'textContent', 'stop');
  const newQuestion = t(el('button', { type: 'button', className: 'ghost', part: 'new-question', 'data-testid': 'new-question', hidden: true }), 'textContent', 'newQuestion');
  const form = el('form', { part: 'form', role: 'search' }, label, input, button, stop, newQuestion);
  const turns = t(el('ol', { className: 'turns', part: 'turns', 'data-testid': 'turns' }), 'aria-label', 'conversation');
  const results = t(el('ul', { id: id('results'), className: 'results', part: 'results', role: 'listbox', 'data-testid': 'results', hidden: true }), 'aria-label', 'results');
  const status = el('p', { className: 'status', part: 'status', 'data-testid': 'status', role: 'status', 'aria-live': 'polite' });
  const retry = t(el('button', { type: 'button', className: 'ghost', part: 'retry', 'data-testid': 'retry', hidden: true }), 'textContent', 'retry');
  // provider="local": the button that asks before the model is downloaded (ask-local.js).
  const download = el('button', { type: 'button', part: 'download', 'data-testid': 'download', hidden: true });
  const statusRow = el('div', { className: 'status-row' }, status, retry, download);
  const answer = t(el('div', { className: 'answer', part: 'answer', 'data-testid': 'answer', role: 'region', 'aria-live': 'polite' }), 'aria-label', 'answer');
  const note = el('p', { className: 'note', part: 'note', 'data-testid': 'search-note' });
  const sources = t(el('ol', { className: 'sources', part: 'sources', 'data-testid': 'sources' }), 'aria-label', 'sources');
  const actions = el('div', { className: 'actions', part: 'actions', 'data-testid': 'actions', hidden: true });

  const provider = el('select', { id: id('provider'), 'data-testid': 'provider' },
    ...PROVIDERS.map((p) => t(el('option', { value: p }), 'textContent', `providers.${p}`)));
  const endpoint = el('input', { type: 'url', id: id('endpoint'), 'data-testid': 'endpoint', spellcheck: false });
  const model = el('input', { type: 'text', id: id('model'), 'data-testid': 'model', spellcheck: false });
  const apiKey = t(el('input', { type: 'password', id: id('key'), 'data-testid': 'api-key', autocomplete: 'off', spellcheck: false }), 'placeholder', 'apiKeyPlaceholder');
  const remember = el('input', { type: 'checkbox', id: id('remember') });
  const keyBox = el('div', {},
    t(el('label', { for: id('key') }), 'textContent', 'apiKey'), el('div', { className: 'row' }, apiKey),
    el('label', {}, remember, t(el('span'), 'textContent', 'remember')));
  const llmBox = el('div', {},
    t(el('label', { for: id('endpoint') }), 'textContent', 'endpoint'), el('div', { className: 'row' }, endpoint),
    t(el('label', { for: id('model') }), 'textContent', 'model'), el('div', { className: 'row' }, model), keyBox);
  const settings = el('details', { part: 'settings' },
    t(el('summary'), 'textContent', 'settings'),
    t(el('label', { for: id('provider') }), 'textContent', 'answerWith'), el('div', { className: 'row' }, provider), llmBox);
  const prompt = el('details', { part: 'prompt' }, t(el('summary'), 'textContent', 'prompt'), el('pre', { 'data-testid': 'prompt' }));
  // The saved copy for reading offline (service-worker attribute): one quiet sentence, empty without it.
  const saved = el('p', { className: 'note', part: 'saved', 'data-testid': 'saved', role: 'status', 'aria-live': 'polite' });

  const shared = styleSheet();
  if (shared) root.adoptedStyleSheets = [shared];
  root.replaceChildren(...(shared ? [] : [el('style', { textContent: STYLE })]), form, results, turns, statusRow, answer, note, sources, actions, saved, settings, prompt);
  return { form, input, button, stop, newQuestion, turns, results, status, retry, download, answer, note, sources, actions, saved, settings, provider, endpoint, model, apiKey, remember, keyBox, llmBox, prompt: prompt.querySelector('pre') };
}
