// Adds <docent-ask> with the attributes of the query string, then loads the widget from the
// index folder (/docent/), as `<script type="module" src="/docent/docent-ask.js">` would.
// Records every answer with its time (performance.now) for the benchmark.
// Records the background embedder's states (a widget that has one: `docent-embedder`).
window.benchAnswers = [];
window.benchEmbedder = [];
document.addEventListener('docent-answer', (e) => {
  const note = e.target.shadowRoot?.querySelector('[data-testid="search-note"]');
  window.benchAnswers.push({ at: performance.now(), question: e.detail.question, text: e.detail.text, sources: (e.detail.sources ?? []).map((s) => s.url ?? s.href ?? s), note: note?.textContent ?? null, search: e.detail.search ?? null });
});
document.addEventListener('docent-embedder', (e) => {
  window.benchEmbedder.push({ at: performance.now(), state: e.detail.state, error: e.detail.error ? String(e.detail.error.message ?? e.detail.error) : null });
});
const el = document.createElement('docent-ask');
for (const [k, v] of new URLSearchParams(location.search)) el.setAttribute(k, v);
document.querySelector('main').append(el);
await import('/docent/docent-ask.js');
/** Asks as a reader does: focus the box, type, press Ask. Returns the time it started. */
window.benchAsk = (question) => {
  const s = el.shadowRoot;
  const t0 = performance.now();
  const input = s.querySelector('[data-testid="question"]');
  input.focus();
  input.value = question;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  s.querySelector('[data-testid="ask"]').click();
  return t0;
};
window.benchReady = true;
