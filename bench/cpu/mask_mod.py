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

and the masks of issue 14's other items, each stated directly (so the compiler skips the
blocks they mask), with the fraction of live pairs beside each time:

  * document masking: causal within packed documents (segments(%seg, %seg), 8 documents of
    random lengths per sequence);
  * sliding window with sinks: union<[window<512, 0>, sink<first = 4>]>;
  * prefix LM: union<[causal, sink<first = N/8>]>;
  * NATTEN 2-D: neighborhood<extent = [s, s], window = [13, 13]> at N = s * s (sizes that are
    not squares leave this row out).

With --torch (the bench venv's python), torch's CPU SDPA with the same mask as a dense
[N, N] boolean tensor runs beside each row: what a PyTorch CPU user writes without block
skipping (FlexAttention's CPU path is in bench/cpu/bench.py).

    /usr/bin/python3 bench/cpu/mask_mod.py [--sizes 1024 4096] [--runs 3] [--threads 1]
        [--torch] [--json PATH]

It needs build/bin/attn-run and numpy (and torch for --torch); it prints a table and, with
--json, writes the rows with the date, machine and commit.
"""

import argparse
import datetime
import json
import math
import pathlib
import re
import subprocess
import sys
import tempfile

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from attn_mlir import patterns as P  # noqa: E402
# bench/cpu/bench.py, beside this file.
from bench import git_commit, machine_info, median_time  # noqa: E402

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

SEGMENT_ARGS = ", %seg: tensor<1x?xi32>"
DOCUMENTS = ("segments(%seg, %seg : tensor<1x?xi32>, tensor<1x?xi32>) "
             "pattern(#attn.causal)")
SINKS = P.Union([P.Window(512, 0), P.Sink(first=4)])


def prefix_lm(n):
    return P.Union([P.Causal(), P.Sink(first=n // 8)])


def natten(n):
    side = math.isqrt(n)
    return P.Neighborhood((side, side), (13, 13)) if side * side == n and side >= 13 else None


# name -> (extra arguments, clauses, the pattern object at N (None: no pattern clause))
SPECS = {
    "causal pattern": ("", "pattern(#attn.causal)", lambda n: P.Causal()),
    "causal mask_mod": ("", CAUSAL, lambda n: P.Causal()),
    "block map pass alone": (", %off: tensor<1xi64>", NOTHING, None),
    "causal block layout": (LAYOUT_ARGS, LAYOUT, lambda n: P.Causal()),
    "dense": ("", "", lambda n: P.Dense()),
    "document masking": (SEGMENT_ARGS, DOCUMENTS, lambda n: P.Causal()),
    "window 512 + 4 sinks": ("", None, lambda n: SINKS),
    "prefix LM (N/8)": ("", None, prefix_lm),
    "NATTEN 2-D 13x13": ("", None, natten),
}


def _documents(n):
    """[1, n] sorted ids of 8 documents of random lengths (at least one token each)."""
    rng = np.random.default_rng(0)
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(7, n - 1), replace=False))
    ids = np.zeros(n, dtype=np.int32)
    ids[cuts] = 1
    return np.cumsum(ids).astype(np.int32).reshape(1, n)


def live_mask(name, n, given):
    """The [n, n] boolean mask of a row (None where the row has no fixed mask)."""
    pattern = SPECS[name][2]
    if pattern is None or pattern(n) is None:
        return None
    i = np.arange(n, dtype=np.int64)[:, None]
    j = np.arange(n, dtype=np.int64)[None, :]
    live = np.asarray(pattern(n).is_live(i, j, n, n), dtype=bool)
    if name == "document masking":
        seg = given["seg"][0]
        live = live & (seg[:, None] == seg[None, :])
    return live


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
    if name == "document masking":
        return {"seg": _documents(n)}
    return {}


def available(name, n):
    pattern = SPECS[name][2]
    return pattern is None or pattern(n) is not None


def median_ms(name, n, runs, threads):
    args, clauses, pattern = SPECS[name]
    if clauses is None:
        clauses = f"pattern({pattern(n).to_mlir()})"
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


def torch_ms(mask, n, runs, threads):
    """torch's CPU SDPA, B=1 H=8 D=64 f32, with `mask` as a dense boolean attn_mask."""
    import torch
    torch.set_num_threads(threads)
    q, k, v = (torch.randn(1, 8, n, 64) for _ in range(3))
    m = None if mask is None else torch.from_numpy(mask)
    with torch.no_grad():
        return 1e3 * median_time(lambda: torch.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=m), runs)



def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--torch", action="store_true",
                        help="torch SDPA with the dense boolean mask beside each row")
    parser.add_argument("--torch-max-n", type=int, default=8192,
                        help="largest N for torch (its scores are [1, 8, N, N] f32)")
    parser.add_argument("--only", default="", help="comma-separated row names")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    commit = git_commit()
    only = set(filter(None, args.only.split(",")))
    rows = []
    print(f"{'spec':24s}" + "".join(f"{'N=' + str(n):>30s}" for n in args.sizes))
    for name in SPECS:
        if only and name not in only:
            continue
        cells = []
        for n in args.sizes:
            if not available(name, n):
                cells.append(f"{'-':>30s}")
                continue
            row = {"spec": name, "n": n, "ours_fused_ms": median_ms(name, n, args.runs,
                                                                     args.threads)}
            mask = live_mask(name, n, given_inputs(name, n))
            if mask is not None:
                row["live_fraction"] = float(mask.mean())
            if args.torch and n <= args.torch_max_n and (mask is not None or name == "dense"):
                row["torch_sdpa_mask_ms"] = torch_ms(None if name == "dense" else mask, n,
                                                     args.runs, args.threads)
            rows.append(row)
            text = f"{row['ours_fused_ms']:9.2f} ms"
            if "live_fraction" in row:
                text += f" live {100 * row['live_fraction']:5.1f}%"
            if "torch_sdpa_mask_ms" in row:
                text += f" torch {row['torch_sdpa_mask_ms']:8.1f}"
            cells.append(f"{text:>30s}")
        print(f"{name:24s}" + "".join(cells), flush=True)
    if args.json:
        result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(
                      timespec="seconds"),
                  "commit": commit, "machine": machine_info(),
                  "threads": args.threads, "runs": args.runs, "B": 1, "H": 8, "D": 64,
                  "dtype": "f32", "rows": rows}
        pathlib.Path(args.json).write_text(json.dumps(result, indent=1))
        print(f"json: {args.json}")


if __name__ == "__main__":
    main()
