// Types of the docent npm package (the classes and shapes come from the generated docent_wasm.d.ts).
export { Docent, SiteIndex, VectorIndex, followupQuery, memoryBytes, modelFiles } from './docent_wasm.js';
export type {
  AssembleOptions,
  DocentOptions,
  DocumentInput,
  EmbedderInfo,
  FileEntry,
  Hit,
  ModelFile,
  ModelFiles,
  OfflineAnswer,
  OfflinePrompt,
  PageOutcome,
  PendingGroup,
  PreviousSite,
  ProgressCallback,
  Prompt,
  ReuseReport,
  SearchOptions,
  SearchResult,
  SiteLayout,
  SiteWork,
  Source,
  Stats,
  VectorIndexOptions,
  VectorSearchResult,
} from './docent_wasm.js';

/**
 * Loads and instantiates the WebAssembly module once; later calls return the same promise.
 * Browsers fetch `docent_wasm_bg.wasm` next to the package (or `input`); Node reads it from disk.
 */
export function init(
  input?: URL | string | Request | Response | BufferSource | WebAssembly.Module,
): Promise<void>;

/**
 * Where a bundled app serves the PDF module (its bundler emits `docent_pdf.js` and
 * `docent_pdf_bg.wasm` as assets; Vite: `import pdfModule from 'docent/docent_pdf.js?url'`).
 * Default: both beside `docent.js`. Call it before the first PDF is added; a `DocentWorker`
 * passes it on to its worker.
 */
export function setPdfModule(where: { module: string | URL; wasm: string | URL }): void;

/** A progress event of `loadDocent`. */
export interface LoadProgress {
  stage: 'index' | 'model' | 'ready';
  /** Bytes received so far (index and model stages). */
  loaded?: number;
  /** Bytes expected, when known. */
  total?: number;
  /** The model file being loaded (model stage). */
  file?: string;
}

/**
 * Loads a site index written by `docent index` (`manifest.json`, the index file) and the model
 * files its embedder needs (from `model.baseUrl`, default `baseUrl + 'model/'`; kept in the Cache
 * API cache `docent-models-v1`), and returns a ready `Docent`. HTTP failures throw an Error naming
 * the URL and status.
 */
export function loadDocent(
  baseUrl: string | URL,
  options?: { onProgress?: (event: LoadProgress) => void; model?: { baseUrl?: string | URL }; worker?: false },
): Promise<import('./docent_wasm.js').Docent>;
export function loadDocent(
  baseUrl: string | URL,
  options: { onProgress?: (event: LoadProgress) => void; model?: { baseUrl?: string | URL }; worker: true | Worker },
): Promise<DocentWorker>;

/** Options of `createDocent`: `DocentOptions` whose `model` may also be the folder of the model files. */
export type CreateOptions = Omit<import('./docent_wasm.js').DocentOptions, 'model'> & {
  model?: import('./docent_wasm.js').ModelFiles | { baseUrl: string | URL };
};

/**
 * An empty index to fill in the page (`addDocument`, then `build`). With `model: {baseUrl}` the
 * model files are fetched from that folder (Cache API), as `loadDocent` does.
 */
export function createDocent(
  options: CreateOptions,
  how?: { onProgress?: (event: LoadProgress) => void; worker?: false },
): Promise<import('./docent_wasm.js').Docent>;
export function createDocent(
  options: CreateOptions,
  how: { onProgress?: (event: LoadProgress) => void; worker: true | Worker },
): Promise<DocentWorker>;
/**
 * A pool: the index in a Web Worker (`worker`, or one started here) and `workers` (1..=16) more
 * workers, each with its own copy of the model, that embed the chunks of every `build()` in
 * parallel (no SharedArrayBuffer: no COOP/COEP headers needed). The index is byte-identical to a
 * single worker's. `free()` stops every worker of the pool.
 */
export function createDocent(
  options: CreateOptions,
  how: { onProgress?: (event: LoadProgress) => void; worker?: boolean | Worker; workers: number },
): Promise<DocentWorker>;

/** Reopens an index saved with `toBytes()`; the model comes from `model.baseUrl` or is given. */
export function openDocent(
  bytes: Uint8Array,
  how?: {
    model?: import('./docent_wasm.js').ModelFiles | { baseUrl: string | URL };
    onProgress?: (event: LoadProgress) => void;
    worker?: false;
  },
): Promise<import('./docent_wasm.js').Docent>;
export function openDocent(
  bytes: Uint8Array,
  how: {
    model?: import('./docent_wasm.js').ModelFiles | { baseUrl: string | URL };
    onProgress?: (event: LoadProgress) => void;
    worker: true | Worker;
  },
): Promise<DocentWorker>;

/**
 * A Docent running in a Web Worker (`docent/worker`): the same methods as `Docent`, each returning
 * a Promise. Calls run one at a time, in order; `free()` stops the worker.
 */
export class DocentWorker {
  private constructor();
  readonly dim: number;
  addDocument(doc: import('./docent_wasm.js').DocumentInput): Promise<number>;
  removeDocument(url: string): Promise<number>;
  build(onProgress?: import('./docent_wasm.js').ProgressCallback): Promise<void>;
  search(query: string, options?: import('./docent_wasm.js').SearchOptions): Promise<import('./docent_wasm.js').SearchResult>;
  assemble(question: string, options?: import('./docent_wasm.js').AssembleOptions): Promise<import('./docent_wasm.js').Prompt>;
  toBytes(): Promise<Uint8Array>;
  stats(): Promise<import('./docent_wasm.js').Stats>;
  embed(texts: string[]): Promise<Float32Array>;
  offlineAnswer(prompt: import('./docent_wasm.js').OfflinePrompt, question?: string): Promise<import('./docent_wasm.js').OfflineAnswer>;
  free(): void;
}

export * from './llm.js';

export { openSite, createEmbedder, SiteEmbedder } from './search.js';
