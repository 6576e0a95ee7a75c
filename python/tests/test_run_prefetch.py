"""The flash form with attn-tile's prefetches (`prefetch=true`, TilePrefetch.cpp) through
attn-run's fused pipeline, against the float64 reference (python/attn_mlir/reference.py).

The prefetches only ask the cache for rows (the next query tile's q and output rows, the key
tile just past each key range), so the results must be those of the form without them: these
cases cover bands (window, Longformer), BigBird (a random part whose key range spans every
tile), tiles aligned and not, the last query tile (whose next tile is past the end) and the
output written in place (fresh-destination=false, as attn-cpu-pipeline tiles)."""

import pathlib
import subprocess

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.builder import sdpa_func
from attn_mlir.patterns import Global, Union, Window
from attn_mlir.run import attn_run_path, run
from helpers import assert_close
from test_run_bigbird import bigbird
from test_run_fused import check_lse
from test_run_sdpa import make_qkv, shapes

FUSED_TOL = ref.TOLERANCE["f32_fused"]


def prefetch_ir(ir, tile, in_place):
    attn_opt = pathlib.Path(attn_run_path()).with_name("attn-opt")
    options = f"q-tile={tile[0]} kv-tile={tile[1]} prefetch=true"
    if in_place:
        options += " fresh-destination=false"
    proc = subprocess.run([str(attn_opt), "-", f"--attn-tile={options}"],
                          input=ir, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "memref.prefetch" in proc.stdout
    return proc.stdout


PATTERNS = {
    "window": Window(left=16, right=16),
    "longformer": Union([Window(left=16, right=16), Global(first=8)]),
    "bigbird": bigbird(200),
}


@pytest.mark.parametrize("in_place", [False, True], ids=["fresh", "in_place"])
@pytest.mark.parametrize("tile", [(16, 16), (8, 16), (12, 5)], ids=lambda t: f"{t[0]}x{t[1]}")
@pytest.mark.parametrize("name", list(PATTERNS))
def test_prefetch_matches_reference(name, tile, in_place):
    rng = np.random.default_rng(4)
    pattern = PATTERNS[name]
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=2, Nq=200, Nk=200, D=8, Dv=8)
    ir = prefetch_ir(sdpa_func(*shapes(q, k, v), pattern=pattern, lse=True), tile, in_place)
    o = np.zeros(q.shape[:3] + (v.shape[3],), dtype=v.dtype)
    out, lse = run(ir, [q, k, v, o], mode="fused")
    exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
    assert_close(out, exp, FUSED_TOL)
    check_lse(lse, exp_lse)


def test_prefetch_dynamic_lengths():
    """One compiled form, dynamic lengths: Nq != Nk, tails, a band past the last key."""
    rng = np.random.default_rng(5)
    pattern = PATTERNS["longformer"]
    proto = make_qkv(rng, 1, 2, 2, 1, 1, 8, 8)
    ir = prefetch_ir(sdpa_func(*shapes(*proto, dynamic=(2,)), pattern=pattern, lse=True),
                     (16, 16), in_place=True)
    for Nq, Nk in [(9, 17), (131, 197), (197, 96)]:
        q, k, v = make_qkv(rng, 1, 2, 2, Nq, Nk, 8, 8)
        o = np.zeros(q.shape[:3] + (v.shape[3],), dtype=v.dtype)
        out, lse = run(ir, [q, k, v, o], mode="fused")
        exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
        assert_close(out, exp, FUSED_TOL)
        check_lse(lse, exp_lse)
