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
