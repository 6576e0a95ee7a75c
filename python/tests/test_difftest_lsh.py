"""The differential tester on attn.lsh and attn.cluster (attn_mlir.difftest_lsh) in CI: a
fixed seed's first specs of each op through `attn-run --mode=fused` against the float64
reference, on inputs whose buckets and memberships are separated (docs/Semantics.md §10).
Long runs: scripts/difftest.sh --op lsh | cluster --seconds T."""

import collections

import pytest

from attn_mlir import difftest, difftest_lsh

SEED = 2026
COUNT = 8


@pytest.mark.parametrize("op", ["lsh", "cluster"])
@pytest.mark.parametrize("index", range(COUNT))
def test_fused_matches_reference(op, index):
    spec = difftest_lsh.generate(SEED, index, op)
    failures, _ = difftest.check(spec, modes=("fused",))
    assert not failures, (f"{spec.description}\n"
                          + "\n".join(f"{mode}: {message}" for mode, message in failures)
                          + f"\nrepro: {difftest.repro_line(SEED, index, op)}")


def test_generator_covers_the_spec_space():
    """Over the first 200 specs of each op: causal and not, the three element types, dynamic
    B and N, lsh windows that wrap around the chunks, cluster GQA, shared q = k, Nq != Nk and
    windows of the whole sequence."""
    seen = collections.Counter()
    for op in ("lsh", "cluster"):
        for index in range(200):
            d = difftest_lsh.generate(SEED, index, op).description
            seen[f"{op}:causal:{d['causal']}"] += 1
            seen[f"{op}:dtype:{d['dtype']}"] += 1
            for dim in d["dynamic"]:
                seen[f"{op}:dynamic:{dim}"] += 1
            if op == "lsh":
                seen["lsh:wraps"] += d["look_back"] + d["look_ahead"] + 1 > d["N"] // d["chunk"]
                seen["lsh:rounds>1"] += d["rounds"] > 1
            else:
                seen["cluster:gqa"] += d["H"] > d["Hkv"]
                seen["cluster:shared"] += d["shared_qk"]
                seen["cluster:nq!=nk"] += d["Nq"] != d["Nk"]
                seen["cluster:whole"] += d["window"] == min(d["Nq"], d["Nk"])
    expected = [f"{op}:{what}" for op in ("lsh", "cluster")
                for what in ("causal:True", "causal:False", "dtype:f32", "dtype:f16",
                             "dtype:bf16", "dynamic:B", "dynamic:N")]
    expected += ["lsh:wraps", "lsh:rounds>1", "cluster:gqa", "cluster:shared", "cluster:nq!=nk",
                 "cluster:whole"]
    missing = [name for name in expected if seen[name] == 0]
    assert not missing, f"never generated: {missing}"
