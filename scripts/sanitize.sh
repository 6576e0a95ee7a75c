#!/usr/bin/env bash
# Builds attn-opt and the unit tests with AddressSanitizer + UBSan into
# ${BUILD_DIR:-build-asan} (clang-22, RelWithDebInfo) and runs the lit tests
# and the GoogleTest unit tests (ctest) under them. Exits non-zero when a
# suite fails or a sanitizer reports an error.
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
ninja -C "$build" -j"$jobs" attn-opt AttnUnitTests || exit 1

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
export ASAN_OPTIONS="detect_leaks=1:allow_user_poisoning=0:strict_string_checks=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
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

if [ $status -ne 0 ]; then
  echo "sanitize.sh: FAILED"
else
  echo "sanitize.sh: all suites passed under ASan+UBSan"
fi
exit $status
