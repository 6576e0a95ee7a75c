"""Assembles every gpu.binary of an MLIR file (attn-gpu-pipeline with format=isa) with
`ptxas -v`, one binary at a time, and prints each report after a line naming the binary.

Usage: python3 lsh_cluster_ptxas_all.py PTXAS IN.mlir WORKDIR
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "bench", "gpu"))
from extract_ptx import extract  # noqa: E402


def main():
    ptxas, path, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    text = open(path).read()
    names = re.findall(r"gpu\.binary @(\w+)", text)
    for name in names:
        ptx = os.path.join(work, f"{name}.ptx")
        with open(ptx, "w") as f:
            f.write(extract(text, name))
        done = subprocess.run([ptxas, "-arch=sm_90a", "-v", ptx, "-o", ptx + ".cubin"],
                              capture_output=True, text=True)
        print(f"binary {name}: exit {done.returncode}")
        print(done.stdout + done.stderr)
    print(f"{len(names)} binaries")


if __name__ == "__main__":
    main()
