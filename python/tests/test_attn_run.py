"""Tests of attn-run (tools/attn-run) through attn_mlir.run: numerics against numpy and every
error path of the .npy reader and the argument checks. attn-run must be built (ATTN_RUN or
build/bin/attn-run): a missing binary fails these tests, it does not skip them."""

import os
import pathlib
import struct
import subprocess

import numpy as np
import pytest

from helpers import input_flags

from attn_mlir.run import AttnRunError, attn_run_path, from_bf16_bits, run, to_bf16_bits

MATMUL = """
func.func @main(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %a, %c0 : tensor<?x?xf32>
  %n = tensor.dim %b, %c1 : tensor<?x?xf32>
  %e = tensor.empty(%m, %n) : tensor<?x?xf32>
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  %r = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>)
         outs(%f : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
"""

# x + 2 * y computed in f32, in and out in element type T.
AXPY = """
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @main(%x: tensor<?x3xT>, %y: tensor<?x3xT>) -> tensor<?x3xT> {
  %r = linalg.generic {indexing_maps = [#map, #map, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : tensor<?x3xT>, tensor<?x3xT>) outs(%x : tensor<?x3xT>) {
  ^bb0(%a: T, %b: T, %o: T):
    %af = arith.extf %a : T to f32
    %bf = arith.extf %b : T to f32
    %two = arith.constant 2.0 : f32
    %t = arith.mulf %bf, %two : f32
    %s = arith.addf %af, %t : f32
    %st = arith.truncf %s : f32 to T
    linalg.yield %st : T
  } -> tensor<?x3xT>
  return %r : tensor<?x3xT>
}
"""

ADD = """
func.func @main(%x: tensor<?xf32>, %y: tensor<?xf32>) -> tensor<?xf32> {
  %r = linalg.add ins(%x, %y : tensor<?xf32>, tensor<?xf32>) outs(%x : tensor<?xf32>) -> tensor<?xf32>
  return %r : tensor<?xf32>
}
"""

STATIC = """
func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %r = linalg.add ins(%x, %x : tensor<2x3xf32>, tensor<2x3xf32>) outs(%x : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}
"""

# Two results, an i1 select, a rank-0 argument and an i32 pass-through.
MIXED = """
#map = affine_map<(d0) -> (d0)>
#s = affine_map<(d0) -> ()>
func.func @main(%c: tensor<?xi1>, %x: tensor<?xf32>, %s: tensor<f32>, %i: tensor<?xi32>)
    -> (tensor<?xf32>, tensor<?xi32>) {
  %r = linalg.generic {indexing_maps = [#map, #map, #s, #map], iterator_types = ["parallel"]}
      ins(%c, %x, %s : tensor<?xi1>, tensor<?xf32>, tensor<f32>) outs(%x : tensor<?xf32>) {
  ^bb0(%cc: i1, %xx: f32, %ss: f32, %o: f32):
    %v = arith.select %cc, %xx, %ss : f32
    linalg.yield %v : f32
  } -> tensor<?xf32>
  return %r, %i : tensor<?xf32>, tensor<?xi32>
}
"""

SDPA = """
func.func @main(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>)
    -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%q : tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}
"""


@pytest.fixture(scope="module")
def attn_run():
    """The attn-run binary; its absence is a failure, never a skip."""
    path = attn_run_path()
    assert os.access(path, os.X_OK), f"attn-run is not built at {path} (set ATTN_RUN)"
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def call(attn_run, mlir_text, tmp_path, *args):
    """Runs attn-run on IR text with raw arguments; returns the CompletedProcess."""
    source = tmp_path / "f.mlir"
    source.write_text(mlir_text)
    return subprocess.run([attn_run, str(source), *map(str, args)], capture_output=True,
                          text=True)


def npy_bytes(descr, shape, data, fortran=False, version=1):
    """Hand-made .npy contents."""
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", repr(tuple(shape)))
    prefix = 10 if version == 1 else 12
    header += " " * ((64 - (prefix + len(header) + 1) % 64) % 64) + "\n"
    size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header.encode("latin1") + data


def expect_error(attn_run, tmp_path, mlir_text, inputs, *needles, args=()):
    """Writes the {name: bytes or array} inputs and checks that attn-run fails with exit 1 and
    an `attn-run: error:` or diagnostic mentioning every needle."""
    flags = input_flags(tmp_path, inputs)
    proc = call(attn_run, mlir_text, tmp_path, *flags, *args)
    assert proc.returncode == 1, proc.stderr
    assert "error:" in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr
    return proc.stderr


# ------------------------------------------------------------------ numerics


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (5, 7, 3), (17, 33, 9)])
def test_matmul_dynamic_shapes(attn_run, rng, m, k, n):
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    (out,) = run(MATMUL, {"a": a, "b": b})
    assert out.dtype == np.float32 and out.shape == (m, n)
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)


def test_inputs_by_position(attn_run, rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4, 2)).astype(np.float32)
    (out,) = run(MATMUL, [a, b])
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)


def test_f16_in_and_out(attn_run, rng):
    x = rng.standard_normal((4, 3)).astype(np.float16)
    y = rng.standard_normal((4, 3)).astype(np.float16)
    (out,) = run(AXPY.replace("T", "f16"), {"x": x, "y": y})
    assert out.dtype == np.float16
    expected = (x.astype(np.float32) + 2 * y.astype(np.float32)).astype(np.float16)
    np.testing.assert_array_equal(out, expected)


def test_bf16_in_and_out(attn_run, rng):
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = rng.standard_normal((5, 3)).astype(np.float32)
    xb, yb = from_bf16_bits(to_bf16_bits(x)), from_bf16_bits(to_bf16_bits(y))
    expected = from_bf16_bits(to_bf16_bits(xb + 2 * yb))
    # float32 input (rounded by attn-run) and raw uint16 bits give the same result.
    (out_f32,) = run(AXPY.replace("T", "bf16"), {"x": x, "y": y})
    (out_bits,) = run(AXPY.replace("T", "bf16"), {"x": to_bf16_bits(x), "y": to_bf16_bits(y)})
    assert out_f32.dtype == np.float32
    np.testing.assert_array_equal(out_f32, expected)
    np.testing.assert_array_equal(out_bits, expected)


def test_to_bf16_bits_rounds_to_nearest_even():
    values = np.array([1.0, 1.0 + 2.0**-8, 1.0 + 3 * 2.0**-8, -2.5, np.inf], np.float32)
    np.testing.assert_array_equal(from_bf16_bits(to_bf16_bits(values)),
                                  [1.0, 1.0, 1.0 + 2.0**-6, -2.5, np.inf])
    assert np.isnan(from_bf16_bits(to_bf16_bits(np.float32(np.nan))))


def test_nan_and_inf_pass_through_add(attn_run):
    x = np.array([np.nan, np.inf, -np.inf, 1.0, np.inf, 0.0], np.float32)
    y = np.array([1.0, 1.0, 1.0, np.nan, -np.inf, -0.0], np.float32)
    (out,) = run(ADD, {"x": x, "y": y})
    with np.errstate(invalid="ignore"):
        expected = x + y
    np.testing.assert_array_equal(out, expected)  # NaN == NaN here


def test_mixed_results_i1_i32_rank0(attn_run, rng):
    c = rng.random(9) < 0.5
    x = rng.standard_normal(9).astype(np.float32)
    s = np.array(7.5, np.float32)
    i = np.arange(9, dtype=np.int32) * 3 - 5
    out, iout = run(MIXED, {"c": c, "x": x, "s": s, "i": i})
    np.testing.assert_array_equal(out, np.where(c, x, s))
    assert iout.dtype == np.int32
    np.testing.assert_array_equal(iout, i)


def test_sdpa_matches_numpy(attn_run, rng):
    q = rng.standard_normal((1, 2, 5, 8)).astype(np.float32)
    k = rng.standard_normal((1, 2, 6, 8)).astype(np.float32)
    v = rng.standard_normal((1, 2, 6, 8)).astype(np.float32)
    (out,) = run(SDPA, {"q": q, "k": k, "v": v})
    s = np.einsum("bhid,bhjd->bhij", q.astype(np.float64), k) / np.sqrt(8)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(out, p @ v, rtol=1e-5, atol=1e-6)


def test_random_inputs_are_dumped_and_reproducible(attn_run, tmp_path):
    proc = call(attn_run, MATMUL, tmp_path, "--random-inputs", "--seed=7", "--dim=6",
                f"--dump-inputs={tmp_path / 'in'}", f"--output={tmp_path / 'out'}")
    assert proc.returncode == 0, proc.stderr
    a, b = np.load(tmp_path / "in" / "a.npy"), np.load(tmp_path / "in" / "b.npy")
    assert a.shape == (6, 6) and b.shape == (6, 6) and not np.array_equal(a, b)
    assert abs(a.mean()) < 1.0 and 0.3 < a.std() < 2.0
    out = np.load(tmp_path / "out" / "result0.npy")
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    again = call(attn_run, MATMUL, tmp_path, "--random-inputs", "--seed=7", "--dim=6",
                 f"--dump-inputs={tmp_path / 'in2'}")
    assert again.returncode == 0
    np.testing.assert_array_equal(np.load(tmp_path / "in2" / "a.npy"), a)


def test_check_and_bench_report(attn_run, tmp_path):
    proc = call(attn_run, SDPA, tmp_path, "--random-inputs", "--dim=5", "--check", "--bench=3")
    assert proc.returncode == 0, proc.stderr
    assert "check result0 (f32)" in proc.stdout and ": ok" in proc.stdout
    assert "median" in proc.stdout and "GFLOP/s" in proc.stdout


def test_output_single_file(attn_run, tmp_path, rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    proc = call(attn_run, STATIC, tmp_path, f"--input=x={tmp_path / 'x.npy'}",
                f"--output={tmp_path / 'r.npy'}")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "r.npy"), x + x)


# ------------------------------------------------------------------ error paths

F32_2x3 = np.zeros((2, 3), np.float32).tobytes()


def test_error_bad_magic(attn_run, tmp_path):
    expect_error(attn_run, tmp_path, STATIC, {"x": b"NOTNUMPY" + F32_2x3}, "bad magic", "x.npy")


def test_error_truncated_header(attn_run, tmp_path):
    good = npy_bytes("<f4", (2, 3), F32_2x3)
    expect_error(attn_run, tmp_path, STATIC, {"x": good[:40]}, "truncated .npy header")
    expect_error(attn_run, tmp_path, STATIC, {"x": good[:8]}, "truncated .npy header")


def test_error_truncated_data(attn_run, tmp_path):
    bad = npy_bytes("<f4", (2, 3), F32_2x3[:-4])
    expect_error(attn_run, tmp_path, STATIC, {"x": bad}, "truncated data")


def test_error_fortran_order(attn_run, tmp_path):
    bad = npy_bytes("<f4", (2, 3), F32_2x3, fortran=True)
    expect_error(attn_run, tmp_path, STATIC, {"x": bad}, "Fortran")


def test_error_unsupported_dtype(attn_run, tmp_path):
    bad = npy_bytes("<c8", (2, 3), np.zeros((2, 3), np.complex64).tobytes())
    expect_error(attn_run, tmp_path, STATIC, {"x": bad}, "unsupported dtype '<c8'")


def test_error_big_endian(attn_run, tmp_path):
    bad = npy_bytes(">f4", (2, 3), F32_2x3)
    expect_error(attn_run, tmp_path, STATIC, {"x": bad}, "unsupported dtype '>f4'")


def test_error_malformed_header(attn_run, tmp_path):
    bad = npy_bytes("<f4", (2, 3), F32_2x3).replace(b"'shape': (2, 3)", b"'shape': [2, 3]")
    expect_error(attn_run, tmp_path, STATIC, {"x": bad}, "bad .npy header")


def test_version_2_header_is_read(attn_run, tmp_path):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    (tmp_path / "x.npy").write_bytes(npy_bytes("<f4", (2, 3), x.tobytes(), version=2))
    proc = call(attn_run, STATIC, tmp_path, f"--input=x={tmp_path / 'x.npy'}",
                f"--output={tmp_path / 'r.npy'}")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "r.npy"), 2 * x)


def test_error_wrong_rank(attn_run, tmp_path):
    expect_error(attn_run, tmp_path, STATIC, {"x": np.zeros((2, 3, 1), np.float32)},
                 "rank 3", "tensor<2x3xf32>")


def test_error_wrong_static_dim(attn_run, tmp_path):
    expect_error(attn_run, tmp_path, STATIC, {"x": np.zeros((2, 4), np.float32)},
                 "dimension 1 of the array is 4", "expects 3")


def test_error_wrong_dtype(attn_run, tmp_path):
    expect_error(attn_run, tmp_path, STATIC, {"x": np.zeros((2, 3), np.float64)},
                 "<f8", "f32")
    expect_error(attn_run, tmp_path, STATIC, {"x": np.zeros((2, 3), np.int32)}, "<i4")


def test_error_f64_to_bf16_rejected(attn_run, tmp_path):
    expect_error(attn_run, tmp_path, AXPY.replace("T", "bf16"),
                 {"x": np.zeros((2, 3)), "y": np.zeros((2, 3), np.float32)},
                 "<f8", "bf16")


def test_error_missing_file(attn_run, tmp_path):
    proc = call(attn_run, STATIC, tmp_path, f"--input=x={tmp_path / 'nope.npy'}")
    assert proc.returncode == 1 and "nope.npy" in proc.stderr and "cannot read" in proc.stderr


def test_error_unknown_input_name(attn_run, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 3), np.float32))
    proc = call(attn_run, STATIC, tmp_path, f"--input=zz={tmp_path / 'x.npy'}")
    assert proc.returncode == 1 and "'zz'" in proc.stderr and "arguments: x" in proc.stderr


def test_error_missing_input(attn_run, tmp_path):
    proc = call(attn_run, MATMUL, tmp_path, f"--input=a={tmp_path / 'a.npy'}")
    assert proc.returncode == 1
    np.save(tmp_path / "a.npy", np.zeros((2, 3), np.float32))
    proc = call(attn_run, MATMUL, tmp_path, f"--input=a={tmp_path / 'a.npy'}")
    assert proc.returncode == 1 and "no input for argument 'b'" in proc.stderr


def test_error_unknown_entry(attn_run, tmp_path):
    proc = call(attn_run, STATIC, tmp_path, "--entry=nope", "--random-inputs")
    assert proc.returncode == 1 and "no function @nope" in proc.stderr and "@main" in proc.stderr


def test_error_unparsable_ir(attn_run, tmp_path):
    proc = call(attn_run, "func.func @main(", tmp_path)
    assert proc.returncode == 1 and "error:" in proc.stderr


def test_error_matmul_inner_dim_mismatch(attn_run, tmp_path):
    expect_error(attn_run, tmp_path, MATMUL,
                 {"a": np.zeros((2, 3), np.float32), "b": np.zeros((4, 5), np.float32)},
                 "linalg.matmul", "the input shapes do not fit @main")


def test_error_sdpa_nk_mismatch(attn_run, tmp_path):
    err = expect_error(attn_run, tmp_path, SDPA,
                       {"q": np.zeros((1, 2, 5, 8), np.float32),
                        "k": np.zeros((1, 2, 6, 8), np.float32),
                        "v": np.zeros((1, 2, 7, 8), np.float32)},
                       "Nk", "the input shapes do not fit @main")
    assert "f.mlir:" in err  # The diagnostic points into the source.


def test_run_raises_attn_run_error(attn_run):
    with pytest.raises(AttnRunError) as info:
        run(STATIC, {"x": np.zeros((3, 3), np.float32)})
    assert info.value.returncode == 1 and "expects 3" not in info.value.stderr
    assert "dimension 0 of the array is 3" in info.value.stderr


# ------------------------------------------------------------------ binding, help, run-time checks

# Arguments named %1 and %0, in that order.
SWAPPED = """
func.func @main(%1: tensor<?xf32>, %0: tensor<?xf32>) -> tensor<?xf32> {
  %r = linalg.sub ins(%1, %0 : tensor<?xf32>, tensor<?xf32>) outs(%1 : tensor<?xf32>) -> tensor<?xf32>
  return %r : tensor<?xf32>
}
"""


def test_numeric_ssa_names_bind_by_name(attn_run):
    """--input=0=... is the argument %0 (position 1 here); a list binds by position (#N)."""
    a = np.array([10.0, 20.0], np.float32)
    b = np.array([1.0, 2.0], np.float32)
    (by_name,) = run(SWAPPED, {"0": a, "1": b})
    np.testing.assert_array_equal(by_name, b - a)
    (by_position,) = run(SWAPPED, [a, b])
    np.testing.assert_array_equal(by_position, a - b)


def test_error_number_that_names_no_argument(attn_run, tmp_path):
    """A bare number is a name, never a position: for @main(%a, %b) it names nothing."""
    expect_error(attn_run, tmp_path, MATMUL, {"0": np.zeros((2, 2), np.float32)},
                 "has no argument %0", "#N")


def test_help_lists_only_attn_run_options(attn_run):
    help_text = subprocess.run([attn_run, "--help"], capture_output=True, text=True).stdout
    assert "--input=" in help_text and "--random-inputs" in help_text
    assert "--aarch64-use-aa" not in help_text
    assert len(help_text.splitlines()) < 40, help_text
    hidden = subprocess.run([attn_run, "--help-hidden"], capture_output=True, text=True).stdout
    assert "--aarch64-use-aa" in hidden and "--input=" in hidden


ASSERTING = """
func.func @main(%a: tensor<?xf32>, %b: tensor<?xf32>) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %a, %c0 : tensor<?xf32>
  %m = tensor.dim %b, %c0 : tensor<?xf32>
  %eq = arith.cmpi eq, %n, %m : index
  cf.assert %eq, "lengths of a and b differ"
  return %a : tensor<?xf32>
}
"""


def test_failed_runtime_check_exits_3_with_its_message(attn_run):
    with pytest.raises(AttnRunError) as info:
        run(ASSERTING, {"a": np.zeros(2, np.float32), "b": np.zeros(3, np.float32)})
    assert info.value.returncode == 3
    assert ("attn-run: error: a run-time check of the compiled code failed: lengths of a and b "
            "differ") in info.value.stderr
    assert "PLEASE" not in info.value.stderr and "Stack dump" not in info.value.stderr


def test_dynamic_mask_dim_of_1_does_not_broadcast(attn_run):
    """mask tensor<?x?xi1> given as [1, Nk] with Nq = 5: a clear error (it aborted)."""
    from attn_mlir.builder import sdpa_func
    ir = sdpa_func(([1, 1, 5, 4], "f32"), ([1, 1, 6, 4], "f32"), ([1, 1, 6, 4], "f32"),
                   mask=([None, None], "i1"))
    q = np.zeros((1, 1, 5, 4), np.float32)
    k = np.zeros((1, 1, 6, 4), np.float32)
    with pytest.raises(AttnRunError) as info:
        run(ir, {"q": q, "k": k, "v": k, "o": q, "mask": np.ones((1, 6), bool)})
    assert info.value.returncode == 1
    assert "expects mask dim 0 (1 at run time) to match Nq (5)" in info.value.stderr
