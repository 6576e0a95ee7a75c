#!/usr/bin/env bash
# Installs the CPU benchmark's peers and runs bench/cpu/bench.py (its flags pass through):
# OpenBLAS so that numpy's matmul is a fair baseline (Debian's numpy otherwise runs the
# reference BLAS), matplotlib for the plot, and torch (SDPA, FlexAttention) from the Python
# package registry into bench/.venv. The tests never need any of it.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
need=()
for p in libopenblas0-pthread python3-matplotlib python3-venv; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
"$venv/bin/python" -c "import torch" 2>/dev/null ||
  "$venv/bin/pip" install -q "torch>=2.6"
[ -x build/bin/attn-run ] || bash scripts/build.sh
exec "$venv/bin/python" bench/cpu/bench.py "$@"
