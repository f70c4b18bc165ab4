// The docent demo page: opens the demo site's index (a fragmented one through the lean search
// module: keyword search at once, keyword + semantic search once the embedder has loaded in a Web
// Worker; an older one whole, in a worker), answers questions with citations (offline extractive
// answer, an OpenAI-compatible API, Anthropic, or a small model in the page: local.js), and
// indexes the visitor's own files in the browser, kept in IndexedDB (mine.js). After one visit it
// works with the network off: its service worker (sw.js, docent's pkg/docent-sw.js) answers from
// the copy ask-offline.js saves (the page, the package, the index and, once loaded, the model),
// and a question asked offline of a provider on another host is answered by the Offline provider
// instead, as the page says.
//
// Safety rules of this file: document text and model output only ever reach the DOM as text
// nodes (textContent, createTextNode; answers and sources through pkg/render.js, whose links are
// made only from URLs that `safeHref` accepts: http(s) or this site); the API key lives in memory
// unless "remember" is ticked, and is never logged or put in a URL.
import { SiteSearch, PATHS } from '/pkg/ask-search.js';
import { streamAnswer, LlmError, NOT_IN_DOCUMENTS } from '/pkg/llm.js';
import { onThisMachine } from '/pkg/llm/endpoints.js';
import { renderAnswer as answerNodes, renderSources as sourceItems } from '/pkg/render.js';
import { Conversation, TURNS } from '/pkg/ask-conversation.js';
import { SavedCopy } from '/pkg/ask-offline.js';
import { STRINGS } from '/pkg/ask-strings.js';
import { visitorDocs } from './mine.js';
import { localPanel } from './local.js';
import { notBuiltYet } from './pending.js';
import { loadSettings, settingsPanel, wireTheme } from './settings.js';

/** The demo site's index folder (written by `./build.sh demo`). */
const SITE_INDEX = new URL('/site/docent/', location.href);
/** Where the page loads the package from (www/serve.mjs serves pkg/ there). */
const RUNTIME = new URL('/pkg/', location.href);
/** Token budget of an assembled prompt (system + user). */
const BUDGET = 3000;
const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'),
  loadBox: document.querySelector('section.load'),
  loadProgress: $('load-progress'),
  form: $('ask-form'),
  question: $('question'),
  ask: $('ask'),
  stop: $('stop'),
  newQuestion: $('new-question'),
  turns: $('turns'),
  corpusMine: $('corpus-mine'),
  answer: $('answer'),
  answerNote: $('answer-note'),
  searchNote: $('search-note'),
  embedStatus: $('embed-status'),
  retry: $('retry'),
  sources: $('sources'),
  prompt: $('prompt'),
  provider: $('provider'),
  llmSettings: $('llm-settings'),
  localSettings: $('local-settings'),
  localModel: $('local-model'),
  localLoad: $('local-load'),
  localStatus: $('local-status'),
  localProgress: $('local-progress'),
  endpoint: $('endpoint'),
  model: $('model'),
  apiKey: $('api-key'),
  remember: $('remember'),
  timeout: $('timeout'),
  k: $('k'),
  kValue: $('k-value'),
  drop: $('drop'),
  files: $('files'),
  indexProgress: $('index-progress'),
  docsStatus: $('docs-status'),
  docs: $('docs'),
  clear: $('clear'),
  theme: $('theme'),
  offlineCopy: $('offline-copy'),
};

/** The copy for the network off: the page, the package, the index and (once loaded) the model. */
const saved = new SavedCopy(new URL('./sw.js', location.href), { strings: () => STRINGS, line: ui.offlineCopy });

const state = {
  /** The demo site's SiteSearch, once its index is open. */
  site: null,
  /** The question a Retry asks again after the site's index failed to load. */
  retryQuestion: null,
  mine: null,
  embedder: null,
  myDocs: [],
  controller: null,
  /** In-memory API keys per provider (never written anywhere unless "remember" is ticked). */
  keys: { openai: '', anthropic: '' },
  settings: loadSettings(),
};

// ------------------------------------------------------------------------------------------
// Status and rendering (text nodes only)

function setStatus(text, kind = '') {
  ui.status.textContent = text;
  ui.status.className = kind ? `status-${kind}` : '';
}

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

function showLoadProgress(e) {
  if (e.stage === 'ready') return;
  const what = e.stage === 'index' ? 'the index' : e.file;
  if (e.total) {
    ui.loadProgress.value = e.loaded / e.total;
    setStatus(`Downloading ${what}: ${mb(e.loaded)} of ${mb(e.total)}…`);
  } else {
    ui.loadProgress.removeAttribute('value');
    setStatus(`Downloading ${what}: ${mb(e.loaded ?? 0)}…`);
  }
}

function renderAnswer(text, sources) {
  ui.answer.replaceChildren(answerNodes(text, sources, { base: location.href, newTab: true }));
}

/** The sources (pkg/render.js), each with its address, score and the start of its text. */
function renderSources(sources) {
  const items = sourceItems(sources, { base: location.href, newTab: true, titleClass: 'title' });
  for (const [i, s] of sources.entries()) {
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = `${s.url} · score ${s.score.toFixed(4)}`;
    const excerpt = document.createElement('p');
    excerpt.className = 'excerpt';
    excerpt.textContent = s.text.length > 320 ? `${s.text.slice(0, 320)}…` : s.text;
    items[i].append(meta, excerpt);
  }
  ui.sources.replaceChildren(...items);
}

/** What is (or would be) sent, as the provider's request body minus credentials. */
function renderPrompt(provider, prompt, model) {
  let shown;
  if (provider === 'anthropic') {
    shown = { model, system: prompt.system, messages: prompt.messages.filter((m) => m.role !== 'system'), stream: true };
  } else {
    const where = { offline: '(offline: nothing is sent)', local: `${local.name()} (in this page: nothing is sent)` };
    shown = { model: where[provider] ?? model, messages: prompt.messages, stream: true };
  }
  const turns = prompt.turns ? `, ${prompt.turns} earlier turn${prompt.turns === 1 ? '' : 's'}` : '';
  const query = prompt.query ? `\n// searched as: ${prompt.query}` : '';
  ui.prompt.textContent = `${JSON.stringify(shown, null, 2)}\n\n// ${prompt.tokens} tokens, ${prompt.sources.length} sources${turns}${prompt.abstained ? ', abstained: no relevant context' : ''}${query}`;
}

/** The background embedder's progress, in the quiet line under the question box. */
function showEmbedder(stage, { file, loaded, total, error } = {}) {
  ui.embedStatus.hidden = false;
  if (stage === 'loading') {
    ui.embedStatus.textContent = file && total
      ? `Semantic search: downloading ${file}, ${mb(loaded)} of ${mb(total)}… (keyword search answers meanwhile)`
      : 'Semantic search: loading the model in a Web Worker… (keyword search answers meanwhile)';
  } else if (stage === 'ready') {
    ui.embedStatus.textContent = 'Semantic search ready: questions now use keyword + semantic search.';
    if (state.site) saved.keep(state.site, { index: SITE_INDEX, runtime: RUNTIME }); // the model too
  } else {
    ui.embedStatus.textContent = `Semantic search could not load (${error?.message ?? error}); keyword search still answers.`;
    notBuiltYet('docent_wasm').then((pending) => {
      if (pending) ui.embedStatus.textContent = `${pending} Keyword search answers meanwhile.`;
    });
  }
}

/** A failure to load the demo site's index: its sentence, and Retry. */
function indexFault(e, question) {
  state.retryQuestion = question;
  setStatus(e.message, 'error');
  ui.retry.hidden = false;
}

function note(text, kind = '') {
  ui.answerNote.hidden = !text;
  ui.answerNote.textContent = text;
  ui.answerNote.className = kind ? `note ${kind}` : 'note';
}

// ------------------------------------------------------------------------------------------
// Asking

async function ask(question) {
  state.controller?.abort();
  const controller = new AbortController();
  state.controller = controller;
  const corpus = new FormData(ui.form).get('corpus');
  const mine = corpus === 'mine' && state.mine;
  // Offline, a provider on another host cannot answer: the Offline provider does, and says so.
  const chosen = state.settings.provider;
  const cut = !navigator.onLine && ['openai', 'anthropic'].includes(chosen) && !onThisMachine(state.settings.endpoint[chosen]);
  const provider = cut ? 'offline' : chosen;
  const model = provider === 'local' ? local.name() : state.settings.model[provider];
  note('');
  ui.searchNote.textContent = '';
  ui.retry.hidden = true;
  ui.answer.replaceChildren();
  ui.sources.replaceChildren();
  // The earlier turns (at most TURNS.default) are shown above and asked with: a follow-up.
  const history = conversation.begin(TURNS.default);
  const t0 = performance.now();
  setStatus('Searching…');
  let prompt;
  let path = 'hybrid';
  try {
    // The local model's context is small: its prompt gets what the context leaves (local.js).
    const opts = { k: state.settings.k, budget: provider === 'local' ? local.budget() : BUDGET, history };
    if (mine) prompt = await state.mine.assemble(question, opts);
    else {
      ({ prompt, path } = await state.site.assemble(question, {
        ...opts,
        semanticRetry: true,
        signal: controller.signal,
        onWait: () => {
          ui.stop.hidden = false;
          setStatus('Not found by keyword search; trying semantic search once its model has loaded…');
        },
      }));
    }
  } catch (e) {
    if (state.controller !== controller) return;
    if (e?.name === 'IndexError') indexFault(e, question);
    else setStatus(`Search failed: ${e.message}`, 'error');
    return;
  }
  if (state.controller !== controller) return;
  ui.stop.hidden = true;
  // The visitor's own documents are searched whole, by both (their index is in memory).
  ui.searchNote.textContent = `Found by ${PATHS[path]}.`;
  const docent = mine ? state.mine : state.site.answerer;
  renderSources(prompt.sources);
  renderPrompt(provider, prompt, model);
  const offlineNote = cut ? `You are offline: answered by the Offline provider (extractive) instead of ${state.settings.model[chosen]}.` : '';
  if (prompt.abstained) {
    // The core names terms the documents never mention ("These documents do not mention X.").
    const named = prompt.missing?.length && docent ? (await docent.offlineAnswer(prompt, question)).text : null;
    if (state.controller !== controller) return;
    ui.answer.textContent = named || NOT_IN_DOCUMENTS;
    conversation.add(question, ui.answer.textContent);
    note(provider === 'offline' ? '' : 'No request was sent to the model.');
    setStatus(`No relevant passage found (${Math.round(performance.now() - t0)} ms).`);
    return;
  }
  let localModel;
  if (provider === 'local') {
    localModel = await local.ready().catch(() => undefined);
    if (state.controller !== controller) return;
    if (!localModel) {
      // Never downloaded without the visitor's word: the button under Model asks for it.
      note(localModel === null ? `The local model is not loaded yet: press "${ui.localLoad.textContent}" under Model first.` : 'The local model could not load (see under Model).', 'warn');
      setStatus('The model did not answer.');
      return;
    }
  }
  ui.stop.hidden = false;
  ui.answer.classList.add('streaming');
  setStatus(provider === 'offline' ? 'Answering offline…' : provider === 'local' ? `${model} is reading the sources in this page…` : `Asking ${model}…`);
  let text = '';
  try {
    const stream = streamAnswer({
      provider,
      endpoint: state.settings.endpoint[provider],
      model,
      apiKey: state.keys[provider] || undefined,
      messages: prompt.messages,
      prompt,
      question,
      docent, // the index's module computes the offline answer
      local: localModel,
      signal: controller.signal,
      firstByteTimeoutMs: state.settings.timeoutS * 1000,
      stallTimeoutMs: state.settings.timeoutS * 1000,
    });
    let first = 0;
    for await (const delta of stream) {
      if (!first) first = performance.now() - t0;
      text += delta;
      renderAnswer(text, prompt.sources);
    }
    conversation.add(question, text, prompt.sources);
    note(offlineNote);
    saved.keepPages(prompt.sources.map((s) => s.url)); // so that its citations open offline too
    setStatus(`Answered: first words after ${Math.round(first)} ms, done after ${Math.round(performance.now() - t0)} ms.`);
  } catch (e) {
    const partial = e instanceof LlmError && e.partial ? e.partial : text;
    if (partial) renderAnswer(partial, prompt.sources);
    if (e instanceof LlmError && e.kind === 'aborted') {
      note(partial ? 'Stopped: the answer above is incomplete.' : 'Stopped.', 'warn');
      setStatus('Stopped.');
    } else {
      // The client's messages end without a full stop; one goes in before the next sentence.
      note(partial ? `${e.message.replace(/(?<![.!?…])$/, '.')} The answer above is incomplete.` : e.message, 'error');
      setStatus('The model did not answer.', 'error');
    }
  } finally {
    ui.answer.classList.remove('streaming');
    if (state.controller === controller) {
      state.controller = null;
      ui.stop.hidden = true;
    }
  }
}

/** The conversation: earlier questions and answers, kept for follow-ups until "New question". */
const conversation = new Conversation(ui.turns, ui.newQuestion, {
  render: (text, sources) => answerNodes(text, sources, { base: location.href, newTab: true }),
  onClear: () => {
    state.controller?.abort();
    ui.answer.replaceChildren();
    ui.sources.replaceChildren();
    ui.searchNote.textContent = '';
    note('');
    ui.question.value = '';
    ui.question.focus();
  },
});

function wireAsk() {
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = ui.question.value.trim();
    if (q) ask(q);
  });
  ui.retry.addEventListener('click', () => {
    ui.retry.hidden = true;
    state.site?.reset();
    if (state.site && state.retryQuestion) ask(state.retryQuestion);
    else start();
  });
  ui.stop.addEventListener('click', () => state.controller?.abort());
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.controller) state.controller.abort();
  });
}

// ------------------------------------------------------------------------------------------

const docs = visitorDocs(ui, state, SITE_INDEX);
const settings = settingsPanel(ui, state, { showLocal: () => local.show() });
const local = localPanel(ui, state, { save: settings.save, copy: saved });

/** Opens the demo site's index (again after a failure, from Retry). */
async function start() {
  const t0 = performance.now();
  setStatus('Loading the index…');
  const site = new SiteSearch(SITE_INDEX, { onEmbedder: showEmbedder });
  let stats;
  try {
    stats = await site.open({ onProgress: showLoadProgress });
  } catch (e) {
    setStatus(`${e.message} Run ./build.sh demo to build and serve the demo index (${SITE_INDEX.pathname}).`, 'error');
    ui.retry.hidden = false;
    return;
  }
  state.site = site;
  state.embedder = stats.embedder.kind;
  ui.loadBox.classList.add('done');
  const ms = Math.round(performance.now() - t0);
  const counts = Number.isInteger(stats.documents) ? `${stats.documents} documents, ${stats.chunks} passages` : 'the demo docs';
  setStatus(site.fragmented
    ? `Ready in ${ms} ms: ${counts}; keyword search now, fetching only what each question needs; ${stats.embedder.kind} embeddings load in a Web Worker for semantic search.`
    : `Ready in ${ms} ms: ${counts}, ${stats.embedder.kind} embeddings in a Web Worker.`);
  ui.question.disabled = false;
  ui.ask.disabled = false;
  ui.question.focus();
  saved.keep(site, { index: SITE_INDEX, runtime: RUNTIME });
  // The demo shows both paths: the embedder loads in the background at once (unless the browser
  // asks to save data); questions asked meanwhile are answered by keyword search.
  site.startEmbedder();
  await docs.restore();
}

wireTheme(ui);
local.wire();
settings.wire();
wireAsk();
docs.wire();
start();
