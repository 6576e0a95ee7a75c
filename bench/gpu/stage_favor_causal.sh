#!/usr/bin/env bash
# Stages the causal FAVOR+ device run in one git-ignored folder that a device call can carry:
# the device cases kernelized_favor_causal_* of test/GPU/general/device/cases.py, the artifacts
# of bench/gpu/favor_causal.py build (BEFORE: an attn-compile without the chunked scan, for the
# general-path row), the Python that draws inputs and references, and the scripts.
# usage: [FAVOR_BUILD_ARGS="--scalar ..."] bench/gpu/stage_favor_causal.sh DEST [BEFORE]; then on
# the device, from DEST:
#   python3 test/GPU/general/device/check.py cases OUT/favor-causal-check
#   python3 bench/gpu/favor_causal.py run favor --json OUT/favor-causal.json --commit $(cat COMMIT)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$1
before=${2:-}
source "$root/bench/gpu/stage_common.sh"
stage_python "$root" "$dest"
cases=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, '$root/test/GPU/general/device')
from cases import cases; print(','.join(c[0] for c in cases() if c[0].startswith('kernelized_favor_causal')))")
echo "$cases" > "$dest/CASES"
/usr/bin/python3 "$root/test/GPU/general/device/make_cases.py" "$dest/cases" --only "$cases"
/usr/bin/python3 "$root/bench/gpu/favor_causal.py" build "$dest/favor" ${before:+--before "$before"} ${FAVOR_BUILD_ARGS:-}
stage_finish "$root" "$dest"
