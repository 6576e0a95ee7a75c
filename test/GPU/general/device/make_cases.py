"""Builds the artifacts of the GPU end-to-end check (run here, where LLVM/MLIR are): one
attn-compile --target=cuda artifact per case of cases.py (every op in f32, bf16 and f16, the
length N dynamic), into OUT/<case>/ (manifest.json, lib<case>.so, libattn_cuda_runtime.so).

The inputs and float64 references are drawn on the GPU machine by check.py at run time.

With --specs-only, only OUT/<case>/<case>.mlir is written: what check.py --attn-run runs.

Usage: python3 make_cases.py OUT [--attn-compile PATH] [--only NAME,...] [--target cpu]
                             [--specs-only]
"""

import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import REPO, cases  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--attn-compile", default=os.path.join(REPO, "build", "bin",
                                                                "attn-compile"))
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--target", default="cuda", help="cpu: a dry run of check.py here")
    parser.add_argument("--specs-only", action="store_true", help="write the specs, no artifacts")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    only = set(filter(None, args.only.split(",")))
    failed = []
    for name, _, (ir, _), _ in cases():
        if only and name not in only:
            continue
        directory = os.path.join(args.out, name)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        spec = os.path.join(directory, f"{name}.mlir")
        with open(spec, "w") as f:
            f.write(ir)
        if args.specs_only:
            continue
        result = subprocess.run([args.attn_compile, spec, f"--target={args.target}", "-o",
                                 directory],
                                capture_output=True, text=True)
        if result.returncode:
            failed.append(name)
            with open(os.path.join(directory, "compile-error.txt"), "w") as f:
                f.write(result.stderr)
            print(name, "does not compile:", result.stderr.strip().splitlines()[-1:], flush=True)
        else:
            print(name, "ok", flush=True)
    if args.specs_only:
        return
    print(f"{len(failed)} cases do not compile: {', '.join(failed)}" if failed else
          "every case compiles")


if __name__ == "__main__":
    main()
