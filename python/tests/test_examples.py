"""Every example in examples/ runs through attn-run on seeded random inputs: `--check`
(against the f64 reference pipeline) passes, and the result matches the float64 Python
reference computed from the same inputs (issue 3, line 7)."""

import os

import pytest

from attn_mlir.examples import EXAMPLES, ROOT, run_example, tolerance


def test_every_example_is_listed():
    names = sorted(f[:-5] for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".mlir"))
    assert names == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example(name):
    stdout, errors = run_example(name, dim=256, seed=1)
    checks = [l for l in stdout.splitlines() if l.startswith("check ")]
    assert checks and all(l.endswith(": ok") for l in checks), stdout
    assert len(errors) == len(checks)
    for i, err in enumerate(errors):
        assert err <= tolerance(name), f"{name} result{i}: relative error {err:.3g}"
