"""Runs `PTXAS -arch=sm_90a -v` on the PTX of each gpu.binary of an MLIR file (attn-gpu-pipeline
with format=isa) in turn (the general path writes one gpu.binary per kernel, and ptxas takes one
module per file); prints ptxas's report of each, and exits non-zero if any ptxas fails.

usage: ptxas_each.py PTXAS IN.mlir TMPDIR
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "bench", "gpu"))
from extract_ptx import extract  # noqa: E402


def main():
    ptxas, path, tmp = sys.argv[1:4]
    text = open(path).read()
    os.makedirs(tmp, exist_ok=True)
    status = 0
    for name in re.findall(r"gpu\.binary @(\w+)", text):
        ptx = os.path.join(tmp, f"{name}.ptx")
        with open(ptx, "w") as f:
            f.write(extract(text, name))
        done = subprocess.run([ptxas, "-arch=sm_90a", "-v", ptx, "-o", ptx + ".cubin"],
                              capture_output=True, text=True)
        print(f"== {name}\n{done.stdout}{done.stderr}", end="")
        status |= done.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
