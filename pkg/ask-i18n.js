// A page's own wording for <docent-ask>: the English table (ask-strings.js) with the keys a page
// overrides, from the `strings` attribute (JSON) and from `element.setStrings({...})`.
//
// Overrides are partial: a key left out keeps its English text. A string value replaces a string;
// for a sentence that takes values (`loadingFile`, `searchFailed`, …), a string is a template
// whose `{name}` (the default's parameter names: `{file}`, `{percent}`, `{message}`) or `{0}`,
// `{1}` placeholders are filled in, and from JavaScript a function may be given instead. Nested
// tables (`providers`, `paths`) are overridden key by key. An unknown key, a value of the wrong
// type or a `strings` attribute that is not a JSON object is left out with one console warning
// naming it; the widget goes on in English for it.
//
// The texts an element shows once (labels, button captions) are bound to their keys when built
// (`Texts.bind`), so that new strings reach them without rebuilding the widget.
// Must not: hold strings (ask-strings.js does) or touch anything but the bound elements.
import { STRINGS } from './ask-strings.js';

const PREFIX = '<docent-ask>';

/** Parameter names of a default sentence function, from its source: `(file, percent) => …`. */
function paramNames(fn) {
  const m = /^\s*(?:function[^(]*)?\(?([^)=]*?)\)?\s*(?:=>|\{)/.exec(String(fn));
  return m ? m[1].split(',').map((p) => p.trim()).filter(Boolean) : [];
}

/** A template string as a sentence function with the parameters of `fallback`. */
function template(text, fallback) {
  const names = paramNames(fallback);
  return (...args) => text.replace(/\{(\w+)\}/g, (whole, key) => {
    const i = /^\d+$/.test(key) ? Number(key) : names.indexOf(key);
    return i >= 0 && i < args.length ? String(args[i] ?? '') : whole;
  });
}

/**
 * `base` with `overrides` applied, checked key by key against `defaults` (English). Problems are
 * pushed to `problems` as sentences; the key is then left as it was.
 */
function merge(base, overrides, defaults, path, problems) {
  const out = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const name = path ? `${path}.${key}` : key;
    if (!Object.hasOwn(defaults, key)) {
      problems.push(`unknown key "${name}"`);
      continue;
    }
    const def = defaults[key];
    if (typeof def === 'function') {
      if (typeof value === 'function') out[key] = value;
      else if (typeof value === 'string') out[key] = template(value, def);
      else problems.push(`"${name}" must be a string (a template such as ${JSON.stringify(`{${paramNames(def)[0] ?? '0'}}`)}) or a function`);
    } else if (def !== null && typeof def === 'object') {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) out[key] = merge(base[key], value, def, name, problems);
      else problems.push(`"${name}" must be an object`);
    } else if (typeof value === 'string' || (def === null && value === null)) {
      out[key] = value;
    } else {
      problems.push(`"${name}" must be a string`);
    }
  }
  return out;
}

/**
 * The strings of one element: English, then the `strings` attribute, then `setStrings`.
 * `source` names where the overrides came from in warnings.
 * @param {object} overrides
 * @param {string} source
 * @param {object} [base] what the overrides apply to (default: English)
 */
export function withOverrides(overrides, source, base = STRINGS) {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    console.warn(`${PREFIX} ${source}: expected an object of strings, found ${Array.isArray(overrides) ? 'an array' : overrides === null ? 'null' : typeof overrides}; using English`);
    return base;
  }
  const problems = [];
  const out = merge(base, overrides, STRINGS, '', problems);
  for (const p of problems) console.warn(`${PREFIX} ${source}: ${p}; kept the English text`);
  return Object.freeze(out);
}

/**
 * The `strings` attribute's value as an object (`{}` when absent); a value that is not JSON
 * warns and gives `{}`.
 * @param {string | null} json
 */
export function parseStringsAttribute(json) {
  if (json === null || json.trim() === '') return {};
  try {
    return JSON.parse(json);
  } catch (e) {
    console.warn(`${PREFIX} the strings attribute is not JSON (${e.message}); using English`);
    return {};
  }
}

/** The texts an element shows once, bound to their keys so that new strings reach them. */
export class Texts {
  #bound = [];

  /**
   * Sets `node[prop]` (an attribute for `aria-*` and `title`) to the key's string now and on
   * every `apply`. `key` may be a path (`providers.offline`).
   * @returns {Element} node
   */
  bind(node, prop, key, strings) {
    this.#bound.push([node, prop, key]);
    Texts.#set(node, prop, key, strings);
    return node;
  }

  /** Sets every bound text from `strings`. */
  apply(strings) {
    for (const [node, prop, key] of this.#bound) Texts.#set(node, prop, key, strings);
  }

  static #set(node, prop, key, strings) {
    const value = key.split('.').reduce((o, k) => o?.[k], strings) ?? '';
    if (prop.startsWith('aria-') || prop === 'title') node.setAttribute(prop, value);
    else node[prop] = value;
  }
}
