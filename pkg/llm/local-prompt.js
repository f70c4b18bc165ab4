// How the local provider asks a small model for a grounded answer: which evidence it is shown,
// the prompt's text and the sampling settings. The one definition read by the provider
// (llm/local.js) and by the faithfulness benchmark (bench/local_llm_faithfulness.py, through
// bench/local_llm_node.mjs), so the benchmark measures what the page runs. The choices and their
// measurements: bench/results/local-llm.md.
// Must not: run a model, search, or touch the DOM.

/**
 * The settings the provider uses; each was chosen by measuring (bench/results/local-llm.md).
 * - `style`: `completion` (a plain text to continue: instruction, one worked example, the
 *   evidence, the question, then "Answer:"; for a base model, which follows no turn format) or
 *   `turns` (the core's system and user messages in the model's chat format);
 * - `evidence`: `sentences` (the sentences the offline answer picks from the sources, grouped by
 *   source: a short prompt) or `sources` (the first `k` sources, each cut to `maxChars`);
 * - `k`: sources shown with `evidence: 'sources'` (1..=10, default 3);
 * - `maxChars`: characters kept of each source's text, cut at a sentence end when one is in
 *   reach (default 600);
 * - `maxTokens`: most tokens of answer (default 64: two or three short sentences);
 * - `temperature`: 0 (greedy: the same prompt gives the same answer);
 * - `repeatPenalty`: llama.cpp's repeat penalty over the last 64 tokens (1 is off; 1.1 default);
 * - `stop`: where the answer ends: the end of its line (an answer is one line, as in the
 *   example; what follows is the model making up more sources or questions), or the start of
 *   another example.
 */
export const LOCAL_SETTINGS = Object.freeze({
  style: 'completion',
  evidence: 'sentences',
  k: 3,
  maxChars: 600,
  maxTokens: 64,
  temperature: 0,
  repeatPenalty: 1.1,
  stop: Object.freeze(['\n', 'Sources:', 'Question:', 'Answer:']),
});

/** The first line of a completion prompt. */
export const COMPLETION_INSTRUCTION =
  'Each answer below is one or two short sentences taken from the numbered sources, each sentence followed by the number of its source in square brackets.';

/** The worked example of a completion prompt: made-up sources, a question and a cited answer. */
export const COMPLETION_EXAMPLE = Object.freeze({
  sources: Object.freeze([
    { n: 1, text: 'The lighthouse keeper climbs the tower at dusk and lights the lamp with a long match.' },
    { n: 2, text: 'The ferry to the island leaves the harbour every morning at seven. It returns at noon.' },
  ]),
  question: 'When does the ferry leave for the island?',
  answer: 'The ferry to the island leaves the harbour every morning at seven [2].',
});

const flat = (text) => text.replace(/```[^\n]*\n?/g, ' ').replace(/\s+/g, ' ').trim();

/** `text` cut to at most `max` characters, at the last sentence end within them when there is one past half of it. */
export function cutText(text, max) {
  const t = flat(text);
  if (t.length <= max) return t;
  const head = t.slice(0, max);
  const end = Math.max(head.lastIndexOf('. '), head.lastIndexOf('! '), head.lastIndexOf('? '));
  return end > max / 2 ? head.slice(0, end + 1) : `${head.replace(/\s+\S*$/, '')} …`;
}

/**
 * The sentences of an offline answer (`sentence [n].` …), grouped by source in the order of their
 * numbers: `[{n, text}]`. A quoted code block becomes one line of its source's text.
 * @param {string} offline the offline answer's text (llm/offline.js)
 */
export function sentencesBySource(offline) {
  const by = new Map();
  for (const m of offline.matchAll(/([\s\S]+?)\s*\[(\d+)\]([.!?]?)(?=\s|$)/g)) {
    const text = flat(m[1]) + (m[3] || (/[.!?:]$/.test(m[1].trim()) ? '' : '.'));
    const n = Number(m[2]);
    by.set(n, by.has(n) ? `${by.get(n)} ${text}` : text);
  }
  return [...by].sort((a, b) => a[0] - b[0]).map(([n, text]) => ({ n, text }));
}

/**
 * The evidence a completion prompt shows: `[{n, text}]`.
 * @param {{sources: Array<{n: number, text: string}>}} prompt the assembled prompt
 * @param {string | null} offline the offline answer's text, for `evidence: 'sentences'` (when it
 *   abstained or is null, the first sources are shown instead)
 * @param {typeof LOCAL_SETTINGS} [settings]
 */
export function localEvidence(prompt, offline, settings = LOCAL_SETTINGS) {
  if (settings.evidence === 'sentences' && offline) {
    const picked = sentencesBySource(offline);
    if (picked.length) return picked;
  }
  return prompt.sources.slice(0, settings.k).map((s) => ({ n: s.n, text: cutText(s.text, settings.maxChars) }));
}

const block = (sources, question) =>
  `Sources:\n${sources.map((s) => `[${s.n}] ${s.text}`).join('\n')}\nQuestion: ${flat(question)}\nAnswer:`;

/**
 * The text a completion-style model continues: the instruction, the worked example with its
 * answer, then the evidence and the question, ending in "Answer:".
 * @param {string} question @param {Array<{n: number, text: string}>} evidence
 */
export function completionPrompt(question, evidence) {
  const e = COMPLETION_EXAMPLE;
  return `${COMPLETION_INSTRUCTION}\n\n${block(e.sources, e.question)} ${e.answer}\n\n${block(evidence, question)}`;
}
