#!/usr/bin/env bash
# The main job: installs what is missing, builds attn-opt and attn-run, verifies
# every spec in examples/, then compiles one of them (Longformer: sliding window
# + global tokens, bf16, GQA, dynamic length) for the CPU, runs it on seeded
# random inputs, and prints its error against the float64 reference and its time.
#   EXAMPLE=reformer DIM=1024 bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
example=${EXAMPLE:-longformer}
dim=${DIM:-512}

bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null

for spec in examples/*.mlir; do
  "$build/bin/attn-opt" --verify-diagnostics "$spec" >/dev/null
done
echo "=== all $(ls examples/*.mlir | wc -l) specs in examples/ verify"
echo "=== examples/$example.mlir"
sed -n '1,/^func/{/^\/\//p}' "examples/$example.mlir"
echo "=== attn-run (attn-cpu-pipeline, mode=fused), every dynamic dim = $dim"
cd python
ATTN_RUN="../$build/bin/attn-run" /usr/bin/python3 -m attn_mlir.examples "$example" --dim "$dim" --bench 3
