"""Checks the grids of the gpu.launch_func ops of an MLIR file (attn-gpu-pipeline output for
static shapes, where every grid size is an llvm.mlir.constant of its function): x at most
2^31 - 1, y and z at most 65535 blocks (CUDA's limits; a larger launch fails with
CUDA_ERROR_INVALID_VALUE). Prints one line per launch and `grids ok` or the offending launch.
A launch helper of its own (`..._launch`, the grid x computed from its arguments: causal
FAVOR+'s mma products, B H ceil(N / C) blocks) is accepted with a constant y and z.

usage: launch_grid_limits.py IN.mlir
"""
import re
import sys

LIMITS = (2**31 - 1, 65535, 65535)


def main():
    text = open(sys.argv[1]).read()
    bad = 0
    # Each function's constants, then its launches.
    for func in re.split(r"\n\s*llvm\.func ", text)[1:]:
        consts = dict(re.findall(r"(%\w+) = llvm\.mlir\.constant\((\d+) : (?:index|i64)\)", func))
        for grid in re.findall(r"blocks in \((%\w+), (%\w+), (%\w+)\)", func):
            if grid[0] not in consts and all(g in consts for g in grid[1:]):
                sizes = [int(consts[g]) for g in grid[1:]]
                over = any(s > 65535 for s in sizes)
                bad += over
                print(f"grid [x from the arguments, {sizes[0]}, {sizes[1]}]"
                      f"{' OVER THE LIMIT' if over else ''}")
                continue
            if not all(g in consts for g in grid):
                print(f"launch with a non-constant grid {grid}")
                bad += 1
                continue
            sizes = [int(consts[g]) for g in grid]
            over = any(s > limit for s, limit in zip(sizes, LIMITS))
            bad += over
            print(f"grid {sizes}{' OVER THE LIMIT' if over else ''}")
    print("grids over the limit" if bad else "grids ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
