// The demo page's local model: a small model that answers in this page (pkg/llm/local.js), served
// by the demo server from models/llm/ (written by ./build.sh setup). Nothing is downloaded until
// the visitor presses the button that names the size; the file is then kept in this browser
// (OPFS), and a later visit, finding it there, loads it without asking and without a download.
// Safety as in app.js: names, sizes and errors reach the DOM as text.
import { LocalModel, LOCAL_MODEL, LOCAL_CONTEXT, localBudget } from '/pkg/llm.js';

/** The models the demo server offers (models/llm/), the default first. */
export const LOCAL_MODELS = [
  { ...LOCAL_MODEL },
  { file: 'SmolLM2-135M-Instruct.Q4_1.gguf', name: 'SmolLM2 135M Instruct (Q4_1)', bytes: 98362432 },
];

const mb = (n) => `${Math.round(n / 1e6)} MB`;

/**
 * The local model settings on the page's elements `ui` (`localModel`, `localLoad`, `localStatus`,
 * `localProgress`) and its `state.settings.localModel` (a file name of LOCAL_MODELS).
 * @param {{save: () => void, copy?: import('/pkg/ask-offline.js').SavedCopy}} hooks `copy`: the
 *   page's saved copy for the network off, told where the model the visitor agreed to stands
 *   (downloading, stored, failed), so that it says "ready offline" only once the model is stored
 */
export function localPanel(ui, state, { save, copy }) {
  /** The LocalModel of the chosen file (a new one when the choice changes). */
  let model = null;
  /** Whether the visitor agreed to download the chosen file, or it is stored already. */
  let allowed = false;

  const chosen = () => LOCAL_MODELS.find((m) => m.file === state.settings.localModel) ?? LOCAL_MODELS[0];

  function say(text, progress) {
    ui.localStatus.textContent = text;
    ui.localProgress.hidden = progress === undefined;
    if (progress === null) ui.localProgress.removeAttribute('value');
    else if (progress !== undefined) ui.localProgress.value = progress;
  }

  /** Shows what loading the chosen model costs; loads it at once when it is stored already. */
  async function show() {
    const m = chosen();
    ui.localModel.value = m.file;
    if (!model || !model.url.endsWith(`/${m.file}`)) {
      await model?.unload();
      model = new LocalModel(new URL(`/models/llm/${m.file}`, location.href));
      allowed = false;
    }
    if (model.loaded) return;
    ui.localLoad.hidden = true;
    say('Looking for the model in this browser…');
    let stored = false;
    try {
      stored = await model.cached();
    } catch {
      stored = false; // no OPFS (e.g. a private window): it is asked for like a first visit
    }
    if (chosen().file !== m.file) return; // another model was chosen meanwhile: its call shows it
    if (stored) {
      allowed = true;
      copy?.answerModel({ stage: 'stored', runtime: model.runtimeFiles() });
      load().catch(() => {});
    } else {
      ui.localLoad.textContent = `Download ${m.name} (${mb(m.bytes)}) and load it`;
      ui.localLoad.hidden = false;
      say(`${m.name} runs in this page, in a Web Worker. It is a ${mb(m.bytes)} download, once: it is then kept in this browser.`);
    }
  }

  /** Downloads (if needed) and loads the model, with progress; resolves to the LocalModel. */
  async function load() {
    const m = chosen();
    ui.localLoad.hidden = true;
    const current = model;
    try {
      await current.load({
        onProgress: (e) => {
          if (current !== model) return;
          if (e.stage === 'download') copy?.answerModel({ stage: 'downloading', loaded: e.loaded, total: e.total ?? m.bytes });
          if (e.stage === 'download' && e.total) say(`Downloading ${m.name}: ${mb(e.loaded)} of ${mb(e.total)}…`, e.loaded / e.total);
          else if (e.stage === 'load') say(`Loading ${m.name} into a Web Worker…`, null);
        },
      });
    } catch (e) {
      if (current === model) {
        say(`${m.name} could not load: ${e.message}`);
        ui.localLoad.hidden = false;
        // Stored after all (it failed while loading, not downloading): the copy has it.
        const stored = await current.cached().catch(() => false);
        copy?.answerModel(stored ? { stage: 'stored', runtime: current.runtimeFiles() } : { stage: 'failed' });
      }
      throw e;
    }
    if (current === model) {
      copy?.answerModel({ stage: 'stored', runtime: current.runtimeFiles() });
      say(`${m.name} ready in this page: ${current.contextTokens} tokens of context, ${current.threads} thread${current.threads === 1 ? '' : 's'}${crossOriginIsolated ? ' (cross-origin isolated)' : ''}.`);
    }
    return current;
  }

  function wire() {
    ui.localModel.replaceChildren(...LOCAL_MODELS.map((m) => new Option(`${m.name}, ${mb(m.bytes)}`, m.file)));
    ui.localModel.addEventListener('change', () => {
      state.settings.localModel = ui.localModel.value;
      save();
      show();
    });
    ui.localLoad.addEventListener('click', () => {
      allowed = true;
      load().catch(() => {});
    });
  }

  return {
    wire,
    show,
    /** The chosen model's name, for the prompt panel. */
    name: () => chosen().name,
    /** The prompt budget: the loaded model's, else the one it will have (LOCAL_CONTEXT). */
    budget: () => (model?.loaded ? model.budget() : localBudget(LOCAL_CONTEXT)),
    /** The loaded model; loads it if the visitor allowed it; null when they have not been asked yet. */
    ready: async () => (model?.loaded ? model : allowed ? load() : null),
  };
}
