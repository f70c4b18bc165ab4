"""Answer faithfulness of the local provider's models on answerable evaluation questions.

For each model of models/llm/: the first answerable questions of each evaluation set
(bench/eval/{cargo-book,git-doc,sphinx-doc}.jsonl, in file order, N per set) are assembled by the
CLI as the browser does for the local provider (5 sources, the local budget), put in the model's
turn format by pkg/llm/local.js itself (`formatChat`, through node: one definition), and answered
greedily by llama.cpp (llama-cpp-python, natively: the same llama.cpp and GGUF file as the browser's
wllama, but fast enough on two cores for this many prompts). A prompt the gate abstained on is not
sent (the browser does not send it either) and is counted apart.

Judge (a script, no model): an answer's sentences are split at . ! ? followed by a space or the end;
a sentence that carries [n] citations is *supported* when every n is a source of the prompt and at
least 60% of its content words (lower-cased words of 3+ letters or digits, not in a small stop
list, citations removed) occur in the text of the sources it cites. An answer is *faithful* when
every cited sentence is supported (an answer without citations is counted as not citing, and is
not faithful). Also reported: the share that cites at least one source, and the ratio of the
model's own prompt tokens to the core's estimate (the budget's safety margin).

    python bench/local_llm_faithfulness.py --index-root DIR [--per-set N] [--max-tokens N] [--models a.gguf]

llama_cpp must be importable (pip install llama-cpp-python==0.3.36, a long build). Writes
target/bench/local-llm-faithfulness-<model>.json (every answer) and prints a Markdown summary.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = ["cargo-book", "git-doc", "sphinx-doc"]
MODELS = {
    "gemma-3-270m-q4_k_m.gguf": "gemma",
    "SmolLM2-135M-Instruct.Q4_1.gguf": "chatml",
}
STOP = set(
    "the and for are but not you your with this that from have has had was were will can may its "
    "into than then them they their there these those what when where which who why how all any "
    "each use used using also only other some such more most very just about over under out one "
    "two does did done don doesn isn aren should would could must shall our ours yes".split()
)


def words(text):
    return [w for w in re.findall(r"[a-z0-9_]+", text.lower()) if len(w) >= 3 and w not in STOP]


def sentences(text):
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def judge(answer, sources):
    """(cites, faithful, cited sentences, supported sentences)."""
    by_n = {s["n"]: s["text"] for s in sources}
    cited = supported = 0
    for s in sentences(answer):
        ns = [int(n) for n in re.findall(r"\[(\d+)\]", s)]
        if not ns:
            continue
        cited += 1
        if not all(n in by_n for n in ns):
            continue
        content = words(re.sub(r"\[\d+\]", " ", s))
        pool = set(words(" ".join(by_n[n] for n in ns)))
        if content and sum(w in pool for w in content) / len(content) >= 0.6:
            supported += 1
    return cited > 0, cited > 0 and supported == cited, cited, supported


def formatted(kind, messages):
    """The prompt text and stop strings from pkg/llm/local.js's formatChat."""
    script = (
        "import('./pkg/llm/local.js').then(({formatChat}) => {"
        "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{"
        "const {kind,messages}=JSON.parse(s);process.stdout.write(JSON.stringify(formatChat(kind,messages)));});});"
    )
    out = subprocess.run(["node", "-e", script], input=json.dumps({"kind": kind, "messages": messages}),
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    return json.loads(out)


def questions(per_set):
    for name in SETS:
        taken = 0
        with open(os.path.join(ROOT, "bench", "eval", f"{name}.jsonl")) as f:
            for line in f:
                q = json.loads(line)
                if q.get("relevant"):
                    yield name, q["q"]
                    taken += 1
                    if taken == per_set:
                        break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-root", required=True, help="folder with cargo-book/, git-doc/, sphinx-doc/ (./build.sh eval writes target/eval/index)")
    ap.add_argument("--per-set", type=int, default=18)
    ap.add_argument("--max-tokens", type=int, default=160)
    ap.add_argument("--budget", type=int, default=1502, help="the local budget: localBudget(LOCAL_CONTEXT) (the run in bench/results/local-llm.md used 1728, before the tokenizer ratio)")
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1: two threads on a busy two-core machine were 30 times slower)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--repeat-penalty", type=float, default=1.0, help="llama.cpp's repeat penalty (1.0: off, as the browser runs)")
    a = ap.parse_args()
    import llama_cpp.llama as binding

    # llama.cpp's AMX weight repacking crashes in ggml_backend_amx_mul_mat on this machine's CPU
    # (it reports amx_int8): load the weights without the extra buffer types.
    defaults = binding.llama_cpp.llama_model_default_params

    def model_params():
        p = defaults()
        p.use_extra_bufts = False
        return p

    binding.llama_cpp.llama_model_default_params = model_params
    Llama = binding.Llama

    cli = os.environ.get("DOCENT_BIN", os.path.join(ROOT, "target", "debug", "docent"))
    prompts = []
    for name, q in questions(a.per_set):
        p = json.loads(subprocess.run([cli, "ask", os.path.join(a.index_root, name), q, "--k", "5", "--budget", str(a.budget), "--json"],
                                      capture_output=True, text=True, check=True).stdout)
        prompts.append((name, q, p))
    results = {}
    for file in a.models.split(","):
        llm = Llama(model_path=os.path.join(ROOT, "models", "llm", file), n_ctx=2048, n_threads=a.threads, verbose=False)
        rows = []
        t0 = time.time()
        for name, q, p in prompts:
            if p["abstained"]:
                rows.append({"set": name, "q": q, "abstained": True})
                continue
            f = formatted(MODELS[file], p["messages"])
            n_prompt = len(llm.tokenize(f["prompt"].encode(), add_bos=True, special=True))
            out = llm(f["prompt"], max_tokens=a.max_tokens, temperature=0.0, stop=f["stop"], repeat_penalty=a.repeat_penalty)
            text = out["choices"][0]["text"].strip()
            cites, faithful, cited, supported = judge(text, p["sources"])
            rows.append({"set": name, "q": q, "abstained": False, "answer": text, "cites": cites, "faithful": faithful,
                         "cited_sentences": cited, "supported_sentences": supported,
                         "model_prompt_tokens": n_prompt, "core_tokens": p["tokens"]})
            print(f"{file} {len(rows)}/{len(prompts)} cites={cites} faithful={faithful} {text[:100]!r}", file=sys.stderr)
        results[file] = {"seconds": time.time() - t0, "rows": rows}
    os.makedirs(os.path.join(ROOT, "target", "bench"), exist_ok=True)
    tag = "-".join(m.split("-")[0].split(".")[0] for m in results) + (f"-rp{a.repeat_penalty}" if a.repeat_penalty != 1.0 else "")
    with open(os.path.join(ROOT, "target", "bench", f"local-llm-faithfulness-{tag}.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("| model | questions | abstained (not sent) | answered | cite ≥ 1 source | faithful (every cited sentence supported) | cited sentences supported | model tokens / core estimate (max) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for file, r in results.items():
        rows = r["rows"]
        ans = [x for x in rows if not x["abstained"]]
        cites = sum(x["cites"] for x in ans)
        faithful = sum(x["faithful"] for x in ans)
        cs = sum(x["cited_sentences"] for x in ans)
        ss = sum(x["supported_sentences"] for x in ans)
        ratio = max(x["model_prompt_tokens"] / x["core_tokens"] for x in ans)
        print(f"| {file} | {len(rows)} | {len(rows) - len(ans)} | {len(ans)} | {cites}/{len(ans)} = {cites / len(ans):.0%} | "
              f"{faithful}/{len(ans)} = {faithful / len(ans):.0%} | {ss}/{cs} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
