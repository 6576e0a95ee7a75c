#!/usr/bin/env python3
"""Kernelized attention (Performer FAVOR+, docs/Semantics.md §7) on one GPU, side by side on the
same inputs: ours (attn.kernelized favor_plus compiled by attn-compile --target=cuda
--gpu-abi=device, which attn-gpu-pipeline runs as two attn.sdpa ops on the Hopper core, see
docs/GPU.md) against the same math in torch, eager and torch.compile'd, computed in f32 (the
inputs upcast) and in bf16. bf16, B=2, H=16, D=64, m=256, non-causal; N 16384 and 65536.

  here (LLVM):  python3 bench/gpu/variants.py build OUT [--n 16384 65536]
      OUT/favor_n<N>/       the spec as written (the pipeline picks the key runs: "ours")
      OUT/favor_n<N>_s<S>/  the spec after attn-gpu-kernelized-as-sdpa{kv-splits=S}
  on the GPU:   python3 bench/gpu/variants.py run OUT --json RESULT.json [--commit SHA]
                python3 bench/gpu/variants.py profile OUT/favor_n65536 [--n 65536]
      the GPU time of each kernel of our call (torch.profiler, which records the kernels that
      the artifact launches through the driver too), summed over --reps calls

With --lsh-cluster (build and run): attn.lsh (2 rounds, 64 buckets, chunk 64, causal) and
attn.cluster (16 centroids, window 1024, causal) at N=16384, B=2, H=16, D=64: ours in f32 (the
general path) and in bf16 (lsh: attn-gpu-lsh-cluster-as-sdpa, the chunks on the Hopper core),
each spec through attn-compile, run in a subprocess with a time limit (--ours-timeout-s),
against torch eager of the same semantics (bench/cpu/variants_lsh.py's torch_lsh and
torch_cluster, run on the GPU) in f32 and in bf16; one set of inputs (drawn in f32, rounded to
bf16, so every row sees the same values); errors are against torch eager f32. Ours and torch
eager are both timed with CUDA events around each call (the artifact returns without waiting
for its stream), the median of --ours-reps / 5 calls.
--only-lsh-cluster skips the FAVOR+ rows; `profile ARTIFACT --op lsh|cluster [--dtype bf16]`
gives the kernels of those calls.

Times: CUDA events around single calls, the median of --reps after 3 warm-ups
(check_core.median_ms, as bench.py times). Our call is synchronous (the device ABI waits for its
stream), so its time is the whole call from Python. Accuracy: every output (ours NaN-filled
before the call) is compared with the float64 reference (python/attn_mlir/reference.py) on
--rows random query rows per (batch, head) (the reference is non-causal, so rows are
independent), within the numerics contract's bf16 bound (1e-2).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(ROOT, "python")]

B, H, D, M = 2, 16, 64, 256
SPLITS = (1, 2, 4, 8, 16)


def spec(n):
    q = f"tensor<{B}x{H}x{n}x{D}xbf16>"
    w = f"tensor<{H}x{M}x{D}xbf16>"
    return f"""func.func @main(%q: {q}, %k: {q}, %v: {q}, %w: {w}, %o: {q}) -> {q} {{
  %r = attn.kernelized favor_plus ins(%q, %k, %v : {q}, {q}, {q})
         projection(%w : {w}) outs(%o : {q}) -> {q}
  return %r : {q}
}}
"""


def variants_lsh():
    """bench/cpu/variants_lsh.py (its torch_lsh, torch_cluster and specs), with B=2, H=16."""
    import importlib.util
    path = os.path.join(ROOT, "bench", "cpu", "variants_lsh.py")
    loader = importlib.util.spec_from_file_location("variants_lsh", path)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    module.B, module.H = B, H
    return module


LSH_N = 16384


def build_lsh_cluster(out, attn_compile):
    module = variants_lsh()
    specs = []
    for op, text in (("lsh", module.lsh_spec(LSH_N, True)),
                     ("cluster", module.cluster_spec(LSH_N, True))):
        specs += [(f"{op}_n{LSH_N}", text), (f"{op}_bf16_n{LSH_N}", text.replace("xf32>", "xbf16>"))]
    for name, text in specs:
        directory = os.path.join(out, name)
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"{name}.mlir")
        with open(path, "w") as f:
            f.write(text)
        done = subprocess.run([attn_compile, path, "--target=cuda", "--gpu-abi=device", "-o",
                               directory], capture_output=True, text=True)
        print(directory, "ok" if done.returncode == 0 else done.stderr.strip()[-300:], flush=True)


def lsh_cluster_inputs(torch, op, dtype="f32"):
    """The inputs of the lsh / cluster rows, the same in every process (seeded): drawn in f32
    and rounded to bf16, as torch.float32 (`dtype` f32) or torch.bfloat16 tensors."""
    torch.manual_seed(5)
    x = [torch.randn(B, H, LSH_N, D, device="cuda") for _ in range(3)]
    if op == "lsh":
        t = {"qk": x[0], "v": x[1], "rot": torch.randn(H, 2, D, 32, device="cuda")}
    else:
        t = {"q": x[0], "k": x[1], "v": x[2], "c": torch.randn(H, 16, D, device="cuda")}
    want = torch.bfloat16 if dtype == "bf16" else torch.float32
    return {name: a.to(torch.bfloat16).to(want) for name, a in t.items()}


def ours_once(args):
    """One op's artifact in this process: a first call, then --reps timed calls if the first
    took under 2 s (each timed with CUDA events on the current stream, as the torch rows are,
    and on the host clock to its end: the artifact returns without waiting for the stream);
    prints a JSON line and saves the output to --save."""
    import numpy as np
    import torch
    from attn_mlir.artifact import load
    entry = load(args.artifact).entry("main")
    inputs = lsh_cluster_inputs(torch, args.op, args.dtype)
    o = torch.full((B, H, LSH_N, D), float("nan"), device="cuda",
                   dtype=torch.bfloat16 if args.dtype == "bf16" else torch.float32)
    torch.cuda.synchronize()
    start = time.perf_counter()
    entry(*inputs.values(), o)
    torch.cuda.synchronize()
    first = 1e3 * (time.perf_counter() - start)
    row = {"first_call_ms": first}
    if first < 2000:
        times, walls = [], []
        for _ in range(args.reps):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start = time.perf_counter()
            a.record()
            entry(*inputs.values(), o)
            b.record()
            b.synchronize()
            walls.append(1e3 * (time.perf_counter() - start))
            times.append(a.elapsed_time(b))
        row["ms"] = sorted(times)[len(times) // 2]
        row["wall_ms"] = sorted(walls)[len(walls) // 2]
    else:
        row["ms"] = first
    np.save(args.save, o.float().cpu().numpy())
    print(json.dumps(row), flush=True)


def lsh_cluster_rows(args, result):
    import numpy as np
    import torch
    from check_core import median_ms
    module = variants_lsh()
    fns = {"lsh": lambda t: module.torch_lsh(torch, t["qk"], t["v"], t["rot"], True),
           "cluster": lambda t: module.torch_cluster(torch, t["q"], t["k"], t["v"], t["c"], True)}
    for op, fn in fns.items():
        rows, expected = [], None
        for dtype in ("f32", "bf16"):
            inputs = lsh_cluster_inputs(torch, op, dtype)
            row = {"N": LSH_N, "op": op, "dtype": dtype, "impl": f"torch eager {dtype}"}
            try:
                # torch_lsh / torch_cluster allocate their results in the default dtype.
                torch.set_default_dtype(torch.bfloat16 if dtype == "bf16" else torch.float32)
                with torch.device("cuda"), torch.no_grad():
                    got = fn(inputs).float().cpu().numpy()
                    row["ms"], _ = median_ms(lambda: fn(inputs), 5)
                if expected is None:
                    expected = got
                row["rel_err_vs_torch_eager"] = float(np.linalg.norm(got - expected)
                                                      / np.linalg.norm(expected))
                row["nan"] = int(np.isnan(got).sum())
            except Exception as err:  # noqa: BLE001 - reported
                row["error"] = " ".join(repr(err).split())[:300]
            finally:
                torch.set_default_dtype(torch.float32)
            rows.append(row)
        for dtype in ("f32", "bf16"):
            name = f"{op}_n{LSH_N}" if dtype == "f32" else f"{op}_bf16_n{LSH_N}"
            rows.append(ours_row(args, op, dtype, name, expected))
        for r in rows:
            result["lsh_cluster"].append(r)
            print(json.dumps(r), flush=True)


def ours_row(args, op, dtype, name, expected):
    """One row of ours: the artifact `name` in a subprocess (`one`), within --ours-timeout-s."""
    import numpy as np
    save = f"/tmp/{name}-ours.npy"
    artifact = os.path.join(args.artifacts, name)
    row = {"N": LSH_N, "op": op, "dtype": dtype, "impl": f"ours {dtype}"}
    try:
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "one", artifact,
                               "--op", op, "--dtype", dtype, "--save", save, "--reps",
                               str(args.ours_reps)],
                              capture_output=True, text=True, timeout=args.ours_timeout_s)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode or not lines:
            raise RuntimeError(done.stderr.strip()[-300:])
        row.update(json.loads(lines[-1]))
        got = np.load(save)
        row["nan"] = int(np.isnan(got).sum())
        row["rel_err_vs_torch_eager"] = float(np.linalg.norm(got - expected)
                                              / np.linalg.norm(expected))
    except subprocess.TimeoutExpired:
        row["error"] = f"no result within {args.ours_timeout_s} s (killed)"
    except Exception as err:  # noqa: BLE001 - reported
        row["error"] = " ".join(str(err).split())[:300]
    return row


def build(out, lengths, attn_compile, attn_opt):
    for n in lengths:
        variants = [(f"favor_n{n}", None)] + [(f"favor_n{n}_s{s}", s) for s in SPLITS]
        for name, splits in variants:
            directory = os.path.join(out, name)
            os.makedirs(directory, exist_ok=True)
            path = os.path.join(directory, f"{name}.mlir")
            text = spec(n)
            if splits is not None:
                text = subprocess.run(
                    [attn_opt, f"--attn-gpu-kernelized-as-sdpa=kv-splits={splits}"],
                    input=text, capture_output=True, text=True, check=True).stdout
            with open(path, "w") as f:
                f.write(text)
            subprocess.run([attn_compile, path, "--target=cuda", "--gpu-abi=device", "-o",
                            directory], check=True)
            print(directory, flush=True)


def favor_torch(torch, q, k, v, w, dtype):
    """FAVOR+ as docs/Semantics.md §7 writes it (non-causal), computed in `dtype`: phi(x) =
    exp(W x' - |x'|^2 / 2) / sqrt(m) with a per-query and a per-(b, h) key stabiliser that
    cancel, then (phi_q (phi_k^T v)) / (phi_q sum_n phi_k)."""
    phiq, phik, v = favor_features(torch, q, k, v, w, dtype)
    kv = phik.transpose(-2, -1) @ v
    z = phik.sum(-2)
    return ((phiq @ kv) / (phiq @ z.unsqueeze(-1))).to(torch.bfloat16)


def favor_features(torch, q, k, v, w, dtype):
    """phi(q), phi(k) (with the per-query and the per-(b, h) key stabiliser) and v in `dtype`
    (also bench/gpu/favor_causal.py's)."""
    q, k, v, w = (x.to(dtype) for x in (q, k, v, w))
    c = q.shape[-1] ** -0.25

    def expo(x):
        xs = x * c
        return torch.einsum("bhnd,hmd->bhnm", xs, w) - (xs * xs).sum(-1, keepdim=True) / 2

    aq = expo(q)
    phiq = torch.exp(aq - aq.amax(-1, keepdim=True)) / math.sqrt(w.shape[1])
    ak = expo(k)
    phik = torch.exp(ak - ak.amax(dim=(-2, -1), keepdim=True)) / math.sqrt(w.shape[1])
    return phiq, phik, v


def result_header(torch, args):
    """The result's device, versions and FAVOR+ shape (also bench/gpu/favor_causal.py's)."""
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip()
    return {"device": smi, "torch": torch.__version__, "commit": args.commit, "B": B, "H": H,
            "D": D, "m": M, "dtype": "bf16", "reps": args.reps, "rows_checked": args.rows,
            "rows": []}


def favor_inputs(torch, n):
    """q, k, v [B, H, n, D] and W [H, M, D] in bf16 on the GPU, seeded by n."""
    torch.manual_seed(n)
    q, k, v = (torch.randn(B, H, n, D, dtype=torch.bfloat16, device="cuda") for _ in range(3))
    return q, k, v, torch.randn(H, M, D, dtype=torch.bfloat16, device="cuda")


def run(args):
    import numpy as np
    import torch
    from check_core import median_ms
    from attn_mlir import reference
    from attn_mlir.artifact import load

    result = result_header(torch, args)
    compiled = torch.compile(favor_torch)
    start = time.time()
    for n in ([] if args.only_lsh_cluster else args.n):
        q, k, v, w = favor_inputs(torch, n)
        rng = np.random.default_rng(n)
        rows = np.sort(rng.choice(n, size=min(args.rows, n), replace=False))
        expected = reference.kernelized(q[:, :, rows].float().cpu().numpy(),
                                        k.float().cpu().numpy(), v.float().cpu().numpy(),
                                        "favor_plus", projection=w.float().cpu().numpy())

        def record(impl, fn, out):
            row = {"N": n, "impl": impl}
            try:
                if time.time() - start > args.budget_s:
                    raise RuntimeError(f"budget of {args.budget_s} s reached")
                got = fn() if out is None else (fn(), out)[1]
                torch.cuda.synchronize()
                got = got[:, :, rows].float().cpu().numpy()
                row["nan"] = int(np.isnan(got).sum())
                row["rel_err_vs_f64"] = float(reference.rel_error(got, expected))
                ms, _ = median_ms(fn, args.reps)
                row["ms"] = ms
            except Exception as err:  # noqa: BLE001 - reported
                row["error"] = " ".join(repr(err).split())[:300]
            result["rows"].append(row)
            print(json.dumps(row), flush=True)

        names = sorted(d for d in os.listdir(args.artifacts) if d.startswith(f"favor_n{n}"))
        for name in names:
            try:
                entry = load(os.path.join(args.artifacts, name)).entry("main")
            except Exception as err:  # noqa: BLE001 - reported
                result["rows"].append({"N": n, "impl": name, "error": repr(err)[:300]})
                continue
            o = torch.full_like(q, float("nan"))
            label = "ours" if name == f"favor_n{n}" else f"ours ({name.split('_')[-1]})"
            record(label, lambda: entry(q, k, v, w, o), o)
        for label, dtype in (("f32", torch.float32), ("bf16", torch.bfloat16)):
            record(f"torch eager {label}", lambda: favor_torch(torch, q, k, v, w, dtype), None)
            record(f"torch.compile {label}", lambda: compiled(torch, q, k, v, w, dtype), None)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
        del q, k, v
        torch.cuda.empty_cache()
    if args.lsh_cluster or args.only_lsh_cluster:
        result["lsh_cluster"] = []
        lsh_cluster_rows(args, result)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
    print_table(result)


def profile(args):
    import torch
    from torch.profiler import ProfilerActivity
    from attn_mlir.artifact import load
    entry = load(args.artifact).entry("main")
    n = args.n[0]
    if args.op == "favor":
        q, k, v = (torch.randn(B, H, n, D, dtype=torch.bfloat16, device="cuda")
                   for _ in range(3))
        w = torch.randn(H, M, D, dtype=torch.bfloat16, device="cuda")
        operands = [q, k, v, w, torch.empty_like(q)]
    else:
        n = LSH_N
        operands = list(lsh_cluster_inputs(torch, args.op, args.dtype).values())
        operands.append(torch.empty_like(operands[0]))
    for _ in range(3):
        entry(*operands)
    torch.cuda.synchronize()
    with torch.profiler.profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(args.reps):
            entry(*operands)
        torch.cuda.synchronize()
    print(f"{args.artifact}, N={n}, {args.reps} calls")
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=25, max_name_column_width=40))
    trace = "/tmp/favor-trace.json"
    prof.export_chrome_trace(trace)
    with open(trace) as f:
        kernels = [e for e in json.load(f)["traceEvents"] if e.get("cat") == "kernel"]
    kernels.sort(key=lambda e: e["ts"])
    per_call = len(kernels) // args.reps
    print("the kernels of the last call, in launch order (us):")
    for e in kernels[-per_call:]:
        grid = e.get("args", {}).get("grid")
        print(f"  {e['name']:20} {e['dur']:9.1f}  grid {grid}")


def print_table(result):
    print(f"\n{result['device']}, torch {result['torch']}, commit {result['commit']}; FAVOR+ "
          f"bf16 B={result['B']} H={result['H']} D={result['D']} m={result['m']}; ms, "
          f"rel. error vs float64 on {result['rows_checked']} rows per head")
    for n in sorted({r["N"] for r in result["rows"]}):
        rows = [r for r in result["rows"] if r["N"] == n]
        best = min((r["ms"] for r in rows if r["impl"].startswith("torch.compile") and "ms" in r),
                   default=None)
        for r in rows:
            if "error" in r:
                print(f"{n:>6} {r['impl']:24} error: {r['error'][:100]}")
                continue
            speed = f"{best / r['ms']:6.2f}x" if best else ""
            print(f"{n:>6} {r['impl']:24} {r['ms']:9.3f} ms  err {r['rel_err_vs_f64']:.2e}  "
                  f"nan {r['nan']}  vs best compiled {speed}")
    for r in result.get("lsh_cluster", []):
        what = f"{r['ms']:9.3f} ms" if "ms" in r else f"error: {r.get('error', '')[:100]}"
        extra = (f"  err vs eager {r['rel_err_vs_torch_eager']:.2e}  nan {r['nan']}"
                 if "rel_err_vs_torch_eager" in r else "")
        print(f"{r['N']:>6} {r['op'] + ' ' + r['impl']:30} {what}{extra}")
    by = {(r["op"], r["impl"]): r.get("ms") for r in result.get("lsh_cluster", [])}
    for op in ("lsh", "cluster"):
        ours = by.get((op, "ours bf16"))
        for peer in ("torch eager f32", "torch eager bf16"):
            if ours and by.get((op, peer)):
                print(f"{op}: ours bf16 is {by[(op, peer)] / ours:.2f}x faster than {peer}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("out")
    b.add_argument("--n", type=int, nargs="*", default=[16384, 65536])
    b.add_argument("--attn-compile", default=os.path.join(ROOT, "build", "bin", "attn-compile"))
    b.add_argument("--attn-opt", default=os.path.join(ROOT, "build", "bin", "attn-opt"))
    b.add_argument("--lsh-cluster", action="store_true")
    r = sub.add_parser("run")
    r.add_argument("artifacts")
    r.add_argument("--json")
    r.add_argument("--commit", default="unknown")
    r.add_argument("--reps", type=int, default=20)
    r.add_argument("--rows", type=int, default=256)
    r.add_argument("--n", type=int, nargs="+", default=[16384, 65536])
    r.add_argument("--budget-s", type=float, default=300)
    r.add_argument("--lsh-cluster", action="store_true")
    r.add_argument("--ours-timeout-s", type=float, default=120)
    r.add_argument("--ours-reps", type=int, default=10)
    r.add_argument("--only-lsh-cluster", action="store_true")
    one = sub.add_parser("one")
    one.add_argument("artifact")
    one.add_argument("--op", choices=["lsh", "cluster"], required=True)
    one.add_argument("--save", required=True)
    one.add_argument("--reps", type=int, default=3)
    one.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    p = sub.add_parser("profile")
    p.add_argument("artifact")
    p.add_argument("--n", type=int, nargs="+", default=[65536])
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--op", choices=["favor", "lsh", "cluster"], default="favor")
    p.add_argument("--dtype", choices=["f32", "bf16"], default="bf16")
    args = ap.parse_args()
    if args.command == "profile":
        profile(args)
    elif args.command == "one":
        ours_once(args)
    elif args.command == "build":
        build(args.out, args.n, args.attn_compile, args.attn_opt)
        if args.lsh_cluster:
            build_lsh_cluster(args.out, args.attn_compile)
    else:
        run(args)


if __name__ == "__main__":
    main()
