// Merges the rows written by the three harnesses of the dense-search benchmark (Rust: native-*,
// Node/Chromium: wasm-*, Python: hnswlib-*) into bench/results/latest.md and latest.json:
// per-set tables, recall–latency curves, the equal-recall comparison and issue 7's targets; and
// docent's native HNSW against instant-distance into bench/results/instant-distance.md and .json
// (bench/ann/report_idist.mjs), which needs only the native rows.
//
//   node bench/ann/report.mjs [--sets toolchain-20k,toolchain-100k] [--instant-distance]
//
// `--instant-distance` writes only instant-distance.md / .json (no wasm or hnswlib rows needed).
//
// Env: ANN_DATA (data dir), ANN_LOAD_START / ANN_STARTED (load average and time at the start of
// the run, from build.sh), ANN_NOTE (a line about the run, e.g. which HNSW).
import { readFile, writeFile, readdir, stat } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasComparison, idistSection, isIdist } from './report_idist.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const dataDir = process.env.ANN_DATA ?? join(targetDir.startsWith('/') ? targetDir : join(root, targetDir), 'bench-data');
const i = process.argv.indexOf('--sets');
const sets = (i >= 0 ? process.argv[i + 1] : 'toolchain-20k,toolchain-100k').split(',');
const onlyIdist = process.argv.includes('--instant-distance');
export const TARGETS = [0.95, 0.97, 0.99];

const fmt = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d));
const mb = (b) => (Number.isFinite(b) ? (b / 2 ** 20).toFixed(1) : '–');
const isChromium = (r) => r.runtime.includes('Chromium');
const isNode = (r) => r.runtime.includes('Node');
const label = (r) => `${r.engine} · ${r.runtime}`;

/** The point of `row` with the lowest `metric` among those with recall ≥ target (null if none). */
export function bestAt(row, target, metric) {
  let best = null;
  for (const p of row.curve) if (p.recall >= target && (best === null || p[metric] < best[metric])) best = p;
  return best;
}

/** The point shown in the summary table: ef 64 for graphs (a common middle ground), else the only one. */
function shown(row) {
  return row.curve.find((p) => p.ef === 64) ?? row.curve[row.curve.length - 1];
}

function summaryTable(rows) {
  const out = ['| engine | runtime | build s | ef | recall@10 | warm p50 µs | warm p95 µs | cold p50 µs | cold p95 µs | bytes/vector | memory MiB | wasm memory MiB | disk MiB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    const p = shown(r);
    out.push(`| ${r.engine} | ${r.runtime} | ${fmt(r.build_s, 2)} | ${p.ef ?? '–'} | ${fmt(p.recall, 4)} | ${fmt(p.warm_p50_us)} | ${fmt(p.warm_p95_us)} | ${fmt(p.cold_p50_us)} | ${fmt(p.cold_p95_us)} | ${fmt(r.bytes_per_vector)} | ${mb(r.memory_bytes)} | ${mb(r.memory_total_bytes)} | ${mb(r.disk_bytes)} |`);
  }
  return out.join('\n');
}

function curveTable(rows) {
  const graphs = rows.filter((r) => r.curve.length > 1);
  const efs = [...new Set(graphs.flatMap((r) => r.curve.map((p) => p.ef)))].sort((a, b) => a - b);
  const out = [`| ef | ${graphs.map(label).join(' | ')} |`, `|---:|${graphs.map(() => '---:').join('|')}|`];
  for (const ef of efs) {
    const cells = graphs.map((r) => {
      const p = r.curve.find((x) => x.ef === ef);
      return p ? `${fmt(p.recall, 4)} / ${fmt(p.warm_p50_us)} / ${fmt(p.cold_p50_us)}` : '';
    });
    out.push(`| ${ef} | ${cells.join(' | ')} |`);
  }
  return out.join('\n');
}

function equalRecall(rows) {
  const table = [];
  for (const target of TARGETS) {
    for (const r of rows) {
      const w = bestAt(r, target, 'warm_p50_us');
      const c = bestAt(r, target, 'cold_p50_us');
      table.push({ target, engine: r.engine, runtime: r.runtime, warm: w && { ef: w.ef, recall: w.recall, p50: w.warm_p50_us }, cold: c && { ef: c.ef, recall: c.recall, p50: c.cold_p50_us } });
    }
  }
  return table;
}

function equalRecallTable(rows, eq) {
  const head = [];
  for (const kind of ['warm', 'cold']) for (const t of TARGETS) head.push(`${kind} ≥ ${t}`);
  const out = [`| engine | runtime | ${head.join(' | ')} |`, `|---|---|${head.map(() => '---:').join('|')}|`];
  const hw = (t) => eq.find((x) => x.target === t && x.engine === 'hnswlib-wasm');
  for (const r of rows) {
    const cells = [];
    for (const kind of ['warm', 'cold']) {
      for (const t of TARGETS) {
        const e = eq.find((x) => x.target === t && x.engine === r.engine && x.runtime === r.runtime)?.[kind];
        const h = hw(t)?.[kind];
        cells.push(e ? `${fmt(e.p50)} (${e.ef ?? 'exact'})${h ? ` ${(e.p50 / h.p50).toFixed(2)}x` : ''}` : 'not reached');
      }
    }
    out.push(`| ${r.engine} | ${r.runtime} | ${cells.join(' | ')} |`);
  }
  return out.join('\n');
}

/** Issue 7's targets, from the Chromium rows (docent wasm and hnswlib-wasm in the same browser). */
function targets(bySet) {
  const res = [];
  const add = (name, set, ratio, limit, detail) =>
    res.push({ target: name, set, ratio, limit, met: ratio === null ? null : ratio <= limit, detail });
  for (const [set, rows] of Object.entries(bySet)) {
    const hw = rows.find((r) => r.engine === 'hnswlib-wasm');
    const docents = rows.filter((r) => isChromium(r) && r.engine.startsWith('docent HNSW'));
    if (!hw || !docents.length) continue;
    for (const [metric, limit, what] of [['warm_p50_us', 0.5, 'warm'], ['cold_p50_us', 0.7, 'cold']]) {
      const h = bestAt(hw, 0.97, metric);
      let best = null;
      for (const d of docents) {
        const p = bestAt(d, 0.97, metric);
        if (p && (!best || p[metric] < best.p[metric])) best = { d, p };
      }
      const ratio = best && h ? best.p[metric] / h[metric] : null;
      add(`wasm query p50 at recall@10 ≥ 0.97, ${what} cache: ≤ ${limit}x hnswlib-wasm`, set, ratio, limit,
        best && h ? `docent ${best.d.variant} ef ${best.p.ef}: ${fmt(best.p[metric])} µs (recall ${fmt(best.p.recall, 4)}) vs hnswlib-wasm ef ${h.ef}: ${fmt(h[metric])} µs (recall ${fmt(h.recall, 4)})` : 'a side does not reach recall 0.97');
    }
    const top = Math.max(...docents.flatMap((d) => d.curve.map((p) => p.recall)));
    res.push({ target: 'a docent wasm setting reaches recall@10 ≥ 0.99', set, ratio: null, limit: null, met: top >= 0.99, detail: `highest docent HNSW recall@10 in wasm: ${fmt(top, 4)}` });
    const def = docents.find((d) => d.variant === 'defaults') ?? docents[0];
    if (set.endsWith('20k')) {
      add('wasm index build time ≤ 0.5x hnswlib-wasm (20k)', set, def.build_s / hw.build_s, 0.5, `docent ${def.variant}: ${fmt(def.build_s, 1)} s vs hnswlib-wasm: ${fmt(hw.build_s, 1)} s`);
    }
    // hnswlib-wasm's size is read back from IndexedDB, which can refuse a large index (at 100k its
    // write failed in Chromium); native hnswlib writes the same format, so its size stands in.
    const native = rows.find((r) => r.engine.startsWith('hnswlib (native'));
    const ref = hw.bytes_per_vector ? { name: 'hnswlib-wasm', b: hw.bytes_per_vector }
      : native?.bytes_per_vector ? { name: 'native hnswlib (same file format; hnswlib-wasm could not save its index)', b: native.bytes_per_vector } : null;
    add('bytes per vector (vectors + graph, serialized) ≤ 1/3 of hnswlib', set, ref ? def.bytes_per_vector / ref.b : null, 1 / 3,
      ref ? `docent ${def.variant}: ${fmt(def.bytes_per_vector)} B vs ${ref.name}: ${fmt(ref.b)} B` : 'no hnswlib size measured');
    const flat = rows.find((r) => isChromium(r) && r.engine === 'docent flat');
    const loop = rows.find((r) => isChromium(r) && r.engine.startsWith('plain JS loop'));
    if (set.endsWith('20k') && flat && loop) {
      const ratio = flat.curve[0].warm_p50_us / loop.curve[0].warm_p50_us;
      res.push({ target: 'exact flat scan in wasm on 20k: ≥ 10x faster than a plain JS loop', set, ratio, limit: 0.1, met: ratio <= 0.1, detail: `docent flat ${fmt(flat.curve[0].warm_p50_us)} µs vs plain loop ${fmt(loop.curve[0].warm_p50_us)} µs: ${(1 / ratio).toFixed(1)}x faster (warm p50, Chromium)` });
    }
  }
  return res;
}

function machine() {
  const cpu = cpus();
  let model = cpu[0]?.model ?? 'unknown';
  return { cores: cpu.length, cpu: model, memory_gib: +(totalmem() / 2 ** 30).toFixed(1), node: process.version };
}

/** The data line of a report, from a set's description. */
function dataLine(d) {
  return `Data: MiniLM (all-MiniLM-L6-v2, int8 weights, 384-d, unit length) embeddings of chunks of at most ${d.chunk_tokens} body tokens of the documentation shipped with ${d.toolchain} (${d.corpus}), sample seed ${d.seed}; 1,000 held-out query chunks; recall@10 against exact f32 cosine top-10. Queries are timed one at a time; warm = back to back over all 1,000 (after 20 untimed), cold = the first 200 each after streaming through a 64 MiB buffer.`;
}

/** bench/results/instant-distance.md and .json: docent native HNSW against instant-distance. */
async function writeIdist(bySet, descs, m) {
  const sections = Object.entries(bySet).filter(([, rows]) => hasComparison(rows));
  if (!sections.length) {
    console.error('no instant-distance rows (run `cargo bench --bench ann -- native SET` first): instant-distance.md not written');
    return;
  }
  const names = sections.map(([s]) => s);
  const idEfs = [...new Set(sections.flatMap(([, rows]) => rows.filter(isIdist).flatMap((r) => r.curve.map((p) => p.ef))))];
  const measured = (await stat(join(dataDir, 'results', `native-${names[0]}.json`))).mtime.toISOString();
  const md = ["# Dense vector search: docent's HNSW against instant-distance (native)\n"];
  md.push(`Measured ${measured} (when the native rows were written) on ${m.cores} cores (${m.cpu}), ${m.memory_gib} GiB. The machine is shared: absolute times move with the load (given per engine below), ratios within one run are the comparable numbers. Ratios are docent / instant-distance: below 1 means docent takes less time or fewer bytes.\n`);
  md.push(`Reproduce: \`cargo bench --bench ann -- data ${names.join(' ')}\` (generates the data once), \`cargo bench --bench ann -- native ${names.join(' ')}\`, then \`node bench/ann/report.mjs --sets ${names.join(',')} --instant-distance\`. Both engines build in the same rayon pools: the default one (\`RAYON_NUM_THREADS\`, else one thread per core) and a one-thread pool; queries run one at a time on one thread.\n`);
  md.push(`instant-distance 0.6.1 (crates.io) with its fixed M 32 and default efConstruction 100, seed fixed, with its default neighbour heuristic and (*int8 no-heuristic*) without it, which was docent's setting for the crate (\`heuristic: false\`); ef_search is fixed when it builds, so each ef of its curve is a separate build (ef ${idEfs.join(', ')} only, to keep the run short), and its build time is the median of those builds. Two kinds of point: *f32* (the unit-length row, distance 1 - dot, 8 f32 lanes) and *int8* (the way docent used the crate before its own graph: docent's int8 quantization with one scale per row, distance 1 - scale·scale·dot_i8; the quantized query walks the graph and its ef candidates are rescored with the f32 query, as docent does now). One \`Search\` is reused across queries. docent: \`DenseIndex\` with its defaults for the size (and M 16 / efConstruction 200 in the curves).\n`);
  md.push("Bytes: *heap* is what dropping the built index frees, counted by the benchmark's global allocator (requested sizes; malloc's own headers, e.g. one per instant-distance point, not included); *serialized* is docent's index encoding of its dense section, and postcard (the serde encoding docent's files use) of instant-distance's `HnswMap<point, u32>` with its `with-serde` feature.\n");
  const json = { measured, machine: m, data: {}, sets: {} };
  for (const [set, rows] of sections) {
    md.push(`\n## ${set}\n`);
    md.push(dataLine(descs[set]) + '\n');
    const { md: lines, json: j } = idistSection(set, rows);
    md.push(...lines);
    json.data[set] = descs[set];
    json.sets[set] = j;
  }
  await writeFile(join(root, 'bench/results/instant-distance.md'), md.join('\n') + '\n');
  await writeFile(join(root, 'bench/results/instant-distance.json'), JSON.stringify(json, null, 2) + '\n');
  console.error('wrote bench/results/instant-distance.md and instant-distance.json');
}

async function main() {
  const bySet = {};
  const files = existsSync(join(dataDir, 'results')) ? await readdir(join(dataDir, 'results')) : [];
  for (const set of sets) {
    const rows = [];
    for (const f of files.filter((f) => f.endsWith(`-${set}.json`)).sort()) {
      rows.push(...JSON.parse(await readFile(join(dataDir, 'results', f), 'utf8')));
    }
    if (rows.length) bySet[set] = rows;
  }
  const descs = Object.fromEntries(Object.keys(bySet).map((s) => [s, JSON.parse(readFileSync(join(dataDir, `${s}.json`), 'utf8'))]));
  const m = machine();
  await writeIdist(bySet, descs, m);
  if (onlyIdist) return;
  const loadEnd = loadavg().map((x) => x.toFixed(2)).join(' ');
  const eq = Object.fromEntries(Object.entries(bySet).map(([s, rows]) => [s, equalRecall(rows)]));
  const tg = targets(bySet);
  const md = [];
  md.push('# Dense vector search: docent vs hnswlib-wasm and native hnswlib\n');
  md.push(`Run ${process.env.ANN_STARTED ?? ''} → ${new Date().toISOString()}; ${m.cores} cores (${m.cpu}), ${m.memory_gib} GiB, Node ${m.node}; load average (1/5/15 min) at start ${process.env.ANN_LOAD_START ?? '?'}, at end ${loadEnd}. The machine is shared: absolute µs move with the load, ratios within one run are the comparable numbers.`);
  if (process.env.ANN_NOTE) md.push(`\n${process.env.ANN_NOTE}`);
  const anyDesc = Object.values(descs)[0];
  if (anyDesc) {
    md.push(`\n${dataLine(anyDesc)} Chromium rows run in one headless Chromium, cross-origin isolated (5 µs timer); Node rows in Node. Which point each summary row shows: ef 64 for graph indexes (ef is per query for hnswlib; see the curves for the rest).`);
  }
  for (const [set, rows] of Object.entries(bySet)) {
    md.push(`\n## ${set} (${rows[0].n.toLocaleString('en')} vectors, ${rows[0].dim}-d)\n`);
    md.push(summaryTable(rows));
    md.push(`\n### Recall–latency curves (recall@10 / warm p50 µs / cold p50 µs)\n`);
    md.push(curveTable(rows));
    md.push(`\n### At equal recall: lowest p50 µs among the measured points that reach the recall (ef), and its ratio to hnswlib-wasm's (Chromium)\n`);
    md.push(equalRecallTable(rows, eq[set]));
    md.push('\nParameters: ' + rows.map((r) => `${r.engine} (${r.runtime}): \`${JSON.stringify(r.params)}\`, ${r.build_threads} build thread(s)`).join('; ') + '.');
    if (hasComparison(rows)) {
      md.push(`\n### docent native HNSW against instant-distance (native; also in bench/results/instant-distance.md)\n`);
      md.push(...idistSection(set, rows).md.map((l) => l.replace(/^### /, '#### ')));
    }
  }
  md.push('\n## Issue 7 targets (docent wasm vs hnswlib-wasm, both in Chromium)\n');
  md.push('| target | set | ratio | met? | detail |\n|---|---|---:|---|---|');
  for (const t of tg) md.push(`| ${t.target} | ${t.set} | ${t.ratio === null ? '–' : t.ratio.toFixed(2) + 'x'} | ${t.met === null ? '–' : t.met ? 'met' : '**missed**'} | ${t.detail} |`);
  const missingSets = sets.filter((s) => !bySet[s]);
  if (missingSets.length) md.push(`\nNot measured in this run: ${missingSets.join(', ')} (no results; see bench/README.md).`);
  await writeFile(join(root, 'bench/results/latest.md'), md.join('\n') + '\n');
  await writeFile(join(root, 'bench/results/latest.json'), JSON.stringify({
    started: process.env.ANN_STARTED ?? null, finished: new Date().toISOString(), machine: m,
    load_start: process.env.ANN_LOAD_START ?? null, load_end: loadEnd, note: process.env.ANN_NOTE ?? null,
    data: descs, sets: bySet, equal_recall: eq, targets: tg,
  }, null, 2) + '\n');
  console.error('wrote bench/results/latest.md and latest.json');
}

await main();
