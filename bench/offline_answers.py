#!/usr/bin/env python3
"""How often the offline (extractive) answer quotes what is not prose, over a questions file.

For each question, runs `docent ask INDEX QUESTION --provider offline --json` and counts the
answers whose prose (the text outside ``` fences) has:
  table cells  a ` | ` (the cell separator ingestion writes between a table row's cells);
  code         a `{` or `}`, or a whole line (6+ characters) of a source's verbatim block: a
               paragraph of two or more lines that are not all list items (`- `), or an indented
               line (ingestion writes a prose paragraph on one line, so such lines are code, or
               table rows, in HTML and Markdown sources), unless the sources' prose has that line
               too (inline code);
  cut          a sentence that does not start with an uppercase letter or a digit (after an
               opening quote or bracket), does not end with `.`, `!` or `?` (before its `[n]`,
               then closing quotes or brackets), or ends with `…` (cut at a length limit).
Also counts the answers that quote a code block (in a fence), and those that abstained.

    python3 bench/offline_answers.py INDEX QUESTIONS.jsonl [--bin DOCENT] [--json OUT]

DOCENT defaults to $DOCENT_BIN, else $CARGO_TARGET_DIR/debug/docent (target/debug/docent).
The numbers of issue 21 (before and after the prose-only answer) were measured with
  python3 bench/offline_answers.py target/eval/index/cargo-book bench/eval/cargo-book.jsonl
"""

import argparse
import json
import os
import re
import subprocess
import sys

FENCE = re.compile(r"```\n.*?\n```\n\[\d+\]", re.S)
SENTENCE = re.compile(r"(.*?) \[(\d+)\]([.!?]*)(?:\s+|$)", re.S)
OPEN = "\"'([“‘"
CLOSE = "\"')]”’»"


def verbatim_lines(texts):
    """Lines that ingestion wrote verbatim in `texts` (see the module doc), but for those that are
    also found in their prose (inline code such as `[workspace]`)."""
    out, prose = [], []
    for text in texts:
        for para in re.split(r"\n[ \t]*\n", text):
            lines = [l for l in para.split("\n") if l.strip()]
            if len(lines) >= 2 and not all(l.lstrip().startswith("- ") for l in lines):
                out.extend(lines)
            else:
                indented = [l for l in lines if l.startswith((" ", "\t")) and not l.lstrip().startswith("- ")]
                out.extend(indented)
                prose.extend(l for l in lines if l not in indented)
    return [l.strip() for l in out if len(l.strip()) >= 6 and not any(l.strip() in p for p in prose)]


def cut(body):
    """Whether a quoted sentence (its citation taken out, its final punctuation kept) is not whole."""
    start = body.lstrip(OPEN)
    end = body.rstrip(CLOSE)
    return (
        not start[:1].isupper() and not start[:1].isdigit()
        or not end.endswith((".", "!", "?"))
        or body.endswith("…")
    )


def check(answer, sources):
    prose = FENCE.sub(" ", answer)
    lines = verbatim_lines([s["text"] for s in sources])
    sentences = [m.group(1).strip() + m.group(3) for m in SENTENCE.finditer(prose)]
    return {
        "table": " | " in prose,
        "code": "{" in prose or "}" in prose or any(l in prose for l in lines),
        "cut": any(cut(s) for s in sentences),
        "block": FENCE.search(answer) is not None,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("index")
    ap.add_argument("questions")
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    ap.add_argument("--bin", default=os.environ.get("DOCENT_BIN", os.path.join(target, "debug/docent")))
    ap.add_argument("--json")
    a = ap.parse_args()
    questions = [json.loads(l)["q"] for l in open(a.questions) if l.strip()]
    counts = {"questions": len(questions), "abstained": 0, "table": 0, "code": 0, "cut": 0, "block": 0}
    rows = []
    for q in questions:
        run = subprocess.run([a.bin, "ask", a.index, q, "--provider", "offline", "--json"], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"docent ask failed for {q!r}: {run.stderr.strip()}")
        out = json.loads(run.stdout)
        found = {k: False for k in ("table", "code", "cut", "block")}
        if out["abstained"]:
            counts["abstained"] += 1
        else:
            found = check(out["answer"], out["sources"])
            for k, v in found.items():
                counts[k] += v
        rows.append({"q": q, "answer": out["answer"], **found})
    answered = counts["questions"] - counts["abstained"]
    print(
        f"{counts['questions']} questions, {answered} answered: table cells in {counts['table']}, "
        f"code in prose in {counts['code']}, cut sentences in {counts['cut']}; "
        f"a quoted code block in {counts['block']}"
    )
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"counts": counts, "answers": rows}, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
