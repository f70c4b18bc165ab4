#!/usr/bin/env python3
"""Check the `relevant` urls of an evaluation set against a folder of generated HTML.

Usage: check_anchors.py HTML_DIR EVAL.jsonl [EVAL.jsonl ...]

Written for Sphinx output (e.g. `/usr/share/doc/sphinx-doc/html` from Debian's sphinx-doc) and
used for other generators too: a citable anchor is either a section or an API entry (`<dt id>`:
a config value, a directive, a role, a Python object, a command-line option, ...). A section's
anchor is found from its heading the way docent's ingest finds it: the heading's own id; else
the id or name of an `<a>` inside it (DocBook writes `<h2><a name="X">`); else the id of a
wrapping `<section>`, `<div>` or `<article>`, up to four levels up, whose first heading it is
(Sphinx's `<section id="X"><h2>`, `<div class="section" id="X">` in older themes, asciidoc's
`<div id="header"><h1>`).

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


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr"}
# How many wrapping elements above a heading may lend it their id (as docent's ingest does).
WRAPPER_LEVELS = 4


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def descendants(self):
        for c in self.children:
            yield c
            yield from c.descendants()


def is_heading(tag):
    return re.fullmatch(r"h[1-6]", tag) is not None


def nonempty(v):
    v = (v or "").strip()
    return v or None


def heading_anchor(h):
    """The anchor docent cites for heading `h`: its own id; else the id or name of an `<a>`
    inside it; else the id of a wrapping section/div/article (up to WRAPPER_LEVELS up) whose
    first heading it is."""
    if nonempty(h.attrs.get("id")):
        return nonempty(h.attrs.get("id"))
    for d in h.descendants():
        if d.tag == "a":
            a = nonempty(d.attrs.get("id")) or nonempty(d.attrs.get("name"))
            if a:
                return a
    cur = h
    for _ in range(WRAPPER_LEVELS):
        parent = cur.parent
        if parent is None or parent.tag is None:
            break
        first = next((d for d in parent.descendants() if is_heading(d.tag)), None)
        if first is not h:
            break
        if parent.tag in ("section", "div", "article") and nonempty(parent.attrs.get("id")):
            return nonempty(parent.attrs.get("id"))
        cur = parent
    return None


class Ids(HTMLParser):
    """Builds a small element tree of a page, then collects its citable anchors."""

    def __init__(self):
        super().__init__()
        self.root = Node(None, {}, None)
        self.stack = [self.root]
        self.noindex = False
        self.refresh = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta":
            if (a.get("name") or "").lower() == "robots" and "noindex" in (a.get("content") or "").lower():
                self.noindex = True
            if (a.get("http-equiv") or "").lower() == "refresh":
                self.refresh = True
        node = Node(tag, a, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if any(n.tag == tag for n in self.stack[1:]):
            while self.stack[-1].tag != tag:
                self.stack.pop()
            self.stack.pop()

    def finish(self):
        """Sets `sections` (heading anchors as docent derives them) and `entries` (`<dt id>`)."""
        self.sections, self.entries = set(), set()
        for n in self.root.descendants():
            if is_heading(n.tag):
                a = heading_anchor(n)
                if a:
                    self.sections.add(a)
            elif n.tag == "dt" and nonempty(n.attrs.get("id")):
                self.entries.add(nonempty(n.attrs.get("id")))
        return self


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
                pages[rel] = p.finish()
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
                            print(f"{where}: no section anchor or <dt> id '{anchor}' in {rel_path}")
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
