"""attn.sdpa through attn-run (attn-cpu-pipeline, mode=reference) against the float64
reference, on fresh random inputs (docs/Semantics.md and its §10)."""

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.builder import sdpa_func
from attn_mlir.patterns import (Axial, BlockLocal, BlockSparse, Causal, Dense, Dilated, Fixed,
                                Global, Intersect, Random, Strided, Union, Window)
from attn_mlir.run import run
from helpers import assert_close, round_bf16


def make_qkv(rng, B, H, Hkv, Nq, Nk, D, Dv, dtype=np.float32):
    q = rng.standard_normal((B, H, Nq, D)).astype(dtype)
    k = rng.standard_normal((B, Hkv, Nk, D)).astype(dtype)
    v = rng.standard_normal((B, Hkv, Nk, Dv)).astype(dtype)
    return q, k, v


def shapes(q, k, v, dynamic=()):
    """(shape, dtype) triples for sdpa_func; dims listed in `dynamic` become `?`."""
    def one(x):
        return [None if d in dynamic else n for d, n in enumerate(x.shape)]
    return (one(q), "f32"), (one(k), "f32"), (one(v), "f32")


def run_sdpa(ir, q, k, v, **extra):
    o = np.zeros(q.shape[:3] + (v.shape[3],), dtype=v.dtype)
    return run(ir, {"q": q, "k": k, "v": v, "o": o, **extra})


PATTERNS = [
    Dense(),
    Causal(),
    Causal(offset=-2),
    Causal(offset=1, bottom_right=True),
    Window(left=3, right=2),
    Window(left=-1, right=4),
    Dilated(left=2, right=1, dilation=3),
    BlockLocal(size=5),
    Strided(stride=4),
    Fixed(block=6, summary=2),
    Global(tokens=(3, 17), first=2),
    Random(block=4, per_row=2, seed=11),
    Random(block=3, per_row=1, seed=-5),
    Axial(rows=5, cols=6),
    BlockSparse(block=(8, 4), layout=np.array([[1, 0, 1, 0, 1, 0, 1, 1, 0, 1],
                                      [0, 1, 0, 0, 1, 1, 0, 0, 0, 0],
                                      [1, 1, 1, 1, 0, 0, 0, 1, 0, 0],
                                      [0, 0, 0, 1, 1, 0, 1, 0, 1, 1],
                                      [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]], dtype=bool)),
    Union([Window(left=2, right=2), Global(first=3)]),
    Intersect([Causal(), Union([BlockLocal(size=6), Fixed(block=6, summary=1)])]),
    Intersect([Causal(), Window(left=4, right=0), Strided(stride=2)]),
]


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.to_mlir()[:60])
def test_every_pattern(pattern):
    rng = np.random.default_rng(1)
    q, k, v = make_qkv(rng, B=2, H=2, Hkv=2, Nq=33, Nk=37, D=8, Dv=6)
    out, lse = run_sdpa(sdpa_func(*shapes(q, k, v), pattern=pattern, lse=True), q, k, v)
    exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
    assert_close(out, exp)
    np.testing.assert_array_equal(np.isneginf(lse), np.isneginf(exp_lse))
    finite = np.isfinite(exp_lse)
    np.testing.assert_allclose(lse[finite], exp_lse[finite], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("H,Hkv", [(4, 2), (8, 1), (6, 3)])
def test_gqa(H, Hkv):
    rng = np.random.default_rng(H * 10 + Hkv)
    q, k, v = make_qkv(rng, B=2, H=H, Hkv=Hkv, Nq=9, Nk=21, D=16, Dv=8)
    out, = run_sdpa(sdpa_func(*shapes(q, k, v), pattern=Causal(bottom_right=True)), q, k, v)
    assert_close(out, ref.sdpa(q, k, v, pattern=Causal(bottom_right=True)))


def test_dynamic_every_dim_and_nq_ne_nk():
    rng = np.random.default_rng(3)
    ir = sdpa_func(*shapes(*make_qkv(rng, 1, 4, 2, 1, 1, 8, 8), dynamic=(0, 1, 2)),
                   pattern=Window(left=5, right=1))
    # One compiled spec, several lengths: no recompilation of the IR text.
    for B, Nq, Nk in [(1, 1, 1), (2, 17, 40), (3, 64, 5)]:
        q, k, v = make_qkv(rng, B, 4, 2, Nq, Nk, 8, 8)
        out, = run_sdpa(ir, q, k, v)
        assert_close(out, ref.sdpa(q, k, v, pattern=Window(left=5, right=1)))


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
                   pattern=Causal())
    out, = run_sdpa(ir, q, k, v)
    exp = ref.sdpa(q.astype(np.float64), k.astype(np.float64), v.astype(np.float64),
                   pattern=Causal())
    assert_close(out.astype(np.float64), exp, tol)


def test_fully_masked_rows_and_mask_broadcast():
    rng = np.random.default_rng(5)
    q, k, v = make_qkv(rng, B=2, H=2, Hkv=2, Nq=12, Nk=10, D=8, Dv=8)
    mask = rng.random((2, 1, 12, 10)) < 0.5
    mask[:, :, 3, :] = False        # row 3 sees nothing
    mask[1, :, 7, :] = False
    ir = sdpa_func(*shapes(q, k, v), mask=([2, 1, 12, 10], "i1"), lse=True)
    out, lse = run_sdpa(ir, q, k, v, mask=mask)
    exp, exp_lse = ref.sdpa(q, k, v, mask=mask, return_lse=True)
    assert_close(out, exp)
    assert np.all(out[:, :, 3] == 0) and np.all(np.isneginf(lse[:, :, 3]))
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(np.isneginf(lse), np.isneginf(exp_lse))


def test_bias_broadcast_and_score_mod_softcap():
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
    ir = sdpa_func(*shapes(q, k, v), bias=([4, 11, 13], "f32"), score_mod=body)
    out, = run_sdpa(ir, q, k, v, bias=bias)
    exp = ref.sdpa(q, k, v, bias=bias, score_mod=lambda s, b, h, i, j: 5.0 * np.tanh(s / 5.0))
    assert_close(out, exp)


def test_score_mod_alibi_and_neg_inf_rows():
    rng = np.random.default_rng(7)
    q, k, v = make_qkv(rng, B=1, H=3, Hkv=3, Nq=16, Nk=16, D=8, Dv=8)
    # ALiBi with a per-head slope; row 5 yields -inf everywhere (all -inf row: o = 0).
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
    out, lse = run_sdpa(ir, q, k, v)

    def alibi(s, b, h, i, j):
        return np.where(i == 5, -np.inf, s - (h + 1.0) * (i - j))
    exp, exp_lse = ref.sdpa(q, k, v, pattern=Causal(), score_mod=alibi, return_lse=True)
    assert_close(out, exp)
    assert np.all(out[:, :, 5] == 0) and np.all(np.isneginf(lse[:, :, 5]))


def test_memory():
    rng = np.random.default_rng(8)
    q, k, v = make_qkv(rng, B=2, H=4, Hkv=2, Nq=10, Nk=10, D=8, Dv=8)
    mk = rng.standard_normal((2, 3, 8)).astype(np.float32)
    mv = rng.standard_normal((2, 3, 8)).astype(np.float32)
    # Memory stays live where the pattern and mask leave a row empty.
    mask = np.ones((10, 10), dtype=bool)
    mask[4] = False
    ir = sdpa_func(*shapes(q, k, v), pattern=Causal(), mask=([10, 10], "i1"),
                   memory=(([2, 3, 8], "f32"), ([2, 3, 8], "f32")), lse=True)
    out, lse = run_sdpa(ir, q, k, v, mk=mk, mv=mv, mask=mask)
    exp, exp_lse = ref.sdpa(q, k, v, pattern=Causal(), mask=mask, memory=(mk, mv),
                            return_lse=True)
    assert_close(out, exp)
    np.testing.assert_allclose(lse, exp_lse, rtol=1e-5, atol=1e-5)


def test_adaptive_span():
    rng = np.random.default_rng(9)
    q, k, v = make_qkv(rng, B=1, H=4, Hkv=4, Nq=40, Nk=40, D=8, Dv=8)
    z = np.array([-3.0, 2.5, 7.0, 100.0], dtype=np.float32)   # clamped to [0, max_span]
    ir = sdpa_func(*shapes(q, k, v), span=([4], "f32"), ramp=3.0, max_span=12.0,
                   pattern=Causal())
    out, = run_sdpa(ir, q, k, v, span=z)
    assert_close(out, ref.sdpa(q, k, v, span=z, ramp=3.0, max_span=12.0, pattern=Causal()))


@pytest.mark.parametrize("heads,itype", [(1, np.int32), (4, np.int64), (2, np.int32)])
def test_positions(heads, itype):
    """Positions with head dim 1, H or Hkv; negative and repeated positions included."""
    rng = np.random.default_rng(10 + heads)
    q, k, v = make_qkv(rng, B=2, H=4, Hkv=2, Nq=14, Nk=18, D=8, Dv=8)
    qpos = rng.integers(-20, 40, size=(2, heads, 14)).astype(itype)
    kpos = rng.integers(-20, 40, size=(2, heads, 18)).astype(itype)
    pattern = Union([Window(left=6, right=2), BlockLocal(size=8)])
    mt = "i32" if itype == np.int32 else "i64"
    ir = sdpa_func(*shapes(q, k, v, dynamic=(2,)), pattern=pattern,
                   positions=(([2, heads, None], mt), ([2, heads, None], mt)))
    out, = run_sdpa(ir, q, k, v, qpos=qpos, kpos=kpos)
    assert_close(out, ref.sdpa(q, k, v, pattern=pattern, positions=(qpos, kpos)))


def test_nan_reaches_only_live_rows():
    rng = np.random.default_rng(12)
    q, k, v = make_qkv(rng, B=1, H=1, Hkv=1, Nq=8, Nk=8, D=4, Dv=4)
    k[0, 0, 6, 1] = np.nan     # key 6: live only for rows >= 6 under causal
    v[0, 0, 7, 0] = np.inf     # value 7: live only for row 7
    q[0, 0, 2, 0] = np.nan     # query 2: its own row only
    out, = run_sdpa(sdpa_func(*shapes(q, k, v), pattern=Causal()), q, k, v)
    exp = ref.sdpa(q, k, v, pattern=Causal())
    np.testing.assert_array_equal(np.isnan(out), np.isnan(exp))
    rows = [0, 1, 3, 4, 5]
    assert np.isnan(out[0, 0, 2]).all() and np.isnan(out[0, 0, 6:]).all()
    assert_close(out[0, 0, rows], exp[0, 0, rows])


def test_large_scores_do_not_overflow():
    rng = np.random.default_rng(13)
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=2, Nq=16, Nk=16, D=4, Dv=4)
    q *= 100.0
    k *= 100.0      # scores up to about 1e4
    out, lse = run_sdpa(sdpa_func(*shapes(q, k, v), lse=True), q, k, v)
    exp, exp_lse = ref.sdpa(q, k, v, return_lse=True)
    assert np.isfinite(out).all() and np.isfinite(lse).all()
    assert_close(out, exp)
    np.testing.assert_allclose(lse, exp_lse, rtol=1e-5)
