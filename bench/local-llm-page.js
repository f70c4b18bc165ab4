// The page bench/local_llm.mjs drives: `window.bench` loads the local provider's model with the
// given threads (timing the load: a download on the first call in a profile, OPFS after), and, when
// given messages, times one greedy answer: time to the first token and llama.cpp's own counts.
import { LocalModel } from '/pkg/llm.js';

window.bench = async ({ url, threads, messages, maxTokens }) => {
  const model = new LocalModel(url, { threads });
  const cached = await model.cached();
  const t0 = performance.now();
  await model.load();
  const loadMs = performance.now() - t0;
  const out = { cached, loadMs, threads: model.threads, format: model.format, contextTokens: model.contextTokens, isolated: crossOriginIsolated };
  if (messages) {
    const t1 = performance.now();
    let first = 0;
    let text = '';
    for await (const d of model.stream(messages, { maxTokens })) {
      if (!first) first = performance.now() - t1;
      text += d;
    }
    Object.assign(out, { firstTokenMs: first, answerMs: performance.now() - t1, text, timings: model.lastTimings });
  }
  await model.unload();
  return out;
};
