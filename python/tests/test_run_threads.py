"""`attn-run --mode=fused --threads=N`: the fused form's loop over (batch, head, query tile) runs
on N OpenMP threads. Every thread count gives the float64 reference's result within the fused
tolerance (docs/Semantics.md §10), and the same bits: each iteration of the parallel loop computes
its own query tile, so the order in which threads take them changes nothing."""

import os
import subprocess

import numpy as np
import pytest

from attn_mlir import reference as ref
from attn_mlir.builder import sdpa_func
from attn_mlir.patterns import Causal, Dense, Window
from attn_mlir.run import AttnRunError, attn_run_path, run
from helpers import assert_close
from test_run_fused import tile_ir
from test_run_sdpa import make_qkv, shapes

FUSED_TOL = ref.TOLERANCE["f32_fused"]
PATTERNS = [Dense(), Causal(), Window(left=5, right=2)]


def run_threads(ir, q, k, v, threads):
    o = np.zeros(q.shape[:3] + (v.shape[3],), dtype=v.dtype)
    return run(ir, [q, k, v, o], mode="fused", extra_args=[f"--threads={threads}"])


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.to_mlir()[:40])
def test_thread_counts_match_reference(pattern):
    """Many query tiles (8 x 4 tiles, with tails) over B=2, H=3: more parallel iterations than
    threads, so that each thread takes several."""
    rng = np.random.default_rng(5)
    q, k, v = make_qkv(rng, B=2, H=3, Hkv=3, Nq=45, Nk=51, D=8, Dv=8)
    ir = tile_ir(sdpa_func(*shapes(q, k, v, dynamic=(0, 2)), pattern=pattern, lse=True), (8, 4))
    exp, exp_lse = ref.sdpa(q, k, v, pattern=pattern, return_lse=True)
    results = {}
    for threads in (1, 2, 3):
        out, lse = run_threads(ir, q, k, v, threads)
        assert_close(out, exp, FUSED_TOL)
        finite = np.isfinite(exp_lse)
        np.testing.assert_allclose(lse[finite], exp_lse[finite], rtol=1e-4, atol=1e-4)
        results[threads] = (out, lse)
    for threads in (2, 3):
        np.testing.assert_array_equal(results[threads][0], results[1][0])
        np.testing.assert_array_equal(results[threads][1], results[1][1])


def test_default_thread_count_and_reference_mode():
    """Without --threads the runtime picks the count; mode=reference takes --threads too (it has
    no parallel loop) and gives the same result."""
    rng = np.random.default_rng(6)
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=1, Nq=70, Nk=70, D=8, Dv=8)
    ir = sdpa_func(*shapes(q, k, v), pattern=Causal())
    exp = ref.sdpa(q, k, v, pattern=Causal())
    o = np.zeros(q.shape[:3] + (v.shape[3],), dtype=v.dtype)
    (fused,) = run(ir, [q, k, v, o], mode="fused")
    assert_close(fused, exp, FUSED_TOL)
    (reference,) = run(ir, [q, k, v, o], mode="reference", extra_args=["--threads=2"])
    assert_close(reference, exp, ref.TOLERANCE["f32_reference"])


def test_threads_takes_a_count():
    rng = np.random.default_rng(7)
    q, k, v = make_qkv(rng, B=1, H=1, Hkv=1, Nq=4, Nk=4, D=8, Dv=8)
    ir = sdpa_func(*shapes(q, k, v), pattern=Dense())
    with pytest.raises(AttnRunError, match="threads"):
        run_threads(ir, q, k, v, "many")


@pytest.mark.parametrize("threads", [1, 3])
def test_threads_sets_the_openmp_thread_count(tmp_path, threads):
    """The JIT loads the OpenMP runtime for mode=fused, and --threads is its thread count
    (OMP_DISPLAY_ENV makes the runtime print its settings when it starts)."""
    rng = np.random.default_rng(8)
    q, k, v = make_qkv(rng, B=1, H=2, Hkv=2, Nq=20, Nk=20, D=8, Dv=8)
    source = tmp_path / "sdpa.mlir"
    source.write_text(sdpa_func(*shapes(q, k, v), pattern=Dense()))
    env = dict(os.environ, OMP_DISPLAY_ENV="TRUE", OMP_NUM_THREADS="2")
    proc = subprocess.run([attn_run_path(), str(source), "--random-inputs", "--mode=fused",
                           f"--threads={threads}", "--check"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"OMP_NUM_THREADS='{threads}'" in proc.stderr, proc.stderr
    assert ": ok" in proc.stdout
