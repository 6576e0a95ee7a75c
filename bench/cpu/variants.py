#!/usr/bin/env python3
"""CPU benchmark of the efficient-attention variants: attn-mlir's fused forms side by side with
their peers, on the same inputs, in one run (issue 13, items 6 and 7).

Each op's cases are a function returning rows (`CASES`); other modules add theirs by defining
`CASES = {name: function}` in bench/cpu/variants_<name>.py, which this script imports when
present (variants_lsh.py defines none: it runs on its own, with rows of its own shape). A case function takes the run's `Context` and returns a list of
rows: {"op", "case", "n", "impls": {impl: {"ms": ...} or {"error": ...}}, ...metrics}. Impls:
  * ours_fused: `attn-run --mode=fused` (attn-fuse-variants, micro-kernels);
  * ours_reference: `attn-run --mode=reference`, at the sizes where it fits (--reference-max-n);
  * torch_eager: torch of the same math, written from docs/Semantics.md;
  * torch_sdpa_dense: torch's CPU SDPA, dense, same B, H, D, at min(N, --dense-max-n) (scale).
Once per run: numpy sgemm GFLOP/s and numpy copy bandwidth (the ceilings of the targets), and
for information the bandwidth of a numpy copy into a new array (lightconv's like-for-like).
Every time is a median over --runs runs. It prints a table and the targets, and writes
bench/results/cpu-variants-<date>.json (machine, CPU flags, BLAS, versions, commit, rows).

    /work/main/bench/.venv/bin/python bench/cpu/variants.py --threads 1 --runs 3
    ... --quick      # small sizes, a minute
    ... --only kernelized,lightconv
"""

import argparse
import datetime
import importlib
import json
import math
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402  (sets the BLAS thread count from --threads before numpy loads)

np = bench.np
REPO = bench.REPO
B, H, D = 1, 8, 64


class Context:
    """What a case function needs: attn-run, the run's settings, a scratch directory, torch."""

    def __init__(self, args, tmp):
        self.args, self.tmp = args, pathlib.Path(tmp)
        self.attn_run = str(REPO / "build" / "bin" / "attn-run")
        self.runs, self.threads, self.quick = args.runs, args.threads, args.quick
        self.rng = np.random.default_rng(2026)
        self.dense_cache = {}
        try:
            import torch
            torch.set_num_threads(args.threads)
            self.torch = torch
        except Exception:  # noqa: BLE001
            self.torch = None

    def ours(self, mode, spec_text, inputs, name):
        """Median ms of attn-run on `spec_text` with the {arg name: array} inputs."""
        spec = self.tmp / f"{name}.mlir"
        spec.write_text(spec_text)
        paths = {}
        for arg, arr in inputs.items():
            path = self.tmp / f"{name}-{arg}.npy"
            if not path.exists():
                np.save(path, arr)
            paths[arg] = path
        return bench.run_ours(self.attn_run, mode, str(spec), paths, self.runs, self.threads)

    def ours_impls(self, spec_text, inputs, name, n, reference_max_n=None):
        """{"ours_fused": ...} and "ours_reference" where n fits (--reference-max-n, or the
        smaller `reference_max_n`)."""
        impls = {"ours_fused": self.ours("fused", spec_text, inputs, name)}
        limit = self.args.reference_max_n
        if reference_max_n is not None:
            limit = min(limit, reference_max_n)
        if n <= limit:
            impls["ours_reference"] = self.ours("reference", spec_text, inputs, name)
        return impls

    def timed(self, fn):
        """{"ms": median} of fn(), or {"error": ...} when it raises."""
        try:
            if self.torch is not None:
                with self.torch.no_grad():
                    return {"ms": 1e3 * bench.median_time(fn, self.runs)}
            return {"ms": 1e3 * bench.median_time(fn, self.runs)}
        except Exception as e:  # noqa: BLE001
            return {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"}

    def dense_sdpa(self, n):
        """torch CPU SDPA, dense, [B, H, n, D] f32: {"ms", "n"}."""
        if self.torch is None:
            return {"error": "torch unavailable"}
        n = min(n, self.args.dense_max_n)
        if n in self.dense_cache:
            return dict(self.dense_cache[n])
        t = self.torch
        q = t.randn(B, H, n, D)
        r = self.timed(lambda: t.nn.functional.scaled_dot_product_attention(q, q, q))
        r["n"] = n
        self.dense_cache[n] = r
        return dict(r)

    def t(self, x):
        return self.torch.from_numpy(np.ascontiguousarray(x))


def ttype(shape):
    return f"tensor<{'x'.join(str(s) for s in shape)}xf32>"


# ----------------------------------------------------------------------------- kernelized

def favor_torch(torch, q, k, v, w, causal, chunk=256):
    """FAVOR+ as docs/Semantics.md §7 writes it, in torch (eager). Causal: a chunked scan
    (the state of the earlier chunks plus the masked intra-chunk product), since the
    cumulative-sum form needs [N, m, Dv] per head."""
    d, m = q.shape[-1], w.shape[1]
    c = d ** -0.25

    def expo(x):
        xs = x * c
        return torch.einsum("bhnd,hmd->bhnm", xs, w) - (xs * xs).sum(-1, keepdim=True) / 2

    aq = expo(q)
    phiq = torch.exp(aq - aq.amax(-1, keepdim=True)) / math.sqrt(m)
    ak = expo(k)
    phik = torch.exp(ak - ak.amax(dim=(-2, -1), keepdim=True)) / math.sqrt(m)
    if not causal:
        kv = phik.transpose(-2, -1) @ v
        z = phik.sum(-2)
        return (phiq @ kv) / (phiq @ z.unsqueeze(-1))
    n = q.shape[2]
    out = torch.empty_like(v)
    state = torch.zeros(*q.shape[:2], m, v.shape[-1])
    zs = torch.zeros(*q.shape[:2], m, 1)
    tril = torch.ones(chunk, chunk).tril()
    for s in range(0, n, chunk):
        e = min(s + chunk, n)
        pq, pk, vc = phiq[:, :, s:e], phik[:, :, s:e], v[:, :, s:e]
        a = (pq @ pk.transpose(-2, -1)) * tril[: e - s, : e - s]
        num = pq @ state + a @ vc
        den = pq @ zs + a.sum(-1, keepdim=True)
        out[:, :, s:e] = num / den
        state += pk.transpose(-2, -1) @ vc
        zs += pk.sum(-2).unsqueeze(-1)
    return out


def kernelized_rows(ctx):
    m = 256
    sizes = [1024, 4096] if ctx.quick else [1024, 65536]
    rows = []
    for n in sizes:
        q, k, v = (ctx.rng.standard_normal((B, H, n, D), dtype=np.float32) for _ in range(3))
        w = ctx.rng.standard_normal((H, m, D), dtype=np.float32)
        inputs = {"q": q, "k": k, "v": v, "w": w}
        for causal in (False, True):
            t4 = ttype((B, H, n, D))
            attr = "{causal} " if causal else ""
            spec = f"""func.func @main(%q: {t4}, %k: {t4}, %v: {t4}, %w: {ttype((H, m, D))}, %o: {t4}) -> {t4} {{
  %r = attn.kernelized favor_plus ins(%q, %k, %v : {t4}, {t4}, {t4})
         projection(%w : {ttype((H, m, D))}) outs(%o : {t4}) {attr}-> {t4}
  return %r : {t4}
}}
"""
            io = dict(inputs, o=np.zeros_like(q))
            impls = ctx.ours_impls(spec, io, f"kernelized-{n}-{int(causal)}", n)
            if ctx.torch is not None:
                tq, tk, tv, tw = (ctx.t(x) for x in (q, k, v, w))
                impls["torch_eager"] = ctx.timed(
                    lambda: favor_torch(ctx.torch, tq, tk, tv, tw, causal))
            impls["torch_sdpa_dense"] = ctx.dense_sdpa(n)
            rows.append({"op": "kernelized", "case": "favor_plus" + (" causal" if causal else ""),
                         "n": n, "m": m, "flop": 8.0 * B * H * n * m * D, "impls": impls})
    return rows


# ----------------------------------------------------------------------------- lowrank

def lowrank_rows(ctx):
    r = 256
    sizes = [4096] if ctx.quick else [4096, 65536]
    rows = []
    for n in sizes:
        q, k, v = (ctx.rng.standard_normal((B, H, n, D), dtype=np.float32) for _ in range(3))
        e = (ctx.rng.standard_normal((1, r, n), dtype=np.float32) / np.sqrt(n)).astype(np.float32)
        t4, te = ttype((B, H, n, D)), ttype((1, r, n))
        spec = f"""func.func @main(%q: {t4}, %k: {t4}, %v: {t4}, %e: {te}, %o: {t4}) -> {t4} {{
  %r = attn.lowrank ins(%q, %k, %v : {t4}, {t4}, {t4}) projections(%e : {te}) outs(%o : {t4}) -> {t4}
  return %r : {t4}
}}
"""
        io = {"q": q, "k": k, "v": v, "e": e, "o": np.zeros_like(q)}
        impls = ctx.ours_impls(spec, io, f"lowrank-{n}", n)
        if ctx.torch is not None:
            t = ctx.torch
            tq, tk, tv, tE = (ctx.t(x) for x in (q, k, v, e))

            def eager():
                ek, fv = tE @ tk, tE @ tv     # [1, r, n] @ [B, H, n, D]: [B, H, r, D]
                return t.nn.functional.scaled_dot_product_attention(tq, ek, fv)
            impls["torch_eager"] = ctx.timed(eager)
        impls["torch_sdpa_dense"] = ctx.dense_sdpa(n)
        rows.append({"op": "lowrank", "case": f"r={r}", "n": n,
                     "flop": B * H * (4.0 * r * n * D + 4.0 * n * r * D), "impls": impls})
    return rows


# ----------------------------------------------------------------------------- pkm

def pkm_torch(torch, q, s1, s2, values, k):
    """attn.pkm as docs/Semantics.md §8 writes it, in torch (eager; the weighted sum of the k
    value rows through embedding_bag)."""
    n, half = s1.shape[1], q.shape[-1] // 2
    a = torch.einsum("bhnd,hxd->bhnx", q[..., :half], s1)
    b = torch.einsum("bhnd,hyd->bhny", q[..., half:], s2)
    a_s, a_i = a.topk(k, dim=-1)
    b_s, b_i = b.topk(k, dim=-1)
    cand = (a_s.unsqueeze(-1) + b_s.unsqueeze(-2)).flatten(-2)
    ids = (a_i.unsqueeze(-1) * n + b_i.unsqueeze(-2)).flatten(-2)
    c_s, c_i = cand.topk(k, dim=-1)
    sel = ids.gather(-1, c_i)
    wts = torch.softmax(c_s, dim=-1)
    out = torch.nn.functional.embedding_bag(sel.reshape(-1, k), values,
                                            per_sample_weights=wts.reshape(-1, k), mode="sum")
    return out.reshape(*q.shape[:3], values.shape[1])


def pkm_rows(ctx):
    n_keys, dk, top_k, dv = 512, 128, 32, 64
    sizes = [1024] if ctx.quick else [1024, 16384]
    rows = []
    for n in sizes:
        q = ctx.rng.standard_normal((B, H, n, dk), dtype=np.float32)
        s1, s2 = (ctx.rng.standard_normal((H, n_keys, dk // 2), dtype=np.float32)
                  for _ in range(2))
        vals = ctx.rng.standard_normal((n_keys * n_keys, dv), dtype=np.float32)
        tq, ts, tv, to = (ttype((B, H, n, dk)), ttype((H, n_keys, dk // 2)),
                          ttype((n_keys * n_keys, dv)), ttype((B, H, n, dv)))
        spec = f"""func.func @main(%q: {tq}, %s1: {ts}, %s2: {ts}, %vals: {tv}, %o: {to}) -> {to} {{
  %r = attn.pkm ins(%q, %s1, %s2, %vals : {tq}, {ts}, {ts}, {tv}) outs(%o : {to}) {{top_k = {top_k}}} -> {to}
  return %r : {to}
}}
"""
        io = {"q": q, "s1": s1, "s2": s2, "vals": vals,
              "o": np.zeros((B, H, n, dv), dtype=np.float32)}
        impls = ctx.ours_impls(spec, io, f"pkm-{n}", n, reference_max_n=1024)
        if ctx.torch is not None:
            args = [ctx.t(x) for x in (q, s1, s2, vals)]
            impls["torch_eager"] = ctx.timed(lambda: pkm_torch(ctx.torch, *args, top_k))
        impls["torch_sdpa_dense"] = ctx.dense_sdpa(n)
        rows.append({"op": "pkm", "case": f"n={n_keys} Dk={dk} k={top_k}", "n": n,
                     "impls": impls})
    return rows


# ----------------------------------------------------------------------------- lightconv

def lightconv_rows(ctx):
    c, heads, width = 512, 8, 31
    sizes = [4096] if ctx.quick else [4096, 65536]
    rows = []
    for n in sizes:
        x = ctx.rng.standard_normal((B, n, c), dtype=np.float32)
        w = ctx.rng.standard_normal((heads, width), dtype=np.float32)
        tx, tw = ttype((B, n, c)), ttype((heads, width))
        spec = f"""func.func @main(%x: {tx}, %w: {tw}, %o: {tx}) -> {tx} {{
  %r = attn.lightconv ins(%x, %w : {tx}, {tw}) outs(%o : {tx}) -> {tx}
  return %r : {tx}
}}
"""
        io = {"x": x, "w": w, "o": np.zeros_like(x)}
        impls = ctx.ours_impls(spec, io, f"lightconv-{n}", n)
        if ctx.torch is not None:
            t = ctx.torch
            tx_, tw_ = ctx.t(x), ctx.t(w)

            def eager():
                wn = t.softmax(tw_, dim=-1).repeat_interleave(c // heads, dim=0).unsqueeze(1)
                y = t.nn.functional.conv1d(tx_.transpose(1, 2), wn, padding=(width - 1) // 2,
                                           groups=c)
                return y.transpose(1, 2).contiguous()
            impls["torch_eager"] = ctx.timed(eager)
        rows.append({"op": "lightconv", "case": f"C={c} K={width}", "n": n,
                     "bytes": 2.0 * x.nbytes, "impls": impls})
    return rows


CASES = {"kernelized": kernelized_rows, "lowrank": lowrank_rows, "pkm": pkm_rows,
         "lightconv": lightconv_rows}


def extra_cases():
    """CASES of bench/cpu/variants_*.py modules (other ops' rows), when present."""
    found = {}
    for path in sorted(HERE.glob("variants_*.py")):
        module = importlib.import_module(path.stem)
        found.update(getattr(module, "CASES", {}))
    return found


# ----------------------------------------------------------------------------- report

def copy_bandwidth(runs):
    """GB/s of a numpy copy of 256 MiB (read + write counted)."""
    a = np.ones(64 << 20, dtype=np.float32)
    b = np.empty_like(a)
    t = bench.median_time(lambda: np.copyto(b, a), runs)
    return 2.0 * a.nbytes / t / 1e9


def copy_new_bandwidth(runs):
    """GB/s of a numpy copy of 256 MiB into a new array each time (read + write counted): the
    like-for-like ceiling of an op that returns a new result (its first touch of fresh pages
    included); the targets stay stated against copy_bandwidth."""
    a = np.ones(64 << 20, dtype=np.float32)
    t = bench.median_time(lambda: a.copy(), runs)
    return 2.0 * a.nbytes / t / 1e9


def ms(row, impl):
    return row["impls"].get(impl, {}).get("ms")


def targets(rows, sgemm, copy_gbs, copy_new_gbs=None):
    """Issue 13 item 7, as this run measured it (plus, for information, lightconv against a
    copy into a new array)."""
    out = {}
    find = lambda op, case, n: next((r for r in rows if r["op"] == op and r["case"] == case  # noqa: E731
                                     and r["n"] == n), None)
    nc, ca = find("kernelized", "favor_plus", 65536), find("kernelized", "favor_plus causal", 65536)
    if nc and ms(nc, "ours_fused"):
        gflops = nc["flop"] / ms(nc, "ours_fused") / 1e6
        out["favor_plus N=65536: % of sgemm (>= 50)"] = round(100 * gflops / sgemm, 1)
        if ms(nc, "torch_eager"):
            out["favor_plus N=65536: torch eager / ours (> 1)"] = round(
                ms(nc, "torch_eager") / ms(nc, "ours_fused"), 2)
        if ca and ms(ca, "ours_fused"):
            out["favor_plus N=65536: causal / non-causal (<= 2)"] = round(
                ms(ca, "ours_fused") / ms(nc, "ours_fused"), 2)
    lr = find("lowrank", "r=256", 65536)
    if lr and ms(lr, "ours_fused") and ms(lr, "torch_eager"):
        out["lowrank r=256 N=65536: torch eager / ours (> 1)"] = round(
            ms(lr, "torch_eager") / ms(lr, "ours_fused"), 2)
    pk = find("pkm", "n=512 Dk=128 k=32", 16384)
    if pk and ms(pk, "ours_fused") and ms(pk, "torch_eager"):
        out["pkm N=16384: torch eager / ours (>= 2)"] = round(
            ms(pk, "torch_eager") / ms(pk, "ours_fused"), 2)
    lc = find("lightconv", "C=512 K=31", 65536)
    if lc and ms(lc, "ours_fused"):
        gbs = lc["bytes"] / ms(lc, "ours_fused") / 1e6
        out["lightconv N=65536: % of numpy copy bandwidth (>= 50)"] = round(100 * gbs / copy_gbs, 1)
        if copy_new_gbs:
            out["lightconv N=65536: % of numpy copy into a new array (information)"] = round(
                100 * gbs / copy_new_gbs, 1)
    return out


def print_row(row):
    cells = []
    for impl in ("ours_fused", "ours_reference", "torch_eager", "torch_sdpa_dense"):
        r = row["impls"].get(impl)
        if r is None:
            cells.append(f"{impl}: -")
        elif "ms" in r:
            extra = f" (N={r['n']})" if "n" in r and r["n"] != row["n"] else ""
            cells.append(f"{impl}: {r['ms']:.1f} ms{extra}")
        else:
            cells.append(f"{impl}: error")
    print(f"{row['op']:<11} {row['case']:<20} N={row['n']:<6} " + " | ".join(cells), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated ops (default every one)")
    parser.add_argument("--reference-max-n", type=int, default=4096)
    parser.add_argument("--dense-max-n", type=int, default=8192)
    parser.add_argument("--out", default="", help="result JSON (default bench/results/...)")
    args = parser.parse_args()
    cases = dict(CASES, **extra_cases())
    only = [o for o in args.only.split(",") if o]
    sgemm = bench.sgemm_gflops(args.runs)
    copy_gbs = copy_bandwidth(args.runs)
    copy_new_gbs = copy_new_bandwidth(args.runs)
    print(f"numpy sgemm {sgemm:.1f} GFLOP/s ({bench.numpy_blas()}), numpy copy {copy_gbs:.1f} "
          f"GB/s (into a new array {copy_new_gbs:.1f} GB/s), threads {args.threads}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="variants-") as tmp:
        ctx = Context(args, tmp)
        for name, fn in cases.items():
            if only and name not in only:
                continue
            for row in fn(ctx):
                print_row(row)
                rows.append(row)
    result_targets = targets(rows, sgemm, copy_gbs, copy_new_gbs)
    for key, value in result_targets.items():
        print(f"target {key}: {value}")
    date = datetime.date.today().isoformat()
    out = pathlib.Path(args.out) if args.out else REPO / "bench" / "results" / f"cpu-variants-{date}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"date": date, "machine": bench.machine_info(), "commit": bench.git_commit(),
              "blas": bench.numpy_blas(), "numpy": np.__version__,
              "torch": getattr(ctx.torch, "__version__", None), "threads": args.threads,
              "runs": args.runs, "sgemm_gflops": sgemm, "copy_gbs": copy_gbs,
              "copy_new_gbs": copy_new_gbs,
              "loadavg": pathlib.Path("/proc/loadavg").read_text().split()[:3],
              "rows": rows, "targets": result_targets}
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
