#!/usr/bin/env python3
"""Launches each given core kernel (a cubin of build_core.sh) once on the same bf16 inputs
[B, H, N, D], after one unprofiled warm-up each, for a profiler to read: run it under Nsight
Compute with a kernel filter, e.g.

  ncu --clock-control none -k regex:sdpa_core --launch-skip-before-match 0 \\
      --section SpeedOfLight --section WarpStateStats \\
      python3 bench/gpu/ncu_core.py base/dense_bf16_d128_kv64_q128.cubin ws2/dense_...cubin

(every launch is profiled; the warm-ups are the odd ones). docs/GPU.md, "Warp specialisation".
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cubins", nargs="+")
    ap.add_argument("--n", type=int, default=16384)
    ap.add_argument("--b", type=int, default=2)
    ap.add_argument("--h", type=int, default=16)
    args = ap.parse_args()
    import torch
    from check_core import DTYPES, Kernel, Launch
    torch.zeros(1, device="cuda")  # the context that the driver-API loads use
    for path in args.cubins:
        kernel = Kernel(path)
        dtype, code, _ = DTYPES[kernel.elt]
        gen = torch.Generator(device="cuda").manual_seed(0)
        q, k, v = (torch.randn(args.b, args.h, args.n, kernel.d, device="cuda", dtype=dtype,
                               generator=gen) for _ in range(3))
        out = torch.empty_like(q)
        launch = Launch(kernel, q, k, v, out, None, code)
        launch()
        launch()
        torch.cuda.synchronize()
        print(f"{path}: {kernel.threads} threads, {kernel.smem} bytes of shared memory",
              flush=True)


if __name__ == "__main__":
    main()
