// How the local provider asks a small model for a grounded answer: which evidence it is shown,
// the prompt's text and the sampling settings. The one definition read by the provider
// (llm/local.js) and by the faithfulness benchmark (bench/local_llm_faithfulness.py, through
// bench/local_llm_node.mjs), so the benchmark measures what the page runs. The choices and their
// measurements: bench/results/local-llm.md.
// Must not: run a model, search, or touch the DOM.
import { configError, quote } from './errors.js';

/**
 * The settings the provider uses; each was chosen by measuring (bench/results/local-llm.md).
 * - `style`: `completion` (a plain text to continue: instruction, one worked example, the
 *   evidence, the question, then "Answer:"; for a base model, which follows no turn format),
 *   `chat` (the same instruction, example and evidence as turns of the model's chat format:
 *   chatMessages) or `turns` (the core's system and user messages in the model's chat format);
 * - `evidence`: `sentences` (the sentences the offline answer picks from the sources, grouped by
 *   source: a short prompt) or `sources` (the first `k` sources, each cut to `maxChars`);
 * - `k`: sources shown with `evidence: 'sources'` (1..=10, default 3);
 * - `maxChars`: characters kept of each source's text, cut at a sentence end when one is in
 *   reach (default 600);
 * - `maxTokens`: most tokens of answer (default 64: two or three short sentences);
 * - `temperature`: 0 (greedy: the same prompt gives the same answer);
 * - `repeatPenalty`: llama.cpp's repeat penalty over the last 64 tokens for a completion (1 is
 *   off, up to 2): 1 (Gemma 3 270M kept 22 of 51 answers without it, 20 with 1.1);
 * - `chatRepeatPenalty`: the same for the chat style: 1.1 (what SmolLM2's 26 of 51 were
 *   measured with; without it, not measured);
 * - `stop`: where the answer ends: the end of its line (an answer is one line, as in the
 *   example; what follows is the model making up more sources or questions), or the start of
 *   another example;
 * - `templated`: the style for a model whose file carries a chat template in a turn format
 *   formatChat writes (ChatML, Gemma's: `chatKind`): `chat` (the model trained on those turns gets
 *   them; SmolLM2 kept more answers so) or `style`'s. A file without one (Gemma 3 270M's: a base
 *   model) gets `style`.
 */
export const LOCAL_SETTINGS = Object.freeze({
  style: 'completion',
  evidence: 'sentences',
  k: 3,
  maxChars: 600,
  maxTokens: 64,
  temperature: 0,
  repeatPenalty: 1,
  chatRepeatPenalty: 1.1,
  stop: Object.freeze(['\n', 'Sources:', 'Question:', 'Answer:']),
  templated: 'chat',
});

/** The first line of a completion prompt. */
export const COMPLETION_INSTRUCTION =
  'Each answer below is one or two short sentences taken from the numbered sources, each sentence followed by the number of its source in square brackets.';

/** The system turn of a chat prompt (chatMessages): the instruction, worded as one. */
export const CHAT_INSTRUCTION =
  'Answer the question in one or two short sentences taken from the numbered sources, each sentence followed by the number of its source in square brackets.';

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

/**
 * The completion prompt's parts as chat turns, for a model trained on a chat format: the
 * instruction (CHAT_INSTRUCTION) as the system turn, the worked example as a user turn and its answer as the
 * assistant's, then the evidence and the question as the last user turn (the model answers next).
 * @param {string} question @param {Array<{n: number, text: string}>} evidence
 * @returns {Array<{role: string, content: string}>}
 */
export function chatMessages(question, evidence) {
  const e = COMPLETION_EXAMPLE;
  const ask = (sources, q) => block(sources, q).replace(/\nAnswer:$/, '');
  return [
    { role: 'system', content: CHAT_INSTRUCTION },
    { role: 'user', content: ask(e.sources, e.question) },
    { role: 'assistant', content: e.answer },
    { role: 'user', content: ask(evidence, question) },
  ];
}

/**
 * The chat in the turn format `kind` names, for a model whose file carries no chat template
 * (llama.cpp would otherwise fall back to ChatML, which Gemma does not know):
 * - `gemma`: `<start_of_turn>user … <end_of_turn>`, the system text first in the first user turn
 *   (Gemma has no system role), the answer after `<start_of_turn>model`;
 * - `chatml`: `<|im_start|>role … <|im_end|>`, the answer after `<|im_start|>assistant`.
 * @param {'gemma' | 'chatml'} kind
 * @param {Array<{role: string, content: string}>} messages
 * @returns {{prompt: string, stop: string[]}} the text to complete and where the answer ends
 */
export function formatChat(kind, messages) {
  const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => m.content);
  const turns = messages.filter((m) => m.role === 'user' || m.role === 'assistant');
  if (kind === 'gemma') {
    let first = true;
    const body = turns.map((m) => {
      const text = first && m.role === 'user' && system.length ? `${system.join('\n\n')}\n\n${m.content}` : m.content;
      if (m.role === 'user') first = false;
      return `<start_of_turn>${m.role === 'assistant' ? 'model' : 'user'}\n${text}<end_of_turn>\n`;
    });
    return { prompt: `${body.join('')}<start_of_turn>model\n`, stop: ['<end_of_turn>'] };
  }
  if (kind === 'chatml') {
    const all = [...system.map((content) => ({ role: 'system', content })), ...turns];
    const body = all.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`);
    return { prompt: `${body.join('')}<|im_start|>assistant\n`, stop: ['<|im_end|>'] };
  }
  throw configError('chat format', `expected 'gemma' or 'chatml', found ${quote(kind)}`);
}

/**
 * The turn format of a model's chat template (the Jinja text in its GGUF file), when it is one
 * formatChat writes: `chatml` (`<|im_start|>`), `gemma` (`<start_of_turn>`); null for none or
 * another. formatChat's text is what such a template renders for system-first messages.
 * @param {string | null | undefined} template
 * @returns {'chatml' | 'gemma' | null}
 */
export function chatKind(template) {
  if (typeof template !== 'string') return null;
  if (template.includes('<|im_start|>')) return 'chatml';
  if (template.includes('<start_of_turn>')) return 'gemma';
  return null;
}

/**
 * What the provider gives a model for a question and its evidence: the chat prompt in the
 * model's own turns when its file carries a template of a known format and `settings.templated`
 * is `chat`, else the completion prompt. Either ends at the end of the answer's line.
 * @param {string} question @param {Array<{n: number, text: string}>} evidence
 * @param {'chatml' | 'gemma' | null} kind the model's template's format (chatKind)
 * @param {typeof LOCAL_SETTINGS} [settings]
 * @returns {{prompt: string, stop: string[], style: 'chat' | 'completion', repeatPenalty: number}}
 *   `repeatPenalty`: the style's (`chatRepeatPenalty` or `repeatPenalty`)
 */
export function localPrompt(question, evidence, kind, settings = LOCAL_SETTINGS) {
  if (kind && settings.templated === 'chat') {
    const chat = formatChat(kind, chatMessages(question, evidence));
    return { prompt: chat.prompt, stop: [...chat.stop, '\n'], style: 'chat', repeatPenalty: settings.chatRepeatPenalty };
  }
  return { prompt: completionPrompt(question, evidence), stop: [...settings.stop], style: 'completion', repeatPenalty: settings.repeatPenalty };
}
