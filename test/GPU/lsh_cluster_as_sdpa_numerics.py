"""The rewrite of attn-gpu-lsh-cluster-as-sdpa, checked on the CPU: the rewritten IR (the hash /
score and sort kernels, one attn.sdpa over the gathered clusters (lsh: one per round, each
merged into the result by two log-sum-exp kernels, with merge-rounds=1 (the default), the
accumulator between rounds in f32 (merge-f32=1) or in the element type (the default); with
merge-rounds=0 up to four over parts of the heads and a combine after all rounds); no
attn.lsh / attn.cluster left) runs through attn-run's CPU pipeline and is compared with the
float64 reference (python/attn_mlir/reference.py) within the numerics contract's bound
(docs/Semantics.md §10), on inputs whose bucket / membership choices are separated by more than
rounding. lsh: bf16 and f16, D 64 and 128, causal and not, chunks packed into heads of 128
queries (2, 4 and 8 chunks per head) or not, look-back / look-ahead windows that wrap around
(W = nC), several sort blocks and a partial one, 512 buckets (16-bit sort fields). cluster: causal and not, grouped-query heads,
Nq != Nk, w = N, N not a multiple of the sort block, Nk over 255 steps of the radix count
(its 8-bit fields flushed).

Usage: python3 lsh_cluster_as_sdpa_numerics.py BUILD_DIR
"""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [os.path.join(REPO, "python"), os.path.join(REPO, "python", "tests"),
                os.path.join(HERE, "general", "device")]

from attn_mlir import reference as ref  # noqa: E402
from attn_mlir.run import run  # noqa: E402
from cases import draw_lsh  # noqa: E402
from helpers import TOL  # noqa: E402
from helpers import as_dtype  # noqa: E402
from test_run_cluster import MARGIN, cluster_ir, draw as draw_cluster  # noqa: E402
from test_run_cluster import membership_margin  # noqa: E402
from test_run_lsh import lsh_ir  # noqa: E402

# (dtype, D, rounds, buckets, chunk, causal, look_back, look_ahead, N)
CASES = [
    ("bf16", 64, 2, 16, 64, False, 1, 0, 1024),
    ("f16", 128, 3, 8, 16, True, 1, 1, 512),
    ("bf16", 64, 2, 8, 16, True, 1, 0, 256),
    ("bf16", 64, 2, 8, 16, True, 2, 2, 64),
    ("f16", 64, 1, 4, 32, False, 3, 0, 96),
    ("bf16", 64, 2, 8, 8, True, 0, 0, 136),
    # 512 buckets: the sort packs 16-bit fields (4 a word) instead of 8-bit ones.
    ("bf16", 64, 1, 512, 8, True, 1, 0, 1032),
]

# (dtype, B, H, Hkv, Nq, Nk, D, centroids, window, causal)
CLUSTER_CASES = [
    ("bf16", 1, 2, 2, 300, 300, 64, 4, 40, True),
    ("f16", 2, 4, 2, 100, 200, 128, 3, 64, False),
    ("bf16", 1, 2, 1, 256, 256, 64, 5, 256, True),
    # Nk over 2 x 255 steps of the radix count's 128 lanes (65280 positions) with nearly every
    # key's score positive (one top digit: draw_aligned): the counts flush their 8-bit fields.
    ("bf16", 1, 1, 1, 200, 66000, 64, 2, 24, False),
]
# The cluster cases drawn by draw_aligned.
ALIGNED = {3}


def draw_aligned(seed, b, h, hkv, nq, nk, d, c, w, dtype):
    """q, k, v and centroids near one direction, so that nearly every score is positive: the
    keys' radix digits then agree in the top place and a thread's count of one digit exceeds
    255."""
    for attempt in range(100):
        rng = np.random.default_rng([seed, attempt])
        axis = np.zeros(d)
        axis[0] = 1.0
        q = as_dtype(rng.standard_normal((b, h, nq, d)) * 0.2 + axis, dtype)
        k = as_dtype(rng.standard_normal((b, hkv, nk, d)) * 0.2 + axis, dtype)
        v = as_dtype(rng.standard_normal((b, hkv, nk, d)), dtype)
        mu = (rng.standard_normal((h, c, d)) * 0.1 + axis).astype(np.float32)
        if membership_margin(q, k, mu, w) > MARGIN:
            return q, k, v, mu
    raise AssertionError("no input with membership margins above MARGIN")


def check(name, rewritten, op, out, expected, dtype, want_sdpas=1):
    """Prints one case's line; returns whether it passed."""
    sdpas = rewritten.count("attn.sdpa ")
    left = rewritten.count(op)
    err = ref.rel_error(np.asarray(out, np.float64), expected)
    ok = sdpas == want_sdpas and left == 0 and np.isfinite(out).all() and err <= TOL[dtype]
    print(f"{name}: {sdpas} sdpa, {left} {op}, rel error {err:.2e} "
          f"(bound {TOL[dtype]:.0e}) {'ok' if ok else 'FAIL'}")
    return ok


# The rewrite's kParts (GpuLshClusterAsSdpa.cpp): the sdpa heads of a static N come in up to
# this many parts, one sdpa op each.
LSH_PARTS = 4


def lsh_sdpas(h, rounds, n, chunk, merge=False):
    """The sdpa ops of the rewrite of a static-N attn.lsh: with the rounds merged (merge-rounds=1,
    the default) one per round when R <= LSH_PARTS; else chunks packed P to a head of up to
    128 queries, G = H R nC / P heads in the largest power of two up to LSH_PARTS parts that
    divides G."""
    if merge and rounds <= LSH_PARTS:
        return rounds
    nc, packed, parts = n // chunk, 1, 1
    while 2 * packed * chunk <= 128 and nc % (2 * packed) == 0:
        packed *= 2
    groups = h * rounds * nc // packed
    while 2 * parts <= LSH_PARTS and groups % (2 * parts) == 0:
        parts *= 2
    return parts


def rewrite(opt, spec, merge=False, f32=True):
    option = f"=merge-rounds=1 merge-f32={int(f32)}" if merge else "=merge-rounds=0"
    return subprocess.run([opt, "--attn-gpu-lsh-cluster-as-sdpa" + option], input=spec,
                          capture_output=True, text=True, check=True).stdout


def main():
    build = sys.argv[1]
    opt = os.path.join(build, "bin", "attn-opt")
    os.environ.setdefault("ATTN_RUN", os.path.join(build, "bin", "attn-run"))
    rng = np.random.default_rng(13)
    failed = 0
    for dtype, d, rounds, buckets, chunk, causal, back, ahead, n in CASES:
        name = (f"{dtype} D={d} R={rounds} nb={buckets} c={chunk} lb={back} la={ahead} N={n}"
                + (" causal" if causal else ""))
        spec = lsh_ir(1, 2, n, d, d, rounds, buckets, chunk, look_back=back, look_ahead=ahead,
                      causal=causal, dtype=dtype)
        qk, v, rot = draw_lsh(rng, n, dtype, rounds=rounds, buckets=buckets, d=d)
        expected = ref.lsh(qk, v, rot, buckets, chunk, look_back=back, look_ahead=ahead,
                           causal=causal)
        # Combined at the end, and merged one round at a time (merge-rounds=1: 2 merge kernels a
        # round), with the accumulator between rounds in f32 or in the element type.
        for merge, f32 in ((False, True), (True, True), (True, False)):
            rewritten = rewrite(opt, spec, merge, f32)
            merges = rewritten.count("attn.gpu_lse_merge")
            want = 2 * lsh_sdpas(2, rounds, n, chunk, merge) if merge else 0
            # attn-opt's output names the arguments by position.
            (out,) = run(rewritten, [qk, v, rot, np.full(v.shape, np.nan, v.dtype)])
            mode = (" merged" + ("" if f32 else f" {dtype} acc")) if merge else ""
            acc = rewritten.count(f"tensor.empty() : tensor<2x{n}x{d}x{dtype}>")
            if merge and rounds > 1 and (acc == 0) != f32:
                print(f"  {acc} {dtype} accumulators, expected {'none' if f32 else 'some'} FAIL")
                failed += 1
            failed += not check(f"lsh {name}" + mode, rewritten,
                                "attn.lsh", out, expected, dtype,
                                lsh_sdpas(2, rounds, n, chunk, merge))
            if merges != want:
                print(f"  {merges} merge kernels, expected {want} FAIL")
                failed += 1
    for seed, (dtype, b, h, hkv, nq, nk, d, c, w, causal) in enumerate(CLUSTER_CASES):
        name = (f"cluster {dtype} B={b} H={h} Hkv={hkv} Nq={nq} Nk={nk} D={d} C={c} w={w}"
                + (" causal" if causal else ""))
        spec = cluster_ir((b, h, nq, d), (b, hkv, nk, d), (b, hkv, nk, d), c, w, causal=causal,
                          dtype=dtype)
        rewritten = rewrite(opt, spec)
        if seed in ALIGNED:
            q, k, v, mu = draw_aligned(seed, b, h, hkv, nq, nk, d, c, w, dtype)
        else:
            q, k, v, mu = draw_cluster(seed, b, h, hkv, nq, nk, d, d, c, w, dtype)
        (out,) = run(rewritten, [q, k, v, mu, np.full((b, h, nq, d), np.nan, q.dtype)])
        expected = ref.cluster(q, k, v, mu, w, causal=causal)
        failed += not check(name, rewritten, "attn.cluster", out, expected, dtype)
    print("FAILED" if failed else "all ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
