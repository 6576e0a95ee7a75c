#!/usr/bin/env python3
"""CPU time per call (time.process_time, one thread) of torch eager's attn.lowrank at r=256,
N=65536, B=1, H=8, D=64 (the row of variants.py), split into its parts: the projections
`E @ k, E @ v` and the SDPA over the r projected keys. On the shared, loaded machine a wall
time is mostly the other processes' share; the process's CPU time is what a quiet run would
come near. Ours for comparison: perf stat -e task-clock of attn-run with --bench=11 minus
--bench=1, over 10 (docs/Pipelines.md, "Session 10, lowrank").

    bench/.venv/bin/python bench/cpu/lowrank_cpu_time.py [--runs 5]
"""

import argparse
import time

import numpy as np
import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--n", type=int, default=65536)
    args = parser.parse_args()
    torch.set_num_threads(1)
    n, r = args.n, 256
    rng = np.random.default_rng(2026)
    q, k, v = (torch.from_numpy(rng.standard_normal((1, 8, n, 64), dtype=np.float32))
               for _ in range(3))
    e = torch.from_numpy((rng.standard_normal((1, r, n), dtype=np.float32) / np.sqrt(n))
                         .astype(np.float32))
    ek, fv = e @ k, e @ v
    parts = {
        "projections": lambda: (e @ k, e @ v),
        "sdpa": lambda: torch.nn.functional.scaled_dot_product_attention(q, ek, fv),
        "eager": lambda: torch.nn.functional.scaled_dot_product_attention(q, e @ k, e @ v),
    }
    for name, fn in parts.items():
        fn()
        cpu, wall = [], []
        for _ in range(args.runs):
            c0, w0 = time.process_time(), time.perf_counter()
            fn()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        with open("/proc/loadavg") as f:
            load = f.read().split()[0]
        print(f"torch {name}: CPU median {1e3 * np.median(cpu):.1f} ms, "
              f"wall median {1e3 * np.median(wall):.1f} ms (load {load})")


if __name__ == "__main__":
    main()
