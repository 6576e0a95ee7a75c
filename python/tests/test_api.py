"""The Python API (attn_mlir.compile, the builder, traced score_mod, diagnostics, caches) on
the CPU against the float64 reference: every op, numpy arrays. Each spec compiles once per
session into a fresh cache directory (the `cache` fixture)."""

import inspect
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import attn_mlir as am
from attn_mlir import artifact, compiler
from attn_mlir import reference as ref
from api_cache import cache  # noqa: F401 - the module's cache
from helpers import TOL, assert_close
from test_run_cluster import draw as draw_cluster
from test_run_lsh import draw as draw_lsh
from test_run_pkm import make_inputs as draw_pkm


def rand(rng, *shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def qkv_spec(H=2, Hkv=2, D=8, Dv=8, **kwargs):
    """q, k, v Tensors with dynamic batch and lengths."""
    return (am.tensor("q", (None, H, None, D)), am.tensor("k", (None, Hkv, None, D)),
            am.tensor("v", (None, Hkv, None, Dv)))


# ---------------------------------------------------------------------------------- sdpa

def test_sdpa_dense_every_length_one_compile(monkeypatch):
    f = am.compile(am.sdpa(*qkv_spec()))
    # Any further compile would fail: every length below runs the same library.
    monkeypatch.setattr(compiler, "_build", lambda *a: pytest.fail("compiled again"))
    rng = np.random.default_rng(1)
    for B, Nq, Nk in [(1, 1, 1), (2, 7, 13), (1, 64, 33)]:
        q, k, v = rand(rng, B, 2, Nq, 8), rand(rng, B, 2, Nk, 8), rand(rng, B, 2, Nk, 8)
        out = f(q, k, v)
        assert out.shape == (B, 2, Nq, 8) and out.dtype == np.float32
        assert_close(out, ref.sdpa(q, k, v))
    assert am.compile(am.sdpa(*qkv_spec())) is f


def softcap(s, b, h, i, j):
    return 20.0 * am.tanh(s / 20.0)


def test_sdpa_pattern_union_and_softcap_gqa():
    pattern = am.window(3) | am.global_tokens(2)
    f = am.compile(am.sdpa(*qkv_spec(H=4, Hkv=2), pattern=pattern, score_mod=softcap))
    rng = np.random.default_rng(2)
    q, k, v = rand(rng, 2, 4, 19, 8), rand(rng, 2, 2, 19, 8), rand(rng, 2, 2, 19, 8)
    q *= 8  # large scores, so that the cap matters
    out = f(q, k, v)
    expected = ref.sdpa(q, k, v, pattern=pattern, score_mod=softcap)
    assert_close(out, expected)
    assert ref.rel_error(out, ref.sdpa(q, k, v, pattern=pattern)) > 100 * TOL["f32"]


def alibi(H):
    """ALiBi: slope 2^(-8(h+1)/H) times the distance, written in Python."""
    def score_mod(s, b, h, i, j):
        slope = am.exp(-8.0 * np.log(2.0) * (h + 1) / H)
        return s - slope * abs(i - j)
    return score_mod


def test_sdpa_causal_alibi():
    f = am.compile(am.sdpa(*qkv_spec(H=4, Hkv=1), pattern=am.causal(), score_mod=alibi(4)))
    rng = np.random.default_rng(3)
    q, k, v = rand(rng, 1, 4, 21, 8), rand(rng, 1, 1, 21, 8), rand(rng, 1, 1, 21, 8)
    assert_close(f(q, k, v), ref.sdpa(q, k, v, pattern=am.causal(), score_mod=alibi(4)))


def relative_bias(table, K):
    """A learned bias per head and clipped distance, read from a tensor (T5 style)."""
    def score_mod(s, b, h, i, j):
        return s + table[h, am.minimum(am.maximum(i - j, -K), K) + K]
    return score_mod


def test_sdpa_relative_bias_from_a_captured_tensor():
    table = am.tensor("table", (2, 9))
    spec = am.sdpa(*qkv_spec(), score_mod=relative_bias(table, 4))
    assert [a.name for a in spec.args] == ["q", "k", "v", "table"]
    f = am.compile(spec)
    rng = np.random.default_rng(4)
    q, k, v, t = rand(rng, 1, 2, 17, 8), rand(rng, 1, 2, 17, 8), rand(rng, 1, 2, 17, 8), \
        rand(rng, 2, 9)
    expected = ref.sdpa(q, k, v, score_mod=relative_bias(t, 4))
    assert_close(f(q, k, v, table=t), expected)


def test_sdpa_integer_ops_where_and_floordiv():
    # Keys in the query's block of 4 get +1, the others are halved: //, %, ==, where.
    def mod(s, b, h, i, j):
        same = (i // 4 == j // 4) & (j % 2 == i % 2)
        return am.where(same, s + 1, s * 0.5)
    f = am.compile(am.sdpa(*qkv_spec(), score_mod=mod))
    rng = np.random.default_rng(5)
    q, k, v = rand(rng, 1, 2, 11, 8), rand(rng, 1, 2, 11, 8), rand(rng, 1, 2, 11, 8)
    assert_close(f(q, k, v), ref.sdpa(q, k, v, score_mod=mod))


def test_sdpa_mask_bias_scale_and_lse():
    q, k, v = (am.tensor(n, (1, 2, 6, 8)) for n in "qkv")
    mask, bias = am.tensor("mask", (6, 6), "i1"), am.tensor("bias", (1, 2, 6, 6))
    f = am.compile(am.sdpa(q, k, v, mask=mask, bias=bias, scale=0.3, lse=True))
    rng = np.random.default_rng(6)
    Q, K, V, Bi = rand(rng, 1, 2, 6, 8), rand(rng, 1, 2, 6, 8), rand(rng, 1, 2, 6, 8), \
        rand(rng, 1, 2, 6, 6)
    M = rng.random((6, 6)) < 0.7
    M[:, 0] = True
    o, lse = f(Q, K, V, M, Bi)
    eo, else_ = ref.sdpa(Q, K, V, mask=M, bias=Bi, scale=0.3, return_lse=True)
    assert_close(o, eo)
    assert_close(lse, else_)


# -------------------------------------------------------------------------- the other ops

def test_lsh():
    spec = am.lsh(am.tensor("qk", (None, 2, None, 8)), am.tensor("v", (None, 2, None, 6)),
                  am.tensor("rot", (2, 2, 8, 2)), num_buckets=4, chunk_size=4, causal=True)
    f = am.compile(spec)
    for N, seed in [(16, 1), (32, 2)]:
        qk, v, rot = draw_lsh(seed, B=1, H=2, N=N, D=8, Dv=6, R=2, num_buckets=4)
        assert_close(f(qk, v, rot), ref.lsh(qk, v, rot, 4, 4, causal=True))


def test_cluster():
    q, k = am.tensor("q", (None, 2, None, 8)), am.tensor("k", (None, 2, None, 8))
    spec = am.cluster(q, k, am.tensor("v", (None, 2, None, 6)), am.tensor("c", (2, 3, 8)),
                      window=6)
    f = am.compile(spec)
    Q, K, V, mu = draw_cluster(7, B=1, H=2, Hkv=2, Nq=24, Nk=24, D=8, Dv=6, C=3, window=6)
    assert_close(f(Q, K, V, mu), ref.cluster(Q, K, V, mu, 6))


def test_lowrank():
    q, k, v = qkv_spec()
    f = am.compile(am.lowrank(q, k, v, am.tensor("e", (2, 4, None)), scale=0.5))
    rng = np.random.default_rng(8)
    Q, K, V, E = rand(rng, 2, 2, 9, 8), rand(rng, 2, 2, 12, 8), rand(rng, 2, 2, 12, 8), \
        rand(rng, 2, 4, 12)
    assert_close(f(Q, K, V, E), ref.lowrank(Q, K, V, E, scale=0.5))


@pytest.mark.parametrize("feature_map,causal", [("favor_plus", True), ("elu_plus_one", False)])
def test_kernelized(feature_map, causal):
    q, k, v = qkv_spec()
    w = am.tensor("w", (2, 16, 8)) if feature_map == "favor_plus" else None
    f = am.compile(am.kernelized(q, k, v, feature_map, projection=w, causal=causal))
    rng = np.random.default_rng(9)
    Q, K, V = rand(rng, 1, 2, 10, 8), rand(rng, 1, 2, 10, 8), rand(rng, 1, 2, 10, 8)
    args = [Q, K, V] + ([rand(rng, 2, 16, 8)] if w is not None else [])
    expected = ref.kernelized(Q, K, V, feature_map, projection=args[3] if w else None,
                              causal=causal)
    assert_close(f(*args), expected)


def test_pkm():
    spec = am.pkm(am.tensor("q", (None, 2, None, 8)), am.tensor("s1", (2, 6, 4)),
                  am.tensor("s2", (2, 6, 4)), am.tensor("values", (36, 5)), top_k=3)
    f = am.compile(spec)
    rng = np.random.default_rng(10)
    q, s1, s2 = draw_pkm(rng, 2, 2, 7, 8, 6, 3, "f32", False)
    values = rand(rng, 36, 5)
    out = f(q, s1, s2, values)
    assert out.shape == (2, 2, 7, 5)
    assert_close(out, ref.pkm(q, s1, s2, values, 3))


def test_lightconv():
    f = am.compile(am.lightconv(am.tensor("x", (None, None, 8)), am.tensor("w", (4, 3)),
                                causal=True))
    rng = np.random.default_rng(11)
    x, w = rand(rng, 2, 13, 8), rand(rng, 4, 3)
    assert_close(f(x, w), ref.lightconv(x, w, causal=True))


# ----------------------------------------------------------------------- printing, errors

def test_spec_prints_as_attn_ir_that_attn_opt_verifies():
    q, k, v = qkv_spec()
    spec = am.sdpa(q, k, v, pattern=am.causal() & am.window(8, 0), score_mod=softcap)
    text = str(spec)
    assert "pattern(#attn.intersect<[#attn.causal, #attn.window<left = 8, right = 0>]>)" in text
    assert "math.tanh" in text and "attn.yield" in text
    # Every traced op carries the Python line that made it.
    line = inspect.getsourcelines(softcap)[1] + 1
    assert f'loc("{__file__}":{line}:0)' in text
    tool = compiler.attn_compile_path().replace("attn-compile", "attn-opt")
    proc = subprocess.run([tool, "-"], input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "attn.sdpa" in proc.stdout


def test_verifier_error_raises_with_message_and_location():
    q, k, v = qkv_spec()
    with pytest.raises(am.AttnCompileError) as info:
        am.compile(am.sdpa(q, am.tensor("k", (None, 2, None, 4)), v))
    error = info.value
    assert error.message == "'attn.sdpa' op expects D of query (8) to match D of key (4)"
    file, line, column = error.location
    assert file == "spec.mlir"
    assert error.spec.splitlines()[line - 1][column - 1:].startswith("attn.sdpa ins(")
    assert "spec.mlir:" in str(error) and "attn.sdpa ins(" in str(error)


def test_parse_error_of_ir_text():
    text = ("func.func @main(%q: tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32> {\n"
            "  %r = attn.sdpa ins(%q, %q, %q : tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>, "
            "tensor<2x2x4x8xf32>) outs(%q : tensor<2x2x4x8xf32>) "
            "pattern(#attn.window<left = -3, right = 1>) -> tensor<2x2x4x8xf32>\n"
            "  return %r : tensor<2x2x4x8xf32>\n}\n")
    with pytest.raises(am.AttnCompileError) as info:
        am.compile(text)
    assert "#attn.window needs left + right >= 0" in info.value.message
    assert info.value.location[:2] == ("spec.mlir", 2)
    assert text.splitlines()[1][info.value.location[2] - 1:].startswith("<left = -3")


def test_traced_value_in_python_if_is_a_clear_error():
    def bad(s, b, h, i, j):
        return s if i > j else -s
    with pytest.raises(TypeError, match="use attn_mlir.where"):
        am.sdpa(*qkv_spec(), score_mod=bad)


def test_wrong_argument_is_an_error():
    f = am.compile(am.sdpa(*qkv_spec()))
    x = np.zeros((1, 2, 3, 8), np.float32)
    with pytest.raises(artifact.ArtifactError, match="element type float64, expected f32"):
        f(x, x, x.astype(np.float64))
    with pytest.raises(artifact.ArtifactError, match="does not fit"):
        f(x, x, np.zeros((1, 2, 3, 7), np.float32))


# ------------------------------------------------------------ calls: zero copy, no files

def test_calls_copy_nothing_write_nothing_and_free_the_output(monkeypatch, cache):
    f = am.compile(am.sdpa(*qkv_spec()))
    rng = np.random.default_rng(12)
    q, k, v = rand(rng, 1, 2, 5, 8), rand(rng, 1, 2, 5, 8), rand(rng, 1, 2, 5, 8)
    # The arguments go in as they are: the descriptor points at the array's own buffer.
    assert f.entry._convert(f.entry.args[0], q) is q
    listing = sorted(os.listdir(cache))
    freed = []
    original = f.artifact.free
    monkeypatch.setattr(f.artifact, "free", lambda p: (freed.append(p), original(p)))
    for name in ("run", "Popen"):
        monkeypatch.setattr(subprocess, name, lambda *a, **k: pytest.fail("spawned a process"))
    monkeypatch.setattr("builtins.open", lambda *a, **k: pytest.fail("opened a file"))
    out = f(q, k, v)
    # The output is the buffer the compiled code allocated, owned by the array.
    assert isinstance(out.base, artifact._View)
    address = out.__array_interface__["data"][0]
    assert_close(out, ref.sdpa(q, k, v))
    assert freed == []
    del out
    assert len(freed) == 1 and freed[0] <= address
    monkeypatch.undo()
    assert sorted(os.listdir(cache)) == listing


def test_disk_cache_serves_a_new_process(cache):
    spec = am.sdpa(*qkv_spec(), pattern=am.causal())
    am.compile(spec)  # on disk now (compiled here or earlier in this module)
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import attn_mlir as am\n"
              "q = am.tensor('q', (None, 2, None, 8)); k = am.tensor('k', (None, 2, None, 8))\n"
              "v = am.tensor('v', (None, 2, None, 8))\n"
              "f = am.compile(am.sdpa(q, k, v, pattern=am.causal()))\n"
              "print(f.compiled_now)\n")
    package = os.path.dirname(os.path.dirname(os.path.abspath(am.__file__)))
    proc = subprocess.run([sys.executable, "-c", script, package], capture_output=True,
                          text=True, env=dict(os.environ, ATTN_MLIR_CACHE=str(cache)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_cache_key_has_text_cpu_and_tool_version(monkeypatch):
    spec = am.sdpa(*qkv_spec(), pattern=am.causal())
    first = am.compile(spec)
    assert am.compile(spec) is first
    builds = []
    monkeypatch.setattr(compiler, "_build", lambda *a: builds.append(a[3]))
    monkeypatch.setattr(compiler, "Compiled", lambda *a: a[3])  # the directory
    # Another tool version is another entry; so is another spec text.
    monkeypatch.setattr(compiler, "_tool_version", lambda tool: "another-version")
    assert am.compile(spec) != first.directory
    assert am.compile(am.sdpa(*qkv_spec(), pattern=am.causal(1))) not in (first.directory,)
    assert am.compile(spec, cpu="x86-64-v2") not in (first.directory,)
    assert len(builds) == 3 and len(set(builds)) == 3
    with pytest.raises(ValueError, match="target must be one of cpu, cuda"):
        am.compile(spec, target="tpu")


def test_pip_install_and_the_installed_package_finds_the_tools(tmp_path, cache):
    """pip installs the package offline (no index, Debian's setuptools); the installed copy,
    away from the checkout, finds attn-compile through $ATTN_MLIR_PREFIX."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(am.__file__)))
    source = tmp_path / "src"  # a copy: pip's in-tree build would write into python/
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(package, name), source)
    shutil.copytree(os.path.join(package, "attn_mlir"), source / "attn_mlir",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index",
                           "--no-build-isolation", "--no-deps", "--target", str(target),
                           str(source)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    prefix = os.path.dirname(os.path.dirname(compiler.attn_compile_path()))
    script = ("import attn_mlir as am, numpy as np\n"
              "assert am.__file__.startswith(%r), am.__file__\n"
              "q, k, v = (am.tensor(n, (1, 2, None, 8)) for n in 'qkv')\n"
              "f = am.compile(am.sdpa(q, k, v, pattern=am.causal()))\n"
              "x = np.random.default_rng(0).standard_normal((1, 2, 10, 8)).astype(np.float32)\n"
              "e = am.reference.sdpa(x, x, x, pattern=am.causal())\n"
              "print(am.compiler.attn_compile_path(), am.reference.rel_error(f(x, x, x), e))\n"
              % str(target))
    env = dict(os.environ, PYTHONPATH=str(target), ATTN_MLIR_PREFIX=prefix,
               ATTN_MLIR_CACHE=str(cache))
    env.pop("ATTN_COMPILE", None)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    tool, error = proc.stdout.split()
    assert tool == os.path.join(prefix, "bin", "attn-compile")
    assert float(error) <= TOL["f32"]


def test_cuda_target_runs_or_names_the_missing_driver():
    """target="cuda" compiles through attn-compile's GPU pipeline (PTX: no CUDA toolkit
    needed); loading needs the CUDA driver. Without one (CI) the error says so; with one the
    result matches the reference."""
    q, k, v = (am.tensor(n, (1, 2, None, 64)) for n in "qkv")
    try:
        f = am.compile(am.sdpa(q, k, v, pattern=am.causal()), target="cuda",
                       tool_args=["--format=isa"])
    except artifact.ArtifactError as error:
        assert "no CUDA driver" in str(error)
        return
    rng = np.random.default_rng(13)
    Q, K, V = rand(rng, 1, 2, 70, 64), rand(rng, 1, 2, 70, 64), rand(rng, 1, 2, 70, 64)
    assert_close(f(Q, K, V), ref.sdpa(Q, K, V, pattern=am.causal()), ref.TOLERANCE["f32_fused"])


def test_sdpa_memory_positions_and_span():
    q, k, v = qkv_spec()
    mk, mv = am.tensor("mk", (2, 3, 8)), am.tensor("mv", (2, 3, 8))
    qpos, kpos = am.tensor("qpos", (None, 1, None), "i64"), am.tensor("kpos", (None, 1, None),
                                                                     "i64")
    z = am.tensor("z", (2,))
    f = am.compile(am.sdpa(q, k, v, memory=(mk, mv), positions=(qpos, kpos), span=z, ramp=4.0,
                           max_span=16.0))
    assert f.arg_names == ["q", "k", "v", "mk", "mv", "qpos", "kpos", "z"]
    rng = np.random.default_rng(14)
    Q, K, V = rand(rng, 2, 2, 9, 8), rand(rng, 2, 2, 12, 8), rand(rng, 2, 2, 12, 8)
    MK, MV = rand(rng, 2, 3, 8), rand(rng, 2, 3, 8)
    QP = np.sort(rng.integers(-5, 40, (2, 1, 9)), axis=-1).astype(np.int64)
    KP = np.sort(rng.integers(-5, 40, (2, 1, 12)), axis=-1).astype(np.int64)
    Z = np.array([3.0, 9.5], np.float32)
    expected = ref.sdpa(Q, K, V, memory=(MK, MV), positions=(QP, KP), span=Z, ramp=4.0,
                        max_span=16.0)
    assert_close(f(Q, K, V, MK, MV, QP, KP, Z), expected)


@pytest.mark.parametrize("fn,message", [
    (lambda s, b, h, i, j: s // 2.0, "// is defined on integers only"),
    (lambda s, b, h, i, j: s % 3, "% is defined on integers only"),
    (lambda s, b, h, i, j: s + (i < j), "a condition \\(i1\\) cannot be used as a number"),
    (lambda s, b, h, i, j: am.where(s, s, 0.0), "where\\(\\) needs a condition"),
    (lambda s, b, h, i, j: (s > 0) & s, "&, \\| and ~ combine conditions"),
    (lambda s, b, h, i, j: s + "x", "cannot use str in a traced score_mod"),
])
def test_score_mod_tracing_errors_name_the_rule(fn, message):
    with pytest.raises(TypeError, match=message):
        am.sdpa(*qkv_spec(), score_mod=fn)


def test_score_mod_constants_and_nonfinite_values():
    text = str(am.sdpa(*qkv_spec(), score_mod=lambda s, b, h, i, j:
                       am.where(i - j > 3, -np.inf, s * 2 + 1)))
    assert "arith.constant 0xFF800000 : f32" in text       # -inf, as MLIR spells it
    assert "arith.constant 2.0 : f32" in text              # a Python int next to a float
    assert "arith.cmpi sgt" in text and "arith.subi" in text


def test_eager_attention_reuses_the_compiled_spec(monkeypatch):
    rng = np.random.default_rng(15)
    q, k, v = rand(rng, 3, 2, 10, 8), rand(rng, 3, 2, 14, 8), rand(rng, 3, 2, 14, 8)
    expected = ref.sdpa(q, k, v, pattern=am.window(2) | am.global_tokens(1), score_mod=softcap)
    out = am.attention(q, k, v, pattern=am.window(2) | am.global_tokens(1), score_mod=softcap)
    assert_close(out, expected)
    # The same spec at other sizes: no compile.
    monkeypatch.setattr(compiler, "_build", lambda *a: pytest.fail("compiled again"))
    out = am.attention(q[:1, :, :4], k[:1], v[:1], pattern=am.window(2) | am.global_tokens(1),
                       score_mod=softcap)
    assert_close(out, ref.sdpa(q[:1, :, :4], k[:1], v[:1],
                               pattern=am.window(2) | am.global_tokens(1), score_mod=softcap))
    with pytest.raises(TypeError, match=r"q must be a \[B, H, N, D\] array"):
        am.attention(q[0], k, v)
