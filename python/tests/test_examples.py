"""Every example in examples/ runs through attn-run on seeded random inputs: `--check`
(against the f64 reference pipeline) passes, and the result matches the float64 Python
reference computed from the same inputs (issue 3, line 7)."""

import os
import subprocess
import tempfile

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.patterns import (Axial, BlockLocal, Causal, Fixed, Global, Intersect, Random,
                                Strided, Union, Window)
from attn_mlir.run import attn_run_path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N = 256


def lite_transformer(x, w):
    B, n, C = x.shape
    heads = x[:, :, :256].reshape(B, n, 8, 32).transpose(0, 2, 1, 3)
    att = ref.sdpa(heads, heads, heads, pattern=Causal())
    ya = att.transpose(0, 2, 1, 3).reshape(B, n, 256)
    yc = ref.lightconv(x[:, :, 256:], w, causal=True)
    return [np.concatenate([ya, yc], axis=2)]


# name -> (reference from the dumped inputs, tolerance)
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
    "sparse_transformer": lambda a: [
        ref.sdpa(a["q"], a["k"], a["v"], pattern=Intersect([Causal(), Union([
            Window(left=127, right=0), Strided(stride=128)])])),
        ref.sdpa(a["q"], a["k"], a["v"], pattern=Intersect([Causal(), Union([
            BlockLocal(size=128), Fixed(block=128, summary=8)])]))],
}
TOLERANCE = {"longformer": ref.TOLERANCE["bf16"], "sparse_transformer": ref.TOLERANCE["f16"]}


def test_every_example_is_listed():
    names = sorted(f[:-5] for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".mlir"))
    assert names == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example(name):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(ROOT, "examples", name + ".mlir")
        cmd = [attn_run_path(), path, "--random-inputs", "--seed=1", f"--dim={N}", "--check",
               f"--dump-inputs={tmp}", f"--output={tmp}"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        checks = [l for l in proc.stdout.splitlines() if l.startswith("check ")]
        assert checks and all(l.endswith(": ok") for l in checks), proc.stdout
        inputs = {f[:-4]: np.load(os.path.join(tmp, f)) for f in os.listdir(tmp)
                  if f.endswith(".npy") and not f.startswith("result")}
        expected = EXAMPLES[name](inputs)
        for i, exp in enumerate(expected):
            out = np.load(os.path.join(tmp, f"result{i}.npy")).astype(np.float64)
            err = ref.rel_error(out, exp)
            tol = TOLERANCE.get(name, ref.TOLERANCE["f32_reference"])
            assert err <= tol, f"{name} result{i}: relative error {err:.3g} > {tol:.1g}"
