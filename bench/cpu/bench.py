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

It prints a table, then the targets of issue 9 (item 6) as measured by this run, writes
bench/results/cpu-<date>.json (date, machine, CPU flags, BLAS, versions, commit, every row and
every target) and draws docs/bench-cpu.png (time against N, per pattern, log-log). The targets:
  * dense N=4096: GFLOP/s, % of this run's numpy sgemm, and against torch SDPA;
  * bf16 dense N=4096: ours against our f32 and against torch SDPA in bf16;
  * causal N=16384 against dense N=16384;
  * window (256 each side) and Longformer (+ 64 global tokens) at N=8192 and 65536: live-pair
    throughput against dense, time per live pair 65536 / 8192, and the compiled call's memory
    beyond inputs and results (`attn-run --profile`);
  * BigBird (block 64: a window of one block each side, 2 global blocks, 3 random blocks per
    row) at N=16384: live-pair throughput against dense, and against FlexAttention;
  * 2 threads against 1 on dense N=4096 (ours, attn-run --threads);
  * the JIT compile time of one spec through the fused pipeline (attn-run --profile).
`--quick` runs the same set at small sizes (a few minutes); `--only` picks targets.

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
    return {
        "dense": P.Dense(),
        "causal": P.Causal(),
        "window": window,
        "longformer": longformer,
        "bigbird": bigbird,
    }


def bigbird(n):
    """BigBird at length n, block 64: 3 window blocks (its own and one each side, a
    tridiagonal block_sparse layout), 2 global blocks (the first 128 tokens), 3 random
    blocks per row."""
    blocks = -(-n // 64)
    rows = np.arange(blocks)
    layout = np.abs(rows[:, None] - rows[None, :]) <= 1
    return P.Union([P.BlockSparse((64, 64), layout), P.Global(first=128),
                    P.Random(block=64, per_row=3, seed=2020)])


# The issue's target sizes; --quick shrinks them for a smoke run. "dense" is the reference
# size of the dense, bf16 and threads targets; "sparse" the two sizes of window / Longformer.
FULL_SIZES = {
    "dense": [1024, 4096, 16384],
    "causal": [4096, 16384],
    "window": [8192, 65536],
    "longformer": [8192, 65536],
    "bigbird": [16384],
}
QUICK_SIZES = {
    "dense": [256, 512, 1024],
    "causal": [512, 1024],
    "window": [1024, 4096],
    "longformer": [1024, 4096],
    "bigbird": [1024],
}
# The N of each target: (dense / bf16 / threads, causal, the two sparse sizes, bigbird).
FULL_TARGET_N = {"dense": 4096, "causal": 16384, "sparse": (8192, 65536), "bigbird": 16384}
QUICK_TARGET_N = {"dense": 512, "causal": 1024, "sparse": (1024, 4096), "bigbird": 1024}


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
    """One attn.sdpa over [B, H, n, D] of `dtype` (an MLIR element type)."""
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


def run_ours(attn_run, mode, spec, inputs, runs, threads, extra=()):
    """Median ms from attn-run's own --bench line, the child's peak RSS in bytes, and from
    --profile the JIT compile time and the call's memory beyond its inputs and results.
    `extra`: more attn-run flags (an --output, say)."""
    args = [attn_run, spec, f"--mode={mode}", f"--bench={runs}", f"--threads={threads}",
            "--profile", *extra]
    args += [f"--input={name}={path}" for name, path in inputs.items()]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    out, err = proc.communicate()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        return {"error": (err or out).strip().splitlines()[-1:]}
    m = re.search(r"median ([0-9.]+) ms", out)
    cpu = re.search(r"CPU time median ([0-9.]+) ms", out)
    c = re.search(r"compile @\S+ \(mode=\w+\): ([0-9.]+) s", out)
    mem = re.search(r"memory @\S+: (\d+) bytes .* peak (\d+) bytes", out)
    result = {"ms": float(m.group(1)), "peak_rss_bytes": usage.ru_maxrss * 1024}
    if cpu:  # the process's CPU time per call, all threads (attn-run --bench)
        result["cpu_ms"] = float(cpu.group(1))
    if c:
        result["compile_s"] = float(c.group(1))
    if mem:
        result["call_memory_bytes"] = int(mem.group(1))
        result["call_peak_bytes"] = int(mem.group(2))
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

    def sdpa(self, q, k, v, mask, causal, runs, dtype="f32"):
        t = self.torch
        tq, tk, tv = (t.from_numpy(x) for x in (q, k, v))
        if dtype == "bf16":
            tq, tk, tv = (x.to(t.bfloat16) for x in (tq, tk, tv))
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
            return lambda b, h, qi, kj: (((qi // 64 - kj // 64).abs() <= 1) | (qi < 128)
                                         | (kj < 128) | table[qi // 64, kj // 64])
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


def flex_in_child(name, q, k, v, runs, threads, tmp):
    """FlexAttention in a child process: torch 2.9's compiled CPU kernel has crashed the
    whole process here (`free(): invalid size` on a window mask at N=4096), which must
    cost one figure, not the run."""
    for arg, arr in (("q", q), ("k", k), ("v", v)):
        np.save(tmp / f"flex-{arg}.npy", arr)
    proc = subprocess.run([sys.executable, __file__, f"--threads={threads}",
                           f"--runs={runs}", f"--flex-child={name}:{tmp}"],
                          capture_output=True, text=True)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode != 0 or not lines:
        why = (proc.stderr.strip().splitlines() or ["no output"])[-1][:160]
        return {"error": f"FlexAttention child exited with {proc.returncode}: {why}"}
    return json.loads(lines[-1])


def flex_child(spec, runs, threads):
    """--flex-child=NAME:DIR: FlexAttention on DIR/flex-{q,k,v}.npy; prints one JSON line."""
    name, tmp = spec.split(":", 1)
    q, k, v = (np.load(pathlib.Path(tmp) / f"flex-{a}.npy") for a in ("q", "k", "v"))
    print(json.dumps(Torch(threads).flex_attention(name, q, k, v, runs)), flush=True)


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
        sel = [r for r in rows if r["pattern"] == name and r["dtype"] == "f32"
               and r.get("peers", True)]
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


def round_bf16(x):
    """float32 values rounded to the nearest bf16 (ties to even), as float32."""
    bits = x.view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


def workloads(args, sizes, target_n, only):
    """The (pattern, n, dtype, threads, peers) runs of this invocation: every size of every
    pattern in f32 with the peers, the bf16 dense run, and dense at 1 and 2 threads (ours)."""
    want = lambda target: only is None or target in only  # noqa: E731
    pattern_target = {"dense": "dense", "causal": "causal", "window": "sparse",
                      "longformer": "sparse", "bigbird": "bigbird"}
    runs = []
    for name in args.patterns.split(","):
        for n in sizes[name]:
            if args.max_n and n > args.max_n:
                continue
            needed = want(pattern_target[name]) or (
                name == "dense" and n in (target_n["causal"], target_n["bigbird"],
                                          target_n["dense"]) and
                (want("causal") or want("bigbird") or want("sparse") or want("bf16")))
            if needed:
                runs.append({"pattern": name, "n": n, "dtype": "f32", "threads": args.threads,
                             "peers": True})
    n = target_n["dense"]
    if want("bf16"):
        runs.append({"pattern": "dense", "n": n, "dtype": "bf16", "threads": args.threads,
                     "peers": True})
    if want("threads"):
        for threads in (1, 2):
            runs.append({"pattern": "dense", "n": n, "dtype": "f32", "threads": threads,
                         "peers": False})
    return runs


def run_peers(row, name, pattern, q, k, v, dtype, torch, args, tmp):
    """numpy eager (f32 only), torch SDPA and FlexAttention (f32 only) on the same inputs."""
    n = row["n"]
    mask = None
    if n <= args.eager_max_n and dtype == "f32":
        mask = dense_mask(pattern, n)
        scale = 1.0 / np.sqrt(D)
        row["numpy_eager"] = {"ms": 1e3 * median_time(
            lambda: numpy_eager(q, k, v, mask, scale), args.runs)}
    elif dtype == "f32":
        row["numpy_eager"] = {"error": f"skipped: N > {args.eager_max_n}"}
    if torch.torch is None:
        row["torch_sdpa"] = row["flex"] = {"error": torch.why}
        return
    causal = name == "causal"
    if mask is None and not isinstance(pattern, P.Dense) and not causal:
        row["torch_sdpa"] = {"error": f"skipped: N x N mask at N = {n}"}
    else:
        row["torch_sdpa"] = {"ms": 1e3 * torch.sdpa(q, k, v, mask, causal, args.runs, dtype)}
    if dtype == "f32":
        row["flex"] = flex_in_child(name, q, k, v, args.runs, row["threads"], tmp)


def _find(rows, pattern, n, dtype="f32"):
    """The row of the run with the peers (at the bench's --threads) of a workload."""
    for r in rows:
        if (r["pattern"], r["n"], r["dtype"], r["peers"]) == (pattern, n, dtype, True):
            return r
    return None


def _ms(row, impl="ours_fused"):
    return None if row is None else row.get(impl, {}).get("ms")


def compute_targets(rows, sgemm, target_n):
    """The figures of issue 9 item 6 from this run's rows: a list of {target, value, goal,
    met} (met is None when a figure is missing)."""
    out = []

    def add(target, value, goal, met, **extra):
        out.append({"target": target, "value": value, "goal": goal,
                    "met": None if value is None else bool(met), **extra})

    def live_gflops(row, impl="ours_fused"):
        ms = _ms(row, impl)
        return None if ms is None else row["flop_live"] / (ms * 1e-3) / 1e9

    nd = target_n["dense"]
    dense = _find(rows, "dense", nd)
    g = live_gflops(dense)
    add(f"dense N={nd}: fused GFLOP/s, % of numpy sgemm ({sgemm:.1f} GFLOP/s)",
        None if g is None else f"{g:.1f} GFLOP/s = {100 * g / sgemm:.0f}%", ">= 50%",
        g is not None and g >= 0.5 * sgemm)
    t_sdpa = _ms(dense, "torch_sdpa")
    add(f"dense N={nd}: fused vs torch SDPA (time ratio torch / ours)",
        None if g is None or t_sdpa is None else f"{t_sdpa / _ms(dense):.2f}x", "> 1x",
        g is not None and t_sdpa is not None and t_sdpa > _ms(dense))

    bf = _find(rows, "dense", nd, "bf16")
    gb = live_gflops(bf)
    add(f"bf16 dense N={nd}: ours bf16 / ours f32 throughput",
        None if gb is None or g is None else f"{gb:.1f} GFLOP/s = {gb / g:.2f}x", ">= 1.5x",
        gb is not None and g is not None and gb >= 1.5 * g)
    tb = _ms(bf, "torch_sdpa")
    add(f"bf16 dense N={nd}: vs torch SDPA bf16 (time ratio torch / ours)",
        None if gb is None or tb is None else f"{tb / _ms(bf):.2f}x", "> 1x",
        gb is not None and tb is not None and tb > _ms(bf))

    nc = target_n["causal"]
    tc, td = _ms(_find(rows, "causal", nc)), _ms(_find(rows, "dense", nc))
    add(f"causal N={nc}: speed-up over dense N={nc}",
        None if tc is None or td is None else f"{td / tc:.2f}x", ">= 1.8x",
        tc is not None and td is not None and td / tc >= 1.8)

    small, large = target_n["sparse"]
    for name in ("window", "longformer"):
        rs, rl = _find(rows, name, small), _find(rows, name, large)
        gl = live_gflops(rl)
        add(f"{name} N={large}: live-pair GFLOP/s / dense N={nd}",
            None if gl is None or g is None else f"{gl:.1f} GFLOP/s = {gl / g:.2f}x",
            ">= 0.67x", gl is not None and g is not None and gl >= 2 * g / 3)
        mem = None if rl is None else rl.get("ours_fused", {}).get("call_memory_bytes")
        add(f"{name} N={large}: compiled call's memory beyond inputs and output",
            None if mem is None else f"{mem / 2**20:.2f} MiB", "< 256 MiB",
            mem is not None and mem < 256 * 2**20)
        ts, tl = _ms(rs), _ms(rl)
        if ts is not None and tl is not None:
            ratio = (tl / rl["live_pairs"]) / (ts / rs["live_pairs"])
        add(f"{name}: time per live pair N={large} / N={small}",
            None if ts is None or tl is None else f"{ratio:.2f}x", "<= 1.25x",
            ts is not None and tl is not None and ratio <= 1.25)

    nb = target_n["bigbird"]
    bb = _find(rows, "bigbird", nb)
    gbb, gd = live_gflops(bb), live_gflops(_find(rows, "dense", nb))
    add(f"bigbird N={nb}: live-pair GFLOP/s / dense N={nb}",
        None if gbb is None or gd is None else f"{gbb:.1f} GFLOP/s = {gbb / gd:.2f}x",
        ">= 0.5x", gbb is not None and gd is not None and gbb >= 0.5 * gd)
    tf = _ms(bb, "flex")
    add(f"bigbird N={nb}: vs FlexAttention CPU (time ratio flex / ours)",
        None if gbb is None or tf is None else f"{tf / _ms(bb):.2f}x", "> 1x",
        gbb is not None and tf is not None and tf > _ms(bb))

    def threads_ms(threads):
        return next((_ms(r) for r in rows if (r["pattern"], r["n"], r["dtype"], r["threads"],
                                              r["peers"]) == ("dense", nd, "f32", threads,
                                                              False)), None)
    t1, t2 = threads_ms(1), threads_ms(2)
    add(f"dense N={nd}: 2 threads / 1 thread speed-up",
        None if t1 is None or t2 is None else f"{t1 / t2:.2f}x", ">= 1.8x",
        t1 is not None and t2 is not None and t1 / t2 >= 1.8)

    compiles = [r["ours_fused"]["compile_s"] for r in rows
                if "compile_s" in r.get("ours_fused", {})]
    worst = max(compiles) if compiles else None
    add("JIT compile time of one spec, fused (the slowest of this run)",
        None if worst is None else f"{worst:.2f} s", "< 2 s",
        worst is not None and worst < 2.0)
    return out


def print_targets(targets):
    print("\ntargets (issue 9, item 6), as measured by this run:")
    for t in targets:
        status = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        print(f"  {t['target']}: {t['value'] or '-'} (goal {t['goal']}): {status}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="every target at small sizes (a smoke run of a few minutes)")
    ap.add_argument("--only", default=None,
                    help="comma-separated targets to run: dense, bf16, causal, sparse, bigbird, "
                         "threads (default all; 'dense' also runs the other dense sizes)")
    ap.add_argument("--patterns", default=",".join(FULL_SIZES))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-n", type=int, default=None, help="leave out sizes above this N")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--attn-run", default=os.environ.get("ATTN_RUN",
                                                         str(REPO / "build/bin/attn-run")))
    ap.add_argument("--reference-max-n", type=int, default=None,
                    help="largest N for our reference path (it holds [B, H, N, N] f32 buffers; "
                         "default 4096, with --quick 1024)")
    ap.add_argument("--eager-max-n", type=int, default=16384,
                    help="largest N for numpy eager and torch SDPA with a mask (N x N per head)")
    ap.add_argument("--out", default=str(REPO / "bench/results"))
    ap.add_argument("--plot-only", metavar="JSON", help="redraw the plot of an earlier run")
    ap.add_argument("--flex-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.flex_child:
        flex_child(args.flex_child, args.runs, args.threads)
        return
    if args.plot_only:
        result = json.loads(pathlib.Path(args.plot_only).read_text())
        plot(result["rows"], REPO / "docs/bench-cpu.png", plot_title(result))
        return

    if args.reference_max_n is None:
        args.reference_max_n = 1024 if args.quick else 4096
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

    target_n = QUICK_TARGET_N if args.quick else FULL_TARGET_N
    only = set(args.only.split(",")) if args.only else None
    rows = []
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="attn-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        for work in workloads(args, sizes, target_n, only):
            name, n, dtype, threads = work["pattern"], work["n"], work["dtype"], work["threads"]
            pattern = pats[name](n) if name == "bigbird" else pats[name]
            q, k, v = (rng.standard_normal((B, H, n, D), dtype=np.float32) for _ in range(3))
            if dtype == "bf16":  # the values that attn-run rounds to, for every peer
                q, k, v = (round_bf16(x) for x in (q, k, v))
            o = np.zeros_like(q)
            inputs = {}
            for arg, arr in (("q", q), ("k", k), ("v", v), ("o", o)):
                inputs[arg] = tmp / f"{arg}.npy"
                np.save(inputs[arg], arr)
            spec = tmp / "spec.mlir"
            spec.write_text(spec_text(pattern, n, dtype))
            live = count_live(pattern, n)
            row = {"pattern": name, "n": n, "dtype": dtype, "threads": threads,
                   "peers": work["peers"], "live_pairs": live,
                   "flop_live": 4.0 * B * H * live * D}
            for mode in ("fused", "reference"):
                key = f"ours_{mode}"
                if mode not in modes:
                    row[key] = {"error": "attn-run has no such mode"}
                elif mode == "reference" and (n > args.reference_max_n or not work["peers"]):
                    row[key] = {"error": f"skipped: N > {args.reference_max_n}"
                                if n > args.reference_max_n else "skipped"}
                else:
                    row[key] = run_ours(args.attn_run, mode, str(spec), inputs, args.runs,
                                        threads)
            if work["peers"]:
                run_peers(row, name, pattern, q, k, v, dtype, torch, args, tmp)
            rows.append(row)
            print_row(row)

    targets = compute_targets(rows, ceiling, target_n)
    print_targets(targets)
    stamp = datetime.datetime.now(datetime.timezone.utc)
    result = {"date": stamp.isoformat(timespec="seconds"), "commit": commit,
              "machine": machine_info(), "numpy": np.__version__, "numpy_blas": blas,
              "torch": torch.torch.__version__ if torch.torch else None,
              "threads": args.threads, "runs": args.runs, "B": B, "H": H, "D": D,
              "sgemm_gflops": ceiling, "quick": args.quick, "targets": targets, "rows": rows}
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"cpu-{stamp.strftime('%Y-%m-%d')}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"json: {path}")
    if not args.quick and not args.only:
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
    fused = row.get("ours_fused", {})
    extra = ""
    if "call_memory_bytes" in fused:
        extra = (f" | call memory {fused['call_memory_bytes'] / 2**20:.2f} MiB, "
                 f"compile {fused.get('compile_s', float('nan')):.2f} s")
    print(f"{row['pattern']:>10} N={row['n']:>6} {row['dtype']:>4} T={row['threads']}: "
          + " | ".join(cells) + extra, flush=True)


if __name__ == "__main__":
    main()
