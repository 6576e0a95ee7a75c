"""The f32 exp2 of the fused tiles (attn-prepare-tile-loops, docs/Pipelines.md): a generic
in an scf.forall, run through attn-run's fused pipeline, against numpy's float64 exp2 over the
whole f32 range, its edges, -inf, +inf and NaN."""

import subprocess

import numpy as np

from attn_mlir.run import attn_run_path

SPEC = """
func.func @main(%x: tensor<ROWSx1024xf32>, %o: tensor<ROWSx1024xf32>) -> tensor<ROWSx1024xf32> {
  %r = scf.forall (%i) in (ROWS) shared_outs(%acc = %o) -> (tensor<ROWSx1024xf32>) {
    %xs = tensor.extract_slice %x[%i, 0] [1, 1024] [1, 1]
        : tensor<ROWSx1024xf32> to tensor<1024xf32>
    %os = tensor.extract_slice %acc[%i, 0] [1, 1024] [1, 1]
        : tensor<ROWSx1024xf32> to tensor<1024xf32>
    %e = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                         iterator_types = ["parallel"]}
        ins(%xs : tensor<1024xf32>) outs(%os : tensor<1024xf32>) {
      ^bb0(%a: f32, %b: f32):
        %y = math.exp2 %a : f32
        linalg.yield %y : f32
    } -> tensor<1024xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %e into %acc[%i, 0] [1, 1024] [1, 1]
          : tensor<1024xf32> into tensor<ROWSx1024xf32>
    }
  }
  return %r : tensor<ROWSx1024xf32>
}
"""


def run_exp2(tmp_path, x):
    rows = x.shape[0]
    spec = tmp_path / "exp2.mlir"
    spec.write_text(SPEC.replace("ROWS", str(rows)))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "o.npy", np.full_like(x, np.nan))
    out = tmp_path / "out.npy"
    proc = subprocess.run([attn_run_path(), str(spec), f"--input=x={tmp_path / 'x.npy'}",
                           f"--input=o={tmp_path / 'o.npy'}", f"--output={out}"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return np.load(out)


def test_exp2_range_and_edges(tmp_path):
    rng = np.random.default_rng(7)
    special = [-np.inf, np.inf, np.nan, 0.0, -0.0, -126.0, -126.5, -127.0, -150.0,
               -125.49, 127.0, 127.5, 127.99, 128.0, 200.0, 0.5, -0.5, 1e-30]
    x = np.concatenate([
        np.linspace(-130.0, 130.0, 3072),
        rng.uniform(-0.5, 0.5, 2048),           # the polynomial's whole interval
        rng.uniform(-126.0, 128.0, 3072),
        special,
    ]).astype(np.float32)
    x = np.pad(x, (0, -len(x) % 1024), constant_values=1.0).reshape(-1, 1024)
    y = run_exp2(tmp_path, x).astype(np.float64).ravel()
    xs = x.astype(np.float64).ravel()
    with np.errstate(over="ignore"):
        expected = np.exp2(xs)
    # Where 2^x is a normal f32 above 2.4e-38: within 2.5e-7 relative (about 2 ulp).
    normal = np.isfinite(xs) & (xs > -125.5) & (expected < np.finfo(np.float32).max)
    rel = np.abs(y[normal] - expected[normal]) / expected[normal]
    assert rel.max() <= 2.5e-7, f"max relative error {rel.max():.3g}"
    # At or below -126 (and -inf): exactly 0; overflow (x >= 128, +inf): +inf; NaN stays NaN.
    assert np.all(y[xs <= -126.0] == 0.0)
    assert np.all(np.isposinf(y[(xs >= 128.0) | np.isposinf(xs)]))
    assert np.all(np.isnan(y[np.isnan(xs)]))
    # Just below the overflow edge the result is finite (2^(n - 1) is scaled, not 2^n).
    edge = (xs > 127.5) & (xs < 128.0)
    assert edge.any() and np.all(np.isfinite(y[edge]))
