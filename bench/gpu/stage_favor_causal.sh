#!/usr/bin/env bash
# Stages the causal FAVOR+ device run in one git-ignored folder that a device call can carry:
# the device cases kernelized_favor_causal_* of test/GPU/general/device/cases.py, the artifacts
# of bench/gpu/favor_causal.py build (BEFORE: an attn-compile without the chunked scan, for the
# general-path row), the Python that draws inputs and references, and the scripts.
# usage: [FAVOR_BUILD_ARGS="--scalar ..."] [FAVOR_CASE_OPTIONS="causal-chunk=128"]
# bench/gpu/stage_favor_causal.sh DEST [BEFORE]; FAVOR_CASE_OPTIONS also stages the cases
# rewritten with attn-gpu-kernelized-as-sdpa{OPTIONS} in DEST/cases-opt. Then on the device, from
# DEST:
#   python3 test/GPU/general/device/check.py cases OUT/favor-causal-check
#   [python3 test/GPU/general/device/check.py cases-opt OUT/favor-causal-check-opt]
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
if [ -n "${FAVOR_CASE_OPTIONS:-}" ]; then
  # attn-compile after attn-opt with the options (the spec keeps its name, so does the artifact).
  wrap=$(mktemp -d)
  cat > "$wrap/attn-compile" <<WRAP
#!/usr/bin/env bash
set -euo pipefail
spec=\$1; shift
mkdir -p "$wrap/specs"
out="$wrap/specs/\$(basename "\$spec")"
"$root/build/bin/attn-opt" "--attn-gpu-kernelized-as-sdpa=$FAVOR_CASE_OPTIONS" "\$spec" -o "\$out"
# attn-opt prints the arguments as %argN; the entry's argument names (what check.py binds by)
# are the spec's SSA names: put them back.
/usr/bin/python3 "$root/bench/gpu/rename_entry_args.py" "\$spec" "\$out"
exec "$root/build/bin/attn-compile" "\$out" "\$@"
WRAP
  chmod +x "$wrap/attn-compile"
  echo "$FAVOR_CASE_OPTIONS" > "$dest/CASE_OPTIONS"
  /usr/bin/python3 "$root/test/GPU/general/device/make_cases.py" "$dest/cases-opt" --only "$cases" \
    --attn-compile "$wrap/attn-compile"
  rm -rf "$wrap"
fi
/usr/bin/python3 "$root/bench/gpu/favor_causal.py" build "$dest/favor" ${before:+--before "$before"} ${FAVOR_BUILD_ARGS:-}
stage_finish "$root" "$dest"
