"""attn.sdpa through the fused pipeline (attn-tile, `attn-run --mode=fused`) against the float64
reference, within the fused tolerance (docs/Semantics.md §10): the sdpa integration cases of
test_run_sdpa.py, with tiles far smaller than the sequences so that many tiles, tails, Empty,
Full and Partial tiles all occur, and dynamic lengths from 1 to about 200 on one compiled form.

Small tiles go through `attn-opt --attn-tile="q-tile=Q kv-tile=K"` first: attn-run's fused
pipeline then finds the flash form already built and lowers it. The IR keeps its dynamic dims
through attn-tile, so the tiled form is the one that serves every length."""

import os
import pathlib
import subprocess
import tempfile

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.builder import sdpa_func
from attn_mlir.examples import EXAMPLES, INPUTS, ROOT, tolerance
from attn_mlir.patterns import (BlockLocal, Causal, Dense, Dilated, Global, Intersect, Random,
                                Union, Window)
from attn_mlir.run import attn_run_path, run
from helpers import assert_close, round_bf16
from test_run_sdpa import PATTERNS, make_qkv, shapes
import test_run_score_mod

FUSED_TOL = ref.TOLERANCE["f32_fused"]
# (q-tile, kv-tile) pairs: None is the pipeline's default (128 x 64).
TILES = [None, (4, 8), (7, 3)]


def tile_ir(ir, tile):
    """The IR with every attn.sdpa rewritten by attn-tile with the given tile sizes."""
    attn_opt = pathlib.Path(attn_run_path()).with_name("attn-opt")
    proc = subprocess.run([str(attn_opt), "-", f"--attn-tile=q-tile={tile[0]} kv-tile={tile[1]}"],
                          input=ir, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# The arguments of sdpa_func in order (attn-opt's output has no SSA names, so inputs go by
# position).
ARGUMENTS = ["q", "k", "v", "o", "mask", "bias", "mk", "mv", "qpos", "kpos", "span"]


def run_fused(ir, q, k, v, tile=None, **extra):
    """Runs the sdpa function `ir` through the fused pipeline, tiled first when `tile` is given."""
    if tile is not None:
        ir = tile_ir(ir, tile)
    inputs = {"q": q, "k": k, "v": v, "o": np.zeros(q.shape[:3] + (v.shape[3],), dtype=v.dtype),
              **extra}
    return run(ir, [inputs[name] for name in ARGUMENTS if name in inputs], mode="fused")


def check_lse(lse, exp_lse):
    np.testing.assert_array_equal(np.isneginf(lse), np.isneginf(exp_lse))
    finite = np.isfinite(exp_lse)
    np.testing.assert_allclose(lse[finite], exp_lse[finite], rtol=1e-4, atol=1e-4)


def tile_id(tile):
    return "default" if tile is None else f"{tile[0]}x{tile[1]}"


@pytest.mark.parametrize("tile", TILES, ids=tile_id)
@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.to_mlir()[:60])
def test_every_pattern(pattern, tile):
    rng = np.random.default_rng(1)
    q, k, v = make_qkv(rng, B=2, H=2, Hkv=2, Nq=33, Nk=37, D=8, Dv=6)
    ir = sdpa_func(*shapes(q, k, v), pattern=pattern, lse=True)
    out, lse = run_fused(ir, q, k, v, tile)
    exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
    assert_close(out, exp, FUSED_TOL)
    check_lse(lse, exp_lse)


DYNAMIC_PATTERNS = [
    Dense(),
    Causal(),
    Causal(offset=-3, bottom_right=True),
    Window(left=9, right=2),
    Dilated(left=3, right=3, dilation=4),
    BlockLocal(size=11),
    Union([Window(left=4, right=4), Global(tokens=(150,), first=3)]),
    Intersect([Causal(), Window(left=20, right=0)]),
    Random(block=8, per_row=2, seed=3),
]
LENGTHS = [(1, 1), (1, 200), (200, 1), (5, 7), (8, 8), (9, 17), (64, 64), (131, 197), (197, 96)]


@pytest.mark.parametrize("pattern", DYNAMIC_PATTERNS, ids=lambda p: p.to_mlir()[:50])
def test_dynamic_lengths_on_one_tiled_form(pattern):
    """Every dim dynamic, tiled once (8 x 4 tiles); lengths from 1 to 200 with tails,
    Nq != Nk, lengths below one tile."""
    rng = np.random.default_rng(2)
    proto = make_qkv(rng, 1, 4, 2, 1, 1, 8, 8)
    ir = tile_ir(sdpa_func(*shapes(*proto, dynamic=(0, 1, 2)), pattern=pattern, lse=True),
                 (8, 4))
    for B, (Nq, Nk) in zip([1, 2, 1, 2, 1, 1, 2, 1, 1], LENGTHS):
        q, k, v = make_qkv(rng, B, 4, 2, Nq, Nk, 8, 8)
        out, lse = run_fused(ir, q, k, v)
        exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
        assert_close(out, exp, FUSED_TOL)
        check_lse(lse, exp_lse)


@pytest.mark.parametrize("pattern", [Dense(), Causal(bottom_right=True), Window(left=2, right=20)],
                         ids=lambda p: p.to_mlir()[:30])
@pytest.mark.parametrize("Nq,Nk,tile", [(8, 40, (8, 8)), (64, 200, None)])
def test_one_static_query_tile_and_many_key_tiles(pattern, Nq, Nk, tile):
    """Static lengths that make the query tile's sizes constants: the statistics carried from
    one key tile to the next must not share a buffer with a temporary of the step (a bug of the
    first version, where the key loop yielded new tensors)."""
    rng = np.random.default_rng(19)
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=1, Nq=Nq, Nk=Nk, D=8, Dv=8)
    ir = sdpa_func(*shapes(q, k, v), pattern=pattern, lse=True)
    out, lse = run_fused(ir, q, k, v, tile)
    exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
    assert_close(out, exp, FUSED_TOL)
    check_lse(lse, exp_lse)


def test_no_keys_gives_empty_rows():
    rng = np.random.default_rng(3)
    proto = make_qkv(rng, 1, 2, 2, 1, 1, 4, 4)
    ir = tile_ir(sdpa_func(*shapes(*proto, dynamic=(2,)), lse=True), (4, 4))
    q, k, v = make_qkv(rng, 1, 2, 2, 5, 0, 4, 4)
    out, lse = run_fused(ir, q, k, v)
    assert np.all(out == 0) and np.all(np.isneginf(lse))


@pytest.mark.parametrize("H,Hkv", [(4, 2), (8, 1), (6, 3)])
def test_gqa(H, Hkv):
    rng = np.random.default_rng(H * 10 + Hkv)
    q, k, v = make_qkv(rng, B=2, H=H, Hkv=Hkv, Nq=9, Nk=21, D=16, Dv=8)
    ir = sdpa_func(*shapes(q, k, v), pattern=Causal(bottom_right=True))
    out, = run_fused(ir, q, k, v, (4, 4))
    assert_close(out, ref.sdpa(q, k, v, pattern=Causal(bottom_right=True)), FUSED_TOL)


@pytest.mark.parametrize("dtype,mlir,tol", [(np.float16, "f16", ref.TOLERANCE["f16"]),
                                            ("bf16", "bf16", ref.TOLERANCE["bf16"])])
def test_low_precision_inputs(dtype, mlir, tol):
    rng = np.random.default_rng(4)
    q, k, v = make_qkv(rng, B=1, H=4, Hkv=2, Nq=30, Nk=30, D=32, Dv=16)
    if dtype == "bf16":
        q, k, v = round_bf16(q), round_bf16(k), round_bf16(v)
    else:
        q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    ir = sdpa_func((list(q.shape), mlir), (list(k.shape), mlir), (list(v.shape), mlir),
                   pattern=Causal(), lse=True)
    out, lse = run_fused(ir, q, k, v, (8, 8))
    exp, exp_lse = ref.sdpa(q.astype(np.float64), k.astype(np.float64), v.astype(np.float64),
                            pattern=Causal(), return_lse=True)
    assert_close(out.astype(np.float64), exp, tol)
    np.testing.assert_allclose(lse, exp_lse, rtol=tol, atol=tol)


@pytest.mark.parametrize("tile", TILES, ids=tile_id)
def test_fully_masked_rows_and_mask_broadcast(tile):
    rng = np.random.default_rng(5)
    q, k, v = make_qkv(rng, B=2, H=2, Hkv=2, Nq=12, Nk=10, D=8, Dv=8)
    mask = rng.random((2, 1, 12, 10)) < 0.5
    mask[:, :, 3, :] = False        # row 3 sees nothing
    mask[1, :, 7, :] = False
    ir = sdpa_func(*shapes(q, k, v), mask=([2, 1, 12, 10], "i1"), lse=True)
    out, lse = run_fused(ir, q, k, v, tile, mask=mask)
    exp, exp_lse = ref.sdpa(q, k, v, mask=mask, return_lse=True)
    assert_close(out, exp, FUSED_TOL)
    assert np.all(out[:, :, 3] == 0) and np.all(np.isneginf(lse[:, :, 3]))
    assert not np.isnan(out).any()
    check_lse(lse, exp_lse)


def test_mask_of_every_rank_with_a_pattern():
    rng = np.random.default_rng(15)
    q, k, v = make_qkv(rng, B=2, H=2, Hkv=1, Nq=19, Nk=23, D=4, Dv=4)
    for shape in [(), (23,), (19, 23), (2, 1, 19, 1)]:
        mask = rng.random(shape) < 0.7
        ir = sdpa_func(*shapes(q, k, v), pattern=Window(left=6, right=6),
                       mask=(list(shape), "i1"))
        out, = run_fused(ir, q, k, v, (4, 4), mask=mask)
        assert_close(out, ref.sdpa(q, k, v, pattern=Window(left=6, right=6), mask=mask),
                     FUSED_TOL)


@pytest.mark.parametrize("tile", TILES, ids=tile_id)
def test_bias_broadcast_and_score_mod_softcap(tile):
    rng = np.random.default_rng(6)
    q, k, v = make_qkv(rng, B=2, H=4, Hkv=4, Nq=11, Nk=13, D=8, Dv=4)
    q *= 4.0
    bias = rng.standard_normal((4, 11, 13)).astype(np.float32)   # [H, Nq, Nk]
    body = """
    %cap = arith.constant 5.0 : f32
    %x = arith.divf %s, %cap : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %t, %cap : f32
    attn.yield %y : f32"""
    ir = sdpa_func(*shapes(q, k, v), bias=([4, 11, 13], "f32"), score_mod=body,
                   pattern=Causal(offset=2))
    out, = run_fused(ir, q, k, v, tile, bias=bias)
    exp = ref.sdpa(q, k, v, bias=bias, pattern=Causal(offset=2),
                   score_mod=lambda s, b, h, i, j: 5.0 * np.tanh(s / 5.0))
    assert_close(out, exp, FUSED_TOL)


@pytest.mark.parametrize("tile", TILES, ids=tile_id)
def test_score_mod_alibi_and_neg_inf_rows(tile):
    rng = np.random.default_rng(7)
    q, k, v = make_qkv(rng, B=1, H=3, Hkv=3, Nq=16, Nk=16, D=8, Dv=8)
    body = """
    %hi = arith.index_cast %h : index to i64
    %hf = arith.sitofp %hi : i64 to f32
    %c1 = arith.constant 1.0 : f32
    %slope = arith.addf %hf, %c1 : f32
    %d = arith.subi %i, %j : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %pen = arith.mulf %slope, %df : f32
    %t = arith.subf %s, %pen : f32
    %c5 = arith.constant 5 : index
    %is5 = arith.cmpi eq, %i, %c5 : index
    %ninf = arith.constant 0xFF800000 : f32
    %r = arith.select %is5, %ninf, %t : f32
    attn.yield %r : f32"""
    ir = sdpa_func(*shapes(q, k, v), pattern=Causal(), score_mod=body, lse=True)
    out, lse = run_fused(ir, q, k, v, tile)

    def alibi(s, b, h, i, j):
        return np.where(i == 5, -np.inf, s - (h + 1.0) * (i - j))
    exp, exp_lse = ref.sdpa(q, k, v, pattern=Causal(), score_mod=alibi, return_lse=True)
    assert_close(out, exp, FUSED_TOL)
    assert np.all(out[:, :, 5] == 0) and np.all(np.isneginf(lse[:, :, 5]))
    check_lse(lse, exp_lse)


@pytest.mark.parametrize("tile", TILES, ids=tile_id)
def test_memory(tile):
    rng = np.random.default_rng(8)
    q, k, v = make_qkv(rng, B=2, H=4, Hkv=2, Nq=10, Nk=10, D=8, Dv=8)
    mk = rng.standard_normal((2, 11, 8)).astype(np.float32)
    mv = rng.standard_normal((2, 11, 8)).astype(np.float32)
    mask = np.ones((10, 10), dtype=bool)
    mask[4] = False
    ir = sdpa_func(*shapes(q, k, v), pattern=Causal(), mask=([10, 10], "i1"),
                   memory=(([2, 11, 8], "f32"), ([2, 11, 8], "f32")), lse=True)
    out, lse = run_fused(ir, q, k, v, tile, mk=mk, mv=mv, mask=mask)
    exp, exp_lse = ref.sdpa(q, k, v, pattern=Causal(), mask=mask, memory=(mk, mv),
                            return_lse=True)
    assert_close(out, exp, FUSED_TOL)
    np.testing.assert_allclose(lse, exp_lse, rtol=1e-4, atol=1e-4)


def test_memory_with_bias_and_score_mod():
    """Memory keys skip bias and score_mod, but still need log2(e) applied after them."""
    rng = np.random.default_rng(18)
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=2, Nq=9, Nk=7, D=4, Dv=4)
    mk = rng.standard_normal((2, 5, 4)).astype(np.float32)
    mv = rng.standard_normal((2, 5, 4)).astype(np.float32)
    bias = rng.standard_normal((9, 7)).astype(np.float32)
    body = """
    %two = arith.constant 2.0 : f32
    %y = arith.mulf %s, %two : f32
    attn.yield %y : f32"""
    ir = sdpa_func(*shapes(q, k, v), bias=([9, 7], "f32"), score_mod=body,
                   memory=(([2, 5, 4], "f32"), ([2, 5, 4], "f32")), lse=True)
    out, lse = run_fused(ir, q, k, v, (4, 2), mk=mk, mv=mv, bias=bias)
    exp, exp_lse = ref.sdpa(q, k, v, bias=bias, memory=(mk, mv), return_lse=True,
                            score_mod=lambda s, b, h, i, j: 2.0 * s)
    assert_close(out, exp, FUSED_TOL)
    np.testing.assert_allclose(lse, exp_lse, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("tile", TILES, ids=tile_id)
def test_adaptive_span(tile):
    rng = np.random.default_rng(9)
    q, k, v = make_qkv(rng, B=1, H=4, Hkv=4, Nq=40, Nk=40, D=8, Dv=8)
    z = np.array([-3.0, 2.5, 7.0, 100.0], dtype=np.float32)   # clamped to [0, max_span]
    ir = sdpa_func(*shapes(q, k, v), span=([4], "f32"), ramp=3.0, max_span=12.0,
                   pattern=Causal(), lse=True)
    out, lse = run_fused(ir, q, k, v, tile, span=z)
    exp, exp_lse = ref.sdpa(q, k, v, span=z, ramp=3.0, max_span=12.0, pattern=Causal(),
                            return_lse=True)
    assert_close(out, exp, FUSED_TOL)
    check_lse(lse, exp_lse)


@pytest.mark.parametrize("tile", TILES, ids=tile_id)
@pytest.mark.parametrize("heads,itype", [(1, np.int32), (4, np.int64), (2, np.int32)])
def test_positions(heads, itype, tile):
    """Positions with head dim 1, H or Hkv; negative and repeated positions included."""
    rng = np.random.default_rng(10 + heads)
    q, k, v = make_qkv(rng, B=2, H=4, Hkv=2, Nq=14, Nk=18, D=8, Dv=8)
    qpos = rng.integers(-20, 40, size=(2, heads, 14)).astype(itype)
    kpos = rng.integers(-20, 40, size=(2, heads, 18)).astype(itype)
    pattern = Union([Window(left=6, right=2), BlockLocal(size=8)])
    mt = "i32" if itype == np.int32 else "i64"
    ir = sdpa_func(*shapes(q, k, v, dynamic=(2,)), pattern=pattern,
                   positions=(([2, heads, None], mt), ([2, heads, None], mt)))
    out, = run_fused(ir, q, k, v, tile, qpos=qpos, kpos=kpos)
    assert_close(out, ref.sdpa(q, k, v, pattern=pattern, positions=(qpos, kpos)), FUSED_TOL)


def test_sorted_positions_make_full_and_empty_tiles():
    """Shifted, sorted positions (a decoding window): tiles classified from their min and max."""
    rng = np.random.default_rng(16)
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=2, Nq=24, Nk=40, D=8, Dv=8)
    qpos = np.broadcast_to(np.arange(16, 40, dtype=np.int64), (1, 1, 24)).copy()
    kpos = np.broadcast_to(np.arange(40, dtype=np.int64), (1, 1, 40)).copy()
    for pattern in [Causal(), Window(left=5, right=0), Intersect([Causal(), BlockLocal(size=8)])]:
        ir = sdpa_func(*shapes(q, k, v), pattern=pattern, lse=True,
                       positions=(([1, 1, 24], "i64"), ([1, 1, 40], "i64")))
        out, lse = run_fused(ir, q, k, v, (4, 8), qpos=qpos, kpos=kpos)
        exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, positions=(qpos, kpos),
                                return_lse=True)
        assert_close(out, exp, FUSED_TOL)
        check_lse(lse, exp_lse)


@pytest.mark.parametrize("tile", TILES, ids=tile_id)
def test_nan_reaches_only_live_rows(tile):
    rng = np.random.default_rng(12)
    q, k, v = make_qkv(rng, B=1, H=1, Hkv=1, Nq=8, Nk=8, D=4, Dv=4)
    k[0, 0, 6, 1] = np.nan     # key 6: live only for rows >= 6 under causal
    v[0, 0, 7, 0] = np.inf     # value 7: live only for row 7
    q[0, 0, 2, 0] = np.nan     # query 2: its own row only
    out, = run_fused(sdpa_func(*shapes(q, k, v), pattern=Causal()), q, k, v, tile)
    exp = ref.sdpa(q, k, v, pattern=Causal())
    np.testing.assert_array_equal(np.isnan(out), np.isnan(exp))
    rows = [0, 1, 3, 4, 5]
    assert np.isnan(out[0, 0, 2]).all() and np.isnan(out[0, 0, 6:]).all()
    assert_close(out[0, 0, rows], exp[0, 0, rows], FUSED_TOL)


def test_nan_in_a_dead_value_of_a_partial_tile():
    """A value that is live for some rows of a Partial tile and dead for others."""
    rng = np.random.default_rng(17)
    q, k, v = make_qkv(rng, B=1, H=1, Hkv=1, Nq=8, Nk=8, D=4, Dv=4)
    v[0, 0, 5, 2] = np.nan     # live for rows >= 5 under causal, in one 8x8 tile
    out, = run_fused(sdpa_func(*shapes(q, k, v), pattern=Causal()), q, k, v, (8, 8))
    exp = ref.sdpa(q, k, v, pattern=Causal())
    np.testing.assert_array_equal(np.isnan(out), np.isnan(exp))
    assert not np.isnan(out[0, 0, :5]).any()


@pytest.mark.parametrize("tile", [None, (4, 4), (8, 4)], ids=tile_id)
def test_huge_finite_dead_values_of_partial_tiles_weigh_nothing(tile):
    """Every value finite: a Partial tile's value contraction is a plain matmul, exact only if
    the probability of each dead pair is exactly 0 (exp2(-inf) = 0): a dead value of 1e38 would
    show any residue."""
    rng = np.random.default_rng(21)
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=2, Nq=12, Nk=12, D=4, Dv=4)
    v[:, :, 5] = 1e38       # dead for rows 0..2 and 8..11 of Window(2, 2), in their tiles
    pattern = Window(2, 2)
    out, = run_fused(sdpa_func(*shapes(q, k, v), pattern=pattern), q, k, v, tile)
    exp = ref.sdpa(q, k, v, pattern=pattern)
    assert np.isfinite(out).all()
    dead = [0, 1, 2, 8, 9, 10, 11]
    assert np.abs(exp[:, :, dead]).max() < 10
    assert_close(out[:, :, dead], exp[:, :, dead], FUSED_TOL)
    assert_close(out[:, :, 3:8] / 1e38, exp[:, :, 3:8] / 1e38, FUSED_TOL)


@pytest.mark.parametrize("tile", [(4, 4), (8, 4)], ids=tile_id)
def test_nan_value_of_a_live_pair_whose_score_is_minus_inf(tile):
    """A NaN value makes the Partial tile take the selecting contraction, whose liveness is the
    pattern's, not `score > -inf`: a live pair with a -inf score (a bias) still reaches its
    row as 0 * NaN, as in the reference; a dead one does not."""
    rng = np.random.default_rng(22)
    q, k, v = make_qkv(rng, B=1, H=1, Hkv=1, Nq=12, Nk=12, D=4, Dv=4)
    v[0, 0, 5, 1] = np.nan          # live for rows 3..7 of Window(2, 2)
    bias = np.zeros((12, 12), np.float32)
    bias[3, 5] = -np.inf            # row 3 scores key 5 at -inf, but the pair is live
    bias[8, 5] = -np.inf            # dead anyway (|8 - 5| > 2)
    pattern = Window(2, 2)
    ir = sdpa_func(*shapes(q, k, v), pattern=pattern, bias=((12, 12), "f32"))
    out, = run_fused(ir, q, k, v, tile, bias=bias)
    exp = ref.sdpa(q, k, v, pattern=pattern, bias=bias)
    nan_rows = np.isnan(exp[0, 0]).any(axis=-1)
    assert nan_rows.tolist() == [3 <= i <= 7 for i in range(12)]
    np.testing.assert_array_equal(np.isnan(out), np.isnan(exp))
    assert_close(out[0, 0, ~nan_rows], exp[0, 0, ~nan_rows], FUSED_TOL)


@pytest.mark.parametrize("tile", TILES, ids=tile_id)
def test_large_scores_do_not_overflow(tile):
    rng = np.random.default_rng(13)
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=2, Nq=16, Nk=16, D=4, Dv=4)
    q *= 100.0
    k *= 100.0      # scores up to about 1e4
    out, lse = run_fused(sdpa_func(*shapes(q, k, v), lse=True), q, k, v, tile)
    exp, exp_lse = ref.sdpa(q, k, v, return_lse=True)
    assert np.isfinite(out).all() and np.isfinite(lse).all()
    assert_close(out, exp, FUSED_TOL)
    np.testing.assert_allclose(lse, exp_lse, rtol=1e-5)



@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example(name):
    """Every example (the decompositions feed attn.sdpa, which attn-tile takes) through
    `--mode=fused` on seeded random inputs of length 256 (four tiles of 64), against the float64
    reference from the same inputs."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [attn_run_path(), os.path.join(ROOT, "examples", name + ".mlir"), "--mode=fused",
               "--random-inputs", "--seed=1", "--dim=256", f"--dump-inputs={tmp}",
               f"--output={tmp}"]
        # Inputs that random draws would not make meaningful (a tree, its block layout).
        for arg, array in INPUTS.get(name, lambda _: {})(256).items():
            path = os.path.join(tmp, f"given-{arg}.npy")
            np.save(path, array)
            cmd.append(f"--input={arg}={path}")
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        inputs = {f[:-4]: np.load(os.path.join(tmp, f)) for f in os.listdir(tmp)
                  if f.endswith(".npy") and not f.startswith(("result", "given-"))}
        for i, exp in enumerate(EXAMPLES[name](inputs)):
            out = np.load(os.path.join(tmp, f"result{i}.npy")).astype(np.float64)
            assert_close(out, exp, max(FUSED_TOL, tolerance(name)))


SCORE_MOD_CASES = [name for name in dir(test_run_score_mod)
                   if name.startswith("test_") and name != "test_every_math_op"]


@pytest.fixture
def fused_score_mod_tests(monkeypatch):
    """test_run_score_mod with its attn-run calls in mode=fused."""
    monkeypatch.setattr(test_run_score_mod, "run",
                        lambda *args, **kwargs: run(*args, mode="fused", **kwargs))
    return test_run_score_mod


@pytest.mark.parametrize("case", SCORE_MOD_CASES)
def test_score_mod_regions(case, fused_score_mod_tests):
    """score_mod with structured control flow, cloned whole into every visited tile."""
    getattr(fused_score_mod_tests, case)()


@pytest.mark.parametrize("op", sorted(test_run_score_mod.MATH_OPS))
def test_score_mod_math_op(op, fused_score_mod_tests):
    fused_score_mod_tests.test_every_math_op(op)


# Sizes around the CPU micro-kernels' blocks (attn-cpu-microkernels): one row and one key, fewer
# rows or keys than a tile, rows not a multiple of the 6-row block, keys and head dims that are
# not a multiple of the vector width (D = 1, 3, 17, 80, ...), D != Dv, more than one tile with a
# one-row or one-key tail (Nq = 129 past the 128-row default query tile, Nk = 257).
KERNEL_SIZES = [(1, 1, 1, 1), (1, 5, 3, 3), (5, 1, 17, 17), (17, 23, 80, 80), (70, 131, 96, 96),
                (131, 70, 128, 128), (33, 100, 16, 48), (129, 257, 64, 17), (40, 40, 17, 80)]
# (sizes, vector width): every size at the host's width (0), a few at the AVX2 (8) and SSE (4)
# widths that `attn-run --vector-width` forces.
KERNEL_CASES = [(s, 0) for s in KERNEL_SIZES] + [
    (s, w) for w in (8, 4) for s in KERNEL_SIZES if s[:2] in [(1, 5), (17, 23), (129, 257), (40, 40)]]


@pytest.mark.parametrize("sizes,width", KERNEL_CASES,
                         ids=lambda c: str(c) if isinstance(c, tuple) else f"width{c or 'host'}")
@pytest.mark.parametrize("pattern", [Dense(), Causal(bottom_right=True)],
                         ids=lambda p: p.to_mlir()[:20])
def test_micro_kernel_sizes(pattern, sizes, width):
    """The default tiles through the micro-kernels, at the host's vector width and at the AVX2
    (8) and SSE (4) ones."""
    Nq, Nk, D, Dv = sizes
    rng = np.random.default_rng(Nq * 1000 + Nk + D)
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=1, Nq=Nq, Nk=Nk, D=D, Dv=Dv)
    ir = sdpa_func(*shapes(q, k, v), pattern=pattern, lse=True)
    o = np.zeros((1, 2, Nq, Dv), dtype=np.float32)
    extra = [f"--vector-width={width}"] if width else []
    out, lse = run(ir, [q, k, v, o], mode="fused", extra_args=extra)
    exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
    assert_close(out, exp, FUSED_TOL)
    check_lse(lse, exp_lse)


@pytest.mark.parametrize("D,Dv", [(0, 4), (4, 0), (0, 0)])
def test_head_dim_zero(D, Dv):
    """A head dim of 0 (scores all 0, or an empty result): attn-tile used to build an
    extract_slice at offset 0 of the static 0 dim, which does not verify, so the fused
    pipeline failed on a valid op; it now takes the reference lowering. The scale is explicit:
    the default 1/sqrt(D) is inf at D = 0."""
    rng = np.random.default_rng(20)
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=1, Nq=5, Nk=7, D=D, Dv=Dv)
    ir = sdpa_func(*shapes(q, k, v), pattern=Causal(), lse=True, scale=0.5)
    out, lse = run_fused(ir, q, k, v)
    exp, exp_lse = ref.sdpa(q, k, v, pattern=Causal(), return_lse=True, scale=0.5)
    assert out.shape == exp.shape
    assert_close(out, exp, FUSED_TOL)
    check_lse(lse, exp_lse)
