"""The algebra of attn-gpu-kernelized-as-sdpa, checked on the CPU: the rewritten IR (two attn.sdpa
ops, no kernelized op left) runs through attn-run's CPU pipeline and is compared with the float64
reference of attn.kernelized (python/attn_mlir/reference.py) within the numerics contract's
bound (docs/Semantics.md §10). Cases: bf16 and f16; grouped-query heads; a projection of one
head; key runs (kv-splits 2 and 4, the log-sum-exp merge); Nq != Nk; no key at all (o = 0);
dynamic B, N and m together (the reshapes keep at most one dynamic size per expanded group).
Causal FAVOR+ (the chunked scan of GpuKernelizedCausal.cpp, with its matrix products as the generics
that the mma.sync kernels compute, causal-mma=generic, or the scalar scan, causal-mma=off, and
where m is not a multiple of 16: linalg.generic ops, no sdpa; the exclusive prefix as the
sequential scan, or causal-prefix=levels): lengths across the chunk (64 rows) and group (16
chunks = 1024 rows) boundaries of the two-level prefix, 94 chunks of 16 rows,
bf16 and f16, grouped-query heads, one projection head, D 128, dynamic B and N, keys of growing
norm (the running key stabiliser changes along the sequence).

Usage: python3 kernelized_as_sdpa_numerics.py BUILD_DIR
"""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [os.path.join(REPO, "python"), os.path.join(REPO, "python", "tests")]

from attn_mlir import reference as ref  # noqa: E402
from attn_mlir.run import run  # noqa: E402
from helpers import TOL, as_dtype  # noqa: E402
from test_run_kernelized import kernelized_ir  # noqa: E402

OPT = None  # attn-opt of the build under test
# The causal scan's products: as generics (what the mma.sync kernels compute), or "off".
MMA = os.environ.get("CAUSAL_MMA", "causal-mma=generic")

# (name, dtype, B, H, Hkv, Nq, Nk, D, m, projection heads, kv-splits[, dynamic dims of q, k,
# v and outs, dynamic m])
CASES = [
    ("bf16", "bf16", 1, 2, 2, 70, 130, 64, 32, 2, 1),
    ("f16 gqa", "f16", 2, 4, 2, 33, 64, 64, 16, 4, 1),
    ("bf16 shared projection", "bf16", 1, 2, 1, 17, 40, 128, 8, 1, 1),
    ("bf16 gqa kv-splits 2", "bf16", 1, 4, 2, 50, 96, 64, 24, 4, 2),
    ("f16 gqa kv-splits 4", "f16", 1, 4, 2, 20, 128, 64, 16, 1, 4),
    ("bf16 no keys", "bf16", 1, 2, 2, 5, 0, 64, 8, 2, 1),
    ("bf16 gqa dynamic B N m", "bf16", 2, 4, 2, 9, 40, 64, 16, 4, 1, (0, 2), True),
    ("f16 gqa dynamic B m kv-splits 2", "f16", 2, 4, 2, 9, 64, 64, 12, 1, 2, (0,), True),
]

# (name, dtype, B, H, Hkv, N, D, m, projection heads, dynamic dims, keys of growing norm[,
# pass options])
CAUSAL_CASES = [
    ("causal bf16 N 1", "bf16", 1, 2, 2, 1, 64, 32, 2, (), False),
    ("causal f16 gqa N 65", "f16", 2, 4, 2, 65, 64, 16, 4, (), False),
    ("causal bf16 one projection head D 128 N 130", "bf16", 1, 2, 1, 130, 128, 8, 1, (), False),
    ("causal f16 N 2100 (3 groups)", "f16", 1, 1, 1, 2100, 64, 16, 1, (), False),
    ("causal bf16 gqa dynamic B N 1100", "bf16", 2, 4, 2, 1100, 64, 24, 4, (0, 2), False),
    ("causal f16 keys of growing norm N 1500", "f16", 1, 2, 2, 1500, 64, 16, 2, (2,), True),
    ("causal bf16 chunk 16 group 4 N 300", "bf16", 1, 2, 2, 300, 64, 16, 2, (2,), False,
     "causal-chunk=16 causal-group=4"),
    ("causal f16 gqa one projection head D 128 m 64 N 200", "f16", 1, 4, 2, 200, 128, 64, 1,
     (), False),
    ("causal bf16 D 128 m 32 N 70", "bf16", 1, 2, 2, 70, 128, 32, 2, (), False),
    ("causal bf16 one projection head D 128 m 64 N 127", "bf16", 2, 2, 2, 127, 128, 64, 1, (2,),
     False),
    # m 128: q's row maxima come from two column tiles of its feature product (their maximum
    # in the PQ step; exact, so this case is the plumbing, mma_gemm_emulate.py the tiles).
    ("causal f16 m 128 N 300 (two tiles of row maxima)", "f16", 1, 2, 2, 300, 64, 128, 2, (2,),
     False),
    ("causal f16 scalar scan N 1100", "f16", 1, 2, 2, 1100, 64, 16, 2, (2,), True,
     "causal-mma=off"),
    # The prefix's two forms on keys of growing norm: the sequential scan over 94 chunks (its
    # rescale factors multiplied along the way), and the two levels of groups.
    ("causal bf16 keys of growing norm chunk 16 N 1500 (94 chunks)", "bf16", 1, 2, 2, 1500, 64,
     16, 2, (), True, "causal-chunk=16"),
    ("causal f16 keys of growing norm N 2100 two-level prefix", "f16", 1, 2, 2, 2100, 64, 16, 2,
     (2,), True, "causal-prefix=levels"),
]


def check(opt_args, spec, inputs, expected, dtype, count_ok, what):
    """Rewrites `spec` with attn-opt OPT_ARGS, runs it on the CPU and compares it with the
    float64 `expected`; `count_ok(rewritten)` checks the rewritten IR's ops. Returns (ok, line)."""
    rewritten = subprocess.run([OPT] + opt_args, input=spec, capture_output=True, text=True,
                               check=True).stdout
    # attn-opt's output names the arguments by position.
    (out,) = run(rewritten, inputs)
    err = ref.rel_error(np.asarray(out, np.float64), expected)
    ok = count_ok(rewritten) and np.isfinite(out).all() and err <= TOL[dtype]
    return ok, (f"{what(rewritten)}, rel error {err:.2e} (bound {TOL[dtype]:.0e}) "
                f"{'ok' if ok else 'FAIL'}")


def main():
    global OPT
    build = sys.argv[1]
    OPT = os.path.join(build, "bin", "attn-opt")
    os.environ.setdefault("ATTN_RUN", os.path.join(build, "bin", "attn-run"))
    rng = np.random.default_rng(11)
    failed = 0
    for name, dtype, b, h, hkv, nq, nk, d, m, wh, splits, *dyn in CASES:
        dynamic, dynamic_m = dyn or ((), False)
        q = as_dtype(rng.standard_normal((b, h, nq, d)), dtype)
        k = as_dtype(rng.standard_normal((b, hkv, nk, d)), dtype)
        v = as_dtype(rng.standard_normal((b, hkv, nk, d)), dtype)
        w = as_dtype(rng.standard_normal((wh, m, d)), dtype)
        spec = kernelized_ir(q, k, v, w, dtype, "favor_plus", False, dynamic)
        if dynamic_m:
            spec = spec.replace(f"tensor<{wh}x{m}x{d}x{dtype}>", f"tensor<{wh}x?x{d}x{dtype}>")
        inputs = [q, k, v, w, np.full(q.shape, np.nan, q.dtype)]
        expected = ref.kernelized(q, k, v, "favor_plus", projection=w)
        ok, line = check(
            [f"--attn-gpu-kernelized-as-sdpa=kv-splits={splits}"], spec, inputs, expected, dtype,
            lambda r: r.count("attn.sdpa ") == 2 and "attn.kernelized" not in r,
            lambda r: f"{r.count('attn.sdpa ')} sdpa, {r.count('attn.kernelized')} kernelized")
        failed += not ok
        print(f"{name}: {line}")
    for name, dtype, b, h, hkv, n, d, m, wh, dynamic, growing, *options in CAUSAL_CASES:
        q = as_dtype(rng.standard_normal((b, h, n, d)), dtype)
        k = rng.standard_normal((b, hkv, n, d))
        if growing:
            k *= np.linspace(0.5, 3.0, n)[None, None, :, None]
        k = as_dtype(k, dtype)
        v = as_dtype(rng.standard_normal((b, hkv, n, d)), dtype)
        w = as_dtype(rng.standard_normal((wh, m, d)), dtype)
        spec = kernelized_ir(q, k, v, w, dtype, "favor_plus", True, dynamic)
        inputs = [q, k, v, w, np.full(q.shape, np.nan, q.dtype)]
        expected = ref.kernelized(q, k, v, "favor_plus", projection=w, causal=True)
        ok, line = check(
            [f"--attn-gpu-kernelized-as-sdpa={' '.join(list(options) + ([] if any('causal-mma' in o for o in options) else [MMA]))}"], spec, inputs, expected, dtype,
            lambda r: "linalg.generic" in r and "attn.kernelized" not in r and "attn.sdpa" not in r,
            lambda r: f"{r.count('linalg.generic')} generics, {r.count('attn.kernelized')} "
                      f"kernelized")
        failed += not ok
        print(f"{name}: {line}")
    print("FAILED" if failed else "all ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
