"""Hostile inputs to attn-run (issue 4, line 4): NaN and Inf, scores up to |1e4|, corrupt .npy
files, shapes whose dynamic dims do not fit each other, and sizes beyond 32-bit indexing.

Each case has an expected error (exit 1 and an ``error:`` line, never a crash, an abort or a
hang) or a documented numeric result (docs/Semantics.md §1, compared with attn_mlir.reference).
The .npy error paths already covered by test_attn_run.py (bad magic, truncated header and
data, Fortran order, unsupported and big-endian dtypes, wrong rank / static dim / dtype,
Nk of k and v, the matmul inner dim) are not repeated here.

The sizes-beyond-2^31 tests need about 9 GiB of memory and a few minutes: they run only with
ATTN_BIG_TESTS=1 (see docs/Reliability.md).
"""

import os
import signal
import struct
import subprocess

import numpy as np
import pytest

from helpers import input_flags

from attn_mlir import reference as ref
from attn_mlir.builder import sdpa_func
from attn_mlir.patterns import Causal
from attn_mlir.run import AttnRunError, attn_run_path, run

# A hang is a failure: every attn-run call of this file gets this many seconds.
TIMEOUT = 300


@pytest.fixture(scope="module")
def attn_run():
    """The attn-run binary; its absence is a failure, never a skip."""
    path = attn_run_path()
    assert os.access(path, os.X_OK), f"attn-run is not built at {path} (set ATTN_RUN)"
    return path


def call(attn_run, tmp_path, mlir_text, inputs, *args):
    """Writes `inputs` ({name: array or raw bytes}) and runs attn-run; returns the process."""
    source = tmp_path / "f.mlir"
    source.write_text(mlir_text)
    flags = input_flags(tmp_path, inputs, prefix="in-")
    return subprocess.run([attn_run, str(source), *flags, f"--output={tmp_path / 'out'}",
                           *args], capture_output=True, text=True, timeout=TIMEOUT)


def expect_clean_error(proc, *needles):
    """Exit 1 with `attn-run: error:` (or an MLIR diagnostic) naming every needle; not a
    signal (abort, segfault), not a sanitizer report."""
    assert proc.returncode >= 0, (
        f"attn-run died of signal {signal.Signals(-proc.returncode).name}:\n{proc.stderr}")
    assert proc.returncode == 1, f"exit {proc.returncode}:\n{proc.stderr}"
    assert "error:" in proc.stderr, proc.stderr
    assert "Sanitizer" not in proc.stderr and "Assertion" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def npy_header(descr, shape, version=1, extra=""):
    """The header of a .npy file with a hand-written shape (which may lie)."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, %s}" % (
        descr, shape if isinstance(shape, str) else repr(tuple(shape)), extra)
    prefix = 10 if version == 1 else 12
    header += " " * ((64 - (prefix + len(header) + 1) % 64) % 64) + "\n"
    size = struct.pack("<H" if version == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header.encode("latin1")


ADD = """
func.func @main(%x: tensor<?xf32>, %y: tensor<?xf32>) -> tensor<?xf32> {
  %r = linalg.add ins(%x, %y : tensor<?xf32>, tensor<?xf32>) outs(%x : tensor<?xf32>) -> tensor<?xf32>
  return %r : tensor<?xf32>
}
"""

ADD2D = """
func.func @main(%x: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.add ins(%x, %x : tensor<?x?xf32>, tensor<?x?xf32>) outs(%x : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
"""


def sdpa_ir(B, H, Hkv, Nq, Nk, D, Dv, dtype="f32", dynamic=True, **kwargs):
    n_q = None if dynamic else Nq
    n_k = None if dynamic else Nk
    return sdpa_func(([B, H, n_q, D], dtype), ([B, Hkv, n_k, D], dtype),
                     ([B, Hkv, n_k, Dv], dtype), **kwargs)


def qkv(rng, B, H, Hkv, Nq, Nk, D, Dv, dtype=np.float32):
    return (rng.standard_normal((B, H, Nq, D)).astype(dtype),
            rng.standard_normal((B, Hkv, Nk, D)).astype(dtype),
            rng.standard_normal((B, Hkv, Nk, Dv)).astype(dtype))


def run_sdpa(ir, q, k, v):
    out = np.zeros((q.shape[0], q.shape[1], q.shape[2], v.shape[3]), v.dtype)
    (result,) = run(ir, {"q": q, "k": k, "v": v, "o": out})
    return result


def assert_same_nan_and_close(out, expected, rtol=1e-5, atol=1e-5):
    """NaN exactly where the reference has NaN, and close elsewhere."""
    out = np.asarray(out, np.float64)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=atol, equal_nan=True)


# ----------------------------------------------------------------- NaN and Inf (docs/Semantics.md §1)

@pytest.mark.parametrize("where", ["q", "k", "v"])
def test_nan_reaches_only_live_rows_causal(attn_run, where):
    """A NaN in q_i reaches row i; in k_j or v_j only the rows i >= j of a causal pattern."""
    rng = np.random.default_rng(11)
    q, k, v = qkv(rng, 1, 2, 2, 7, 7, 8, 4)
    {"q": q, "k": k, "v": v}[where][0, 1, 3, 2 if where != "v" else 1] = np.nan
    ir = sdpa_ir(1, 2, 2, 7, 7, 8, 4, pattern=Causal())
    out = run_sdpa(ir, q, k, v)
    expected = ref.sdpa(q, k, v, pattern=Causal())
    assert_same_nan_and_close(out, expected)
    rows_with_nan = np.isnan(out[0, 1]).any(axis=-1)
    if where == "q":
        assert rows_with_nan.tolist() == [i == 3 for i in range(7)]
    else:
        assert rows_with_nan.tolist() == [i >= 3 for i in range(7)]
    assert not np.isnan(out[0, 0]).any()  # the other head


def test_nan_in_masked_out_key_does_not_reach(attn_run):
    """A NaN in a key that the mask turns off never enters any row (masking selects)."""
    rng = np.random.default_rng(12)
    q, k, v = qkv(rng, 1, 1, 1, 4, 6, 4, 4)
    k[0, 0, 5, :] = np.nan
    v[0, 0, 5, :] = np.nan
    mask = np.ones((4, 6), bool)
    mask[:, 5] = False
    ir = sdpa_func(([1, 1, None, 4], "f32"), ([1, 1, None, 4], "f32"), ([1, 1, None, 4], "f32"),
                   mask=([None, None], "i1"))
    (out,) = run(ir, {"q": q, "k": k, "v": v, "o": np.zeros_like(q), "mask": mask})
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, ref.sdpa(q, k, v, mask=mask), rtol=1e-5, atol=1e-6)


def test_nan_in_gqa_kv_head_reaches_its_query_group_only(attn_run):
    """H = 8 x Hkv: a NaN in KV head 1 reaches query heads 8..15 only."""
    rng = np.random.default_rng(13)
    q, k, v = qkv(rng, 1, 16, 2, 3, 5, 4, 4)
    v[0, 1, 2, 0] = np.nan
    out = run_sdpa(sdpa_ir(1, 16, 2, 3, 5, 4, 4), q, k, v)
    expected = ref.sdpa(q, k, v)
    assert_same_nan_and_close(out, expected)
    assert np.isnan(out[0, 8:]).any(axis=(1, 2)).all()
    assert not np.isnan(out[0, :8]).any()


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_inf_key_matches_reference(attn_run, value):
    """An infinite key entry makes the scores of its column +-inf: rows where it scores +inf
    and another +inf or NaN meets it become NaN like the float64 reference; -inf scores drop
    out (weight 0). The result matches the reference NaN for NaN."""
    rng = np.random.default_rng(14)
    q, k, v = qkv(rng, 1, 1, 1, 5, 5, 4, 4)
    k[0, 0, 2, 1] = value
    with np.errstate(invalid="ignore", over="ignore"):
        expected = ref.sdpa(q, k, v)
    out = run_sdpa(sdpa_ir(1, 1, 1, 5, 5, 4, 4), q, k, v)
    assert_same_nan_and_close(out, expected)


def test_all_scores_minus_inf_give_zero_not_nan(attn_run):
    """A bias of -inf everywhere: every live score is -inf, so o = 0 and lse = -inf
    (docs/Semantics.md §1), never NaN."""
    rng = np.random.default_rng(15)
    q, k, v = qkv(rng, 1, 2, 2, 3, 4, 4, 4)
    bias = np.full((3, 4), -np.inf, np.float32)
    ir = sdpa_func(([1, 2, None, 4], "f32"), ([1, 2, None, 4], "f32"), ([1, 2, None, 4], "f32"),
                   bias=([None, None], "f32"), lse=True)
    out, lse = run(ir, {"q": q, "k": k, "v": v, "o": np.zeros_like(q), "bias": bias})
    np.testing.assert_array_equal(out, np.zeros_like(out))
    assert np.isneginf(lse).all(), lse


@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
def test_huge_scores_do_not_overflow(attn_run, dtype):
    """Scores up to |1e4| (exp would overflow f32 and f64 without the max subtraction): the
    result is finite and matches the float64 reference within the dtype's bound (docs/Semantics.md §10)."""
    rng = np.random.default_rng(16)
    B, H, N, D = 1, 2, 9, 4
    # q . k / sqrt(D) spans about [-1e4, 1e4] with distinct maxima per row.
    q = rng.uniform(-1, 1, (B, H, N, D)) * 100
    k = rng.uniform(-1, 1, (B, H, N, D)) * 100
    v = rng.standard_normal((B, H, N, D))
    scores = np.einsum("bhid,bhjd->bhij", q, k) / 2
    assert 5e3 < np.abs(scores).max() <= 1e4
    np_type = {"f32": np.float32, "f16": np.float16, "bf16": np.float32}[dtype]
    q, k, v = (x.astype(np_type) for x in (q, k, v))
    if dtype == "bf16":  # what attn-run will see: inputs rounded to bf16
        from attn_mlir.run import from_bf16_bits, to_bf16_bits
        q, k, v = (from_bf16_bits(to_bf16_bits(x)) for x in (q, k, v))
    out = run_sdpa(sdpa_ir(B, H, H, N, N, D, D, dtype=dtype), q, k, v)
    assert np.isfinite(out).all()
    expected = ref.sdpa(q, k, v)
    bound = {"f32": ref.TOLERANCE["f32_reference"], "f16": ref.TOLERANCE["f16"],
             "bf16": ref.TOLERANCE["bf16"]}[dtype]
    assert ref.rel_error(out, expected) <= bound


def test_huge_bias_does_not_overflow(attn_run):
    """A bias of +-1e4 on top of the scores, with near-ties at 1e4 in every row: finite, and
    the float64 reference within the conditioning of f32 scores. s + 1e4 is rounded to f32
    (docs/Semantics.md §1: scores are f32), an absolute error up to 2^-24 * 1e4 ~ 6e-4 in the exponent,
    so the bound is 8 * 2^-24 * 1e4 (5e-3), not the 1e-5 of well-scaled inputs; an overflow
    gives inf or NaN, a missed max subtraction 0/0."""
    rng = np.random.default_rng(17)
    q, k, v = qkv(rng, 1, 1, 1, 6, 6, 4, 4)
    bias = rng.choice([-1e4, 1e4, 9.9e3], (6, 6)).astype(np.float32)
    ir = sdpa_func(([1, 1, None, 4], "f32"), ([1, 1, None, 4], "f32"), ([1, 1, None, 4], "f32"),
                   bias=([None, None], "f32"))
    (out,) = run(ir, {"q": q, "k": k, "v": v, "o": np.zeros_like(q), "bias": bias})
    assert np.isfinite(out).all()
    assert ref.rel_error(out, ref.sdpa(q, k, v, bias=bias)) <= 8 * 2.0**-24 * 1e4


# ----------------------------------------------------------------- corrupt .npy files

CORRUPT = {
    "empty file": b"",
    "magic only": b"\x93NUMPY",
    "header length past the end": b"\x93NUMPY\x01\x00" + struct.pack("<H", 4000) + b"{'descr'",
    "unknown version": npy_header("<f4", (2,)).replace(b"\x01\x00", b"\x09\x00", 1)
    + b"\0" * 8,
    "negative dim": npy_header("<f4", "(-2,)") + b"\0" * 8,
    "non-integer dim": npy_header("<f4", "(2.5,)") + b"\0" * 8,
    "shape not a tuple": npy_header("<f4", "'abc'") + b"\0" * 8,
    "element count overflows 64 bits": npy_header("<f4", (2**40, 2**40)) + b"\0" * 8,
    "byte count overflows 64 bits": npy_header("<f4", (2**62,)) + b"\0" * 8,
    "huge dim, tiny file": npy_header("<f4", (2**35,)) + b"\0" * 8,
    "missing descr": b"\x93NUMPY\x01\x00" + struct.pack("<H", 54)
    + b"{'fortran_order': False, 'shape': (2,), }".ljust(53) + b"\n" + b"\0" * 8,
    "unclosed header dict": b"\x93NUMPY\x01\x00" + struct.pack("<H", 54)
    + b"{'descr': '<f4', 'fortran_order': False, 'shape': (2,".ljust(53) + b"\n" + b"\0" * 8,
    "data one byte short": npy_header("<f4", (3,)) + b"\0" * 11,
    "trailing bytes": npy_header("<f4", (2,)) + b"\0" * 9,
    # A key twice: 'shape' twice used to be read as the two shapes joined, (1, 2).
    "shape twice": npy_header("<f4", (1,), extra="'shape': (2,), ") + b"\0" * 8,
    "descr twice": npy_header("<f4", (2,), extra="'descr': '<f8', ") + b"\0" * 8,
    "text after the dict": b"\x93NUMPY\x01\x00" + struct.pack("<H", 54)
    + b"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x".ljust(53) + b"\n"
    + b"\0" * 8,
}


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_corrupt_npy_is_a_clean_error(attn_run, tmp_path, name):
    proc = call(attn_run, tmp_path, ADD, {"x": CORRUPT[name], "y": np.zeros(2, np.float32)})
    expect_clean_error(proc, "in-x.npy")


@pytest.mark.parametrize("key", ["shape", "descr", "fortran_order"])
def test_npy_key_twice_names_the_key(attn_run, tmp_path, key):
    extra = {"shape": "'shape': (2,), ", "descr": "'descr': '<f4', ",
             "fortran_order": "'fortran_order': False, "}[key]
    data = npy_header("<f4", (2,), extra=extra) + b"\0" * 8
    proc = call(attn_run, tmp_path, ADD, {"x": data, "y": np.zeros(2, np.float32)})
    expect_clean_error(proc, f"the key '{key}' appears twice")


def test_dev_zero_as_npy_is_a_clean_error(attn_run, tmp_path):
    """/dev/zero never ends: it is rejected after its first bytes (it used to be read until
    memory ran out)."""
    source = tmp_path / "f.mlir"
    source.write_text(ADD)
    proc = subprocess.run([attn_run, str(source), "--input=x=/dev/zero", "--random-inputs"],
                          capture_output=True, text=True, timeout=60)
    expect_clean_error(proc, "/dev/zero", "bad magic")


def endless_npy(header):
    """A pipe that delivers `header`, then zeros until the reader closes it."""
    read_end, write_end = os.pipe()

    def feed():
        with os.fdopen(write_end, "wb") as pipe:
            try:
                pipe.write(header)
                while True:
                    pipe.write(b"\0" * 65536)
            except (BrokenPipeError, OSError):
                pass

    import threading
    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return read_end


def test_endless_pipe_is_a_clean_error(attn_run, tmp_path):
    """A pipe with a valid header and data that never ends: the data the header describes is
    read, then the extra bytes are an error (not a read until memory runs out)."""
    source = tmp_path / "f.mlir"
    source.write_text(ADD)
    read_end = endless_npy(npy_header("<f4", (2,)))
    proc = subprocess.run([attn_run, str(source), "--input=x=/dev/stdin", "--random-inputs"],
                          stdin=read_end, capture_output=True, text=True, timeout=60)
    os.close(read_end)
    expect_clean_error(proc, "unexpected bytes after the 8 bytes of data")


def test_npy_from_a_pipe(attn_run, tmp_path):
    """An .npy that arrives through a pipe (its size unknown beforehand) is read."""
    source = tmp_path / "f.mlir"
    source.write_text(ADD)
    x = np.array([1.5, -2.0], np.float32)
    np.save(tmp_path / "x.npy", x)
    with open(tmp_path / "x.npy", "rb") as f:
        data = f.read()
    proc = subprocess.run(
        [attn_run, str(source), "--input=x=/dev/stdin", f"--input=y={tmp_path / 'x.npy'}",
         f"--output={tmp_path / 'r.npy'}"],
        input=data, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "r.npy"), 2 * x)


def test_npy_header_over_64_kib_is_format_2(attn_run, tmp_path):
    """A rank-3700 array (its header is over 65,535 bytes) is written in format 2.0 (it used to
    be 1.0 with a wrapped header length) and read back."""
    rank = 3700
    tensor = "tensor<0x" + "x".join(["?"] * (rank - 1)) + "xi8>"
    source = tmp_path / "f.mlir"
    source.write_text(f"func.func @main(%x: {tensor}) -> {tensor} {{\n"
                      f"  return %x : {tensor}\n}}\n")
    dim = 10**15
    proc = subprocess.run([attn_run, str(source), "--random-inputs", f"--dim={dim}",
                           f"--dump-inputs={tmp_path / 'in'}", "--print-specialized"],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    data = (tmp_path / "in" / "x.npy").read_bytes()
    assert data[:8] == b"\x93NUMPY\x02\x00"
    (length,) = struct.unpack("<I", data[8:12])
    assert len(data) == 12 + length and length > 65535 and len(data) % 64 == 0
    import ast
    header = ast.literal_eval(data[12:].decode("latin1"))
    assert header["descr"] == "|i1" and header["shape"] == (0,) + (dim,) * (rank - 1)
    again = subprocess.run([attn_run, str(source), f"--input=x={tmp_path / 'in' / 'x.npy'}",
                            "--print-specialized"], capture_output=True, text=True,
                           timeout=TIMEOUT)
    assert again.returncode == 0, again.stderr
    assert f"tensor<0x{dim}x" in again.stdout


def test_npy_rank_2_header_for_rank_1_argument(attn_run, tmp_path):
    data = npy_header("<f4", (2, 3)) + b"\0" * 24
    proc = call(attn_run, tmp_path, ADD, {"x": data, "y": np.zeros(2, np.float32)})
    expect_clean_error(proc)


def test_directory_as_npy_is_a_clean_error(attn_run, tmp_path):
    (tmp_path / "dir.npy").mkdir()
    source = tmp_path / "f.mlir"
    source.write_text(ADD)
    proc = subprocess.run([attn_run, str(source), f"--input=x={tmp_path / 'dir.npy'}",
                           f"--input=y={tmp_path / 'dir.npy'}"], capture_output=True,
                          text=True, timeout=TIMEOUT)
    expect_clean_error(proc)


@pytest.mark.parametrize("dtype", [np.int32, np.float16, np.float64, np.bool_, np.complex64,
                                   np.uint8])
def test_wrong_dtype_for_f32_is_a_clean_error(attn_run, tmp_path, dtype):
    proc = call(attn_run, tmp_path, ADD, {"x": np.zeros(2, dtype), "y": np.zeros(2, np.float32)})
    expect_clean_error(proc)


def test_object_array_npy_is_a_clean_error(attn_run, tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    proc = call(attn_run, tmp_path, ADD, {"x": path.read_bytes(), "y": np.zeros(2, np.float32)})
    expect_clean_error(proc)


# ----------------------------------------------------------------- dynamic-dim relations

def test_add_length_mismatch_is_a_clean_error(attn_run, tmp_path):
    proc = call(attn_run, tmp_path, ADD, {"x": np.zeros(3, np.float32),
                                          "y": np.zeros(4, np.float32)})
    expect_clean_error(proc, "the input shapes do not fit @main")


def test_sdpa_d_static_mismatch_is_a_clean_error(attn_run, tmp_path):
    rng = np.random.default_rng(20)
    q, k, v = qkv(rng, 1, 2, 2, 3, 3, 8, 8)
    proc = call(attn_run, tmp_path, sdpa_ir(1, 2, 2, 3, 3, 8, 8),
                {"q": q, "k": k[..., :4], "v": v, "o": np.zeros_like(q)})
    expect_clean_error(proc)


def test_sdpa_heads_not_a_multiple_of_kv_heads(attn_run, tmp_path):
    """H % Hkv != 0 with both dynamic."""
    ir = sdpa_func(([1, None, None, 4], "f32"), ([1, None, None, 4], "f32"),
                   ([1, None, None, 4], "f32"))
    rng = np.random.default_rng(21)
    q, k, v = qkv(rng, 1, 6, 4, 3, 3, 4, 4)
    proc = call(attn_run, tmp_path, ir, {"q": q, "k": k, "v": v, "o": np.zeros_like(q)})
    expect_clean_error(proc, "the input shapes do not fit @main")


def test_sdpa_outs_shape_mismatch(attn_run, tmp_path):
    rng = np.random.default_rng(22)
    q, k, v = qkv(rng, 1, 2, 2, 3, 5, 4, 4)
    proc = call(attn_run, tmp_path, sdpa_ir(1, 2, 2, 3, 5, 4, 4),
                {"q": q, "k": k, "v": v, "o": np.zeros((1, 2, 4, 4), np.float32)})
    expect_clean_error(proc, "the input shapes do not fit @main")


def test_sdpa_mask_shape_mismatch(attn_run, tmp_path):
    """A [Nq, Nk] mask whose Nk is not the keys'."""
    ir = sdpa_func(([1, 1, None, 4], "f32"), ([1, 1, None, 4], "f32"), ([1, 1, None, 4], "f32"),
                   mask=([None, None], "i1"))
    rng = np.random.default_rng(23)
    q, k, v = qkv(rng, 1, 1, 1, 3, 5, 4, 4)
    proc = call(attn_run, tmp_path, ir, {"q": q, "k": k, "v": v, "o": np.zeros_like(q),
                                         "mask": np.ones((3, 4), bool)})
    expect_clean_error(proc, "the input shapes do not fit @main")


LSH_DYNAMIC = """
func.func @main(%qk: tensor<1x1x?x4xf32>, %v: tensor<1x1x?x4xf32>, %rot: tensor<1x1x4x2xf32>,
                %o: tensor<1x1x?x4xf32>) -> tensor<1x1x?x4xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x1x?x4xf32>, tensor<1x1x?x4xf32>, tensor<1x1x4x2xf32>)
         outs(%o : tensor<1x1x?x4xf32>) {num_buckets = 4, chunk_size = 4} -> tensor<1x1x?x4xf32>
  return %r : tensor<1x1x?x4xf32>
}
"""


def test_lsh_n_not_a_multiple_of_chunk_size(attn_run, tmp_path):
    """N = 6 with chunk_size = 4 (N dynamic in the IR): an error naming chunk_size, not an
    abort through cf.assert."""
    rng = np.random.default_rng(24)
    x = rng.standard_normal((1, 1, 6, 4)).astype(np.float32)
    rot = rng.standard_normal((1, 1, 4, 2)).astype(np.float32)
    proc = call(attn_run, tmp_path, LSH_DYNAMIC, {"qk": x, "v": x, "rot": rot,
                                                  "o": np.zeros_like(x)})
    expect_clean_error(proc, "chunk_size")


CLUSTER_DYNAMIC = """
func.func @main(%q: tensor<1x1x?x4xf32>, %c: tensor<1x2x4xf32>, %o: tensor<1x1x?x4xf32>)
    -> tensor<1x1x?x4xf32> {
  %r = attn.cluster ins(%q, %q, %q, %c : tensor<1x1x?x4xf32>, tensor<1x1x?x4xf32>, tensor<1x1x?x4xf32>, tensor<1x2x4xf32>)
         outs(%o : tensor<1x1x?x4xf32>) {window = 5} -> tensor<1x1x?x4xf32>
  return %r : tensor<1x1x?x4xf32>
}
"""


def test_cluster_window_larger_than_n(attn_run, tmp_path):
    """window = 5 > N = 3 (N dynamic in the IR): a clean error naming the window."""
    rng = np.random.default_rng(25)
    x = rng.standard_normal((1, 1, 3, 4)).astype(np.float32)
    c = rng.standard_normal((1, 2, 4)).astype(np.float32)
    proc = call(attn_run, tmp_path, CLUSTER_DYNAMIC, {"q": x, "c": c, "o": np.zeros_like(x)})
    expect_clean_error(proc, "window")


LOWRANK_DYNAMIC = """
func.func @main(%q: tensor<1x1x?x4xf32>, %k: tensor<1x1x?x4xf32>, %e: tensor<1x2x?xf32>,
                %o: tensor<1x1x?x4xf32>) -> tensor<1x1x?x4xf32> {
  %r = attn.lowrank ins(%q, %k, %k : tensor<1x1x?x4xf32>, tensor<1x1x?x4xf32>, tensor<1x1x?x4xf32>)
         projections(%e : tensor<1x2x?xf32>) outs(%o : tensor<1x1x?x4xf32>) -> tensor<1x1x?x4xf32>
  return %r : tensor<1x1x?x4xf32>
}
"""


def test_lowrank_projection_length_mismatch(attn_run, tmp_path):
    """e [1, r, Nk] with Nk = 4 for keys of length 5."""
    rng = np.random.default_rng(26)
    q = rng.standard_normal((1, 1, 3, 4)).astype(np.float32)
    k = rng.standard_normal((1, 1, 5, 4)).astype(np.float32)
    e = rng.standard_normal((1, 2, 4)).astype(np.float32)
    proc = call(attn_run, tmp_path, LOWRANK_DYNAMIC, {"q": q, "k": k, "e": e,
                                                      "o": np.zeros_like(q)})
    expect_clean_error(proc, "the input shapes do not fit @main")


PKM_DYNAMIC = """
func.func @main(%q: tensor<1x1x?x4xf32>, %s: tensor<?x2x2xf32>, %vals: tensor<?x4xf32>,
                %o: tensor<1x1x?x4xf32>) -> tensor<1x1x?x4xf32> {
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x1x?x4xf32>, tensor<?x2x2xf32>, tensor<?x2x2xf32>, tensor<?x4xf32>)
         outs(%o : tensor<1x1x?x4xf32>) {top_k = 2} -> tensor<1x1x?x4xf32>
  return %r : tensor<1x1x?x4xf32>
}
"""


def test_pkm_values_rows_not_n_squared(attn_run, tmp_path):
    """values with 5 rows where n * n = 4, and subkeys with 3 heads for H = 1."""
    rng = np.random.default_rng(27)
    q = rng.standard_normal((1, 1, 3, 4)).astype(np.float32)
    s = rng.standard_normal((1, 2, 2)).astype(np.float32)
    proc = call(attn_run, tmp_path, PKM_DYNAMIC,
                {"q": q, "s": s, "vals": rng.standard_normal((5, 4)).astype(np.float32),
                 "o": np.zeros_like(q)})
    expect_clean_error(proc, "the input shapes do not fit @main")
    proc = call(attn_run, tmp_path, PKM_DYNAMIC,
                {"q": q, "s": np.concatenate([s] * 3),
                 "vals": rng.standard_normal((4, 4)).astype(np.float32), "o": np.zeros_like(q)})
    expect_clean_error(proc, "the input shapes do not fit @main")


LIGHTCONV_DYNAMIC = """
func.func @main(%x: tensor<?x?x4xf32>, %w: tensor<2x3xf32>, %o: tensor<?x?x?xf32>)
    -> tensor<?x?x?xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<?x?x4xf32>, tensor<2x3xf32>) outs(%o : tensor<?x?x?xf32>)
         -> tensor<?x?x?xf32>
  return %r : tensor<?x?x?xf32>
}
"""


@pytest.mark.parametrize("out_shape", [(1, 5, 4), (1, 6, 4), (1, 5, 3)])
def test_lightconv_outs_shape(attn_run, tmp_path, out_shape):
    """outs [?, ?, ?]: the right shape runs (and matches the reference), a wrong N or C is a
    clean error."""
    rng = np.random.default_rng(28)
    x = rng.standard_normal((1, 5, 4)).astype(np.float32)
    w = rng.standard_normal((2, 3)).astype(np.float32)
    proc = call(attn_run, tmp_path, LIGHTCONV_DYNAMIC,
                {"x": x, "w": w, "o": np.zeros(out_shape, np.float32)})
    if out_shape == x.shape:
        assert proc.returncode == 0, proc.stderr
        out = np.load(tmp_path / "out" / "result0.npy")
        np.testing.assert_allclose(out, ref.lightconv(x, w), rtol=1e-5, atol=1e-6)
    else:
        expect_clean_error(proc, "the input shapes do not fit @main")


KERNELIZED_DYNAMIC_M = """
func.func @main(%q: tensor<?x?x?x4xf32>, %w: tensor<?x?x4xf32>, %o: tensor<?x?x?x4xf32>)
    -> tensor<?x?x?x4xf32> {
  %r = attn.kernelized favor_plus ins(%q, %q, %q : tensor<?x?x?x4xf32>, tensor<?x?x?x4xf32>, tensor<?x?x?x4xf32>)
         projection(%w : tensor<?x?x4xf32>) outs(%o : tensor<?x?x?x4xf32>) {causal} -> tensor<?x?x?x4xf32>
  return %r : tensor<?x?x?x4xf32>
}
"""


def test_kernelized_dynamic_feature_count(attn_run):
    """favor_plus with the number of random features m dynamic (its 1/sqrt(m) computed at run
    time; it used to build invalid IR): the reference result."""
    rng = np.random.default_rng(29)
    q = rng.standard_normal((1, 2, 5, 4)).astype(np.float32)
    w = rng.standard_normal((2, 7, 4)).astype(np.float32)
    (out,) = run(KERNELIZED_DYNAMIC_M, {"q": q, "w": w, "o": np.zeros_like(q)})
    expected = ref.kernelized(q, q, q, "favor_plus", projection=w, causal=True)
    assert ref.rel_error(out, expected) <= ref.TOLERANCE["f32_reference"]


PKM_EMPTY = """
func.func @main(%q: tensor<1x1x0x4xf32>, %s: tensor<1x2x2xf32>, %vals: tensor<4x3xf32>,
                %o: tensor<1x1x0x3xf32>) -> tensor<1x1x0x3xf32> {
  %r = attn.pkm ins(%q, %s, %s, %vals : tensor<1x1x0x4xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>, tensor<4x3xf32>)
         outs(%o : tensor<1x1x0x3xf32>) {top_k = 2} -> tensor<1x1x0x3xf32>
  return %r : tensor<1x1x0x3xf32>
}
"""


def test_pkm_no_queries(attn_run):
    """N = 0 (static): an empty result (the decomposition used to build invalid IR)."""
    rng = np.random.default_rng(30)
    (out,) = run(PKM_EMPTY, {"q": np.zeros((1, 1, 0, 4), np.float32),
                             "s": rng.standard_normal((1, 2, 2)).astype(np.float32),
                             "vals": rng.standard_normal((4, 3)).astype(np.float32),
                             "o": np.zeros((1, 1, 0, 3), np.float32)})
    assert out.shape == (1, 1, 0, 3)


# ----------------------------------------------------------------- memory the code cannot get

def limit_address_space():
    """Caps attn-run's address space at 2 GiB, so that a buffer it cannot have fails at once
    (without the cap the kernel might grant it and kill the process when it is touched)."""
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.skipif("ASAN_OPTIONS" in os.environ,
                    reason="AddressSanitizer needs far more address space than the cap")
@pytest.mark.parametrize("d,dim", [(4, 2_000_000), (0, 1_048_576)])
def test_compiled_code_out_of_memory_is_a_clean_error(attn_run, tmp_path, d, dim):
    """A dense sdpa whose scores [Nq, Nk] do not fit: `attn-run: error: out of memory` with
    exit 1 (it was a SIGSEGV in the first store into the null buffer). D = 0 makes the inputs
    empty while Nq * Nk stays huge."""
    source = tmp_path / "f.mlir"
    source.write_text(sdpa_ir(1, 1, 1, None, None, d, d))
    proc = subprocess.run([attn_run, str(source), "--mode=reference", "--random-inputs",
                           f"--dim={dim}"],
                          capture_output=True, text=True, timeout=TIMEOUT,
                          preexec_fn=limit_address_space)
    expect_clean_error(proc, "out of memory: the compiled code could not allocate")


# ----------------------------------------------------------------- beyond 32-bit indexing

big = pytest.mark.skipif(os.environ.get("ATTN_BIG_TESTS") != "1",
                         reason="needs ~9 GiB and minutes: set ATTN_BIG_TESTS=1")

NOT_I8 = """
#map = affine_map<(d0) -> (d0)>
func.func @main(%x: tensor<?xi8>) -> tensor<?xi8> {
  %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%x : tensor<?xi8>) outs(%x : tensor<?xi8>) {
  ^bb0(%a: i8, %o: i8):
    %c = arith.constant 3 : i8
    %s = arith.addi %a, %c : i8
    linalg.yield %s : i8
  } -> tensor<?xi8>
  return %r : tensor<?xi8>
}
"""


@big
def test_i8_beyond_2_to_the_31_elements(attn_run, tmp_path):
    """2^31 + 17 i8 elements through an elementwise op: every element past index 2^31 is
    computed (index arithmetic is 64-bit)."""
    n = 2**31 + 17
    x = np.zeros(n, np.int8)
    x[-16:] = np.arange(16, dtype=np.int8)   # indices 2^31 + 1 .. 2^31 + 16
    x[2**31 - 1] = 5
    proc = call(attn_run, tmp_path, NOT_I8, {"x": x})
    del x
    assert proc.returncode == 0, proc.stderr
    out = np.load(tmp_path / "out" / "result0.npy", mmap_mode="r")
    assert out.shape == (n,)
    np.testing.assert_array_equal(out[-16:], np.arange(16, dtype=np.int8) + 3)
    assert out[2**31 - 1] == 8 and out[2**31] == 3 and out[0] == 3


@big
def test_f32_2d_beyond_2_to_the_31_elements(attn_run, tmp_path):
    """A [3, 2^29 + 5] f32 array (over 2^30 elements, 6 GiB for in + out) through linalg.add:
    the row stride times the row index passes 2^31 bytes/elements."""
    cols = 2**29 + 5
    x = np.ones((3, cols), np.float32)
    x[2, -1] = 7.0
    proc = call(attn_run, tmp_path, ADD2D, {"x": x})
    del x
    assert proc.returncode == 0, proc.stderr
    out = np.load(tmp_path / "out" / "result0.npy", mmap_mode="r")
    assert out[2, -1] == 14.0 and out[2, -2] == 2.0 and out[0, 0] == 2.0
