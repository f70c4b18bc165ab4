// Writes PKG/min/: a minified copy of each web runtime `.js` file of the package folder PKG, at
// the same relative path, for the site folders `docent index` writes (native and npm CLI copy it
// in place of the source: src/site.rs, `runtime_bytes`). Each copy starts with the header line
// the core defines (`minifiedHeader`: the source's xxh3), so a copy older than its source is
// never published. The package's own modules stay readable; only what a site's readers download
// is minified. Run by `./build.sh wasm` after the wasm build:
//
//   node scripts/minify-runtime.mjs PKG ESBUILD_DIR
//
// ESBUILD_DIR: the folder npm installed the pinned esbuild into (build.sh: .cache/esbuild).
// Modules stay modules (no bundling): the same file names, imports and dynamic imports, so the
// widget loads the same files in the same order. Names are kept (whitespace and syntax only are
// minified): the strings API reads the parameter names of ask-strings.js's sentence functions
// from their source (`{terms}` in a template), and shortening every name saved only 1.8 kB gzip
// of the Rust book's first answer.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [pkgArg, esbuildArg] = process.argv.slice(2);
if (!pkgArg || !esbuildArg) {
  console.error('usage: node scripts/minify-runtime.mjs PKG ESBUILD_DIR');
  process.exit(2);
}
const pkg = resolve(pkgArg);
const esbuild = createRequire(join(resolve(esbuildArg), 'package.json'))('esbuild');
const wasm = await import(pathToFileURL(join(pkg, 'docent_wasm.js')));
await wasm.default({ module_or_path: await readFile(join(pkg, 'docent_wasm_bg.wasm')) });

/** The runtime `.js` files of the package, as `/`-separated paths: the core says which. */
async function runtimeFiles() {
  const out = [];
  for (const entry of await readdir(pkg, { withFileTypes: true })) {
    const names = entry.isDirectory() ? (await readdir(join(pkg, entry.name))).map((n) => `${entry.name}/${n}`) : [entry.name];
    out.push(...names.filter((n) => n.endsWith('.js') && wasm.isRuntimeFile(n)));
  }
  return out.sort();
}

const min = join(pkg, 'min');
await rm(min, { recursive: true, force: true });
let before = 0;
let after = 0;
for (const name of await runtimeFiles()) {
  const source = await readFile(join(pkg, ...name.split('/')));
  const { code } = await esbuild.transform(source.toString('utf8'), {
    minifyWhitespace: true,
    minifySyntax: true,
    format: 'esm',
    target: 'es2022',
    legalComments: 'none',
    sourcefile: name,
  });
  const target = join(min, ...name.split('/'));
  await mkdir(join(target, '..'), { recursive: true });
  await writeFile(target, wasm.minifiedHeader(source) + code);
  before += source.length;
  after += Buffer.byteLength(code);
}
console.error(`minified the web runtime into ${min}: ${(before / 1e3).toFixed(1)} kB of sources → ${(after / 1e3).toFixed(1)} kB`);
