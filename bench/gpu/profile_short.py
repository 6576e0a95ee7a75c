#!/usr/bin/env python3
"""A few calls of a device-ABI artifact of the Hopper sdpa core (call_overhead.py's
core_b2h16d128_dev: causal bf16 [2, 16, N, 128]) and of torch SDPA's cuDNN backend at the
same shape, for a profiler (ncu) to catch: per --n length, --calls calls of each, ours first.
usage (on the GPU machine, torch needed):
  ncu --clock-control none --set full -k regex:'sdpa_core|cudnn|fmha|flash' \
      python3 bench/gpu/profile_short.py ARTIFACT --n 1024 4096
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("artifact")
    parser.add_argument("--n", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--calls", type=int, default=2)
    args = parser.parse_args()
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from attn_mlir.artifact import load
    entry = load(args.artifact).entry("main")
    b, h, _, d = entry.args[0]["shape"]
    torch.manual_seed(7)
    for n in args.n:
        q, k, v = (torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16)
                   for _ in range(3))
        o = torch.empty_like(q)
        for _ in range(args.calls):
            entry(q, k, v, o)
        torch.cuda.synchronize()
        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            for _ in range(args.calls):
                F.scaled_dot_product_attention(q, k, v, is_causal=True)
        torch.cuda.synchronize()
        print("profiled N =", n, flush=True)


if __name__ == "__main__":
    main()
