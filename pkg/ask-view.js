// The look and the DOM of <docent-ask>: its stylesheet and the elements of its shadow root, built
// from elements and text only (no innerHTML), with every visible string from STRINGS. The element
// (docent-ask.js) wires them up.
// Must not: listen to events, search, fetch or stream anything.
import { STRINGS } from './ask-strings.js';

/** The answer providers, in the order the settings list them. */
export const PROVIDERS = ['offline', 'openai', 'anthropic'];

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
  display: block;
  font-family: var(--docent-font, inherit);
  color: var(--_text);
  background: var(--_bg);
  line-height: 1.5;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
form { display: flex; gap: 8px; }
label.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
input, select, button { font: inherit; color: inherit; }
input[type="search"], input[type="url"], input[type="text"], input[type="password"], select {
  flex: 1; min-width: 0; padding: 8px 10px; border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_surface);
}
button { padding: 8px 14px; border-radius: var(--_radius); border: 1px solid var(--_accent); background: var(--_accent); color: #fff; cursor: pointer; }
button.ghost { background: transparent; color: var(--_accent); }
button:disabled { opacity: .5; cursor: not-allowed; }
:focus-visible { outline: 3px solid color-mix(in srgb, var(--_accent) 50%, transparent); outline-offset: 2px; }
.status { color: var(--_muted); font-size: .9em; margin: 6px 0 0; min-height: 1.2em; }
.status.error { color: #b3261e; }
.status-row { display: flex; align-items: baseline; gap: 8px; }
.status-row button { padding: 2px 10px; font-size: .9em; }
.note { color: var(--_muted); font-size: .8em; margin: 4px 0 0; }
.note:empty { display: none; }
.answer { white-space: pre-wrap; overflow-wrap: anywhere; margin: 8px 0 0; }
.answer:empty { display: none; }
.cite { text-decoration: none; background: var(--_cite-bg); color: var(--_accent); border-radius: 4px; padding: 0 3px; font-size: .85em; font-weight: 600; }
ol.sources { margin: 8px 0 0; padding-left: 1.3em; font-size: .92em; }
ol.sources:empty { display: none; }
ol.sources li { margin: 2px 0; }
.where { color: var(--_muted); }
details { margin-top: 8px; font-size: .9em; }
details label { display: block; margin: 6px 0 2px; }
details .row { display: flex; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 300px; overflow: auto; font-size: .85em; background: color-mix(in srgb, CanvasText 6%, Canvas); padding: 8px; border-radius: var(--_radius); }
ul.results { list-style: none; margin: 6px 0 0; padding: 4px; border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_surface); }
ul.results[hidden] { display: none; }
.results li { border-radius: calc(var(--_radius) - 2px); }
.results li[aria-selected="true"] { background: var(--_cite-bg); box-shadow: inset 3px 0 0 var(--_accent); }
.results a, .results li > span { display: block; padding: 6px 8px; color: inherit; text-decoration: none; }
.result-title { display: block; font-weight: 600; color: var(--_accent); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.snippet { display: block; font-size: .88em; color: var(--_muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
mark { background: color-mix(in srgb, var(--_accent) 22%, Canvas); color: inherit; border-radius: 2px; padding: 0 1px; }
.actions { display: flex; align-items: center; gap: 6px; margin: 8px 0 0; flex-wrap: wrap; }
.actions[hidden] { display: none; }
.actions button { padding: 4px 10px; font-size: .9em; }
.actions button[aria-pressed="true"] { background: var(--_accent); color: #fff; }
.copied { color: var(--_muted); font-size: .85em; }
ol.turns { list-style: none; margin: 8px 0 0; padding: 0; }
ol.turns:empty { display: none; }
ol.turns li { border-left: 3px solid var(--_border); padding: 0 0 0 10px; margin: 0 0 10px; }
.turn-question { font-weight: 600; margin: 0; }
.turn-answer { white-space: pre-wrap; overflow-wrap: anywhere; color: var(--_muted); }
.copied.error { color: #b3261e; }
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
 * answer, note, sources, the answer's actions (copy, thumbs), model settings and prompt. Returns the elements the element drives, by name.
 * @param {ShadowRoot} root
 */
export function buildView(root) {
  const S = STRINGS;
  const id = (s) => `docent-ask-${s}`;
  const label = el('label', { className: 'sr', for: id('q'), textContent: S.label });
  const input = el('input', { type: 'search', id: id('q'), part: 'input', 'data-testid': 'question', autocomplete: 'off', required: true });
  const button = el('button', { type: 'submit', part: 'button', 'data-testid': 'ask', textContent: S.ask });
  const stop = el('button', { type: 'button', className: 'ghost', part: 'stop', textContent: S.stop, hidden: true });
  const newQuestion = el('button', { type: 'button', className: 'ghost', part: 'new-question', 'data-testid': 'new-question', textContent: S.newQuestion, hidden: true });
  const form = el('form', { part: 'form', role: 'search' }, label, input, button, stop, newQuestion);
  const turns = el('ol', { className: 'turns', part: 'turns', 'data-testid': 'turns', 'aria-label': S.conversation });
  const results = el('ul', { id: id('results'), className: 'results', part: 'results', role: 'listbox', 'data-testid': 'results', 'aria-label': S.results, hidden: true });
  const status = el('p', { className: 'status', part: 'status', 'data-testid': 'status', role: 'status', 'aria-live': 'polite' });
  const retry = el('button', { type: 'button', className: 'ghost', part: 'retry', 'data-testid': 'retry', textContent: S.retry, hidden: true });
  const statusRow = el('div', { className: 'status-row' }, status, retry);
  const answer = el('div', { className: 'answer', part: 'answer', 'data-testid': 'answer', 'aria-live': 'polite', 'aria-label': S.answer });
  const note = el('p', { className: 'note', part: 'note', 'data-testid': 'search-note' });
  const sources = el('ol', { className: 'sources', part: 'sources', 'data-testid': 'sources', 'aria-label': S.sources });
  const actions = el('div', { className: 'actions', part: 'actions', 'data-testid': 'actions', hidden: true });

  const provider = el('select', { id: id('provider'), 'data-testid': 'provider' },
    ...PROVIDERS.map((p) => el('option', { value: p, textContent: S.providers[p] })));
  const endpoint = el('input', { type: 'url', id: id('endpoint'), 'data-testid': 'endpoint', spellcheck: false });
  const model = el('input', { type: 'text', id: id('model'), 'data-testid': 'model', spellcheck: false });
  const apiKey = el('input', { type: 'password', id: id('key'), 'data-testid': 'api-key', autocomplete: 'off', spellcheck: false, placeholder: S.apiKeyPlaceholder });
  const remember = el('input', { type: 'checkbox', id: id('remember') });
  const keyBox = el('div', {},
    el('label', { for: id('key'), textContent: S.apiKey }), el('div', { className: 'row' }, apiKey),
    el('label', {}, remember, S.remember));
  const llmBox = el('div', {},
    el('label', { for: id('endpoint'), textContent: S.endpoint }), el('div', { className: 'row' }, endpoint),
    el('label', { for: id('model'), textContent: S.model }), el('div', { className: 'row' }, model), keyBox);
  const settings = el('details', { part: 'settings' },
    el('summary', { textContent: S.settings }),
    el('label', { for: id('provider'), textContent: S.answerWith }), el('div', { className: 'row' }, provider), llmBox);
  const prompt = el('details', { part: 'prompt' }, el('summary', { textContent: S.prompt }), el('pre', { 'data-testid': 'prompt' }));

  const shared = styleSheet();
  if (shared) root.adoptedStyleSheets = [shared];
  root.replaceChildren(...(shared ? [] : [el('style', { textContent: STYLE })]), form, results, turns, statusRow, answer, note, sources, actions, settings, prompt);
  return { form, input, button, stop, newQuestion, turns, results, status, retry, answer, note, sources, actions, settings, provider, endpoint, model, apiKey, remember, keyBox, llmBox, prompt: prompt.querySelector('pre') };
}
