"""Tests of attn_mlir.reference against independent computations.

Every test compares the reference with something computed another way: explicit Python loops
written straight from docs/Semantics.md, closed forms of degenerate cases, or published constants.
"""

import itertools
import math

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.reference import (Axial, BlockLocal, BlockSparse, Causal, Dense, Dilated, Fixed,
                                 Global, Intersect, Neighborhood, Random, Sink, Strided, Union,
                                 Window)

MASK = (1 << 64) - 1


def rng(seed):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ independent helpers

def softmax_attention(q, k, v, scale, extra_mask=None):
    """Dense softmax attention with KV heads repeated (H == Hkv assumed), plain numpy."""
    s = scale * np.einsum("bhid,bhjd->bhij", q, k)
    if extra_mask is not None:
        s = np.where(extra_mask, s, -np.inf)
    m = s.max(-1, keepdims=True)
    p = np.exp(s - m)
    lse = np.log(p.sum(-1)) + m[..., 0]
    return np.einsum("bhij,bhjd->bhid", p / p.sum(-1, keepdims=True), v), lse


def row_result(terms, dv):
    """(weight, score, value) triples of one row -> (o, lse), by plain Python arithmetic."""
    terms = [t for t in terms if t[0] > 0]
    if not terms or all(sc == -math.inf for _, sc, _ in terms):
        return np.zeros(dv), -math.inf
    top = max(sc for _, sc, _ in terms)
    total = sum(w * math.exp(sc - top) for w, sc, _ in terms)
    o = sum(w * math.exp(sc - top) * np.asarray(val) for w, sc, val in terms) / total
    return o, top + math.log(total)


def combine_rows(parts, dv):
    """Log-sum-exp combination of (o, lse) parts of one row, by plain Python."""
    parts = [(o, l) for o, l in parts if l != -math.inf]
    if not parts:
        return np.zeros(dv), -math.inf
    top = max(l for _, l in parts)
    total = sum(math.exp(l - top) for _, l in parts)
    return sum(math.exp(l - top) * o for o, l in parts) / total, top + math.log(total)


def dot(a, b):
    return sum(float(x) * float(y) for x, y in zip(a, b))


# ------------------------------------------------------------------ splitmix64

def test_splitmix64_published_values():
    # The first outputs of the splitmix64 generator seeded with 0 (Vigna's reference code).
    assert ref.splitmix64(0) == 0xE220A8397B1DCDAF
    assert ref.splitmix64(0x9E3779B97F4A7C15) == 0x6E789E6AA1B965F4
    assert ref.splitmix64(-1) == ref.splitmix64(MASK)


def test_splitmix64_array_matches_python_ints():
    xs = [0, 1, 2**32, 2**63, MASK, 0x123456789ABCDEF0] + \
        [int(x) for x in rng(1).integers(0, 2**63, size=50)]
    got = ref.splitmix64_array(np.array(xs, dtype=np.uint64))
    assert [int(g) for g in got] == [ref.splitmix64(x) for x in xs]


# ------------------------------------------------------------------ patterns vs the table

def brute_random(block, per_row, seed, i, j, nk):
    qb, kb = i // block, j // block
    nblocks = -(-nk // block)
    if not 0 <= kb < nblocks:
        return False
    hashes = sorted((ref.splitmix64((seed ^ (qb << 32) ^ c) & MASK), c) for c in range(nblocks))
    return kb in {c for _, c in hashes[:min(per_row, nblocks)]}


def brute_axial(rows, cols, i, j):
    size = rows * cols
    if not (0 <= i < size and 0 <= j < size):
        return False
    return i // cols == j // cols or i % cols == j % cols


def brute_natten_2d(rows, cols, kernel_rows, kernel_cols, i, j):
    """FlexAttention's NATTEN mask (odd kernels): the kernel centre is the query pixel clamped
    to stay half a kernel inside the canvas; a key within half a kernel of it is live."""
    if not (0 <= i < rows * cols and 0 <= j < rows * cols):
        return False
    (qr, qc), (kr, kc) = divmod(i, cols), divmod(j, cols)
    centre_r = min(max(qr, kernel_rows // 2), rows - 1 - kernel_rows // 2)
    centre_c = min(max(qc, kernel_cols // 2), cols - 1 - kernel_cols // 2)
    return abs(centre_r - kr) <= kernel_rows // 2 and abs(centre_c - kc) <= kernel_cols // 2


LAYOUT = np.array([[True, False, True], [False, True, False]])

PATTERN_CASES = [
    (Dense(), lambda i, j, nq, nk: True),
    (Causal(), lambda i, j, nq, nk: j <= i),
    (Causal(offset=3), lambda i, j, nq, nk: j <= i + 3),
    (Causal(offset=-2, bottom_right=True), lambda i, j, nq, nk: j <= i - 2 + nk - nq),
    (Window(2, 1), lambda i, j, nq, nk: i - 2 <= j <= i + 1),
    (Window(-1, 3), lambda i, j, nq, nk: i + 1 <= j <= i + 3),
    (Dilated(2, 1, 3), lambda i, j, nq, nk: i - 6 <= j <= i + 3 and (i - j) % 3 == 0),
    (BlockLocal(4), lambda i, j, nq, nk: math.floor(i / 4) == math.floor(j / 4)),
    (Strided(3), lambda i, j, nq, nk: (i - j) % 3 == 0),
    (Fixed(4, 1), lambda i, j, nq, nk: j % 4 >= 3),
    (Fixed(3, 0), lambda i, j, nq, nk: False),
    (Global(tokens=(3, 7), first=2),
     lambda i, j, nq, nk: any(p in (3, 7) or 0 <= p < 2 for p in (i, j))),
    (Global(tokens=(-1,)), lambda i, j, nq, nk: i == -1 or j == -1),
    (Random(4, 2, 42), lambda i, j, nq, nk: brute_random(4, 2, 42, i, j, nk)),
    (Random(3, 1, -5), lambda i, j, nq, nk: brute_random(3, 1, -5, i, j, nk)),
    (Random(2, 100, 7), lambda i, j, nq, nk: brute_random(2, 100, 7, i, j, nk)),
    (Axial(3, 4), lambda i, j, nq, nk: brute_axial(3, 4, i, j)),
    (Sink(first=2), lambda i, j, nq, nk: 0 <= j < 2),
    (Sink(tokens=(3, -1), first=1), lambda i, j, nq, nk: j in (0, 3, -1)),
    (Neighborhood([3, 4], [3, 3]), lambda i, j, nq, nk: brute_natten_2d(3, 4, 3, 3, i, j)),
    (Neighborhood([4, 3], [1, 3]), lambda i, j, nq, nk: brute_natten_2d(4, 3, 1, 3, i, j)),
    (Neighborhood([13], [5]),
     lambda i, j, nq, nk: 0 <= i < 13 and 0 <= j < 13 and abs(min(max(i, 2), 10) - j) <= 2),
    (Neighborhood([2, 2, 3], [1, 2, 3]),
     lambda i, j, nq, nk: 0 <= i < 12 and 0 <= j < 12 and i // 6 == j // 6),
    (Neighborhood([6], [4]),  # an even window: [x - 2, x + 1], shifted inside
     lambda i, j, nq, nk: 0 <= i < 6 and 0 <= j < 6 and min(max(i - 2, 0), 2) <= j
     <= min(max(i - 2, 0), 2) + 3),
    (BlockSparse((2, 3), LAYOUT),
     lambda i, j, nq, nk: 0 <= i // 2 < 2 and 0 <= j // 3 < 3 and bool(LAYOUT[i // 2, j // 3])),
    (Union([Window(1, 1), Global(first=1)]),
     lambda i, j, nq, nk: abs(i - j) <= 1 or i == 0 or j == 0),
    (Intersect([Causal(), Union([BlockLocal(4), Fixed(4, 1)])]),
     lambda i, j, nq, nk: j <= i and (i // 4 == j // 4 or j % 4 == 3)),
]


@pytest.mark.parametrize("pattern,predicate", PATTERN_CASES, ids=lambda x: repr(x)[:40])
def test_pattern_matches_table(pattern, predicate):
    nq, nk = 9, 13
    positions = range(-7, 15)
    expected = np.array([[predicate(i, j, nq, nk) for j in positions] for i in positions])
    p = np.arange(-7, 15, dtype=np.int64)
    got = pattern.is_live(p[:, None], p[None, :], nq, nk)
    assert got.dtype == bool and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_pattern_is_vectorised_elementwise():
    # Same positions given as 1-D pairs (no outer product) agree with the 2-D evaluation.
    i = np.array([0, 5, -3, 11, 2], dtype=np.int64)
    j = np.array([4, 1, -3, 12, 9], dtype=np.int64)
    for pattern, _ in PATTERN_CASES:
        grid = pattern.is_live(i[:, None], j[None, :], 6, 14)
        np.testing.assert_array_equal(pattern.is_live(i, j, 6, 14), np.diag(grid))


def test_random_picks_min_r_blocks_per_row_and_is_deterministic():
    nq, nk = 40, 29
    i, j = np.arange(nq)[:, None], np.arange(nk)[None, :]
    for block, per_row in [(4, 2), (5, 3), (4, 9), (3, 0)]:
        pat = Random(block, per_row, seed=1234)
        live = pat.is_live(i, j, nq, nk)
        nblocks = -(-nk // block)
        for row in live:
            blocks = {c // block for c in np.flatnonzero(row)}
            assert len(blocks) == min(per_row, nblocks)
            for c in blocks:  # a chosen block is live over all its (existing) columns
                assert row[c * block:min(nk, (c + 1) * block)].all()
        # rows of one query block agree; the pattern is a pure function of its parameters
        assert (live[:block] == live[0]).all()
        np.testing.assert_array_equal(live, Random(block, per_row, 1234).is_live(i, j, nq, nk))
    a = Random(4, 2, 1).is_live(i, j, nq, nk)
    b = Random(4, 2, 2).is_live(i, j, nq, nk)
    assert (a != b).any()


def test_to_mlir():
    cases = {
        Dense(): "#attn.dense",
        Causal(): "#attn.causal",
        Causal(offset=3): "#attn.causal<offset = 3>",
        Causal(bottom_right=True): "#attn.causal<bottom_right>",
        Causal(offset=-2, bottom_right=True): "#attn.causal<offset = -2, bottom_right>",
        Window(2, 0): "#attn.window<left = 2, right = 0>",
        Dilated(2, 1, 3): "#attn.dilated<left = 2, right = 1, dilation = 3>",
        BlockLocal(4): "#attn.block_local<size = 4>",
        Strided(3): "#attn.strided<stride = 3>",
        Fixed(4, 1): "#attn.fixed<block = 4, summary = 1>",
        Global(tokens=[3, 7], first=2): "#attn.global<tokens = [3, 7], first = 2>",
        Global(tokens=[3]): "#attn.global<tokens = [3]>",
        Global(first=64): "#attn.global<first = 64>",
        Global(): "#attn.global<first = 0>",
        Random(4, 2, 42): "#attn.random<block = 4, per_row = 2, seed = 42>",
        Random(4, 2, -3): "#attn.random<block = 4, per_row = 2, seed = -3>",
        Axial(3, 4): "#attn.axial<rows = 3, cols = 4>",
        Sink(first=4): "#attn.sink<first = 4>",
        Sink(tokens=[0, 9]): "#attn.sink<tokens = [0, 9]>",
        Sink(tokens=[9], first=2): "#attn.sink<tokens = [9], first = 2>",
        Neighborhood([32, 32], [7, 7]): "#attn.neighborhood<extent = [32, 32], window = [7, 7]>",
        BlockSparse((2, 3), np.array([[True, False], [False, True]])):
            "#attn.block_sparse<block = [2, 3], layout = dense<[[true, false], [false, true]]>"
            " : tensor<2x2xi1>>",
        Union([Window(256, 256), Global(first=64)]):
            "#attn.union<[#attn.window<left = 256, right = 256>, #attn.global<first = 64>]>",
        Intersect([Causal(), Strided(2)]): "#attn.intersect<[#attn.causal, #attn.strided<stride = 2>]>",
    }
    for pattern, text in cases.items():
        assert pattern.to_mlir() == text


def test_pattern_parameter_checks():
    for bad in (lambda: Window(-3, 1), lambda: BlockLocal(0), lambda: Fixed(4, 5),
                lambda: Random(4, -1, 0), lambda: Union([]), lambda: Dilated(1, 1, 0),
                lambda: Sink(first=-1), lambda: Neighborhood([4], [5]),
                lambda: Neighborhood([4, 4], [3]), lambda: Neighborhood([], []),
                lambda: Neighborhood([2, 2, 2, 2], [1, 1, 1, 1])):
        with pytest.raises(ValueError):
            bad()


# ------------------------------------------------------------------ sdpa vs a per-row loop

def brute_sdpa(q, k, v, live_fn, scale, mask_fn=None, bias_fn=None, memory=None, qpos=None,
               kpos=None, span=None, ramp=None, max_span=None, score_mod=None):
    B, H, Nq, _ = q.shape
    Hkv, Nk, Dv = k.shape[1], k.shape[2], v.shape[3]
    o, lse = np.zeros((B, H, Nq, Dv)), np.zeros((B, H, Nq))
    for b, h, i in itertools.product(range(B), range(H), range(Nq)):
        g = h * Hkv // H
        pi = i if qpos is None else int(qpos(b, h, g, i))
        terms = []
        for j in range(Nk):
            pj = j if kpos is None else int(kpos(b, h, g, j))
            if not live_fn(pi, pj) or (mask_fn is not None and not mask_fn(b, h, i, j)):
                continue
            w = 1.0
            if span is not None:
                z = min(max(float(span[h]), 0.0), max_span)
                w = min(max((ramp + z - abs(pi - pj)) / ramp, 0.0), 1.0)
            sc = scale * dot(q[b, h, i], k[b, g, j])
            if bias_fn is not None:
                sc += bias_fn(b, h, i, j)
            if score_mod is not None:
                sc = float(score_mod(sc, b, h, pi, pj))
            terms.append((w, sc, v[b, g, j]))
        if memory is not None:
            for m in range(memory[0].shape[1]):
                terms.append((1.0, scale * dot(q[b, h, i], memory[0][g, m]), memory[1][g, m]))
        o[b, h, i], lse[b, h, i] = row_result(terms, Dv)
    return o, lse


def make_qkv(seed, B=2, H=4, Hkv=2, Nq=5, Nk=7, D=3, Dv=2):
    r = rng(seed)
    return (r.standard_normal((B, H, Nq, D)), r.standard_normal((B, Hkv, Nk, D)),
            r.standard_normal((B, Hkv, Nk, Dv)))


@pytest.mark.parametrize("pattern,predicate", [PATTERN_CASES[n] for n in (0, 3, 6, 9, 12, 14, 17, 19)], ids=lambda x: repr(x)[:30])
def test_sdpa_matches_row_loop_with_every_option(pattern, predicate):
    q, k, v = make_qkv(10)
    r = rng(11)
    mask = r.random((5, 7)) > 0.2                       # broadcast over B, H
    bias = r.standard_normal((4, 1, 7))                  # broadcast over B and rows
    mem = (r.standard_normal((2, 2, 3)), r.standard_normal((2, 2, 2)))
    qpos = r.integers(-3, 9, size=(2, 2, 5))             # per KV head
    kpos = r.integers(-3, 9, size=(2, 1, 7))             # shared by heads
    span = np.array([1.5, 30.0, -1.0, 4.2])
    mod = lambda s, b, h, i, j: s - 0.25 * (h + 1) * np.abs(i - j) + 0.1 * b
    o, lse = ref.sdpa(q, k, v, pattern, mask=mask, bias=bias, memory=mem, positions=(qpos, kpos),
                      span=span, ramp=2.0, max_span=6.0, scale=0.7, score_mod=mod,
                      return_lse=True)
    eo, e_lse = brute_sdpa(
        q, k, v, lambda i, j: predicate(i, j, 5, 7), 0.7,
        mask_fn=lambda b, h, i, j: mask[i, j], bias_fn=lambda b, h, i, j: bias[h, 0, j],
        memory=mem, qpos=lambda b, h, g, i: qpos[b, g, i], kpos=lambda b, h, g, j: kpos[b, 0, j],
        span=span, ramp=2.0, max_span=6.0, score_mod=mod)
    np.testing.assert_allclose(o, eo, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lse, e_lse, rtol=1e-12, atol=1e-12)


def test_sdpa_dense_matches_softmax_and_default_scale():
    q, k, v = make_qkv(20, H=3, Hkv=3, Nq=6, Nk=9, D=8, Dv=5)
    o, lse = ref.sdpa(q, k, v, return_lse=True)
    eo, e_lse = softmax_attention(q, k, v, 1 / math.sqrt(8))
    np.testing.assert_allclose(o, eo, rtol=1e-12)
    np.testing.assert_allclose(lse, e_lse, rtol=1e-12)
    assert ref.default_scale(16) == 0.25


def test_window_covering_everything_is_dense():
    q, k, v = make_qkv(21, H=2, Hkv=2, Nq=6, Nk=6)
    dense = ref.sdpa(q, k, v, Dense())
    wide = ref.sdpa(q, k, v, Window(5, 5))
    np.testing.assert_allclose(wide, softmax_attention(q, k, v, 1 / math.sqrt(3))[0], rtol=1e-12)
    np.testing.assert_allclose(wide, dense, rtol=1e-12)
    assert not np.allclose(ref.sdpa(q, k, v, Window(4, 4)), dense)


def test_gqa_equals_repeated_kv_heads():
    q, k, v = make_qkv(22, H=6, Hkv=2, Nq=5, Nk=8)
    got = ref.sdpa(q, k, v, Causal(offset=1), scale=0.9)
    expected = ref.sdpa(q, np.repeat(k, 3, axis=1), np.repeat(v, 3, axis=1), Causal(offset=1),
                        scale=0.9)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    wrong = ref.sdpa(q, np.tile(k, (1, 3, 1, 1)), np.tile(v, (1, 3, 1, 1)), Causal(offset=1),
                     scale=0.9)
    assert not np.allclose(got, wrong)


def test_default_positions_equal_explicit_arange():
    q, k, v = make_qkv(23, Nq=6, Nk=9)
    pattern = Union([Window(1, 2), Global(first=1)])
    qpos = np.broadcast_to(np.arange(6), (2, 4, 6)).astype(np.int32)
    kpos = np.broadcast_to(np.arange(9), (2, 1, 9)).astype(np.int64)
    np.testing.assert_allclose(ref.sdpa(q, k, v, pattern, positions=(qpos, kpos)),
                               ref.sdpa(q, k, v, pattern), rtol=1e-12)
    # Per-KV-head positions equal the same positions repeated per query head.
    kv_qpos = rng(2).integers(0, 9, size=(2, 2, 6))
    np.testing.assert_allclose(
        ref.sdpa(q, k, v, pattern, positions=(kv_qpos, kpos)),
        ref.sdpa(q, k, v, pattern, positions=(np.repeat(kv_qpos, 2, axis=1), kpos)), rtol=1e-12)


def test_bottom_right_causal():
    q, k, v = make_qkv(24, H=2, Hkv=2, Nq=4, Nk=9)
    expected = softmax_attention(q, k, v, 0.5, np.tril(np.ones((4, 9), bool), k=5))[0]
    np.testing.assert_allclose(ref.sdpa(q, k, v, Causal(bottom_right=True), scale=0.5), expected,
                               rtol=1e-12)
    shifted = np.broadcast_to(np.arange(5, 9), (2, 1, 4))
    kpos = np.broadcast_to(np.arange(9), (2, 1, 9))
    np.testing.assert_allclose(ref.sdpa(q, k, v, Causal(), scale=0.5, positions=(shifted, kpos)),
                               expected, rtol=1e-12)


def test_memory_equals_appended_always_live_keys():
    q, k, v = make_qkv(25, H=4, Hkv=2, Nq=5, Nk=6)
    r = rng(3)
    mk, mv = r.standard_normal((2, 3, 3)), r.standard_normal((2, 3, 2))
    kk = np.concatenate([k, np.broadcast_to(mk, (2, 2, 3, 3))], axis=2)
    vv = np.concatenate([v, np.broadcast_to(mv, (2, 2, 3, 2))], axis=2)
    o, lse = ref.sdpa(q, k, v, memory=(mk, mv), return_lse=True)
    eo, e_lse = ref.sdpa(q, kk, vv, return_lse=True)
    np.testing.assert_allclose(o, eo, rtol=1e-12)
    np.testing.assert_allclose(lse, e_lse, rtol=1e-12)
    # Under a causal pattern and a full mask the memory columns stay live.
    mask = np.concatenate([np.zeros((5, 6), bool), np.ones((5, 3), bool)], axis=1)
    got = ref.sdpa(q, k, v, Causal(), mask=np.zeros((5, 6), bool), memory=(mk, mv))
    np.testing.assert_allclose(got, ref.sdpa(q, kk, vv, mask=mask), rtol=1e-12)


def test_span_huge_equals_dense_and_zero_span_keeps_ramp():
    q, k, v = make_qkv(26, H=2, Hkv=2, Nq=5, Nk=5)
    dense = softmax_attention(q, k, v, 1 / math.sqrt(3))[0]
    got = ref.sdpa(q, k, v, span=np.array([100.0, 1e9]), ramp=1.0, max_span=1000.0)
    np.testing.assert_allclose(got, dense, rtol=1e-12)
    # z = 0 (clamped from negative), ramp 1: only |i - j| < 1 survives -> o_i = v_i.
    diag = ref.sdpa(q, k, v, span=np.array([-4.0, 0.0]), ramp=1.0, max_span=3.0)
    np.testing.assert_allclose(diag, v, rtol=1e-12)


def test_nan_beyond_span_does_not_reach_row():
    q, k, v = make_qkv(32, B=1, H=2, Hkv=2, Nq=8, Nk=8)
    k[:, :, 7, 0] = np.nan
    o = ref.sdpa(q, k, v, span=np.array([1.0, 2.0]), ramp=1.5, max_span=5.0)
    # Head 0 reaches |i - j| < 2.5, head 1 |i - j| < 3.5.
    assert np.isfinite(o[0, 0, :5]).all() and np.isnan(o[0, 0, 5:]).all()
    assert np.isfinite(o[0, 1, :4]).all() and np.isnan(o[0, 1, 4:]).all()


def test_fully_masked_row_gives_zero_and_neg_inf_lse():
    q, k, v = make_qkv(27, H=2, Hkv=2, Nq=4, Nk=4)
    mask = np.ones((4, 4), bool)
    mask[2] = False
    o, lse = ref.sdpa(q, k, v, mask=mask, return_lse=True)
    assert (o[:, :, 2] == 0).all() and (lse[:, :, 2] == -np.inf).all()
    assert np.isfinite(o).all() and np.isfinite(lse[:, :, [0, 1, 3]]).all()
    # A pattern with no live key in a row (causal offset below the first key).
    o, lse = ref.sdpa(q, k, v, Causal(offset=-2), return_lse=True)
    assert (o[:, :, :2] == 0).all() and (lse[:, :, :2] == -np.inf).all()


def test_all_neg_inf_score_mod_row_gives_zero():
    q, k, v = make_qkv(28, H=2, Hkv=2, Nq=4, Nk=4)
    mod = lambda s, b, h, i, j: np.where(i == 1, -np.inf, s)
    o, lse = ref.sdpa(q, k, v, score_mod=mod, return_lse=True)
    assert not np.isnan(o).any()
    assert (o[:, :, 1] == 0).all() and (lse[:, :, 1] == -np.inf).all()
    expected = softmax_attention(q, k, v, 1 / math.sqrt(3))
    np.testing.assert_allclose(o[:, :, [0, 2, 3]], expected[0][:, :, [0, 2, 3]], rtol=1e-12)


def test_score_mod_value_at_dead_pairs_is_ignored():
    q, k, v = make_qkv(29, H=2, Hkv=2, Nq=4, Nk=4)
    mod = lambda s, b, h, i, j: np.where(j > i, np.nan, s)
    np.testing.assert_allclose(ref.sdpa(q, k, v, Causal(), score_mod=mod),
                               ref.sdpa(q, k, v, Causal()), rtol=1e-12)


@pytest.mark.parametrize("where", ["k", "v", "bias"])
def test_nan_in_dead_key_does_not_reach_row(where):
    q, k, v = make_qkv(30, B=1, H=2, Hkv=1, Nq=6, Nk=6)
    bias = np.zeros((6, 6))
    if where == "k":
        k[:, :, 3, 0] = np.nan
    elif where == "v":
        v[:, :, 3, 1] = np.nan
    else:
        bias[:, 3] = np.nan
    o = ref.sdpa(q, k, v, Causal(), bias=bias)
    assert np.isfinite(o[:, :, :3]).all()          # rows 0..2 never see key 3
    assert np.isnan(o[:, :, 3:]).any(axis=-1).all()  # rows 3..5 do
    # A NaN in q_i reaches row i only.
    q2 = q.copy()
    q2[0, 0, 1, 0] = np.nan
    o2 = ref.sdpa(q2, *make_qkv(30, B=1, H=2, Hkv=1, Nq=6, Nk=6)[1:], Causal())
    assert np.isnan(o2[0, 0, 1]).all() and np.isfinite(np.delete(o2[0, 0], 1, axis=0)).all()


def test_mask_broadcast_is_right_aligned():
    q, k, v = make_qkv(31, B=2, H=2, Hkv=2, Nq=3, Nk=4)
    row_mask = np.array([True, False, True, True])          # [Nk] -> every row
    full = np.broadcast_to(row_mask, (2, 2, 3, 4))
    np.testing.assert_allclose(ref.sdpa(q, k, v, mask=row_mask),
                               softmax_attention(q, k, v, 1 / math.sqrt(3), full)[0], rtol=1e-12)
    with pytest.raises(ValueError):
        ref.sdpa(q, k, v, mask=np.ones((3, 1, 1, 4), bool))


# ------------------------------------------------------------------ lsh

def brute_lsh(qk, v, rot, c, look_back, look_ahead, causal, scale):
    B, H, N, _ = qk.shape
    Dv = v.shape[3]
    nc = N // c
    o, lse = np.zeros((B, H, N, Dv)), np.zeros((B, H, N))
    for b, h in itertools.product(range(B), range(H)):
        x = qk[b, h]
        keys = [row / math.sqrt(dot(row, row)) if dot(row, row) > 0 else row * 0 for row in x]
        rounds = {i: [] for i in range(N)}
        for r in range(rot.shape[1]):
            bucket = []
            for i in range(N):
                proj = [dot(x[i], rot[h, r][:, a]) for a in range(rot.shape[3])]
                both = proj + [-p for p in proj]
                bucket.append(both.index(max(both)))
            pi = sorted(range(N), key=lambda p: (bucket[p], p))
            for t in range(N):
                i = pi[t]
                chunks = {(t // c + d) % nc for d in range(-look_back, look_ahead + 1)}
                terms = []
                for u in range(N):
                    if u // c in chunks and (not causal or pi[u] <= i):
                        j = pi[u]
                        sc = -1e5 if j == i else scale * dot(x[i], keys[j])
                        terms.append((1.0, sc, v[b, h, j]))
                rounds[i].append(row_result(terms, Dv))
        for i in range(N):
            o[b, h, i], lse[b, h, i] = combine_rows(rounds[i], Dv)
    return o, lse


@pytest.mark.parametrize("c,lb,la,causal", [(2, 1, 0, False), (2, 1, 0, True), (3, 0, 1, False),
                                             (2, 2, 3, True), (4, 5, 5, False), (1, 0, 0, True)])
def test_lsh_matches_slot_loop(c, lb, la, causal):
    r = rng(40)
    qk = r.standard_normal((1, 2, 12, 4))
    qk[0, 1, 5] = 0.0  # a zero row: bucket 0, normalised key stays zero
    v = r.standard_normal((1, 2, 12, 3))
    rot = r.standard_normal((2, 2, 4, 2))
    o, lse = ref.lsh(qk, v, rot, 4, c, look_back=lb, look_ahead=la, causal=causal, scale=0.8,
                     return_lse=True)
    eo, e_lse = brute_lsh(qk, v, rot, c, lb, la, causal, 0.8)
    np.testing.assert_allclose(o, eo, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lse, e_lse, rtol=1e-10, atol=1e-12)


# Huge look_back / look_ahead (up to 2**63 - 1) against the brute force with a moderate
# window equal in effect: 12 positions in chunks of 2 are 6 chunks, so look_back +
# look_ahead + 1 >= 6 sees every chunk.
@pytest.mark.parametrize("lb,la,small_lb,small_la", [(2**63 - 1, 0, 5, 0), (0, 2**63 - 1, 0, 5),
                                                     (2**63 - 1, 2**63 - 1, 3, 2),
                                                     (np.int64(2**63 - 1), 1, 4, 1)])
@pytest.mark.parametrize("causal", [False, True])
def test_lsh_huge_look_back_covers_every_chunk(lb, la, small_lb, small_la, causal):
    r = rng(43)
    qk = r.standard_normal((1, 2, 12, 4))
    v = r.standard_normal((1, 2, 12, 3))
    rot = r.standard_normal((2, 2, 4, 2))
    o, lse = ref.lsh(qk, v, rot, 4, 2, look_back=lb, look_ahead=la, causal=causal, scale=0.8,
                     return_lse=True)
    eo, e_lse = brute_lsh(qk, v, rot, 2, small_lb, small_la, causal, 0.8)
    np.testing.assert_allclose(o, eo, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lse, e_lse, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("return_lse", [False, True])
def test_lsh_empty_sequence(return_lse):
    qk, v = np.zeros((2, 3, 0, 4)), np.zeros((2, 3, 0, 5))
    rot = rng(44).standard_normal((3, 2, 4, 2))
    result = ref.lsh(qk, v, rot, 4, 2, look_back=2**63 - 1, return_lse=return_lse)
    o, lse = result if return_lse else (result, None)
    assert o.shape == (2, 3, 0, 5)
    if return_lse:
        assert lse.shape == (2, 3, 0)


def test_lsh_single_chunk_is_dense_over_normalised_keys():
    r = rng(41)
    N, D, rounds = 8, 5, 3
    qk, v = r.standard_normal((2, 2, N, D)), r.standard_normal((2, 2, N, 4))
    rot = r.standard_normal((2, rounds, D, 3))
    o, lse = ref.lsh(qk, v, rot, 6, N, look_back=0, return_lse=True)
    keys = qk / np.linalg.norm(qk, axis=-1, keepdims=True)
    s = np.einsum("bhid,bhjd->bhij", qk, keys) / math.sqrt(D)
    s[..., np.arange(N), np.arange(N)] = -1e5
    p = np.exp(s - s.max(-1, keepdims=True))
    np.testing.assert_allclose(o, np.einsum("bhij,bhjd->bhid", p / p.sum(-1, keepdims=True), v),
                               rtol=1e-12)
    # Every round sees the same keys: LSE = lse_round + log(rounds).
    single = np.log(np.exp(s).sum(-1))
    np.testing.assert_allclose(lse, single + math.log(rounds), rtol=1e-12)


def test_lsh_self_key_alone_gives_own_value():
    # causal, chunk 1, no look-back: each query sees only itself (score -1e5): o_i = v_i.
    r = rng(42)
    qk, v = r.standard_normal((1, 1, 6, 4)), r.standard_normal((1, 1, 6, 2))
    rot = r.standard_normal((1, 1, 4, 1))
    o, lse = ref.lsh(qk, v, rot, 2, 1, look_back=0, causal=True, return_lse=True)
    np.testing.assert_allclose(o, v, rtol=1e-12)
    np.testing.assert_allclose(lse, -1e5)


# ------------------------------------------------------------------ cluster

def brute_cluster(q, k, v, centroids, w, causal, scale):
    B, H, Nq, _ = q.shape
    Hkv, Nk, Dv = k.shape[1], k.shape[2], v.shape[3]
    o, lse = np.zeros((B, H, Nq, Dv)), np.zeros((B, H, Nq))
    unit = lambda x: x / math.sqrt(dot(x, x)) if dot(x, x) > 0 else x * 0
    for b, h in itertools.product(range(B), range(H)):
        g = h * Hkv // H
        parts = {i: [] for i in range(Nq)}
        for mu in centroids[h]:
            qs = sorted(range(Nq), key=lambda i: (-dot(unit(q[b, h, i]), mu), i))[:w]
            ks = sorted(range(Nk), key=lambda j: (-dot(unit(k[b, g, j]), mu), j))[:w]
            for i in qs:
                terms = [(1.0, scale * dot(q[b, h, i], k[b, g, j]), v[b, g, j])
                         for j in ks if not causal or j <= i]
                parts[i].append(row_result(terms, Dv))
        for i in range(Nq):
            o[b, h, i], lse[b, h, i] = combine_rows(parts[i], Dv)
    return o, lse


@pytest.mark.parametrize("w,causal", [(3, False), (3, True), (1, True), (6, False)])
def test_cluster_matches_loop(w, causal):
    q, k, v = make_qkv(50, B=2, H=4, Hkv=2, Nq=7, Nk=7, D=3, Dv=2)
    q[0, 1, 2] = 0.0  # a zero query: normalised score 0 in every cluster
    # Exact ties of the normalised scores (power-of-two multiples normalise identically):
    # the smaller position must win.
    q[:, :, 5] = 2.0 * q[:, :, 1]
    q[:, :, 4] = 4.0 * q[:, :, 6]
    k[:, :, 6] = 0.5 * k[:, :, 0]
    k[:, :, 3] = 8.0 * k[:, :, 5]
    centroids = rng(51).standard_normal((4, 3, 3))
    o, lse = ref.cluster(q, k, v, centroids, w, causal=causal, scale=0.6, return_lse=True)
    eo, e_lse = brute_cluster(q, k, v, centroids, w, causal, 0.6)
    np.testing.assert_allclose(o, eo, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lse, e_lse, rtol=1e-10, atol=1e-12)


def test_cluster_full_window_is_dense():
    q, k, v = make_qkv(52, B=1, H=2, Hkv=2, Nq=6, Nk=6, D=4, Dv=3)
    dense, dense_lse = softmax_attention(q, k, v, 0.5)
    one = rng(53).standard_normal((2, 1, 4))
    o, lse = ref.cluster(q, k, v, one, 6, scale=0.5, return_lse=True)
    np.testing.assert_allclose(o, dense, rtol=1e-12)
    np.testing.assert_allclose(lse, dense_lse, rtol=1e-12)
    # Two clusters holding everybody: same o, lse + log 2 (no de-duplication).
    o2, lse2 = ref.cluster(q, k, v, rng(54).standard_normal((2, 2, 4)), 6, scale=0.5,
                           return_lse=True)
    np.testing.assert_allclose(o2, dense, rtol=1e-12)
    np.testing.assert_allclose(lse2, dense_lse + math.log(2), rtol=1e-12)


# ------------------------------------------------------------------ lowrank

def test_lowrank_identity_projection_is_dense():
    q, k, v = make_qkv(60, H=4, Hkv=2, Nq=5, Nk=6, D=3, Dv=2)
    e = np.eye(6)[None]
    expected = ref.sdpa(q, k, v, scale=0.4)
    np.testing.assert_allclose(ref.lowrank(q, k, v, e, scale=0.4), expected, rtol=1e-12)
    kk, vv = np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1)
    np.testing.assert_allclose(expected, softmax_attention(q, kk, vv, 0.4)[0], rtol=1e-12)


def test_lowrank_matches_explicit_formula():
    q, k, v = make_qkv(61, B=1, H=2, Hkv=2, Nq=5, Nk=6, D=3, Dv=2)
    r = rng(62)
    e, f = r.standard_normal((2, 3, 6)), r.standard_normal((2, 3, 6))
    got = ref.lowrank(q, k, v, e, f)
    for h in range(2):
        s = q[0, h] @ (e[h] @ k[0, h]).T / math.sqrt(3)
        p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
        np.testing.assert_allclose(got[0, h], p @ (f[h] @ v[0, h]), rtol=1e-12)
    assert not np.allclose(got, ref.lowrank(q, k, v, e))


# ------------------------------------------------------------------ kernelized

def features(x, kind, W=None):
    if kind == "relu":
        return np.maximum(x, 0)
    if kind == "elu_plus_one":
        return np.where(x > 0, x + 1, np.exp(np.minimum(x, 0)))
    xs = x * x.shape[-1] ** -0.25
    return np.exp(xs @ W.T - (xs ** 2).sum(-1, keepdims=True) / 2) / math.sqrt(W.shape[0])


@pytest.mark.parametrize("kind", ["favor_plus", "elu_plus_one", "relu"])
@pytest.mark.parametrize("causal", [False, True])
def test_kernelized_matches_prefix_sum_scan(kind, causal):
    q, k, v = make_qkv(70, B=2, H=4, Hkv=2, Nq=7, Nk=7, D=4, Dv=3)
    W = rng(71).standard_normal((1, 6, 4)) if kind == "favor_plus" else None
    got = ref.kernelized(q, k, v, kind, projection=W, causal=causal)
    expected = np.zeros_like(got)
    for b, h in itertools.product(range(2), range(4)):
        pq = features(q[b, h], kind, None if W is None else W[0])
        pk = features(k[b, h // 2], kind, None if W is None else W[0])
        kv = np.cumsum(pk[:, :, None] * v[b, h // 2][:, None, :], axis=0)  # running sum_j phi v^T
        ksum = np.cumsum(pk, axis=0)
        if not causal:
            kv, ksum = np.broadcast_to(kv[-1], kv.shape), np.broadcast_to(ksum[-1], ksum.shape)
        num = np.einsum("im,imd->id", pq, kv)
        den = np.einsum("im,im->i", pq, ksum)
        expected[b, h] = np.where(den[:, None] == 0, 0, num / np.where(den == 0, 1, den)[:, None])
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_kernelized_relu_zero_denominator_gives_zero():
    q = -np.abs(rng(72).standard_normal((1, 1, 3, 2)))  # phi(q) = 0 everywhere
    k, v = rng(73).standard_normal((1, 1, 3, 2)), rng(74).standard_normal((1, 1, 3, 2))
    o = ref.kernelized(q, k, v, "relu")
    assert (o == 0).all()


def test_kernelized_favor_per_head_projection_and_checks():
    q, k, v = make_qkv(75, B=1, H=2, Hkv=2, Nq=4, Nk=4, D=4, Dv=2)
    W = rng(76).standard_normal((2, 5, 4))
    got = ref.kernelized(q, k, v, "favor_plus", projection=W)
    for h in range(2):
        a = features(q[0, h], "favor", W[h]) @ features(k[0, h], "favor", W[h]).T
        np.testing.assert_allclose(got[0, h], a @ v[0, h] / a.sum(1, keepdims=True), rtol=1e-12)
    with pytest.raises(ValueError):
        ref.kernelized(q, k, v, "relu", projection=W)
    with pytest.raises(ValueError):
        ref.kernelized(q, k, v, "favor_plus")


# ------------------------------------------------------------------ pkm

def brute_pkm(q, sk1, sk2, values, top_k):
    B, H, N, Dk = q.shape
    n, half = sk1.shape[1], Dk // 2
    o = np.zeros((B, H, N, values.shape[1]))
    for b, h, i in itertools.product(range(B), range(H), range(N)):
        s1 = sk1[h] @ q[b, h, i, :half]
        s2 = sk2[h] @ q[b, h, i, half:]
        pairs = sorted((-(s1[x] + s2[y]), x * n + y) for x in range(n) for y in range(n))[:top_k]
        scores = np.array([-p[0] for p in pairs])
        w = np.exp(scores - scores.max())
        o[b, h, i] = (w / w.sum()) @ values[[p[1] for p in pairs]]
    return o


@pytest.mark.parametrize("integer_valued", [False, True])
def test_pkm_matches_all_pairs(integer_valued):
    r = rng(80)
    B, H, N, Dk, n, Dv = 2, 2, 4, 4, 40, 3  # n > 16: numpy's unstable sorts reorder ties
    draw = (lambda s: r.integers(-2, 3, size=s).astype(float)) if integer_valued \
        else r.standard_normal  # integer values make many ties
    q, sk1, sk2 = draw((B, H, N, Dk)), draw((H, n, Dk // 2)), draw((H, n, Dk // 2))
    values = r.standard_normal((n * n, Dv))
    for top_k in (1, 3, 7):
        np.testing.assert_allclose(ref.pkm(q, sk1, sk2, values, top_k),
                                   brute_pkm(q, sk1, sk2, values, top_k), rtol=1e-12)


# ------------------------------------------------------------------ lightconv

@pytest.mark.parametrize("K,causal,normalize", [(3, False, True), (5, False, False),
                                                (4, True, True), (1, True, False)])
def test_lightconv_matches_loop(K, causal, normalize):
    r = rng(90)
    B, N, C, Hc = 2, 7, 6, 3
    x, w = r.standard_normal((B, N, C)), r.standard_normal((Hc, K))
    got = ref.lightconv(x, w, causal=causal, normalize=normalize)
    ww = np.exp(w) / np.exp(w).sum(1, keepdims=True) if normalize else w
    P = K - 1 if causal else (K - 1) // 2
    expected = np.zeros((B, N, C))
    for b, n, c in itertools.product(range(B), range(N), range(C)):
        for t in range(K):
            if 0 <= n + t - P < N:
                expected[b, n, c] += ww[c // (C // Hc), t] * x[b, n + t - P, c]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_lightconv_rejects_even_non_causal_kernel():
    with pytest.raises(ValueError):
        ref.lightconv(np.zeros((1, 4, 2)), np.zeros((1, 2)))


# ------------------------------------------------------------------ numerics helpers

def test_rel_error_and_tolerance():
    a = np.array([3.0, 4.0])
    assert ref.rel_error(a, a) == 0.0
    assert ref.rel_error(np.array([3.0, 4.5]), a) == pytest.approx(0.1)
    assert ref.rel_error(np.array([0.0, 2.0]), np.zeros(2)) == 2.0
    assert ref.rel_error(np.array([-np.inf, 1.0]), np.array([-np.inf, 1.0])) == 0.0
    assert ref.rel_error(np.array([np.nan, 1.0]), np.array([0.0, 1.0])) == math.inf
    assert ref.TOLERANCE == {"f32_reference": 1e-5, "f32_fused": 1e-4, "f16": 2e-3, "bf16": 1e-2}


def test_inputs_are_computed_in_float64():
    q, k, v = make_qkv(95, H=2, Hkv=2)
    got = ref.sdpa(q.astype(np.float32), k.astype(np.float32), v.astype(np.float32))
    assert got.dtype == np.float64
    expected = ref.sdpa(*(x.astype(np.float32).astype(np.float64) for x in (q, k, v)))
    np.testing.assert_array_equal(got, expected)


def test_segments_equal_the_mask_of_equal_ids():
    """Document ids are the mask `qseg[b, i] == kseg[b, j]` (broadcast over heads); memory keys
    stay live."""
    rng = np.random.default_rng(11)
    q = rng.standard_normal((2, 4, 7, 5))
    k = rng.standard_normal((2, 2, 9, 5))
    v = rng.standard_normal((2, 2, 9, 3))
    memory = (rng.standard_normal((2, 2, 5)), rng.standard_normal((2, 2, 3)))
    qseg = rng.integers(0, 3, size=(2, 7))
    kseg = rng.integers(0, 3, size=(2, 9)).astype(np.int32)
    mask = (qseg[:, None, :, None] == kseg[:, None, None, :])
    for extra in ({}, {"memory": memory}):
        o, lse = ref.sdpa(q, k, v, pattern=Causal(offset=2), segments=(qseg, kseg),
                      return_lse=True, **extra)
        o2, lse2 = ref.sdpa(q, k, v, pattern=Causal(offset=2), mask=mask, return_lse=True, **extra)
        np.testing.assert_array_equal(o, o2)
        np.testing.assert_array_equal(lse, lse2)
    with pytest.raises(ValueError):
        ref.sdpa(q, k, v, segments=(qseg[:, :6], kseg))
    with pytest.raises(TypeError):
        ref.sdpa(q, k, v, segments=(qseg.astype(float), kseg))


def test_mask_mod_equals_the_mask_of_its_predicate():
    """mask_mod is the mask of its values at (b, h, qpos_i, kpos_j); memory keys stay live."""
    rng = np.random.default_rng(12)
    q = rng.standard_normal((2, 4, 7, 5))
    k = rng.standard_normal((2, 2, 9, 5))
    v = rng.standard_normal((2, 2, 9, 3))
    memory = (rng.standard_normal((2, 2, 5)), rng.standard_normal((2, 2, 3)))
    qpos = rng.integers(-3, 12, size=(2, 1, 7))
    kpos = rng.integers(-3, 12, size=(2, 1, 9))
    mask = np.zeros((2, 4, 7, 9), dtype=bool)
    for b, h, i, j in np.ndindex(2, 4, 7, 9):
        mask[b, h, i, j] = (qpos[b, 0, i] + b - h) % 3 != kpos[b, 0, j] % 3
    fn = lambda b, h, i, j: (i + b - h) % 3 != j % 3  # noqa: E731
    for extra in ({}, {"memory": memory}):
        o, lse = ref.sdpa(q, k, v, pattern=Window(left=6, right=6), positions=(qpos, kpos),
                          mask_mod=fn, return_lse=True, **extra)
        o2, lse2 = ref.sdpa(q, k, v, pattern=Window(left=6, right=6), positions=(qpos, kpos),
                            mask=mask, return_lse=True, **extra)
        np.testing.assert_array_equal(o, o2)
        np.testing.assert_array_equal(lse, lse2)


def test_block_layout_equals_the_mask_of_its_blocks():
    """A block layout is the mask of the listed blocks (entries past the count, out of range
    or repeated change nothing); mask_mod applies only outside full blocks."""
    rng = np.random.default_rng(13)
    B, H, Nq, Nk, BQ, BK = 2, 2, 10, 11, 4, 3
    q = rng.standard_normal((B, H, Nq, 5))
    k = rng.standard_normal((B, H, Nk, 5))
    v = rng.standard_normal((B, H, Nk, 3))
    NQB, NKB = 3, 4
    num = np.array([[[2, 0, 5]]], dtype=np.int32)              # one layout for all (b, h)
    idx = np.array([[[[1, 3, 0, 0, 0], [2, 2, 2, 2, 2], [0, 0, -1, 7, 2]]]], dtype=np.int32)
    fnum = np.array([[[1, 1, 0]]], dtype=np.int32)
    fidx = np.array([[[[3], [2], [1]]]], dtype=np.int32)
    listed = np.zeros((NQB, NKB), dtype=bool)
    full = np.zeros((NQB, NKB), dtype=bool)
    for qb, blocks in enumerate([{1, 3}, set(), {0, 2}]):
        listed[qb, list(blocks)] = True
    full[0, 3] = full[1, 2] = True
    listed |= full
    rows, cols = np.arange(Nq) // BQ, np.arange(Nk) // BK
    pair_listed = listed[rows][:, cols]
    pair_full = full[rows][:, cols]
    fn = lambda b, h, i, j: i >= j  # noqa: E731
    causal = np.arange(Nq)[:, None] >= np.arange(Nk)[None, :]
    o = ref.sdpa(q, k, v, blocks=(num, idx), full_blocks=(fnum, fidx), block_size=(BQ, BK),
                 mask_mod=fn)
    o2 = ref.sdpa(q, k, v, mask=pair_listed & (pair_full | causal))
    np.testing.assert_array_equal(o, o2)
    # Without full_blocks: the partial lists alone.
    partial = np.zeros((NQB, NKB), dtype=bool)
    partial[0, [1, 3]] = partial[2, [0, 2]] = True
    o = ref.sdpa(q, k, v, blocks=(num, idx), block_size=(BQ, BK))
    o2 = ref.sdpa(q, k, v, mask=partial[rows][:, cols])
    np.testing.assert_array_equal(o, o2)
    with pytest.raises(ValueError):
        ref.sdpa(q, k, v, blocks=(num, idx))                     # no block_size
    with pytest.raises(ValueError):
        ref.sdpa(q, k, v, blocks=(num[:, :, :2], idx[:, :, :2]), block_size=(BQ, BK))

