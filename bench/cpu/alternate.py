#!/usr/bin/env python3
"""A/B timing of attn-run builds on a loaded machine: the builds run in turn (the order
reversed every other round), each call with a numpy copy of 256 MiB just before and after it,
so that every time is set against the copy bandwidth of its own moment (as variants.py sets
its rows against the copy of its run). Prints each call and, per build, the median time and
the median percentage of the copy bandwidth that `--bytes` in that time would be.

    /usr/bin/python3 bench/cpu/alternate.py SPEC.mlir old=/work/main/build/bin/attn-run \\
        new=build/bin/attn-run --rounds 6 --bytes 268435456
"""

import argparse
import os
import re
import statistics
import subprocess
import time

import numpy as np


def copy_gbs(a, b, runs=3):
    """GB/s of a numpy copy of `a` into `b` (read + write counted), median of `runs`."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        np.copyto(b, a)
        times.append(time.perf_counter() - t)
    return 2.0 * a.nbytes / statistics.median(times) / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec")
    parser.add_argument("builds", nargs="+", help="LABEL=path/to/attn-run")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--bench", type=int, default=5, help="attn-run --bench=N")
    parser.add_argument("--bytes", type=float, required=True,
                        help="bytes a call moves (inputs + results), for the percentage")
    args = parser.parse_args()
    builds = [b.split("=", 1) for b in args.builds]
    a = np.ones(64 << 20, dtype=np.float32)
    b = np.empty_like(a)
    ms = {label: [] for label, _ in builds}
    pct = {label: [] for label, _ in builds}
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for r in range(args.rounds):
        for label, path in (builds if r % 2 == 0 else builds[::-1]):
            before = copy_gbs(a, b)
            out = subprocess.run([path, args.spec, "--random-inputs", f"--bench={args.bench}",
                                  "--threads=1"], capture_output=True, text=True, env=env,
                                 check=True).stdout
            t = float(re.search(r"median ([0-9.]+) ms", out).group(1))
            copy = (before + copy_gbs(a, b)) / 2
            ms[label].append(t)
            pct[label].append(100 * args.bytes / (t * 1e-3) / 1e9 / copy)
            print(f"round {r} {label}: {t:.1f} ms, copy {copy:.1f} GB/s, {pct[label][-1]:.1f}%",
                  flush=True)
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    for label, _ in builds:
        print(f"{label}: median {statistics.median(ms[label]):.1f} ms, "
              f"median {statistics.median(pct[label]):.1f}% of the copy")


if __name__ == "__main__":
    main()
