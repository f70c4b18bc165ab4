// The browser end-to-end scenario (tests/browser/browser.test.mjs opens page.html): load a site
// index written by the native CLI with loadDocent, search, assemble, load again (model files must
// come from the Cache API), and load from a missing folder. Results go to window.docentResult.
import { loadDocent } from '/pkg/docent.js';

const QUESTION = 'how often should I water tomatoes';
const params = new URLSearchParams(location.search);
const base = params.get('index') ?? '/idx/docent/';
const missing = params.get('missing') ?? '/idx/missing/';

async function scenario() {
  await caches.delete('docent-models-v1'); // start cold: a previous run may have filled the cache
  const first = [];
  const t0 = performance.now();
  const docent = await loadDocent(base, { onProgress: (e) => first.push(e) });
  const loadMs = performance.now() - t0;
  const search = docent.search(QUESTION, { k: 3 });
  const prompt = docent.assemble(QUESTION, { k: 3, budget: 2000 });

  const second = [];
  const again = await loadDocent(base, { onProgress: (e) => second.push(e) });
  const againTop = again.search(QUESTION, { k: 1 }).hits[0]?.url;
  const cached = await (await caches.open('docent-models-v1')).keys();

  let error;
  try {
    await loadDocent(missing);
  } catch (e) {
    error = { isError: e instanceof Error, message: String(e?.message ?? e) };
  }
  return {
    loadMs,
    stats: docent.stats(),
    hits: search.hits.map((h) => ({ url: h.url, score: h.score })),
    answerable: search.answerable,
    prompt: { abstained: prompt.abstained, sources: prompt.sources, user: prompt.user },
    progress: { first, second },
    againTop,
    cached: cached.map((r) => new URL(r.url).pathname),
    error,
  };
}

const status = document.querySelector('[data-testid="status"]');
scenario().then(
  (result) => {
    window.docentResult = result;
    status.textContent = 'done';
  },
  (e) => {
    window.docentResult = { failed: `${e?.name}: ${e?.message}\n${e?.stack ?? ''}` };
    status.textContent = 'failed';
  },
);
