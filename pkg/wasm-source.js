// Where a wasm-bindgen module's bytes come from, one rule for the package's three modules
// (docent.js: the full module, search.js: the lean one, pdf.js: the PDF reader).

/**
 * What to hand a module's init: `input` when the caller gave one; else, under Node (whose `fetch`
 * cannot read `file://` URLs), the bytes of `beside` read from disk; else undefined (the browser
 * fetches the module next to its JS file).
 * @param {unknown} input the caller's URL, Response, BufferSource or WebAssembly.Module, if any
 * @param {URL} beside the module's file next to the JS that loads it
 * @returns {Promise<{module_or_path: unknown} | undefined>} init's argument
 */
export async function wasmSource(input, beside) {
  let source = input;
  if (source === undefined && isNode()) {
    const { readFile } = await import(/* webpackIgnore: true */ 'node:fs/promises');
    source = await readFile(beside);
  }
  return source === undefined ? undefined : { module_or_path: source };
}

function isNode() {
  return typeof process !== 'undefined' && process.versions != null && process.versions.node != null;
}
