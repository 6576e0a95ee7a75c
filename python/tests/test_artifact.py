"""attn-compile --target=cpu artifacts run through attn_mlir.artifact (ctypes, no LLVM) against
the float64 reference; one dynamic-length artifact at several lengths; the library needs only
libc and libm; a --target=cuda artifact says "no CUDA driver" where there is none."""

import ctypes
import os
import subprocess

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.artifact import ArtifactError, load
from attn_mlir.builder import sdpa_func
from attn_mlir.patterns import Causal
from attn_mlir.run import attn_run_path
from helpers import TOL, as_dtype, assert_close
from test_run_kernelized import kernelized_ir
from test_run_lightconv import lightconv_ir
from test_run_lsh import draw, lsh_ir


def attn_compile_path():
    """$ATTN_COMPILE, else attn-compile next to attn-run."""
    return os.environ.get("ATTN_COMPILE") or os.path.join(
        os.path.dirname(attn_run_path()), "attn-compile")


def compile_spec(tmp_path, ir, target="cpu", name="spec", extra=()):
    spec = tmp_path / f"{name}.mlir"
    spec.write_text(ir)
    out = tmp_path / f"{name}-{target}"
    done = subprocess.run([attn_compile_path(), str(spec), f"--target={target}", "-o", str(out),
                           *extra], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out


def sdpa_spec(D=16, dtype="f32", pattern=None):
    dims = [2, 3, None, D]
    return sdpa_func((dims, dtype), (dims, dtype), (dims, dtype), pattern=pattern)


@pytest.mark.parametrize("pattern", [None, Causal()], ids=["dense", "causal"])
def test_sdpa_dynamic_lengths(tmp_path, pattern):
    art = load(compile_spec(tmp_path, sdpa_spec(pattern=pattern)))
    entry = art.entry("main")
    assert [a["name"] for a in entry.args] == ["q", "k", "v", "o"]
    assert entry.args[0]["shape"] == [2, 3, None, 16]
    rng = np.random.default_rng(7)
    for n in (1, 5, 33, 64):
        q, k, v = (rng.standard_normal((2, 3, n, 16)).astype(np.float32) for _ in range(3))
        o = np.full_like(q, np.nan)
        (out,) = art(q=q, k=k, v=v, o=o)
        expected = ref.sdpa(q, k, v, pattern=pattern or ref.Dense())
        assert_close(out, expected, TOL["f32"])


def test_sdpa_bf16(tmp_path):
    art = load(compile_spec(tmp_path, sdpa_spec(D=8, dtype="bf16", pattern=Causal())))
    rng = np.random.default_rng(3)
    q, k, v = (as_dtype(rng.standard_normal((2, 3, 17, 8)), "bf16") for _ in range(3))
    (out,) = art(q, k, v, np.zeros_like(q))
    assert_close(out, ref.sdpa(q, k, v, pattern=Causal()), TOL["bf16"])


def test_kernelized_causal(tmp_path):
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal((1, 2, 11, 8)).astype(np.float32) for _ in range(3))
    ir = kernelized_ir(q, k, v, None, "f32", "elu_plus_one", True, (2,))
    (out,) = load(compile_spec(tmp_path, ir))(q, k, v, np.zeros_like(v))
    assert_close(out, ref.kernelized(q, k, v, "elu_plus_one", causal=True), TOL["f32"])


def test_lightconv(tmp_path):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 13, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    art = load(compile_spec(tmp_path, lightconv_ir(x.shape, w.shape, "f32", True, None, (1,))))
    (out,) = art(x=x, w=w, o=np.zeros_like(x))
    assert_close(out, ref.lightconv(x, w, causal=True), TOL["f32"])


def test_lsh(tmp_path):
    qk, v, rot = draw(11, 1, 2, 16, 8, 8, 2, 4)
    ir = lsh_ir(1, 2, 16, 8, 8, 2, 4, 4, dynamic=("N",))
    (out,) = load(compile_spec(tmp_path, ir))(qk, v, rot, np.zeros_like(v))
    assert_close(out, ref.lsh(qk, v, rot, 4, 4), TOL["f32"])


def test_library_needs_no_llvm(tmp_path):
    out = compile_spec(tmp_path, sdpa_spec())
    needed = subprocess.run(["ldd", str(out / "libspec.so")], check=True, capture_output=True,
                            text=True).stdout
    assert "libc.so" in needed
    assert "LLVM" not in needed and "MLIR" not in needed and "mlir" not in needed


def test_bad_arguments(tmp_path):
    art = load(compile_spec(tmp_path, sdpa_spec()))
    q = np.zeros((2, 3, 4, 16), np.float32)
    with pytest.raises(ArtifactError, match="shape"):
        art(q, q, q, np.zeros((2, 3, 4, 8), np.float32))
    with pytest.raises(ArtifactError, match="element type"):
        art(q, q, q, q.astype(np.float64))
    with pytest.raises(ArtifactError, match="no argument 'x'"):
        art(q, q, q, x=q)


def _has_cuda_driver():
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


def test_cuda_artifact(tmp_path):
    """PTX (format=isa: no ptxas needed); without a driver, loading says so."""
    out = compile_spec(tmp_path, sdpa_spec(), target="cuda", extra=["--format=isa"])
    assert (out / "libattn_cuda_runtime.so").exists()
    if not _has_cuda_driver():
        with pytest.raises(ArtifactError, match=r"no CUDA driver \(libcuda.so.1 not found\)"):
            load(out)
        return
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, 3, 9, 16)).astype(np.float32) for _ in range(3))
    (res,) = load(out)(q, k, v, np.full_like(q, np.nan))
    assert_close(res, ref.sdpa(q, k, v), TOL["f32"])


def test_bf16_rounding_is_nearest_even():
    """The runner's float32 -> bf16 bits: nearest bf16 (ties to even) by float64 distances,
    infinities kept, NaN kept NaN, on random bit patterns and the edge cases."""
    from attn_mlir.artifact import _from_bf16_bits, _to_bf16_bits
    rng = np.random.default_rng(3)
    bits = np.concatenate([
        rng.integers(0, 1 << 32, size=200_000, dtype=np.uint64).astype(np.uint32),
        np.array([0, 0x80000000, 0x7F800000, 0xFF800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x7FC00000,
                  0xFFFFFFFF, 0xFFFF8001, 0x7F800001, 0x00008000, 0x00018000, 0x3F808000,
                  0x3F818000, 0x3F80FFFF], np.uint32)])
    x = bits.view(np.float32)
    out = _to_bf16_bits(x)
    assert out.dtype == np.uint16
    nan = np.isnan(x)
    assert np.isnan(_from_bf16_bits(out[nan])).all()
    lo = (bits[~nan] >> 16).astype(np.uint16)
    hi = lo + np.uint16(1)  # the next bf16 away from zero (may be infinity)
    value = x[~nan].astype(np.float64)
    d_lo = np.abs(value - _from_bf16_bits(lo).astype(np.float64))
    hi_value = _from_bf16_bits(hi).astype(np.float64)
    # Rounding up from the largest finite bf16 gives infinity, which IEEE rounding
    # treats as 2^128 when measuring the distance.
    hi_value = np.where(np.isinf(hi_value), np.copysign(2.0 ** 128, hi_value), hi_value)
    d_hi = np.abs(value - hi_value)
    expected = np.where(d_hi < d_lo, hi, np.where(d_lo < d_hi, lo, np.where(lo % 2 == 0, lo, hi)))
    exact_inf = np.isinf(value)
    expected = np.where(exact_inf, lo, expected)
    np.testing.assert_array_equal(out[~nan], expected)
