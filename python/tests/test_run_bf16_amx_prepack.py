"""bf16 through AMX with the keys and values packed once per (batch, head) before the parallel
loop (docs/Pipelines.md, "bf16 and f16 inputs"), against the float64 reference within the bf16
bound of docs/Semantics.md §10. The head dim is a multiple of 64 so that q k^T takes AMX and reads
the packed keys; key tiles that do not start on a pair of keys (odd kv-tile), that are not whole
k blocks of 64 (the packed values are read only for whole blocks or the last tile, else packed
per tile), a last tile that ends mid-pair, GQA (the tile's head is h / group), Partial and Empty
tiles, and an infinite value at a key that earlier queries never see (the zero rows past the
packed values' end must not turn into 0 * inf)."""

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.builder import sdpa_func
from attn_mlir.patterns import Causal, Dense, Window
from attn_mlir.run import run
from helpers import assert_close, round_bf16
from test_run_bf16 import host_has_amx_bf16
from test_run_fused import tile_ir

pytestmark = pytest.mark.skipif(not host_has_amx_bf16(),
                                reason="the host has no amx_bf16 (lit: UNSUPPORTED)")

# (pattern, (B, H, Hkv, Nq, Nk, D, Dv), tile or None for attn-run's default)
CASES = [
    (Dense(), (1, 2, 2, 100, 131, 64, 48), (32, 24)),
    (Dense(), (2, 2, 1, 40, 77, 128, 64), (16, 7)),
    (Causal(), (1, 4, 2, 200, 200, 64, 64), None),
    (Window(left=40, right=17), (1, 2, 2, 301, 301, 64, 33), (64, 64)),
    (Causal(), (1, 2, 1, 129, 129, 64, 16), (32, 128)),
]


def bf16_inputs(rng, B, H, Hkv, Nq, Nk, D, Dv):
    q = round_bf16(rng.standard_normal((B, H, Nq, D)).astype(np.float32))
    k = round_bf16(rng.standard_normal((B, Hkv, Nk, D)).astype(np.float32))
    v = round_bf16(rng.standard_normal((B, Hkv, Nk, Dv)).astype(np.float32))
    return q, k, v


def run_amx(pattern, q, k, v, tile):
    ir = sdpa_func((list(q.shape), "bf16"), (list(k.shape), "bf16"), (list(v.shape), "bf16"),
                   pattern=pattern)
    if tile is not None:
        ir = tile_ir(ir, tile)
    o = np.zeros(q.shape[:3] + v.shape[3:], dtype=np.float32)
    out, = run(ir, [q, k, v, o], mode="fused", extra_args=("--bf16-isa=amx",))
    return out.astype(np.float64)


@pytest.mark.parametrize("pattern,shape,tile", CASES,
                         ids=lambda c: str(c).replace(" ", "")[:40])
def test_amx_prepacked(pattern, shape, tile):
    q, k, v = bf16_inputs(np.random.default_rng(11), *shape)
    expected = ref.sdpa(q.astype(np.float64), k.astype(np.float64), v.astype(np.float64),
                        pattern=pattern)
    assert_close(run_amx(pattern, q, k, v, tile), expected, ref.TOLERANCE["bf16"])


@pytest.mark.parametrize("tile", [None, (32, 24), (16, 7)], ids=str)
def test_amx_prepacked_infinite_last_value(tile):
    """Causal, N = 131: the last key's value is +inf. Queries 0..129 never see it, so their
    outputs are those of the first 130 keys alone (finite); the last tile ends mid-pair and
    reads the packed values' zero rows past N."""
    B, H, N, D, Dv = 1, 2, 131, 64, 32
    q, k, v = bf16_inputs(np.random.default_rng(4), B, H, H, N, N, D, Dv)
    v[:, :, N - 1, :] = np.inf
    out = run_amx(Causal(), q, k, v, tile)
    expected = ref.sdpa(q[:, :, :N - 1].astype(np.float64), k[:, :, :N - 1].astype(np.float64),
                        v[:, :, :N - 1].astype(np.float64), pattern=Causal())
    assert np.isfinite(out[:, :, :N - 1]).all()
    assert_close(out[:, :, :N - 1], expected, ref.TOLERANCE["bf16"])
