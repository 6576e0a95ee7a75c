"""The code blocks of a Markdown page, for the tests that run the docs' examples."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# A fenced block (``` or longer, closed by the same fence), with the HTML comments on the
# lines just above it: <!-- torch -->, <!-- from: path -->, <!-- verify -->.
_BLOCK = re.compile(r"(?P<tags>(?:^<!-- [^>]*? -->\n)*)^(?P<fence>`{3,})(?P<lang>[\w+-]*)\n"
                    r"(?P<code>.*?)^(?P=fence)$", re.S | re.M)
_TAG = re.compile(r"<!-- ([^>]*?) -->")


def read_page(page):
    with open(os.path.join(ROOT, "docs", page)) as f:
        return f.read()


def code_blocks(page, lang=None):
    """``[(tags, code)]`` of the blocks of docs/PAGE in order (only the ```lang ones when
    ``lang`` is given); ``tags`` lists the texts of the HTML comments just above."""
    return [(_TAG.findall(m["tags"]), m["code"]) for m in _BLOCK.finditer(read_page(page))
            if lang is None or m["lang"] == lang]


def run_python_blocks(page, with_torch):
    """Runs the python blocks of docs/PAGE in one namespace (the ones tagged torch only
    ``with_torch``; excerpts, tagged ``from: path``, never); returns how many ran."""
    namespace = {"__name__": "__docs__"}
    count = 0
    for index, (tags, code) in enumerate(code_blocks(page, "python")):
        if ("torch" in tags and not with_torch) or any(t.startswith("from: ") for t in tags):
            continue
        exec(compile(code, f"docs/{page} python block {index + 1}", "exec"), namespace)
        count += 1
    return count
