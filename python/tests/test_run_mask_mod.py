"""mask_mod regions and run-time block layouts on attn.sdpa (docs/Semantics.md §2) through
attn-run against the float64 reference: the fused pipeline (its default tiles and small
tiles, so that Empty, Full and Partial tiles all occur) and `--mode=reference`."""

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.builder import sdpa_func
from attn_mlir.patterns import Causal, Window
from attn_mlir.run import run
from helpers import assert_close
from test_run_expressiveness import MODES, RUNS, qkv, run_id
from test_run_fused import check_lse, tile_ir

# Each case: the region body over %b, %h, %i, %j, and the same predicate on numpy arrays.
MASK_MODS = {
    "causal": ("%t = arith.cmpi sge, %i, %j : index\n attn.yield %t : i1",
               lambda b, h, i, j: i >= j),
    "prefix_lm": ("%c5 = arith.constant 5 : index\n %p = arith.cmpi slt, %j, %c5 : index\n"
                  " %c = arith.cmpi sge, %i, %j : index\n %t = arith.ori %p, %c : i1\n"
                  " attn.yield %t : i1",
                  lambda b, h, i, j: (j < 5) | (i >= j)),
    # A different stripe per head and batch: the block map is per (b, h).
    "per_head_batch": ("%s = arith.addi %b, %h : index\n %d = arith.addi %j, %s : index\n"
                       " %c3 = arith.constant 3 : index\n %r = arith.remui %d, %c3 : index\n"
                       " %c0 = arith.constant 0 : index\n %t = arith.cmpi ne, %r, %c0 : index\n"
                       " attn.yield %t : i1",
                       lambda b, h, i, j: (j + b + h) % 3 != 0),
    # Dead everywhere for query rows 8..15: those rows get o = 0, lse = -inf.
    "dead_rows": ("%c8 = arith.constant 8 : index\n %c16 = arith.constant 16 : index\n"
                  " %lo = arith.cmpi ult, %i, %c8 : index\n %hi = arith.cmpi uge, %i, %c16 : index\n"
                  " %t = arith.ori %lo, %hi : i1\n attn.yield %t : i1",
                  lambda b, h, i, j: (i < 8) | (i >= 16)),
}


def run_sdpa(q, k, v, mode, tile=None, dynamic=False, extra=(), **clauses):
    def shape(x):
        s = list(x.shape)
        if dynamic:
            s[2] = None
        return (s, "f32")
    ir = sdpa_func(shape(q), shape(k), shape(v), lse=True, **clauses)
    if tile is not None:
        ir = tile_ir(ir, tile)
    o = np.zeros(q.shape[:3] + (v.shape[3],), dtype=np.float32)
    return run(ir, [q, k, v, o, *extra], mode=mode)


@pytest.mark.parametrize("mode,tile", RUNS, ids=[run_id(r) for r in RUNS])
@pytest.mark.parametrize("name", list(MASK_MODS))
def test_mask_mod(name, mode, tile):
    body, fn = MASK_MODS[name]
    rng = np.random.default_rng(3)
    q, k, v = qkv(rng, B=2, H=2, Nq=29, Nk=31)
    out, lse = run_sdpa(q, k, v, mode, tile, dynamic=name == "causal", mask_mod=body)
    exp, exp_lse = ref.sdpa(q, k, v, mask_mod=fn, return_lse=True)
    assert_close(out, exp, MODES[mode])
    check_lse(lse, exp_lse)


@pytest.mark.parametrize("mode,tile", RUNS, ids=[run_id(r) for r in RUNS])
def test_mask_mod_with_pattern_positions_and_memory(mode, tile):
    """mask_mod meets the pattern; it sees positions (no block map then); memory keys stay
    live."""
    body, fn = MASK_MODS["per_head_batch"]
    rng = np.random.default_rng(4)
    q, k, v = qkv(rng, B=1, H=2, Nq=20, Nk=20)
    qpos = np.broadcast_to(np.arange(20, dtype=np.int32)[::-1] * 2, (1, 1, 20)).copy()
    kpos = np.broadcast_to(np.arange(20, dtype=np.int32) * 2, (1, 1, 20)).copy()
    mk = rng.standard_normal((2, 3, 8)).astype(np.float32)
    mv = rng.standard_normal((2, 3, 6)).astype(np.float32)
    ir = sdpa_func((q.shape, "f32"), (k.shape, "f32"), (v.shape, "f32"), lse=True,
                   pattern=Window(left=9, right=4), mask_mod=body,
                   memory=((mk.shape, "f32"), (mv.shape, "f32")),
                   positions=((qpos.shape, "i32"), (kpos.shape, "i32")))
    if tile is not None:
        ir = tile_ir(ir, tile)
    o = np.zeros((1, 2, 20, 6), dtype=np.float32)
    out, lse = run(ir, [q, k, v, o, mk, mv, qpos, kpos], mode=mode)
    exp, exp_lse = ref.sdpa(q, k, v, pattern=Window(left=9, right=4), mask_mod=fn,
                            memory=(mk, mv), positions=(qpos, kpos), return_lse=True)
    assert_close(out, exp, MODES[mode])
    check_lse(lse, exp_lse)


def random_layout(rng, B, H, NQB, NKB, K, oob=True):
    """Counts [B, H, NQB] and indices [B, H, NQB, K]: random blocks, with repeats, entries
    out of range and counts beyond K or below 0 when `oob`."""
    idx = rng.integers(-1 if oob else 0, NKB + (1 if oob else 0), size=(B, H, NQB, K))
    num = rng.integers(-1 if oob else 0, K + (2 if oob else 1), size=(B, H, NQB))
    return num.astype(np.int32), idx.astype(np.int32)


LAYOUTS = {
    # (B, H of the layout, with full_blocks, with mask_mod, pattern)
    "shared": (1, 1, False, False, None),
    "per_head_full": (2, 2, True, False, None),
    "full_and_mask_mod": (1, 2, True, True, None),
    "mask_mod_causal": (2, 1, False, True, Causal()),
}


@pytest.mark.parametrize("mode,tile", RUNS, ids=[run_id(r) for r in RUNS])
@pytest.mark.parametrize("name", list(LAYOUTS))
def test_block_layout(name, mode, tile):
    Bl, Hl, with_full, with_mod, pattern = LAYOUTS[name]
    rng = np.random.default_rng(5)
    B, H, Nq, Nk, BQ, BK, K = 2, 2, 27, 35, 8, 4, 5
    q, k, v = qkv(rng, B, H, Nq, Nk)
    NQB, NKB = -(-Nq // BQ), -(-Nk // BK)
    blocks = random_layout(rng, Bl, Hl, NQB, NKB, K)
    full = random_layout(rng, Bl, Hl, NQB, NKB, 3) if with_full else None
    body, fn = MASK_MODS["per_head_batch"] if with_mod else (None, None)
    types = lambda pair: tuple((x.shape, "i32") for x in pair)
    out, lse = run_sdpa(q, k, v, mode, tile, pattern=pattern, mask_mod=body,
                        blocks=types(blocks), full_blocks=full and types(full),
                        block_size=(BQ, BK), extra=[*blocks, *(full or ())])
    exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern or ref.Dense(), mask_mod=fn,
                            blocks=blocks, full_blocks=full, block_size=(BQ, BK),
                            return_lse=True)
    assert_close(out, exp, MODES[mode])
    check_lse(lse, exp_lse)
