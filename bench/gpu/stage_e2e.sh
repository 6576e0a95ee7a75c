#!/usr/bin/env bash
# Stages the end-to-end device run in one git-ignored folder that a device call can carry
# (the GPU machine has no LLVM/MLIR): the artifacts of test/GPU/general/device/make_cases.py
# and of bench/gpu/call_overhead.py (the latter twice: with the runtime of this build and
# with OLD_RUNTIME, a libattn_cuda_runtime.so to compare with), the Python that draws the
# inputs and references, and the scripts.
# With BENCH_KERNELS (the output of `BENCH_ONLY=1 bench/gpu/build_core.sh DIR`) set, those
# kernels go to DEST/bench-core for bench/gpu/bench.py; DEST/COMMIT names this commit.
# usage: bench/gpu/stage_e2e.sh DEST [OLD_RUNTIME]; then on the device, from DEST:
#   python3 test/GPU/general/device/check.py cases OUT/gpu-e2e
#   python3 bench/gpu/call_overhead.py time overhead/core_b1h2d64 [--n 1000 4096]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$1
old=${2:-}
runtime=$root/build/lib/libattn_cuda_runtime.so
rm -rf "$dest"
mkdir -p "$dest/bench/gpu" "$dest/test/GPU/general/device" "$dest/python"
cp -r "$root/python/attn_mlir" "$root/python/tests" "$dest/python/"
cp "$root"/test/GPU/general/device/*.py "$dest/test/GPU/general/device/"
cp "$root"/bench/gpu/*.py "$root"/bench/gpu/*.mlir.txt "$dest/bench/gpu/"
/usr/bin/python3 "$root/test/GPU/general/device/make_cases.py" "$dest/cases"
/usr/bin/python3 "$root/bench/gpu/call_overhead.py" build "$dest/overhead"
# Every artifact runs with this build's runtime.
for lib in "$dest"/cases/*/libattn_cuda_runtime.so "$dest"/overhead/*/libattn_cuda_runtime.so; do
  cp "$runtime" "$lib"
done
if [ -n "$old" ]; then
  cp -r "$dest/overhead" "$dest/overhead-old"
  for lib in "$dest"/overhead-old/*/libattn_cuda_runtime.so; do cp "$old" "$lib"; done
fi
if [ -n "${BENCH_KERNELS:-}" ]; then
  mkdir -p "$dest/bench-core"
  cp "$BENCH_KERNELS"/*.cubin "$BENCH_KERNELS/ptxas.txt" "$dest/bench-core/"
fi
git -C "$root" rev-parse --short HEAD > "$dest/COMMIT"
find "$dest" -name __pycache__ -prune -exec rm -rf {} +
du -sh "$dest"
