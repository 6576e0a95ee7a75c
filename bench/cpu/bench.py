#!/usr/bin/env python3
"""CPU attention benchmark: attn-mlir side by side with its peers, on the same inputs, in one run.

Per workload (pattern, N, dtype) it times, on the same q, k, v:
  * ours, fused (`attn-run --mode=fused`) where attn-run has that mode;
  * ours, reference (`attn-run --mode=reference`) where its O(N^2) buffers fit;
  * numpy eager (materialized scores, per head), with whichever BLAS numpy runs;
  * torch's CPU scaled_dot_product_attention (a boolean mask for patterns);
  * FlexAttention on the CPU (torch.compile'd, the same mask as a mask_mod, the block mask
    built outside the timed region);
and, once per run, numpy sgemm as the ceiling. Every time is a median over --runs runs.

It prints a table, writes bench/results/cpu-<date>.json (machine, CPU flags, BLAS, versions,
commit) and draws docs/bench-cpu.png (time against N, per pattern, log-log).

Run it through bench/cpu/run.sh, which installs the peers (OpenBLAS for numpy, torch from the
Python package registry into bench/.venv). Nothing here is needed by the tests.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time


def _threads_from_argv():
    """--threads, read before numpy loads its BLAS (whose pool size is fixed at load)."""
    for i, arg in enumerate(sys.argv):
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    return str(os.cpu_count())


for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads_from_argv()

import numpy as np  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from attn_mlir import patterns as P  # noqa: E402

B, H, D = 1, 8, 64

# name -> (pattern object, MLIR pattern clause text or "" for dense)
def workload_patterns():
    window = P.Window(256, 256)
    longformer = P.Union([P.Window(256, 256), P.Global(first=64)])
    bigbird = P.Union([P.Window(64, 64), P.Global(first=128),
                       P.Random(block=64, per_row=3, seed=2020)])
    return {
        "dense": P.Dense(),
        "causal": P.Causal(),
        "window": window,
        "longformer": longformer,
        "bigbird": bigbird,
    }


# The issue's target sizes; --quick shrinks them for a smoke run.
FULL_SIZES = {
    "dense": [1024, 4096, 16384],
    "causal": [4096, 16384],
    "window": [8192, 65536],
    "longformer": [8192, 65536],
    "bigbird": [16384],
}
QUICK_SIZES = {name: [256, 512] for name in FULL_SIZES}


def median_time(fn, runs, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def spec_text(pattern, n, dtype):
    t = f"tensor<{B}x{H}x{n}x{D}x{dtype}>"
    clause = "" if isinstance(pattern, P.Dense) else f"\n         pattern({pattern.to_mlir()})"
    return (f"func.func @main(%q: {t}, %k: {t}, %v: {t}, %o: {t}) -> {t} {{\n"
            f"  %r = attn.sdpa ins(%q, %k, %v : {t}, {t}, {t})\n"
            f"         outs(%o : {t}){clause}\n         -> {t}\n"
            f"  return %r : {t}\n}}\n")


def count_live(pattern, n):
    """Live (i, j) pairs of `pattern` at Nq = Nk = n, exactly, by row blocks."""
    if isinstance(pattern, P.Dense):
        return n * n
    total = 0
    rows = max(1, (1 << 24) // n)
    j = np.arange(n, dtype=np.int64)[None, :]
    for start in range(0, n, rows):
        i = np.arange(start, min(n, start + rows), dtype=np.int64)[:, None]
        total += int(np.count_nonzero(pattern.is_live(i, j, n, n)))
    return total


def dense_mask(pattern, n):
    """The [n, n] boolean mask of `pattern` (None for dense)."""
    if isinstance(pattern, P.Dense):
        return None
    i = np.arange(n, dtype=np.int64)[:, None]
    j = np.arange(n, dtype=np.int64)[None, :]
    return pattern.is_live(i, j, n, n)


def attn_run_modes(attn_run):
    text = subprocess.run([attn_run, "--help"], capture_output=True, text=True).stdout
    return {m for m in ("fused", "reference") if m in text}


def run_ours(attn_run, mode, spec, inputs, runs, threads):
    """Median ms from attn-run's own --bench line, and the child's peak RSS in bytes."""
    args = [attn_run, spec, f"--mode={mode}", f"--bench={runs}", f"--threads={threads}"]
    args += [f"--input={name}={path}" for name, path in inputs.items()]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    out, err = proc.communicate()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        return {"error": (err or out).strip().splitlines()[-1:]}
    m = re.search(r"median ([0-9.]+) ms", out)
    c = re.search(r"compile(?:d| time)[^0-9]*([0-9.]+) ?(ms|s)", out + err)
    result = {"ms": float(m.group(1)), "peak_rss_bytes": usage.ru_maxrss * 1024}
    if c:
        result["compile_s"] = float(c.group(1)) / (1000.0 if c.group(2) == "ms" else 1.0)
    return result


def numpy_eager(q, k, v, mask, scale):
    out = np.empty_like(q)
    for h in range(q.shape[1]):
        s = (q[0, h] @ k[0, h].T) * scale
        if mask is not None:
            s = np.where(mask, s, -np.inf)
        s -= s.max(axis=1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=1, keepdims=True)
        out[0, h] = s @ v[0, h]
    return out


def sgemm_gflops(runs):
    n = 2048
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    t = median_time(lambda: a @ a, runs)
    return 2.0 * n ** 3 / t / 1e9


def numpy_blas():
    try:
        info = np.show_config(mode="dicts")
        return info["Build Dependencies"]["blas"]["name"]
    except Exception:  # older numpy: read the loaded libraries instead
        maps = pathlib.Path("/proc/self/maps").read_text()
        for lib in ("openblas", "blis", "mkl", "libblas"):
            if lib in maps:
                return lib
        return "unknown"


class Torch:
    """torch's CPU SDPA and FlexAttention, when torch imports."""

    def __init__(self, threads):
        try:
            import torch
            import torch.nn.functional as F
        except Exception as e:  # noqa: BLE001
            self.torch, self.why = None, f"torch unavailable: {e}"
            return
        self.torch, self.F, self.why = torch, F, ""
        torch.set_num_threads(threads)
        try:
            from torch.nn.attention.flex_attention import create_block_mask, flex_attention
            self.create_block_mask = create_block_mask
            self.flex = torch.compile(flex_attention)
        except Exception as e:  # noqa: BLE001
            self.flex, self.flex_why = None, f"FlexAttention unavailable: {e}"

    def sdpa(self, q, k, v, mask, causal, runs):
        t = self.torch
        tq, tk, tv = (t.from_numpy(x) for x in (q, k, v))
        tm = None if mask is None or causal else t.from_numpy(mask)
        with t.no_grad():
            fn = lambda: self.F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tm,  # noqa: E731
                                                             is_causal=causal)
            return median_time(fn, runs)

    def mask_mod(self, name, n):
        t = self.torch
        if name == "causal":
            return lambda b, h, qi, kj: kj <= qi
        if name == "window":
            return lambda b, h, qi, kj: (qi - kj).abs() <= 256
        if name == "longformer":
            return lambda b, h, qi, kj: ((qi - kj).abs() <= 256) | (qi < 64) | (kj < 64)
        if name == "bigbird":
            table = t.from_numpy(P.Random(block=64, per_row=3, seed=2020)
                                 .chosen_blocks(np.arange(-(-n // 64)), n))
            return lambda b, h, qi, kj: (((qi - kj).abs() <= 64) | (qi < 128) | (kj < 128)
                                         | table[qi // 64, kj // 64])
        return None

    def flex_attention(self, name, q, k, v, runs):
        if self.flex is None:
            return {"error": self.flex_why}
        t = self.torch
        n = q.shape[2]
        mod = self.mask_mod(name, n)
        tq, tk, tv = (t.from_numpy(x) for x in (q, k, v))
        try:
            block_mask = None if mod is None else self.create_block_mask(
                mod, B=None, H=None, Q_LEN=n, KV_LEN=n, device="cpu")
            with t.no_grad():
                return {"ms": 1e3 * median_time(
                    lambda: self.flex(tq, tk, tv, block_mask=block_mask), runs)}
        except Exception as e:  # noqa: BLE001
            return {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"}


def machine_info():
    flags = ""
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = line.split(":", 1)[1].split()
            break
    model = next((l.split(":", 1)[1].strip() for l in
                  pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                  if l.startswith("model name")), platform.processor())
    keep = [f for f in flags if f.startswith(("avx", "amx", "fma", "f16c"))]
    return {"cpu": model, "cores": os.cpu_count(), "flags": keep, "host": platform.node()}


def git_commit():
    proc = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "-uno"],
                           capture_output=True, text=True).stdout.strip()
    return proc.stdout.strip() + ("+dirty" if dirty else "")


# One colour per implementation in every panel.
IMPL_COLORS = {"ours_fused": "tab:blue", "ours_reference": "tab:cyan",
               "numpy_eager": "tab:orange", "torch_sdpa": "tab:green", "flex": "tab:red"}


def plot(rows, path, title=""):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:  # noqa: BLE001
        print(f"no plot: {e}")
        return
    names = sorted({r["pattern"] for r in rows})
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        sel = [r for r in rows if r["pattern"] == name and r["dtype"] == "f32"]
        for impl, color in IMPL_COLORS.items():
            pts = [(r["n"], r[impl]["ms"]) for r in sel if "ms" in r.get(impl, {})]
            if pts:
                xs, ys = zip(*sorted(pts))
                ax.loglog(xs, ys, marker="o", color=color, label=impl)
        ax.set_title(name)
        ax.set_xlabel("N")
        ax.set_ylabel("ms")
        ax.grid(True, which="both", alpha=0.3)
    handles = [plt.Line2D([], [], color=c, marker="o", label=i) for i, c in IMPL_COLORS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.08, 1, 0.93))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot: {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--patterns", default=",".join(FULL_SIZES))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-n", type=int, default=None, help="leave out sizes above this N")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--attn-run", default=os.environ.get("ATTN_RUN",
                                                         str(REPO / "build/bin/attn-run")))
    ap.add_argument("--reference-max-n", type=int, default=4096,
                    help="largest N for our reference path (it holds [B, H, N, N] f32 buffers)")
    ap.add_argument("--eager-max-n", type=int, default=16384,
                    help="largest N for numpy eager and torch SDPA with a mask (N x N per head)")
    ap.add_argument("--out", default=str(REPO / "bench/results"))
    ap.add_argument("--plot-only", metavar="JSON", help="redraw the plot of an earlier run")
    args = ap.parse_args()
    if args.plot_only:
        result = json.loads(pathlib.Path(args.plot_only).read_text())
        plot(result["rows"], REPO / "docs/bench-cpu.png", plot_title(result))
        return

    commit = git_commit()  # the code that runs, read before the run
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    pats = workload_patterns()
    modes = attn_run_modes(args.attn_run)
    torch = Torch(args.threads)
    blas = numpy_blas()
    ceiling = sgemm_gflops(args.runs)
    print(f"numpy {np.__version__} BLAS: {blas}; sgemm 2048^3: {ceiling:.1f} GFLOP/s; "
          f"threads {args.threads}; attn-run modes: {sorted(modes)}; "
          f"torch: {torch.torch.__version__ if torch.torch else torch.why}")

    rows = []
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="attn-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        for name in args.patterns.split(","):
            pattern = pats[name]
            for n in sizes[name]:
                if args.max_n and n > args.max_n:
                    continue
                q, k, v = (rng.standard_normal((B, H, n, D), dtype=np.float32) for _ in range(3))
                o = np.zeros_like(q)
                inputs = {}
                for arg, arr in (("q", q), ("k", k), ("v", v), ("o", o)):
                    inputs[arg] = tmp / f"{arg}.npy"
                    np.save(inputs[arg], arr)
                spec = tmp / "spec.mlir"
                spec.write_text(spec_text(pattern, n, "f32"))
                live = count_live(pattern, n)
                row = {"pattern": name, "n": n, "dtype": "f32", "live_pairs": live,
                       "flop_live": 4.0 * B * H * live * D}
                for mode in ("fused", "reference"):
                    key = f"ours_{mode}"
                    if mode not in modes:
                        row[key] = {"error": "attn-run has no such mode"}
                    elif mode == "reference" and n > args.reference_max_n:
                        row[key] = {"error": f"skipped: N > {args.reference_max_n}"}
                    else:
                        row[key] = run_ours(args.attn_run, mode, str(spec), inputs, args.runs,
                                            args.threads)
                mask = None
                if n <= args.eager_max_n:
                    mask = dense_mask(pattern, n)
                    scale = 1.0 / np.sqrt(D)
                    row["numpy_eager"] = {"ms": 1e3 * median_time(
                        lambda: numpy_eager(q, k, v, mask, scale), args.runs)}
                else:
                    row["numpy_eager"] = {"error": f"skipped: N > {args.eager_max_n}"}
                if torch.torch is None:
                    row["torch_sdpa"] = row["flex"] = {"error": torch.why}
                else:
                    causal = name == "causal"
                    if mask is None and not isinstance(pattern, P.Dense) and not causal:
                        row["torch_sdpa"] = {"error": f"skipped: N x N mask at N = {n}"}
                    else:
                        row["torch_sdpa"] = {"ms": 1e3 * torch.sdpa(q, k, v, mask, causal,
                                                                     args.runs)}
                    row["flex"] = torch.flex_attention(name, q, k, v, args.runs)
                rows.append(row)
                print_row(row)

    stamp = datetime.datetime.now(datetime.timezone.utc)
    result = {"date": stamp.isoformat(timespec="seconds"), "commit": commit,
              "machine": machine_info(), "numpy": np.__version__, "numpy_blas": blas,
              "torch": torch.torch.__version__ if torch.torch else None,
              "threads": args.threads, "runs": args.runs, "B": B, "H": H, "D": D,
              "sgemm_gflops": ceiling, "rows": rows}
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"cpu-{stamp.strftime('%Y-%m-%d')}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"json: {path}")
    if not args.quick:
        plot(rows, REPO / "docs/bench-cpu.png", plot_title(result))


def plot_title(result):
    return (f"attention, f32, B={result['B']} H={result['H']} D={result['D']}, "
            f"{result['threads']} thread(s), median ms; {result['machine']['cpu']}, "
            f"commit {result['commit']}, {result['date']}")


def print_row(row):
    cells = []
    for impl in ("ours_fused", "ours_reference", "numpy_eager", "torch_sdpa", "flex"):
        r = row.get(impl, {})
        if "ms" in r:
            gf = row["flop_live"] / (r["ms"] * 1e-3) / 1e9
            cells.append(f"{impl} {r['ms']:9.2f} ms {gf:6.1f} GF/s")
        else:
            cells.append(f"{impl} {'-':>9}")
    print(f"{row['pattern']:>10} N={row['n']:>6} {row['dtype']}: " + " | ".join(cells),
          flush=True)


if __name__ == "__main__":
    main()
