#!/usr/bin/env bash
# Configures (once) and builds attn-mlir into ${BUILD_DIR:-build}.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}

if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S . -B "$build" \
    -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    ${CMAKE_EXTRA_ARGS:-}
fi
ninja -C "$build" attn-opt attn-run attn-compile AttnUnitTests
# test/Embedding: the mlir-opt plugin, the language server, the C API tests.
ninja -C "$build" AttnPlugin attn-lsp-server attn-capi-test attn-capi-compile attn-capi-jit \
  attn-capi-artifact
