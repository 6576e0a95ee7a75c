#!/usr/bin/env python3
"""Side by side on one GPU, on the same inputs (bf16, B=2, H=16): our Hopper sdpa core
(the kernels of `BENCH_ONLY=1 bench/gpu/build_core.sh`: q-tile 128 and the core's own kv-tile
for the op (kv-tile=0: 128 keys for causal and the causal window at D 64), launched as
check_core.py launches them), torch SDPA with the flash and the cuDNN backend (dense and causal
only: they take no other pattern) and torch.compile'd FlexAttention (the block mask built by
create_block_mask outside the timed region), for D 64 / 128, N 1k / 4k / 16k (64k with --n)
and the patterns

  dense, causal, window512      causal sliding window: 0 <= i - j <= 512
  longformer512                 |i - j| <= 256, or i or j among the first 64 (global) tokens
  bigbird64                     |i - j| <= 64, the first 64 tokens global, and per 64-row
                                query block 3 random 64-key blocks (#attn.random, seed 7)

Times: CUDA events, the median of --reps runs after 3 warm-ups (check_core.median_ms);
TFLOP/s = 4 B H D (live pairs) / time, the live pairs counted from the mask. Each of our
outputs is compared with FlexAttention's on the bench inputs, and at N = 1024 with the float64
reference (python/attn_mlir/reference.py). Writes JSON (device, driver, torch, commit) after
each configuration; --budget-s stops before a configuration that would start past it.

  on the GPU machine: python3 bench/gpu/bench.py KERNELS --json OUT.json [--commit SHA]
  here:               python3 bench/gpu/bench.py --plot OUT.json PNG

Document masking (packed sequences of random lengths), --docs DIR: the kernels of
bench/gpu/build_docs.sh (attn.sdpa with document ids, dense and causal within documents), ours
(the flags filled, the sorted-ids kernel and the core, all timed) against FlexAttention with a
mask_mod comparing the ids (the block mask built outside the timed region) and torch SDPA with a
boolean [B, 1, N, N] mask (memory-efficient backend); --docs-compare DIR LABEL times the same
kernels built another way:
  python3 bench/gpu/bench.py --docs DIR --n 16384 --json OUT.json [--docs-compare DIR2 LABEL]

The variants in the same run (each a subprocess, in turn on the same GPU, its JSON merged under
its name): --variants DIR (bench/gpu/stage_variants.sh's DIR/favor: FAVOR+ m=256 D=64 against
torch eager and torch.compile'd FAVOR+, lsh and cluster against torch eager of the same
semantics, bench/gpu/variants.py) and --favor-causal DIR (stage_favor_causal.sh's DIR/favor:
causal FAVOR+, bench/gpu/favor_causal.py). The whole bench in one call, from a folder staged by
stage_variants.sh (it holds the scripts and the Python package):
  python3 bench/gpu/bench.py CORE --n 1024 4096 16384 65536 --docs DOCS --variants favor \
      [--favor-causal FC/favor] --json OUT.json --commit SHA
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

ORDER = [(16384, 128), (16384, 64), (4096, 128), (1024, 128), (4096, 64), (1024, 64),
         (65536, 128), (65536, 64)]
PATTERN_NAMES = ["dense", "causal", "window512", "longformer512", "bigbird64"]
B, H = 2, 16


def recorder(result, base, flops, reps):
    """record(impl, fn, extra): times fn (median_ms) into a row of `result` (the row `base`
    with impl, ms, TFLOP/s from `flops`, or the error, and `extra`) and prints it."""
    from check_core import median_ms

    def record(impl, fn, extra=None):
        row = dict(base, impl=impl)
        try:
            ms, _ = median_ms(fn, reps)
            row.update(ms=ms, tflops=flops / ms / 1e9)
        except Exception as err:  # noqa: BLE001 - reported
            row["error"] = repr(err)[:300]
        row.update(extra or {})
        result["rows"].append(row)
        print(json.dumps(row), flush=True)
    return record


def reference_patterns():
    from attn_mlir.patterns import Causal, Dense, Global, Random, Union, Window
    return {"dense": Dense(), "causal": Causal(), "window512": Window(512, 0),
            "longformer512": Union([Window(256, 256), Global(first=64)]),
            "bigbird64": Union([Window(64, 64), Global(first=64), Random(64, 3, 7)])}


def mask_mods(n, torch):
    """FlexAttention mask_mods of the patterns at length n (None: dense)."""
    import numpy as np
    random_blocks = reference_patterns()["bigbird64"].parts[2]
    table = torch.from_numpy(random_blocks.chosen_blocks(np.arange(-(-n // 64)), n)).cuda()
    return {
        "dense": None,
        "causal": lambda b, h, qi, ki: qi >= ki,
        "window512": lambda b, h, qi, ki: (qi >= ki) & (qi - ki <= 512),
        "longformer512": lambda b, h, qi, ki: ((qi - ki).abs() <= 256) | (qi < 64) | (ki < 64),
        "bigbird64": lambda b, h, qi, ki: (((qi - ki).abs() <= 64) | (qi < 64) | (ki < 64)
                                           | table[qi // 64, ki // 64]),
    }


def live_pairs(mask_mod, n, torch):
    if mask_mod is None:
        return float(n) * n
    total, k = 0, torch.arange(n, device="cuda")[None, :]
    zero = torch.zeros((), dtype=torch.int64, device="cuda")
    for start in range(0, n, 1024):
        q = torch.arange(start, min(n, start + 1024), device="cuda")[:, None]
        total += int(mask_mod(zero, zero, q, k).sum())
    return float(total)


DOC_PATTERNS = ["docs", "docs_causal"]


def document_ids(n, batch, seed):
    """[batch, n] int32 ids of packed documents of random lengths (n / 64 to n / 4 rows each,
    the last one cut at n), ascending from 0 in every batch row."""
    import numpy as np
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(batch):
        ids, doc = [], 0
        while len(ids) < n:
            ids += [doc] * int(rng.integers(max(1, n // 64), n // 4 + 1))
            doc += 1
        rows.append(ids[:n])
    return np.array(rows, np.int32)


def run_docs(args):
    """The document-masking rows: bf16 B=2 H=16, dense and causal within documents."""
    import ctypes
    import numpy as np
    import torch
    from check_core import Launch, check, cuda, kernels_in, memref_params
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    from attn_mlir import reference
    torch._dynamo.config.cache_size_limit = 256
    torch.zeros(1, device="cuda")

    def load(directory):
        found = {}
        for kernel in kernels_in(directory):
            kernel.sorted_fn = ctypes.c_void_p()
            check(cuda.cuModuleGetFunction(ctypes.byref(kernel.sorted_fn), kernel.module,
                                           b"sdpa_core_0_sorted"), "cuModuleGetFunction")
            name = "docs_causal" if kernel.pattern == "causal" else "docs"
            found[(name, kernel.d)] = kernel
        return found

    def ours(kernel, q, k, v, out, ids):
        """A callable: flags = 1, the sorted-ids kernel, the core (the host code's order)."""
        flags = torch.ones(B, dtype=torch.int32, device="cuda")
        launch = Launch(kernel, q, k, v, out, None, 9, extra=(ids, ids, flags))
        n = k.shape[2]
        vals = memref_params(ids) + memref_params(flags) + [ctypes.c_int64(n)]
        params = (ctypes.c_void_p * len(vals))(
            *[ctypes.cast(ctypes.byref(x), ctypes.c_void_p) for x in vals])

        def call():
            flags.fill_(1)
            if n > 1:
                stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
                check(cuda.cuLaunchKernel(kernel.sorted_fn, -(-n // 2048), B, 1, 256, 1, 1, 0,
                                          stream, params, None), "cuLaunchKernel")
            launch()
        call.keep = (vals, params, launch, flags)
        return call

    kernels = load(args.docs)
    compare = [(label, load(directory)) for directory, label in args.docs_compare or []]
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip()
    result = {"device": smi, "torch": torch.__version__, "commit": args.commit, "B": B, "H": H,
              "dtype": "bf16", "reps": args.reps, "rows": [],
              "documents": "per batch row: lengths uniform in [N/64, N/4], the last cut at N "
                           "(bench.py document_ids, seed N)"}
    flex = torch.compile(flex_attention)
    start_time = time.time()
    for n in sorted(args.n, reverse=True):
        ids_np = document_ids(n, B, seed=n)
        ids = torch.from_numpy(ids_np).cuda()
        for d in sorted(args.d, reverse=True):
            for name in DOC_PATTERNS:
                if time.time() - start_time > args.budget_s:
                    result["stopped"] = f"budget of {args.budget_s} s reached before N={n} D={d}"
                    break
                causal = name == "docs_causal"
                torch.manual_seed(n + d)
                q, k, v = (torch.randn(B, H, n, d, dtype=torch.bfloat16, device="cuda")
                           for _ in range(3))
                lengths = [np.bincount(row) for row in ids_np]
                pairs = float(sum(((c * (c + 1) // 2) if causal else c * c).sum()
                                  for c in lengths))
                flops = 4.0 * H * d * pairs  # pairs summed over the batch
                base = {"N": n, "D": d, "pattern": name, "live_pairs": pairs,
                        "documents": [len(c) for c in lengths]}
                record = recorder(result, base, flops, args.reps)

                def mod(b, h, qi, ki):
                    same = ids[b, qi] == ids[b, ki]
                    return same & (qi >= ki) if causal else same
                flex_out = None
                try:
                    mask = create_block_mask(mod, B, None, n, n, device="cuda",
                                             _compile=n > 16384)
                    record("flex_attention (compiled)", lambda: flex(q, k, v, block_mask=mask))
                    flex_out = flex(q, k, v, block_mask=mask).float()
                except Exception as err:  # noqa: BLE001 - reported
                    result["rows"].append(dict(base, impl="flex_attention (compiled)",
                                               error=repr(err)[:300]))
                for label, found in [("ours", kernels)] + [(f"ours ({lb})", f)
                                                           for lb, f in compare]:
                    kernel = found.get((name, d))
                    if kernel is None:
                        continue
                    out = torch.full((B, H, n, d), float("nan"), dtype=torch.bfloat16,
                                     device="cuda")
                    call = ours(kernel, q, k, v, out, ids)
                    call()
                    torch.cuda.synchronize()
                    extra = {"nan": int(out.isnan().sum())}
                    if flex_out is not None:
                        extra["rel_err_vs_flex"] = float((out.float() - flex_out).norm()
                                                         / flex_out.norm())
                    if n <= 1024:
                        ref = reference.sdpa(*(x.float().cpu().numpy() for x in (q, k, v)),
                                             pattern=reference.Causal() if causal else reference.Dense(),
                                             segments=(ids_np, ids_np))
                        extra["rel_err_vs_f64"] = float(reference.rel_error(
                            out.float().cpu().numpy(), ref))
                    record(label, call, extra)
                try:
                    live = ids[:, None, :, None] == ids[:, None, None, :]
                    if causal:
                        live = live & torch.ones(n, n, dtype=torch.bool, device="cuda").tril()

                    def sdpa_masked():
                        with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
                            torch.nn.functional.scaled_dot_product_attention(q, k, v,
                                                                             attn_mask=live)
                    record("torch sdpa (bool mask, efficient)", sdpa_masked)
                except Exception as err:  # noqa: BLE001 - reported
                    result["rows"].append(dict(base, impl="torch sdpa (bool mask, efficient)",
                                               error=repr(err)[:300]))
                if args.json:
                    with open(args.json, "w") as f:
                        json.dump(result, f, indent=1)
    print(f"\n{result['device']}, torch {result['torch']}, commit {result['commit']}; "
          f"bf16 B={B} H={H}; ms (TFLOP/s over live pairs)")
    for key in sorted({(r["N"], r["D"], r["pattern"]) for r in result["rows"]}, reverse=True):
        rows = [r for r in result["rows"] if (r["N"], r["D"], r["pattern"]) == key]
        cells = [f"{r['impl']}: " + (f"{r['ms']:.3f} ({r['tflops']:.0f})" if "ms" in r
                                     else "error") for r in rows]
        print(*key, " | ".join(cells))


def run(args):
    import torch
    from check_core import Launch, bench_kernels, torch_sdpa_backends
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    from attn_mlir import reference
    torch._dynamo.config.cache_size_limit = 256
    torch._dynamo.config.accumulated_cache_size_limit = 4096
    torch.zeros(1, device="cuda")
    kernels = bench_kernels(args.kernels)
    # --compare DIR LABEL: the same kernels built another way (other options or tile
    # shapes: one kernel per pattern and head dim), timed as "ours (LABEL)".
    compare = [(label, bench_kernels(directory, any_tiles=True))
               for directory, label in args.compare or []]
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip()
    result = {"device": smi, "torch": torch.__version__, "commit": args.commit, "B": B, "H": H,
              "dtype": "bf16", "reps": args.reps, "rows": []}
    flex = torch.compile(flex_attention)
    patterns = reference_patterns()
    start_time = time.time()
    lengths = [n for n in args.n]
    for n, d in ORDER:
        if n not in lengths or d not in args.d:
            continue
        mods = mask_mods(n, torch)
        for name in args.patterns:
            if time.time() - start_time > args.budget_s:
                result["stopped"] = f"budget of {args.budget_s} s reached before N={n} D={d} {name}"
                break
            torch.manual_seed(n + d)
            q, k, v = (torch.randn(B, H, n, d, dtype=torch.bfloat16, device="cuda")
                       for _ in range(3))
            pairs = live_pairs(mods[name], n, torch)
            flops = 4.0 * B * H * d * pairs
            base = {"N": n, "D": d, "pattern": name, "live_pairs": pairs}
            record = recorder(result, base, flops, args.reps)

            # FlexAttention first: its output is what ours is compared with.
            flex_out = None
            try:
                # Compiled above 16k: uncompiled, it materializes the whole [N, N] mask.
                mask = None if mods[name] is None else create_block_mask(
                    mods[name], None, None, n, n, device="cuda", _compile=n > 16384)
                record("flex_attention (compiled)", lambda: flex(q, k, v, block_mask=mask))
                flex_out = flex(q, k, v, block_mask=mask).float()
            except Exception as err:  # noqa: BLE001 - reported
                result["rows"].append(dict(base, impl="flex_attention (compiled)",
                                           error=repr(err)[:300]))
            kernel = kernels.get((name, d))
            if kernel is not None:
                out = torch.full((B, H, n, d), float("nan"), dtype=torch.bfloat16, device="cuda")
                launch = Launch(kernel, q, k, v, out, None, 9)
                extra = {}
                launch()
                torch.cuda.synchronize()
                extra["nan"] = int(out.isnan().sum())
                if flex_out is not None:
                    extra["rel_err_vs_flex"] = float((out.float() - flex_out).norm()
                                                     / flex_out.norm())
                if n <= 1024:
                    ref = reference.sdpa(*(x.float().cpu().numpy() for x in (q, k, v)),
                                         pattern=patterns[name])
                    extra["rel_err_vs_f64"] = float(reference.rel_error(
                        out.float().cpu().numpy(), ref))
                record("ours", launch, extra)
                for label, found in compare:
                    other = found.get((name, d))
                    if other is None:
                        continue
                    out2 = torch.full_like(out, float("nan"))
                    launch2 = Launch(other, q, k, v, out2, None, 9)
                    launch2()
                    torch.cuda.synchronize()
                    record(f"ours ({label})", launch2,
                           {"nan": int(out2.isnan().sum()),
                            "rel_err_vs_ours": float((out2.float() - out.float()).norm()
                                                     / out.float().norm())})
            if name in ("dense", "causal"):
                for impl, sdpa in torch_sdpa_backends(q, k, v, name == "causal"):
                    record(impl, sdpa)
            if args.json:
                with open(args.json, "w") as f:
                    json.dump(result, f, indent=1)
        else:
            continue
        break
    print_table(result)


def print_table(result):
    print(f"\n{result['device']}, torch {result['torch']}, commit {result['commit']}; "
          f"bf16 B={result['B']} H={result['H']}; ms (TFLOP/s)")
    keys = sorted({(r["N"], r["D"], r["pattern"]) for r in result["rows"]},
                  key=lambda t: (-t[0], -t[1], PATTERN_NAMES.index(t[2])))
    impls = ["ours", "flex_attention (compiled)", "torch sdpa flash", "torch sdpa cudnn"]
    impls += sorted({r["impl"] for r in result["rows"] if r["impl"].startswith("ours (")})
    print(f"{'N':>6} {'D':>4} {'pattern':14}" + "".join(f"{i[:18]:>20}" for i in impls)
          + "  ours/flex  err vs flex")
    for key in keys:
        rows = {r["impl"]: r for r in result["rows"] if (r["N"], r["D"], r["pattern"]) == key}
        cells = []
        for impl in impls:
            r = rows.get(impl)
            cells.append("" if r is None else "error" if "error" in r
                         else f"{r['ms']:.3f} ({r['tflops']:.0f})")
        ours, flex = rows.get("ours", {}), rows.get("flex_attention (compiled)", {})
        speed = f"{flex['ms'] / ours['ms']:.2f}x" if "ms" in ours and "ms" in flex else ""
        err = f"{ours.get('rel_err_vs_flex', float('nan')):.1e}"
        print(f"{key[0]:>6} {key[1]:>4} {key[2]:14}" + "".join(f"{c:>20}" for c in cells)
              + f"  {speed:>9}  {err}")
    if "stopped" in result:
        print("stopped:", result["stopped"])


def section_speedups(result):
    """(label, peer ms / ours ms) of the document rows at the largest N and of the variants
    sections (FAVOR+ against the fastest torch.compile'd, lsh / cluster against torch eager
    f32), for the plot's spare panel."""
    out = []
    docs = result.get("docs") if "sections" in result else None
    if docs and docs.get("rows"):
        n = max(r["N"] for r in docs["rows"])
        for d in sorted({r["D"] for r in docs["rows"]}, reverse=True):
            for name in DOC_PATTERNS:
                rows = {r["impl"]: r for r in docs["rows"]
                        if (r["N"], r["D"], r["pattern"]) == (n, d, name) and "ms" in r}
                if "ours" in rows and "flex_attention (compiled)" in rows:
                    out.append((f"{name} D{d} N{n}\nvs flex",
                                rows["flex_attention (compiled)"]["ms"] / rows["ours"]["ms"]))
    var = result.get("variants", {})
    favor = [r for r in var.get("rows", []) if "ms" in r]
    if favor:
        n = max(r["N"] for r in favor)
        ours = [r["ms"] for r in favor if r["N"] == n and r["impl"] == "ours"]
        peer = [r["ms"] for r in favor if r["N"] == n and r["impl"].startswith("torch.compile")]
        if ours and peer:
            out.append((f"favor_plus N{n}\nvs torch.compile", min(peer) / ours[0]))
    for op in ("lsh", "cluster"):
        rows = {r["impl"]: r for r in var.get("lsh_cluster", []) if r["op"] == op and "ms" in r}
        if "ours bf16" in rows and "torch eager f32" in rows:
            out.append((f"{op} N{rows['ours bf16']['N']}\nvs torch eager f32",
                        rows["torch eager f32"]["ms"] / rows["ours bf16"]["ms"]))
    return out


def plot(path, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with open(path) as f:
        result = json.load(f)
    impls = ["ours", "flex_attention (compiled)", "torch sdpa flash", "torch sdpa cudnn"]
    configs = sorted({(r["N"], r["D"]) for r in result["rows"]}, key=lambda t: (-t[0], -t[1]))
    cols = min(3, len(configs))
    rows = -(-len(configs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.6 * rows), squeeze=False)
    for ax, (n, d) in zip(axes.ravel(), configs):
        for i, impl in enumerate(impls):
            xs, ys = [], []
            for j, pattern in enumerate(PATTERN_NAMES):
                for r in result["rows"]:
                    if (r["N"], r["D"], r["pattern"], r["impl"]) == (n, d, pattern, impl) \
                            and "tflops" in r:
                        xs.append(j + 0.2 * (i - 1.5))
                        ys.append(r["tflops"])
            ax.bar(xs, ys, width=0.2, label=impl)
        ax.set_xticks(range(len(PATTERN_NAMES)))
        ax.set_xticklabels(PATTERN_NAMES, rotation=30, fontsize=8)
        ax.set_title(f"N={n}, D={d}", fontsize=9)
        ax.set_ylabel("TFLOP/s (live pairs)")
    axes[0][0].legend(fontsize=7)
    spare = axes.ravel()[len(configs):]
    speedups = section_speedups(result)
    if len(spare) and speedups:
        ax = spare[0]
        ax.bar(range(len(speedups)), [x for _, x in speedups], color="tab:blue")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xticks(range(len(speedups)))
        ax.set_xticklabels([label for label, _ in speedups], rotation=30, fontsize=7, ha="right")
        ax.set_title("ours' speed-up over the peer (x)", fontsize=9)
    for ax in spare[1 if speedups else 0:]:
        ax.axis("off")
    fig.suptitle(f"{result['device']}, bf16 B={result['B']} H={result['H']}, "
                 f"torch {result['torch']}, commit {result['commit']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kernels", nargs="?")
    ap.add_argument("--json")
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--n", type=int, nargs="+", default=[1024, 4096, 16384])
    ap.add_argument("--d", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--patterns", nargs="+", default=PATTERN_NAMES)
    ap.add_argument("--budget-s", type=float, default=420)
    ap.add_argument("--plot", nargs=2, metavar=("JSON", "PNG"))
    ap.add_argument("--docs", help="the kernels of build_docs.sh: the document-masking rows")
    ap.add_argument("--docs-compare", nargs=2, metavar=("KERNELS", "LABEL"), action="append",
                    help="with --docs: also time these as 'ours (LABEL)' (repeatable)")
    ap.add_argument("--compare", nargs=2, metavar=("KERNELS", "LABEL"), action="append",
                    help="also time the kernels in KERNELS as 'ours (LABEL)' (repeatable)")
    ap.add_argument("--variants", metavar="ARTIFACTS",
                    help="also run bench/gpu/variants.py on the artifacts of stage_variants.sh "
                         "(FAVOR+ against torch eager / torch.compile, lsh and cluster against "
                         "torch eager) in this run, into the JSON's 'variants'")
    ap.add_argument("--favor-causal", metavar="ARTIFACTS",
                    help="also run bench/gpu/favor_causal.py on the artifacts of "
                         "stage_favor_causal.sh in this run, into the JSON's 'favor_causal'")
    args = ap.parse_args()
    if args.plot:
        plot(*args.plot)
        return
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))
    run_sections(args)


def run_sections(args):
    """One run of every section asked for, in turn on the same GPU: the patterns (KERNELS),
    the document-masking rows (--docs), the variants (--variants) and causal FAVOR+
    (--favor-causal). With one section the JSON is that section's; with several, the
    patterns' (or the first section's) with the others under 'docs', 'variants' and
    'favor_causal', written again after each section so that a failure keeps what ran."""
    final = args.json
    merged = {}

    def part(name):
        return None if final is None else f"{final}.{name}.part"

    def merge(name, path):
        if final is None or path is None or not os.path.exists(path):
            return
        with open(path) as f:
            section = json.load(f)
        os.remove(path)
        if not merged:
            merged.update(section)
            merged["sections"] = [name]
        else:
            merged[name] = section
            merged["sections"].append(name)
        with open(final, "w") as f:
            json.dump(merged, f, indent=1)

    if args.kernels:
        args.json = part("patterns")
        run(args)
        merge("patterns", args.json)
    if args.docs:
        args.json = part("docs")
        run_docs(args)
        merge("docs", args.json)
    scripts = [("variants", args.variants, "variants.py", ["--lsh-cluster"]),
               ("favor_causal", args.favor_causal, "favor_causal.py", [])]
    for name, artifacts, script, extra in scripts:
        if not artifacts:
            continue
        path = part(name) or f"/tmp/bench-{name}.json"
        cmd = [sys.executable, os.path.join(HERE, script), "run", artifacts, "--json", path,
               "--commit", args.commit] + extra
        print("$", " ".join(cmd), flush=True)
        done = subprocess.run(cmd)
        if done.returncode:
            print(f"{script} exited with {done.returncode}", flush=True)
        merge(name, path if final else None)


if __name__ == "__main__":
    main()
