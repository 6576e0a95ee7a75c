#!/usr/bin/env python3
"""Ours against ours built another way, taken in turn launch by launch (no peers): the bf16
kernels of `BENCH_ONLY=1 bench/gpu/build_core.sh` (q-tile 128, no lse) in DIR_A and DIR_B
(e.g. CORE_OPTS=persistent=264, launched with check_core.py's persistent grid), B=2 H=16,
per (N, D, pattern): the median over --reps rounds of one CUDA-event-timed launch of each,
after 3 warm-ups; and the relative difference of the two outputs (NaN-poisoned first).
  on the GPU machine: python3 bench/gpu/persist_ab.py DIR_A DIR_B [--n ...] [--json OUT]
"""
import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--n", type=int, nargs="+", default=[16384, 4096, 1024])
    ap.add_argument("--d", type=int, nargs="+", default=[128, 64])
    ap.add_argument("--patterns", nargs="+", default=["dense", "causal"])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--json")
    args = ap.parse_args()
    import torch
    from check_core import Launch, bench_kernels
    torch.zeros(1, device="cuda")

    ka, kb = bench_kernels(args.a), bench_kernels(args.b)
    rows = []
    for n in args.n:
        for d in args.d:
            for pat in args.patterns:
                if (pat, d) not in ka or (pat, d) not in kb:
                    continue
                torch.manual_seed(n + d)
                q, k, v = (torch.randn(2, 16, n, d, dtype=torch.bfloat16, device="cuda")
                           for _ in range(3))
                outs = [torch.full_like(q, float("nan")) for _ in range(2)]
                launches = [Launch(kern[(pat, d)], q, k, v, o, None, 9)
                            for kern, o in zip((ka, kb), outs)]
                for _ in range(3):
                    for launch in launches:
                        launch()
                torch.cuda.synchronize()
                times = [[], []]
                for _ in range(args.reps):
                    for i, launch in enumerate(launches):
                        e0 = torch.cuda.Event(enable_timing=True)
                        e1 = torch.cuda.Event(enable_timing=True)
                        e0.record()
                        launch()
                        e1.record()
                        e1.synchronize()
                        times[i].append(e0.elapsed_time(e1))
                ma, mb = (statistics.median(t) for t in times)
                diff = float((outs[1].float() - outs[0].float()).norm() / outs[0].float().norm())
                row = {"N": n, "D": d, "pattern": pat, "a_ms": ma, "b_ms": mb, "b_over_a": mb / ma,
                       "rel_diff": diff, "nan_b": int(outs[1].isnan().sum())}
                rows.append(row)
                print(f"{n:6d} {d:4d} {pat:7s} A {ma:.4f} ms  B {mb:.4f} ms  B/A {mb / ma:.3f}"
                      f"  rel diff {diff:.1e}  nan {row['nan_b']}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"a": args.a, "b": args.b, "reps": args.reps, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
