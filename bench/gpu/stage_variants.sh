#!/usr/bin/env bash
# Stages the FAVOR+ device run in one git-ignored folder that a device call can carry (the GPU
# machine has no LLVM/MLIR): the artifacts of bench/gpu/variants.py build, the kernelized cases
# of test/GPU/general/device/make_cases.py, the Python that draws inputs and references, and
# the scripts; DEST/COMMIT names this commit.
# usage: bench/gpu/stage_variants.sh DEST; then on the device, from DEST:
#   python3 test/GPU/general/device/check.py cases OUT/favor-check --only ...
#   python3 bench/gpu/variants.py run favor --json OUT/gpu-variants.json --commit $(cat COMMIT) \
#     --lsh-cluster
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$1
source "$root/bench/gpu/stage_common.sh"
stage_python "$root" "$dest"
cases=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, '$root/test/GPU/general/device')
from cases import cases; print(','.join(c[0] for c in cases() if c[0].startswith('kernelized')))")
echo "$cases" > "$dest/CASES"
/usr/bin/python3 "$root/test/GPU/general/device/make_cases.py" "$dest/cases" --only "$cases"
/usr/bin/python3 "$root/bench/gpu/variants.py" build "$dest/favor" --lsh-cluster
stage_finish "$root" "$dest"
