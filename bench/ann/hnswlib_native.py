"""Native hnswlib (PyPI, C++ through pybind11) on the dense-search benchmark's data sets: the
"what native C++ gets" reference of bench/README.md. One thread (set_num_threads(1)) for build
and search, cosine space, M 16, efConstruction 200, seed 100; ef per query via set_ef. The same
procedure as the other harnesses: 20 untimed queries, every query timed alone (perf_counter_ns)
back to back (warm), then the first 200 each after streaming through a 64 MiB buffer (cold).

    python bench/ann/hnswlib_native.py DATA_DIR SET [SET...] [--efs 10,32,...]

Writes DATA_DIR/results/hnswlib-<SET>.json. Query times include the Python call into hnswlib
(a few µs): that is how hnswlib's Python users call it.
"""
import importlib.metadata
import json
import os
import resource
import sys
import tempfile
import time

import hnswlib
import numpy as np

EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256]
COLD_QUERIES = 200
EVICT_BYTES = 64 << 20
K = 10
M, EF_CONSTRUCTION, SEED = 16, 200, 100


def load(data, name, dtype):
    with open(os.path.join(data, name + ".json")) as f:
        desc = json.load(f)
    arr = np.fromfile(os.path.join(data, desc["file"]), dtype="<" + dtype)
    return desc, arr.reshape(desc["count"], desc["dim"])


def pct(values, p):
    s = sorted(values)
    return s[round((len(s) - 1) * p)] if s else float("nan")


class Evictor:
    """Reads and writes one byte per 64-byte line of a 64 MiB buffer (the cold-cache step)."""

    def __init__(self):
        self.buf = np.ones(EVICT_BYTES, dtype=np.uint8)

    def run(self):
        view = self.buf[::64]
        view += 1


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def timed(queries, ev, f):
    for q in queries[:20]:
        f(q)
    ids, warm, cold = [], [], []
    for q in queries:
        t = time.perf_counter_ns()
        r = f(q)
        warm.append((time.perf_counter_ns() - t) / 1e3)
        ids.append(r)
    for q in queries[:COLD_QUERIES]:
        ev.run()
        t = time.perf_counter_ns()
        f(q)
        cold.append((time.perf_counter_ns() - t) / 1e3)
    return ids, {
        "warm_p50_us": pct(warm, 0.5), "warm_p95_us": pct(warm, 0.95),
        "cold_p50_us": pct(cold, 0.5), "cold_p95_us": pct(cold, 0.95),
        "warm_queries": len(warm), "cold_queries": len(cold),
    }


def mean_recall(gt, got):
    return float(np.mean([len(set(gt[i].tolist()) & set(g)) / K for i, g in enumerate(got)]))


def run(data, name, efs):
    _, queries = load(data, "queries", "f4")
    desc, base = load(data, name, "f4")
    _, gt = load(data, name + ".gt", "u4")
    n, dim = base.shape
    ev = Evictor()
    rss0 = rss_bytes()
    t = time.perf_counter()
    index = hnswlib.Index(space="cosine", dim=dim)
    index.init_index(max_elements=n, M=M, ef_construction=EF_CONSTRUCTION, random_seed=SEED)
    index.set_num_threads(1)
    index.add_items(base, np.arange(n), num_threads=1)
    build_s = time.perf_counter() - t
    mem = rss_bytes() - rss0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "index.bin")
        index.save_index(path)
        disk = os.path.getsize(path)
    curve = []
    for ef in efs:
        index.set_ef(ef)
        ids, lat = timed(queries, ev, lambda q: index.knn_query(q, k=K, num_threads=1)[0][0].tolist())
        rec = mean_recall(gt, ids)
        print(f"[hnswlib] {name} ef {ef}: recall {rec:.4f} warm p50 {lat['warm_p50_us']:.0f} µs", file=sys.stderr)
        curve.append({"ef": ef, "recall": rec, **lat})
    return {
        "engine": "hnswlib (native, PyPI)", "runtime": f"native (Python {sys.version.split()[0]}, hnswlib {importlib.metadata.version('hnswlib')})",
        "set": name, "n": n, "dim": dim, "params": {"space": "cosine", "m": M, "ef_construction": EF_CONSTRUCTION, "seed": SEED},
        "build_s": build_s, "build_threads": 1, "memory_bytes": mem, "memory_how": "RSS growth over the build",
        "disk_bytes": disk, "bytes_per_vector": disk / n, "curve": curve,
    }


def main():
    args = sys.argv[1:]
    efs = EFS
    if "--efs" in args:
        i = args.index("--efs")
        efs = [int(x) for x in args[i + 1].split(",")]
        del args[i : i + 2]
    data, sets = args[0], args[1:]
    os.makedirs(os.path.join(data, "results"), exist_ok=True)
    for name in sets:
        row = run(data, name, efs)
        out = os.path.join(data, "results", f"hnswlib-{name}.json")
        with open(out, "w") as f:
            json.dump([row], f, indent=2)
        print(f"[hnswlib] wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
