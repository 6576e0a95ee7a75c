"""The differential tester over attn.kernelized, attn.lowrank, attn.pkm and attn.lightconv
(attn_mlir.difftest_variants, `scripts/difftest.sh --ops ...`): a fixed seed's first specs
through `attn-run --mode=fused` (their fused forms, attn-fuse-variants) against the float64
reference; pkm inputs with separated top-k choices."""

import collections

import pytest

from attn_mlir import difftest
from attn_mlir import difftest_variants as V

SEED = 2026
OPS = V.OPS
COUNT = 20


@pytest.mark.parametrize("index", range(COUNT))
def test_fused_variants_match_reference(index):
    spec = difftest.generate_op(OPS, SEED, index)
    failures, _ = difftest.check(spec, modes=("fused",))
    assert not failures, (f"{spec.description}\n"
                          + "\n".join(f"{mode}: {message}" for mode, message in failures)
                          + f"\nrepro: {difftest.repro_line(SEED, index, OPS)}")


def test_generator_covers_the_variants():
    """Over the first 200 specs: every op, both causal forms and feature maps of kernelized,
    f16, dynamic dims, shared and per-head projections, top_k = n and top_k < n."""
    seen = collections.Counter()
    for index in range(200):
        d = difftest.generate_op(OPS, SEED, index).description
        seen["op:" + d["op"]] += 1
        seen["dtype:" + d["dtype"]] += 1
        if d["op"] == "kernelized":
            seen[f"kernelized:{d['feature_map']}:{d['causal']}"] += 1
        if d["op"] == "pkm":
            seen["pkm:all" if d["top_k"] == d["n"] else "pkm:some"] += 1
        if d["op"] == "lightconv":
            seen[f"lightconv:causal={d['causal']}"] += 1
    for op in OPS:
        assert seen["op:" + op] >= 40
    for fm in ("favor_plus", "elu_plus_one", "relu"):
        for causal in (False, True):
            assert seen[f"kernelized:{fm}:{causal}"] > 0, (fm, causal)
    for key in ("dtype:f16", "pkm:all", "pkm:some", "lightconv:causal=True",
                "lightconv:causal=False"):
        assert seen[key] > 0, key


def test_same_spec_twice():
    a, b = difftest.generate_op(OPS, 5, 3), difftest.generate_op(OPS, 5, 3)
    assert a.description == b.description and a.ir() == b.ir()
