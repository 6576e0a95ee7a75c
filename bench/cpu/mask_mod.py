#!/usr/bin/env python3
"""mask_mod and block layouts on the CPU (issue 14, items 1 and 5): attn-run --mode=fused
medians of one attn.sdpa, B=1, H=8, D=64, f32, per N:

  * causal as a pattern (#attn.causal): no pass over the tiles, the baseline;
  * causal as a mask_mod (`i >= j`): the block map is built once per call by evaluating the
    region over every (query tile, key tile), then Empty tiles are skipped;
  * the block map pass alone: a mask_mod false everywhere (`j > i + off` with off = N read
    from an input, so nothing folds it): every tile is Empty and the scan of each tile pair
    evaluates all its pairs, as it does for causal's Full and Empty tiles; nothing else is
    computed, so the time is that of building the map;
  * causal as a block layout (FlexAttention's BlockMask: off-diagonal key blocks full,
    diagonal ones partial with the causal mask_mod), built in numpy outside the call;
  * dense, for scale.

    /usr/bin/python3 bench/cpu/mask_mod.py [--sizes 1024 4096] [--runs 3] [--threads 1]

It needs only build/bin/attn-run and numpy; it prints a table.
"""

import argparse
import pathlib
import re
import subprocess
import sys
import tempfile

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]
ATTN_RUN = REPO / "build" / "bin" / "attn-run"
BLOCK = 64

HEAD = """func.func @main(%q: tensor<1x8x?x64xf32>, %k: tensor<1x8x?x64xf32>, %v: tensor<1x8x?x64xf32>{args},
                %o: tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32> {{
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>) {clauses} -> tensor<1x8x?x64xf32>
  return %r : tensor<1x8x?x64xf32>
}}
"""

MASK_MOD = """mask_mod {{
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           {body}
           attn.yield %t : i1
         }}"""

CAUSAL = MASK_MOD.format(body="%t = arith.cmpi sge, %i, %j : index")
NOTHING = MASK_MOD.format(body="""%c0 = arith.constant 0 : index
           %e = tensor.extract %off[%c0] : tensor<1xi64>
           %ei = arith.index_cast %e : i64 to index
           %x = arith.addi %i, %ei : index
           %t = arith.cmpi sgt, %j, %x : index""")
LAYOUT_ARGS = (", %kvn: tensor<1x1x?xi32>, %kvi: tensor<1x1x?x?xi32>,"
               " %fkvn: tensor<1x1x?xi32>, %fkvi: tensor<1x1x?x?xi32>")
LAYOUT = ("blocks(%kvn, %kvi : tensor<1x1x?xi32>, tensor<1x1x?x?xi32>) "
          "full_blocks(%fkvn, %fkvi : tensor<1x1x?xi32>, tensor<1x1x?x?xi32>) "
          f"{{block_size = array<i64: {BLOCK}, {BLOCK}>}} " + CAUSAL)

SPECS = {
    "causal pattern": ("", "pattern(#attn.causal)"),
    "causal mask_mod": ("", CAUSAL),
    "block map pass alone": (", %off: tensor<1xi64>", NOTHING),
    "causal block layout": (LAYOUT_ARGS, LAYOUT),
    "dense": ("", ""),
}


def causal_layout(n):
    """kv_num_blocks, kv_indices (the diagonal block), full_kv_num_blocks, full_kv_indices
    (the blocks before it) of a causal mask in blocks of BLOCK."""
    nb = -(-n // BLOCK)
    kvn = np.ones((1, 1, nb), dtype=np.int32)
    kvi = np.arange(nb, dtype=np.int32).reshape(1, 1, nb, 1)
    fkvn = np.arange(nb, dtype=np.int32).reshape(1, 1, nb)
    fkvi = np.tile(np.arange(nb, dtype=np.int32), (nb, 1)).reshape(1, 1, nb, nb)
    return {"kvn": kvn, "kvi": kvi, "fkvn": fkvn, "fkvi": fkvi}


def given_inputs(name, n):
    if name == "causal block layout":
        return causal_layout(n)
    if name == "block map pass alone":
        return {"off": np.array([n], dtype=np.int64)}
    return {}


def median_ms(name, n, runs, threads):
    args, clauses = SPECS[name]
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "spec.mlir"
        path.write_text(HEAD.format(args=args, clauses=clauses))
        cmd = [str(ATTN_RUN), str(path), "--mode=fused", "--random-inputs", f"--dim={n}",
               f"--bench={runs}", f"--threads={threads}", f"--output={tmp}/out"]
        if args:
            for key, array in given_inputs(name, n).items():
                np.save(pathlib.Path(tmp) / f"{key}.npy", array)
                cmd.append(f"--input={key}={tmp}/{key}.npy")
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"{name} N={n}: attn-run failed:\n{proc.stderr}")
        return float(re.search(r"median ([0-9.]+) ms", proc.stdout).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"{'spec':24s}" + "".join(f"{'N=' + str(n):>14s}" for n in args.sizes))
    for name in SPECS:
        times = [median_ms(name, n, args.runs, args.threads) for n in args.sizes]
        print(f"{name:24s}" + "".join(f"{t:11.2f} ms" for t in times), flush=True)


if __name__ == "__main__":
    main()
