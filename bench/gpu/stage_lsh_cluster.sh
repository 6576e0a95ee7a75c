#!/usr/bin/env bash
# Stages the LSH / clustered device run in one git-ignored folder that a device call can carry
# (the GPU machine has no LLVM/MLIR): the lsh / cluster artifacts of bench/gpu/variants.py build
# --lsh-cluster (f32 and bf16), the lsh / cluster cases of test/GPU/general/device/make_cases.py,
# the Python that draws inputs and references, and the scripts; DEST/COMMIT names this commit.
# usage: bench/gpu/stage_lsh_cluster.sh DEST; then on the device, from DEST:
#   python3 test/GPU/general/device/check.py cases OUT/lsh-check --only $(cat CASES)
#   python3 bench/gpu/variants.py run lshc --only-lsh-cluster --json OUT/gpu-lsh.json \
#     --commit $(cat COMMIT)
#   python3 bench/gpu/variants.py profile lshc/lsh_bf16_n16384 --op lsh --dtype bf16
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$1
source "$root/bench/gpu/stage_common.sh"
stage_python "$root" "$dest"
cases=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, '$root/test/GPU/general/device')
from cases import cases
print(','.join(c[0] for c in cases() if c[0].startswith(('lsh', 'cluster')) and c[1] != 'f32'))")
echo "$cases" > "$dest/CASES"
/usr/bin/python3 "$root/test/GPU/general/device/make_cases.py" "$dest/cases" --only "$cases"
/usr/bin/python3 "$root/bench/gpu/variants.py" build "$dest/lshc" --n --lsh-cluster
stage_finish "$root" "$dest"
