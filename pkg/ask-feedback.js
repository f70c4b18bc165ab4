// What a reader can do with an answer of <docent-ask>: copy it (its text, then its sources as a
// Markdown list of links) and say whether it helped (thumbs up / down, `aria-pressed`). The
// element turns a vote into its `docent-feedback` event; nothing is sent anywhere.
// Must not: search, answer, or send anything over the network.
import { safeHref } from './llm/citations.js';
import { el } from './ask-view.js';
import { STRINGS } from './ask-strings.js';
import { Texts } from './ask-i18n.js';

/** How long the "Copied" confirmation stays, in ms. */
const COPIED_MS = 2500;

/** `text` with Markdown's link-text brackets (and backslashes) escaped. */
const linkText = (text) => text.replace(/[\\[\]]/g, '\\$&');
/** A URL whose parentheses and spaces cannot end a Markdown link early. */
const linkUrl = (url) => url.replace(/[() ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * An answer as Markdown: its text, then "Sources:" and one list item `[n] [title](url#anchor)`
 * per source (absolute URLs, resolved against `base`; a source whose URL is not safe to link is
 * its title alone).
 * @param {string} text the answer
 * @param {Array<{n: number, url: string, title: string, heading: string}>} sources
 * @param {string | URL} [base] what relative source URLs resolve against
 * @param {string} [heading] the line before the sources (STRINGS.copySources)
 */
export function answerMarkdown(text, sources, base, heading = STRINGS.copySources) {
  const lines = [text.trim()];
  if (sources.length > 0) {
    lines.push('', heading);
    for (const s of sources) {
      const href = safeHref(s.url, base);
      const title = linkText(s.heading || s.title || s.url);
      lines.push(`- [${s.n}] ${href ? `[${title}](${linkUrl(href)})` : title}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export class Feedback {
  #row;
  #copy;
  #up;
  #down;
  #message;
  #timer = null;
  /** What Copy copies: the current answer as Markdown. */
  #markdown = '';
  #onVote;
  #strings;

  /**
   * Builds the answer's actions in `row` (hidden until an answer is shown).
   * @param {HTMLElement} row
   * @param {{onVote: (helpful: boolean) => void, strings?: () => object, texts?: Texts}} options
   *   `onVote`: a thumb was pressed; `strings`: the element's current strings (default English);
   *   `texts`: where the buttons' texts are bound (ask-i18n.js)
   */
  constructor(row, { onVote, strings = () => STRINGS, texts = new Texts() }) {
    this.#row = row;
    this.#onVote = onVote;
    this.#strings = strings;
    const t = (node, prop, key) => texts.bind(node, prop, key, strings());
    this.#copy = t(el('button', { type: 'button', className: 'ghost', part: 'copy', 'data-testid': 'copy' }), 'textContent', 'copy');
    const thumb = (helpful) => {
      const key = helpful ? 'helpful' : 'notHelpful';
      const b = el('button', {
        type: 'button', className: 'ghost thumb', part: helpful ? 'helpful' : 'not-helpful', 'data-testid': helpful ? 'helpful' : 'not-helpful',
        'aria-pressed': 'false',
      });
      return t(t(t(b, 'aria-label', key), 'title', key), 'textContent', helpful ? 'thumbUp' : 'thumbDown');
    };
    this.#up = thumb(true);
    this.#down = thumb(false);
    this.#message = el('span', { className: 'copied', part: 'copied', 'data-testid': 'copy-status', role: 'status', 'aria-live': 'polite' });
    row.replaceChildren(this.#copy, this.#up, this.#down, this.#message);
    row.hidden = true;
    this.#copy.addEventListener('click', () => this.#copyAnswer());
    this.#up.addEventListener('click', () => this.#vote(true));
    this.#down.addEventListener('click', () => this.#vote(false));
  }

  /** Shows the actions for a finished answer. */
  show(text, sources, base) {
    this.#markdown = answerMarkdown(text, sources, base, this.#strings().copySources);
    this.#up.setAttribute('aria-pressed', 'false');
    this.#down.setAttribute('aria-pressed', 'false');
    this.#say('');
    this.#row.hidden = false;
  }

  /** Hides them (a new question). */
  clear() {
    this.#row.hidden = true;
    this.#markdown = '';
    this.#say('');
  }

  #vote(helpful) {
    const [mine, other] = helpful ? [this.#up, this.#down] : [this.#down, this.#up];
    if (mine.getAttribute('aria-pressed') === 'true') return; // already said
    mine.setAttribute('aria-pressed', 'true');
    other.setAttribute('aria-pressed', 'false');
    this.#say(this.#strings().thanks);
    this.#onVote(helpful);
  }

  async #copyAnswer() {
    const clipboard = typeof navigator !== 'undefined' ? navigator.clipboard : undefined;
    if (typeof clipboard?.writeText !== 'function') {
      this.#say(this.#strings().copyUnavailable, true);
      return;
    }
    try {
      await clipboard.writeText(this.#markdown);
      this.#say(this.#strings().copied);
    } catch (e) {
      this.#say(this.#strings().copyFailed(String(e?.message ?? e)), true);
    }
  }

  #say(text, error = false) {
    clearTimeout(this.#timer);
    this.#message.textContent = text;
    this.#message.classList.toggle('error', error);
    if (text && !error) this.#timer = setTimeout(() => (this.#message.textContent = ''), COPIED_MS);
  }
}
