// Follow-up questions in <docent-ask> (and the demo page): the conversation's earlier turns, kept
// in memory (at most `max`, the oldest dropped first) with the sources each answer was given,
// shown above the current answer, handed to the search as `history` so that "and on Windows?" is
// searched with the earlier question and its answer's pages in view and the prompt carries the
// earlier turns, and cleared by "New question". Which words of the
// earlier questions join the search, and which turns fit the prompt's budget, the core decides
// (src/conversation.rs, src/prompt.rs): this module only keeps the turns.
// Must not: search, form queries, count tokens, or put text in the DOM other than as text nodes
// (an earlier answer is drawn by the caller's `render`, the same renderer as the answer).

/** Default and bounds of the `turns` attribute: earlier turns kept for follow-ups (0: none). */
export const TURNS = Object.freeze({ default: 4, min: 0, max: 20 });

/** The `turns` attribute's value as a count (its default when absent or not a whole number in bounds). */
export function turnsOf(raw) {
  const n = raw === null || raw === undefined || String(raw).trim() === '' ? NaN : Number(raw);
  return Number.isInteger(n) && n >= TURNS.min && n <= TURNS.max ? n : TURNS.default;
}

export class Conversation {
  #list;
  #clear;
  #render;
  /** `{question, answer, sources}` of the completed turns, oldest first. */
  #turns = [];

  /**
   * @param {HTMLOListElement} list where the earlier turns are shown
   * @param {HTMLButtonElement} clear the "New question" button (hidden while there is nothing to clear)
   * @param {{render: (text: string, sources: object[]) => Node, onClear: () => void}} options
   *   `render`: an answer with its citations as nodes; `onClear`: the caller's part of "New question"
   */
  constructor(list, clear, { render, onClear }) {
    this.#list = list;
    this.#clear = clear;
    this.#render = render;
    clear.addEventListener('click', () => {
      this.clear();
      onClear();
    });
  }

  /**
   * The earlier turns as the core takes them (`history`: `[{question, answer, sources}]`, oldest
   * first; `sources` the `page#anchor` urls the answer was given, so a follow-up finds its words on
   * the pages the earlier answer was built on, without searching the earlier question again).
   */
  history() {
    return this.#turns.map(({ question, answer, sources }) => ({ question, answer, sources: sources.map((s) => s.url) }));
  }

  /** How many earlier turns are kept. */
  get length() {
    return this.#turns.length;
  }

  /**
   * A new question starts: the turns kept so far (at most `max`) are shown above it, and
   * returned as its `history`.
   */
  begin(max) {
    if (this.#turns.length > max) this.#turns.splice(0, this.#turns.length - max);
    this.#show();
    return this.history();
  }

  /** A question got its whole answer (or "not covered"): it becomes an earlier turn of the next one. */
  add(question, answer, sources = []) {
    this.#turns.push({ question, answer, sources });
    this.#clear.hidden = false;
  }

  /** Forgets every turn ("New question"). */
  clear() {
    this.#turns = [];
    this.#show();
  }

  #show() {
    const doc = this.#list.ownerDocument;
    const item = ({ question, answer, sources }) => {
      const li = doc.createElement('li');
      const q = doc.createElement('p');
      q.className = 'turn-question';
      q.textContent = question;
      const a = doc.createElement('div');
      a.className = 'turn-answer';
      a.append(this.#render(answer, sources));
      li.append(q, a);
      return li;
    };
    this.#list.replaceChildren(...this.#turns.map(item));
    this.#clear.hidden = this.#turns.length === 0;
  }
}
