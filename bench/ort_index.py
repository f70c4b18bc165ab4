"""The Python reference of the CLI throughput benchmark (bench/throughput.rs runs it).

  python ort_index.py TEXTS MODEL THREADS

Embeds the texts of TEXTS (a JSON list of strings: the chunks `docent index` embeds, title and
heading path included) with all-MiniLM-L6-v2 in onnxruntime, the way sentence-transformers does:
texts sorted by length, batches of 32 padded to their longest text, truncation at 256 tokens
(tokenizers, the model's own tokenizer.json), mean pooling over real tokens, L2 normalisation.
MODEL is the folder bench/embed_prep.py writes (onnx/model.onnx, f32, and
onnx/model_quantized.onnx, onnxruntime's dynamic int8); both run with THREADS intra-op threads and
one inter-op thread. Prints one JSON line per model: {"model", "chunks", "seconds", "chunks_per_s"}
(tokenising included, session creation and one warm-up batch not).
"""

import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

BATCH = 32
MAX_TOKENS = 256


def session(path, threads):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def embed(sess, tok, texts):
    inputs = {i.name for i in sess.get_inputs()}
    encs = tok.encode_batch(texts)
    order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for start in range(0, len(order), BATCH):
        idx = order[start : start + BATCH]
        longest = max(len(encs[i].ids) for i in idx)
        ids = np.zeros((len(idx), longest), dtype=np.int64)
        mask = np.zeros((len(idx), longest), dtype=np.int64)
        for row, i in enumerate(idx):
            n = len(encs[i].ids)
            ids[row, :n] = encs[i].ids
            mask[row, :n] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = sess.run(None, feed)[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        out[idx] = pooled
    return out


def main():
    texts_path, model_dir, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(texts_path, encoding="utf-8") as f:
        texts = json.load(f)
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_TOKENS)
    for name, file in [("onnxruntime f32", "model.onnx"), ("onnxruntime int8", "model_quantized.onnx")]:
        sess = session(os.path.join(model_dir, "onnx", file), threads)
        embed(sess, tok, texts[:BATCH])
        start = time.perf_counter()
        embed(sess, tok, texts)
        seconds = time.perf_counter() - start
        print(json.dumps({"model": name, "chunks": len(texts), "seconds": seconds, "chunks_per_s": len(texts) / seconds}), flush=True)


if __name__ == "__main__":
    main()
