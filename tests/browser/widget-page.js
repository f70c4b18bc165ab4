// The page of tests/browser/widget.test.mjs: adds one <docent-ask>, loaded from the index folder
// (`?index=/site/docent/`) the way a site does, with the attributes in `?attrs=` (JSON), and
// records the widget's events in window.docentEvents.
const params = new URLSearchParams(location.search);
const index = params.get('index') ?? '/site/docent/';
const attrs = JSON.parse(params.get('attrs') ?? '{}');

window.docentEvents = [];
for (const type of ['docent-ready', 'docent-answer', 'docent-embedder', 'docent-question', 'docent-feedback']) {
  document.addEventListener(type, (e) => window.docentEvents.push({ type, at: Date.now(), detail: JSON.parse(JSON.stringify(e.detail)) }));
}

await import(new URL('docent-ask.js', new URL(index, location.href)).href);
const el = document.createElement('docent-ask');
for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
document.querySelector('main').append(el);
window.widgetAdded = true;
