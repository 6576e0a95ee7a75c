"""Cost of a call of attn_mlir.compile's function against attn_mlir.run.run (docs/Python.md,
"Caching and cost"): causal GQA [1, 8, N, 64] f32, median of 20 calls.

    OMP_NUM_THREADS=1 PYTHONPATH=python /usr/bin/python3 bench/cpu/python_call.py
"""
import sys
import time

import numpy as np

import attn_mlir as am
from attn_mlir.builder import sdpa_func
from attn_mlir.run import run


def main():
    q, k, v = (am.tensor(n, (1, 8, None, 64)) for n in "qkv")
    start = time.perf_counter()
    f = am.compile(am.sdpa(q, k, v, pattern=am.causal()))
    print(f"compile: {time.perf_counter() - start:.3f} s (compiled now: {f.compiled_now})")
    rng = np.random.default_rng(0)
    for n in (16, 512):
        Q, K, V = (rng.standard_normal((1, 8, n, 64)).astype(np.float32) for _ in range(3))
        f(Q, K, V)
        times = []
        for _ in range(20):
            start = time.perf_counter()
            f(Q, K, V)
            times.append(time.perf_counter() - start)
        ir = sdpa_func(*[((1, 8, n, 64), "f32")] * 3, pattern=am.causal())
        start = time.perf_counter()
        run(ir, {"q": Q, "k": K, "v": V, "o": np.zeros_like(Q)})
        print(f"N={n}: compiled call median {np.median(times) * 1e3:.3f} ms; "
              f"attn_mlir.run.run {time.perf_counter() - start:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
