// <docent-ask>: the drop-in "ask these docs" box for a static site.
//
//   <script type="module" src="/docent/docent-ask.js"></script>
//   <docent-ask></docent-ask>
//
// `docent index ./public --out ./public/docent` copies this file next to the index, the model and
// the wasm. Nothing is downloaded until the reader focuses the box; then, for a fragmented index,
// the small search module and the manifest; each question fetches the fragments it needs, the first
// answered by keyword search without any model. The embedder (in a Web Worker) loads in the
// background (see `embed`); then questions use keyword + semantic search (one keyword search found
// nothing for is asked again), as a quiet note under each answer says. An index without fragments
// (older `docent index` output) is loaded whole on focus, in a Web Worker.
//
// Attributes, styling (CSS custom properties and parts), events and the Content-Security-Policy
// it needs: the README's "<docent-ask>" section is the one reference. `provider` is offline
// (default: an extractive answer, no LLM), openai, anthropic or local (ask-local.js); follow-ups
// (ask-conversation.js), search as you type (ask-typeahead.js), feedback (ask-feedback.js),
// reports of flagged questions (ask-report.js) and the offline copy (ask-offline.js) each live in
// their own module. There is deliberately no attribute for an API key: a key in HTML is public.
// Faults: when the index or one of its fragments cannot be loaded (missing, damaged, from another
// build, too slow), the status says so in one sentence and a Retry button asks again, fetching the
// manifest anew; nothing is answered from a partial index.
// Safety: document text and model output reach the DOM only as text nodes; links only for URLs
// that safeHref accepts (http(s) or this site).
import { SiteSearch } from './ask-search.js';
// The client's modules, not the llm.js facade (which also loads llm/local.js).
import { streamAnswer } from './llm/stream.js';
import { LlmError } from './llm/errors.js';
import { renderAnswer, renderSources } from './render.js';
import { buildView } from './ask-view.js';
import { LlmSettings, attributeMs, embedMode, TIMEOUT_S, INDEX_TIMEOUT_S } from './ask-settings.js';
import { STRINGS } from './ask-strings.js';
import { Texts, withOverrides, parseStringsAttribute } from './ask-i18n.js';
import { Modal } from './ask-modal.js';
import { Conversation, turnsOf } from './ask-conversation.js';
// ask-typeahead.js, ask-feedback.js, ask-report.js and ask-offline.js are imported when first
// needed (focus, an answer, a flagged question with `report`, an open index with `service-worker`).

const BUDGET = 3000;

/** The folder this module was loaded from: where `docent index` put the index. */
const HERE = new URL('./', import.meta.url);

export class DocentAsk extends HTMLElement {
  static get observedAttributes() {
    return ['placeholder', 'provider', 'endpoint', 'model', 'model-url', 'offline', 'key', 'strings'];
  }

  #root;
  #els = {};
  #search = null;
  #loading = null;
  /** The question a Retry asks again. */
  #retryQuestion = null;
  #controller = null;
  /** Provider, endpoints, models and keys (ask-settings.js), once rendered. */
  #settings = null;
  /** Search as you type, once the box was first focused (null before). */
  #typeahead = null;
  /** The copy and thumbs row: a promise of it, once the first answer finished. */
  #feedback = null;
  /** The dialog of mode="modal", or null inline. */
  #modal = null;
  /** The last completed answer's question, sources and provider (what a thumb is about). */
  #asked = null;
  /** The strings this element shows: English, the `strings` attribute, then `setStrings`. */
  #S = STRINGS;
  /** The overrides of `setStrings`. */
  #ownStrings = {};
  /** The texts shown once (labels, captions), bound to their keys. */
  #texts = new Texts();
  /** The `report` sender: a promise of it, once a flagged question had the attribute. */
  #reporter = null;
  /** The earlier turns a follow-up is asked with. */
  #conversation = null;
  /** The saved copy (`service-worker`): a promise of it, once the index opened. */
  #saved = null;
  /** provider="local": a promise of its LocalAnswerer (ask-local.js), once first needed. */
  #local = null;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
  }

  connectedCallback() {
    if (!this.#els.form) {
      this.#S = this.#strings();
      this.#render();
      this.#readAttributes();
      // Lazy: the index (and, for embed="focus", the embedder) load when the reader first shows interest.
      this.#els.input.addEventListener('focus', () => {
        this.load().then(() => {
          if (this.#embedMode() === 'focus') this.#search.startEmbedder();
        }, () => {});
      }, { once: true });
      if ((this.getAttribute('mode') ?? '').trim().toLowerCase() === 'modal') this.#modal = new Modal(this.#root, this.#els.input, { strings: this.#S, texts: this.#texts });
    }
    this.#modal?.listen();
  }

  disconnectedCallback() {
    this.#modal?.unlisten();
  }

  /** Opens the dialog (mode="modal"; nothing inline). */
  open() { this.#modal?.open(); }

  /** Closes the dialog (mode="modal"). */
  close() { this.#modal?.close(); }

  attributeChangedCallback(name) {
    if (!this.#els.form) return;
    if (name === 'strings') this.setStrings(this.#ownStrings);
    else this.#readAttributes();
  }

  /** The strings this element shows now (frozen): English with the page's overrides. */
  get strings() {
    return this.#S;
  }

  /**
   * The page's own wording from JavaScript: any keys of STRINGS (ask-strings.js), over English
   * and the `strings` attribute; a call replaces the previous call's keys (`setStrings({})`
   * clears them). Unknown keys and values of the wrong type are left out with a console warning.
   * @param {object} overrides
   */
  setStrings(overrides) {
    this.#ownStrings = overrides;
    if (!this.#els.form) return; // read when the element is first connected
    this.#S = this.#strings();
    this.#texts.apply(this.#S);
    this.#els.input.placeholder = this.getAttribute('placeholder') ?? this.#S.placeholder;
  }

  #strings() {
    const attr = withOverrides(parseStringsAttribute(this.getAttribute('strings')), 'the strings attribute');
    const own = this.#ownStrings;
    return own && typeof own === 'object' && Object.keys(own).length === 0 ? attr : withOverrides(own, 'setStrings()', attr);
  }

  /**
   * Opens the index (idempotent; again after a fault): for a fragmented index the manifest and the
   * search module, else the whole index and its model. Resolves with the index's stats when ready.
   */
  load() {
    this.#loading ??= (async () => {
      this.#search ??= new SiteSearch(this.#indexUrl(), {
        timeoutMs: this.#indexTimeoutMs(),
        onEmbedder: (state, { file, error }) => {
          if (state === 'loading' && file) return; // progress; only changes of state are events
          if (state === 'ready') this.#keepOffline(); // the copy takes the model too
          this.#emit('docent-embedder', { state, ...(error ? { error: String(error.message ?? error) } : {}) });
        },
      });
      this.#status(this.#S.loading);
      this.#els.retry.hidden = true;
      let stats;
      try {
        stats = await this.#search.open({
          onProgress: (e) => {
            if (e.stage !== 'ready' && e.total) this.#status(this.#S.loadingFile(e.file, Math.round((100 * e.loaded) / e.total)));
          },
        });
      } catch (e) {
        this.#loading = null; // a Retry (or the next question) tries again
        this.#fault(e);
        throw e;
      }
      this.#status(this.#S.ready);
      this.#emit('docent-ready', { stats });
      this.#keepOffline();
      return stats;
    })();
    return this.#loading;
  }

  /** Asks a question as if the reader had typed it. */
  async ask(question) {
    this.#els.input.value = question;
    return this.#ask(question);
  }

  // -----------------------------------------------------------------------------------------

  #render() {
    this.#els = buildView(this.#root, this.#S, this.#texts);
    const { form, input, stop, retry } = this.#els;
    input.addEventListener('focus', () => this.#startTypeahead(), { once: true });
    input.addEventListener('keydown', (e) => this.#typeahead?.keydown(e));
    this.#conversation = new Conversation(this.#els.turns, this.#els.newQuestion, {
      render: (text, sources) => renderAnswer(text, sources, { base: this.#siteBase() }),
      onClear: () => this.#newQuestion(),
    });

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const q = input.value.trim();
      if (q) this.#ask(q);
    });
    stop.addEventListener('click', () => this.#controller?.abort());
    retry.addEventListener('click', () => {
      const q = this.#retryQuestion;
      this.#search?.reset();
      this.#loading = null;
      if (q) this.#ask(q);
      else this.load().then(() => this.#embedMode() === 'focus' && this.#search.startEmbedder(), () => {});
    });
    this.#root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented && this.#controller) this.#controller.abort();
    });
  }

  /** Search as you type from the first focus on (what was typed before it loaded is searched). */
  #startTypeahead() {
    const { input, results } = this.#els;
    import('./ask-typeahead.js').then(({ TypeAhead, RESULTS }) => {
      this.#typeahead = new TypeAhead(input, results, {
        search: async (query) => {
          await this.load();
          return this.#search.suggest(query, { k: RESULTS, prefix: !/\s$/.test(query) });
        },
        base: () => this.#siteBase(),
      });
      if (input.value && this.#root.activeElement === input) input.dispatchEvent(new Event('input'));
    });
  }

  #readAttributes() {
    const attr = (name) => this.getAttribute(name);
    if (this.#settings) this.#settings.read(attr);
    else this.#settings = new LlmSettings(this.#els, attr);
    this.#els.input.placeholder = this.getAttribute('placeholder') ?? this.#S.placeholder;
  }

  /** The `timeout` attribute in ms. */
  #timeoutMs() {
    return attributeMs(this.getAttribute('timeout'), TIMEOUT_S);
  }

  /** The `index-timeout` attribute in ms. */
  #indexTimeoutMs() {
    return attributeMs(this.getAttribute('index-timeout'), INDEX_TIMEOUT_S);
  }

  /** The `embed` attribute. */
  #embedMode() {
    return embedMode(this.getAttribute('embed'));
  }

  /** The index folder: the `index` attribute, else this script's folder. */
  #indexUrl() {
    const index = new URL(this.getAttribute('index') ?? HERE.href, document.baseURI);
    if (!index.pathname.endsWith('/')) index.pathname += '/';
    return index;
  }

  /** Shows a failure to load the index (one sentence) and offers Retry. */
  #fault(e) {
    this.#status(e?.name === 'IndexError' && e.detail ? this.#S.indexFailed(e.detail) : e.message, true);
    this.#els.retry.hidden = false;
  }

  /** The quiet note under an answer: how its sources were found. */
  /** The quiet note under an answer: which search found it; `insteadOf` names the model offline answers replaced. */
  #note(path, insteadOf = null) {
    let text = this.#S.paths[path];
    const s = this.#search;
    if (path === 'keyword' && s?.embedState === 'failed') text += this.#S.semanticFailed;
    if (insteadOf) text += ` ${this.#S.offlineInstead(insteadOf)}`;
    this.#els.note.textContent = text;
    this.#els.note.title = path === 'keyword' && s?.embedError ? String(s.embedError.message ?? s.embedError) : '';
  }

  #status(text, error = false) {
    this.#els.status.textContent = text;
    this.#els.status.classList.toggle('error', error);
    this.#els.status.setAttribute('role', error ? 'alert' : 'status');
  }

  /** Where the site's pages are: the folder that holds the index folder. */
  #siteBase() {
    return new URL('../', this.#indexUrl());
  }

  #renderAnswer(text, sources) {
    this.#els.answer.replaceChildren(renderAnswer(text, sources, { base: this.#siteBase() }));
  }

  #renderSources(sources) {
    this.#els.sources.replaceChildren(...renderSources(sources, { base: this.#siteBase() }));
  }

  /** "New question": the conversation is forgotten (Conversation cleared its turns) and the box emptied. */
  #newQuestion() {
    this.#controller?.abort();
    const e = this.#els;
    this.#feedback?.then((f) => f.clear());
    this.#asked = null;
    e.answer.replaceChildren();
    e.sources.replaceChildren();
    e.note.textContent = '';
    e.prompt.textContent = '';
    this.#status('');
    e.input.value = '';
    e.input.focus();
  }

  async #ask(question) {
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const started = performance.now();
    const e = this.#els;
    this.#typeahead?.cancel();
    this.#feedback?.then((f) => f.clear());
    this.#asked = null;
    e.answer.replaceChildren();
    e.sources.replaceChildren();
    e.note.textContent = '';
    e.retry.hidden = true;
    this.#retryQuestion = question;
    try {
      await this.load();
    } catch {
      return; // load() showed the fault and offers Retry
    }
    const k = Math.min(10, Math.max(1, Number.parseInt(this.getAttribute('sources') ?? '5', 10) || 5));
    const turns = turnsOf(this.getAttribute('turns'));
    const history = this.#conversation.begin(turns);
    this.#status(this.#S.searching);
    let prompt;
    let path;
    try {
      ({ prompt, path } = await this.#search.assemble(question, {
        k,
        // A local model's context is small: the prompt gets what it leaves (llm/local.js).
        budget: this.#settings.provider === 'local' ? (await this.#localAnswerer()).budget() : BUDGET,
        history,
        semanticRetry: this.#embedMode() !== 'never',
        signal: controller.signal,
        onWait: () => {
          e.stop.hidden = false;
          this.#status(this.#S.semanticWait);
        },
      }));
    } catch (err) {
      if (this.#controller !== controller) return; // a newer question took over
      if (err?.name === 'IndexError') this.#fault(err);
      else this.#status(this.#S.searchFailed(err.message), true);
      return;
    }
    if (this.#controller !== controller) return;
    e.stop.hidden = true;
    this.#retryQuestion = null;
    // Offline, a model on another host cannot answer: the documents' own sentences do, and the
    // note says so (a model on this machine, or in the page, still answers).
    const provider = this.#settings.providerNow();
    const cutOff = provider !== this.#settings.provider;
    this.#note(path, cutOff ? this.#settings.request().model || this.#settings.provider : null);
    e.prompt.textContent = JSON.stringify(prompt.messages, null, 2);
    const done = { question, provider, path, started };
    if (prompt.abstained) {
      // Terms the documents never mention are named ("These documents do not mention GraphQL."):
      // the core makes that sentence, through the offline answer of the abstained prompt.
      // A page's own wording of it (`notMentioned`) takes the place of the core's.
      const answerer = this.#search.answerer;
      const terms = prompt.missing ?? [];
      this.#report(question, terms);
      const own = terms.length ? this.#S.notMentioned(terms.join(', ')) : null;
      const named = typeof own === 'string' ? own : terms.length && answerer ? (await answerer.offlineAnswer(prompt, question)).text : null;
      if (this.#controller !== controller) return;
      e.answer.textContent = named || this.#S.notCovered;
      this.#status(this.#S.noPassage);
      this.#emit('docent-answer', { question, text: '', sources: [], search: path });
      this.#finished({ ...done, answerable: false, sources: [], text: e.answer.textContent });
      if (turns > 0) this.#conversation.add(question, e.answer.textContent);
      this.#answered();
      return;
    }
    this.#renderSources(prompt.sources);
    e.stop.hidden = false;
    let text = '';
    try {
      const local = provider === 'local' ? await (await this.#localAnswerer()).ready(this.#settings.localUrl, controller.signal) : undefined;
      this.#status(this.#S.answering);
      const stream = streamAnswer({
        local,
        provider,
        ...this.#settings.request(),
        messages: prompt.messages,
        prompt,
        question,
        docent: this.#search.answerer, // the index's module computes the offline answer
        signal: controller.signal,
        firstByteTimeoutMs: this.#timeoutMs(),
        stallTimeoutMs: this.#timeoutMs(),
      });
      for await (const delta of stream) {
        text += delta;
        this.#renderAnswer(text, prompt.sources);
      }
      this.#status('');
      this.#emit('docent-answer', { question, text, sources: prompt.sources, search: path });
      this.#finished({ ...done, answerable: true, sources: prompt.sources, text });
      if (turns > 0) this.#conversation.add(question, text, prompt.sources);
    } catch (err) {
      const partial = err instanceof LlmError && err.partial ? err.partial : text;
      if (partial) this.#renderAnswer(partial, prompt.sources);
      if (err instanceof LlmError && err.kind === 'aborted') this.#status(partial ? this.#S.stoppedPartial : this.#S.stopped);
      // The client's messages end without a full stop; one goes in before the next sentence.
      else this.#status(partial ? this.#S.incomplete(err.message.replace(/(?<![.!?…])$/, '.')) : err.message, true);
    } finally {
      if (this.#controller === controller) {
        this.#controller = null;
        e.stop.hidden = true;
      }
      this.#answered();
    }
  }

  /** A complete answer: its actions (copy, thumbs) appear and `docent-question` says what was asked and found. */
  #finished({ question, provider, path, started, answerable, sources, text }) {
    const brief = sources.map((s) => ({ n: s.n, title: s.heading || s.title, url: s.url }));
    const asked = { question, sources: brief, provider };
    this.#asked = asked;
    this.#saved?.then((copy) => copy.keepPages(brief.map((s) => s.url), this.#siteBase())); // cited pages, for offline
    this.#feedback ??= import('./ask-feedback.js').then(({ Feedback }) => new Feedback(this.#els.actions, {
      strings: () => this.#S,
      texts: this.#texts,
      onVote: (helpful) => this.#asked && this.#emit('docent-feedback', { question: this.#asked.question, helpful, sources: this.#asked.sources, provider: this.#asked.provider }),
    }));
    const detail = { question, answerable, sources: brief, provider, path, ms: Math.round(performance.now() - started) };
    // The row is shown only if no other question was asked meanwhile; the event follows it, so a
    // listener finds the answer's actions in place.
    this.#feedback
      .then((f) => this.#asked === asked && f.show(text, sources, this.#siteBase()))
      .finally(() => this.#emit('docent-question', detail));
  }

  /** A question the gate flagged, reported to the `report` endpoint when there is one. */
  #report(question, missing) {
    const attr = this.getAttribute('report');
    if (attr === null) return;
    const index = this.#search.indexId;
    this.#reporter ??= import('./ask-report.js').then(({ Reporter }) => new Reporter());
    this.#reporter.then((r) => {
      const url = r.endpoint(attr);
      if (url) r.send(url, { question, missing, index });
    });
  }

  #localAnswerer() {
    // The saved copy (service-worker) learns where the model stands: "ready offline" waits for it.
    const onModel = (state) => this.#saved?.then((copy) => copy.answerModel(state));
    this.#local ??= import('./ask-local.js').then(({ LocalAnswerer }) => new LocalAnswerer(this.#els, () => this.#S, (text) => this.#status(text), onModel));
    return this.#local;
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail }));
  }

  /** service-worker="URL": keeps the saved copy for reading offline up to date (ask-offline.js). */
  #keepOffline() {
    const script = this.getAttribute('service-worker');
    if (script === null || !this.#search?.fragmented) return;
    this.#saved ??= import('./ask-offline.js').then(({ SavedCopy }) => new SavedCopy(script, { strings: () => this.#S, line: this.#els.saved }));
    this.#saved.then((copy) => copy.keep(this.#search, { index: this.#indexUrl() }));
  }

  /** After an answer: embed="answer" starts loading the embedder now (once). */
  #answered() {
    if (this.#embedMode() === 'answer') this.#search?.startEmbedder();
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('docent-ask')) {
  customElements.define('docent-ask', DocentAsk);
}
