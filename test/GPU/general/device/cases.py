"""The cases of the GPU end-to-end check: every attn op in every element type it takes, each
as one spec with a dynamic length N (one artifact serves every length), and a function that
draws fresh random inputs at a length and computes the float64 reference (a tuple where the
spec has several results)
(python/attn_mlir/reference.py) with the numerics contract's bound (docs/Semantics.md §10).

make_cases.py compiles the specs here (where LLVM is); check.py draws the inputs and the
references on the GPU machine at run time (numpy only), so that every run sees new inputs.
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
for path in (os.path.join(REPO, "python"), os.path.join(REPO, "python", "tests")):
    if path not in sys.path:
        sys.path.insert(0, path)

from attn_mlir import reference as ref  # noqa: E402
from attn_mlir.builder import sdpa_func  # noqa: E402
from attn_mlir.patterns import Causal, Window  # noqa: E402
from helpers import TOL, as_dtype  # noqa: E402
from test_run_cluster import cluster_ir, draw as draw_cluster  # noqa: E402
from test_run_kernelized import kernelized_ir  # noqa: E402
from test_run_lightconv import lightconv_ir  # noqa: E402
from test_run_lowrank import lowrank_ir  # noqa: E402
from test_run_lsh import MARGIN as LSH_MARGIN, bucket_margin, lsh_ir  # noqa: E402
from test_run_pkm import make_inputs as draw_pkm, pkm_ir  # noqa: E402

H, D = 2, 64
DTYPES = ("f32", "bf16", "f16")
LENGTHS = (1, 127, 1000, 4096)
# Lengths between the tile sizes, from the same artifacts.
EXTRA_LENGTHS = (65, 2500)


def _np(dtype):
    return np.float16 if dtype == "f16" else np.float32


def _poisoned(shape, dtype):
    return np.full(shape, np.nan, _np(dtype))


def sdpa_case(dtype, pattern, operands=False):
    """attn.sdpa, [1, H, N, D]; with `operands`, a mask [1, 1, N, N] (20 % of the pairs dead)
    and an f32 bias [H, N, N]. bf16 / f16 run on the Hopper core, f32 on the general path."""
    dims = [1, H, None, D]
    extra = {}
    if operands:
        extra = {"mask": ([1, 1, None, None], "i1"), "bias": ([H, None, None], "f32")}
    ir = sdpa_func((dims, dtype), (dims, dtype), (dims, dtype), pattern=pattern, **extra)

    def make(rng, n):
        q, k, v = (as_dtype(rng.standard_normal((1, H, n, D)), dtype) for _ in range(3))
        inputs = {"q": q, "k": k, "v": v, "o": _poisoned(q.shape, dtype)}
        mask = bias = None
        if operands:
            mask = inputs["mask"] = rng.random((1, 1, n, n)) >= 0.2
            bias = inputs["bias"] = rng.standard_normal((H, n, n)).astype(np.float32)
        expected = ref.sdpa(q, k, v, pattern=pattern or ref.Dense(), mask=mask, bias=bias)
        return inputs, expected
    return ir, make


def sdpa_cross_case(dtype):
    """attn.sdpa, dense, with Nq = N and Nk = N // 2 (two dynamic lengths): at N = 1 there are
    no keys, so the core runs over an empty key tensor (o = 0)."""
    qdims, kdims = [1, H, None, D], [1, H, None, D]
    ir = sdpa_func((qdims, dtype), (kdims, dtype), (kdims, dtype))

    def make(rng, n):
        q = as_dtype(rng.standard_normal((1, H, n, D)), dtype)
        k, v = (as_dtype(rng.standard_normal((1, H, n // 2, D)), dtype) for _ in range(2))
        inputs = {"q": q, "k": k, "v": v, "o": _poisoned(q.shape, dtype)}
        return inputs, ref.sdpa(q, k, v, pattern=ref.Dense())
    return ir, make


# s - 0.05 (h + 1) (i - j): the score_mod body that bench/gpu/build_core.sh uses too.
with open(os.path.join(REPO, "bench", "gpu", "score_mod_body.mlir.txt")) as _f:
    SCORE_MOD = _f.read().rstrip("\n")
MEMORY = 77


def sdpa_operands_case(dtype):
    """attn.sdpa, causal, with positions ([1, 1, N] i32, shifted by a random offset per
    call), a score_mod, a span (ramp 32, max_span 300), memory ([H, 77, D] keys and values)
    and the lse result: the operands that the core reads through extra tensor maps and
    arguments, here through an artifact's host code."""
    dims = [1, H, None, D]
    ir = sdpa_func((dims, dtype), (dims, dtype), (dims, dtype), pattern=Causal(),
                   memory=(([H, MEMORY, D], dtype), ([H, MEMORY, D], dtype)),
                   positions=(([1, 1, None], "i32"), ([1, 1, None], "i32")),
                   span=([H], "f32"), ramp=32.0, max_span=300.0, score_mod=SCORE_MOD,
                   lse=True)

    def make(rng, n):
        q, k, v = (as_dtype(rng.standard_normal((1, H, n, D)), dtype) for _ in range(3))
        mk, mv = (as_dtype(rng.standard_normal((H, MEMORY, D)), dtype) for _ in range(2))
        offset = int(rng.integers(0, 50))
        qpos = (np.arange(n) + offset).astype(np.int32).reshape(1, 1, n)
        kpos = np.arange(n).astype(np.int32).reshape(1, 1, n)
        z = rng.uniform(-20.0, 400.0, H).astype(np.float32)
        inputs = {"q": q, "k": k, "v": v, "o": _poisoned(q.shape, dtype), "mk": mk, "mv": mv,
                  "qpos": qpos, "kpos": kpos, "span": z}
        expected = ref.sdpa(q, k, v, pattern=ref.Causal(), memory=(mk, mv),
                            positions=(qpos, kpos), span=z, ramp=32.0, max_span=300.0,
                            score_mod=lambda s, b, h, i, j: s - 0.05 * (h + 1) * (i - j),
                            return_lse=True)
        return inputs, expected
    return ir, make


def document_ids(rng, n, kind):
    """[n] document ids (int64) of one batch row. "sorted": packed documents of random lengths
    (1 to n / 4 + 1), ascending ids from a random start with random gaps; "unsorted": runs of
    random lengths whose ids go up and down (adjacent runs may share an id); "one": a single
    document."""
    if kind == "one":
        return np.full(n, int(rng.integers(0, 1000)), np.int64)
    ids, start = [], int(rng.integers(0, 1000))
    while len(ids) < n:
        length = int(rng.integers(1, n // 4 + 2))
        ids += [start] * length
        start = start + int(rng.integers(1, 4)) if kind == "sorted" else int(rng.integers(0, 6))
    return np.array(ids[:n], np.int64)


def sdpa_segments_case(dtype, pattern, kinds, id_type):
    """attn.sdpa with document ids ([2, N] of `id_type`, query and key ids equal), B = 2: batch
    b has ids of `kinds[b]` (document_ids), so one launch sees a batch with sorted key ids (the
    core clips its key loop to the query tile's documents) and one without."""
    dims = [2, H, None, D]
    ir = sdpa_func((dims, dtype), (dims, dtype), (dims, dtype), pattern=pattern,
                   segments=(([2, None], id_type), ([2, None], id_type)))

    def make(rng, n):
        q, k, v = (as_dtype(rng.standard_normal((2, H, n, D)), dtype) for _ in range(3))
        ids = np.stack([document_ids(rng, n, kind) for kind in kinds]).astype(
            np.int32 if id_type == "i32" else np.int64)
        inputs = {"q": q, "k": k, "v": v, "o": _poisoned(q.shape, dtype), "qseg": ids,
                  "kseg": ids.copy()}
        expected = ref.sdpa(q, k, v, pattern=pattern or ref.Dense(), segments=(ids, ids))
        return inputs, expected
    return ir, make


def draw_lsh(rng, n, dtype, rounds=2, buckets=8, d=32):
    """qk [1, H, n, d], v, rotations [H, rounds, d, buckets/2] with every bucket choice
    separated by more than rounding (docs/Semantics.md §10): rows of qk whose lead of the
    winning bucket is too small are redrawn (redrawing whole inputs rarely succeeds at
    n = 4096)."""
    qk = as_dtype(rng.standard_normal((1, H, n, d)), dtype)
    v = as_dtype(rng.standard_normal((1, H, n, d)), dtype)
    rot = as_dtype(rng.standard_normal((H, rounds, d, buckets // 2)), dtype)
    for _ in range(100):
        x = np.einsum("bhnd,hrdk->bhrnk", qk.astype(np.float64), rot.astype(np.float64))
        y = np.sort(np.concatenate([x, -x], axis=-1), axis=-1)
        close = ((y[..., -1] - y[..., -2]) <= LSH_MARGIN).any(axis=2)  # [1, H, n]
        if not close.any():
            break
        qk[close] = as_dtype(rng.standard_normal((int(close.sum()), d)), dtype)
    assert bucket_margin(qk, rot) > LSH_MARGIN
    return qk, v, rot


def lsh_case(dtype):
    """attn.lsh, 8 buckets, chunk 16, 2 rounds (N a multiple of 16)."""
    ir = lsh_ir(1, H, 64, 32, 32, 2, 8, 16, dtype=dtype, dynamic=("N",))

    def make(rng, n):
        qk, v, rot = draw_lsh(rng, n, dtype)
        inputs = {"qk": qk, "v": v, "rot": rot, "o": _poisoned(v.shape, dtype)}
        return inputs, ref.lsh(qk, v, rot, 8, 16)
    return ir, make


def lsh_core_case(dtype, d, rounds, buckets, chunk, causal, look_ahead=0, static_n=None):
    """attn.lsh that the Hopper core takes (bf16 / f16, D = Dv = 64 or 128): hash and sort on
    the general path, the chunks as one attn.sdpa with positions on the core
    (attn-gpu-lsh-cluster-as-sdpa); N a multiple of the chunk, dynamic unless `static_n` (then
    chunks packed into heads of 128 queries and the heads in two parts, two sdpa ops, as at
    the bench's N = 16384)."""
    ir = lsh_ir(1, H, static_n or 64, d, d, rounds, buckets, chunk, look_ahead=look_ahead,
                causal=causal, dtype=dtype, dynamic=() if static_n else ("N",))

    def make(rng, n):
        qk, v, rot = draw_lsh(rng, n, dtype, rounds=rounds, buckets=buckets, d=d)
        inputs = {"qk": qk, "v": v, "rot": rot, "o": _poisoned(v.shape, dtype)}
        return inputs, ref.lsh(qk, v, rot, buckets, chunk, look_ahead=look_ahead, causal=causal)
    return ir, make


def cluster_core_case(dtype, heads, kv_heads, d, centroids, window, causal):
    """attn.cluster that the Hopper core takes (bf16 / f16, D = Dv = 64 or 128): the radix
    select and the member lists on the general path, the clusters as one attn.sdpa with
    positions on the core (attn-gpu-lsh-cluster-as-sdpa); any N >= the window."""
    shape_q, shape_kv = (1, heads, 8, d), (1, kv_heads, 8, d)
    ir = cluster_ir(shape_q, shape_kv, shape_kv, centroids, window, causal=causal, dtype=dtype,
                    dynamic=("N",))

    def make(rng, n):
        q, k, v, mu = draw_cluster(int(rng.integers(1 << 30)), 1, heads, kv_heads, n, n, d, d,
                                   centroids, window, dtype)
        inputs = {"q": q, "k": k, "v": v, "c": mu, "o": _poisoned(q.shape, dtype)}
        return inputs, ref.cluster(q, k, v, mu, window, causal=causal)
    return ir, make


def kernelized_case(dtype, feature_map, causal):
    proto = np.zeros((1, H, 8, 32), np.float32)
    w = np.zeros((H, 64, 32), np.float32) if feature_map == "favor_plus" else None
    ir = kernelized_ir(proto, proto, proto, w, dtype, feature_map, causal, (2,))

    def make(rng, n):
        q, k, v = (as_dtype(rng.standard_normal((1, H, n, 32)), dtype) for _ in range(3))
        inputs = {"q": q, "k": k, "v": v}
        proj = None
        if w is not None:
            proj = inputs["w"] = as_dtype(rng.standard_normal(w.shape), dtype)
        inputs["o"] = _poisoned(v.shape, dtype)
        return inputs, ref.kernelized(q, k, v, feature_map, projection=proj, causal=causal)
    return ir, make


def kernelized_core_case(dtype, heads, kv_heads, m, d, w_heads, amplitude=1.0, causal=False):
    """FAVOR+ that attn-gpu-kernelized-as-sdpa takes (bf16 / f16, D 64 or 128): non-causal, two
    attn.sdpa ops for the Hopper core; causal, the chunked scan (GpuKernelizedCausal.cpp); q and
    k drawn with standard deviation `amplitude`."""
    proto_q = np.zeros((1, heads, 8, d), np.float32)
    proto_kv = np.zeros((1, kv_heads, 8, d), np.float32)
    w = np.zeros((w_heads, m, d), np.float32)
    ir = kernelized_ir(proto_q, proto_kv, proto_kv, w, dtype, "favor_plus", causal, (2,))

    def make(rng, n):
        q = as_dtype(amplitude * rng.standard_normal((1, heads, n, d)), dtype)
        k = as_dtype(amplitude * rng.standard_normal((1, kv_heads, n, d)), dtype)
        v = as_dtype(rng.standard_normal((1, kv_heads, n, d)), dtype)
        proj = as_dtype(rng.standard_normal(w.shape), dtype)
        inputs = {"q": q, "k": k, "v": v, "w": proj, "o": _poisoned(q.shape, dtype)}
        return inputs, ref.kernelized(q, k, v, "favor_plus", projection=proj, causal=causal)
    return ir, make


def lightconv_case(dtype):
    ir = lightconv_ir((1, 8, 64), (4, 7), dtype, True, None, (1,))

    def make(rng, n):
        x = as_dtype(rng.standard_normal((1, n, 64)), dtype)
        w = as_dtype(rng.standard_normal((4, 7)), dtype)
        inputs = {"x": x, "w": w, "o": _poisoned(x.shape, dtype)}
        return inputs, ref.lightconv(x, w, causal=True)
    return ir, make


def lowrank_case(dtype):
    proto = np.zeros((1, H, 8, 32), np.float32)
    e = np.zeros((1, 16, 8), np.float32)
    ir = lowrank_ir(proto, proto, proto, e, None, dtype, dtype, None, (2,), (2,))

    def make(rng, n):
        q, k, v = (as_dtype(rng.standard_normal((1, H, n, 32)), dtype) for _ in range(3))
        e = as_dtype(rng.standard_normal((1, 16, n)) / np.sqrt(n), dtype)
        inputs = {"q": q, "k": k, "v": v, "e": e, "o": _poisoned(v.shape, dtype)}
        return inputs, ref.lowrank(q, k, v, e, None)
    return ir, make


def cluster_case(dtype):
    """attn.cluster, 4 centroids (f32), window 16 (N >= 16)."""
    ir = cluster_ir((1, H, 8, 32), (1, H, 8, 32), (1, H, 8, 32), 4, 16, dtype=dtype,
                    dynamic=("N",))

    def make(rng, n):
        q, k, v, mu = draw_cluster(int(rng.integers(1 << 30)), 1, H, H, n, n, 32, 32, 4, 16,
                                   dtype)
        inputs = {"q": q, "k": k, "v": v, "c": mu, "o": _poisoned(v.shape, dtype)}
        return inputs, ref.cluster(q, k, v, mu, 16)
    return ir, make


def pkm_case(dtype):
    proto_q = np.zeros((1, H, 8, 32), np.float32)
    sk = np.zeros((H, 8, 16), np.float32)
    vals = np.zeros((64, 32), np.float32)
    ir = pkm_ir(proto_q, sk, vals, 4, dtype, dtype, (2,), ())

    def make(rng, n):
        q, sk1, sk2 = draw_pkm(rng, 1, H, n, 32, 8, 4, dtype, False)
        values = as_dtype(rng.standard_normal((64, 32)), dtype)
        inputs = {"q": q, "s1": sk1, "s2": sk2, "vals": values,
                  "o": _poisoned((1, H, n, 32), dtype)}
        return inputs, ref.pkm(q, sk1, sk2, values, 4)
    return ir, make


def _lengths(minimum=1, multiple=1):
    """LENGTHS and EXTRA_LENGTHS, raised to `minimum` and rounded up to `multiple`."""
    out = []
    for n in LENGTHS + EXTRA_LENGTHS:
        n = max(n, minimum)
        n = -(-n // multiple) * multiple
        if n not in out:
            out.append(n)
    return out


def cases():
    """[(name, dtype, (ir, make), lengths)] for every op and element type."""
    out = []
    for dt in DTYPES:
        out += [
            (f"sdpa_dense_{dt}", dt, sdpa_case(dt, None), _lengths()),
            (f"sdpa_causal_{dt}", dt, sdpa_case(dt, Causal()), _lengths()),
            (f"sdpa_cross_{dt}", dt, sdpa_cross_case(dt), _lengths()),
            (f"sdpa_window_mask_bias_{dt}", dt, sdpa_case(dt, Window(128, 0), True),
             _lengths()),
            (f"sdpa_operands_lse_{dt}", dt, sdpa_operands_case(dt), _lengths()),
            # Document ids: sorted and unsorted batches in one call (causal, i32), sorted and
            # a single document (dense, i64).
            (f"sdpa_docs_causal_{dt}", dt,
             sdpa_segments_case(dt, Causal(), ("sorted", "unsorted"), "i32"), _lengths()),
            (f"sdpa_docs_dense_{dt}", dt,
             sdpa_segments_case(dt, None, ("sorted", "one"), "i64"), _lengths()),
            (f"lsh_{dt}", dt, lsh_case(dt), _lengths(16, 16)),
            (f"cluster_{dt}", dt, cluster_case(dt), _lengths(16)),
            (f"lowrank_{dt}", dt, lowrank_case(dt), _lengths()),
            (f"kernelized_favor_{dt}", dt, kernelized_case(dt, "favor_plus", False),
             _lengths()),
            (f"kernelized_elu_causal_{dt}", dt, kernelized_case(dt, "elu_plus_one", True),
             _lengths()),
            (f"pkm_{dt}", dt, pkm_case(dt), _lengths()),
            (f"lightconv_causal_{dt}", dt, lightconv_case(dt), _lengths()),
        ]
        if dt == "f32":
            continue
        out += [
            # FAVOR+ on the Hopper core: grouped-query heads (4 / 2), m = 256, D = 64; and one
            # projection head for every head, D = 128, m = 64, smaller q and k.
            (f"kernelized_favor_core_gqa_{dt}", dt,
             kernelized_core_case(dt, 4, 2, 256, 64, 4), _lengths()),
            (f"kernelized_favor_core_w1_d128_{dt}", dt,
             kernelized_core_case(dt, 2, 2, 64, 128, 1, amplitude=0.5), _lengths()),
            # Causal FAVOR+ as the chunked scan: H 4, Hkv 2, m 256, D 64; W [1, 64, 128].
            (f"kernelized_favor_causal_gqa_{dt}", dt,
             kernelized_core_case(dt, 4, 2, 256, 64, 4, causal=True), _lengths()),
            (f"kernelized_favor_causal_w1_d128_{dt}", dt,
             kernelized_core_case(dt, 2, 2, 64, 128, 1, amplitude=0.5, causal=True), _lengths()),
            # LSH on the Hopper core: non-causal, D = 64, 16 buckets, chunk 64; causal, D = 128,
            # 3 rounds, 8 buckets, chunk 16 with one chunk of look-ahead.
            (f"lsh_core_{dt}", dt, lsh_core_case(dt, 64, 2, 16, 64, False), _lengths(64, 64)),
            (f"lsh_core_causal_d128_{dt}", dt, lsh_core_case(dt, 128, 3, 8, 16, True, 1),
             _lengths(16, 16)),
            # Static N = 2048, causal, D = 64, chunk 64 (the bench's shape, smaller).
            (f"lsh_core_static_causal_{dt}", dt,
             lsh_core_case(dt, 64, 2, 16, 64, True, static_n=2048), [2048]),
            # Clustered attention on the Hopper core: causal, D = 64, 4 centroids, window 64;
            # grouped-query heads (4 / 2), D = 128, 3 centroids, window 32, not causal.
            (f"cluster_core_causal_{dt}", dt, cluster_core_case(dt, 2, 2, 64, 4, 64, True),
             _lengths(64)),
            (f"cluster_core_gqa_d128_{dt}", dt, cluster_core_case(dt, 4, 2, 128, 3, 32, False),
             _lengths(32)),
        ]
    return out


def tolerance(dtype):
    return TOL[dtype]
