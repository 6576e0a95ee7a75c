"""The code blocks of a Markdown page, for the tests that run the docs' examples."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_BLOCK = re.compile(r"(?P<marker><!-- (?P<tag>[^>]*?) -->\n)?```(?P<lang>[\w+-]*)\n"
                    r"(?P<code>.*?)```", re.S)


def code_blocks(page, lang):
    """``[(tag, code)]`` of the ```lang blocks of docs/PAGE in order; ``tag`` is the text of
    an HTML comment on the line just above the block (``<!-- torch -->``), or None."""
    with open(os.path.join(ROOT, "docs", page)) as f:
        text = f.read()
    return [(m["tag"], m["code"]) for m in _BLOCK.finditer(text) if m["lang"] == lang]


def run_python_blocks(page, with_torch):
    """Runs the python blocks of docs/PAGE in one namespace (the torch-tagged ones only
    ``with_torch``); returns how many ran."""
    namespace = {"__name__": "__docs__"}
    count = 0
    for index, (tag, code) in enumerate(code_blocks(page, "python")):
        if tag == "torch" and not with_torch:
            continue
        exec(compile(code, f"docs/{page} python block {index + 1}", "exec"), namespace)
        count += 1
    return count
