# Sourced by the stage_*.sh scripts: stage_python ROOT DEST copies what a device run needs
# besides the artifacts (the device has no LLVM/MLIR): the Python package and tests (inputs
# and float64 references), the device cases and check, the GPU and CPU bench scripts.
stage_python() {
  local root=$1 dest=$2
  rm -rf "$dest"
  mkdir -p "$dest/bench/gpu" "$dest/bench/cpu" "$dest/test/GPU/general/device" "$dest/python"
  cp -r "$root/python/attn_mlir" "$root/python/tests" "$dest/python/"
  cp "$root"/test/GPU/general/device/*.py "$dest/test/GPU/general/device/"
  cp "$root"/bench/gpu/*.py "$root"/bench/gpu/*.mlir.txt "$dest/bench/gpu/"
  cp "$root"/bench/cpu/bench.py "$root"/bench/cpu/variants_lsh.py "$dest/bench/cpu/"
}

# stage_finish ROOT DEST: names the commit in DEST/COMMIT, drops caches, prints the size.
stage_finish() {
  local root=$1 dest=$2
  git -C "$root" rev-parse --short HEAD > "$dest/COMMIT"
  find "$dest" -name __pycache__ -prune -exec rm -rf {} +
  du -sh "$dest"
}
