"""`attn-run --profile`: the JIT compile time and the heap memory of the compiled call beyond
its inputs and results (docs/AttnRun.md), on dense attention at N = 2048 (B=1, H=2, D=64, f32).

The reference path materializes the scores [B, H, N, N] in f32 (and the live mask), so its
temporaries exceed B*H*N^2*4 bytes. The fused path holds, per thread at a time, one query
tile's working set: the query tile [qt, D], the accumulator [qt, Dv], the running max and sum
[qt], the scores / probabilities [qt, kt] and at most copies of a key and a value tile
[kt, D], [kt, Dv]: W = 4 bytes * (qt*kt + qt*(D + Dv + 2) + kt*(D + Dv)) = 80 KiB with
64 x 64 tiles and D = Dv = 64. The bound allows 4 such sets per thread (copies made by type
conversions or by the micro-kernels) and T = 2 threads: 4 * T * W, which does not grow with N
and is far below both the reference's N^2 and the O(N*D) size of the data."""

import pathlib
import re
import subprocess

import pytest

from attn_mlir.run import attn_run_path

B, H, N, D = 1, 2, 2048, 64
QT = KT = 64
THREADS = 2
TILE_SET = 4 * (QT * KT + QT * (D + D + 2) + KT * (D + D))
FUSED_BOUND = 4 * THREADS * TILE_SET

SPEC = f"""
func.func @main(%q: tensor<{B}x{H}x?x{D}xf32>, %k: tensor<{B}x{H}x?x{D}xf32>,
                %v: tensor<{B}x{H}x?x{D}xf32>, %o: tensor<{B}x{H}x?x{D}xf32>)
    -> tensor<{B}x{H}x?x{D}xf32> {{
  %r = attn.sdpa ins(%q, %k, %v : tensor<{B}x{H}x?x{D}xf32>, tensor<{B}x{H}x?x{D}xf32>,
                     tensor<{B}x{H}x?x{D}xf32>)
         outs(%o : tensor<{B}x{H}x?x{D}xf32>) -> tensor<{B}x{H}x?x{D}xf32>
  return %r : tensor<{B}x{H}x?x{D}xf32>
}}
"""


def profile(tmp_path, mode, n):
    source = tmp_path / "dense.mlir"
    source.write_text(SPEC)
    proc = subprocess.run([attn_run_path(), str(source), f"--mode={mode}", "--random-inputs",
                           f"--dim={n}", f"--threads={THREADS}", "--profile"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    compile_s = float(re.search(r"compile @main \(mode=\w+\): ([0-9.]+) s", proc.stdout)[1])
    m = re.search(r"memory @main: (\d+) bytes .* peak (\d+) bytes with the results \((\d+) "
                  r"bytes\), (\d+) allocations", proc.stdout)
    temporaries, peak, results, allocations = (int(g) for g in m.groups())
    return compile_s, temporaries, peak, results, allocations


def test_reference_materializes_the_scores(tmp_path):
    compile_s, temporaries, peak, results, _ = profile(tmp_path, "reference", N)
    assert compile_s > 0
    assert temporaries > B * H * N * N * 4
    assert results >= B * H * N * D * 4
    assert peak >= temporaries


@pytest.mark.parametrize("n", [N // 4, N])
def test_fused_memory_is_a_few_tiles(tmp_path, n):
    compile_s, temporaries, _, results, allocations = profile(tmp_path, "fused", n)
    assert compile_s > 0 and allocations > 0
    # The fused call writes the caller's destination in place: it allocates
    # no result (the reference mode above returns a new one).
    assert results == 0
    assert temporaries <= FUSED_BOUND, f"{temporaries} bytes > {FUSED_BOUND}"
    assert temporaries < B * H * n * D * 4
