"""Runs the artifacts of make_cases.py on a GPU machine (numpy and the CUDA driver only): every
case of cases.py at every length from its one dynamic-length artifact, on fresh random inputs
drawn here, against the float64 reference (python/attn_mlir/reference.py) within the numerics
contract (docs/Semantics.md §10). Outputs are poisoned with NaN before each run: the outs
operand on the host, and every device allocation of the library (ATTN_CUDA_POISON=1). Prints
a table and writes it as JSON and text.

With --attn-run, each case runs as `attn-run --target=cuda` on its spec (ARTIFACTS/<case>/
<case>.mlir, from make_cases.py --specs-only) with .npy in and out, compiled in process on every
call: attn-run is $ATTN_RUN (bench/gpu/stage_attn_run.sh stages one for a machine without LLVM).

Usage: python3 check.py ARTIFACTS [OUT_PREFIX] [--seed N] [--only NAME,...] [--max-n N]
                        [--lengths N,...] [--attn-run] [--jobs J]

--jobs runs J cases at a time, each with its own generator (seeded from the seed and its index).
"""

import argparse
import concurrent.futures
import json
import os
import sys
import time

os.environ.setdefault("ATTN_CUDA_POISON", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import cases, tolerance  # noqa: E402
from attn_mlir import reference as ref  # noqa: E402
from attn_mlir.artifact import load  # noqa: E402
from attn_mlir.run import run  # noqa: E402


def attn_run_case(directory, name):
    """A callable like an artifact's: `attn-run --target=cuda` on the case's spec."""
    spec = os.path.join(directory, f"{name}.mlir")
    if not os.path.exists(spec):
        raise FileNotFoundError(spec)

    def call(**inputs):
        return tuple(run(spec, inputs, mode="fused", extra_args=["--target=cuda"]))
    return call


def check_case(art, name, dtype, make, lengths, rng):
    rows = []
    for n in lengths:
        row = {"case": name, "dtype": dtype, "n": n, "tol": tolerance(dtype)}
        try:
            inputs, expected = make(rng, n)
            expected = expected if isinstance(expected, tuple) else (expected,)
            start = time.perf_counter()
            outs = art(**inputs)
            row["call_ms"] = 1e3 * (time.perf_counter() - start)
            outs = [np.asarray(o, np.float64) for o in outs]
            row["nan"] = int(sum(np.isnan(o).sum() for o in outs))
            row["shape_ok"] = len(outs) == len(expected) and all(
                o.shape == e.shape for o, e in zip(outs, expected))
            # The largest error over the results (o, and lse where the spec returns it).
            err = max((ref.rel_error(o, e) if np.isfinite(o).all() else float("inf")
                       for o, e in zip(outs, expected)), default=float("inf"))
            row["rel_error"] = float(err)
            row["status"] = "ok" if row["shape_ok"] and err <= row["tol"] else "FAIL"
        except Exception as err:  # noqa: BLE001 - reported in the table
            row["status"] = f"error: {' '.join(str(err).split())[:200]}"
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("artifacts")
    parser.add_argument("prefix", nargs="?")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--only", default="")
    parser.add_argument("--max-n", type=int, default=None, help="skip longer lengths")
    parser.add_argument("--lengths", default="",
                        help="comma-separated lengths instead of each case's (0 allowed)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--attn-run", action="store_true",
                        help="run each spec with attn-run --target=cuda instead of its artifact")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    print(f"seed {seed}", flush=True)
    only = set(filter(None, args.only.split(",")))

    def one(index, name, dtype, make, lengths):
        rng = np.random.default_rng([seed, index]) if args.jobs > 1 else shared_rng
        directory = os.path.join(args.artifacts, name)
        if not args.attn_run and not os.path.exists(os.path.join(directory, "manifest.json")):
            return [{"case": name, "dtype": dtype, "n": None,
                     "status": "no artifact (did not compile)"}]
        try:
            art = attn_run_case(directory, name) if args.attn_run else load(directory)
        except Exception as err:  # noqa: BLE001 - reported in the table
            return [{"case": name, "dtype": dtype, "n": None, "status": f"load failed: {err}"}]
        if args.lengths:
            lengths = [int(n) for n in args.lengths.split(",")]
        lengths = [n for n in lengths if args.max_n is None or n <= args.max_n]
        return check_case(art, name, dtype, make, lengths, rng)

    shared_rng = np.random.default_rng(seed)
    todo = [(index, name, dtype, make, lengths)
            for index, (name, dtype, (_, make), lengths) in enumerate(cases())
            if not only or name in only]
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        rows = [row for rows in pool.map(lambda case: one(*case), todo) for row in rows]
    lines = [f"{'case':30} {'N':>5} {'rel error':>10} {'tol':>7} {'NaN':>6} {'call ms':>9}  status"]
    for r in rows:
        lines.append(f"{r['case']:30} {str(r.get('n')):>5} {r.get('rel_error', float('nan')):10.2e} "
                     f"{r.get('tol', float('nan')):7.0e} {str(r.get('nan', '-')):>6} "
                     f"{r.get('call_ms', float('nan')):9.2f}  {r['status']}")
    failed = sum(r["status"] != "ok" for r in rows)
    summary = f"{len(rows) - failed}/{len(rows)} ok (seed {seed})"
    table = "\n".join(lines)
    print(table + "\n" + summary)
    if args.prefix:
        with open(args.prefix + ".json", "w") as f:
            json.dump({"seed": seed, "rows": rows}, f, indent=1)
        with open(args.prefix + ".txt", "w") as f:
            f.write(table + "\n" + summary + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
