// What the demo page says while `./build.sh demo` is still building part of the package. The
// build prints the page's URL once the lean search module is built (the page's keyword answers)
// and builds the full module (semantic search, the visitor's own documents) and the PDF module
// afterwards, in the background. A feature that needs one of those before it is on the server
// says that it is not ready yet, instead of showing the loading error it caused.

/** Where the page loads the package from (www/serve.mjs serves pkg/ there). */
const RUNTIME = new URL('/pkg/', location.href);

/** The modules built after the URL is printed: what each one gives the page, and its role. */
const LATER = {
  docent_wasm: { what: 'Semantic search and your own documents are', module: 'full module' },
  docent_pdf: { what: 'PDF reading is', module: 'PDF module' },
};

/**
 * The sentence saying that module `name` (a key of LATER) is not built yet, when the server
 * answers 404 for its wasm file; null when the file is there or the server cannot be asked (the
 * failure being explained is then another one).
 * @param {'docent_wasm' | 'docent_pdf'} name
 * @returns {Promise<string | null>}
 */
export async function notBuiltYet(name) {
  const later = LATER[name];
  if (!later) throw new TypeError(`notBuiltYet: expected docent_wasm or docent_pdf, found ${JSON.stringify(name)}`);
  let status;
  try {
    status = (await fetch(new URL(`${name}_bg.wasm`, RUNTIME), { method: 'HEAD', cache: 'no-store' })).status;
  } catch {
    return null;
  }
  if (status !== 404) return null;
  return `${later.what} not ready yet: ./build.sh demo is still building the package's ${later.module} (${name}); reload the page when the terminal says it is done.`;
}
