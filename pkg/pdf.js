// Reading PDFs in the npm package: a third wasm module (docent_pdf.js, docent_pdf_bg.wasm: lopdf)
// extracts a PDF's pages, loaded only when a PDF's bytes are added, so readers who never add one
// never download it; the full module (docent.js) makes sections of what it extracted.
import { wasmSource } from './wasm-source.js';

/**
 * Where the PDF module is loaded from: `{module, wasm}`, absolute URLs of `docent_pdf.js` and
 * `docent_pdf_bg.wasm`; null until `setPdfModule` (then: beside this file).
 */
let pdfWhere = null;

/** Where `setPdfModule` said the PDF module is, or null (beside this file). */
export function pdfModule() {
  return pdfWhere;
}

/**
 * Where the PDF module (`docent_pdf.js` and `docent_pdf_bg.wasm`) is served from, for a bundled
 * app: the bundler emits both as assets and gives their URLs (Vite: `import pdfModule from
 * 'docent/docent_pdf.js?url'` and `'docent/docent_pdf_bg.wasm?url'`). Default (never called): both
 * beside `docent.js`, as in the package and the site folder `docent index` writes. Call it before
 * the first PDF is added; a `DocentWorker` passes it on to its worker with each PDF.
 * @param {{module: string | URL, wasm: string | URL}} where relative URLs are resolved against
 *   the page
 */
export function setPdfModule(where) {
  const base = globalThis.location?.href;
  const url = (u, name) => {
    try {
      return new URL(String(u), base).href;
    } catch {
      throw new Error(`setPdfModule: ${name}: expected the URL of the bundled ${name === 'module' ? 'docent_pdf.js' : 'docent_pdf_bg.wasm'}, found ${JSON.stringify(String(u))}`);
    }
  };
  if (where?.module === undefined || where?.wasm === undefined) {
    throw new Error('setPdfModule: expected {module, wasm}: the URLs of docent_pdf.js and docent_pdf_bg.wasm');
  }
  const next = { module: url(where.module, 'module'), wasm: url(where.wasm, 'wasm') };
  if (pdfWhere?.module !== next.module || pdfWhere?.wasm !== next.wasm) pdfReader = undefined;
  pdfWhere = next;
}

/**
 * The PDF module's `extractPdf` (a PDF's bytes → its pages' text, outline and title, or why it is
 * skipped), loaded on first use (from `setPdfModule`'s URLs, else next to this file); later calls
 * return the same promise.
 * @returns {Promise<(bytes: Uint8Array) => object>}
 */
let pdfReader;
function loadPdfReader() {
  pdfReader ??= (async () => {
    // Not a bundler-visible import: a bundler would split the worker's bundle for it, which
    // Vite's default worker format (iife) refuses. A bundled app emits docent_pdf.js and its
    // wasm as assets and says where (setPdfModule).
    const href = pdfWhere?.module ?? new URL('./docent_pdf.js', import.meta.url).href;
    const pdf = await import(/* @vite-ignore */ /* webpackIgnore: true */ href);
    await pdf.default(await wasmSource(pdfWhere?.wasm, new URL('./docent_pdf_bg.wasm', import.meta.url)));
    return pdf.extractPdf;
  })().catch((e) => {
    pdfReader = undefined; // a failed load may be retried
    const hint = pdfWhere ? '' : ' (a bundled app says where it serves docent_pdf.js and its wasm with setPdfModule: see the README)';
    throw new Error(`the PDF reader (docent_pdf.js) could not be loaded: ${e?.message ?? e}${hint}`, { cause: e });
  });
  return pdfReader;
}

/**
 * `Docent.addDocument` and `addPage` with a PDF's bytes: the PDF module extracts the pages, the
 * full module makes sections of them (one reader in two halves, as the CLI runs it). Bytes over
 * the document limit, and anything else the call could be given, go to the wasm method as they
 * are, so its checks and messages stay its own. Returns a Promise for a PDF's bytes, else what
 * the wasm method returns.
 */
export function withPdf(wasmMethod) {
  return function (doc) {
    const bytes = doc?.pdf;
    if (!(bytes instanceof Uint8Array) || bytes.length > this.maxDocumentBytes) return wasmMethod.call(this, doc);
    return loadPdfReader().then((extractPdf) => wasmMethod.call(this, { ...doc, pdf: extractPdf(bytes) }));
  };
}

