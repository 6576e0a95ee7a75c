"""Sinks, neighbourhoods and document ids (docs/Semantics.md §2, §3) through attn-run against
the float64 reference: the fused pipeline (its default tiles and small tiles, so that Empty,
Full and Partial tiles all occur) and `--mode=reference`, with static and dynamic lengths."""

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.builder import sdpa_func
from attn_mlir.patterns import Causal, Dense, Intersect, Neighborhood, Sink, Union, Window
from attn_mlir.run import AttnRunError, run
from helpers import assert_close
from test_run_fused import FUSED_TOL, check_lse, tile_id, tile_ir

TILES = [None, (7, 3)]
# The bound of each mode (docs/Semantics.md §10).
MODES = {"fused": FUSED_TOL, "reference": ref.TOLERANCE["f32_reference"]}
# (mode, tile): the fused pipeline with each tiling, the reference pipeline (no tiles).
RUNS = [("fused", tile) for tile in TILES] + [("reference", None)]


def run_id(run):
    return f"{run[0]}-{tile_id(run[1])}"


def qkv(rng, B, H, Nq, Nk, D=8, Dv=6):
    return (rng.standard_normal((B, H, Nq, D)).astype(np.float32),
            rng.standard_normal((B, H, Nk, D)).astype(np.float32),
            rng.standard_normal((B, H, Nk, Dv)).astype(np.float32))


def run_sdpa(q, k, v, mode, tile=None, segments=None, dynamic=False, **clauses):
    """Runs one attn.sdpa (the builder's argument order: q, k, v, o, then qseg, kseg)."""
    def shape(x):
        s = list(x.shape)
        if dynamic:
            s[2] = None
        return (s, "f32")
    seg_types = None
    if segments is not None:
        seg_types = tuple(([x.shape[0], None if dynamic else x.shape[1]],
                           "i32" if x.dtype == np.int32 else "i64") for x in segments)
    ir = sdpa_func(shape(q), shape(k), shape(v), segments=seg_types, lse=True, **clauses)
    if tile is not None:
        ir = tile_ir(ir, tile)
    o = np.zeros(q.shape[:3] + (v.shape[3],), dtype=np.float32)
    inputs = [q, k, v, o] + (list(segments) if segments is not None else [])
    return run(ir, inputs, mode=mode)


PATTERNS = [
    Sink(first=3),
    Sink(tokens=(0, 17, 30)),
    Union([Causal(), Sink(first=9)]),
    Intersect([Causal(), Union([Window(left=5, right=0), Sink(first=2, tokens=(20,))])]),
    Neighborhood([35], [7]),
    Neighborhood([5, 7], [3, 3]),
    Neighborhood([6, 6], [5, 2]),
    Neighborhood([2, 3, 6], [1, 3, 4]),
    Union([Neighborhood([4, 8], [3, 3]), Sink(first=1)]),
]


@pytest.mark.parametrize("mode,tile", RUNS, ids=[run_id(r) for r in RUNS])
@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.to_mlir()[:60])
def test_patterns(pattern, mode, tile):
    rng = np.random.default_rng(2)
    q, k, v = qkv(rng, B=1, H=2, Nq=37, Nk=33)
    out, lse = run_sdpa(q, k, v, mode, tile, pattern=pattern)
    exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
    assert_close(out, exp, MODES[mode])
    check_lse(lse, exp_lse)


def packed(rng, B, n, docs):
    """Sorted document ids [B, n]: `docs` documents of random lengths per row."""
    return np.sort(rng.integers(0, docs, size=(B, n)), axis=1)


SEGMENT_CASES = {
    "packed-causal": (Causal(), np.int32, "packed"),
    "packed-dense-i64": (Dense(), np.int64, "packed"),
    "scattered-window": (Window(left=6, right=6), np.int32, "scattered"),
    "packed-sinks": (Union([Causal(), Sink(first=4)]), np.int64, "packed"),
    "one-document": (Causal(), np.int32, "one"),
}


@pytest.mark.parametrize("mode,tile", RUNS, ids=[run_id(r) for r in RUNS])
@pytest.mark.parametrize("case", sorted(SEGMENT_CASES))
def test_segments(case, mode, tile):
    pattern, itype, kind = SEGMENT_CASES[case]
    rng = np.random.default_rng(3)
    B, N = 2, 41
    q, k, v = qkv(rng, B=B, H=2, Nq=N, Nk=N)
    if kind == "packed":
        seg = packed(rng, B, N, 4)
    elif kind == "scattered":
        seg = rng.integers(-1, 3, size=(B, N))
    else:
        seg = np.full((B, N), 7)
    seg = seg.astype(itype)
    out, lse = run_sdpa(q, k, v, mode, tile, segments=(seg, seg), pattern=pattern)
    exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, segments=(seg, seg), return_lse=True)
    assert_close(out, exp, MODES[mode])
    check_lse(lse, exp_lse)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_segments_cross_attention_dynamic_lengths(mode):
    """Nq != Nk on one dynamic-length form; a query whose document has no key is an empty
    row (o = 0, lse = -inf)."""
    rng = np.random.default_rng(4)
    for Nq, Nk in [(1, 1), (9, 23), (30, 5)]:
        q, k, v = qkv(rng, B=2, H=2, Nq=Nq, Nk=Nk)
        qseg = packed(rng, 2, Nq, 3).astype(np.int64)
        kseg = packed(rng, 2, Nk, 3).astype(np.int32)
        qseg[:, -1] = 9  # a document that has no key
        out, lse = run_sdpa(q, k, v, mode, (4, 4) if mode == "fused" else None,
                            segments=(qseg, kseg), dynamic=True)
        exp, exp_lse = ref.sdpa(q, k, v, segments=(qseg, kseg), return_lse=True)
        assert_close(out, exp, MODES[mode])
        check_lse(lse, exp_lse)
        assert np.isneginf(lse[:, :, -1]).all() and (out[:, :, -1] == 0).all()


def test_segment_lengths_that_do_not_fit_are_an_input_error():
    """Ids of the wrong length on a dynamic-length form: attn-run specialises the function to
    the inputs' shapes, and the verifier names the operand (exit code 1)."""
    rng = np.random.default_rng(5)
    q, k, v = qkv(rng, B=1, H=1, Nq=8, Nk=8)
    seg = np.zeros((1, 7), dtype=np.int32)
    with pytest.raises(AttnRunError) as info:
        run_sdpa(q, k, v, "fused", segments=(seg, seg), dynamic=True)
    assert info.value.returncode == 1
    assert "expects Nq of query segments" in str(info.value)


@pytest.mark.parametrize("tile", [None, (5, 3)], ids=tile_id)
def test_sorted_keys_scattered_queries(tile):
    """Sorted key ids bound the key rows of a query tile by binary search on its id range
    (whatever the order of the query ids); ids off every key document make empty rows."""
    rng = np.random.default_rng(6)
    B, Nq, Nk = 2, 29, 47
    q, k, v = qkv(rng, B=B, H=2, Nq=Nq, Nk=Nk)
    kseg = packed(rng, B, Nk, 5).astype(np.int32)
    qseg = rng.integers(-1, 7, size=(B, Nq)).astype(np.int64)
    for pattern in (Dense(), Window(left=8, right=3)):
        out, lse = run_sdpa(q, k, v, "fused", tile, segments=(qseg, kseg), pattern=pattern)
        exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, segments=(qseg, kseg),
                                return_lse=True)
        assert_close(out, exp, FUSED_TOL)
        check_lse(lse, exp_lse)
