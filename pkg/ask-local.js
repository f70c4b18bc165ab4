// provider="local" in <docent-ask>: the `model-url` GGUF model answering in the reader's browser
// (llm/local.js). The first time, the reader is asked, with the model's size, before anything is
// downloaded; the download and the load show their progress in the status line; the file is then
// kept in the browser (OPFS), and a later visit loads it from there without asking.
// Must not: download before the reader presses the button (or the file is stored already), or
// show anything but text.
import { LocalModel, localBudget, LOCAL_CONTEXT } from './llm/local.js';
import { LlmError } from './llm/errors.js';

export class LocalAnswerer {
  #els;
  #strings;
  #status;
  #onModel;
  #model = null;

  /**
   * @param {object} els the view's elements: `download` (the button that asks), `status`
   * @param {() => object} strings the element's strings now (STRINGS with the page's own)
   * @param {(text: string) => void} status shows one status sentence
   * @param {(state: object) => void} [onModel] told where the model stands once the reader agreed
   *   to it (or it is stored): `{stage: 'downloading', loaded, total}`, `{stage: 'stored',
   *   runtime}` or `{stage: 'failed'}` (SavedCopy.answerModel's argument)
   */
  constructor(els, strings, status, onModel = () => {}) {
    this.#els = els;
    this.#strings = strings;
    this.#status = status;
    this.#onModel = onModel;
  }

  /** The prompt budget: the loaded model's, else the one a model has with the default context. */
  budget(fallback = localBudget(LOCAL_CONTEXT)) {
    return this.#model?.loaded ? this.#model.budget() : fallback;
  }

  /**
   * The loaded model of `url`: loaded at once when stored, else after the reader pressed the
   * download button. Rejects with an LlmError ('aborted' when `signal` fires first).
   * @param {string} url @param {AbortSignal} signal
   */
  async ready(url, signal) {
    if (this.#model?.url !== new URL(url, location.href).href) this.#model = new LocalModel(url);
    const model = this.#model;
    if (model.loaded) return model;
    const S = this.#strings();
    const name = decodeURIComponent(new URL(model.url).pathname.split('/').pop());
    let stored = false;
    try {
      stored = await model.cached();
    } catch {
      stored = false; // no OPFS here: asked for like a first visit
    }
    if (!stored) {
      const bytes = await model.size({ signal }).catch(() => null);
      const mb = bytes ? String(Math.round(bytes / 1e6)) : '?';
      this.#status(S.localAsk(name, mb));
      await this.#pressed(S.localDownload(mb), signal);
    } else {
      this.#onModel({ stage: 'stored', runtime: model.runtimeFiles() });
    }
    try {
      await model.load({
        signal,
        onProgress: (e) => {
          if (e.stage === 'download') this.#onModel({ stage: 'downloading', loaded: e.loaded, total: e.total ?? model.bytes ?? undefined });
          this.#status(e.stage === 'download' && e.total
            ? this.#strings().localDownloading(Math.floor((100 * e.loaded) / e.total))
            : this.#strings().localLoading);
        },
      });
    } catch (e) {
      const kept = await model.cached().catch(() => false);
      this.#onModel(kept ? { stage: 'stored', runtime: model.runtimeFiles() } : { stage: 'failed' });
      throw e;
    }
    this.#onModel({ stage: 'stored', runtime: model.runtimeFiles() });
    return model;
  }

  /** Resolves when the download button is pressed; rejects when `signal` fires first. */
  #pressed(caption, signal) {
    const button = this.#els.download;
    button.textContent = caption;
    button.hidden = false;
    return new Promise((resolve, reject) => {
      const done = () => {
        button.hidden = true;
        button.removeEventListener('click', onClick);
        signal.removeEventListener('abort', onAbort);
      };
      const onClick = () => {
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        reject(new LlmError('aborted', 'local model: cancelled before the download was agreed to', { provider: 'local' }));
      };
      if (signal.aborted) return onAbort();
      button.addEventListener('click', onClick);
      signal.addEventListener('abort', onAbort);
    });
  }
}
