"""BigBird (window blocks, global blocks and #attn.random blocks) through attn-run, fused and
--mode=reference, against the float64 reference (python/attn_mlir/reference.py).

The random blocks' tiles are classified at run time from per-query-block hash thresholds
built once per query tile (QueryTileFacts); these cases cover static and dynamic lengths,
tiles aligned to the random block and not, query tiles spanning several query blocks, and
positions operands (whose query ranges can leave the per-tile table: the predicate then
computes the threshold itself)."""

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.builder import sdpa_func
from attn_mlir.patterns import BlockSparse, Global, Random, Union, Window
from attn_mlir.run import run
from helpers import assert_close
from test_run_fused import check_lse, run_fused
from test_run_sdpa import make_qkv, shapes

FUSED_TOL = ref.TOLERANCE["f32_fused"]
REFERENCE_TOL = ref.TOLERANCE["f32_reference"]
BLOCK = 8


def bigbird(n, per_row=3, seed=2020):
    """BigBird at length n, block 8: its own block and one each side (a tridiagonal layout),
    2 global blocks and `per_row` random blocks per row (bench/cpu/bench.py's spec, scaled)."""
    blocks = -(-n // BLOCK)
    rows = np.arange(blocks)
    layout = np.abs(rows[:, None] - rows[None, :]) <= 1
    return Union([BlockSparse((BLOCK, BLOCK), layout), Global(first=2 * BLOCK),
                  Random(block=BLOCK, per_row=per_row, seed=seed)])


# (q-tile, kv-tile): None is the pipeline's default; aligned (equal, multiple, divisor of the
# block) and unaligned.
TILES = [None, (16, 8), (8, 16), (12, 5)]


def tile_id(tile):
    return "default" if tile is None else f"{tile[0]}x{tile[1]}"


@pytest.mark.parametrize("tile", TILES, ids=tile_id)
def test_bigbird_static(tile):
    rng = np.random.default_rng(1)
    n = 200
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=2, Nq=n, Nk=n, D=8, Dv=8)
    pattern = bigbird(n)
    ir = sdpa_func(*shapes(q, k, v), pattern=pattern, lse=True)
    out, lse = run_fused(ir, q, k, v, tile)
    exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
    assert_close(out, exp, FUSED_TOL)
    check_lse(lse, exp_lse)


@pytest.mark.parametrize("tile", [None, (12, 5)], ids=tile_id)
def test_random_dynamic_lengths(tile):
    """One compiled form, every dim dynamic; Nq != Nk, tails, fewer blocks than per_row."""
    rng = np.random.default_rng(2)
    pattern = Union([Window(left=BLOCK, right=BLOCK), Global(first=BLOCK),
                     Random(block=BLOCK, per_row=3, seed=-77)])
    proto = make_qkv(rng, 1, 2, 2, 1, 1, 8, 8)
    ir = sdpa_func(*shapes(*proto, dynamic=(0, 1, 2)), pattern=pattern, lse=True)
    for Nq, Nk in [(9, 17), (131, 197), (197, 96)]:
        q, k, v = make_qkv(rng, 1, 2, 2, Nq, Nk, 8, 8)
        out, lse = run_fused(ir, q, k, v, tile)
        exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
        assert_close(out, exp, FUSED_TOL)
        check_lse(lse, exp_lse)


def test_random_alone_every_row_live():
    """Random blocks only (no window to hide a wrong pick): every row has exactly its picks."""
    rng = np.random.default_rng(3)
    pattern = Random(block=BLOCK, per_row=2, seed=5)
    q, k, v = make_qkv(rng, 2, 2, 1, 150, 170, 8, 8)
    ir = sdpa_func(*shapes(q, k, v, dynamic=(2,)), pattern=pattern, lse=True)
    for tile in [(24, 16), (8, 24)]:
        out, lse = run_fused(ir, q, k, v, tile)
        exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
        assert_close(out, exp, FUSED_TOL)
        check_lse(lse, exp_lse)


@pytest.mark.parametrize("block", [1, 4])
def test_random_with_positions(block):
    """Positions spread far apart: with block 1 a query tile's positions span more query
    blocks than the per-tile table holds, so the predicate computes thresholds itself."""
    rng = np.random.default_rng(4 + block)
    pattern = Union([Window(left=3, right=3), Random(block=block, per_row=3, seed=9)])
    q, k, v = make_qkv(rng, 1, 2, 2, 40, 50, 8, 8)
    qpos = rng.integers(-10, 200, size=(1, 1, 40)).astype(np.int64)
    kpos = rng.integers(-10, 60, size=(1, 1, 50)).astype(np.int64)
    ir = sdpa_func(*shapes(q, k, v), pattern=pattern,
                   positions=(([1, 1, 40], "i64"), ([1, 1, 50], "i64")))
    for tile in [(16, 8)]:
        out, = run_fused(ir, q, k, v, tile, qpos=qpos, kpos=kpos)
        assert_close(out, ref.sdpa(q, k, v, pattern=pattern, positions=(qpos, kpos)),
                     FUSED_TOL)


@pytest.mark.parametrize("dynamic", [(), (2,)], ids=["static", "dynamic"])
def test_bigbird_reference_mode(dynamic):
    rng = np.random.default_rng(6)
    n = 100
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=1, Nq=n, Nk=n, D=8, Dv=8)
    pattern = bigbird(n)
    ir = sdpa_func(*shapes(q, k, v, dynamic=dynamic), pattern=pattern)
    o = np.zeros(q.shape, dtype=np.float32)
    out, = run(ir, [q, k, v, o], mode="reference")
    assert_close(out, ref.sdpa(q, k, v, pattern=pattern), REFERENCE_TOL)



@pytest.mark.parametrize("dynamic", [(), (2,)], ids=["static", "dynamic"])
def test_random_query_tile_near_int64_max(dynamic):
    """q-tile = INT64_MAX: one query tile holds every row. The size of its per-query-block
    threshold table once read `q-tile + block - 2`, which overflowed (a table of no entries
    taken as complete, read out of bounds); the table must fall back to its cap."""
    rng = np.random.default_rng(7)
    pattern = Union([Window(left=0, right=0), Random(block=BLOCK, per_row=2, seed=3)])
    q, k, v = make_qkv(rng, 1, 2, 1, 90, 70, 8, 8)
    ir = sdpa_func(*shapes(q, k, v, dynamic=dynamic), pattern=pattern, lse=True)
    out, lse = run_fused(ir, q, k, v, (2**63 - 1, 16))
    exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
    assert_close(out, exp, FUSED_TOL)
    check_lse(lse, exp_lse)
