// Whether a sentence of an answer is supported by the sources it cites: a word-overlap rule, the
// one definition used by the local provider's post-check (llm/local.js keeps only supported
// sentences) and by the faithfulness benchmark's judge (bench/local_llm_faithfulness.py calls it
// through bench/local_llm_node.mjs), so product and benchmark cannot disagree on it.
// Must not: call a model, or touch the DOM.

/**
 * Share of a sentence's content words that must occur in the text of the sources it cites for it
 * to count as supported: 0.6 (range 0..=1; 0 accepts any sentence that cites a real source, 1
 * only sentences whose every content word is in the cited sources).
 */
export const SUPPORT_SHARE = 0.6;

/** Words too common to show support; with words under 3 characters, they are not content words. */
const STOP = new Set(
  ('the and for are but not you your with this that from have has had was were will can may its ' +
    'into than then them they their there these those what when where which who why how all any ' +
    'each use used using also only other some such more most very just about over under out one ' +
    'two does did done don doesn isn aren should would could must shall our ours yes').split(' '),
);

/** The content words of `text`: lower-cased runs of letters, digits and `_` of 3+ characters, stop words left out. */
export function contentWords(text) {
  return (text.toLowerCase().match(/[a-z0-9_]+/g) ?? []).filter((w) => w.length >= 3 && !STOP.has(w));
}

/** The sentences of an answer: split after . ! ? followed by white space, and at line breaks. */
export function answerSentences(text) {
  return text.split(/(?<=[.!?])\s+|\n+/).map((s) => s.trim()).filter(Boolean);
}

/** The citation numbers of a sentence, in order: `[2]`, `[1][3]` → 2, 1, 3. */
export function citationsOf(sentence) {
  return [...sentence.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
}

/**
 * Whether `sentence` is supported by the sources numbered `ns`: every n is one of `sources`, and
 * at least SUPPORT_SHARE of the sentence's content words (citations removed) occur in the text of
 * those sources. A sentence without content words is not supported.
 * @param {string} sentence @param {number[]} ns
 * @param {Array<{n: number, text: string}>} sources
 */
export function supportedBy(sentence, ns, sources) {
  const byN = new Map(sources.map((s) => [s.n, s.text]));
  if (ns.length === 0 || !ns.every((n) => byN.has(n))) return false;
  const content = contentWords(sentence.replace(/\[\d+\]/g, ' '));
  if (content.length === 0) return false;
  const pool = new Set(contentWords(ns.map((n) => byN.get(n)).join(' ')));
  return content.filter((w) => pool.has(w)).length / content.length >= SUPPORT_SHARE;
}

/**
 * The benchmark's verdict on a whole answer: `cites` when a sentence carries a citation,
 * `faithful` when it cites and every cited sentence is supported by its sources.
 * @param {string} answer @param {Array<{n: number, text: string}>} sources
 * @returns {{cites: boolean, faithful: boolean, cited: number, supported: number}}
 */
export function judgeAnswer(answer, sources) {
  let cited = 0;
  let supported = 0;
  for (const s of answerSentences(answer)) {
    const ns = citationsOf(s);
    if (ns.length === 0) continue;
    cited += 1;
    if (supportedBy(s, ns, sources)) supported += 1;
  }
  return { cites: cited > 0, faithful: cited > 0 && supported === cited, cited, supported };
}

/**
 * Fewest content words a sentence must add to the question's for the post-check to keep it: 2.
 * A sentence that only repeats the question's words ("Sphinx is older than the version my
 * extension needs") says nothing the sources support, though its words are in them.
 */
export const NEW_WORDS = 2;

/**
 * The post-check of one sentence a model wrote: the sentence to keep, or null to drop it. Its
 * content words that are not the question's (with `question`) must number NEW_WORDS or more, and
 * SUPPORT_SHARE of them must occur in the sources it cites; a sentence that does not cite is kept,
 * with the citation added, when a single source supports it so (the best ranked one); a sentence
 * already kept (ignoring case and citations) is not repeated.
 * @param {string} sentence @param {Array<{n: number, text: string}>} sources
 * @param {Set<string>} kept the sentences kept so far (their keys); this adds to it
 * @param {string} [question] the question asked
 */
export function checkSentence(sentence, sources, kept, question = '') {
  const words = contentWords(sentence.replace(/\[\d+\]/g, ' '));
  const key = words.join(' ');
  if (!key || kept.has(key)) return null;
  const asked = new Set(contentWords(question));
  const added = words.filter((w) => !asked.has(w));
  if (added.length < NEW_WORDS) return null;
  const holds = (ns) => supportedBy(added.join(' '), ns, sources);
  const ns = citationsOf(sentence);
  let out = null;
  if (ns.length) {
    out = holds(ns) ? sentence : null;
  } else {
    const source = sources.find((s) => holds([s.n]));
    if (source) out = sentence.replace(/([.!?]?)$/, (end) => ` [${source.n}]${end}`);
  }
  if (out) kept.add(key);
  return out;
}

/**
 * A whole answer through the post-check (checkSentence on each sentence): the kept sentences,
 * joined by spaces, and how many were dropped.
 * @param {string} answer @param {Array<{n: number, text: string}>} sources @param {string} [question]
 * @returns {{text: string, kept: number, dropped: number}}
 */
export function checkAnswer(answer, sources, question = '') {
  const seen = new Set();
  const all = answerSentences(answer);
  const kept = all.map((s) => checkSentence(s, sources, seen, question)).filter(Boolean);
  return { text: kept.join(' '), kept: kept.length, dropped: all.length - kept.length };
}
