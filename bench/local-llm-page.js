// The page bench/local_llm.mjs drives: `window.bench` loads the local provider's model with the
// given threads (timing the load: a download on the first call in a profile, OPFS after), and, when
// given an input (chat messages, or a completion prompt and its stop strings), times one greedy
// answer: time to the first token and llama.cpp's own counts; the answer is also put through the
// provider's post-check against `sources`.
import { LocalModel } from '/pkg/llm.js';
import { checkAnswer } from '/pkg/llm/grounding.js';

window.bench = async ({ url, threads, input, sources, maxTokens, repeatPenalty }) => {
  const model = new LocalModel(url, { threads });
  const cached = await model.cached();
  const t0 = performance.now();
  await model.load();
  const loadMs = performance.now() - t0;
  const out = { cached, loadMs, threads: model.threads, format: model.format, contextTokens: model.contextTokens, isolated: crossOriginIsolated };
  if (input) {
    const t1 = performance.now();
    let first = 0;
    let text = '';
    for await (const d of model.stream(input, { maxTokens, repeatPenalty })) {
      if (!first) first = performance.now() - t1;
      text += d;
    }
    const checked = checkAnswer(text, sources).text;
    Object.assign(out, { firstTokenMs: first, answerMs: performance.now() - t1, text, checked, timings: model.lastTimings });
  }
  await model.unload();
  return out;
};
