// The Web Worker entry of docent (`docent/worker`): holds one Docent and runs the operations a
// `DocentWorker` (docent.js) sends it, so that model loading, embedding and indexing stay off the
// page's main thread. Protocol, one message per call and answer:
//   page → worker  {id, op, args, progress}        op: load | create | open | addDocument | ...
//   worker → page  {id, progress: [...]}            zero or more, when `progress` was asked for
//   worker → page  {id, value} | {id, error: {name, message}}
// Calls run one at a time in arrival order (a build is never interleaved with a search).
import { createDocent, loadDocent, openDocent, setPdfModule } from './docent.js';

let docent;
let queue = Promise.resolve();

function need() {
  if (!docent) throw new Error('docent worker: no index yet (load, create or open one first)');
  return docent;
}

const ops = {
  load: (progress, baseUrl, options) => loadDocent(baseUrl, { ...options, onProgress: progress }).then(adopt),
  create: (progress, options) => createDocent(options, { onProgress: progress }).then(adopt),
  open: (progress, bytes, options) => openDocent(bytes, { ...options, onProgress: progress }).then(adopt),
  // `pdf`: where the page loads the PDF module from (setPdfModule), sent with a PDF.
  addDocument: (_, doc, pdf) => {
    if (pdf) setPdfModule(pdf);
    return need().addDocument(doc);
  },
  removeDocument: (_, url) => need().removeDocument(url),
  build: (progress) => need().build(progress ? (stage, done, total) => progress(stage, done, total) : undefined),
  search: (_, query, options) => need().search(query, options),
  assemble: (_, question, options) => need().assemble(question, options),
  toBytes: () => need().toBytes(),
  stats: () => need().stats(),
  embed: (_, texts) => need().embed(texts),
  offlineAnswer: (_, prompt, question) => need().offlineAnswer(prompt, question),
  // A pool (createDocent(…, {workers})): the chunks a build would embed, and their vectors back.
  pendingEmbeddings: () => need().pendingEmbeddings(),
  setVectors: (_, chunks, vectors) => need().setVectors(chunks, vectors),
};

function adopt(d) {
  docent?.free();
  docent = d;
  return { dim: d.dim };
}

async function run({ id, op, args, progress }) {
  const report = progress ? (...p) => self.postMessage({ id, progress: p }) : undefined;
  try {
    const fn = ops[op];
    if (!fn) throw new Error(`docent worker: unknown operation ${JSON.stringify(op)}`);
    const value = await fn(report, ...(Array.isArray(args) ? args : []));
    const transfer = ArrayBuffer.isView(value) ? [value.buffer] : [];
    self.postMessage({ id, value }, transfer);
  } catch (e) {
    self.postMessage({ id, error: { name: e?.name ?? 'Error', message: String(e?.message ?? e) } });
  }
}

self.addEventListener('message', (e) => {
  queue = queue.then(() => run(e.data));
});
