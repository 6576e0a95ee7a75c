"""Runs the cases of make_cases.py on a GPU machine (numpy and the CUDA driver only): every
artifact at every length, outputs poisoned with NaN, against the float64 reference stored with
the inputs; prints a table and writes it as JSON and text.

Usage: python3 check.py DIR [OUT_PREFIX]
"""

import glob
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attn_mlir.artifact import load  # noqa: E402


def rel_error(out, ref):
    out = np.asarray(out, np.float64)
    ref = np.asarray(ref, np.float64)
    if not np.isfinite(out).all():
        return float("inf")
    norm = np.linalg.norm(ref.ravel())
    return float(np.linalg.norm((out - ref).ravel()) / (norm if norm else 1.0))


def main():
    root = sys.argv[1]
    prefix = sys.argv[2] if len(sys.argv) > 2 else None
    rows = []
    for directory in sorted(d for d in glob.glob(os.path.join(root, "*"))
                            if os.path.exists(os.path.join(d, "manifest.json"))):
        name = os.path.basename(directory)
        try:
            art = load(directory)
        except Exception as err:  # noqa: BLE001 - reported in the table
            rows.append({"case": name, "n": None, "status": f"load failed: {err}"})
            print(rows[-1], flush=True)
            continue
        files = sorted(glob.glob(os.path.join(directory, "n*.npz")),
                       key=lambda p: int(os.path.basename(p)[1:-4]))
        for path in files:
            data = np.load(path)
            n = int(os.path.basename(path)[1:-4])
            inputs = {k[4:]: data[k] for k in data.files if k.startswith("arg_")}
            row = {"case": name, "n": n, "tol": float(data["tol"])}
            try:
                start = time.perf_counter()
                (out,) = art(**inputs)
                row["first_call_ms"] = 1e3 * (time.perf_counter() - start)
                start = time.perf_counter()
                art(**inputs)
                row["second_call_ms"] = 1e3 * (time.perf_counter() - start)
                err = rel_error(out, data["expected"])
                row["rel_error"] = err
                row["nan"] = int(np.isnan(out).sum())
                row["status"] = "ok" if err <= row["tol"] else "FAIL"
            except Exception as err:  # noqa: BLE001 - reported in the table
                row["status"] = f"error: {err}"
            rows.append(row)
            print(json.dumps(row), flush=True)
    header = f"{'case':24} {'N':>5} {'rel error':>10} {'tol':>7} {'NaN':>5} {'2nd call ms':>11}  status"
    lines = [header]
    for r in rows:
        lines.append(f"{r['case']:24} {str(r.get('n')):>5} {r.get('rel_error', float('nan')):10.2e} "
                     f"{r.get('tol', float('nan')):7.0e} {str(r.get('nan', '-')):>5} "
                     f"{r.get('second_call_ms', float('nan')):11.2f}  {r['status']}")
    table = "\n".join(lines)
    print(table)
    failed = sum(r["status"] != "ok" for r in rows)
    print(f"{len(rows) - failed}/{len(rows)} ok")
    if prefix:
        with open(prefix + ".json", "w") as f:
            json.dump(rows, f, indent=1)
        with open(prefix + ".txt", "w") as f:
            f.write(table + f"\n{len(rows) - failed}/{len(rows)} ok\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
