"""Random specs of attn.kernelized, attn.lowrank, attn.pkm and attn.lightconv for the
differential tester (attn_mlir.difftest, `--ops`): each a pure function of (op, seed, index),
with the interface of difftest.Spec (ir, reference, input_list, dtype, tile, description), so
that difftest.check runs it through attn-run in each mode against the float64 reference.

pkm inputs are redrawn until every discrete choice is separated (docs/Semantics.md §10): per
query, the k-th and (k+1)-th sub-key scores of each half, and the k-th and (k+1)-th of the
k x k candidates, differ by more than GAP (exact ties are allowed: both sides break them by
index)."""

import numpy as np

from . import reference as ref

OPS = ("kernelized", "lowrank", "pkm", "lightconv")
GAP = 1e-3


def _type(shape, dtype, dynamic=()):
    dims = ["?" if d in dynamic else str(n) for d, n in enumerate(shape)]
    return f"tensor<{'x'.join(dims)}x{dtype}>"


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _cast(x, dtype):
    return x.astype(np.float16 if dtype == "f16" else np.float32)


class VariantSpec:
    """One random spec of a non-core op with its inputs."""

    tile = None

    def __init__(self, op, seed, index, dtype, text, inputs, expected, description):
        self.op, self.seed, self.index, self.dtype = op, seed, index, dtype
        self.text, self.inputs, self.expected = text, inputs, expected
        self.description = {"op": op, "seed": seed, "index": index, "dtype": dtype,
                            "pattern": op, **description}

    def ir(self):
        return self.text

    def reference(self):
        return [self.expected]

    def input_list(self):
        return list(self.inputs)


def _dyn(rng, dims):
    return {d for d in dims if rng.random() < 0.4}


def _kernelized(rng, dtype):
    fm = ref.FEATURE_MAPS[int(rng.integers(len(ref.FEATURE_MAPS)))]
    causal = bool(rng.random() < 0.5)
    Hkv = int(rng.integers(1, 3))
    H, B = Hkv * int(rng.integers(1, 3)), int(rng.integers(1, 3))
    Nq = int(rng.integers(1, 150))
    Nk = Nq if causal else int(rng.integers(1, 150))
    D, Dv, m = (int(rng.choice([1, 4, 8, 16])), int(rng.choice([1, 3, 8])),
                int(rng.choice([1, 5, 16, 32])))
    q = _cast(rng.standard_normal((B, H, Nq, D)), dtype)
    k = _cast(rng.standard_normal((B, Hkv, Nk, D)), dtype)
    v = _cast(rng.standard_normal((B, Hkv, Nk, Dv)), dtype)
    dyn = _dyn(rng, (0, 1, 2))
    qt, kt, vt = (_type(x.shape, dtype, dyn) for x in (q, k, v))
    ot = _type((B, H, Nq, Dv), dtype, dyn)
    args, proj, inputs, w = f"%q: {qt}, %k: {kt}, %v: {vt}", "", [q, k, v], None
    if fm == "favor_plus":
        w = _cast(rng.standard_normal((H if rng.random() < 0.5 else 1, m, D)), dtype)
        wt = _type(w.shape, dtype)
        args += f", %w: {wt}"
        proj = f"projection(%w : {wt}) "
        inputs.append(w)
    inputs.append(np.zeros((B, H, Nq, Dv), dtype=v.dtype))
    attr = "{causal} " if causal else ""
    text = f"""func.func @main({args}, %o: {ot}) -> {ot} {{
  %r = attn.kernelized {fm} ins(%q, %k, %v : {qt}, {kt}, {vt})
         {proj}outs(%o : {ot}) {attr}-> {ot}
  return %r : {ot}
}}
"""
    expected = ref.kernelized(*(_f64(x) for x in (q, k, v)), fm,
                              projection=None if w is None else _f64(w), causal=causal)
    return text, inputs, expected, {"feature_map": fm, "causal": causal, "B": B, "H": H,
                                    "Hkv": Hkv, "Nq": Nq, "Nk": Nk, "D": D, "Dv": Dv, "m": m}


def _lowrank(rng, dtype):
    Hkv = int(rng.integers(1, 3))
    H, B = Hkv * int(rng.integers(1, 3)), int(rng.integers(1, 3))
    Nq, Nk = int(rng.integers(1, 100)), int(rng.integers(1, 600))
    D, Dv, r = int(rng.choice([1, 4, 8, 16])), int(rng.choice([1, 3, 8])), int(rng.integers(1, 40))
    q = _cast(rng.standard_normal((B, H, Nq, D)), dtype)
    k = _cast(rng.standard_normal((B, Hkv, Nk, D)), dtype)
    v = _cast(rng.standard_normal((B, Hkv, Nk, Dv)), dtype)
    ph = Hkv if rng.random() < 0.5 else 1
    e = _cast(rng.standard_normal((ph, r, Nk)) / np.sqrt(Nk), dtype)
    f = _cast(rng.standard_normal((ph, r, Nk)) / np.sqrt(Nk), dtype) if rng.random() < 0.5 \
        else None
    dyn = _dyn(rng, (0, 1, 2))
    qt, kt, vt = (_type(x.shape, dtype, dyn) for x in (q, k, v))
    ot = _type((B, H, Nq, Dv), dtype, dyn)
    et = _type(e.shape, dtype, {2} if 2 in dyn else set())
    args, projs, inputs = f"%q: {qt}, %k: {kt}, %v: {vt}, %e: {et}", f"%e : {et}", [q, k, v, e]
    if f is not None:
        args += f", %f: {et}"
        projs += f", %f : {et}"
        inputs.append(f)
    inputs.append(np.zeros((B, H, Nq, Dv), dtype=v.dtype))
    text = f"""func.func @main({args}, %o: {ot}) -> {ot} {{
  %r = attn.lowrank ins(%q, %k, %v : {qt}, {kt}, {vt})
         projections({projs}) outs(%o : {ot}) -> {ot}
  return %r : {ot}
}}
"""
    expected = ref.lowrank(*(_f64(x) for x in (q, k, v, e)),
                           f=None if f is None else _f64(f))
    return text, inputs, expected, {"B": B, "H": H, "Hkv": Hkv, "Nq": Nq, "Nk": Nk, "D": D,
                                    "Dv": Dv, "r": r, "f": f is not None}


def _boundary_gap(scores, k):
    """Per row: the gap between the k-th and (k+1)-th largest distinct values (inf when k
    covers the row or they tie exactly)."""
    s = -np.sort(-scores, axis=-1)
    if k >= s.shape[-1]:
        return np.full(s.shape[:-1], np.inf)
    gap = s[..., k - 1] - s[..., k]
    return np.where(gap == 0, np.inf, gap)


def _pkm_separated(q, s1k, s2k, k):
    half = q.shape[-1] // 2
    s1 = np.einsum("bhnd,hxd->bhnx", q[..., :half], s1k)
    s2 = np.einsum("bhnd,hyd->bhny", q[..., half:], s2k)
    if (_boundary_gap(s1, k) <= GAP).any() or (_boundary_gap(s2, k) <= GAP).any():
        return False
    t1 = -np.sort(-s1, axis=-1)[..., :k]
    t2 = -np.sort(-s2, axis=-1)[..., :k]
    cand = (t1[..., :, None] + t2[..., None, :]).reshape(*t1.shape[:-1], k * k)
    return not (_boundary_gap(cand, k) <= GAP).any()


def _pkm(rng, dtype):
    B, H, N = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 100))
    Dk, n = int(rng.choice([2, 4, 8, 16])), int(rng.integers(1, 24))
    k, Dv = int(rng.integers(1, n + 1)), int(rng.choice([1, 3, 8]))
    for _ in range(50):
        q = rng.standard_normal((B, H, N, Dk)).astype(np.float32)
        s1 = rng.standard_normal((H, n, Dk // 2)).astype(np.float32)
        s2 = rng.standard_normal((H, n, Dk // 2)).astype(np.float32)
        if _pkm_separated(*(_f64(x) for x in (q, s1, s2)), k):
            break
        N = max(1, N // 2)
    vals = rng.standard_normal((n * n, Dv)).astype(np.float32)
    dyn = _dyn(rng, (0, 1, 2))
    qt, st = _type(q.shape, "f32", dyn), _type(s1.shape, "f32")
    vt, ot = _type(vals.shape, "f32"), _type((B, H, N, Dv), "f32", dyn)
    text = f"""func.func @main(%q: {qt}, %s1: {st}, %s2: {st}, %vals: {vt}, %o: {ot}) -> {ot} {{
  %r = attn.pkm ins(%q, %s1, %s2, %vals : {qt}, {st}, {st}, {vt})
         outs(%o : {ot}) {{top_k = {k}}} -> {ot}
  return %r : {ot}
}}
"""
    inputs = [q, s1, s2, vals, np.zeros((B, H, N, Dv), dtype=np.float32)]
    expected = ref.pkm(*(_f64(x) for x in (q, s1, s2, vals)), k)
    return text, inputs, expected, {"B": B, "H": H, "N": N, "Dk": Dk, "n": n, "top_k": k,
                                    "Dv": Dv}


def _lightconv(rng, dtype):
    B, N = int(rng.integers(1, 3)), int(rng.integers(1, 200))
    Hc = int(rng.choice([1, 2, 4]))
    C = Hc * int(rng.choice([1, 3, 16, 32]))
    causal = bool(rng.random() < 0.5)
    K = int(rng.integers(1, 8)) if causal else 2 * int(rng.integers(0, 5)) + 1
    normalize = bool(rng.random() < 0.7)
    x = _cast(rng.standard_normal((B, N, C)), dtype)
    w = _cast(rng.standard_normal((Hc, K)), dtype)
    dyn = _dyn(rng, (0, 1))
    xt, wt = _type(x.shape, dtype, dyn), _type(w.shape, dtype)
    attrs = (["causal"] if causal else []) + [f"normalize = {'true' if normalize else 'false'}"]
    text = f"""func.func @main(%x: {xt}, %w: {wt}, %o: {xt}) -> {xt} {{
  %r = attn.lightconv ins(%x, %w : {xt}, {wt}) outs(%o : {xt}) {{{', '.join(attrs)}}} -> {xt}
  return %r : {xt}
}}
"""
    expected = ref.lightconv(_f64(x), _f64(w), causal=causal, normalize=normalize)
    return text, [x, w, np.zeros_like(x)], expected, {"B": B, "N": N, "C": C, "Hc": Hc, "K": K,
                                                     "causal": causal, "normalize": normalize}


BUILDERS = {"kernelized": _kernelized, "lowrank": _lowrank, "pkm": _pkm,
            "lightconv": _lightconv}


def generate(op, seed, index):
    """The spec number `index` of op `op` in the run seeded `seed`."""
    rng = np.random.default_rng([seed, index, OPS.index(op) + 100])
    dtype = "f16" if op != "pkm" and rng.random() < 0.2 else "f32"
    text, inputs, expected, description = BUILDERS[op](rng, dtype)
    return VariantSpec(op, seed, index, dtype, text, inputs, expected, description)
