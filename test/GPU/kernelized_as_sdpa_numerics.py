"""The algebra of attn-gpu-kernelized-as-sdpa, checked on the CPU: the rewritten IR (two attn.sdpa
ops, no kernelized op left) runs through attn-run's CPU pipeline and is compared with the float64
reference of attn.kernelized (python/attn_mlir/reference.py) within the numerics contract's
bound (docs/Semantics.md §10). Cases: bf16 and f16; grouped-query heads; a projection of one
head; key runs (kv-splits 2 and 4, the log-sum-exp merge); Nq != Nk; no key at all (o = 0);
dynamic B, N and m together (the reshapes keep at most one dynamic size per expanded group).

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


def main():
    build = sys.argv[1]
    opt = os.path.join(build, "bin", "attn-opt")
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
        rewritten = subprocess.run(
            [opt, f"--attn-gpu-kernelized-as-sdpa=kv-splits={splits}"], input=spec,
            capture_output=True, text=True, check=True).stdout
        sdpas = rewritten.count("attn.sdpa ")
        left = rewritten.count("attn.kernelized")
        # attn-opt's output names the arguments by position.
        (out,) = run(rewritten, [q, k, v, w, np.full(q.shape, np.nan, q.dtype)])
        expected = ref.kernelized(q, k, v, "favor_plus", projection=w)
        err = ref.rel_error(np.asarray(out, np.float64), expected)
        ok = sdpas == 2 and left == 0 and np.isfinite(out).all() and err <= TOL[dtype]
        failed += not ok
        print(f"{name}: {sdpas} sdpa, {left} kernelized, rel error {err:.2e} "
              f"(bound {TOL[dtype]:.0e}) {'ok' if ok else 'FAIL'}")
    print("FAILED" if failed else "all ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
