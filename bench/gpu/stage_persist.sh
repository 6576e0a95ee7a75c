#!/usr/bin/env bash
# Stages device-ABI artifacts of call_overhead.py's causal bf16 [2, 16, N, 128] spec built
# with per-op core options (the attn.gpu_core attribute), for call_overhead.py device and
# profile_short.py, plus the Python and scripts they need.
# usage: bench/gpu/stage_persist.sh DEST NAME='{opts}' ...   e.g. persist='{persistent = true}'
# (NAME=default: no attribute). On the device, from DEST:
#   python3 bench/gpu/call_overhead.py device v/NAME --check-n 1 127 1000 --n 1024 4096
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$1
shift
mkdir -p "$dest/bench/gpu" "$dest/python" "$dest/v"
rm -rf "$dest/python/attn_mlir"
cp -r "$root/python/attn_mlir" "$dest/python/"
cp "$root"/bench/gpu/*.py "$dest/bench/gpu/"
spec=$(mktemp -d)
/usr/bin/python3 - "$spec/s.mlir" <<'PY'
import sys
sys.path.insert(0, "python")
from attn_mlir.builder import sdpa_func
from attn_mlir.patterns import Causal
dims = [2, 16, None, 128]
open(sys.argv[1], "w").write(sdpa_func((dims, "bf16"), (dims, "bf16"), (dims, "bf16"),
                                       pattern=Causal()))
PY
for arg in "$@"; do
  name=${arg%%=*}
  opts=${arg#*=}
  if [ "$name" = default ]; then
    cp "$spec/s.mlir" "$spec/$name.mlir"
  else
    sed "s/pattern(#attn.causal)/pattern(#attn.causal) {attn.gpu_core = $opts}/" \
      "$spec/s.mlir" > "$spec/$name.mlir"
  fi
  rm -rf "$dest/v/$name"
  "$root/build/bin/attn-compile" "$spec/$name.mlir" --target=cuda --gpu-abi=device \
    -o "$dest/v/$name"
  cp "$root/build/lib/libattn_cuda_runtime.so" "$dest/v/$name/"
done
rm -rf "$spec"
git -C "$root" rev-parse --short HEAD > "$dest/COMMIT"
find "$dest" -name __pycache__ -prune -exec rm -rf {} +
du -sh "$dest"
