"""docs/Embedding.md, "Artifacts from C": the complete C program of the block tagged
artifact-example compiles against the build tree's libAttnCAPI.so, compiles its spec into
an artifact and calls it at two lengths; what it prints matches causal grouped-query
attention in float64 (attn_mlir.reference)."""

import os
import shutil
import subprocess

import numpy as np
import pytest

from attn_mlir import reference
from attn_mlir.run import attn_run_path
from docs_blocks import ROOT, code_blocks

# The build tree of the attn-run under test ($ATTN_RUN, else build/).
BUILD = os.path.dirname(os.path.dirname(attn_run_path()))
CAPI = os.path.join(BUILD, "lib", "libAttnCAPI.so")


def example_source():
    blocks = [code for tags, code in code_blocks("Embedding.md", "c")
              if "artifact-example" in tags]
    assert len(blocks) == 1
    return blocks[0]


def inputs(n):
    """The example's inputs: exact multiples of 1/8, as its loops make them."""
    iq = np.arange(2 * 2 * n * 8)
    ikv = np.arange(2 * 1 * n * 8)
    q = (((iq * 7) % 13 - 6) / 8).reshape(2, 2, n, 8)
    k = (((ikv * 5) % 11 - 5) / 8).reshape(2, 1, n, 8)
    v = (((ikv * 3) % 17 - 8) / 8).reshape(2, 1, n, 8)
    return q, k, v


@pytest.mark.skipif(not os.path.exists(CAPI), reason="no libAttnCAPI.so (sanitizer build)")
def test_artifact_example_runs(tmp_path):
    source = tmp_path / "example.c"
    source.write_text(example_source())
    compiler = shutil.which("clang-22") or "/usr/lib/llvm-22/bin/clang"
    subprocess.run([compiler, str(source), "-I", os.path.join(ROOT, "include"),
                    "-I", os.path.join(BUILD, "include"), "-I", "/usr/lib/llvm-22/include",
                    "-L", os.path.join(BUILD, "lib"), "-lAttnCAPI",
                    "-Wl,-rpath," + os.path.join(BUILD, "lib"), "-o", str(tmp_path / "example")],
                   check=True)
    run = subprocess.run([str(tmp_path / "example")], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "sdpa" / "manifest.json").exists()
    lines = run.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["N=16", "N=37"]
    for line in lines:
        n = int(line.split(":")[0][2:])
        got = np.array(line.split(":")[1].split(), dtype=np.float64).reshape(2, 2, n, 8)
        expected = reference.sdpa(*inputs(n), pattern=reference.Causal())
        assert np.abs(got - expected).max() <= 1e-5
