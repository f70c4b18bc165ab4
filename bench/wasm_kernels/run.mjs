// Times the integer matmul forms of src/lib.rs (see there) in headless Chromium and in Node:
// GMAC/s per form and MiniLM layer shape over 128 rows, best of 7 runs of 5 calls each (Chromium
// rounds performance.now() to 0.1 ms), after checking that every exact form gives the plain-loop
// sums. Builds the crate twice for wasm32 (SIMD128, then SIMD128 + relaxed SIMD) into
// $CARGO_TARGET_DIR/wasm-kernels.
//
//   node bench/wasm_kernels/run.mjs        (prints a Markdown table)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, launchChromium } from '../../tests/support/chromium.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '../..');
const target = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'wasm-kernels');
const SHAPES = [[1152, 384], [384, 384], [1536, 384], [384, 1536]];
const FORMS = ['rows_i16', 'panels_i16', 'relaxed_2x7', 'relaxed_1x7'];
const EXACT = new Set(['rows_i16', 'panels_i16', 'relaxed_2x7']);

function build(features) {
  const dir = join(target, features.replace(/[^a-z0-9]+/g, '-'));
  execFileSync('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '--manifest-path', join(here, 'Cargo.toml')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CARGO_TARGET_DIR: dir, RUSTFLAGS: `-C target-feature=${features}` },
  });
  return readFileSync(join(dir, 'wasm32-unknown-unknown/release/wasm_kernels_bench.wasm'));
}

/** Runs in the page or in Node: times every exported form on every shape. */
async function measure(bytes, shapes, forms, exact) {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const e = instance.exports;
  const out = [];
  for (const [n, k] of shapes) {
    e.prepare(n, k);
    for (const form of forms) {
      if (!e[form]) continue;
      e[form](n, k);
      const ok = exact.includes(form) ? e.check(n) === 1 : null;
      let best = Infinity;
      for (let rep = 0; rep < 7; rep++) {
        const t = performance.now();
        for (let i = 0; i < 5; i++) e[form](n, k);
        best = Math.min(best, (performance.now() - t) / 5);
      }
      out.push({ form, n, k, ms: best, gmacs: (128 * n * k) / best / 1e6, exact: ok });
    }
  }
  return out;
}

const simd = build('+simd128');
const relaxed = build('+simd128,+relaxed-simd');
const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
const results = {};
const browser = await launchChromium({ timeout: 60_000 });
try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><title>kernels</title>');
  results.chromium = { version: browser.version() };
  for (const [name, bytes] of [['simd128', simd], ['relaxed', relaxed]]) {
    results.chromium[name] = await page.evaluate(
      async ([b64, shapes, forms, exact, src]) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        return (0, eval)(`(${src})`)(bytes, shapes, forms, exact);
      },
      [bytes.toString('base64'), SHAPES, FORMS, [...EXACT], measure.toString()],
    );
  }
} finally {
  await browser.close();
}
// Node: relaxed SIMD is behind a flag before V8 11.4 (Node 22); this process may not have it.
const nodeRelaxed = WebAssembly.validate(relaxed);
results.node = { version: process.version, simd128: await measure(simd, SHAPES, FORMS, [...EXACT]) };
if (nodeRelaxed) results.node.relaxed = await measure(relaxed, SHAPES, FORMS, [...EXACT]);
const load1 = loadavg().map((x) => x.toFixed(2)).join(' ');

for (const list of [results.chromium.simd128, results.chromium.relaxed, results.node.simd128, results.node.relaxed ?? []]) {
  const bad = list.filter((r) => r.exact === false);
  if (bad.length) throw new Error(`wrong sums: ${bad.map((r) => `${r.form} ${r.n}×${r.k}`).join(', ')}`);
}
const cpu = cpus()[0]?.model ?? 'unknown';
const flags = (() => {
  try {
    const f = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(' ') ?? [];
    return ['avx2', 'fma', 'avx_vnni', 'avx512_vnni'].filter((x) => f.includes(x)).join(' ') || 'none of avx2 fma avx_vnni avx512_vnni';
  } catch {
    return 'unknown';
  }
})();
console.log(`${new Date().toISOString()}, ${cpus().length} cores (${cpu}; ${flags}), load average ${load0} at start, ${load1} at end`);
console.log(`Chromium ${results.chromium.version} (${CHROMIUM}), Node ${process.version}${nodeRelaxed ? '' : ' (no relaxed SIMD in this Node)'}`);
console.log('');
const cols = SHAPES.map(([n, k]) => `${n}×${k}`);
console.log(`| engine | module | form | ${cols.join(' | ')} |`);
console.log(`|---|---|---|${cols.map(() => '---:').join('|')}|`);
for (const [engine, mods] of [['Chromium', results.chromium], ['Node', results.node]]) {
  for (const mod of ['simd128', 'relaxed']) {
    const list = mods[mod];
    if (!list) continue;
    for (const form of FORMS) {
      const row = SHAPES.map(([n, k]) => list.find((r) => r.form === form && r.n === n && r.k === k));
      if (!row[0]) continue;
      console.log(`| ${engine} | ${mod} | ${form} | ${row.map((r) => r.gmacs.toFixed(1)).join(' | ')} |`);
    }
  }
}
