// docent's native HNSW against instant-distance (the crate docent's dense index used before its
// own graph), from the rows `cargo bench --bench ann -- native` writes (bench/ann/idist.rs): build
// time on all cores and on one thread, heap and serialized bytes per vector, and query p50 at equal
// recall, each as the ratio docent / instant-distance. Used by report.mjs, which writes the result
// to bench/results/instant-distance.md and .json (alone with `--instant-distance`).

const TARGETS = [0.95, 0.97, 0.99];
const fmt = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d));
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '–');

export const isIdist = (r) => r.runtime === 'native' && r.engine.startsWith('instant-distance');
const isDocent = (r) => r.runtime === 'native' && r.engine.startsWith('docent HNSW');

/** The point with the lowest `metric` among those of `curve` with recall ≥ target (null if none). */
function best(curve, target, metric) {
  let b = null;
  for (const p of curve) if (p.recall >= target && (b === null || p[metric] < b[metric])) b = p;
  return b;
}

/** Whether `rows` (one set's rows) hold the comparison: a docent HNSW row and an instant-distance row. */
export function hasComparison(rows) {
  return rows.some(isIdist) && rows.some((r) => r.engine === 'docent HNSW defaults' && r.runtime === 'native');
}

/** The comparison for one set: markdown lines and a JSON summary. */
export function idistSection(set, rows) {
  const docent = rows.find((r) => r.engine === 'docent HNSW defaults' && r.runtime === 'native');
  const docents = rows.filter(isDocent);
  const ids = rows.filter(isIdist);
  // instant-distance fixes ef at build time, so it is swept over fewer ef values; docent's side of
  // every equal-recall ratio uses the same ef values, so neither side gets a finer grid.
  const efs = new Set(ids.flatMap((r) => r.curve.map((p) => p.ef)));
  const shared = (r) => r.curve.filter((p) => efs.has(p.ef));
  const md = [];
  const json = { set, n: docent.n, docent: docent.engine, ef_values: [...efs], engines: {}, equal_recall: [] };
  md.push(`### Build and size (${docent.n.toLocaleString('en')} vectors, ${docent.dim}-d)\n`);
  const cols = [docent, ...ids];
  md.push(`| | ${cols.map((r) => r.engine).join(' | ')} | ${ids.map((r) => `docent / ${r.engine.replace('instant-distance ', 'i-d ')}`).join(' | ')} |`);
  md.push(`|---|${cols.map(() => '---:').join('|')}|${ids.map(() => '---:').join('|')}|`);
  const line = (what, f, d) => md.push(`| ${what} | ${cols.map((r) => fmt(f(r), d)).join(' | ')} | ${ids.map((r) => ratio(f(docent), f(r))).join(' | ')} |`);
  line(`build s (wall), ${docent.build_threads} threads${ids.length ? ' (instant-distance: median of its builds)' : ''}`, (r) => r.build_s, 2);
  line('build s (wall), 1 thread', (r) => r.build_s_1thread, 2);
  line(`build CPU s (every thread of the process), ${docent.build_threads} threads`, (r) => r.build_cpu_s, 2);
  line('build CPU s, 1 thread', (r) => r.build_cpu_s_1thread, 2);
  line('heap bytes per vector (index in memory)', (r) => r.heap_bytes / r.n, 0);
  line('serialized bytes per vector', (r) => r.bytes_per_vector, 0);
  const top = (r) => Math.max(...r.curve.map((p) => p.recall));
  md.push(`| highest recall@10 on the curve | ${cols.map((r) => fmt(top(r), 4)).join(' | ')} | ${ids.map(() => '').join(' | ')} |`);
  md.push(`| M (layer 0 keeps 2M links) | ${cols.map((r) => r.params.m ?? '–').join(' | ')} | ${ids.map(() => '').join(' | ')} |`);
  md.push(`| efConstruction | ${cols.map((r) => r.params.ef_construction ?? '–').join(' | ')} | ${ids.map(() => '').join(' | ')} |`);
  for (const r of cols) {
    json.engines[r.engine] = {
      build_s: r.build_s, build_s_each: r.build_s_each ?? [r.build_s], build_s_1thread: r.build_s_1thread,
      build_cpu_s: r.build_cpu_s, build_cpu_s_each: r.build_cpu_s_each ?? [r.build_cpu_s], build_cpu_s_1thread: r.build_cpu_s_1thread,
      build_threads: r.build_threads, heap_bytes_per_vector: r.heap_bytes / r.n,
      serialized_bytes_per_vector: r.bytes_per_vector, params: r.params, load: r.load,
    };
  }

  md.push(`\n### At equal recall: lowest p50 µs among the ef values ${[...efs].join(', ')} that reach the recall (ef, recall), and docent / instant-distance\n`);
  md.push(`| recall@10 ≥ | ${docent.engine} warm | ${docent.engine} cold | ${ids.map((r) => `${r.engine} warm | ${r.engine} cold | warm ratio | cold ratio`).join(' | ')} |`);
  md.push(`|---:|---:|---:|${ids.map(() => '---:|---:|---:|---:').join('|')}|`);
  const cell = (p, metric) => (p ? `${fmt(p[metric])} (ef ${p.ef}, ${fmt(p.recall, 4)})` : 'not reached');
  for (const t of TARGETS) {
    const dw = best(shared(docent), t, 'warm_p50_us');
    const dc = best(shared(docent), t, 'cold_p50_us');
    const cells = [cell(dw, 'warm_p50_us'), cell(dc, 'cold_p50_us')];
    const entry = { target: t, docent: { warm: dw, cold: dc }, instant_distance: {} };
    for (const r of ids) {
      const w = best(r.curve, t, 'warm_p50_us');
      const c = best(r.curve, t, 'cold_p50_us');
      cells.push(cell(w, 'warm_p50_us'), cell(c, 'cold_p50_us'), ratio(dw?.warm_p50_us, w?.warm_p50_us), ratio(dc?.cold_p50_us, c?.cold_p50_us));
      entry.instant_distance[r.engine] = { warm: w, cold: c, warm_ratio: dw && w ? dw.warm_p50_us / w.warm_p50_us : null, cold_ratio: dc && c ? dc.cold_p50_us / c.cold_p50_us : null };
    }
    md.push(`| ${t} | ${cells.join(' | ')} |`);
    json.equal_recall.push(entry);
  }
  const full = TARGETS.map((t) => [t, best(docent.curve, t, 'warm_p50_us')]).filter(([, p]) => p && !efs.has(p.ef));
  if (full.length) md.push(`\nOver docent's whole sweep (every ef of the curve) its lowest warm p50 would be ${full.map(([t, p]) => `${fmt(p.warm_p50_us)} µs at ef ${p.ef} for ≥ ${t}`).join('; ')}.`);

  md.push('\n### Curves (recall@10 / warm p50 µs / cold p50 µs)\n');
  const graphs = [...docents, ...ids];
  const all = [...new Set(graphs.flatMap((r) => r.curve.map((p) => p.ef)))].sort((a, b) => a - b);
  md.push(`| ef | ${graphs.map((r) => r.engine).join(' | ')} |`);
  md.push(`|---:|${graphs.map(() => '---:').join('|')}|`);
  for (const ef of all) {
    md.push(`| ${ef} | ${graphs.map((r) => {
      const p = r.curve.find((x) => x.ef === ef);
      return p ? `${fmt(p.recall, 4)} / ${fmt(p.warm_p50_us)} / ${fmt(p.cold_p50_us)}` : '';
    }).join(' | ')} |`);
  }
  const one = ids.filter((r) => r.one_thread_point).map((r) => `${r.engine} ${fmt(r.one_thread_point.recall, 4)} / ${fmt(r.one_thread_point.warm_p50_us)} µs`);
  if (one.length) md.push(`\nThe one-thread instant-distance graphs at ef ${ids[0].one_thread_point.ef} (recall / warm p50): ${one.join('; ')}; docent's graph is the same on any thread count.`);
  md.push('\nParameters: ' + cols.map((r) => `${r.engine}: \`${JSON.stringify(r.params)}\``).join('; ') + '.');
  md.push('\nLoad average (1/5/15 min) at the start and end of each engine: ' + graphs.filter((r) => r.load).map((r) => `${r.engine} ${r.load.start} → ${r.load.end}`).join('; ') + '.');
  return { md, json };
}
