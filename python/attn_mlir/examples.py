"""The float64 reference of every spec in examples/, from the inputs that
``attn-run --dump-inputs`` writes (named after the function's arguments). Inputs that random
draws would not make realistic (sorted document ids) are given (``INPUTS``).

``python3 -m attn_mlir.examples NAME [--dim N]`` runs one example end to end on the CPU:
attn-run compiles and runs it on seeded random inputs (``--check``, ``--bench``), then the
result is compared with this reference.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

from attn_mlir import reference as ref
from attn_mlir.patterns import (Axial, BlockLocal, Causal, Fixed, Global, Intersect,
                                Neighborhood, Random, Sink, Strided, Union, Window)
from attn_mlir.run import attn_run_path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def lite_transformer(x, w):
    B, n, C = x.shape
    heads = x[:, :, :256].reshape(B, n, 8, 32).transpose(0, 2, 1, 3)
    att = ref.sdpa(heads, heads, heads, pattern=Causal())
    ya = att.transpose(0, 2, 1, 3).reshape(B, n, 256)
    yc = ref.lightconv(x[:, :, 256:], w, causal=True)
    return [np.concatenate([ya, yc], axis=2)]


def alibi(s, b, h, i, j):
    """FlexAttention's ALiBi with the slopes 2^-(h + 1) of examples/alibi_causal.mlir."""
    return s + np.exp2(-(h + 1.0)) * (j - i)


def packed_documents(batch, n, seed=0):
    """Sorted document ids ``[batch, n]`` (i32) of packed sequences: documents of random
    lengths, from a few tokens to half the sequence."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(batch):
        lengths = []
        while sum(lengths) < n:
            lengths.append(int(rng.integers(1, max(2, n // 2))))
        rows.append(np.repeat(np.arange(len(lengths)), lengths)[:n])
    return np.stack(rows).astype(np.int32)


def draft_tree(n, seed=0):
    """Parents ``[n]`` (i32, parent[i] < i, -1 at the root) of a tree of drafts: a trunk of
    a quarter of the tokens, then branches of random lengths, each from a random trunk
    token."""
    rng = np.random.default_rng(seed)
    trunk = max(1, n // 4)
    parent = np.arange(-1, n - 1)
    i = trunk
    while i < n:
        parent[i] = rng.integers(0, trunk)
        i += int(rng.integers(8, max(9, n // 4)))
    return parent.astype(np.int32)


def ancestors(parent):
    """``[n, n]`` bool: j is i or an ancestor of i."""
    n = len(parent)
    anc = np.zeros((n, n), dtype=bool)
    for i in range(n):
        j = i
        while j >= 0:
            anc[i, j] = True
            j = parent[j]
    return anc


def block_layout(live, bq, bk):
    """FlexAttention's BlockMask of a pair mask ``[n, m]`` as ``(num, idx)`` of the partial
    blocks and of the full ones, each ``[1, 1, NQB]`` and ``[1, 1, NQB, NKB]`` i32 (what
    ``create_block_mask`` computes)."""
    n, m = live.shape
    nqb, nkb = -(-n // bq), -(-m // bk)
    lists = ([], [])
    for qb in range(nqb):
        rows = ([], [])
        for kb in range(nkb):
            tile = live[qb * bq:(qb + 1) * bq, kb * bk:(kb + 1) * bk]
            if tile.any():
                rows[1 if tile.all() else 0].append(kb)
        for out, row in zip(lists, rows):
            out.append(row)
    result = []
    for rows in lists:
        num = np.array([len(r) for r in rows], dtype=np.int32).reshape(1, 1, nqb)
        idx = np.zeros((1, 1, nqb, nkb), dtype=np.int32)
        for qb, r in enumerate(rows):
            idx[0, 0, qb, :len(r)] = r
        result += [num, idx]
    return result


def tree_inputs(n):
    parent = draft_tree(n)
    kvn, kvi, fkvn, fkvi = block_layout(ancestors(parent), 64, 64)
    return {"parent": parent, "kvn": kvn, "kvi": kvi, "fkvn": fkvn, "fkvi": fkvi}


def tree_attention(a):
    anc = ancestors(a["parent"])
    return [ref.sdpa(a["q"], a["k"], a["v"], mask_mod=lambda b, h, i, j: anc[i, j],
                     blocks=(a["kvn"], a["kvi"]), full_blocks=(a["fkvn"], a["fkvi"]),
                     block_size=(64, 64))]


# name -> reference from the dumped inputs
EXAMPLES = {
    "adaptive_span": lambda a: [ref.sdpa(a["q"], a["k"], a["v"], pattern=Causal(), span=a["z"],
                                         ramp=32.0, max_span=1024.0)],
    "all_attention": lambda a: [ref.sdpa(a["q"], a["k"], a["v"], pattern=Causal(),
                                         memory=(a["mk"], a["mv"]))],
    "axial": lambda a: [ref.sdpa(a["q"], a["k"], a["v"], pattern=Axial(rows=64, cols=64))],
    "bigbird": lambda a: [ref.sdpa(a["q"], a["k"], a["v"], pattern=Union([
        Window(left=64, right=64), Global(first=128), Random(block=64, per_row=3, seed=2020)]))],
    "linformer": lambda a: [ref.lowrank(a["q"], a["k"], a["v"], a["e"])],
    "lite_transformer": lambda a: lite_transformer(a["x"], a["w"]),
    "longformer": lambda a: [ref.sdpa(a["q"], a["k"], a["v"], pattern=Union([
        Window(left=256, right=256), Global(first=64)]))],
    "performer": lambda a: [ref.kernelized(a["q"], a["k"], a["v"], "favor_plus",
                                           projection=a["w"])],
    "performer_causal": lambda a: [
        ref.kernelized(a["q"], a["k"], a["v"], "favor_plus", projection=a["w"], causal=True),
        ref.kernelized(a["q"], a["k"], a["v"], "elu_plus_one", causal=True)],
    "product_key_memory": lambda a: [ref.pkm(a["q"], a["s1"], a["s2"], a["values"], 32)],
    "reformer": lambda a: [ref.lsh(a["qk"], a["v"], a["rot"], 64, 64, causal=True)],
    "routing": lambda a: [ref.cluster(a["q"], a["q"], a["v"], a["c"], 256, causal=True)],
    "document_masking": lambda a: [ref.sdpa(a["q"], a["k"], a["v"], pattern=Causal(),
                                            segments=(a["seg"], a["seg"]))],
    "prefix_lm": lambda a: [ref.sdpa(a["q"], a["k"], a["v"],
                                     pattern=Union([Causal(), Sink(first=64)]))],
    "natten_2d": lambda a: [ref.sdpa(a["q"], a["k"], a["v"],
                                     pattern=Neighborhood([32, 32], [7, 7]))],
    "sliding_window_sinks": lambda a: [ref.sdpa(a["q"], a["k"], a["v"], pattern=Intersect([
        Causal(), Union([Window(left=63, right=0), Sink(first=4)])]))],
    "alibi_causal": lambda a: [ref.sdpa(a["q"], a["k"], a["v"], pattern=Causal(),
                                        score_mod=alibi)],
    "softcap": lambda a: [ref.sdpa(a["q"], a["k"], a["v"], pattern=Window(left=4095, right=0),
                                   score_mod=lambda s, b, h, i, j: 50.0 * np.tanh(s / 50.0))],
    "tree_mask": tree_attention,
    "sparse_transformer": lambda a: [
        ref.sdpa(a["q"], a["k"], a["v"], pattern=Intersect([Causal(), Union([
            Window(left=127, right=0), Strided(stride=128)])])),
        ref.sdpa(a["q"], a["k"], a["v"], pattern=Intersect([Causal(), Union([
            BlockLocal(size=128), Fixed(block=128, summary=8)])]))],
}
TOLERANCE = {"longformer": ref.TOLERANCE["bf16"], "sparse_transformer": ref.TOLERANCE["f16"]}
# name -> inputs given instead of random ones, from the size of the dynamic dims
INPUTS = {"document_masking": lambda dim: {"seg": packed_documents(2, dim)},
          "tree_mask": tree_inputs}




def tolerance(name):
    return TOLERANCE.get(name, ref.TOLERANCE["f32_reference"])


def run_example(name, dim=256, seed=1, bench=0, echo=False):
    """Runs examples/NAME.mlir through attn-run with --check; returns (stdout, errors)
    where errors lists the relative error of each result against the float64 reference."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(ROOT, "examples", name + ".mlir")
        cmd = [attn_run_path(), path, "--random-inputs", f"--seed={seed}", f"--dim={dim}",
               "--check", f"--dump-inputs={tmp}", f"--output={tmp}"]
        if bench:
            cmd.append(f"--bench={bench}")
        for arg, array in INPUTS.get(name, lambda _: {})(dim).items():
            path = os.path.join(tmp, f"given-{arg}.npy")
            np.save(path, array)
            cmd.append(f"--input={arg}={path}")
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if echo:
            sys.stdout.write(proc.stdout)
            sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            raise RuntimeError(f"attn-run exited with {proc.returncode}:\n{proc.stdout}{proc.stderr}")
        inputs = {f[:-4]: np.load(os.path.join(tmp, f)) for f in os.listdir(tmp)
                  if f.endswith(".npy") and not f.startswith(("result", "given-"))}
        errors = []
        for i, exp in enumerate(EXAMPLES[name](inputs)):
            out = np.load(os.path.join(tmp, f"result{i}.npy")).astype(np.float64)
            errors.append(ref.rel_error(out, exp))
        return proc.stdout, errors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(EXAMPLES))
    parser.add_argument("--dim", type=int, default=256, help="size of every dynamic dim")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bench", type=int, default=5)
    args = parser.parse_args(argv)
    _, errors = run_example(args.name, args.dim, args.seed, args.bench, echo=True)
    ok = True
    for i, err in enumerate(errors):
        good = err <= tolerance(args.name)
        ok &= good
        print(f"float64 reference, result{i}: ||out - ref|| / ||ref|| = {err:.3g} "
              f"(bound {tolerance(args.name):.0e}): {'ok' if good else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
