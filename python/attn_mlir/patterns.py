"""Attention patterns of the attn dialect (docs/Semantics.md §3).

Each pattern is a predicate on signed positions ``i = qpos``, ``j = kpos``:
``is_live(i, j, nq, nk)`` is vectorised (``i`` and ``j`` are int64 arrays that broadcast
against each other; ``nq``, ``nk`` are the query / key counts) and returns a bool array of
the broadcast shape. ``to_mlir()`` returns the attribute's MLIR text.

Floor division and modulo are mathematical (floor, non-negative remainder) also for negative
positions; numpy's ``//`` and ``%`` on int64 with a positive divisor do exactly that.
"""

import numpy as np

MASK64 = (1 << 64) - 1
_GOLDEN_GAMMA = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB


def splitmix64(x):
    """splitmix64 of a Python int, as docs/Semantics.md §3 gives it, on uint64 with wrap-around.

    ``x`` may be any Python int (negative values are taken as two's complement); the result
    is an int in ``[0, 2**64)``.
    """
    x = (int(x) + _GOLDEN_GAMMA) & MASK64
    z = x
    z = ((z ^ (z >> 30)) * _MIX1) & MASK64
    z = ((z ^ (z >> 27)) * _MIX2) & MASK64
    return z ^ (z >> 31)


def splitmix64_array(x):
    """Vectorised splitmix64 on a numpy uint64 array (wrap-around arithmetic)."""
    x = np.asarray(x)
    if x.dtype != np.uint64:
        raise TypeError("splitmix64_array expects a uint64 array")
    with np.errstate(over="ignore"):
        x = x + np.uint64(_GOLDEN_GAMMA)
        z = (x ^ (x >> np.uint64(30))) * np.uint64(_MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
        return z ^ (z >> np.uint64(31))


def _positions(i, j):
    """Both position arrays as int64, broadcast against each other."""
    return np.broadcast_arrays(np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64))


def _positive(name, value):
    value = int(value)
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


class Pattern:
    """Base class: a predicate ``is_live(i, j, nq, nk)`` plus its MLIR spelling."""

    def is_live(self, i, j, nq, nk):
        raise NotImplementedError

    def to_mlir(self):
        raise NotImplementedError

    def __repr__(self):
        return self.to_mlir()

    def __eq__(self, other):
        return isinstance(other, Pattern) and self.to_mlir() == other.to_mlir()

    def __hash__(self):
        return hash(self.to_mlir())

    def __or__(self, other):
        """``a | b``: ``#attn.union`` of both (nested unions are flattened)."""
        return Union(_parts(self, Union) + _parts(other, Union))

    def __and__(self, other):
        """``a & b``: ``#attn.intersect`` of both (nested intersections are flattened)."""
        return Intersect(_parts(self, Intersect) + _parts(other, Intersect))


def _parts(pattern, kind):
    """The parts of ``pattern`` when it is a ``kind`` combination, else ``(pattern,)``."""
    if not isinstance(pattern, Pattern):
        raise TypeError(f"cannot combine a pattern with {type(pattern).__name__}")
    return pattern.parts if type(pattern) is kind else (pattern,)


class Dense(Pattern):
    """``#attn.dense``: every pair is live."""

    def is_live(self, i, j, nq, nk):
        i, j = _positions(i, j)
        return np.ones(i.shape, dtype=bool)

    def to_mlir(self):
        return "#attn.dense"


class Causal(Pattern):
    """``#attn.causal<offset = c, bottom_right>``: ``j <= i + c`` (``+ nk - nq`` if bottom_right)."""

    def __init__(self, offset=0, bottom_right=False):
        self.offset = int(offset)
        self.bottom_right = bool(bottom_right)

    def is_live(self, i, j, nq, nk):
        i, j = _positions(i, j)
        limit = i + self.offset
        if self.bottom_right:
            limit = limit + (int(nk) - int(nq))
        return j <= limit

    def to_mlir(self):
        params = []
        if self.offset != 0:
            params.append(f"offset = {self.offset}")
        if self.bottom_right:
            params.append("bottom_right")
        return "#attn.causal" + (f"<{', '.join(params)}>" if params else "")


class Window(Pattern):
    """``#attn.window<left = L, right = R>``: ``i - L <= j <= i + R`` (``L + R >= 0``)."""

    def __init__(self, left, right):
        self.left, self.right = int(left), int(right)
        if self.left + self.right < 0:
            raise ValueError("window needs left + right >= 0")

    def is_live(self, i, j, nq, nk):
        i, j = _positions(i, j)
        return (i - self.left <= j) & (j <= i + self.right)

    def to_mlir(self):
        return f"#attn.window<left = {self.left}, right = {self.right}>"


class Dilated(Pattern):
    """``#attn.dilated<left = L, right = R, dilation = d>``.

    Live when ``i - L*d <= j <= i + R*d`` and ``(i - j) mod d == 0``.
    """

    def __init__(self, left, right, dilation):
        self.left, self.right = int(left), int(right)
        self.dilation = _positive("dilation", dilation)

    def is_live(self, i, j, nq, nk):
        i, j = _positions(i, j)
        d = self.dilation
        return (i - self.left * d <= j) & (j <= i + self.right * d) & ((i - j) % d == 0)

    def to_mlir(self):
        return (f"#attn.dilated<left = {self.left}, right = {self.right}, "
                f"dilation = {self.dilation}>")


class BlockLocal(Pattern):
    """``#attn.block_local<size = b>``: ``floor(i/b) == floor(j/b)``."""

    def __init__(self, size):
        self.size = _positive("size", size)

    def is_live(self, i, j, nq, nk):
        i, j = _positions(i, j)
        return i // self.size == j // self.size

    def to_mlir(self):
        return f"#attn.block_local<size = {self.size}>"


class Strided(Pattern):
    """``#attn.strided<stride = s>``: ``(i - j) mod s == 0``."""

    def __init__(self, stride):
        self.stride = _positive("stride", stride)

    def is_live(self, i, j, nq, nk):
        i, j = _positions(i, j)
        return (i - j) % self.stride == 0

    def to_mlir(self):
        return f"#attn.strided<stride = {self.stride}>"


class Fixed(Pattern):
    """``#attn.fixed<block = l, summary = c>``: ``j mod l >= l - c`` (summary columns only)."""

    def __init__(self, block, summary):
        self.block = _positive("block", block)
        self.summary = int(summary)
        if not 0 <= self.summary <= self.block:
            raise ValueError("fixed needs 0 <= summary <= block")

    def is_live(self, i, j, nq, nk):
        i, j = _positions(i, j)
        return j % self.block >= self.block - self.summary

    def to_mlir(self):
        return f"#attn.fixed<block = {self.block}, summary = {self.summary}>"


def _is_token(p, tokens, first):
    """Whether each position of ``p`` is listed in ``tokens`` or in ``[0, first)``."""
    result = (p >= 0) & (p < first)
    if tokens:
        result = result | np.isin(p, np.array(tokens, dtype=np.int64))
    return result


def _token_params(tokens, first):
    """``tokens = [..], first = n`` as the global and sink attributes print it."""
    params = []
    if tokens:
        params.append("tokens = [" + ", ".join(str(t) for t in tokens) + "]")
    if first != 0 or not tokens:
        params.append(f"first = {first}")
    return ", ".join(params)


class Global(Pattern):
    """``#attn.global<tokens = [..], first = n>``: ``i`` or ``j`` is a global position.

    A position ``p`` is global when it is listed in ``tokens`` or ``0 <= p < first``.
    """

    def __init__(self, tokens=(), first=0):
        self.tokens = tuple(int(t) for t in tokens)
        self.first = int(first)

    def is_live(self, i, j, nq, nk):
        i, j = _positions(i, j)
        return _is_token(i, self.tokens, self.first) | _is_token(j, self.tokens, self.first)

    def to_mlir(self):
        return f"#attn.global<{_token_params(self.tokens, self.first)}>"


class Sink(Pattern):
    """``#attn.sink<tokens = [..], first = n>``: the key ``j`` is a sink (every query sees it).

    A key is a sink when it is listed in ``tokens`` or ``0 <= j < first``; unlike ``Global``
    the query plays no part (attention sinks; prefix LM is ``Union([Causal(), Sink(first=P)])``).
    """

    def __init__(self, tokens=(), first=0):
        self.tokens = tuple(int(t) for t in tokens)
        self.first = int(first)
        if self.first < 0:
            raise ValueError("sink needs first >= 0")

    def is_live(self, i, j, nq, nk):
        i, j = _positions(i, j)
        return _is_token(j, self.tokens, self.first)

    def to_mlir(self):
        return f"#attn.sink<{_token_params(self.tokens, self.first)}>"


class Random(Pattern):
    """``#attn.random<block = b, per_row = r, seed = s>`` (BigBird random blocks).

    Query block ``qb = floor(i/b)`` picks the ``min(r, ceil(nk/b))`` key blocks among
    ``0 .. ceil(nk/b) - 1`` with the smallest ``splitmix64(s ^ (qb << 32) ^ kb)`` (unsigned;
    ``s`` and ``qb`` taken as uint64 in two's complement). Key positions outside
    ``[0, ceil(nk/b) * b)`` are never live.
    """

    def __init__(self, block, per_row, seed):
        self.block = _positive("block", block)
        self.per_row = int(per_row)
        if self.per_row < 0:
            raise ValueError("per_row must be >= 0")
        self.seed = int(seed)
        if not -(1 << 63) <= self.seed < (1 << 63):
            raise ValueError("seed must fit in i64")

    def chosen_blocks(self, query_blocks, nk):
        """Bool table ``[len(query_blocks), ceil(nk/b)]``: the key blocks each query block picks."""
        qb = np.asarray(query_blocks, dtype=np.int64).reshape(-1)
        nblocks = -(-int(nk) // self.block)
        table = np.zeros((qb.size, nblocks), dtype=bool)
        picks = min(self.per_row, nblocks)
        if picks == 0 or qb.size == 0:
            return table
        seed = np.uint64(self.seed & MASK64)
        qb_u = qb.astype(np.uint64)  # int64 -> uint64 is two's complement
        kb_u = np.arange(nblocks, dtype=np.uint64)
        hashes = splitmix64_array(seed ^ (qb_u[:, None] << np.uint64(32)) ^ kb_u[None, :])
        smallest = np.argsort(hashes, axis=1, kind="stable")[:, :picks]
        table[np.arange(qb.size)[:, None], smallest] = True
        return table

    def is_live(self, i, j, nq, nk):
        # The table is built once per distinct query block (taken from the unbroadcast i).
        unique_qb = np.unique(np.asarray(i, dtype=np.int64) // self.block)
        table = self.chosen_blocks(unique_qb, nk)
        i, j = _positions(i, j)
        qb, kb = i // self.block, j // self.block
        live = np.zeros(i.shape, dtype=bool)
        candidate = (kb >= 0) & (kb < table.shape[1])
        if candidate.any():
            row = np.searchsorted(unique_qb, qb[candidate])
            live[candidate] = table[row, kb[candidate]]
        return live

    def to_mlir(self):
        return (f"#attn.random<block = {self.block}, per_row = {self.per_row}, "
                f"seed = {self.seed}>")


class Axial(Pattern):
    """``#attn.axial<rows = R, cols = C>``: both positions on the row-major R x C grid and
    sharing its row (``floor(p/C)``) or its column (``p mod C``)."""

    def __init__(self, rows, cols):
        self.rows = _positive("rows", rows)
        self.cols = _positive("cols", cols)

    def is_live(self, i, j, nq, nk):
        i, j = _positions(i, j)
        size = self.rows * self.cols
        on_grid = (i >= 0) & (i < size) & (j >= 0) & (j < size)
        c = self.cols
        return on_grid & ((i // c == j // c) | (i % c == j % c))

    def to_mlir(self):
        return f"#attn.axial<rows = {self.rows}, cols = {self.cols}>"


class Neighborhood(Pattern):
    """``#attn.neighborhood<extent = [..], window = [..]>`` (NATTEN on a 1-D to 3-D grid).

    Positions lie row-major on the grid (last axis fastest); off the grid nothing is live.
    On axis ``d`` the window of query coordinate ``x`` is ``[s, s + W_d - 1]`` with
    ``s = clamp(x - W_d // 2, 0, E_d - W_d)``; a pair is live when on every axis the key's
    coordinate lies in the query's window.
    """

    def __init__(self, extent, window):
        self.extent = tuple(int(e) for e in extent)
        self.window = tuple(int(w) for w in window)
        if not 1 <= len(self.extent) <= 3 or len(self.window) != len(self.extent):
            raise ValueError("neighborhood needs 1 to 3 axes and one window per axis")
        if any(e < 1 or not 1 <= w <= e for e, w in zip(self.extent, self.window)):
            raise ValueError("neighborhood needs extents >= 1 and 1 <= window <= extent")

    def is_live(self, i, j, nq, nk):
        i, j = _positions(i, j)
        cells = int(np.prod(self.extent))
        live = (i >= 0) & (i < cells) & (j >= 0) & (j < cells)
        stride = cells
        for e, w in zip(self.extent, self.window):
            stride //= e
            x, y = (i // stride) % e, (j // stride) % e
            start = np.clip(x - w // 2, 0, e - w)
            live = live & (start <= y) & (y < start + w)
        return live

    def to_mlir(self):
        extent = ", ".join(str(e) for e in self.extent)
        window = ", ".join(str(w) for w in self.window)
        return f"#attn.neighborhood<extent = [{extent}], window = [{window}]>"


class BlockSparse(Pattern):
    """``#attn.block_sparse<block = [bq, bk], layout = dense<..> : tensor<MxKxi1>>``.

    Live when the layout bit of block ``(floor(i/bq), floor(j/bk))`` is set; blocks outside
    the layout are not live.
    """

    def __init__(self, block, layout):
        bq, bk = block
        self.block = (_positive("bq", bq), _positive("bk", bk))
        layout = np.asarray(layout)
        if layout.ndim != 2 or layout.dtype != bool:
            raise ValueError("layout must be a 2-D bool array")
        self.layout = layout.copy()

    def is_live(self, i, j, nq, nk):
        i, j = _positions(i, j)
        rows, cols = self.layout.shape
        bi, bj = i // self.block[0], j // self.block[1]
        inside = (bi >= 0) & (bi < rows) & (bj >= 0) & (bj < cols)
        if rows == 0 or cols == 0:
            return inside
        bits = self.layout[np.clip(bi, 0, rows - 1), np.clip(bj, 0, cols - 1)]
        return inside & bits

    def to_mlir(self):
        rows = ", ".join(
            "[" + ", ".join("true" if bit else "false" for bit in row) + "]"
            for row in self.layout)
        shape = "x".join(str(n) for n in self.layout.shape)
        return (f"#attn.block_sparse<block = [{self.block[0]}, {self.block[1]}], "
                f"layout = dense<[{rows}]> : tensor<{shape}xi1>>")


class _Combination(Pattern):
    """Shared code of union and intersect: a non-empty list of parts and a reduction."""

    _name = None

    def __init__(self, parts):
        self.parts = tuple(parts)
        if not self.parts or not all(isinstance(p, Pattern) for p in self.parts):
            raise ValueError(f"{self._name} needs at least one Pattern part")

    def _reduce(self, a, b):
        raise NotImplementedError

    def is_live(self, i, j, nq, nk):
        result = self.parts[0].is_live(i, j, nq, nk)
        for part in self.parts[1:]:
            result = self._reduce(result, part.is_live(i, j, nq, nk))
        return np.asarray(result, dtype=bool)

    def to_mlir(self):
        return f"#attn.{self._name}<[" + ", ".join(p.to_mlir() for p in self.parts) + "]>"


class Union(_Combination):
    """``#attn.union<[p, ...]>``: live when any part is live."""

    _name = "union"

    def _reduce(self, a, b):
        return a | b


class Intersect(_Combination):
    """``#attn.intersect<[p, ...]>``: live when every part is live."""

    _name = "intersect"

    def _reduce(self, a, b):
        return a & b


# Lower-case constructors, in the spirit of FlexAttention's mask functions:
# ``window(256) | global_tokens(64)``.

def dense():
    """``#attn.dense``."""
    return Dense()


def causal(offset=0, bottom_right=False):
    """``#attn.causal<offset = c, bottom_right>``."""
    return Causal(offset, bottom_right)


def window(left, right=None):
    """``#attn.window<left = L, right = R>``; ``right`` defaults to ``left`` (symmetric)."""
    return Window(left, left if right is None else right)


def dilated(left, right, dilation):
    """``#attn.dilated<left = L, right = R, dilation = d>``."""
    return Dilated(left, right, dilation)


def block_local(size):
    """``#attn.block_local<size = b>``."""
    return BlockLocal(size)


def strided(stride):
    """``#attn.strided<stride = s>``."""
    return Strided(stride)


def fixed(block, summary):
    """``#attn.fixed<block = l, summary = c>``."""
    return Fixed(block, summary)


def global_tokens(first=0, tokens=()):
    """``#attn.global<tokens = [..], first = n>``: the first ``first`` positions (and the listed
    ``tokens``) attend to and are attended by every position."""
    return Global(tokens=tokens, first=first)


def random_blocks(block, per_row, seed):
    """``#attn.random<block = b, per_row = r, seed = s>``."""
    return Random(block, per_row, seed)


def axial(rows, cols):
    """``#attn.axial<rows = R, cols = C>``."""
    return Axial(rows, cols)


def block_sparse(block, layout):
    """``#attn.block_sparse<block = [bq, bk], layout = ...>``."""
    return BlockSparse(block, layout)


__all__ = [
    "dense", "causal", "window", "dilated", "block_local", "strided", "fixed",
    "global_tokens", "random_blocks", "axial", "block_sparse",
    "MASK64", "splitmix64", "splitmix64_array", "Pattern", "Dense", "Causal", "Window",
    "Dilated", "BlockLocal", "Strided", "Fixed", "Global", "Sink", "Random", "Axial",
    "Neighborhood", "BlockSparse",
    "Union", "Intersect",
]
