// Types of `docent/search` (search.js): a site's fragmented index through the lean module.
import type { SiteIndex } from './docent_search.js';
export { SiteIndex, followupQuery } from './docent_search.js';
export type {
  EmbedderInfo,
  FetchStats,
  Hit,
  Prompt,
  SearchResult,
  SiteAssembleOptions,
  SiteOpenOptions,
  SiteSearchOptions,
  SiteStats,
  Source,
} from './docent_search.js';

/** Loads the lean module (docent_search_bg.wasm) once; Node reads it from disk. */
export function initSearch(
  input?: URL | string | Request | Response | BufferSource | WebAssembly.Module,
): Promise<void>;

/**
 * Opens the fragmented index of a site folder written by `docent index`. Rejects with an Error
 * named `DocentNotFragmented` when its manifest has no fragments (read it with `loadDocent`),
 * else with one naming the URL and what failed.
 */
export function openSite(baseUrl: string | URL, options?: { timeoutMs?: number }): Promise<SiteIndex>;

/** The embedder of a site's index (full module, in a Web Worker by default). */
export interface SiteEmbedder {
  /** `texts.length × dim` floats, each row L2-normalised. */
  embed(texts: string[]): Promise<Float32Array>;
  dim: number;
  /** The loaded model's record (matches the index's). */
  embedder: import('./docent_search.js').EmbedderInfo;
  /** Stops the worker. */
  free(): void;
}

export function createEmbedder(
  baseUrl: string | URL,
  options?: {
    worker?: boolean | Worker;
    embedder?: { kind: string; dim: number; fingerprint?: string };
    model?: { baseUrl?: string | URL };
    onProgress?: (event: { stage: 'model' | 'ready'; file?: string; loaded?: number; total?: number }) => void;
  },
): Promise<SiteEmbedder>;
