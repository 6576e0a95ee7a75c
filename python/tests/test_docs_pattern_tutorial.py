"""docs/AddingAPattern.md stays true: its excerpts are in the files they name, its IR
passes attn-opt (with -verify-diagnostics where marked), its Python runs, and every
repository path it names exists."""

import os
import re
import subprocess

import pytest

from attn_mlir import compiler
from api_cache import cache  # noqa: F401 - the module's cache
from docs_blocks import ROOT, code_blocks, read_page, run_python_blocks

PAGE = "AddingAPattern.md"


def lines(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


def attn_opt():
    return os.path.join(os.path.dirname(compiler.attn_compile_path()), "attn-opt")


def excerpts():
    return [(tags, code) for tags, code in code_blocks(PAGE)
            if any(t.startswith("from: ") for t in tags)]


@pytest.mark.parametrize("index", range(len(excerpts())))
def test_excerpt_is_in_its_file(index):
    tags, code = excerpts()[index]
    path = next(t[len("from: "):] for t in tags if t.startswith("from: "))
    with open(os.path.join(ROOT, path)) as f:
        haystack = lines(f.read())
    needle = lines(code)
    assert needle, "empty excerpt"
    found = any(haystack[i:i + len(needle)] == needle
                for i in range(len(haystack) - len(needle) + 1))
    assert found, f"docs/{PAGE}: this excerpt is not in {path} (line for line):\n{code}"


def test_there_are_excerpts_of_every_step():
    paths = {t for tags, _ in excerpts() for t in tags if t.startswith("from: ")}
    assert len(paths) >= 10


@pytest.mark.parametrize("tag", ["verify", "verify-diagnostics"])
def test_ir_blocks_pass_attn_opt(tag):
    blocks = [code for tags, code in code_blocks(PAGE, "mlir") if tag in tags]
    assert blocks, f"no mlir block tagged {tag}"
    for code in blocks:
        args = [attn_opt(), "-"] + (["-verify-diagnostics"] if tag != "verify" else [])
        proc = subprocess.run(args, input=code, capture_output=True, text=True)
        assert proc.returncode == 0, f"{proc.stderr}\n{code}"


def test_python_blocks_run():
    assert run_python_blocks(PAGE, with_torch=False) >= 1


def test_named_paths_exist():
    named = set(re.findall(r"`((?:include|lib|unittests|test|python|docs|fuzz|tools)/"
                           r"[\w./-]*\w)`", read_page(PAGE)))
    named |= {t[len("from: "):] for tags, _ in code_blocks(PAGE) for t in tags
              if t.startswith("from: ")}
    assert len(named) >= 15
    missing = sorted(p for p in named if not os.path.exists(os.path.join(ROOT, p)))
    assert not missing, f"docs/{PAGE} names paths that do not exist: {missing}"
