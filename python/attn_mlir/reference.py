"""Float64 numpy reference of every attn op and pattern (docs/Semantics.md §1 to §9).

This module is the golden model that the compiled kernels are compared against. It favours
obviously correct code over speed: scores are materialised per (batch, head), every input is
cast to float64 first, and every op is a deterministic function of its operands.

Conventions shared by all ops (docs/Semantics.md §1):
  * q ``[B, H, Nq, D]``, k ``[B, Hkv, Nk, D]``, v ``[B, Hkv, Nk, Dv]``; query head ``h`` reads
    KV head ``h // (H // Hkv)`` (grouped-query attention).
  * A row whose live set is empty, or whose live scores are all -inf, gives ``o = 0`` and
    ``lse = -inf`` (never NaN).
  * Masking selects: a value at a pair that is not live (score, bias, k_j, v_j) never enters
    the arithmetic of that row, so a NaN there cannot reach it.

Patterns (``Dense``, ``Causal``, ...) live in ``patterns.py`` and are re-exported here.
"""

import math

import numpy as np

from .patterns import (MASK64, Axial, BlockLocal, BlockSparse, Causal, Dense, Dilated, Fixed,
                       Global, Intersect, Neighborhood, Pattern, Random, Sink, Strided, Union,
                       Window, splitmix64, splitmix64_array)

TOLERANCE = {"f32_reference": 1e-5, "f32_fused": 1e-4, "f16": 2e-3, "bf16": 1e-2}

# The score that attn.lsh gives a query's own key (docs/Semantics.md §4 step 5), unscaled.
LSH_SELF_SCORE = -1e5


# ----------------------------------------------------------------------------- helpers

def default_scale(D):
    """The default softmax scale ``1 / sqrt(D)``."""
    return 1.0 / math.sqrt(D)


def rel_error(out, ref):
    """Relative error ``||out - ref|| / ||ref||`` (Frobenius norms); ``||out||`` if ``||ref|| == 0``.

    Entries where ``out`` and ``ref`` agree exactly, including matching infinities or NaN in
    both, contribute nothing to either norm (so lse arrays holding -inf can be compared); any
    other non-finite entry makes the error ``inf``. The shapes must be equal.
    """
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if out.shape != ref.shape:
        raise ValueError(f"shape mismatch: {out.shape} vs {ref.shape}")
    same = (out == ref) | (np.isnan(out) & np.isnan(ref))
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(same, 0.0, out - ref)
    if not np.isfinite(diff).all():
        return math.inf
    ref_norm = np.linalg.norm(np.where(np.isfinite(ref), ref, 0.0).ravel())
    if ref_norm == 0:
        return float(np.linalg.norm(np.where(same, 0.0, out).ravel()))
    return float(np.linalg.norm(diff.ravel()) / ref_norm)


def _f64(x):
    return np.asarray(x).astype(np.float64)


def _normalize_rows(x):
    """Rows divided by their Euclidean norm; a zero row stays zero."""
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm == 0, 0.0, x / np.where(norm == 0, 1.0, norm))


def _live_sum(e, live, v):
    """``sum_j e_ij v_j`` over live pairs only; a non-finite ``v_j`` enters only live rows.

    ``e`` is 0 wherever ``live`` is false. Columns whose ``v_j`` is all finite go through a
    matmul (``0 * finite == 0``); the few columns holding inf/NaN are added by selection.
    """
    bad = ~np.isfinite(v).all(axis=1)
    if not bad.any():
        return e @ v
    total = e @ np.where(bad[:, None], 0.0, v)
    cols = np.flatnonzero(bad)
    total += np.where(live[:, cols, None], e[:, cols, None] * v[None, cols, :], 0.0).sum(axis=1)
    return total


def _attend(s, live, v, weight=None):
    """Softmax attention of one score matrix.

    ``s``, ``live`` (and ``weight``, the adaptive-span factor ``m_ij``) are ``[Nq, Nk]``;
    ``v`` is ``[Nk, Dv]``. Returns ``o [Nq, Dv]`` and ``lse [Nq]`` with
    ``p_ij = w_ij exp(s_ij) / sum_live w exp(s)`` and ``lse_i = log sum_live w exp(s)``.
    Empty rows and rows whose live scores are all -inf give ``o = 0``, ``lse = -inf``.
    """
    with np.errstate(invalid="ignore", over="ignore", divide="ignore", under="ignore"):
        selected = np.where(live, s, -np.inf)
        row_max = np.max(selected, axis=1, initial=-np.inf)  # NaN propagates
        shift = np.where(np.isneginf(row_max), 0.0, row_max)
        e = np.exp(selected - shift[:, None])
        if weight is not None:
            e = e * weight
        e = np.where(live, e, 0.0)
        denom = e.sum(axis=1)
        num = _live_sum(e, live, v)
        o = np.where((denom == 0)[:, None], 0.0, num / denom[:, None])
        lse = shift + np.log(denom)
    return o, lse


def _combine(outs, lses):
    """Log-sum-exp combination of partial results (docs/Semantics.md §4 step 6).

    ``outs [R, N, Dv]``, ``lses [R, N]`` -> ``o = sum_r exp(lse_r - LSE) o_r``, ``LSE``.
    Parts with ``lse_r = -inf`` carry ``o_r = 0`` and weigh nothing; if all do, ``o = 0``.
    """
    outs, lses = np.asarray(outs), np.asarray(lses)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore", under="ignore"):
        top = np.max(lses, axis=0)
        shift = np.where(np.isneginf(top), 0.0, top)
        w = np.exp(lses - shift[None, :])
        total = w.sum(axis=0)
        num = (w[:, :, None] * outs).sum(axis=0)
        o = np.where((total == 0)[:, None], 0.0, num / total[:, None])
        lse = shift + np.log(total)
    return o, lse


def _check_qkv(q, k, v):
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError("q, k, v must be rank 4")
    B, H, Nq, D = q.shape
    if k.shape[0] != B or v.shape[0] != B:
        raise ValueError("batch sizes differ")
    if k.shape[3] != D:
        raise ValueError("q and k head dims differ")
    if v.shape[1] != k.shape[1] or v.shape[2] != k.shape[2]:
        raise ValueError("k and v must agree on [B, Hkv, Nk]")
    Hkv = k.shape[1]
    if Hkv == 0 or H % Hkv != 0:
        raise ValueError(f"H ({H}) must be a multiple of Hkv ({Hkv})")
    return B, H, Hkv, Nq, k.shape[2], D, v.shape[3]


def _head_index(size, h, g, H, Hkv, name):
    """Index into a per-head operand dim of size H, Hkv or 1 for query head h / KV head g."""
    if size == H:
        return h
    if size == Hkv:
        return g
    if size == 1:
        return 0
    raise ValueError(f"{name}: head dim {size} is none of H={H}, Hkv={Hkv}, 1")


def _broadcast_operand(x, shape, name, dtype):
    x = np.asarray(x)
    if x.ndim > 4:
        raise ValueError(f"{name} has rank {x.ndim} > 4")
    if dtype is bool and x.dtype != bool:
        raise TypeError(f"{name} must be a bool array")
    return np.broadcast_to(x.astype(dtype), shape)


# ----------------------------------------------------------------------------- attn.sdpa

def sdpa(q, k, v, pattern=Dense(), mask=None, bias=None, memory=None, positions=None,
         span=None, ramp=None, max_span=None, scale=None, score_mod=None, return_lse=False,
         segments=None, mask_mod=None, blocks=None, full_blocks=None, block_size=None):
    """attn.sdpa: dense and patterned scaled dot-product attention.

    q ``[B, H, Nq, D]``, k ``[B, Hkv, Nk, D]``, v ``[B, Hkv, Nk, Dv]``.
      pattern    a ``Pattern``, evaluated on positions ``(qpos_i, kpos_j)`` with ``(Nq, Nk)``.
      mask       bool, broadcast right-aligned to ``[B, H, Nq, Nk]``: live only where true.
      bias       float, broadcast likewise, added to the scaled score.
      memory     ``(mk [Hkv, M, D], mv [Hkv, M, Dv])``: always-live extra keys/values, scored
                 ``scale * <q_i, mk_m>``; pattern, mask, bias, span, score_mod skip them.
      positions  ``(qpos [B, H|Hkv|1, Nq], kpos [B, H|Hkv|1, Nk])`` integers; default arange.
      span       ``z [H]`` with ``ramp > 0`` and ``max_span >= 0``: ``z`` clamped to
                 ``[0, max_span]``, ``m_ij = clamp((ramp + z_h - |qpos_i - kpos_j|)/ramp, 0, 1)``
                 weighs ``exp(s_ij)``; ``m_ij == 0`` is not live.
      scale      default ``1/sqrt(D)``.
      score_mod  ``f(s, b, h, i, j) -> s'`` on arrays broadcast to ``[Nq, Nk]`` (called per
                 batch and query head; ``i``, ``j`` are qpos, kpos); runs after scale and bias;
                 its value at pairs that are not live is ignored.
      segments   ``(qseg [B, Nq], kseg [B, Nk])`` integer document ids: a pair (row i,
                 column j) is live only where ``qseg[b, i] == kseg[b, j]``; memory keys are
                 not affected.
      mask_mod   ``f(b, h, i, j) -> bool`` on integer arrays broadcast to ``[Nq, Nk]``
                 (``i``, ``j`` are qpos, kpos): a pair is live only where it is true (except
                 in blocks listed in ``full_blocks``); memory keys are not affected.
      blocks     ``(num [Bl, Hl, NQB], idx [Bl, Hl, NQB, K])`` integers with
                 ``block_size = (BQ, BK)``, Bl B or 1, Hl H or 1, ``NQB = ceil(Nq / BQ)``:
                 FlexAttention's BlockMask. A pair (row i, column j) is live only where block
                 ``j // BK`` is among the first ``num`` entries of the row ``i // BQ`` of
                 ``blocks`` or of ``full_blocks`` (same form); in a block listed in
                 ``full_blocks`` mask_mod is not applied. Entries outside
                 ``[0, ceil(Nk / BK))`` list nothing; memory keys are not affected.
    Returns ``o [B, H, Nq, Dv]`` float64, and ``lse [B, H, Nq]`` if ``return_lse``.
    """
    q, k, v = _f64(q), _f64(k), _f64(v)
    B, H, Hkv, Nq, Nk, D, Dv = _check_qkv(q, k, v)
    group = H // Hkv
    if not isinstance(pattern, Pattern):
        raise TypeError("pattern must be a Pattern")
    scale = default_scale(D) if scale is None else float(scale)
    full = (B, H, Nq, Nk)
    mask = None if mask is None else _broadcast_operand(mask, full, "mask", bool)
    bias = None if bias is None else _broadcast_operand(bias, full, "bias", np.float64)

    if positions is None:
        qpos = np.broadcast_to(np.arange(Nq, dtype=np.int64), (B, 1, Nq))
        kpos = np.broadcast_to(np.arange(Nk, dtype=np.int64), (B, 1, Nk))
    else:
        qpos, kpos = (np.asarray(p) for p in positions)
        for p, n, name in ((qpos, Nq, "qpos"), (kpos, Nk, "kpos")):
            if p.ndim != 3 or p.shape[0] != B or p.shape[2] != n:
                raise ValueError(f"{name} must be [B, H|Hkv|1, {n}], got {p.shape}")
            if not np.issubdtype(p.dtype, np.integer):
                raise TypeError(f"{name} must be integer")
        qpos, kpos = qpos.astype(np.int64), kpos.astype(np.int64)

    if segments is not None:
        qseg, kseg = (np.asarray(x) for x in segments)
        if qseg.shape != (B, Nq) or kseg.shape != (B, Nk):
            raise ValueError(f"segments must be [B, Nq] and [B, Nk], got {qseg.shape}, {kseg.shape}")
        if not (np.issubdtype(qseg.dtype, np.integer) and np.issubdtype(kseg.dtype, np.integer)):
            raise TypeError("segments must be integer")
        qseg, kseg = qseg.astype(np.int64), kseg.astype(np.int64)

    listed = _block_layout(blocks, full_blocks, block_size, B, H, Nq, Nk)

    if span is not None:
        if ramp is None or max_span is None:
            raise ValueError("span needs ramp and max_span")
        ramp, max_span = float(ramp), float(max_span)
        if not ramp > 0 or not max_span >= 0:
            raise ValueError("span needs ramp > 0 and max_span >= 0")
        z = np.clip(_f64(span).reshape(-1), 0.0, max_span)
        if z.shape != (H,):
            raise ValueError("span must be [H]")
    elif ramp is not None or max_span is not None:
        raise ValueError("ramp and max_span go with span")

    if memory is not None:
        mk, mv = _f64(memory[0]), _f64(memory[1])
        if (mk.ndim != 3 or mv.ndim != 3 or mk.shape[0] != Hkv or mv.shape[0] != Hkv
                or mk.shape[1] != mv.shape[1] or mk.shape[2] != D or mv.shape[2] != Dv):
            raise ValueError("memory must be (mk [Hkv, M, D], mv [Hkv, M, Dv])")

    o = np.zeros((B, H, Nq, Dv))
    lse = np.zeros((B, H, Nq))
    for b in range(B):
        for h in range(H):
            g = h // group
            i = qpos[b, _head_index(qpos.shape[1], h, g, H, Hkv, "qpos")][:, None]
            j = kpos[b, _head_index(kpos.shape[1], h, g, H, Hkv, "kpos")][None, :]
            with np.errstate(invalid="ignore", over="ignore"):
                s = scale * (q[b, h] @ k[b, g].T)
                if bias is not None:
                    s = s + bias[b, h]
                if score_mod is not None:
                    s = _apply_score_mod(score_mod, s, b, h, i, j)
            live = np.broadcast_to(pattern.is_live(i, j, Nq, Nk), (Nq, Nk))
            if mask is not None:
                live = live & mask[b, h]
            if segments is not None:
                live = live & (qseg[b][:, None] == kseg[b][None, :])
            if mask_mod is not None:
                keep = _apply_mask_mod(mask_mod, b, h, i, j, (Nq, Nk))
                if listed is not None:
                    keep = keep | listed[1][b, h]
                live = live & keep
            if listed is not None:
                live = live & listed[0][b, h]
            weight = None
            if span is not None:
                weight = np.clip((ramp + z[h] - np.abs(i - j)) / ramp, 0.0, 1.0)
                weight = np.broadcast_to(weight, (Nq, Nk))
                live = live & (weight > 0)
            values = v[b, g]
            if memory is not None:
                M = mk.shape[1]
                with np.errstate(invalid="ignore", over="ignore"):
                    s = np.concatenate([s, scale * (q[b, h] @ mk[g].T)], axis=1)
                live = np.concatenate([live, np.ones((Nq, M), dtype=bool)], axis=1)
                if weight is not None:
                    weight = np.concatenate([weight, np.ones((Nq, M))], axis=1)
                values = np.concatenate([values, mv[g]], axis=0)
            o[b, h], lse[b, h] = _attend(s, live, values, weight)
    return (o, lse) if return_lse else o


def _apply_mask_mod(mask_mod, b, h, i, j, shape):
    result = mask_mod(np.full(shape, b, dtype=np.int64), np.full(shape, h, dtype=np.int64),
                      np.broadcast_to(i, shape), np.broadcast_to(j, shape))
    return np.broadcast_to(np.asarray(result, dtype=bool), shape)


def _block_layout(blocks, full_blocks, block_size, B, H, Nq, Nk):
    """The block layout as pair arrays ``(listed, full) [B, H, Nq, Nk]`` bool, or None."""
    if blocks is None:
        if full_blocks is not None or block_size is not None:
            raise ValueError("full_blocks and block_size go with blocks")
        return None
    if block_size is None or len(block_size) != 2 or min(block_size) < 1:
        raise ValueError("blocks needs block_size = (BQ, BK) >= 1")
    BQ, BK = (int(x) for x in block_size)
    NQB, NKB = -(-Nq // BQ), -(-Nk // BK)
    kinds = []
    for layout in (blocks, full_blocks):
        kind = np.zeros((B, H, NQB, NKB), dtype=bool)
        if layout is not None:
            num, idx = (np.asarray(x) for x in layout)
            if (num.ndim != 3 or idx.ndim != 4 or num.shape != idx.shape[:3]
                    or num.shape[0] not in (1, B) or num.shape[1] not in (1, H)
                    or num.shape[2] != NQB):
                raise ValueError(f"block layout must be [B|1, H|1, {NQB}] and [.., K], "
                                 f"got {num.shape}, {idx.shape}")
            for b, h, qb in np.ndindex(B, H, NQB):
                row = (b % num.shape[0], h % num.shape[1], qb)
                count = min(max(int(num[row]), 0), idx.shape[3])
                for e in range(count):
                    kb = int(idx[row][e])
                    if 0 <= kb < NKB:
                        kind[b, h, qb, kb] = True
        kinds.append(kind)
    partial, full = kinds

    def pairs(kind):
        return np.repeat(np.repeat(kind, BQ, axis=2)[:, :, :Nq], BK, axis=3)[:, :, :, :Nk]

    return pairs(partial | full), pairs(full)


def _apply_score_mod(score_mod, s, b, h, i, j):
    shape = s.shape
    result = score_mod(s, np.full(shape, b, dtype=np.int64), np.full(shape, h, dtype=np.int64),
                       np.broadcast_to(i, shape), np.broadcast_to(j, shape))
    return np.broadcast_to(np.asarray(result, dtype=np.float64), shape)


# ----------------------------------------------------------------------------- attn.lsh

def lsh_buckets(x, rotation):
    """Bucket of every row of ``x [N, D]`` for one round: ``argmax([x R ; -x R])``.

    ``rotation`` is ``[D, nb/2]``; ties go to the first maximum (a zero row lands in 0).
    """
    projected = x @ rotation
    return np.argmax(np.concatenate([projected, -projected], axis=1), axis=1)


def lsh(qk, v, rotations, num_buckets, chunk_size, look_back=1, look_ahead=0, causal=False,
        scale=None, return_lse=False):
    """attn.lsh: Reformer hashed attention with shared query/key (the six steps of docs/Semantics.md §4).

    qk ``[B, H, N, D]``, v ``[B, H, N, Dv]``, rotations ``[H, R, D, num_buckets/2]``.
    Per round, positions are sorted by (bucket, position) into N/chunk_size chunks; the query
    in chunk t sees every key in the chunk SET ``{(t + d) mod (N/c) : -look_back <= d <=
    look_ahead}`` (and only earlier-or-equal positions if causal). Keys are normalised,
    queries not. The own key is always live and scores -1e5 unscaled. Rounds combine by
    log-sum-exp without de-duplication. Returns o, and the combined lse if ``return_lse``.
    """
    qk, v, rotations = _f64(qk), _f64(v), _f64(rotations)
    if qk.ndim != 4 or v.ndim != 4 or rotations.ndim != 4:
        raise ValueError("qk, v, rotations must be rank 4")
    B, H, N, D = qk.shape
    if v.shape[:3] != (B, H, N):
        raise ValueError("v must be [B, H, N, Dv]")
    if rotations.shape[0] != H or rotations.shape[2] != D:
        raise ValueError("rotations must be [H, R, D, nb/2]")
    num_buckets, chunk_size = int(num_buckets), int(chunk_size)
    if num_buckets < 2 or num_buckets % 2 or num_buckets != 2 * rotations.shape[3]:
        raise ValueError("num_buckets must be even, >= 2 and 2 * rotations.shape[3]")
    if chunk_size < 1 or N % chunk_size:
        raise ValueError("chunk_size must divide N")
    look_back, look_ahead = int(look_back), int(look_ahead)
    if look_back < 0 or look_ahead < 0:
        raise ValueError("look_back and look_ahead must be >= 0")
    scale = default_scale(D) if scale is None else float(scale)
    num_chunks = N // chunk_size
    if num_chunks == 0:  # N = 0: nothing to attend
        o, lse = np.zeros((B, H, 0, v.shape[3])), np.zeros((B, H, 0))
        return (o, lse) if return_lse else o
    # {d mod nC : -look_back <= d <= look_ahead}: the W = min(look_back + look_ahead + 1, nC)
    # consecutive offsets from -look_back, which are distinct mod nC (all of them when W = nC).
    window = min(look_back + look_ahead + 1, num_chunks)
    seen_offsets = np.array(sorted((w - look_back) % num_chunks for w in range(window)))
    rounds = rotations.shape[1]
    position = np.arange(N)
    self_pair = position[:, None] == position[None, :]

    o = np.zeros((B, H, N, v.shape[3]))
    lse = np.zeros((B, H, N))
    for b in range(B):
        for h in range(H):
            x = qk[b, h]
            with np.errstate(invalid="ignore", over="ignore"):
                s = scale * (x @ _normalize_rows(x).T)
            s = np.where(self_pair, LSH_SELF_SCORE, s)
            outs, lses = [], []
            for r in range(rounds):
                order = np.argsort(lsh_buckets(x, rotations[h, r]), kind="stable")  # pi_r
                slot = np.empty(N, dtype=np.int64)
                slot[order] = position
                chunk = slot // chunk_size
                live = np.isin((chunk[None, :] - chunk[:, None]) % num_chunks, seen_offsets)
                if causal:
                    live &= position[None, :] <= position[:, None]
                live |= self_pair
                o_r, lse_r = _attend(s, live, v[b, h])
                outs.append(o_r)
                lses.append(lse_r)
            o[b, h], lse[b, h] = _combine(outs, lses)
    return (o, lse) if return_lse else o


# ----------------------------------------------------------------------------- attn.cluster

def _top_positions(scores, count):
    """Indices of the ``count`` largest scores; ties: smaller position first."""
    return np.lexsort((np.arange(scores.size), -scores))[:count]


def cluster(q, k, v, centroids, window, causal=False, scale=None, return_lse=False):
    """attn.cluster: Routing Transformer clustered attention.

    centroids ``[H, C, D]``. Per (b, h) and cluster c, the ``window`` queries with the largest
    ``<q_i/||q_i||, mu_c>`` attend to the ``window`` keys (of KV head g) with the largest
    ``<k_j/||k_j||, mu_c>`` (ties: smaller position first) with scores on the unnormalised
    vectors (``j <= i`` if causal). A query's clusters combine by log-sum-exp; a query in no
    cluster, or with no live key, gives 0 (lse -inf).
    """
    q, k, v, centroids = _f64(q), _f64(k), _f64(v), _f64(centroids)
    B, H, Hkv, Nq, Nk, D, Dv = _check_qkv(q, k, v)
    if centroids.ndim != 3 or centroids.shape[0] != H or centroids.shape[2] != D:
        raise ValueError("centroids must be [H, C, D]")
    window = int(window)
    if not 0 <= window <= min(Nq, Nk):
        raise ValueError("window must be in [0, min(Nq, Nk)]")
    if causal and Nq != Nk:
        raise ValueError("causal cluster needs Nq == Nk")
    scale = default_scale(D) if scale is None else float(scale)
    group = H // Hkv

    o = np.zeros((B, H, Nq, Dv))
    lse = np.zeros((B, H, Nq))
    for b in range(B):
        for h in range(H):
            g = h // group
            q_hat, k_hat = _normalize_rows(q[b, h]), _normalize_rows(k[b, g])
            outs, lses = [], []
            for mu in centroids[h]:
                qi = _top_positions(q_hat @ mu, window)
                kj = _top_positions(k_hat @ mu, window)
                with np.errstate(invalid="ignore", over="ignore"):
                    s = scale * (q[b, h][qi] @ k[b, g][kj].T)
                live = np.ones(s.shape, dtype=bool)
                if causal:
                    live = kj[None, :] <= qi[:, None]
                o_c, lse_c = _attend(s, live, v[b, g][kj])
                out = np.zeros((Nq, Dv))
                out[qi] = o_c
                part_lse = np.full(Nq, -np.inf)
                part_lse[qi] = lse_c
                outs.append(out)
                lses.append(part_lse)
            if outs:
                o[b, h], lse[b, h] = _combine(outs, lses)
            else:
                lse[b, h] = -np.inf
    return (o, lse) if return_lse else o


# ----------------------------------------------------------------------------- attn.lowrank

def lowrank(q, k, v, e, f=None, scale=None):
    """attn.lowrank: Linformer. ``o = softmax(scale * q (e k)^T) (f v)``.

    e ``[Hkv or 1, r, Nk]``; f the same shape, or None for ``f = e``; read by KV head.
    """
    q, k, v, e = _f64(q), _f64(k), _f64(v), _f64(e)
    f = e if f is None else _f64(f)
    B, H, Hkv, Nq, Nk, D, Dv = _check_qkv(q, k, v)
    for name, p in (("e", e), ("f", f)):
        if p.ndim != 3 or p.shape[0] not in (Hkv, 1) or p.shape[2] != Nk or p.shape != e.shape:
            raise ValueError(f"{name} must be [Hkv or 1, r, Nk] (e and f alike)")
    r = e.shape[1]
    ek = np.zeros((B, Hkv, r, D))
    fv = np.zeros((B, Hkv, r, Dv))
    for b in range(B):
        for g in range(Hkv):
            p = g if e.shape[0] == Hkv else 0
            ek[b, g] = e[p] @ k[b, g]
            fv[b, g] = f[p] @ v[b, g]
    return sdpa(q, ek, fv, scale=scale)


# ----------------------------------------------------------------------------- attn.kernelized

FEATURE_MAPS = ("favor_plus", "elu_plus_one", "relu")


def _favor_exponent(x, W):
    """``W x' - ||x'||^2 / 2`` with ``x' = x * D^(-1/4)``, for rows ``x [N, D]``."""
    x = x * x.shape[-1] ** -0.25
    return x @ W.T - 0.5 * np.sum(x * x, axis=-1, keepdims=True)


def _finite_max(a):
    finite = a[np.isfinite(a)]
    return finite.max() if finite.size else 0.0


def kernelized(q, k, v, feature_map, projection=None, causal=False):
    """attn.kernelized: Performer FAVOR+ / linear transformer attention (no scale).

    ``o_i = sum_j <phi(q_i), phi(k_j)> v_j / sum_j <phi(q_i), phi(k_j)>`` over all keys, or
    ``j <= i`` if causal; a zero denominator gives 0. feature_map: ``favor_plus``
    (``phi(x) = exp(W x' - ||x'||^2/2) / sqrt(m)``, ``x' = x D^(-1/4)``, projection
    ``W [H or 1, m, D]`` required), ``elu_plus_one`` or ``relu`` (no projection).
    FAVOR+ uses exactly cancelling stabilisers: a per-query max and a per-(b, h) key max
    (over finite values, so a NaN key reaches only the rows that see it).
    """
    q, k, v = _f64(q), _f64(k), _f64(v)
    B, H, Hkv, Nq, Nk, D, Dv = _check_qkv(q, k, v)
    if feature_map not in FEATURE_MAPS:
        raise ValueError(f"feature_map must be one of {FEATURE_MAPS}")
    if (feature_map == "favor_plus") != (projection is not None):
        raise ValueError("projection is required for favor_plus and not allowed otherwise")
    if projection is not None:
        projection = _f64(projection)
        if projection.ndim != 3 or projection.shape[0] not in (H, 1) or projection.shape[2] != D:
            raise ValueError("projection must be [H or 1, m, D]")
    if causal and Nq != Nk:
        raise ValueError("causal kernelized attention needs Nq == Nk")
    group = H // Hkv
    live = np.ones((Nq, Nk), dtype=bool)
    if causal:
        live = np.arange(Nk)[None, :] <= np.arange(Nq)[:, None]

    o = np.zeros((B, H, Nq, Dv))
    for b in range(B):
        for h in range(H):
            g = h // group
            with np.errstate(invalid="ignore", over="ignore", under="ignore"):
                if feature_map == "favor_plus":
                    W = projection[h if projection.shape[0] == H else 0]
                    a_q, a_k = _favor_exponent(q[b, h], W), _favor_exponent(k[b, g], W)
                    row_max = np.max(a_q, axis=1, keepdims=True, initial=-np.inf)
                    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
                    phi_q = np.exp(a_q - row_max) / math.sqrt(W.shape[0])
                    phi_k = np.exp(a_k - _finite_max(a_k)) / math.sqrt(W.shape[0])
                elif feature_map == "elu_plus_one":
                    phi_q, phi_k = (np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))
                                    for x in (q[b, h], k[b, g]))
                else:
                    phi_q, phi_k = np.maximum(q[b, h], 0.0), np.maximum(k[b, g], 0.0)
                a = np.where(live, phi_q @ phi_k.T, 0.0)
                denom = a.sum(axis=1)
                num = _live_sum(a, live, v[b, g])
                o[b, h] = np.where((denom == 0)[:, None], 0.0, num / denom[:, None])
    return o


# ----------------------------------------------------------------------------- attn.pkm

def _top_indices(scores, count):
    """Per row of ``scores [..., n]``, the indices of the ``count`` largest (ties: smaller)."""
    return np.argsort(-scores, axis=-1, kind="stable")[..., :count]


def pkm(q, subkeys1, subkeys2, values, top_k):
    """attn.pkm: product-key memory lookup (no scale).

    q ``[B, H, N, Dk]`` (Dk even), subkeys ``[H, n, Dk/2]``, values ``[n*n, Dv]`` shared by all
    heads. Per query: top-k of each half's scores, top-k of the k*k candidate sums (ties:
    smaller ``x*n + y``), softmax over the kept scores, weighted sum of their values.
    Returns ``[B, H, N, Dv]``.
    """
    q, sk1, sk2, values = _f64(q), _f64(subkeys1), _f64(subkeys2), _f64(values)
    if q.ndim != 4 or q.shape[3] % 2:
        raise ValueError("q must be [B, H, N, Dk] with Dk even")
    B, H, N, Dk = q.shape
    half = Dk // 2
    if sk1.shape != sk2.shape or sk1.ndim != 3 or sk1.shape[0] != H or sk1.shape[2] != half:
        raise ValueError("subkeys must both be [H, n, Dk/2]")
    n = sk1.shape[1]
    if values.ndim != 2 or values.shape[0] != n * n:
        raise ValueError("values must be [n*n, Dv]")
    top_k = int(top_k)
    if not 1 <= top_k <= n:
        raise ValueError("top_k must be in [1, n]")

    o = np.zeros((B, H, N, values.shape[1]))
    for h in range(H):
        s1 = q[:, h, :, :half] @ sk1[h].T  # [B, N, n]
        s2 = q[:, h, :, half:] @ sk2[h].T
        i1, i2 = _top_indices(s1, top_k), _top_indices(s2, top_k)
        cand_score = (np.take_along_axis(s1, i1, -1)[..., :, None]
                      + np.take_along_axis(s2, i2, -1)[..., None, :]).reshape(B, N, -1)
        cand_index = (i1[..., :, None] * n + i2[..., None, :]).reshape(B, N, -1)
        keep = np.lexsort((cand_index, -cand_score), axis=-1)[..., :top_k]
        kept_score = np.take_along_axis(cand_score, keep, -1)
        kept_index = np.take_along_axis(cand_index, keep, -1)
        w = np.exp(kept_score - kept_score.max(axis=-1, keepdims=True))
        w /= w.sum(axis=-1, keepdims=True)
        o[:, h] = np.einsum("bnk,bnkd->bnd", w, values[kept_index])
    return o


# ----------------------------------------------------------------------------- attn.lightconv

def lightconv(x, weight, causal=False, normalize=True):
    """attn.lightconv: lightweight depthwise convolution with head-shared weights.

    x ``[B, N, C]``, weight ``[Hc, K]`` (channel c uses head ``c // (C / Hc)``). With
    ``normalize`` the weights are softmaxed over K. Padding ``P = K - 1`` if causal else
    ``(K - 1) / 2`` (odd K only); ``out[b, n, c] = sum_t w[h(c), t] x[b, n + t - P, c]``,
    zero outside ``[0, N)`` (cross-correlation, no flip).
    """
    x, weight = _f64(x), _f64(weight)
    if x.ndim != 3 or weight.ndim != 2:
        raise ValueError("x must be [B, N, C] and weight [Hc, K]")
    B, N, C = x.shape
    Hc, K = weight.shape
    if Hc == 0 or C % Hc or K < 1:
        raise ValueError("C must be a multiple of Hc and K >= 1")
    if not causal and K % 2 == 0:
        raise ValueError("even kernel size needs causal")
    if normalize:
        weight = np.exp(weight - weight.max(axis=1, keepdims=True))
        weight /= weight.sum(axis=1, keepdims=True)
    per_channel = np.repeat(weight, C // Hc, axis=0)  # [C, K]
    pad = K - 1 if causal else (K - 1) // 2
    padded = np.zeros((B, N + K - 1, C))
    padded[:, pad:pad + N] = x
    out = np.zeros((B, N, C))
    for t in range(K):
        out += per_channel[:, t] * padded[:, t:t + N]
    return out


__all__ = [
    "TOLERANCE", "LSH_SELF_SCORE", "FEATURE_MAPS", "default_scale", "rel_error", "sdpa",
    "lsh", "lsh_buckets", "cluster", "lowrank", "kernelized", "pkm", "lightconv",
    "MASK64", "splitmix64", "splitmix64_array", "Pattern", "Dense", "Causal", "Window",
    "Dilated", "BlockLocal", "Strided", "Fixed", "Global", "Random", "Axial", "BlockSparse",
    "Union", "Intersect",
]
