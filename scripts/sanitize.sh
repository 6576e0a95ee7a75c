#!/usr/bin/env bash
# Builds attn-opt, attn-run, attn-compile and the unit tests with
# AddressSanitizer + UBSan into ${BUILD_DIR:-build-asan} (clang-22,
# RelWithDebInfo) and runs the lit tests, the GoogleTest unit tests (ctest)
# and the Python tests (pytest, with ATTN_RUN pointing at the sanitized
# attn-run) under them. Exits non-zero when a suite fails or a sanitizer
# reports an error.
# Environment: JOBS (ninja parallelism, default 2), BUILD_DIR, SKIP_PYTEST=1,
# ATTN_PYTEST_SAMPLE=K (the pytest sample under the sanitizers; default 4).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-asan}
jobs=${JOBS:-2}

cmake -G Ninja -S . -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DATTN_ENABLE_SANITIZERS=ON >/dev/null || exit 1
ninja -C "$build" -j"$jobs" attn-opt attn-run attn-compile AttnUnitTests || exit 1
# test/Embedding: the language server (the plugin, install and C API tests
# need the shared libraries of an uninstrumented build: docs/Embedding.md).
ninja -C "$build" -j"$jobs" attn-lsp-server || exit 1

# Leaks are reported (detect_leaks=1); scripts/lsan.supp, when present, lists
# leaks inside the uninstrumented libMLIR/libLLVM that are not ours.
if [ -f scripts/lsan.supp ]; then
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi
# allow_user_poisoning=0: llvm::BumpPtrAllocator, inlined from the LLVM
# headers into our instrumented code, poisons each new slab
# (__asan_poison_memory_region) and unpoisons each allocation it hands out;
# the copies compiled into the uninstrumented libMLIR/libLLVM never unpoison.
# When both share one allocator (the MLIRContext's attribute/location
# uniquer), libMLIR's writes into its own fresh allocations are reported as
# use-after-poison, a false positive of mixing instrumented and
# uninstrumented code. Heap redzones, use-after-free, stack and global
# overflows and leaks are still checked.
# allocator_may_return_null=1: attn-run answers an array too large to
# allocate with an error (test/Tools/attn-run/huge-dim.mlir); ASan's allocator
# would otherwise abort on any request over its 1 TiB limit instead of
# returning null as malloc does.
export ASAN_OPTIONS="detect_leaks=1:allow_user_poisoning=0:allocator_may_return_null=1:strict_string_checks=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# Symbolize the reports.
if [ -x /usr/lib/llvm-22/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-22/bin/llvm-symbolizer
fi

status=0
echo "== lit ($build/test) under ASan+UBSan =="
/usr/lib/llvm-22/bin/lit -sv "$build/test" || status=1
echo "== ctest ($build) under ASan+UBSan =="
ctest --test-dir "$build" --output-on-failure || status=1

if [ "${SKIP_PYTEST:-0}" != 1 ]; then
  echo "== pytest (python/) with ATTN_RUN=$build/bin/attn-run under ASan+UBSan =="
  # attn-run JIT-compiles the IR (MLIR ExecutionEngine, uninstrumented
  # libMLIR/libLLVM) and runs it in-process; the generated code is not
  # instrumented but its malloc/free go through ASan's allocator, so its
  # heap errors on buffers from attn-run are still caught.
  # A sample: every parametrized test with every 4th of its cases
  # (ATTN_PYTEST_SAMPLE, python/tests/conftest.py; 1 runs all of them).
  # scripts/test.sh runs every case uninstrumented.
  ATTN_PYTEST_SAMPLE=${ATTN_PYTEST_SAMPLE:-4} ATTN_RUN="$PWD/$build/bin/attn-run" \
    /usr/bin/python3 -m pytest -q python/tests || status=1
fi

if [ $status -ne 0 ]; then
  echo "sanitize.sh: FAILED"
else
  echo "sanitize.sh: all suites passed under ASan+UBSan"
fi
exit $status
