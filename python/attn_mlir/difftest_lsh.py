"""Random attn.lsh and attn.cluster specs for the differential tester (attn_mlir.difftest
--op lsh | cluster): shapes (odd chunk counts, look-back / look-ahead windows that wrap, GQA
for cluster, windows up to the whole sequence), causal or not, a scale, static or dynamic B
and N, f32 / f16 / bf16, and inputs redrawn until their discrete choices are separated by
more than MARGIN (docs/Semantics.md §10: LSH buckets, cluster memberships), so that the
compiled kernel and the float64 reference make the same choices. A spec is a pure function of
(op, seed, index) and has the interface of difftest.Spec (ir, reference, input_list, tile,
dtype, description), so difftest.check runs it unchanged.
"""

import numpy as np

from . import reference as ref

# The smallest lead of a discrete choice over the runner-up (far above f32 rounding).
MARGIN = 1e-3


def _cast(x, dtype):
    if dtype == "f16":
        return np.asarray(x, np.float16)
    x = np.asarray(x, np.float32)
    if dtype == "bf16":  # rounded to bf16 (ties to even), carried as float32
        bits = x.view(np.uint32).astype(np.uint64)
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
        return bits.astype(np.uint32).view(np.float32)
    return x


def _unit_rows(x):
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.where(norm == 0, 0.0, x / np.where(norm == 0, 1.0, norm))


def bucket_margin(qk, rot):
    """The smallest lead of the winning entry of [x ; -x], x = qk R, over the runner-up
    (rows that are exactly zero excepted: they land in bucket 0 in any precision)."""
    x = np.einsum("bhnd,hrdk->bhrnk", np.float64(qk), np.float64(rot))
    y = np.sort(np.concatenate([x, -x], axis=-1), axis=-1)
    tie = (y[..., -1] == 0) & (y[..., -2] == 0)
    return np.min(np.where(tie, np.inf, y[..., -1] - y[..., -2]), initial=np.inf)


def membership_margin(q, k, mu, window):
    """The smallest gap between the window-th and next largest <x^, mu_c> per cluster."""
    H, Hkv = q.shape[1], k.shape[1]
    gaps = [np.inf]
    for x, heads in ((q, np.arange(H)), (k, np.arange(H) // (H // Hkv))):
        s = np.einsum("bhnd,hcd->bhcn", _unit_rows(np.float64(x))[:, heads], np.float64(mu))
        if s.shape[-1] > window and s.size:
            top = -np.sort(-s, axis=-1)
            gaps.append(np.min(top[..., window - 1] - top[..., window]))
    return min(gaps)


def _type(shape, dtype, dynamic):
    dims = ["?" if name in dynamic else str(n) for name, n in shape]
    return f"tensor<{'x'.join(dims)}x{dtype}>"


class VariantSpec:
    """One random attn.lsh or attn.cluster spec with its inputs."""

    tile = None  # the pipeline's own tiles: attn-tile runs after attn-fuse-lsh-cluster

    def __init__(self, op, seed, index):
        self.op, self.seed, self.index = op, seed, index

    def ir(self):
        return self.text

    def reference(self):
        return [self.expected()]

    def input_list(self):
        return self.inputs


def _lsh(rng, spec, dtype, dynamic):
    B, H = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    chunk = int(rng.choice([1, 2, 3, 4, 8]))
    N = chunk * int(rng.integers(1, 9))
    D, Dv, R = int(rng.choice([2, 4, 8, 16])), int(rng.choice([1, 4, 8])), int(rng.integers(1, 4))
    nb = 2 * int(rng.integers(1, 5))
    look_back, look_ahead = int(rng.integers(0, 4)), int(rng.integers(0, 3))
    causal = bool(rng.random() < 0.5)
    scale = float(np.float32(rng.uniform(0.1, 1.0))) if rng.random() < 0.3 else None
    for attempt in range(200):
        qk = _cast(rng.standard_normal((B, H, N, D)), dtype)
        rot = _cast(rng.standard_normal((H, R, D, nb // 2)), dtype)
        if bucket_margin(qk, rot) > MARGIN:
            break
    else:
        raise RuntimeError("no lsh input with separated buckets")
    v = _cast(rng.standard_normal((B, H, N, Dv)), dtype)
    o = np.zeros((B, H, N, Dv), dtype=v.dtype)
    dims = lambda last: [("B", B), ("H", H), ("N", N), ("L", last)]  # noqa: E731
    qk_t, v_t = _type(dims(D), dtype, dynamic), _type(dims(Dv), dtype, dynamic)
    rot_t = f"tensor<{H}x{R}x{D}x{nb // 2}x{dtype}>"
    attrs = [f"num_buckets = {nb}", f"chunk_size = {chunk}", f"look_back = {look_back}",
             f"look_ahead = {look_ahead}"] + (["causal"] if causal else [])
    if scale is not None:
        attrs.append(f"scale = {scale!r} : f32")
    spec.text = f"""func.func @main(%qk: {qk_t}, %v: {v_t}, %rot: {rot_t}, %o: {v_t}) -> {v_t} {{
  %r = attn.lsh ins(%qk, %v, %rot : {qk_t}, {v_t}, {rot_t}) outs(%o : {v_t}) {{{", ".join(attrs)}}} -> {v_t}
  return %r : {v_t}
}}
"""
    spec.inputs = [qk, v, rot, o]
    spec.expected = lambda: ref.lsh(qk, v, rot, nb, chunk, look_back, look_ahead, causal,
                                    scale)
    return {"B": B, "H": H, "N": N, "D": D, "Dv": Dv, "rounds": R, "num_buckets": nb,
            "chunk": chunk, "look_back": look_back, "look_ahead": look_ahead,
            "causal": causal, "scale": scale}


def _cluster(rng, spec, dtype, dynamic):
    B, Hkv = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    H = Hkv * int(rng.integers(1, 3))
    causal = bool(rng.random() < 0.5)
    Nq = int(rng.integers(1, 40))
    Nk = Nq if causal or rng.random() < 0.5 else int(rng.integers(1, 40))
    window = int(rng.integers(1, min(Nq, Nk) + 1))
    C = int(rng.integers(1, 5))
    D, Dv = int(rng.choice([2, 4, 8, 16])), int(rng.choice([1, 4, 8]))
    shared = bool(rng.random() < 0.25) and Nq == Nk and H == Hkv
    scale = float(np.float32(rng.uniform(0.1, 1.0))) if rng.random() < 0.3 else None
    for attempt in range(200):
        q = _cast(rng.standard_normal((B, H, Nq, D)), dtype)
        k = q if shared else _cast(rng.standard_normal((B, Hkv, Nk, D)), dtype)
        mu = rng.standard_normal((H, C, D)).astype(np.float32)
        if membership_margin(q, k, mu, window) > MARGIN:
            break
    else:
        raise RuntimeError("no cluster input with separated memberships")
    v = _cast(rng.standard_normal((B, Hkv, Nk, Dv)), dtype)
    o = np.zeros((B, H, Nq, Dv), dtype=v.dtype)
    q_t = _type([("B", B), ("H", H), ("N", Nq), ("D", D)], dtype, dynamic)
    k_t = _type([("B", B), ("H", Hkv), ("N", Nk), ("D", D)], dtype, dynamic)
    v_t = _type([("B", B), ("H", Hkv), ("N", Nk), ("D", Dv)], dtype, dynamic)
    o_t = _type([("B", B), ("H", H), ("N", Nq), ("D", Dv)], dtype, dynamic)
    c_t = f"tensor<{H}x{C}x{D}xf32>"
    attrs = [f"window = {window}"] + (["causal"] if causal else [])
    if scale is not None:
        attrs.append(f"scale = {scale!r} : f32")
    k_arg, k_use = ("", "%q") if shared else (f"%k: {k_t}, ", "%k")
    spec.text = f"""func.func @main(%q: {q_t}, {k_arg}%v: {v_t}, %c: {c_t}, %o: {o_t}) -> {o_t} {{
  %r = attn.cluster ins(%q, {k_use}, %v, %c : {q_t}, {k_t}, {v_t}, {c_t}) outs(%o : {o_t}) {{{", ".join(attrs)}}} -> {o_t}
  return %r : {o_t}
}}
"""
    spec.inputs = [q, v, mu, o] if shared else [q, k, v, mu, o]
    spec.expected = lambda: ref.cluster(q, k, v, mu, window, causal, scale)
    return {"B": B, "H": H, "Hkv": Hkv, "Nq": Nq, "Nk": Nk, "D": D, "Dv": Dv,
            "centroids": C, "window": window, "causal": causal, "shared_qk": shared,
            "scale": scale}


OPS = ("lsh", "cluster")


def generate(seed, index, op):
    """The `op` ("lsh" or "cluster") spec number `index` of the run seeded `seed`."""
    rng = np.random.default_rng([seed, index, {"lsh": 11, "cluster": 12}[op]])
    spec = VariantSpec(op, seed, index)
    spec.dtype = str(rng.choice(["f32", "f32", "f32", "f16", "bf16"]))
    dynamic = {d for d in ("B", "N") if rng.random() < 0.35}
    shape = (_lsh if op == "lsh" else _cluster)(rng, spec, spec.dtype, dynamic)
    spec.description = {"op": op, "seed": seed, "index": index, "dtype": spec.dtype,
                        "dynamic": sorted(dynamic), **shape}
    return spec
