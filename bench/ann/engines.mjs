// The JavaScript side of the dense-search benchmark (bench/README.md, "Dense vector search"):
// docent's wasm VectorIndex (HNSW over an ef sweep, and flat), hnswlib-wasm from npm, and an
// exact scan written as a plain JS loop over a Float32Array. Runs unchanged in Node and in a
// page: the caller passes the loaded modules and the data. Every row has the shape the Rust and
// Python harnesses write (see report.mjs).

/** ef values of the recall–latency curve (same list in every harness). */
export const EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256];
/** Queries timed with a cold cache per point (the first ones of the fixed query order). */
export const COLD_QUERIES = 200;
/** Bytes streamed through before each cold query. */
export const EVICT_BYTES = 64 << 20;
export const K = 10;
/** hnswlib parameters: its common defaults (M 16, efConstruction 200), seed 100. */
export const HNSWLIB = { m: 16, efConstruction: 200, seed: 100 };

/**
 * The one place that calls docent's wasm API, so an API change is one edit.
 * `efPerQuery`: whether `search(query, k, ef)` takes ef per query; while false, the sweep builds
 * one index per ef (ef_search was fixed at build time before the new HNSW).
 */
export const docentApi = {
  efPerQuery: true,
  /** Build options for a variant (`{m, efConstruction}`, undefined keeps docent's default). */
  options(variant, ef, flat) {
    const o = { flatThreshold: flat ? 4294967295 : 0 };
    if (variant?.efConstruction !== undefined) o.efConstruction = variant.efConstruction;
    if (variant?.m !== undefined && docentApi.efPerQuery) o.m = variant.m;
    if (variant?.graph !== undefined) o.graph = variant.graph;
    if (ef !== undefined) o.efSearch = ef;
    return o;
  },
  build(pkg, vectors, dim, opts) {
    return pkg.VectorIndex.build(vectors, dim, opts);
  },
  search(index, query, k, ef) {
    return docentApi.efPerQuery ? index.search(query, k, ef).ids : index.search(query, k).ids;
  },
  diskBytes(index) {
    return index.toBytes().length;
  },
};

/** Streams through a buffer (read and write, one touch per 64-byte line): the cold-cache step. */
export function makeEvictor() {
  const buf = new Uint8Array(EVICT_BYTES).fill(1);
  return () => {
    let acc = 0;
    for (let i = 0; i < buf.length; i += 64) {
      acc = (acc + buf[i]) & 255;
      buf[i] = acc;
    }
    return acc;
  };
}

export function percentile(values, p) {
  const s = Float64Array.from(values).sort();
  return s.length ? s[Math.round((s.length - 1) * p)] : NaN;
}

/** Mean recall@K of `got` (arrays of ids per query) against ground truth (K ids per query). */
export function meanRecall(gt, got) {
  let sum = 0;
  got.forEach((ids, i) => {
    const truth = gt.subarray(i * K, (i + 1) * K);
    let hit = 0;
    for (const t of truth) if (Array.prototype.includes.call(ids, t)) hit++;
    sum += hit / K;
  });
  return sum / got.length;
}

/** Times every query individually (µs): warm over all queries after 20 untimed ones, cold over
 * the first COLD_QUERIES each after `evict()`. */
function timed(env, f) {
  const { queries, dim, now, evict } = env;
  const nq = queries.length / dim;
  const q = (i) => queries.subarray(i * dim, (i + 1) * dim);
  for (let i = 0; i < 20; i++) f(q(i));
  const ids = [], warm = [], cold = [];
  for (let i = 0; i < nq; i++) {
    const t = now();
    const r = f(q(i));
    warm.push((now() - t) * 1000);
    ids.push(Array.from(r));
  }
  let sink = 0;
  for (let i = 0; i < Math.min(COLD_QUERIES, nq); i++) {
    sink ^= evict();
    const t = now();
    f(q(i));
    cold.push((now() - t) * 1000);
  }
  return {
    ids,
    lat: {
      warm_p50_us: percentile(warm, 0.5), warm_p95_us: percentile(warm, 0.95),
      cold_p50_us: percentile(cold, 0.5), cold_p95_us: percentile(cold, 0.95),
      warm_queries: warm.length, cold_queries: cold.length, sink,
    },
  };
}

function point(ef, recall, lat) {
  return { ef, recall, ...lat };
}

function row(env, engine, fields) {
  return {
    engine, runtime: env.runtime, set: env.set, n: env.base.length / env.dim, dim: env.dim,
    build_threads: 1, ...fields,
    bytes_per_vector: fields.disk_bytes / (env.base.length / env.dim),
  };
}

/** Exact top-K by dot product with a plain loop over the Float32Array: the JS baseline. */
export function plainLoop(base, dim, q) {
  const n = base.length / dim;
  const ids = new Int32Array(K).fill(-1);
  const scores = new Float64Array(K).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * dim;
    for (let j = 0; j < dim; j++) s += base[o + j] * q[j];
    if (s > scores[K - 1]) {
      let p = K - 1;
      while (p > 0 && scores[p - 1] < s) {
        scores[p] = scores[p - 1];
        ids[p] = ids[p - 1];
        p--;
      }
      scores[p] = s;
      ids[p] = i;
    }
  }
  return ids;
}

export function runPlainLoop(env) {
  const { ids, lat } = timed(env, (q) => plainLoop(env.base, env.dim, q));
  return row(env, 'plain JS loop (exact)', {
    params: { loop: 'for over Float32Array, f64 accumulator' }, build_s: 0,
    memory_bytes: env.base.length * 4, memory_how: 'the f32 rows', disk_bytes: env.base.length * 4,
    curve: [point(null, meanRecall(env.gt, ids), lat)],
  });
}

/** docent's wasm VectorIndex: `variant` is 'flat' or `{name, m?, efConstruction?, graph?}`;
 * the instant-distance graph fixes ef at build, so its variant builds once per ef. */
export function runDocent(env, pkg, variant, efs = EFS) {
  const flat = variant === 'flat';
  const perEf = !flat && variant.graph === 'instant-distance';
  const mem0 = pkg.memoryBytes();
  let index = null, build_s = 0, mem = 0, memTotal = 0, disk = 0, opts = null;
  const curve = [];
  const builds = [];
  const build = (ef) => {
    if (index) index.free();
    opts = docentApi.options(flat ? undefined : variant, ef, flat);
    const t = env.now();
    index = docentApi.build(pkg, env.base, env.dim, opts);
    build_s = (env.now() - t) / 1000;
    builds.push(build_s);
    mem = Math.max(mem, pkg.memoryBytes() - mem0);
    memTotal = Math.max(memTotal, pkg.memoryBytes());
    disk = docentApi.diskBytes(index);
  };
  for (const ef of flat ? [null] : efs) {
    if (!index || perEf || (!flat && !docentApi.efPerQuery)) build(flat || (docentApi.efPerQuery && !perEf) ? undefined : ef);
    const { ids, lat } = timed(env, (q) => docentApi.search(index, q, K, ef));
    const rec = meanRecall(env.gt, ids);
    env.log?.(`${env.runtime} ${env.set} docent ${flat ? 'flat' : variant.name} ef ${ef}: recall ${rec.toFixed(4)} warm p50 ${lat.warm_p50_us.toFixed(0)} µs`);
    curve.push(point(ef, rec, lat));
  }
  index.free();
  return row(env, flat ? 'docent flat' : `docent HNSW ${variant.name}`, {
    variant: flat ? 'flat' : variant.name, params: opts, build_s: builds.slice().sort((a, b) => a - b)[builds.length >> 1],
    build_s_each: builds, memory_bytes: mem, memory_total_bytes: memTotal,
    memory_how: 'growth of the wasm memory (memoryBytes()) over the build; never shrinks, so the max over builds',
    disk_bytes: disk, curve,
  });
}

/** hnswlib-wasm (npm): HierarchicalNSW, cosine space, M 16, efConstruction 200, ef per query. */
export async function runHnswlibWasm(env, lib, efs = EFS) {
  const { dim } = env;
  const n = env.base.length / dim;
  const heap = () => lib.HEAPU8?.buffer?.byteLength ?? NaN;
  const mem0 = heap();
  const t = env.now();
  const index = new lib.HierarchicalNSW('cosine', dim, '');
  index.initIndex(n, HNSWLIB.m, HNSWLIB.efConstruction, HNSWLIB.seed);
  const items = [];
  for (let i = 0; i < n; i++) items.push(env.base.subarray(i * dim, (i + 1) * dim));
  index.addPoints(items, Array.from({ length: n }, (_, i) => i), false);
  const build_s = (env.now() - t) / 1000;
  const mem = heap() - mem0;
  const memTotal = heap();
  let disk = NaN;
  try {
    // writeIndex saves into emscripten's IDBFS and syncs it to IndexedDB; the module does not
    // export FS, so the file's size is read back from IndexedDB.
    await index.writeIndex('ann-bench.bin');
    disk = await idbFileSize('ann-bench.bin');
  } catch (e) {
    env.log?.(`hnswlib-wasm writeIndex: ${e}`);
  }
  const curve = [];
  for (const ef of efs) {
    index.setEfSearch(ef);
    const { ids, lat } = timed(env, (q) => index.searchKnn(q, K, undefined).neighbors);
    const rec = meanRecall(env.gt, ids);
    env.log?.(`${env.runtime} ${env.set} hnswlib-wasm ef ${ef}: recall ${rec.toFixed(4)} warm p50 ${lat.warm_p50_us.toFixed(0)} µs`);
    curve.push(point(ef, rec, lat));
  }
  return row(env, 'hnswlib-wasm', {
    params: { space: 'cosine', ...HNSWLIB }, build_s, memory_bytes: mem, memory_total_bytes: memTotal,
    memory_how: 'growth of the emscripten heap (HEAPU8.buffer) over the build',
    disk_bytes: disk, curve,
  });
}

/** Size of the file whose path ends in `/name` in any IndexedDB database of the page (IDBFS keeps
 * `{contents}` per path in the `FILE_DATA` store). */
async function idbFileSize(name) {
  const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  for (const { name: dbName } of await indexedDB.databases()) {
    const db = await req(indexedDB.open(dbName));
    try {
      if (!db.objectStoreNames.contains('FILE_DATA')) continue;
      const store = db.transaction('FILE_DATA', 'readonly').objectStore('FILE_DATA');
      const keys = await req(store.getAllKeys());
      const key = keys.find((k) => String(k).endsWith('/' + name));
      if (key !== undefined) return (await req(store.get(key))).contents.byteLength;
    } finally {
      db.close();
    }
  }
  throw new Error(`${name} not found in IndexedDB`);
}
