#!/usr/bin/env python3
"""Check the `relevant` urls of an evaluation set against a folder of generated HTML.

Usage: check_anchors.py HTML_DIR EVAL.jsonl [EVAL.jsonl ...]

Written for Sphinx output (e.g. `/usr/share/doc/sphinx-doc/html` from Debian's sphinx-doc) and
used for other generators too: a citable anchor is either a section (`<section id>`, or
`<div class="section" id>` in older themes; a heading's own id, or the id/name of an `<a>`
inside a heading, as DocBook writes `<h2><a name="X">`) or an API entry (`<dt id>`: a config
value, a directive, a role, a Python object, a command-line option, ...).

Every url must name an existing page that docent indexes (not a noindex page or a meta-refresh
redirect stub); an anchor must be the id of a section, heading or `<dt>` in that page (ids of
other elements, such as Sphinx's `<span id>` label targets, are not where docent cites). Each
line must be a JSON object with a non-empty string "q" and a list "relevant"; questions must be
unique across all files given.

Relevance in `docent eval` is a url prefix, so an anchor that is a proper prefix of another
citable id in the same page (`confval-html_theme` and `confval-html_theme_options`) would also
accept hits on that other entry: such anchors are listed as warnings (not the members of a
documented class, `Sphinx` and `Sphinx.connect`, which belong to it).

Prints per file the number of answerable questions answered by an API entry (a `<dt id>`
among its relevant urls) and by a section, and of unanswerable ones. Exits non-zero on any
error.
"""
import json
import os
import re
import sys
from html.parser import HTMLParser


class Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections = set()
        self.entries = set()
        self.noindex = False
        self.refresh = False
        self.in_heading = 0

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self.in_heading:
            self.in_heading -= 1

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        i = a.get("id")
        if re.fullmatch(r"h[1-6]", tag):
            self.in_heading += 1
        if tag == "a" and self.in_heading:
            for key in ("id", "name"):
                if a.get(key):
                    self.sections.add(a[key])
        classes = (a.get("class") or "").split()
        if i and (tag == "section" or (tag == "div" and "section" in classes)
                  or re.fullmatch(r"h[1-6]", tag)):
            self.sections.add(i)
        if i and tag == "dt":
            self.entries.add(i)
        if tag == "meta":
            if (a.get("name") or "").lower() == "robots" and "noindex" in (a.get("content") or "").lower():
                self.noindex = True
            if (a.get("http-equiv") or "").lower() == "refresh":
                self.refresh = True


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2])
        return 2
    root, files = argv[1], argv[2:]
    if not os.path.isdir(root):
        print(f"HTML directory not found: {root}")
        return 2
    pages = {}

    def page(rel):
        if rel not in pages:
            path = os.path.join(root, rel)
            if not rel.endswith(".html") or not os.path.isfile(path):
                pages[rel] = None
            else:
                p = Ids()
                with open(path, encoding="utf-8") as f:
                    p.feed(f.read())
                pages[rel] = p
        return pages[rel]

    errors = warnings = total_urls = 0
    seen_q = {}
    for fname in files:
        n_api = n_section = n_unans = 0
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
                if not rel:
                    n_unans += 1
                    continue
                api = False
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
                    elif p.noindex or p.refresh:
                        print(f"{where}: page is not indexed (noindex/redirect): {rel_path}")
                        errors += 1
                    elif anchor:
                        if anchor in p.entries:
                            api = True
                        elif anchor not in p.sections:
                            print(f"{where}: no section or <dt> id '{anchor}' in {rel_path}")
                            errors += 1
                            continue
                        longer = sorted(i for i in p.sections | p.entries
                                        if i != anchor and i.startswith(anchor)
                                        and not i[len(anchor)] == ".")
                        if longer:
                            print(f"{where}: warning: '{anchor}' is a prefix of {len(longer)} other "
                                  f"id(s) in {rel_path}, e.g. '{longer[0]}'")
                            warnings += 1
                if api:
                    n_api += 1
                else:
                    n_section += 1
        print(f"{os.path.basename(fname)}: {n_api + n_section} answerable ({n_api} by an API "
              f"entry, {n_section} by a section), {n_unans} unanswerable")
    print(f"checked {total_urls} urls against {root}: "
          f"{'OK' if errors == 0 else f'{errors} error(s)'}"
          f"{f', {warnings} prefix warning(s)' if warnings else ''}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
