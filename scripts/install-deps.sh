#!/usr/bin/env bash
# Installs the Debian 12 packages attn-mlir needs, skipping those present.
set -euo pipefail

packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools clang-22 lld-22
  libomp-22-dev  # OpenMP runtime of attn-run --mode=fused
  libclang-rt-22-dev  # ASan, UBSan and libFuzzer runtimes (sanitize.sh, fuzz.sh)
  cmake ninja-build ccache
  libgtest-dev libgmock-dev
  zlib1g-dev libzstd-dev libedit-dev libxml2-dev libcurl4-openssl-dev
  python3-numpy python3-pytest
  python3-pip python3-setuptools  # pip install ./python (python/tests/test_api.py)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
