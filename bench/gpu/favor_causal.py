#!/usr/bin/env python3
"""Causal FAVOR+ (docs/Semantics.md §7, `causal`) on one GPU: ours (attn.kernelized favor_plus
{causal} compiled by attn-compile --target=cuda --gpu-abi=device; on sm_90a the chunked scan of
GpuKernelizedCausal.cpp) against the same math in torch, eager and torch.compile'd, in f32 (the
inputs upcast) and in bf16; the general path before the scan (the same spec compiled by an older
attn-compile, --before) at the lengths it can hold (N x N scores); and ours non-causal (the two
phases on the Hopper core) for scale. bf16, B=2, H=16, D=64, m=256 (variants.py's FAVOR+ rows).

  here (LLVM):  python3 bench/gpu/favor_causal.py build OUT [--before OLD_ATTN_COMPILE] [--scalar]
      OUT/causal_n<N>, OUT/noncausal_n<N>, OUT/before_causal_n<N>, and OUT/causal-c<C>_n<N>:
      the spec after attn-gpu-kernelized-as-sdpa{causal-chunk=C} (--chunks), and with --scalar
      OUT/causal-scalar_n<N>: the scalar scan (causal-mma=off) at the first length, with --levels
      OUT/causal-levels_n<N>: the two-level prefix (causal-prefix=levels) at the longest length
  on the GPU:   python3 bench/gpu/favor_causal.py run OUT --json RESULT.json [--commit SHA]

Torch's causal FAVOR+ is the chunked form (chunks of 64 rows): phi with a per-query and a
per-(b, h) key stabiliser, per chunk T_c = phi(K_c)^T [V_c, 1], the exclusive cumulative sum of
T over chunks, then phi(Q_c) S_{c-1} + tril(phi(Q_c) phi(K_c)^T) [V_c, 1] and the ratio (the
form that holds at N = 65536; the per-position cumulative sum of m x Dv states would need
B H N m Dv floats). Times: CUDA events around single calls, the median of --reps after 3
warm-ups (check_core.median_ms); our call waits for its stream. torch.compile'd rows only at the
longest length (one compilation per dtype). The table is variants.py's. Accuracy: on --rows random query
rows of heads (0, 0) and (1, 15), against the float64 reference (python/attn_mlir/reference.py)
of row i with keys 0..i (the causal output of row i is the non-causal output over those keys).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(ROOT, "python")]

B, H, D, M, CHUNK = 2, 16, 64, 256, 64


def spec(n, causal):
    q = f"tensor<{B}x{H}x{n}x{D}xbf16>"
    w = f"tensor<{H}x{M}x{D}xbf16>"
    attr = "{causal} " if causal else ""
    return f"""func.func @main(%q: {q}, %k: {q}, %v: {q}, %w: {w}, %o: {q}) -> {q} {{
  %r = attn.kernelized favor_plus ins(%q, %k, %v : {q}, {q}, {q})
         projection(%w : {w}) outs(%o : {q}) {attr}-> {q}
  return %r : {q}
}}
"""


def build(args):
    jobs = [(f"causal_n{n}", n, True, args.attn_compile) for n in args.n]
    # Other chunk sizes of the scan at the longest length (the spec rewritten by attn-opt).
    jobs += [(f"causal-c{c}_n{args.n[-1]}", args.n[-1], c, args.attn_compile)
             for c in args.chunks]
    # The prefix of session 12 (two levels of groups) at the longest length.
    if args.levels:
        jobs.append((f"causal-levels_n{args.n[-1]}", args.n[-1], "levels", args.attn_compile))
    # The scalar scan (before the mma.sync products) at the first length.
    if args.scalar:
        jobs.append((f"causal-scalar_n{args.n[0]}", args.n[0], "off", args.attn_compile))
    jobs.append((f"noncausal_n{args.n[-1]}", args.n[-1], False, args.attn_compile))
    if args.before:
        jobs += [(f"before_causal_n{n}", n, True, args.before) for n in args.before_n]
    for name, n, causal, compiler in jobs:
        directory = os.path.join(args.out, name)
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"{name}.mlir")
        text = spec(n, bool(causal))
        if causal is not True and causal:
            option = {"off": "causal-mma=off", "levels": "causal-prefix=levels"}.get(
                causal, f"causal-chunk={causal}")
            text = subprocess.run([args.attn_opt, f"--attn-gpu-kernelized-as-sdpa={option}"],
                                  input=text, capture_output=True, text=True, check=True).stdout
        with open(path, "w") as f:
            f.write(text)
        subprocess.run([compiler, path, "--target=cuda", "--gpu-abi=device", "-o", directory],
                       check=True)
        print(directory, flush=True)


def favor_causal_torch(torch, q, k, v, w, dtype):
    """Causal FAVOR+ in `dtype`, chunked (see the file comment)."""
    from variants import favor_features
    phiq, phik, v = favor_features(torch, q, k, v, w, dtype)
    b, h, n, m = phik.shape
    pad = (-n) % CHUNK
    vx = torch.cat([v, torch.ones_like(v[..., :1])], -1)
    if pad:
        phiq, phik, vx = (torch.nn.functional.pad(x, (0, 0, 0, pad)) for x in (phiq, phik, vx))
    nc = (n + pad) // CHUNK
    qc, kc = phiq.view(b, h, nc, CHUNK, m), phik.view(b, h, nc, CHUNK, m)
    vc = vx.view(b, h, nc, CHUNK, -1)
    t = kc.transpose(-2, -1) @ vc
    s = t.cumsum(2) - t
    num = qc @ s + (qc @ kc.transpose(-2, -1)).tril() @ vc
    num = num.reshape(b, h, nc * CHUNK, -1)[:, :, :n]
    return (num[..., :-1] / num[..., -1:]).to(torch.bfloat16)


def run(args):
    import numpy as np
    import torch
    from check_core import median_ms
    from variants import favor_inputs, print_table, result_header
    from attn_mlir import reference
    from attn_mlir.artifact import load

    result = result_header(torch, args)
    compiled = torch.compile(favor_causal_torch)
    start = time.time()
    lengths = sorted({int(d.rsplit("_n", 1)[-1]) for d in os.listdir(args.artifacts)})
    for n in lengths:
        q, k, v, w = favor_inputs(torch, n)
        rng = np.random.default_rng(n)
        checks = []  # (b, h, rows, expected causal, expected non-causal)
        qf, kf, vf, wf = (x.float().cpu().numpy() for x in (q, k, v, w))
        for bb, hh in ((0, 0), (1, H - 1)):
            rows = np.sort(rng.choice(n, size=min(args.rows, n), replace=False))
            exp_c = np.stack([reference.kernelized(
                qf[bb:bb + 1, hh:hh + 1, i:i + 1], kf[bb:bb + 1, hh:hh + 1, :i + 1],
                vf[bb:bb + 1, hh:hh + 1, :i + 1], "favor_plus",
                projection=wf[hh:hh + 1])[0, 0, 0] for i in rows])
            exp_n = reference.kernelized(qf[bb:bb + 1, hh:hh + 1, rows], kf[bb:bb + 1, hh:hh + 1],
                                         vf[bb:bb + 1, hh:hh + 1], "favor_plus",
                                         projection=wf[hh:hh + 1])[0, 0]
            checks.append((bb, hh, rows, exp_c, exp_n))

        def record(impl, fn, out, causal=True):
            row = {"N": n, "impl": impl, "causal": causal}
            try:
                if time.time() - start > args.budget_s:
                    raise RuntimeError(f"budget of {args.budget_s} s reached")
                got = fn() if out is None else (fn(), out)[1]
                torch.cuda.synchronize()
                got = got.float().cpu().numpy()
                errs, nans = [], 0
                for bb, hh, rows, exp_c, exp_n in checks:
                    g = got[bb, hh, rows]
                    nans += int(np.isnan(g).sum())
                    errs.append(reference.rel_error(g, exp_c if causal else exp_n))
                row["nan"] = nans
                row["rel_err_vs_f64"] = float(max(errs))
                if nans:
                    # A failed call of ours leaves the NaN of outs (and the runtime's error is
                    # sticky: every later call of ours in this process does nothing).
                    raise RuntimeError(f"{nans} NaN in the checked rows: the call failed")
                ms, _ = median_ms(fn, args.reps if "before" not in impl else 3)
                row["ms"] = ms
            except Exception as err:  # noqa: BLE001 - reported
                row["error"] = " ".join(repr(err).split())[:300]
            result["rows"].append(row)
            print(json.dumps(row), flush=True)

        for name in sorted(d for d in os.listdir(args.artifacts) if d.endswith(f"_n{n}")):
            try:
                entry = load(os.path.join(args.artifacts, name)).entry("main")
            except Exception as err:  # noqa: BLE001 - reported
                result["rows"].append({"N": n, "impl": name, "error": repr(err)[:300]})
                continue
            o = torch.full_like(q, float("nan"))
            kind = name.rsplit("_n", 1)[0]
            label = {"causal": "ours causal", "noncausal": "ours non-causal",
                     "causal-scalar": "ours causal, scalar scan (causal-mma=off)",
                     "causal-levels": "ours causal, two-level prefix (causal-prefix=levels)",
                     "before_causal": "general path before (causal)"}.get(
                         kind, f"ours causal (chunk {kind[len('causal-c'):]})")
            record(label, lambda: entry(q, k, v, w, o), o, causal=not name.startswith("noncausal"))
            del entry
        for label, dtype in (("f32", torch.float32), ("bf16", torch.bfloat16)):
            record(f"torch eager causal {label}",
                   lambda: favor_causal_torch(torch, q, k, v, w, dtype), None)
            if n == lengths[-1]:  # one compilation per dtype, at the longest length only
                record(f"torch.compile causal {label}",
                       lambda: compiled(torch, q, k, v, w, dtype), None)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
        del q, k, v
        torch.cuda.empty_cache()
    print_table(result)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("out")
    b.add_argument("--n", type=int, nargs="*", default=[4096, 65536])
    b.add_argument("--attn-compile", default=os.path.join(ROOT, "build", "bin", "attn-compile"))
    b.add_argument("--attn-opt", default=os.path.join(ROOT, "build", "bin", "attn-opt"))
    b.add_argument("--chunks", type=int, nargs="*", default=[32, 128])
    b.add_argument("--before", help="an attn-compile without the chunked scan")
    b.add_argument("--before-n", type=int, nargs="*", default=[4096])
    b.add_argument("--levels", action="store_true",
                   help="also the two-level prefix (causal-prefix=levels) at the longest length")
    b.add_argument("--scalar", action="store_true",
                   help="also the scalar scan (causal-mma=off) at the first length")
    r = sub.add_parser("run")
    r.add_argument("artifacts")
    r.add_argument("--json")
    r.add_argument("--commit", default="unknown")
    r.add_argument("--reps", type=int, default=20)
    r.add_argument("--rows", type=int, default=16)
    r.add_argument("--budget-s", type=float, default=240)
    args = ap.parse_args()
    if args.command == "build":
        build(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
