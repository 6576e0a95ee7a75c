#!/usr/bin/env python3
"""attn.lsh and attn.cluster on the CPU, side by side in one run (issue 13, items 6 and 7).

One function per op (`lsh_rows`, `cluster_rows`) returns the rows of one workload: on the same
inputs (f32, B=1, H=8, D=64),
  * ours, fused (`attn-run --mode=fused`, the default pipeline);
  * ours, reference (`attn-run --mode=reference`, the unfused oracle) up to --reference-max-n;
  * torch eager of the same semantics (docs/Semantics.md §4 and §5), written here: hashing by
    matmul, a sort by (bucket, position), chunked attention over gathered look-back chunks
    with the original positions, log-sum-exp over the rounds; for cluster, top-w per centroid
    (torch.topk), attention per cluster, log-sum-exp over a query's clusters;
  * torch's CPU scaled_dot_product_attention, dense, at the same N, for scale (up to
    --sdpa-max-n).
Times are medians over --runs runs (attn-run's own --bench for ours). Ours also reports the
JIT compile time and the compiled call's memory beyond inputs and results (`--profile`), and
its result's relative error against torch eager's.

It prints a table and the targets of issue 13 item 7 for these ops, and writes
bench/results/cpu-variants-lsh-<date>.json (machine, CPU flags, commit, every row). Run it
with the benchmark venv: /work/main/bench/.venv/bin/python bench/cpu/variants_lsh.py.
"""

import argparse
import datetime
import json
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench  # noqa: E402  (sets the BLAS thread variables from --threads before numpy loads)
from bench import B, D, H, REPO, git_commit, machine_info, median_time, run_ours  # noqa: E402

import numpy as np  # noqa: E402

LSH = {"rounds": 2, "num_buckets": 64, "chunk": 64, "look_back": 1, "look_ahead": 0}
CLUSTER = {"centroids": 16, "window": 1024}
LSH_SELF_SCORE = -1e5


def lsh_spec(n, causal):
    t = f"tensor<{B}x{H}x{n}x{D}xf32>"
    rot = f"tensor<{H}x{LSH['rounds']}x{D}x{LSH['num_buckets'] // 2}xf32>"
    attrs = (f"num_buckets = {LSH['num_buckets']}, chunk_size = {LSH['chunk']}, "
             f"look_back = {LSH['look_back']}, look_ahead = {LSH['look_ahead']}"
             + (", causal" if causal else ""))
    return f"""func.func @main(%qk: {t}, %v: {t}, %rot: {rot}, %o: {t}) -> {t} {{
  %r = attn.lsh ins(%qk, %v, %rot : {t}, {t}, {rot}) outs(%o : {t}) {{{attrs}}} -> {t}
  return %r : {t}
}}
"""


def cluster_spec(n, causal):
    t = f"tensor<{B}x{H}x{n}x{D}xf32>"
    c = f"tensor<{H}x{CLUSTER['centroids']}x{D}xf32>"
    attrs = f"window = {CLUSTER['window']}" + (", causal" if causal else "")
    return f"""func.func @main(%q: {t}, %k: {t}, %v: {t}, %c: {c}, %o: {t}) -> {t} {{
  %r = attn.cluster ins(%q, %k, %v, %c : {t}, {t}, {t}, {c}) outs(%o : {t}) {{{attrs}}} -> {t}
  return %r : {t}
}}
"""


# ------------------------------------------------------------------ torch eager, same semantics

def _unit_rows(torch, x):
    norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
    return torch.where(norm == 0, torch.zeros_like(x), x / torch.where(norm == 0, 1, norm))


def torch_lsh(torch, qk, v, rot, causal):
    """docs/Semantics.md §4 in torch: per round, buckets, the (bucket, position) order, chunks
    attending to their look-back / look-ahead chunks, then log-sum-exp over the rounds."""
    b_, h_, n, d = qk.shape
    c, nb = LSH["chunk"], LSH["num_buckets"]
    rounds, nc = rot.shape[1], n // c
    scale = d ** -0.5
    keys = _unit_rows(torch, qk)
    x = torch.einsum("bhnd,hrdk->bhrnk", qk, rot)
    buckets = torch.argmax(torch.cat([x, -x], dim=-1), dim=-1)  # first maximum on ties
    position = torch.arange(n)
    perm = torch.argsort(buckets * n + position, dim=-1)  # [B, H, R, N]: slot -> position

    def sorted_rows(t):  # [B, H, N, F] -> [B, H, R, nC, c, F] in slot order
        idx = perm.unsqueeze(-1).expand(-1, -1, -1, -1, t.shape[-1])
        return torch.gather(t.unsqueeze(2).expand(-1, -1, rounds, -1, -1), 3, idx).view(
            b_, h_, rounds, nc, c, t.shape[-1])

    window = min(LSH["look_back"] + LSH["look_ahead"] + 1, nc)
    offsets = [w - LSH["look_back"] for w in range(window)]

    def seen(t):  # chunk ch sees chunks (ch + off) mod nC, laid end to end
        return torch.cat([torch.roll(t, -off, dims=3) for off in offsets], dim=4)

    sq, sk, sv = sorted_rows(qk), seen(sorted_rows(keys)), seen(sorted_rows(v))
    qpos = perm.view(b_, h_, rounds, nc, c)
    kpos = seen(qpos.unsqueeze(-1)).squeeze(-1)
    s = scale * torch.matmul(sq, sk.transpose(-1, -2))  # [B, H, R, nC, c, W c]
    own = qpos.unsqueeze(-1) == kpos.unsqueeze(-2)
    s = torch.where(own, torch.tensor(LSH_SELF_SCORE, dtype=s.dtype), s)
    if causal:
        live = (kpos.unsqueeze(-2) <= qpos.unsqueeze(-1)) | own
        s = s.masked_fill(~live, float("-inf"))
    lse = torch.logsumexp(s, dim=-1)  # never -inf: the own key is always live
    o = torch.matmul(torch.exp(s - lse.unsqueeze(-1)), sv)
    # Back to positions, then the rounds by log-sum-exp.
    o_r = torch.empty(b_, h_, rounds, n, v.shape[-1])
    o_r.scatter_(3, perm.unsqueeze(-1).expand(-1, -1, -1, -1, v.shape[-1]),
                 o.view(b_, h_, rounds, n, -1))
    lse_r = torch.empty(b_, h_, rounds, n).scatter_(3, perm, lse.view(b_, h_, rounds, n))
    weight = torch.softmax(lse_r, dim=2)
    return (weight.unsqueeze(-1) * o_r).sum(dim=2)


def torch_cluster(torch, q, k, v, mu, causal):
    """docs/Semantics.md §5 in torch (H == Hkv): per centroid the top w queries and keys
    (torch.topk; the bench's inputs have no ties), attention inside each cluster, and a query's
    clusters combined by log-sum-exp."""
    b_, h_, n, d = q.shape
    w, dv = CLUSTER["window"], v.shape[-1]
    scale = d ** -0.5
    sq = torch.einsum("bhnd,hcd->bhcn", _unit_rows(torch, q), mu)
    sk = torch.einsum("bhnd,hcd->bhcn", _unit_rows(torch, k), mu)
    qi = torch.topk(sq, w, dim=-1).indices  # [B, H, C, w]
    kj = torch.topk(sk, w, dim=-1).indices
    n_c = mu.shape[1]

    def gather(t, idx):  # [B, H, N, F] at idx [B, H, C, w] -> [B, H, C, w, F]
        f = t.shape[-1]
        flat = idx.reshape(b_, h_, n_c * w, 1).expand(-1, -1, -1, f)
        return torch.gather(t, 2, flat).view(b_, h_, n_c, w, f)

    s = scale * torch.matmul(gather(q, qi), gather(k, kj).transpose(-1, -2))
    if causal:
        s = s.masked_fill(kj.unsqueeze(-2) > qi.unsqueeze(-1), float("-inf"))
    lse = torch.logsumexp(s, dim=-1)  # [B, H, C, w]; -inf for a query with no live key
    finite = torch.isfinite(lse)
    p = torch.where(finite.unsqueeze(-1), torch.exp(s - lse.unsqueeze(-1)), 0)
    o_c = torch.matmul(p, gather(v, kj))
    # LSE(i) over the clusters holding i, then sum_c exp(lse_c - LSE) o_c scattered to i.
    part = torch.full((b_, h_, n_c, n), float("-inf")).scatter_(3, qi, lse)
    total = torch.logsumexp(part, dim=2)  # [B, H, N]
    weight = torch.where(finite, torch.exp(lse - torch.gather(total, 2, qi.view(b_, h_, -1))
                                           .view(b_, h_, n_c, w)), 0)
    out = torch.zeros(b_, h_, n, dv)
    out.scatter_add_(2, qi.reshape(b_, h_, -1, 1).expand(-1, -1, -1, dv),
                     (weight.unsqueeze(-1) * o_c).view(b_, h_, -1, dv))
    return out


# ------------------------------------------------------------------------------------ rows

def _rel_error(out, expected):
    den = np.linalg.norm(expected)
    return float(np.linalg.norm(out - expected) / (den if den else 1.0))


def _run_all(op, n, causal, arrays, spec, torch_fn, args, tmp):
    """The rows of one workload: ours (both modes), torch eager, torch SDPA dense."""
    import torch
    torch.set_num_threads(args.threads)
    base = {"op": op, "n": n, "causal": causal}
    paths = {}
    for name, a in arrays.items():
        paths[name] = tmp / f"{op}-{n}-{name}.npy"
        np.save(paths[name], a)
    spec_path = tmp / f"{op}-{n}.mlir"
    spec_path.write_text(spec)
    t_in = {name: torch.from_numpy(a) for name, a in arrays.items() if name != "o"}
    with torch.no_grad():
        expected = torch_fn(torch, t_in).numpy()
        eager_ms = 1e3 * median_time(lambda: torch_fn(torch, t_in), args.runs)
    rows = [dict(base, impl="torch_eager", ms=eager_ms)]
    for mode in ("fused", "reference"):
        if mode == "reference" and n > args.reference_max_n:
            continue
        out_path = tmp / f"{op}-{n}-{mode}-out.npy"
        runs = args.runs if mode == "fused" else 1
        r = run_ours(args.attn_run, mode, str(spec_path), paths, runs, args.threads,
                     extra=[f"--output={out_path}"])
        row = dict(base, impl=f"ours_{mode}", **r)
        if out_path.exists():
            row["rel_error_vs_torch_eager"] = _rel_error(np.load(out_path), expected)
        rows.append(row)
    if n <= args.sdpa_max_n:
        q = torch.randn(B, H, n, D)
        fn = lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q)  # noqa: E731
        with torch.no_grad():
            rows.append(dict(base, impl="torch_sdpa_dense",
                             ms=1e3 * median_time(fn, 1, warmup=0)))
    for row in rows:
        print_row(row)
    return rows


def lsh_rows(n, args, tmp, causal=True):
    """attn.lsh, 2 rounds, 64 buckets, chunks of 64 looking one back, at length n."""
    rng = np.random.default_rng(n)
    arrays = {"qk": rng.standard_normal((B, H, n, D), dtype=np.float32),
              "v": rng.standard_normal((B, H, n, D), dtype=np.float32),
              "rot": rng.standard_normal((H, LSH["rounds"], D, LSH["num_buckets"] // 2),
                                         dtype=np.float32),
              "o": np.zeros((B, H, n, D), np.float32)}
    fn = lambda torch, t: torch_lsh(torch, t["qk"], t["v"], t["rot"], causal)  # noqa: E731
    return _run_all("lsh", n, causal, arrays, lsh_spec(n, causal), fn, args, tmp)


def cluster_rows(n, args, tmp, causal=True):
    """attn.cluster, 16 centroids, window 1024, at length n."""
    rng = np.random.default_rng(n + 1)
    arrays = {name: rng.standard_normal((B, H, n, D), dtype=np.float32)
              for name in ("q", "k", "v")}
    arrays["c"] = rng.standard_normal((H, CLUSTER["centroids"], D), dtype=np.float32)
    arrays["o"] = np.zeros((B, H, n, D), np.float32)
    fn = lambda torch, t: torch_cluster(torch, t["q"], t["k"], t["v"], t["c"], causal)  # noqa
    return _run_all("cluster", n, causal, arrays, cluster_spec(n, causal), fn, args, tmp)


def print_row(row):
    extra = ""
    if "call_memory_bytes" in row:
        extra += f"  mem {row['call_memory_bytes'] / 2**20:8.1f} MiB"
    if "compile_s" in row:
        extra += f"  compile {row['compile_s']:.2f} s"
    if "rel_error_vs_torch_eager" in row:
        extra += f"  rel.err vs eager {row['rel_error_vs_torch_eager']:.1e}"
    ms = f"{row['ms']:10.1f} ms" if "ms" in row else f"  error {row.get('error')}"
    print(f"{row['op']:8} N={row['n']:6} {row['impl']:18} {ms}{extra}", flush=True)


def _ms(rows, op, n, impl):
    return next((r["ms"] for r in rows if r["op"] == op and r["n"] == n and r["impl"] == impl
                 and "ms" in r), None)


def targets(rows, n, big_n):
    """Issue 13 item 7 for lsh and cluster, as measured by this run."""
    out = {}
    for op in ("lsh", "cluster"):
        fused = _ms(rows, op, n, "ours_fused")
        for impl, goal in (("ours_reference", 10), ("torch_eager", 3)):
            other = _ms(rows, op, n, impl)
            if fused and other:
                out[f"{op} N={n}: {impl} / ours_fused (>= {goal})"] = round(other / fused, 2)
    small, big = _ms(rows, "lsh", n, "ours_fused"), _ms(rows, "lsh", big_n, "ours_fused")
    if small and big:
        out[f"lsh ours_fused N={big_n} / N={n} (<= 4.5)"] = round(big / small, 2)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=bench.os.cpu_count())
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lsh-n", default="16384,65536")
    ap.add_argument("--cluster-n", default="16384")
    ap.add_argument("--reference-max-n", type=int, default=16384)
    ap.add_argument("--sdpa-max-n", type=int, default=16384)
    ap.add_argument("--non-causal", action="store_true", help="the ops without `causal`")
    ap.add_argument("--attn-run", default=str(REPO / "build" / "bin" / "attn-run"))
    ap.add_argument("--out", default=str(REPO / "bench" / "results"))
    args = ap.parse_args()
    commit = git_commit()
    stamp = datetime.datetime.now(datetime.timezone.utc)
    causal = not args.non_causal
    lsh_n = [int(x) for x in args.lsh_n.split(",") if x]
    cluster_n = [int(x) for x in args.cluster_n.split(",") if x]
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        for n in lsh_n:
            rows += lsh_rows(n, args, tmp, causal)
        for n in cluster_n:
            rows += cluster_rows(n, args, tmp, causal)
    goals = targets(rows, 16384, 65536)
    for name, value in goals.items():
        print(f"target {name}: {value}")
    result = {"date": stamp.isoformat(timespec="seconds"), "commit": commit,
              "machine": machine_info(), "threads": args.threads, "runs": args.runs,
              "shape": {"B": B, "H": H, "D": D, "dtype": "f32", "causal": causal},
              "lsh": LSH, "cluster": CLUSTER, "rows": rows, "targets": goals}
    path = pathlib.Path(args.out) / f"cpu-variants-lsh-{stamp.strftime('%Y-%m-%d')}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"json: {path}")


if __name__ == "__main__":
    main()
