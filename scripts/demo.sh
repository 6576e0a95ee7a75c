#!/usr/bin/env bash
# The main job, as far as the project goes today: installs what is missing,
# builds attn-opt, then runs it over every spec in examples/ — verifying each
# and printing its canonical form. (Running specs on the CPU with a check
# against the float64 reference comes with attn-run.)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}

bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null

for spec in examples/*.mlir; do
  echo "=== $spec"
  sed -n '1,/^func/{/^\/\//p}' "$spec"
  start=$(date +%s%N)
  "$build/bin/attn-opt" --canonicalize "$spec" | grep -E 'attn\.' | sed 's/^ */    /'
  end=$(date +%s%N)
  echo "    verified and canonicalized in $(( (end - start) / 1000000 )) ms"
done
