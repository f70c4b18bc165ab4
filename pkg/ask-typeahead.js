// Search as you type for <docent-ask>: while the reader types, the best sections for the words so
// far, each a link to its page#anchor with its title and a one-line snippet, the query's words
// marked. The input is an ARIA combobox and the results its listbox: ArrowDown/ArrowUp move the
// selection (aria-activedescendant), Enter follows the selected result, Escape closes the list.
//
// Cost: the search is the lean module's lexical one (`SiteSearch.suggest`: the term shards and
// text packs a keyword question reads, nothing else), debounced, and never for fewer than
// MIN_CHARS characters; only the latest input's results are shown (a slower, older answer is
// dropped).
// Safety: titles and snippets are text nodes and <mark> elements made here; nothing from the index
// is parsed as HTML, and a result links only to a URL that safeHref accepts.
// Must not: search or fetch by itself (the element hands it `search`), or style anything.
import { safeHref } from './llm/citations.js';
import { el } from './ask-view.js';

/** Milliseconds of quiet typing before the results are searched for. */
export const DEBOUNCE_MS = 180;
/** The shortest input (trimmed, in characters) that is searched for. */
export const MIN_CHARS = 2;
/** How many results the list shows. */
export const RESULTS = 5;
/** The longest snippet, in characters (one line; CSS cuts what the width cannot hold). */
const SNIPPET = 160;

/** Words too common to mark in a snippet. */
const COMMON = new Set(('a an and are as at be by can do does for from how i in is it of on or the this to what '
  + 'when where which who why will with you your').split(' '));
const WORD = /[\p{L}\p{N}]+/gu;
const SUFFIXES = ['ations', 'ation', 'ings', 'ing', 'ies', 'ied', 'es', 'ed', 'ly', 's'];

/** A word's crude stem: an English suffix cut while 3 letters remain (marks "installs" for "installing"). */
function stem(word) {
  for (const s of SUFFIXES) if (word.endsWith(s) && word.length - s.length >= 3) return word.slice(0, -s.length);
  return word;
}

/**
 * The prefixes that mark a word of a result: each query word of 2 characters or more that is not
 * a common word, lower-cased; stemmed, except the last one while it is being typed (the input does
 * not end with a space), which matches as typed.
 * @param {string} query the input as typed
 * @returns {string[]}
 */
export function queryTerms(query) {
  const words = query.toLowerCase().match(WORD) ?? [];
  const typing = !/\s$/.test(query);
  const terms = words.map((w, i) => (typing && i === words.length - 1 ? w : stem(w)));
  return [...new Set(terms.filter((t, i) => t.length >= 2 && !COMMON.has(words[i])))];
}

const marks = (word, terms) => {
  const w = word.toLowerCase();
  return terms.some((t) => w.startsWith(t));
};

/**
 * `text` as a fragment of text nodes, each word that starts with one of `terms` in a <mark>.
 * @param {string} text
 * @param {string[]} terms from queryTerms
 * @returns {DocumentFragment}
 */
export function highlight(text, terms) {
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const m of text.matchAll(WORD)) {
    if (!marks(m[0], terms)) continue;
    if (m.index > at) frag.append(document.createTextNode(text.slice(at, m.index)));
    frag.append(el('mark', { textContent: m[0] }));
    at = m.index + m[0].length;
  }
  if (at < text.length) frag.append(document.createTextNode(text.slice(at)));
  return frag;
}

/**
 * A line of `text` (whitespace collapsed) around its first marked word, at most SNIPPET
 * characters, cut between words, with "…" where it was cut.
 */
export function snippet(text, terms) {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= SNIPPET) return flat;
  let first = 0;
  for (const m of flat.matchAll(WORD)) {
    if (marks(m[0], terms)) {
      first = m.index;
      break;
    }
  }
  let start = Math.max(0, first - 40);
  if (start > 0) start = Math.min(first, flat.indexOf(' ', start) + 1 || first);
  let end = Math.min(flat.length, start + SNIPPET);
  if (end < flat.length) end = flat.lastIndexOf(' ', end) > start ? flat.lastIndexOf(' ', end) : end;
  return `${start > 0 ? '…' : ''}${flat.slice(start, end)}${end < flat.length ? '…' : ''}`;
}

export class TypeAhead {
  #input;
  #list;
  #search;
  #base;
  /** Counts searches; a result whose number is not the latest is dropped. */
  #seq = 0;
  #timer = null;
  #active = -1;

  /**
   * @param {HTMLInputElement} input the question box (becomes the combobox)
   * @param {HTMLUListElement} list the listbox the results go in (hidden while closed)
   * @param {{search: (query: string) => Promise<object[] | null>, base: () => URL}} options
   *   `search`: the hits for the input as typed (null or [] shows no list); `base`: what
   *   relative result URLs resolve against
   */
  constructor(input, list, { search, base }) {
    this.#input = input;
    this.#list = list;
    this.#search = search;
    this.#base = base;
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', list.id);
    input.setAttribute('aria-expanded', 'false');
    input.addEventListener('input', () => this.#typed());
    input.addEventListener('blur', () => this.close());
    // A click on a result must not blur the input first (that would close the list under it).
    list.addEventListener('mousedown', (e) => e.preventDefault());
  }

  get open() {
    return !this.#list.hidden;
  }

  /** Stops any pending search and closes the list (a question is being asked). */
  cancel() {
    clearTimeout(this.#timer);
    this.#seq += 1;
    this.close();
  }

  close() {
    this.#list.hidden = true;
    this.#list.replaceChildren();
    this.#input.setAttribute('aria-expanded', 'false');
    this.#input.removeAttribute('aria-activedescendant');
    this.#active = -1;
  }

  /**
   * The input's keydown: arrows move the selection, Enter follows the selected result, Escape
   * closes the list. Returns true when it handled the key (its default is then prevented).
   * @param {KeyboardEvent} e
   */
  keydown(e) {
    if (!this.open || e.isComposing) return false;
    const n = this.#list.children.length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      this.#select(e.key === 'ArrowDown' ? (this.#active + 1) % n : (this.#active - 1 + n) % n);
    } else if (e.key === 'Escape') {
      this.cancel();
    } else if (e.key === 'Enter' && this.#active >= 0) {
      const link = this.#list.children[this.#active].querySelector('a[role="option"]');
      this.cancel();
      link?.click();
    } else {
      return false;
    }
    e.preventDefault();
    return true;
  }

  #typed() {
    clearTimeout(this.#timer);
    const seq = ++this.#seq;
    const query = this.#input.value;
    if (query.trim().length < MIN_CHARS) {
      this.close();
      return;
    }
    this.#timer = setTimeout(async () => {
      let hits = null;
      try {
        hits = await this.#search(query);
      } catch {
        hits = null; // the question itself will say what failed
      }
      if (seq === this.#seq && this.#input.value === query) this.#show(query, hits ?? []);
    }, DEBOUNCE_MS);
  }

  #show(query, hits) {
    if (hits.length === 0 || !this.#input.matches(':focus')) {
      this.close();
      return;
    }
    const terms = queryTerms(query);
    const base = this.#base();
    const items = hits.slice(0, RESULTS).map((hit, i) => {
      const href = safeHref(hit.url, base);
      // The link is the option itself (an option holding a link would nest two controls).
      const option = { id: `${this.#list.id}-${i}`, role: 'option', 'aria-selected': 'false' };
      const link = el(href ? 'a' : 'span', href ? { href, tabIndex: -1, ...option } : option,
        el('span', { className: 'result-title' }, highlight(hit.heading || hit.title, terms)),
        el('span', { className: 'snippet' }, highlight(snippet(hit.text ?? '', terms), terms)));
      return el('li', { role: 'presentation', part: 'result' }, link);
    });
    this.#list.replaceChildren(...items);
    this.#list.hidden = false;
    this.#input.setAttribute('aria-expanded', 'true');
    this.#input.removeAttribute('aria-activedescendant');
    this.#active = -1;
  }

  #select(i) {
    const items = [...this.#list.children].map((li) => li.firstElementChild);
    if (this.#active >= 0) items[this.#active]?.setAttribute('aria-selected', 'false');
    this.#active = i;
    const item = items[i];
    item.setAttribute('aria-selected', 'true');
    this.#input.setAttribute('aria-activedescendant', item.id);
    item.scrollIntoView?.({ block: 'nearest' });
  }
}
