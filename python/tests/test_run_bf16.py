"""bf16 and f16 attn.sdpa through the fused pipeline (`attn-run --mode=fused`) against the
float64 reference within the bounds of docs/Semantics.md §10 (bf16 1e-2, f16 2e-3), with each
`--bf16-isa`: `none` (bf16 and f16 widened to f32 in the micro-kernels, any host),
`avx512bf16` (vdpbf16ps dot products on pairs) and `amx` (AMX tiles), both with f32 accumulation
and P rounded to bf16 for the value product (docs/Pipelines.md). The avx512bf16 and amx cases
need a host with avx512_bf16 / amx_bf16: elsewhere they are skipped here, and
test/Tools/attn-run/bf16-dot.test and bf16-amx.test, which run them through lit, say
UNSUPPORTED.

Patterns with Full and Partial tiles, odd lengths (Nq != Nk, tails of every tile), GQA, odd
head and value dims, and tiles far smaller than the sequences."""

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.builder import sdpa_func
from attn_mlir.patterns import Causal, Dense, Dilated, Global, Union, Window
from attn_mlir.run import run
from helpers import assert_close, round_bf16
from test_run_fused import ARGUMENTS, tile_ir


def host_flags():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return set(cpuinfo.read().split())
    except OSError:
        return set()


def host_has_avx512_bf16():
    return {"avx512f", "avx512_bf16"} <= host_flags()


def host_has_amx_bf16():
    return host_has_avx512_bf16() and {"amx_tile", "amx_bf16"} <= host_flags()


ISAS = ["none",
        pytest.param("avx512bf16", marks=pytest.mark.skipif(
            not host_has_avx512_bf16(), reason="the host has no avx512_bf16 (lit: UNSUPPORTED)")),
        pytest.param("amx", marks=pytest.mark.skipif(
            not host_has_amx_bf16(), reason="the host has no amx_bf16 (lit: UNSUPPORTED)"))]

# (pattern, (B, H, Hkv, Nq, Nk, D, Dv, tile)): Full and Partial tiles, odd lengths, GQA, odd
# head / value dims (an odd head dim keeps the f32 kernel for q k^T), small tiles.
CASES = [
    (Dense(), (1, 2, 2, 37, 53, 64, 64, None)),
    (Causal(), (1, 2, 2, 130, 131, 64, 64, None)),
    (Window(left=5, right=3), (2, 4, 2, 29, 41, 16, 8, (8, 8))),
    (Dilated(left=4, right=2, dilation=2), (1, 6, 3, 33, 31, 8, 6, (7, 3))),
    (Union([Window(left=4, right=4), Global(first=3)]), (1, 2, 1, 40, 45, 32, 17, (16, 16))),
    (Causal(), (1, 2, 1, 1, 19, 7, 5, (4, 5))),
    (Window(left=40, right=40), (1, 2, 1, 128, 192, 128, 32, (64, 64))),
    # K and V packed once per (batch, head) (avx512bf16 and amx): GQA, Full and Partial tiles,
    # a last key tile of 5 (odd) keys, a value dim that is no whole column block; a head
    # dim of 100 (column blocks of 96 in the dot kernel, so padding past the keys).
    (Window(left=50, right=20), (1, 4, 2, 150, 197, 64, 40, (32, 16))),
    (Dense(), (1, 2, 1, 70, 133, 100, 100, (32, 32))),
]


def low_precision(rng, shape, mlir):
    x = rng.standard_normal(shape).astype(np.float32)
    return round_bf16(x) if mlir == "bf16" else x.astype(np.float16)


def run_case(mlir, isa, pattern, shape, lse=False, seed=0):
    B, H, Hkv, Nq, Nk, D, Dv, tile = shape
    rng = np.random.default_rng(seed)
    q = low_precision(rng, (B, H, Nq, D), mlir)
    k = low_precision(rng, (B, Hkv, Nk, D), mlir)
    v = low_precision(rng, (B, Hkv, Nk, Dv), mlir)
    ir = sdpa_func((list(q.shape), mlir), (list(k.shape), mlir), (list(v.shape), mlir),
                   pattern=pattern, lse=lse)
    if tile is not None:
        ir = tile_ir(ir, tile)
    o = np.zeros((B, H, Nq, Dv), dtype=v.dtype)
    inputs = {"q": q, "k": k, "v": v, "o": o}
    results = run(ir, [inputs[name] for name in ARGUMENTS if name in inputs], mode="fused",
                  extra_args=(f"--bf16-isa={isa}",))
    expected = ref.sdpa(q.astype(np.float64), k.astype(np.float64), v.astype(np.float64),
                        pattern=pattern, return_lse=lse)
    return results, expected


def case_id(case):
    return case[0].to_mlir()[:30] + "-" + "x".join(map(str, case[1][:7]))


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bf16_fused(case, isa):
    (out,), expected = run_case("bf16", isa, *case)
    assert_close(out.astype(np.float64), expected, ref.TOLERANCE["bf16"])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_f16_fused(case):
    """f16 is widened to f32 in the micro-kernels whatever --bf16-isa says: this host class has
    no f16 dot product that accumulates in f32 (AVX512-FP16 accumulates in f16)."""
    (out,), expected = run_case("f16", "avx512bf16" if host_has_avx512_bf16() else "none", *case)
    assert_close(out.astype(np.float64), expected, ref.TOLERANCE["f16"])


@pytest.mark.parametrize("isa", ISAS)
def test_bf16_lse(isa):
    (out, lse), (expected, expected_lse) = run_case("bf16", isa, Causal(),
                                                    (1, 4, 2, 45, 45, 32, 16, (8, 16)),
                                                    lse=True, seed=3)
    tol = ref.TOLERANCE["bf16"]
    assert_close(out.astype(np.float64), expected, tol)
    np.testing.assert_allclose(lse, expected_lse, rtol=tol, atol=tol)


@pytest.mark.parametrize("isa", ISAS)
def test_bf16_large_scores(isa):
    """Scores up to about |1e3| (docs/Semantics.md §10 asks for no overflow up to 1e4): the
    running maximum keeps exp2 finite, and the rounding of the scaled queries to bf16 stays
    within the bound relative to the output."""
    B, H, N, D = 1, 2, 70, 64
    rng = np.random.default_rng(5)
    q = round_bf16(rng.standard_normal((B, H, N, D)).astype(np.float32) * 16)
    k = round_bf16(rng.standard_normal((B, H, N, D)).astype(np.float32) * 16)
    v = round_bf16(rng.standard_normal((B, H, N, D)).astype(np.float32))
    ir = sdpa_func(([B, H, N, D], "bf16"), ([B, H, N, D], "bf16"), ([B, H, N, D], "bf16"))
    out, = run(ir, [q, k, v, np.zeros_like(v)], mode="fused", extra_args=(f"--bf16-isa={isa}",))
    assert np.isfinite(out).all()
    assert_close(out.astype(np.float64),
                 ref.sdpa(q.astype(np.float64), k.astype(np.float64), v.astype(np.float64)),
                 ref.TOLERANCE["bf16"])
