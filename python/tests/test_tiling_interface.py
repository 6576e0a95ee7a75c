"""attn.sdpa tiled through its TilingInterface (`transform.structured.tile_using_for` /
`tile_using_forall` over batch, head and query), then compiled by attn-run's CPU pipeline
(reference and fused), against the float64 reference of the untiled op.

Each case covers operands that depend on the tiled dims: GQA heads (a head tile of whole groups,
and one inside a group), mask and bias broadcast, positions (explicit and the default ones that a
query tile must keep global), memory, span, lse, a score_mod that reads %b, %h, %i and %j, and a
bottom-right causal pattern whose offset depends on Nq. Split-KV (the partial reduction over
keys) also covers memory (counted once, by the merge), segments and a random pattern (drawn
from the whole op's key blocks: a block_sparse layout in each split)."""

import pathlib
import subprocess
import tempfile

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.patterns import Causal, Global, Random, Window
from attn_mlir.run import AttnRunError, attn_run_path, run
from helpers import assert_close

SCRIPT = """
module attributes {{transform.with_named_sequence}} {{
  transform.named_sequence @__transform_main(%root: !transform.any_op {{transform.readonly}}) {{
    %op = transform.structured.match ops{{["attn.sdpa"]}} in %root : (!transform.any_op) -> !transform.any_op
    {results} = transform.structured.{tiling} %op {args}
        : (!transform.any_op) -> ({types})
    transform.yield
  }}
}}
"""


def tile(ir, sizes, forall):
    """`ir` with its attn.sdpa tiled by a transform script given as a preloaded library.
    `forall` is True / False (tile_using_forall / _for over batch, head, query with `sizes`),
    "fuse" (tile with scf.for and fuse the producers), or "split-forall" / "split-for"
    (split-KV: `sizes` is the number of splits / the key tile)."""
    if forall == "heads-then-split":
        # Heads with tile_using_forall, then split-KV of the tiled op.
        results, handles, args = "%t, %l", 2, f"tile_sizes [0, {sizes[0]}, 0]"
        tiling = "tile_using_forall"
    elif forall in ("split-forall", "split-for"):
        results, handles = "%f:2, %s, %c, %l", 5
        tiling, args = (("tile_reduction_using_forall", f"by num_threads = [0, 0, 0, {sizes}]")
                        if forall == "split-forall" else
                        ("tile_reduction_using_for", f"by tile_sizes = [0, 0, 0, {sizes}]"))
    else:
        n = 1 if forall is True else sum(1 for s in sizes if s)
        results, handles = f"%t, %l:{n}", n + 1
        tiling = {True: "tile_using_forall", False: "tile_using_for", "fuse": "fuse"}[forall]
        args = f"tile_sizes [{', '.join(map(str, sizes))}]"
    script = SCRIPT.format(results=results, tiling=tiling, args=args,
                           types=", ".join(["!transform.any_op"] * handles))
    if forall == "heads-then-split":
        split = (f"%f:2, %s, %c, %l2 = transform.structured.tile_reduction_using_forall %t "
                 f"by num_threads = [0, 0, 0, {sizes[1]}] : (!transform.any_op) -> "
                 f"({', '.join(['!transform.any_op'] * 5)})\n    transform.yield")
        script = script.replace("transform.yield", split)
    attn_opt = pathlib.Path(attn_run_path()).with_name("attn-opt")
    with tempfile.TemporaryDirectory() as tmp:
        lib = pathlib.Path(tmp) / "script.mlir"
        lib.write_text(script)
        proc = subprocess.run(
            [str(attn_opt), "-", f"--transform-preload-library=transform-library-paths={lib}",
             "--transform-interpreter", "--canonicalize"],
            input=ir, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "scf.for" in proc.stdout
    return proc.stdout


def check(ir, inputs, expected, sizes, forall, mode):
    tiled = tile(ir, sizes, forall)
    outs = run(tiled, inputs, entry="f", mode=mode)
    tol = ref.TOLERANCE["f32_fused" if mode == "fused" else "f32_reference"]
    for out, exp in zip(outs, expected):
        if out.ndim == 3:  # lse
            np.testing.assert_array_equal(np.isneginf(out), np.isneginf(exp))
            finite = np.isfinite(exp)
            np.testing.assert_allclose(out[finite], exp[finite], rtol=1e-4, atol=1e-4)
        else:
            assert_close(out, exp, tol)


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


GQA_IR = """
func.func @f(%q: tensor<2x4x11x8xf32>, %k: tensor<2x2x13x8xf32>, %v: tensor<2x2x13x6xf32>,
             %o: tensor<2x4x11x6xf32>, %m: tensor<4x11x13xi1>)
    -> (tensor<2x4x11x6xf32>, tensor<2x4x11xf32>) {
  %r, %lse = attn.sdpa ins(%q, %k, %v : tensor<2x4x11x8xf32>, tensor<2x2x13x8xf32>, tensor<2x2x13x6xf32>)
      outs(%o : tensor<2x4x11x6xf32>) mask(%m : tensor<4x11x13xi1>)
      pattern(#attn.causal<offset = -1, bottom_right>)
      -> tensor<2x4x11x6xf32>, tensor<2x4x11xf32>
  return %r, %lse : tensor<2x4x11x6xf32>, tensor<2x4x11xf32>
}
"""


@pytest.mark.parametrize("sizes,forall", [([1, 2, 4], False), ([0, 1, 3], True),
                                          ([2, 4, 5], True), (3, "split-forall"),
                                          (5, "split-for")])
@pytest.mark.parametrize("mode", ["reference", "fused"])
def test_gqa_mask_bottom_right_lse(sizes, forall, mode):
    rng = np.random.default_rng(1)
    q, k, v = rand(rng, 2, 4, 11, 8), rand(rng, 2, 2, 13, 8), rand(rng, 2, 2, 13, 6)
    m = rng.random((4, 11, 13)) < 0.8
    exp, lse = ref.sdpa(q, k, v, pattern=Causal(offset=-1, bottom_right=True), mask=m,
                        return_lse=True)
    check(GQA_IR, [q, k, v, np.zeros((2, 4, 11, 6), np.float32), m], [exp, lse], sizes,
          forall, mode)


SCORE_MOD_IR = """
func.func @f(%q: tensor<?x4x?x8xf32>, %k: tensor<?x1x?x8xf32>, %v: tensor<?x1x?x8xf32>,
             %o: tensor<?x4x?x8xf32>, %bias: tensor<?x1x?x?xf32>) -> tensor<?x4x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x4x?x8xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>)
      outs(%o : tensor<?x4x?x8xf32>) bias(%bias : tensor<?x1x?x?xf32>)
      pattern(#attn.window<left = 3, right = 2>)
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        %d = arith.subi %i, %j : index
        %t = arith.addi %d, %h : index
        %u = arith.addi %t, %b : index
        %ui = arith.index_cast %u : index to i64
        %uf = arith.sitofp %ui : i64 to f32
        %c = arith.constant 0.125 : f32
        %pen = arith.mulf %c, %uf : f32
        %x = arith.subf %s, %pen : f32
        attn.yield %x : f32
      } -> tensor<?x4x?x8xf32>
  return %r : tensor<?x4x?x8xf32>
}
"""


@pytest.mark.parametrize("sizes,forall", [([1, 2, 4], False), ([1, 1, 5], True),
                                          (4, "split-forall"), (3, "split-for"),
                                          ((2, 3), "heads-then-split")])
@pytest.mark.parametrize("mode", ["reference", "fused"])
def test_dynamic_score_mod_bias_default_positions(sizes, forall, mode):
    rng = np.random.default_rng(2)
    B, Nq, Nk = 2, 13, 10
    q, k, v = rand(rng, B, 4, Nq, 8), rand(rng, B, 1, Nk, 8), rand(rng, B, 1, Nk, 8)
    bias = rand(rng, B, 1, Nq, Nk)

    def score_mod(s, b, h, i, j):
        return s - 0.125 * (i - j + h + b)

    exp = ref.sdpa(q, k, v, pattern=Window(3, 2), bias=bias, score_mod=score_mod)
    check(SCORE_MOD_IR, [q, k, v, np.zeros((B, 4, Nq, 8), np.float32), bias], [exp], sizes,
          forall, mode)


MASK_MOD_IR = """
func.func @f(%q: tensor<?x4x?x8xf32>, %k: tensor<?x1x?x8xf32>, %v: tensor<?x1x?x8xf32>,
             %o: tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x4x?x8xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>)
      outs(%o : tensor<?x4x?x8xf32>)
      mask_mod {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %s = arith.addi %j, %h : index
        %t = arith.addi %s, %b : index
        %ok = arith.cmpi sge, %i, %t : index
        %c1 = arith.constant 1 : index
        %h1 = arith.cmpi eq, %h, %c1 : index
        %x = arith.ori %ok, %h1 : i1
        attn.yield %x : i1
      } -> tensor<?x4x?x8xf32>
  return %r : tensor<?x4x?x8xf32>
}
"""


@pytest.mark.parametrize("sizes,forall", [([1, 2, 4], False), ([1, 1, 5], True),
                                          (4, "split-forall")])
@pytest.mark.parametrize("mode", ["reference", "fused"])
def test_mask_mod_reads_global_batch_head_positions(sizes, forall, mode):
    """mask_mod's %b, %h, %i, %j stay global in every tile."""
    rng = np.random.default_rng(3)
    B, Nq, Nk = 2, 13, 10
    q, k, v = rand(rng, B, 4, Nq, 8), rand(rng, B, 1, Nk, 8), rand(rng, B, 1, Nk, 8)
    exp = ref.sdpa(q, k, v, mask_mod=lambda b, h, i, j: (i >= j + h + b) | (h == 1))
    check(MASK_MOD_IR, [q, k, v, np.zeros((B, 4, Nq, 8), np.float32)], [exp], sizes,
          forall, mode)


POSITIONS_IR = """
func.func @f(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x12x8xf32>, %v: tensor<1x2x12x8xf32>,
             %o: tensor<1x4x9x8xf32>, %mk: tensor<2x3x8xf32>, %mv: tensor<2x3x8xf32>,
             %qp: tensor<1x2x9xi64>, %kp: tensor<1x2x12xi64>, %z: tensor<4xf32>)
    -> (tensor<1x4x9x8xf32>, tensor<1x4x9xf32>) {
  %r, %lse = attn.sdpa ins(%q, %k, %v : tensor<1x4x9x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>)
      outs(%o : tensor<1x4x9x8xf32>)
      memory(%mk, %mv : tensor<2x3x8xf32>, tensor<2x3x8xf32>)
      positions(%qp, %kp : tensor<1x2x9xi64>, tensor<1x2x12xi64>)
      span(%z : tensor<4xf32>) pattern(#attn.causal) {ramp = 2.0 : f32, max_span = 6.0 : f32}
      -> tensor<1x4x9x8xf32>, tensor<1x4x9xf32>
  return %r, %lse : tensor<1x4x9x8xf32>, tensor<1x4x9xf32>
}
"""


@pytest.mark.parametrize("sizes,forall", [([0, 2, 4], False), ([1, 1, 2], True),
                                          ([0, 4, 3], True)])
@pytest.mark.parametrize("mode", ["reference", "fused"])
def test_positions_memory_span(sizes, forall, mode):
    rng = np.random.default_rng(3)
    q, k, v = rand(rng, 1, 4, 9, 8), rand(rng, 1, 2, 12, 8), rand(rng, 1, 2, 12, 8)
    mk, mv = rand(rng, 2, 3, 8), rand(rng, 2, 3, 8)
    qp = np.sort(rng.integers(0, 20, (1, 2, 9)), axis=-1).astype(np.int64)
    kp = np.sort(rng.integers(0, 20, (1, 2, 12)), axis=-1).astype(np.int64)
    z = np.array([1.0, 3.5, 0.0, 8.0], np.float32)
    exp, lse = ref.sdpa(q, k, v, pattern=Causal(), memory=(mk, mv), positions=(qp, kp),
                        span=z, ramp=2.0, max_span=6.0, return_lse=True)
    check(POSITIONS_IR, [q, k, v, np.zeros((1, 4, 9, 8), np.float32), mk, mv, qp, kp, z],
          [exp, lse], sizes, forall, mode)


SPLIT_POSITIONS_IR = """
func.func @f(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x12x8xf32>, %v: tensor<1x2x12x8xf32>,
             %o: tensor<1x4x9x8xf32>, %qp: tensor<1x2x9xi64>, %kp: tensor<1x2x12xi64>,
             %z: tensor<4xf32>) -> tensor<1x4x9x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x4x9x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>)
      outs(%o : tensor<1x4x9x8xf32>)
      positions(%qp, %kp : tensor<1x2x9xi64>, tensor<1x2x12xi64>)
      span(%z : tensor<4xf32>) pattern(#attn.causal) {ramp = 2.0 : f32, max_span = 6.0 : f32}
      -> tensor<1x4x9x8xf32>
  return %r : tensor<1x4x9x8xf32>
}
"""


@pytest.mark.parametrize("sizes,forall", [(5, "split-forall"), (4, "split-for")])
@pytest.mark.parametrize("mode", ["reference", "fused"])
def test_split_kv_positions_span(sizes, forall, mode):
    """Split-KV with explicit positions and a span: some splits have no live key (their lse is
    -inf and they weigh nothing); rows with no live key at all give 0."""
    rng = np.random.default_rng(4)
    q, k, v = rand(rng, 1, 4, 9, 8), rand(rng, 1, 2, 12, 8), rand(rng, 1, 2, 12, 8)
    qp = np.sort(rng.integers(0, 20, (1, 2, 9)), axis=-1).astype(np.int64)
    kp = np.sort(rng.integers(0, 20, (1, 2, 12)), axis=-1).astype(np.int64)
    z = np.array([1.0, 3.5, 0.0, 8.0], np.float32)
    exp = ref.sdpa(q, k, v, pattern=Causal(), positions=(qp, kp), span=z, ramp=2.0,
                   max_span=6.0)
    check(SPLIT_POSITIONS_IR, [q, k, v, np.zeros((1, 4, 9, 8), np.float32), qp, kp, z], [exp],
          sizes, forall, mode)


SPLIT_MEMORY_RANDOM_IR = """
func.func @f(%q: tensor<2x4x9x8xf32>, %k: tensor<2x2x14x8xf32>, %v: tensor<2x2x14x6xf32>,
             %o: tensor<2x4x9x6xf32>, %mk: tensor<2x3x8xf32>, %mv: tensor<2x3x6xf32>,
             %m: tensor<9x14xi1>, %qs: tensor<2x9xi32>, %ks: tensor<2x14xi64>)
    -> (tensor<2x4x9x6xf32>, tensor<2x4x9xf32>) {
  %r, %lse = attn.sdpa ins(%q, %k, %v : tensor<2x4x9x8xf32>, tensor<2x2x14x8xf32>, tensor<2x2x14x6xf32>)
      outs(%o : tensor<2x4x9x6xf32>) mask(%m : tensor<9x14xi1>)
      memory(%mk, %mv : tensor<2x3x8xf32>, tensor<2x3x6xf32>)
      segments(%qs, %ks : tensor<2x9xi32>, tensor<2x14xi64>)
      pattern(#attn.union<[#attn.window<left = 1, right = 1>, #attn.global<first = 1>,
                           #attn.random<block = 2, per_row = 2, seed = 7>]>)
      -> tensor<2x4x9x6xf32>, tensor<2x4x9xf32>
  return %r, %lse : tensor<2x4x9x6xf32>, tensor<2x4x9xf32>
}
"""


@pytest.mark.parametrize("sizes,forall", [(3, "split-forall"), (4, "split-for"),
                                          ((2, 4), "heads-then-split"), ([1, 2, 4], False)])
@pytest.mark.parametrize("mode", ["reference", "fused"])
def test_split_kv_memory_random_segments(sizes, forall, mode):
    """Split-KV of an op with memory, segments, a mask and a BigBird-like pattern with random
    blocks: the memory keys count once (in the merge), each split draws the random blocks of
    the whole op (Nk = 14, 7 candidate blocks), and the segments leave some rows with memory
    keys only. The last case tiles batch, head and query instead (segments sliced by batch and
    query)."""
    rng = np.random.default_rng(8)
    q, k, v = rand(rng, 2, 4, 9, 8), rand(rng, 2, 2, 14, 8), rand(rng, 2, 2, 14, 6)
    mk, mv = rand(rng, 2, 3, 8), rand(rng, 2, 3, 6)
    m = rng.random((9, 14)) < 0.8
    qs = np.sort(rng.integers(0, 3, (2, 9)), axis=-1).astype(np.int32)
    ks = np.sort(rng.integers(0, 3, (2, 14)), axis=-1).astype(np.int64)
    pattern = Window(1, 1) | Global(first=1) | Random(block=2, per_row=2, seed=7)
    exp, lse = ref.sdpa(q, k, v, pattern=pattern, mask=m, memory=(mk, mv), segments=(qs, ks),
                        return_lse=True)
    check(SPLIT_MEMORY_RANDOM_IR,
          [q, k, v, np.zeros((2, 4, 9, 6), np.float32), mk, mv, m, qs, ks], [exp, lse], sizes,
          forall, mode)


FUSE_IR = """
func.func @f(%x: tensor<2x4x10x8xf32>, %k: tensor<2x2x7x8xf32>, %v: tensor<2x2x7x8xf32>,
             %o: tensor<2x4x10x8xf32>) -> tensor<2x4x10x8xf32> {
  %e = tensor.empty() : tensor<2x4x10x8xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>,
                                        affine_map<(a, b, c, d) -> (a, b, c, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<2x4x10x8xf32>) outs(%e : tensor<2x4x10x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %t = math.tanh %a : f32
    linalg.yield %t : f32
  } -> tensor<2x4x10x8xf32>
  %r = attn.sdpa ins(%q, %k, %v : tensor<2x4x10x8xf32>, tensor<2x2x7x8xf32>, tensor<2x2x7x8xf32>)
      outs(%o : tensor<2x4x10x8xf32>) pattern(#attn.window<left = 2, right = 1>)
      -> tensor<2x4x10x8xf32>
  return %r : tensor<2x4x10x8xf32>
}
"""


@pytest.mark.parametrize("mode", ["reference", "fused"])
def test_fuse_producer(mode):
    """transform.structured.fuse: the query's producer is computed per (head, query) tile."""
    rng = np.random.default_rng(5)
    x, k, v = rand(rng, 2, 4, 10, 8), rand(rng, 2, 2, 7, 8), rand(rng, 2, 2, 7, 8)
    exp = ref.sdpa(np.tanh(x.astype(np.float64)), k, v, pattern=Window(2, 1))
    tiled = tile(FUSE_IR, [0, 2, 3], "fuse")
    assert tiled.index("math.tanh") > tiled.index("scf.for")
    check(FUSE_IR, [x, k, v, np.zeros((2, 4, 10, 8), np.float32)], [exp], [0, 2, 3], "fuse", mode)


DYNAMIC_HEADS_IR = """
func.func @f(%q: tensor<1x?x9x8xf32>, %k: tensor<1x?x11x8xf32>, %v: tensor<1x?x11x8xf32>,
             %o: tensor<1x?x9x8xf32>, %z: tensor<?xf32>) -> (tensor<1x?x9x8xf32>, tensor<1x?x9xf32>) {
  %r, %lse = attn.sdpa ins(%q, %k, %v : tensor<1x?x9x8xf32>, tensor<1x?x11x8xf32>, tensor<1x?x11x8xf32>)
      outs(%o : tensor<1x?x9x8xf32>) span(%z : tensor<?xf32>) pattern(#attn.causal<offset = 1>)
      {ramp = 2.0 : f32, max_span = 5.0 : f32} -> tensor<1x?x9x8xf32>, tensor<1x?x9xf32>
  return %r, %lse : tensor<1x?x9x8xf32>, tensor<1x?x9xf32>
}
"""


@pytest.mark.parametrize("heads,kv_heads,head_tile", [(6, 3, 2), (6, 2, 1), (4, 1, 2)])
def test_dynamic_head_counts(heads, kv_heads, head_tile):
    """Head tiles over dynamic H and Hkv: the KV-head range is computed at run time."""
    rng = np.random.default_rng(6)
    q, k, v = rand(rng, 1, heads, 9, 8), rand(rng, 1, kv_heads, 11, 8), rand(rng, 1, kv_heads, 11, 8)
    z = rng.uniform(0, 6, heads).astype(np.float32)
    exp, lse = ref.sdpa(q, k, v, pattern=Causal(offset=1), span=z, ramp=2.0, max_span=5.0,
                        return_lse=True)
    check(DYNAMIC_HEADS_IR, [q, k, v, np.zeros((1, heads, 9, 8), np.float32), z], [exp, lse],
          [0, head_tile, 4], False, "reference")


def test_dynamic_head_tile_across_groups_aborts():
    """A head tile that straddles two groups (3 heads, groups of 2) stops at the run-time check."""
    rng = np.random.default_rng(7)
    q, k, v = rand(rng, 1, 6, 9, 8), rand(rng, 1, 3, 11, 8), rand(rng, 1, 3, 11, 8)
    z = np.ones(6, np.float32)
    with pytest.raises(AttnRunError, match="a head tile must cover whole groups"):
        check(DYNAMIC_HEADS_IR, [q, k, v, np.zeros((1, 6, 9, 8), np.float32), z], [], [0, 3, 4],
              False, "reference")
