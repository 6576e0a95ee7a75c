#!/usr/bin/env bash
# Copies what the device run needs (the cubins of build_core.sh, this
# folder's scripts, the float64 reference) into one git-ignored folder that a
# device call can carry; the device has no LLVM/MLIR.
# usage: bench/gpu/stage_device.sh DEST   (e.g. a build-* folder of the checkout
# the device tool sends), then on the device:
#   python3 DEST/bench/gpu/check_core.py DEST/gpu-core --json OUT.json
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$1
rm -rf "$dest"
mkdir -p "$dest/bench/gpu" "$dest/python/attn_mlir"
cp -r "$root/build/gpu-core" "$dest/gpu-core"
cp "$root"/bench/gpu/*.py "$root"/bench/gpu/*.sh "$dest/bench/gpu/"
cp "$root"/python/attn_mlir/*.py "$dest/python/attn_mlir/"
du -sh "$dest"
