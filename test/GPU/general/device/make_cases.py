"""Builds the GPU general-path check for the device machine (run here, where LLVM/MLIR are):
one attn-compile --target=cuda artifact per case (dynamic length), inputs drawn at several
lengths, and the float64 reference of each (python/attn_mlir/reference.py), into OUT:

    OUT/<case>/            the artifact (manifest.json, lib<case>.so, libattn_cuda_runtime.so)
    OUT/<case>/n<N>.npz    inputs by argument name, "expected" (float64) and "tol"
    OUT/attn_mlir/         artifact.py (the runner; numpy only)
    OUT/check.py           runs everything there (see check.py)

Usage: python3 make_cases.py OUT [--attn-compile PATH] [--quick]
"""

import argparse
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path[:0] = [os.path.join(REPO, "python"), os.path.join(REPO, "python", "tests")]

from attn_mlir import reference as ref  # noqa: E402
from attn_mlir.builder import sdpa_func  # noqa: E402
from attn_mlir.patterns import Causal  # noqa: E402
from helpers import TOL, as_dtype  # noqa: E402
from test_run_cluster import cluster_ir, draw as draw_cluster  # noqa: E402
from test_run_kernelized import kernelized_ir  # noqa: E402
from test_run_lightconv import lightconv_ir  # noqa: E402
from test_run_lowrank import lowrank_ir  # noqa: E402
from test_run_lsh import draw as draw_lsh, lsh_ir  # noqa: E402
from test_run_pkm import make_inputs as draw_pkm, pkm_ir  # noqa: E402

H, D = 2, 64


def sdpa_case(dtype, pattern):
    dims = [1, H, None, D]
    ir = sdpa_func((dims, dtype), (dims, dtype), (dims, dtype), pattern=pattern)

    def make(rng, n):
        q, k, v = (as_dtype(rng.standard_normal((1, H, n, D)), dtype) for _ in range(3))
        inputs = {"q": q, "k": k, "v": v, "o": np.full_like(q, np.nan)}
        return inputs, ref.sdpa(q, k, v, pattern=pattern or ref.Dense()), TOL[dtype]
    return ir, make


def lsh_case():
    ir = lsh_ir(1, H, 64, 32, 32, 2, 8, 16, dynamic=("N",))

    def make(rng, n):
        qk, v, rot = draw_lsh(int(rng.integers(1 << 30)), 1, H, n, 32, 32, 2, 8)
        inputs = {"qk": qk, "v": v, "rot": rot, "o": np.full_like(v, np.nan)}
        return inputs, ref.lsh(qk, v, rot, 8, 16), TOL["f32"]
    return ir, make


def kernelized_case(feature_map, causal):
    proto = np.zeros((1, H, 8, 32), np.float32)
    w = np.zeros((H, 64, 32), np.float32) if feature_map == "favor_plus" else None
    ir = kernelized_ir(proto, proto, proto, w, "f32", feature_map, causal, (2,))

    def make(rng, n):
        q, k, v = (rng.standard_normal((1, H, n, 32)).astype(np.float32) for _ in range(3))
        inputs = {"q": q, "k": k, "v": v}
        proj = None
        if w is not None:
            proj = inputs["w"] = rng.standard_normal(w.shape).astype(np.float32)
        inputs["o"] = np.full_like(v, np.nan)
        expected = ref.kernelized(q, k, v, feature_map, projection=proj, causal=causal)
        return inputs, expected, TOL["f32"]
    return ir, make


def lightconv_case():
    ir = lightconv_ir((1, 8, 64), (4, 7), "f32", True, None, (1,))

    def make(rng, n):
        x = rng.standard_normal((1, n, 64)).astype(np.float32)
        w = rng.standard_normal((4, 7)).astype(np.float32)
        inputs = {"x": x, "w": w, "o": np.full_like(x, np.nan)}
        return inputs, ref.lightconv(x, w, causal=True), TOL["f32"]
    return ir, make


def lowrank_case():
    proto = np.zeros((1, H, 8, 32), np.float32)
    e = np.zeros((1, 16, 8), np.float32)
    ir = lowrank_ir(proto, proto, proto, e, None, "f32", "f32", None, (2,), (2,))

    def make(rng, n):
        q, k, v = (rng.standard_normal((1, H, n, 32)).astype(np.float32) for _ in range(3))
        e = (rng.standard_normal((1, 16, n)) / np.sqrt(n)).astype(np.float32)
        inputs = {"q": q, "k": k, "v": v, "e": e, "o": np.full_like(v, np.nan)}
        return inputs, ref.lowrank(q, k, v, e, None), TOL["f32"]
    return ir, make


def cluster_case():
    ir = cluster_ir((1, H, 8, 32), (1, H, 8, 32), (1, H, 8, 32), 4, 16, dynamic=("N",))

    def make(rng, n):
        window = 16
        q, k, v, mu = draw_cluster(int(rng.integers(1 << 30)), 1, H, H, n, n, 32, 32, 4,
                                   min(window, n))
        inputs = {"q": q, "k": k, "v": v, "c": mu, "o": np.full_like(v, np.nan)}
        return inputs, ref.cluster(q, k, v, mu, window), TOL["f32"]
    return ir, make


def pkm_case():
    proto_q = np.zeros((1, H, 8, 32), np.float32)
    sk = np.zeros((H, 8, 16), np.float32)
    vals = np.zeros((64, 32), np.float32)
    ir = pkm_ir(proto_q, sk, vals, 4, "f32", "f32", (2,), ())

    def make(rng, n):
        q, sk1, sk2 = draw_pkm(rng, 1, H, n, 32, 8, 4, "f32", False)
        values = rng.standard_normal((64, 32)).astype(np.float32)
        inputs = {"q": q, "s1": sk1, "s2": sk2, "vals": values,
                  "o": np.full((1, H, n, 32), np.nan, np.float32)}
        return inputs, ref.pkm(q, sk1, sk2, values, 4), TOL["f32"]
    return ir, make


def cases(quick):
    lengths = [1, 127, 1000]
    return [
        ("sdpa_dense_f32", sdpa_case("f32", None), lengths + ([] if quick else [4096])),
        ("sdpa_causal_f32", sdpa_case("f32", Causal()), lengths),
        ("sdpa_dense_bf16", sdpa_case("bf16", None), lengths),
        ("sdpa_causal_bf16", sdpa_case("bf16", Causal()), lengths + ([] if quick else [4096])),
        ("lsh", lsh_case(), [64, 128, 1024]),
        ("kernelized_favor", kernelized_case("favor_plus", False), lengths),
        ("kernelized_elu_causal", kernelized_case("elu_plus_one", True), lengths),
        ("lightconv_causal", lightconv_case(), lengths),
        ("lowrank", lowrank_case(), [16, 127, 1000]),
        ("cluster", cluster_case(), [16, 127, 1000]),
        ("pkm", pkm_case(), lengths),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--attn-compile", default=os.path.join(REPO, "build", "bin",
                                                                "attn-compile"))
    parser.add_argument("--quick", action="store_true", help="no N=4096 cases")
    parser.add_argument("--only", default="", help="comma-separated case names")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    only = set(filter(None, args.only.split(",")))
    for index, (name, (ir, make), lengths) in enumerate(cases(args.quick)):
        if only and name not in only:
            continue
        directory = os.path.join(args.out, name)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        spec = os.path.join(directory, f"{name}.mlir")
        with open(spec, "w") as f:
            f.write(ir)
        subprocess.run([args.attn_compile, spec, "--target=cuda", "-o", directory], check=True)
        rng = np.random.default_rng(1000 + index)
        for n in lengths:
            inputs, expected, tol = make(rng, n)
            np.savez(os.path.join(directory, f"n{n}.npz"), expected=expected, tol=tol,
                     **{f"arg_{k}": v for k, v in inputs.items()})
        print(name, "ok", flush=True)
    package = os.path.join(args.out, "attn_mlir")
    os.makedirs(package, exist_ok=True)
    shutil.copy(os.path.join(REPO, "python", "attn_mlir", "artifact.py"), package)
    open(os.path.join(package, "__init__.py"), "w").close()
    shutil.copy(os.path.join(HERE, "check.py"), args.out)


if __name__ == "__main__":
    main()
