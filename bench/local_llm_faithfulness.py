"""Answer faithfulness and native speed of the local provider's models on answerable evaluation questions.

For each model of models/llm/: the first answerable questions of each evaluation set
(bench/eval/{cargo-book,git-doc,sphinx-doc}.jsonl, in file order, N per set) are assembled by the
CLI as the browser does for the local provider (5 sources, the local budget; `--provider offline`
gives the offline answer the provider may show as evidence), turned into the model's prompt by the
provider's own code (pkg/llm/local-prompt.js, with local.js's formatChat for `--style chat|turns`,
through bench/local_llm_node.mjs: one definition), and answered by llama.cpp natively
(llama-cpp-python's bindings over the llama.cpp its sdist vendors: the same code and GGUF files as
the browser's wllama, fast enough on two cores for this many prompts). A prompt the gate abstained
on is not sent (the browser does not send it either) and is counted apart.

Judge: pkg/llm/grounding.js (`judgeAnswer`), the rule the provider's post-check also applies. An
answer's sentences are split at . ! ? followed by a space, and at line breaks; a sentence that
carries [n] citations is *supported* when every n is a source of the prompt and at least 60% of its
content words (lower-cased words of 3+ letters or digits, not in a small stop list, citations
removed) occur in the text of the sources it cites. An answer is *faithful* when it cites and every
cited sentence is supported. Each answer is judged as the model wrote it ("raw") and after the
provider's post-check ("checked": unsupported sentences dropped, an uncited sentence that one
source supports cited; an answer left empty falls back to the offline answer, counted apart).

Speed: the first token's time (prompt read from scratch: the cache is reset before each prompt)
and the answer's tokens per second after it, one llama.cpp thread by default.

    bench/local_llm_native.sh    (builds the bindings' library once, in target/llama-native)
    target/llama-native/python bench/local_llm_faithfulness.py --index-root DIR [--per-set N]
        [--models a.gguf] [--style completion|chat|turns] [--evidence sentences|sources] [--show-k N]
        [--max-tokens N] [--repeat-penalty X] [--tag NAME]

Defaults are the provider's settings (LOCAL_SETTINGS in pkg/llm/local-prompt.js). Writes
target/bench/local-llm-faithfulness-<tag>.json (every answer) and prints a Markdown summary.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = ["cargo-book", "git-doc", "sphinx-doc"]
MODELS = {
    "gemma-3-270m-q4_k_m.gguf": "gemma",
    "SmolLM2-135M-Instruct.Q4_1.gguf": "chatml",
}
# The turn format of the chat template each file carries (what LocalModel.chatKind reads in the
# browser): Gemma 3 270M's file has none (a base model), SmolLM2's has ChatML.
TEMPLATES = {
    "gemma-3-270m-q4_k_m.gguf": None,
    "SmolLM2-135M-Instruct.Q4_1.gguf": "chatml",
}


class Provider:
    """bench/local_llm_node.mjs: the provider's prompt and judge code, one JSON line per call."""

    def __init__(self):
        self.p = subprocess.Popen(["node", os.path.join(ROOT, "bench", "local_llm_node.mjs")], cwd=ROOT, text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def __call__(self, **request):
        self.p.stdin.write(json.dumps(request) + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())


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


def ask(cli, index, q, budget, *extra):
    args = [cli, "ask", index, q, "--k", "5", "--budget", str(budget), "--json", *extra]
    return json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-root", required=True, help="folder with cargo-book/, git-doc/, sphinx-doc/ (./build.sh eval writes target/eval/index)")
    ap.add_argument("--per-set", type=int, default=18)
    ap.add_argument("--budget", type=int, default=1502, help="the local budget: localBudget(LOCAL_CONTEXT)")
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1: two threads on a busy two-core machine were 30 times slower)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--style", help="completion, chat (the short prompt in the model's turn format) or turns (the core's prompt in it); default: LOCAL_SETTINGS.style")
    ap.add_argument("--evidence", help="sentences or sources (default: LOCAL_SETTINGS.evidence)")
    ap.add_argument("--show-k", type=int, help="sources shown with --evidence sources (default: LOCAL_SETTINGS.k)")
    ap.add_argument("--max-tokens", type=int, help="default: LOCAL_SETTINGS.maxTokens")
    ap.add_argument("--repeat-penalty", type=float, help="llama.cpp's repeat penalty (default: LOCAL_SETTINGS.repeatPenalty; 1.0 is off)")
    ap.add_argument("--tag", default="run", help="names the JSON file of answers")
    ap.add_argument("--rejudge", help="a JSON file of answers this script wrote: judge its answers again with the current rule, run no model")
    a = ap.parse_args()
    if a.rejudge:
        return rejudge(a.rejudge)
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

    provider = Provider()
    settings = provider(op="settings")
    max_tokens = a.max_tokens or settings["maxTokens"]
    # None: each prompt's style's own (LOCAL_SETTINGS.repeatPenalty, chatRepeatPenalty for chat)
    repeat_penalty = a.repeat_penalty
    cli = os.environ.get("DOCENT_BIN", os.path.join(ROOT, "target", "debug", "docent"))
    # The CLI's prompts and offline answers, kept for the next run with the same questions and budget.
    cache = os.path.join(ROOT, "target", "bench", f"local-llm-prompts-{a.per_set}-{a.budget}.json")
    if os.path.exists(cache) and os.path.getmtime(cache) > os.path.getmtime(cli):
        with open(cache) as f:
            prompts = [tuple(x) for x in json.load(f)]
    else:
        prompts = []
        for name, q in questions(a.per_set):
            index = os.path.join(a.index_root, name)
            p = ask(cli, index, q, a.budget)
            off = ask(cli, index, q, a.budget, "--provider", "offline")
            same = [(s["n"], s["text"]) for s in p["sources"]] == [(s["n"], s["text"]) for s in off["sources"]]
            assert same, f"the offline answer's sources differ from the prompt's for {q!r}"
            prompts.append((name, q, p, None if off["abstained"] else off["answer"]))
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        with open(cache, "w") as f:
            json.dump(prompts, f)
    results = {}
    for file in a.models.split(","):
        llm = Llama(model_path=os.path.join(ROOT, "models", "llm", file), n_ctx=2048, n_threads=a.threads, verbose=False)
        rows = []
        t0 = time.time()
        for name, q, p, offline in prompts:
            if p["abstained"]:
                rows.append({"set": name, "q": q, "abstained": True})
                continue
            f = provider(op="prompt", style=a.style, evidence=a.evidence, k=a.show_k, kind=MODELS[file], template=TEMPLATES[file], messages=p["messages"],
                         sources=p["sources"], offline=offline, question=q)
            n_prompt = len(llm.tokenize(f["prompt"].encode(), add_bos=True, special=True))
            llm.reset()
            started = time.time()
            first = None
            text = ""
            penalty = repeat_penalty if repeat_penalty is not None else f.get("repeatPenalty", settings["repeatPenalty"])
            for c in llm(f["prompt"], max_tokens=max_tokens, temperature=0.0, stop=f["stop"], repeat_penalty=penalty, stream=True):
                if first is None:
                    first = time.time()
                text += c["choices"][0]["text"]
            ended = time.time()
            n_answer = len(llm.tokenize(text.encode(), add_bos=False, special=True)) if text else 0
            text = text.strip()
            v = provider(op="judge", answer=text, sources=p["sources"], question=q)
            fell_back = not v["checked"]["text"]
            rows.append({"set": name, "q": q, "abstained": False, "answer": text, "checked": v["checked"]["text"],
                         "fallback": fell_back, "raw": v["raw"], "judged": v["checked"], "prompt_tokens": n_prompt,
                         "answer_tokens": n_answer, "first_token_s": (first or ended) - started,
                         "tokens_per_s": (n_answer - 1) / (ended - first) if first and n_answer > 1 and ended > first else None,
                         "chars": len(text)})
            print(f"{file} {len(rows)}/{len(prompts)} faithful={v['raw']['faithful']} kept={v['checked']['kept']} {text[:100]!r}", file=sys.stderr)
        results[file] = {"seconds": time.time() - t0, "rows": rows}
    os.makedirs(os.path.join(ROOT, "target", "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "target", "bench", f"local-llm-faithfulness-{a.tag}.json"), "w") as f:
        json.dump({"args": vars(a), "settings": settings, "results": results}, f, indent=1)
    penalty_text = repeat_penalty if repeat_penalty is not None else "the style's (LOCAL_SETTINGS)"
    style = a.style or "the provider's (completion; chat for a file with a ChatML or Gemma template)"
    print(f"style {style}, evidence {a.evidence or settings['evidence']}, max tokens {max_tokens}, repeat penalty {penalty_text}, threads {a.threads}")
    summary(results)


def rejudge(path):
    with open(path) as f:
        saved = json.load(f)
    provider = Provider()
    with open(os.path.join(ROOT, "target", "bench", f"local-llm-prompts-{saved['args']['per_set']}-{saved['args']['budget']}.json")) as f:
        sources = {q: p["sources"] for _, q, p, _ in json.load(f)}
    for r in saved["results"].values():
        for x in r["rows"]:
            if not x["abstained"]:
                v = provider(op="judge", answer=x["answer"], sources=sources[x["q"]], question=x["q"])
                x.update(raw=v["raw"], judged=v["checked"], checked=v["checked"]["text"], fallback=not v["checked"]["text"])
    print(f"{path}, judged again")
    summary(saved["results"])


def summary(results):
    print("| model | answered (abstained) | cite ≥ 1 | faithful (raw) | cited sentences supported (raw) | after the post-check: model text kept | fell back to offline | mean answer chars (raw) | prompt tokens (median) | first token s (median) | answer tokens/s (median) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for file, r in results.items():
        ans = [x for x in r["rows"] if not x["abstained"]]
        n = len(ans)
        cites = sum(x["raw"]["cites"] for x in ans)
        faithful = sum(x["raw"]["faithful"] for x in ans)
        cs = sum(x["raw"]["cited"] for x in ans)
        ss = sum(x["raw"]["supported"] for x in ans)
        fb = sum(x["fallback"] for x in ans)
        rates = [x["tokens_per_s"] for x in ans if x["tokens_per_s"]]
        print(f"| {file} | {n} ({len(r['rows']) - n}) | {cites}/{n} = {cites / n:.0%} | {faithful}/{n} = {faithful / n:.0%} | {ss}/{cs} | "
              f"{n - fb}/{n} = {(n - fb) / n:.0%} | {fb}/{n} | {statistics.mean(x['chars'] for x in ans):.0f} | "
              f"{statistics.median(x['prompt_tokens'] for x in ans):.0f} | {statistics.median(x['first_token_s'] for x in ans):.2f} | "
              f"{statistics.median(rates) if rates else 0:.1f} |")


if __name__ == "__main__":
    main()
