#!/usr/bin/env python3
"""Check the `relevant` urls of the Cargo book evaluation sets.

Usage: check_urls.py [CARGO_BOOK_DIR] [EVAL.jsonl ...]

CARGO_BOOK_DIR defaults to `$(rustc --print sysroot)/share/doc/rust/html/cargo`.
The eval files default to cargo-book.jsonl and cargo-book-dev.jsonl next to
this script.

Every url must name an HTML page that docent indexes (it exists, is not
print.html/toc.html, carries no robots noindex and is not a meta-refresh
redirect stub) and, when it has a `#anchor`, the anchor must be the id of a
heading (<h1>..<h6>) in that page. Each line must be a JSON object with a
string "q" and a list "relevant"; questions must be unique across all files.
Exits non-zero if anything is wrong.
"""
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FILES = ["cargo-book.jsonl", "cargo-book-dev.jsonl"]
NOT_INDEXED = {"print.html", "toc.html"}


class HeadingIds(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()
        self.noindex = False
        self.refresh = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag) and a.get("id"):
            self.ids.add(a["id"])
        if tag == "meta":
            if (a.get("name") or "").lower() == "robots" and "noindex" in (a.get("content") or "").lower():
                self.noindex = True
            if (a.get("http-equiv") or "").lower() == "refresh":
                self.refresh = True


def default_book_dir():
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], check=True,
                             capture_output=True, text=True).stdout.strip()
    return os.path.join(sysroot, "share", "doc", "rust", "html", "cargo")


def main(argv):
    book = argv[1] if len(argv) > 1 else default_book_dir()
    files = argv[2:] or [os.path.join(HERE, f) for f in DEFAULT_FILES]
    if not os.path.isdir(book):
        print(f"cargo book directory not found: {book}")
        return 2

    pages = {}

    def page(rel):
        if rel not in pages:
            path = os.path.join(book, rel)
            if not os.path.isfile(path):
                pages[rel] = None
            else:
                p = HeadingIds()
                with open(path, encoding="utf-8") as f:
                    p.feed(f.read())
                pages[rel] = p
        return pages[rel]

    errors = 0
    seen_q = {}
    total_urls = 0
    for fname in files:
        n_ans = n_unans = 0
        with open(fname, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{os.path.basename(fname)}:{lineno}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    print(f"{where}: invalid JSON: {e}")
                    errors += 1
                    continue
                q, rel = obj.get("q"), obj.get("relevant")
                if not isinstance(q, str) or not q.strip() or not isinstance(rel, list):
                    print(f"{where}: needs a non-empty string 'q' and a list 'relevant'")
                    errors += 1
                    continue
                key = q.strip().lower()
                if key in seen_q:
                    print(f"{where}: duplicate question (also {seen_q[key]}): {q}")
                    errors += 1
                seen_q[key] = where
                if rel:
                    n_ans += 1
                else:
                    n_unans += 1
                for url in rel:
                    total_urls += 1
                    if not isinstance(url, str) or not url:
                        print(f"{where}: bad url {url!r}")
                        errors += 1
                        continue
                    rel_path, _, anchor = url.partition("#")
                    p = page(rel_path)
                    if p is None:
                        print(f"{where}: no such page: {rel_path}")
                        errors += 1
                    elif os.path.basename(rel_path) in NOT_INDEXED or p.noindex or p.refresh:
                        print(f"{where}: page is not indexed (noindex/redirect): {rel_path}")
                        errors += 1
                    elif anchor and anchor not in p.ids:
                        print(f"{where}: no heading id '{anchor}' in {rel_path}")
                        errors += 1
        print(f"{os.path.basename(fname)}: {n_ans} answerable, {n_unans} unanswerable")
    print(f"checked {total_urls} urls against {book}: "
          f"{'OK' if errors == 0 else f'{errors} error(s)'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
