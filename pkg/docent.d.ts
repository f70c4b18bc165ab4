// Types of the docent npm package (the classes and shapes come from the generated docent_wasm.d.ts).
export { Docent, VectorIndex } from './docent_wasm.js';
export type {
  AssembleOptions,
  DocentOptions,
  DocumentInput,
  Hit,
  ModelFiles,
  ProgressCallback,
  Prompt,
  ReuseReport,
  SearchOptions,
  SearchResult,
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
  options?: { onProgress?: (event: LoadProgress) => void; model?: { baseUrl?: string | URL } },
): Promise<import('./docent_wasm.js').Docent>;
