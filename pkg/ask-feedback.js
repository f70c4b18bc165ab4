// What a reader can do with an answer of <docent-ask>: copy it (its text, then its sources as a
// Markdown list of links) and say whether it helped (thumbs up / down, `aria-pressed`). The
// element turns a vote into its `docent-feedback` event; nothing is sent anywhere.
// Must not: search, answer, or send anything over the network.
import { safeHref } from './llm/citations.js';
import { el } from './ask-view.js';
import { STRINGS } from './ask-strings.js';

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
 */
export function answerMarkdown(text, sources, base) {
  const lines = [text.trim()];
  if (sources.length > 0) {
    lines.push('', STRINGS.copySources);
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

  /**
   * Builds the answer's actions in `row` (hidden until an answer is shown).
   * @param {HTMLElement} row
   * @param {{onVote: (helpful: boolean) => void}} options `onVote`: a thumb was pressed
   */
  constructor(row, { onVote }) {
    this.#row = row;
    this.#onVote = onVote;
    this.#copy = el('button', { type: 'button', className: 'ghost', part: 'copy', 'data-testid': 'copy', textContent: STRINGS.copy });
    const thumb = (helpful) => el('button', {
      type: 'button', className: 'ghost thumb', part: helpful ? 'helpful' : 'not-helpful', 'data-testid': helpful ? 'helpful' : 'not-helpful',
      'aria-pressed': 'false', 'aria-label': helpful ? STRINGS.helpful : STRINGS.notHelpful, title: helpful ? STRINGS.helpful : STRINGS.notHelpful,
      textContent: helpful ? STRINGS.thumbUp : STRINGS.thumbDown,
    });
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
    this.#markdown = answerMarkdown(text, sources, base);
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
    this.#say(STRINGS.thanks);
    this.#onVote(helpful);
  }

  async #copyAnswer() {
    const clipboard = typeof navigator !== 'undefined' ? navigator.clipboard : undefined;
    if (typeof clipboard?.writeText !== 'function') {
      this.#say(STRINGS.copyUnavailable, true);
      return;
    }
    try {
      await clipboard.writeText(this.#markdown);
      this.#say(STRINGS.copied);
    } catch (e) {
      this.#say(STRINGS.copyFailed(String(e?.message ?? e)), true);
    }
  }

  #say(text, error = false) {
    clearTimeout(this.#timer);
    this.#message.textContent = text;
    this.#message.classList.toggle('error', error);
    if (text && !error) this.#timer = setTimeout(() => (this.#message.textContent = ''), COPIED_MS);
  }
}
