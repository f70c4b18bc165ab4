// Runs the JavaScript engines of the dense-search benchmark (bench/README.md) on the cached data
// sets: docent wasm and the plain JS loop under Node, then docent wasm, hnswlib-wasm and the plain
// JS loop in headless Chromium (hnswlib-wasm is built for the web only: it needs IndexedDB).
// Each engine runs in a fresh process (Node) or a fresh page (Chromium), so the wasm memory
// growth it reports is its own.
//
//   node bench/ann/wasm.mjs [--sets toolchain-20k,toolchain-100k] [--efs 10,32,…] [--only node|chromium]
//
// ANN_ENGINES=plain,hnswlib-wasm,flat,defaults,… runs only those engines (quick runs).
// Writes <data>/results/wasm-<set>.json (data: $ANN_DATA or $CARGO_TARGET_DIR/bench-data).
import { spawnSync } from 'node:child_process';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EFS, runDocent, runHnswlibWasm, runPlainLoop, docentApi } from './engines.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('./', import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
export const dataDir = process.env.ANN_DATA ?? join(targetDir.startsWith('/') ? targetDir : join(root, targetDir), 'bench-data');
const WAIT_MS = 60 * 60 * 1000;

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const sets = arg('--sets', 'toolchain-20k,toolchain-100k').split(',');
const efs = arg('--efs', EFS.join(',')).split(',').map(Number);
const only = arg('--only', '');
/** The query set: `queries` (held-out chunks) or `reader` (headings and sentences, bench/ann/reader.rs). */
const qname = process.env.ANN_QUERIES ?? 'queries';
const gtFile = (set) => (qname === 'queries' ? `${set}.gt.u32` : `${set}.${qname}.gt.u32`);

/** The docent engines: flat, docent's defaults, and (once M can be chosen) hnswlib's M/efC. */
function docentVariants() {
  const v = ['flat', { name: 'defaults' }];
  if (docentApi.efPerQuery) v.push({ name: 'M16 efc200', m: 16, efConstruction: 200 });
  v.push({ name: 'instant-distance', graph: 'instant-distance' });
  return v;
}

async function loadSet(set) {
  const f32 = async (name) => {
    const b = await readFile(join(dataDir, name));
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  const desc = JSON.parse(await readFile(join(dataDir, `${set}.json`), 'utf8'));
  const gtb = await readFile(join(dataDir, gtFile(set)));
  return {
    set, dim: desc.dim, base: await f32(desc.file), queries: await f32(`${qname}.f32`),
    gt: new Uint32Array(gtb.buffer, gtb.byteOffset, gtb.byteLength / 4),
  };
}

/** Child process: one engine on one set under Node; prints its row as JSON on the last line. */
async function child(set, engine) {
  const { makeEvictor } = await import('./engines.mjs');
  const data = await loadSet(set);
  const env = { ...data, runtime: 'wasm (Node ' + process.version + ')', now: () => performance.now(), evict: makeEvictor(), log: (s) => console.error(s) };
  let row;
  if (engine === 'plain') row = runPlainLoop(env);
  else {
    const pkg = await import(pathToFileURL(join(root, 'pkg/docent.js')).href);
    await pkg.init();
    const v = docentVariants().find((x) => (x === 'flat' ? 'flat' : x.name) === engine);
    row = runDocent(env, pkg, v, efs);
  }
  process.stdout.write('\n' + JSON.stringify(row) + '\n');
}

function inNode(set) {
  const rows = [];
  const all = ['plain', ...docentVariants().map((v) => (v === 'flat' ? 'flat' : v.name))];
  for (const engine of all.filter((e) => !process.env.ANN_ENGINES || process.env.ANN_ENGINES.split(',').includes(e))) {
    console.error(`[wasm] Node: ${set} ${engine}`);
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', set, engine, '--efs', efs.join(',')],
      { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`Node child ${set} ${engine} failed (status ${r.status})`);
    rows.push(JSON.parse(r.stdout.trim().split('\n').pop()));
  }
  return rows;
}

async function inChromium(browser, origin, set) {
  const rows = [];
  const engines = (process.env.ANN_ENGINES?.split(",")) ?? ['plain', 'hnswlib-wasm', ...docentVariants().map((v) => (v === 'flat' ? 'flat' : v.name))];
  for (const engine of engines) {
    console.error(`[wasm] Chromium: ${set} ${engine}`);
    const page = await browser.newPage();
    page.on('console', (m) => console.error(`  [page] ${m.text()}`));
    page.on('pageerror', (e) => console.error(`  [page error] ${e}`));
    await page.goto(`${origin}/bench/ann/page.html`, { timeout: WAIT_MS });
    page.setDefaultTimeout(WAIT_MS);
    const row = await page.evaluate(async ({ set, engine, efs, variants, qname, gtName }) => {
      const E = await import('/bench/ann/engines.mjs');
      const get = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer());
      const desc = await (await fetch(`/data/${set}.json`)).json();
      const f32 = (b) => new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      const env = {
        set, dim: desc.dim, base: f32(await get(`/data/${desc.file}`)), queries: f32(await get(`/data/${qname}.f32`)),
        gt: new Uint32Array((await get(`/data/${gtName}`)).buffer),
        runtime: `wasm (Chromium ${navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1]})`,
        now: () => performance.now(), evict: E.makeEvictor(), log: (s) => console.log(s),
      };
      let row;
      if (engine === 'plain') row = E.runPlainLoop(env);
      else if (engine === 'hnswlib-wasm') {
        const { loadHnswlib } = await import('/bench/ann/node_modules/hnswlib-wasm/dist/hnswlib.js');
        row = await E.runHnswlibWasm(env, await loadHnswlib(), efs);
      } else {
        const pkg = await import('/pkg/docent.js');
        await pkg.init();
        row = E.runDocent(env, pkg, variants.find((x) => (x === 'flat' ? 'flat' : x.name) === engine), efs);
      }
      row.cross_origin_isolated = self.crossOriginIsolated;
      return row;
    }, { set, engine, efs, variants: docentVariants(), qname, gtName: gtFile(set) });
    await page.close();
    rows.push(row);
  }
  return rows;
}

async function main() {
  if (process.argv[2] === '--child') return child(process.argv[3], process.argv[4]);
  console.error(`[wasm] load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const out = join(dataDir, 'results');
  await mkdir(out, { recursive: true });
  let browser = null, server = null, origin = null;
  if (only !== 'node') {
    const { launchChromium } = await import(pathToFileURL(join(root, 'tests/support/chromium.mjs')).href);
    const { startStaticServer } = await import(pathToFileURL(join(root, 'tests/support/static-server.mjs')).href);
    // Cross-origin isolation gives performance.now() 5 µs resolution instead of 100 µs.
    ({ server, origin } = await startStaticServer([['/data/', dataDir + '/'], ['/', root]], {
      headers: () => ({ 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }),
    }));
    browser = await launchChromium({ timeout: 60_000 });
  }
  try {
    for (const set of sets) {
      const rows = [];
      if (only !== 'chromium') rows.push(...inNode(set));
      if (browser) rows.push(...(await inChromium(browser, origin, set)));
      const file = join(out, `wasm-${set}${qname === 'queries' ? '' : '-' + qname}.json`);
      await writeFile(file, JSON.stringify(rows, null, 2));
      console.error(`[wasm] wrote ${file}`);
    }
  } finally {
    await browser?.close();
    server?.close();
  }
  console.error(`[wasm] load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

await main();
