"""Differential tester of the fused pipeline: random valid attn.sdpa specs, run through
`attn-run --mode=fused` (and `--mode=reference`) on the same random inputs and compared with
the float64 numpy reference (attn_mlir.reference) within the bounds of docs/Semantics.md §10.

A spec is a pure function of (seed, index): `generate(seed, index)` draws the shapes (GQA
ratios, odd lengths around the tile sizes, Nq != Nk, static or dynamic dims), the element
type, a random pattern tree over every pattern attribute (nested union / intersect), the
optional operands (mask, bias, memory, positions, span, document ids), a score_mod region
from a few templates (soft-capping, ALiBi, scf.if, scf.for, -inf scores), the lse result, the
tile sizes of the fused pipeline and the inputs (with NaN and large scores sometimes). `check(spec)` runs
it and returns the mismatches. Reproduce one spec with

    scripts/difftest.sh --seed S --index I

and long runs with `scripts/difftest.sh --seed S --seconds T` (see docs/AttnRun.md).
`--ops kernelized,lowrank,pkm,lightconv,lsh,cluster` (or `all`, which adds sdpa) draws specs of
those ops instead (attn_mlir.difftest_variants, attn_mlir.difftest_lsh), spec `index` of op
`ops[index % len(ops)]`; `--op X` is `--ops X`.
"""

import argparse
import json
import math
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np

from . import difftest_lsh
from . import difftest_variants as V
from . import patterns as P
from . import reference as ref
from .builder import sdpa_func
from .run import attn_run_path, from_bf16_bits, to_bf16_bits

# The argument order of builder.sdpa_func; attn-opt's output has no SSA names, so the inputs
# go to attn-run by position.
ARGUMENTS = ["q", "k", "v", "o", "mask", "bias", "mk", "mv", "qpos", "kpos", "span", "qseg",
             "kseg", "kvn", "kvi", "fkvn", "fkvi"]
# The bound on ||out - ref|| / ||ref|| of docs/Semantics.md §10 per element type and mode.
TOLERANCE = {("f32", "fused"): ref.TOLERANCE["f32_fused"],
             ("f32", "reference"): ref.TOLERANCE["f32_reference"],
             ("f16", "fused"): ref.TOLERANCE["f16"], ("f16", "reference"): ref.TOLERANCE["f16"],
             ("bf16", "fused"): ref.TOLERANCE["bf16"],
             ("bf16", "reference"): ref.TOLERANCE["bf16"]}
LOGICAL_DIMS = ("B", "H", "Nq", "Nk")


# ----------------------------------------------------------------------------- patterns

def random_leaf(rng, L):
    """One leaf pattern with parameters scaled to the sequence length L."""
    kind = rng.choice(["dense", "causal", "window", "dilated", "block_local", "strided",
                       "fixed", "global", "random", "axial", "block_sparse", "sink",
                       "neighborhood"])
    small = lambda lo, hi: int(rng.integers(lo, hi + 1))  # noqa: E731
    if kind == "dense":
        return P.Dense()
    if kind == "causal":
        offset = 0 if rng.random() < 0.6 else small(-L // 2 - 1, L // 2 + 1)
        return P.Causal(offset=offset, bottom_right=bool(rng.random() < 0.4))
    if kind == "window":
        left = small(-3, L // 2 + 2)
        low = max(-left, -3)
        right = small(low, max(low, L // 2 + 2))
        return P.Window(left, right)
    if kind == "dilated":
        return P.Dilated(small(0, 6), small(0, 6), small(1, 4))
    if kind == "block_local":
        return P.BlockLocal(small(1, max(1, L)))
    if kind == "strided":
        return P.Strided(small(1, 6))
    if kind == "fixed":
        block = small(1, 10)
        return P.Fixed(block, small(0, block))
    if kind == "global":
        count = small(0, 3)
        tokens = sorted({small(-2, L + 2) for _ in range(count)})
        return P.Global(tokens=tokens, first=small(0, 4) if tokens and rng.random() < 0.5
                        else small(1 if not tokens else 0, 4))
    if kind == "random":
        return P.Random(block=small(1, 16), per_row=small(0, 4),
                        seed=int(rng.integers(-(1 << 62), 1 << 62)))
    if kind == "axial":
        return P.Axial(small(1, 8), small(1, 8))
    if kind == "sink":
        count = small(0, 3)
        tokens = sorted({small(-2, L + 2) for _ in range(count)})
        return P.Sink(tokens=tokens, first=small(0 if tokens else 1, 4))
    if kind == "neighborhood":
        # A grid of 1 to 3 axes that holds about L positions (more or fewer: positions off
        # the grid are not live).
        axes = small(1, 3)
        extent = [small(1, max(1, round(L ** (1.0 / axes))) + 1) for _ in range(axes)]
        return P.Neighborhood(extent, [small(1, e) for e in extent])
    bq, bk = small(1, 8), small(1, 8)
    layout = rng.random((small(1, 6), small(1, 6))) < 0.5
    return P.BlockSparse((bq, bk), layout)


def random_pattern(rng, L, depth=0):
    """A pattern tree: a leaf, or a union / intersect of 1 to 3 random subtrees."""
    if depth < 3 and rng.random() < (0.35 if depth == 0 else 0.2):
        parts = [random_pattern(rng, L, depth + 1) for _ in range(int(rng.integers(1, 4)))]
        return (P.Union if rng.random() < 0.6 else P.Intersect)(parts)
    return random_leaf(rng, L)


# ----------------------------------------------------------------------------- score_mod

def _softcap(rng):
    cap = float(np.float32(rng.uniform(0.5, 8.0)))
    body = f"""
    %cap = arith.constant {cap!r} : f32
    %x = arith.divf %s, %cap : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %t, %cap : f32
    attn.yield %y : f32"""
    return body, lambda s, b, h, i, j: cap * np.tanh(s / cap)


def _alibi(rng):
    m = float(np.float32(rng.uniform(0.01, 0.5)))
    body = f"""
    %hi = arith.index_cast %h : index to i64
    %hf = arith.sitofp %hi : i64 to f32
    %one = arith.constant 1.0 : f32
    %hp = arith.addf %hf, %one : f32
    %m = arith.constant {m!r} : f32
    %slope = arith.mulf %hp, %m : f32
    %d = arith.subi %i, %j : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %ad = math.absf %df : f32
    %pen = arith.mulf %slope, %ad : f32
    %y = arith.subf %s, %pen : f32
    attn.yield %y : f32"""
    return body, lambda s, b, h, i, j: s - (h + 1.0) * m * np.abs(i - j)


def _if_relative(rng):
    a = float(np.float32(rng.uniform(-2.0, 2.0)))
    body = f"""
    %ge = arith.cmpi sge, %i, %j : index
    %y = scf.if %ge -> (f32) {{
      scf.yield %s : f32
    }} else {{
      %half = arith.constant 0.5 : f32
      %m = arith.mulf %s, %half : f32
      %a = arith.constant {a!r} : f32
      %r = arith.subf %m, %a : f32
      scf.yield %r : f32
    }}
    attn.yield %y : f32"""
    return body, lambda s, b, h, i, j: np.where(i >= j, s, 0.5 * s - a)


def _neg_inf_pairs(rng):
    """-inf where (i + j) is a multiple of r (live pairs with a -inf score), and for every
    pair of row R (a row whose live scores are all -inf)."""
    r, row = int(rng.integers(2, 5)), int(rng.integers(0, 6))
    body = f"""
    %sum = arith.addi %i, %j : index
    %r = arith.constant {r} : index
    %rem = arith.remsi %sum, %r : index
    %c0 = arith.constant 0 : index
    %hit = arith.cmpi eq, %rem, %c0 : index
    %row = arith.constant {row} : index
    %isrow = arith.cmpi eq, %i, %row : index
    %dead = arith.ori %hit, %isrow : i1
    %ninf = arith.constant 0xFF800000 : f32
    %y = arith.select %dead, %ninf, %s : f32
    attn.yield %y : f32"""
    return body, lambda s, b, h, i, j: np.where(((i + j) % r == 0) | (i == row), -np.inf, s)


def _batch_head_loop(rng):
    """s * 0.9^n + 0.25 b - 0.125 h, with an scf.for."""
    n = int(rng.integers(0, 4))
    body = f"""
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %n = arith.constant {n} : index
    %f = arith.constant 0.9 : f32
    %l = scf.for %it = %c0 to %n step %c1 iter_args(%acc = %s) -> (f32) {{
      %m = arith.mulf %acc, %f : f32
      scf.yield %m : f32
    }}
    %bi = arith.index_cast %b : index to i64
    %bf = arith.sitofp %bi : i64 to f32
    %hi = arith.index_cast %h : index to i64
    %hf = arith.sitofp %hi : i64 to f32
    %qb = arith.constant 0.25 : f32
    %qh = arith.constant 0.125 : f32
    %tb = arith.mulf %bf, %qb : f32
    %th = arith.mulf %hf, %qh : f32
    %y0 = arith.addf %l, %tb : f32
    %y = arith.subf %y0, %th : f32
    attn.yield %y : f32"""
    return body, lambda s, b, h, i, j: s * (0.9 ** n) + 0.25 * b - 0.125 * h


SCORE_MODS = {"softcap": _softcap, "alibi": _alibi, "if_relative": _if_relative,
              "neg_inf_pairs": _neg_inf_pairs, "batch_head_loop": _batch_head_loop}


# ----------------------------------------------------------------------------- mask_mod
# Each returns (region body over %b, %h, %i, %j, the same predicate on int64 arrays); only
# signed comparisons, + and & (two's complement in both), so negative positions agree.

def _mm_offset_causal(rng):
    c = int(rng.integers(-3, 6))
    body = f"""
    %c = arith.constant {c} : index
    %x = arith.addi %i, %c : index
    %t = arith.cmpi sge, %x, %j : index
    attn.yield %t : i1"""
    return body, lambda b, h, i, j: i + c >= j


def _mm_band(rng):
    w = int(rng.integers(0, 9))
    body = f"""
    %w = arith.constant {w} : index
    %d = arith.subi %i, %j : index
    %e = arith.subi %j, %i : index
    %a = arith.cmpi sle, %d, %w : index
    %c = arith.cmpi sle, %e, %w : index
    %t = arith.andi %a, %c : i1
    attn.yield %t : i1"""
    return body, lambda b, h, i, j: (i - j <= w) & (j - i <= w)


def _mm_stripe_batch_head(rng):
    body = """
    %s = arith.addi %b, %h : index
    %x = arith.addi %j, %s : index
    %c1 = arith.constant 1 : index
    %r = arith.andi %x, %c1 : index
    %c0 = arith.constant 0 : index
    %odd = arith.cmpi ne, %r, %c0 : index
    %h0 = arith.cmpi eq, %h, %c1 : index
    %t = arith.ori %odd, %h0 : i1
    attn.yield %t : i1"""
    return body, lambda b, h, i, j: (((j + b + h) & 1) != 0) | (h == 1)


MASK_MODS = {"offset_causal": _mm_offset_causal, "band": _mm_band,
             "stripe_batch_head": _mm_stripe_batch_head}


def _block_layout(rng, x, clauses, B, H, Nq, Nk, dynamic):
    """A random block layout (with repeats, entries out of range, counts beyond K or below
    0), one for all batches or heads or not, with or without full blocks."""
    BQ, BK = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    NQB, NKB = -(-Nq // BQ), -(-Nk // BK)
    Bl = 1 if rng.random() < 0.5 else B
    Hl = 1 if rng.random() < 0.5 else H
    bl_t = 1 if Bl == 1 else (None if "B" in dynamic else Bl)
    hl_t = 1 if Hl == 1 else (None if "H" in dynamic else Hl)
    nqb_t = None if "Nq" in dynamic else NQB
    lists = [("kvn", "kvi", "blocks")]
    if rng.random() < 0.5:
        lists.append(("fkvn", "fkvi", "full_blocks"))
    for num_name, idx_name, clause in lists:
        K = int(rng.integers(1, NKB + 3))
        x[idx_name] = rng.integers(-1, NKB + 1, size=(Bl, Hl, NQB, K)).astype(np.int32)
        x[num_name] = rng.integers(-1, K + 2, size=(Bl, Hl, NQB)).astype(np.int32)
        k_t = None if rng.random() < 0.3 else K
        clauses[clause] = (([bl_t, hl_t, nqb_t], "i32"), ([bl_t, hl_t, nqb_t, k_t], "i32"))
    clauses["block_size"] = (BQ, BK)
    return f"blocks {BQ}x{BK} Bl={Bl} Hl={Hl}" + (" full" if len(lists) > 1 else "")


# ----------------------------------------------------------------------------- specs

class Spec:
    """One random attn.sdpa spec with its inputs (see `generate`)."""

    def __init__(self, seed, index):
        self.seed, self.index = seed, index
        self.description = {}

    def ir(self):
        """The function text (untiled)."""
        return sdpa_func(*self.operand_types, **self.clauses)

    def reference(self):
        """The float64 reference results (o and, with lse, lse)."""
        x = self.inputs
        f64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
        kwargs = dict(pattern=self.pattern, scale=self.clauses.get("scale"),
                      return_lse=True, score_mod=self.score_mod_fn,
                      mask_mod=self.mask_mod_fn)
        if "mask" in x:
            kwargs["mask"] = x["mask"]
        if "bias" in x:
            kwargs["bias"] = f64(x["bias"])
        if "mk" in x:
            kwargs["memory"] = (f64(x["mk"]), f64(x["mv"]))
        if "qpos" in x:
            kwargs["positions"] = (x["qpos"], x["kpos"])
        if "span" in x:
            kwargs.update(span=x["span"], ramp=self.clauses["ramp"],
                          max_span=self.clauses["max_span"])
        if "qseg" in x:
            kwargs["segments"] = (x["qseg"], x["kseg"])
        if "kvn" in x:
            kwargs.update(blocks=(x["kvn"], x["kvi"]), block_size=self.clauses["block_size"])
        if "fkvn" in x:
            kwargs["full_blocks"] = (x["fkvn"], x["fkvi"])
        o, lse = ref.sdpa(f64(x["q"]), f64(x["k"]), f64(x["v"]), **kwargs)
        return [o, lse] if self.clauses["lse"] else [o]

    def input_list(self):
        return [self.inputs[name] for name in ARGUMENTS if name in self.inputs]


def _pick(rng, options):
    return options[int(rng.integers(len(options)))]


def _length(rng, tile):
    """A length around the tile: 1, tile - 1, tile, tile + 1, a multiple, or any."""
    kind = int(rng.integers(7))
    return max(1, [1, tile - 1, tile, tile + 1, 2 * tile + 1, 3 * tile - 1,
                   int(rng.integers(1, 3 * tile + 6))][kind])


def _operand_dims(rng, target, logical, dynamic):
    """Shape (with None for '?') and concrete shape of a mask / bias of random rank,
    right-aligned to [B, H, Nq, Nk]: each dim static 1 (broadcast) or the target dim,
    dynamic exactly when that logical dim is dynamic."""
    rank = int(rng.integers(0, 5))
    types, concrete = [], []
    for name, size in list(zip(logical, target))[4 - rank:]:
        if rng.random() < 0.35:
            types.append(1)
            concrete.append(1)
        else:
            types.append(None if name in dynamic else size)
            concrete.append(size)
    return types, concrete


def _cast(x, dtype):
    if dtype == "f16":
        return x.astype(np.float16)
    if dtype == "bf16":
        # to_bf16_bits returns at least one dim: reshape a rank-0 operand back.
        return from_bf16_bits(to_bf16_bits(x.astype(np.float32))).reshape(np.shape(x))
    return x.astype(np.float32)


def generate(seed, index):
    """The spec number `index` of the run seeded `seed` (a pure function of both)."""
    rng = np.random.default_rng([seed, index])
    spec = Spec(seed, index)
    dtype = _pick(rng, ["f32", "f32", "f32", "f16", "bf16"])
    tile = None if rng.random() < 0.2 else (_pick(rng, [1, 2, 3, 4, 5, 7, 8, 16]),
                                            _pick(rng, [1, 2, 3, 4, 5, 7, 8, 16]))
    qt, kt = tile if tile else (64, 64)
    Nq = _length(rng, qt)
    Nk = Nq if rng.random() < 0.3 else _length(rng, kt)
    Hkv = int(rng.integers(1, 4))
    H = Hkv * int(rng.integers(1, 4))
    B = int(rng.integers(1, 3))
    D, Dv = _pick(rng, [1, 3, 4, 8, 16]), _pick(rng, [1, 2, 4, 8, 16])
    # Head dims of 0 (a second stream, so that the draws above and below stay those of
    # earlier versions of this generator).
    aux = np.random.default_rng([seed, index, 1])
    if aux.random() < 0.03:
        D = 0
    if aux.random() < 0.03:
        Dv = 0
    dynamic = {d for d in LOGICAL_DIMS if rng.random() < 0.35}
    L = max(Nq, Nk)
    spec.pattern = None if rng.random() < 0.1 else random_pattern(rng, L)
    pattern = spec.pattern or P.Dense()
    spec.pattern = pattern
    spec.tile, spec.dtype = tile, dtype

    dim = lambda name, size: None if name in dynamic else size  # noqa: E731
    Hkv_t = None if "H" in dynamic else Hkv
    q_t = ([dim("B", B), dim("H", H), dim("Nq", Nq), D], dtype)
    k_t = ([dim("B", B), Hkv_t, dim("Nk", Nk), D], dtype)
    v_t = ([dim("B", B), Hkv_t, dim("Nk", Nk), Dv], dtype)
    spec.operand_types = (q_t, k_t, v_t)

    scale_up = 30.0 if rng.random() < 0.1 else 1.0
    x = {"q": _cast(rng.standard_normal((B, H, Nq, D)) * scale_up, dtype),
         "k": _cast(rng.standard_normal((B, Hkv, Nk, D)), dtype),
         "v": _cast(rng.standard_normal((B, Hkv, Nk, Dv)), dtype)}
    specials = []
    if rng.random() < 0.15:
        which = _pick(rng, ["q", "k", "v"])
        a = x[which]
        if a.size:
            idx = tuple(int(rng.integers(n)) for n in a.shape)
            a[idx] = np.nan if rng.random() < 0.7 else np.inf
            specials.append(f"{which}{list(idx)}={a[idx]}")
            if which == "v" and np.isinf(a[idx]) and scale_up != 1.0:
                # Scores spread by hundreds make an infinite value's weight
                # underflow in f32 (0 * inf = NaN) where float64 keeps it
                # positive (inf): unspecified, docs/Semantics.md §10.
                x["q"] = _cast(np.asarray(x["q"], dtype=np.float64) / scale_up, dtype)
                specials.append("q not scaled up")
    x["o"] = np.zeros((B, H, Nq, Dv), dtype=x["v"].dtype)
    clauses = {"pattern": None if isinstance(pattern, P.Dense) and rng.random() < 0.5
               else pattern, "lse": bool(rng.random() < 0.5)}
    target = (B, H, Nq, Nk)
    if rng.random() < 0.3:
        types, concrete = _operand_dims(rng, target, LOGICAL_DIMS, dynamic)
        mask = np.asarray(rng.random(tuple(concrete)) < _pick(rng, [0.2, 0.5, 0.9])).reshape(concrete)
        if mask.ndim >= 2 and mask.shape[-2] > 1 and rng.random() < 0.5:
            mask[..., int(rng.integers(mask.shape[-2])), :] = False   # a fully masked row
        x["mask"] = np.asarray(mask, dtype=bool)
        clauses["mask"] = (types, "i1")
    if rng.random() < 0.3:
        types, concrete = _operand_dims(rng, target, LOGICAL_DIMS, dynamic)
        btype = _pick(rng, ["f32", "f32", dtype])
        x["bias"] = _cast(np.asarray(rng.standard_normal(tuple(concrete)) * 2.0).reshape(concrete), btype)
        clauses["bias"] = (types, btype)
    if rng.random() < 0.2:
        M = int(rng.integers(1, 6))
        m_dim = None if rng.random() < 0.3 else M
        x["mk"] = _cast(rng.standard_normal((Hkv, M, D)), dtype)
        x["mv"] = _cast(rng.standard_normal((Hkv, M, Dv)), dtype)
        clauses["memory"] = (([Hkv_t, m_dim, D], dtype), ([Hkv_t, m_dim, Dv], dtype))
    if rng.random() < 0.3:
        Hp = _pick(rng, [1, H, Hkv])
        hp_t = 1 if Hp == 1 else (None if "H" in dynamic else Hp)
        itype = _pick(rng, ["i32", "i64"])
        kind = _pick(rng, ["shifted", "sorted", "random", "decode"])
        def draw(n):
            if kind == "shifted":
                return np.arange(n) + int(rng.integers(-5, 20))
            if kind == "sorted":
                return np.sort(rng.integers(-10, 2 * L + 10, size=n))
            if kind == "decode":
                return np.arange(n) + (Nk - Nq if n == Nq else 0)
            return rng.integers(-10, 2 * L + 10, size=n)
        npt = np.int32 if itype == "i32" else np.int64
        x["qpos"] = np.stack([np.stack([draw(Nq) for _ in range(Hp)]) for _ in range(B)]
                             ).astype(npt).reshape(B, Hp, Nq)
        x["kpos"] = np.stack([np.stack([draw(Nk) for _ in range(Hp)]) for _ in range(B)]
                             ).astype(npt).reshape(B, Hp, Nk)
        clauses["positions"] = (([dim("B", B), hp_t, dim("Nq", Nq)], itype),
                                ([dim("B", B), hp_t, dim("Nk", Nk)], itype))
        specials.append(f"positions {kind} Hp={Hp}")
    if rng.random() < 0.25:
        # Document ids: packed (sorted runs, also with Nq != Nk) or scattered.
        itype = _pick(rng, ["i32", "i64"])
        docs = int(rng.integers(1, 5))
        packed = rng.random() < 0.7
        def ids(n):
            if packed:
                return np.sort(rng.integers(0, docs, size=n))
            return rng.integers(-1, docs, size=n)
        npt = np.int32 if itype == "i32" else np.int64
        x["qseg"] = np.stack([ids(Nq) for _ in range(B)]).astype(npt).reshape(B, Nq)
        x["kseg"] = np.stack([ids(Nk) for _ in range(B)]).astype(npt).reshape(B, Nk)
        clauses["segments"] = (([dim("B", B), dim("Nq", Nq)], itype),
                               ([dim("B", B), dim("Nk", Nk)], itype))
        specials.append(f"segments {'packed' if packed else 'scattered'} docs={docs}")
    if rng.random() < 0.15:
        x["span"] = rng.uniform(-3.0, L + 5.0, size=H).astype(np.float32)
        clauses["span"] = ([None if "H" in dynamic else H], "f32")
        clauses["ramp"] = float(np.float32(rng.uniform(0.5, 8.0)))
        clauses["max_span"] = float(np.float32(rng.uniform(0.0, L)))
    if rng.random() < 0.3:
        clauses["scale"] = float(np.float32(rng.uniform(0.05, 1.0)))
    elif D == 0:
        clauses["scale"] = 0.5     # the default 1/sqrt(D) is inf (and inf * 0 is NaN)
    spec.score_mod_name, spec.score_mod_fn = None, None
    if rng.random() < 0.35:
        spec.score_mod_name = _pick(rng, sorted(SCORE_MODS))
        clauses["score_mod"], spec.score_mod_fn = SCORE_MODS[spec.score_mod_name](rng)
    # mask_mod and block layouts: a third stream, so that the draws above stay those of
    # earlier versions of this generator.
    ext = np.random.default_rng([seed, index, 2])
    spec.mask_mod_name, spec.mask_mod_fn = None, None
    if ext.random() < 0.2:
        spec.mask_mod_name = _pick(ext, sorted(MASK_MODS))
        clauses["mask_mod"], spec.mask_mod_fn = MASK_MODS[spec.mask_mod_name](ext)
    if ext.random() < 0.15:
        specials.append(_block_layout(ext, x, clauses, B, H, Nq, Nk, dynamic))
    spec.clauses, spec.inputs = clauses, x
    spec.description = {
        "seed": seed, "index": index, "dtype": dtype, "tile": tile,
        "B": B, "H": H, "Hkv": Hkv, "Nq": Nq, "Nk": Nk, "D": D, "Dv": Dv,
        "dynamic": sorted(dynamic), "pattern": pattern.to_mlir(),
        "operands": [n for n in ARGUMENTS[4:] if n in x],
        "score_mod": spec.score_mod_name, "mask_mod": spec.mask_mod_name,
        "lse": clauses["lse"],
        "scale": clauses.get("scale"), "specials": specials}
    return spec


# ----------------------------------------------------------------------------- running

def attn_opt_path():
    return str(pathlib.Path(attn_run_path()).with_name("attn-opt"))


def tile_ir(ir, tile):
    """`ir` with attn-tile applied (the given tile sizes)."""
    proc = subprocess.run([attn_opt_path(), "-", f"--attn-tile=q-tile={tile[0]} kv-tile={tile[1]}"],
                          input=ir, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"attn-opt --attn-tile failed:\n{proc.stderr}")
    return proc.stdout


def write_case(spec, directory):
    """Writes main.mlir, tiled.mlir (when the spec has tiles), the inputs (argN.npy) and
    spec.json into `directory`; returns the attn-run command lines per mode."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ir = spec.ir()
    (directory / "main.mlir").write_text(ir)
    fused_source = directory / "main.mlir"
    if spec.tile:
        fused_source = directory / "tiled.mlir"
        fused_source.write_text(tile_ir(ir, spec.tile))
    flags = []
    for n, array in enumerate(spec.input_list()):
        path = directory / f"arg{n}.npy"
        np.save(path, np.asarray(array, order="C"))
        flags.append(f"--input=#{n}={path}")
    (directory / "spec.json").write_text(json.dumps(spec.description, indent=1) + "\n")
    commands = {}
    for mode, source in (("fused", fused_source), ("reference", directory / "main.mlir")):
        commands[mode] = [attn_run_path(), str(source), f"--mode={mode}",
                          f"--output={directory / ('out-' + mode)}", *flags]
    return commands


def compare(out, exp, dtype, mode, name):
    """A mismatch message, or None when `out` agrees with the float64 `exp`."""
    tol = TOLERANCE[(dtype if name == "o" else "f32", mode)]
    if name == "lse":
        tol = max(tol, TOLERANCE[(dtype, mode)])
        out = np.asarray(out, dtype=np.float64)
        if out.shape != exp.shape:
            return f"lse shape {out.shape} != {exp.shape}"
        bad = ~((np.isneginf(out) == np.isneginf(exp)) & (np.isnan(out) == np.isnan(exp)))
        finite = np.isfinite(exp) & np.isfinite(out)
        with np.errstate(invalid="ignore"):
            bad |= np.isposinf(out) != np.isposinf(exp)
            bad[finite] |= np.abs(out[finite] - exp[finite]) > tol * (1 + np.abs(exp[finite]))
        if bad.any():
            where = tuple(int(a[0]) for a in np.nonzero(bad))
            return (f"lse differs at {int(bad.sum())} of {bad.size} rows, first {list(where)}: "
                    f"{out[where]} vs {exp[where]}")
        return None
    out = np.asarray(out, dtype=np.float64)
    if out.shape != exp.shape:
        return f"o shape {out.shape} != {exp.shape}"
    err = ref.rel_error(out, exp)
    if err <= tol:
        return None
    nan_out, nan_exp = np.isnan(out), np.isnan(exp)
    detail = ""
    if (nan_out != nan_exp).any():
        detail = (f"; NaN in {int(nan_out.sum())} entries, expected {int(nan_exp.sum())}")
    rows = np.nonzero(~np.isclose(out, exp, rtol=10 * tol, atol=10 * tol, equal_nan=True)
                      .all(axis=-1))
    first = tuple(int(a[0]) for a in rows) if rows[0].size else ()
    return (f"o relative error {err:.3g} > {tol:g}{detail}; {rows[0].size} rows differ, "
            f"first [b, h, i] = {list(first)}")


def check(spec, modes=("fused", "reference"), keep=None):
    """Runs `spec` in each mode and compares it with the float64 reference. Returns
    (failures: list of (mode, message), commands). With `keep`, the case is written there and
    left; otherwise a temporary directory is used."""
    expected = spec.reference()
    names = ["o", "lse"][:len(expected)]
    failures = []
    with tempfile.TemporaryDirectory(prefix="difftest-") as tmp:
        directory = pathlib.Path(keep or tmp)
        commands = write_case(spec, directory)
        for mode in modes:
            proc = subprocess.run(commands[mode], capture_output=True, text=True)
            if proc.returncode != 0:
                failures.append((mode, f"attn-run exit {proc.returncode}: "
                                       + proc.stderr.strip()[-2000:]))
                continue
            for r, (name, exp) in enumerate(zip(names, expected)):
                out = np.load(directory / f"out-{mode}" / f"result{r}.npy")
                message = compare(out, exp, spec.dtype, mode, name)
                if message:
                    failures.append((mode, message))
    return failures, commands


#: The ops besides sdpa that `--ops` draws, and the module of their generator.
OTHER_OPS = V.OPS + difftest_lsh.OPS


def generate_op(ops, seed, index):
    """Spec `index` of the run over `ops` (a tuple of op names, "sdpa" for `generate`)."""
    op = ops[index % len(ops)]
    if op == "sdpa":
        return generate(seed, index)
    if op in difftest_lsh.OPS:
        return difftest_lsh.generate(seed, index, op)
    return V.generate(op, seed, index)


def repro_line(seed, index, ops=("sdpa",)):
    ops = (ops,) if isinstance(ops, str) else tuple(ops)
    extra = "" if ops == ("sdpa",) else f" --ops {','.join(ops)}"
    return f"scripts/difftest.sh --seed {seed} --index {index}{extra}"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Random attn.sdpa specs: attn-run --mode=fused (and reference) against "
                    "the float64 reference.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, help="run specs 0 .. COUNT-1 (or --start ..)")
    parser.add_argument("--seconds", type=float, help="run specs until this much time passed")
    parser.add_argument("--start", type=int, default=0, help="first spec index")
    parser.add_argument("--index", type=int, help="run (and keep) this one spec only")
    parser.add_argument("--modes", default="fused,reference",
                        help="comma-separated attn-run modes to compare (default both)")
    parser.add_argument("--failures", default="difftest-failures",
                        help="directory that receives every failing case (default "
                             "./difftest-failures)")
    parser.add_argument("--verbose", action="store_true", help="print every spec")
    parser.add_argument("--ops", "--op", dest="ops", default="sdpa",
                        help="comma-separated ops to draw specs of: sdpa (default), "
                             f"{', '.join(OTHER_OPS)}, or all")
    args = parser.parse_args(argv)
    ops = (("sdpa",) + OTHER_OPS if args.ops == "all"
           else tuple(o for o in args.ops.split(",") if o))
    for op in ops:
        if op != "sdpa" and op not in OTHER_OPS:
            parser.error(f"--ops: unknown op '{op}' (sdpa, {', '.join(OTHER_OPS)} or all)")
    modes = tuple(m for m in args.modes.split(",") if m)
    failures_dir = pathlib.Path(args.failures)

    if args.index is not None:
        spec = generate_op(ops, args.seed, args.index)
        keep = failures_dir / f"seed{args.seed}-{args.index}"
        failures, commands = check(spec, modes, keep=keep)
        print(json.dumps(spec.description))
        for mode in modes:
            print(f"{mode}: {shlex.join(commands[mode])}")
        for mode, message in failures:
            print(f"FAIL {mode}: {message}")
        print(f"case files in {keep}")
        return 1 if failures else 0

    if args.count is None and args.seconds is None:
        args.count = 50
    start, index, failed = time.monotonic(), args.start, 0
    while True:
        if args.count is not None and index >= args.start + args.count:
            break
        if args.seconds is not None and time.monotonic() - start >= args.seconds:
            break
        spec = generate_op(ops, args.seed, index)
        keep = failures_dir / f"seed{args.seed}-{index}"
        try:
            failures, _ = check(spec, modes, keep=None)
        except Exception as e:  # noqa: BLE001 (a crash of the tester is a failure too)
            failures = [("tester", f"{type(e).__name__}: {e}")]
        if failures:
            failed += 1
            check(spec, modes, keep=keep)
            (keep / "failures.txt").write_text(
                "".join(f"{mode}: {message}\n" for mode, message in failures))
            summary = "; ".join(f"{m}: {msg.splitlines()[0][:160]}" for m, msg in failures)
            label = spec.description.get("pattern", ops[index % len(ops)])
            print(f"FAIL seed={args.seed} index={index} [{label[:80]}] "
                  f"{summary} | repro: {repro_line(args.seed, index, ops)}", flush=True)
        elif args.verbose:
            print(f"ok   seed={args.seed} index={index} {json.dumps(spec.description)}",
                  flush=True)
        index += 1
        if (index - args.start) % 100 == 0:
            print(f"difftest: {index - args.start} specs, {failed} failed, "
                  f"{time.monotonic() - start:.0f} s", flush=True)
    ran = index - args.start
    print(f"difftest: seed {args.seed}, specs {args.start}..{index - 1}: {ran} run, "
          f"{failed} failed, {time.monotonic() - start:.0f} s; failing cases in {failures_dir}",
          flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
