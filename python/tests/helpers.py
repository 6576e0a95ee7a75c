"""Helpers shared by the test_run_*.py tests: input element types, MLIR tensor types and the
relative-error check against the float64 reference."""

import re
import subprocess

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.run import attn_run_path, from_bf16_bits, to_bf16_bits

# The relative-error tolerance per MLIR element type of the compiled kernel (docs/Semantics.md §10).
TOL = {"f32": ref.TOLERANCE["f32_reference"], "f16": ref.TOLERANCE["f16"],
       "bf16": ref.TOLERANCE["bf16"]}
# The numpy type of the arrays for an MLIR element type (bf16 travels as rounded float32).
NP_TYPE = {"f32": np.float32, "f16": np.float16, "bf16": np.float32}


# The CPU pipeline modes an integration test runs through: the unfused oracle and the fused
# default (docs/Pipelines.md); the tolerance of each for an element type is `mode_tol`.
MODE_NAMES = ["reference", "fused"]
MODES = pytest.mark.parametrize("mode", MODE_NAMES)


def round_bf16(x):
    """float32 values rounded to the nearest bf16 (ties to even), as float32."""
    return from_bf16_bits(to_bf16_bits(x))


def as_dtype(x, dtype):
    """The array passed to attn-run for an MLIR element type (bf16: rounded float32)."""
    if dtype == "f16":
        return x.astype(np.float16)
    if dtype == "bf16":
        return round_bf16(x)
    return x.astype(np.float32)


def tensor_type(shape, dtype, dynamic=()):
    """The MLIR tensor type of `shape`; the dims listed in `dynamic` become `?`."""
    dims = ["?" if d in dynamic else str(n) for d, n in enumerate(shape)]
    return f"tensor<{'x'.join(dims)}x{dtype}>"


def assert_close(out, expected, tol=TOL["f32"]):
    """Asserts ref.rel_error(out, expected) <= tol."""
    err = ref.rel_error(out, expected)
    assert err <= tol, f"relative error {err:.3g} > {tol:.1g}"


def check_result(out, expected, dtype="f32", mode="reference"):
    """Asserts that `out` has the shape of `expected`, the numpy type of `dtype` and a relative
    error within TOL[dtype] (for f32 through the fused pipeline, `mode="fused"`: the fused
    bound of docs/Semantics.md §10)."""
    assert out.shape == expected.shape
    assert out.dtype == NP_TYPE[dtype]
    fused = mode == "fused" and dtype == "f32"
    assert_close(out, expected, ref.TOLERANCE["f32_fused"] if fused else TOL[dtype])


def input_flags(directory, inputs, prefix=""):
    """Writes {name: array or raw .npy bytes} to DIRECTORY/PREFIX<name>.npy and returns the
    matching `--input=name=path` flags of attn-run."""
    flags = []
    for name, content in inputs.items():
        path = directory / f"{prefix}{name}.npy"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            np.save(path, content)
        flags.append(f"--input={name}={path}")
    return flags


def mode_tol(dtype, mode):
    """TOL[dtype], or the fused f32 bound where that is larger and `mode` is fused."""
    if mode == "fused":
        return max(TOL[dtype], ref.TOLERANCE["f32_fused"])
    return TOL[dtype]


def check_report(mlir_text, inputs, directory, mode=None):
    """Runs `attn-run --check` on `mlir_text` with the {name: array} inputs and returns
    (the first result of the f32 build, the relative errors that --check reports, one per
    result). attn-run must accept the comparison (exit 0)."""
    source = directory / "check.mlir"
    source.write_text(mlir_text)
    out = directory / "check-out"
    modes = [f"--mode={mode}"] if mode else []
    proc = subprocess.run([attn_run_path(), str(source), "--check", f"--output={out}", *modes,
                           *input_flags(directory, inputs, prefix="check-")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    errors = [float(m) for m in re.findall(r"rel error (\S+),", proc.stdout)]
    return np.load(out / "result0.npy"), errors


def checked_run(directory, reports):
    """A stand-in for `attn_mlir.run.run(mlir, inputs)` that runs `attn-run --check` instead
    and appends the reported relative errors to the list `reports`."""
    def run_checked(mlir_text, inputs, mode=None):
        out, errors = check_report(mlir_text, inputs, directory, mode)
        reports.append(errors)
        return [out]
    return run_checked


def assert_oracle_agrees(reported, out, expected, tol=TOL["f32"]):
    """`reported` is the relative error that `attn-run --check` printed for the f32 result
    `out`, against the compute-type=f64 build of the same IR. When that build computes in f64
    it is non-zero, within `tol`, and equals the error against the float64 reference
    `expected` up to the f32 rounding of the result (the f64 build's result is f32 too) and
    the 4 digits printed."""
    err = ref.rel_error(out, expected)
    rounding = ref.rel_error(expected.astype(np.float32), expected)
    assert 0 < reported <= tol, f"--check reported {reported:.3g}"
    assert abs(reported - err) <= 1.1 * rounding + 1e-3 * err, \
        f"--check reported {reported:.4g}, the float64 reference gives {err:.4g}"
