// The page bench/local_llm.mjs drives: `window.bench` loads the local provider's model with the
// given threads (timing the load: a download on the first call in a profile, OPFS after), and,
// when given an assembled prompt and its question, answers it through the provider itself
// (`streamAnswer({provider: 'local'})`: the evidence, the prompt in the model's own format, the
// sampling settings and the post-check are the product's, whatever they are now). A LocalModel
// that times its own stream gives the time to the first token the model wrote and llama.cpp's
// counts; what the model was given (its prompt, stop strings and repeat penalty) is recorded as
// the provider passed it.
import { LocalModel, streamAnswer } from '/pkg/llm.js';

/** A LocalModel that records what the provider asks of it and times the model's own text. */
class TimedModel extends LocalModel {
  async *stream(input, options) {
    this.asked = { input, repeatPenalty: options?.repeatPenalty ?? 1 };
    const t0 = performance.now();
    let first = 0;
    let raw = '';
    const model = super.stream(input, options);
    for (;;) {
      const step = await model.next();
      if (step.done) {
        Object.assign(this.asked, { firstTokenMs: first, answerMs: performance.now() - t0, raw });
        return step.value;
      }
      if (!first) first = performance.now() - t0;
      raw += step.value;
      yield step.value;
    }
  }
}

window.bench = async ({ url, threads, prompt, question, maxTokens }) => {
  const model = new TimedModel(url, { threads });
  const cached = await model.cached();
  const t0 = performance.now();
  await model.load();
  const loadMs = performance.now() - t0;
  const out = { cached, loadMs, threads: model.threads, format: model.format, chatKind: model.chatKind, contextTokens: model.contextTokens, isolated: crossOriginIsolated };
  if (prompt) {
    let shown = '';
    for await (const d of streamAnswer({ provider: 'local', local: model, prompt, question, maxTokens })) shown += d;
    const { input, repeatPenalty, firstTokenMs, answerMs, raw } = model.asked;
    Object.assign(out, { given: input, repeatPenalty, firstTokenMs, answerMs, text: raw, shown, timings: model.lastTimings });
  }
  await model.unload();
  return out;
};
