#!/usr/bin/env bash
# Fuzzes the attn parser, verifiers and canonicalization patterns, and
# attn-decompose, attn-lower-to-linalg and attn-cpu-pipeline on every input
# that verifies (see fuzz/attn-fuzz.cpp), with libFuzzer and the
# structure-aware mutator of fuzz/Mutator.cpp, for SECONDS seconds
# (default 60):
#   bash scripts/fuzz.sh [SECONDS]
#
# Builds fuzz/attn-fuzz into ${BUILD_DIR:-build-fuzz} (clang-22,
# RelWithDebInfo, AttnIR instrumented with -fsanitize=fuzzer-no-link,address,
# undefined), writes the seed corpus with fuzz/make-seeds.py (every
# test/**/*.mlir and examples/*.mlir split on `// -----`, fuzz/seeds/*.mlir,
# and the large generated regression inputs), and runs the fuzzer with
# fuzz/attn.dict and inputs of up to 1 MiB (-max_len; a union nested
# thousands deep or of tens of thousands of parts needs hundreds of KiB).
#   $build/corpus-seed/  the seeds (rebuilt on every run)
#   $build/corpus/       the working corpus (kept between runs)
#   $build/artifacts/    crash-*, timeout-*, oom-*, leak-* reproducers
#   $build/fuzz.log      the fuzzer's output of the last run
# Environment: FUZZ_FORK=N (default 1) runs N fuzzing jobs in libFuzzer's fork
# mode, which goes on after a crash, timeout or OOM and so collects every
# crash of the run; FUZZ_FORK=0 fuzzes in one process that stops at the first
# crash. FUZZ_SEED=S seeds libFuzzer's random number generator (-seed=S; CI
# uses 1), default: a seed from the clock. FUZZ_TESTS_ONLY=1 seeds with the
# tests and examples only (no fuzz/seeds, no generated inputs), to see what
# the fuzzer finds by itself. ATTN_FUZZ_MUTATOR=plain turns the
# structure-aware mutator off (libFuzzer's byte mutations only). FUZZ_ARGS
# adds libFuzzer flags; JOBS is the ninja parallelism
# (default 2). Each new reproducer is re-run at the end and its error and top
# frames printed.
# Exits 1 when a crash, timeout, OOM or leak was found, 2 on a build failure.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build=${BUILD_DIR:-build-fuzz}
jobs=${JOBS:-2}
sanitize="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

cmake -G Ninja -S . -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DATTN_ENABLE_FUZZER=ON \
  "-DCMAKE_C_FLAGS=$sanitize" "-DCMAKE_CXX_FLAGS=$sanitize" >/dev/null || exit 2
ninja -C "$build" -j"$jobs" attn-fuzz || exit 2

seeds="$build/corpus-seed"
rm -rf "$seeds"
mkdir -p "$seeds" "$build/corpus" "$build/artifacts"
seed_args=()
if [ "${FUZZ_TESTS_ONLY:-0}" != 0 ]; then
  seed_args+=(--tests-only)
fi
python3 fuzz/make-seeds.py "$seeds" "${seed_args[@]}" || exit 2

# allow_user_poisoning=0: see __asan_default_options in fuzz/attn-fuzz.cpp.
export ASAN_OPTIONS="detect_leaks=1:allow_user_poisoning=0:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if [ -x /usr/lib/llvm-22/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-22/bin/llvm-symbolizer
fi

fork=${FUZZ_FORK:-1}
mode=()
if [ -n "${FUZZ_SEED:-}" ]; then
  mode+=(-seed="$FUZZ_SEED")
fi
if [ "$fork" != 0 ]; then
  mode+=(-fork="$fork" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi
stamp="$build/.fuzz-start"
touch "$stamp"
log="$build/fuzz.log"
echo "fuzz.sh: fuzzing for ${seconds}s (log: $log)"
start=$(date +%s)
# -len_control=0 (libFuzzer's default once a custom mutator is linked in):
# mutations may reach -max_len at once rather than a few bytes at a time.
# shellcheck disable=SC2086
"$build/bin/attn-fuzz" -max_total_time="$seconds" -max_len=1048576 \
  -len_control=0 -timeout=10 \
  -rss_limit_mb=4096 -dict=fuzz/attn.dict -print_final_stats=1 \
  -artifact_prefix="$build/artifacts/" "${mode[@]}" ${FUZZ_ARGS:-} \
  "$build/corpus" "$seeds" >"$log" 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))

if [ "$fork" != 0 ]; then # the last `#N:` status line of the fork driver
  execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
else
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}')
fi
echo "fuzz.sh: executions: ${execs:-unknown} in ${elapsed}s"
echo "fuzz.sh: corpus: $(ls "$build/corpus" | wc -l) inputs"
found=$(find "$build/artifacts" -type f -newer "$stamp" \
          \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \
             -o -name 'leak-*' \) | sort)
if [ -z "$found" ] && { [ "$fork" != 0 ] || [ $rc -eq 0 ]; }; then
  echo "fuzz.sh: no crash found"
  exit 0
fi
echo "fuzz.sh: CRASH found (exit $rc); reproducers in $build/artifacts/:"
for f in $found; do
  echo "  $f (after $(( $(stat -c %Y "$f") - start ))s)"
  "$build/bin/attn-fuzz" -timeout=10 -rss_limit_mb=4096 "$f" 2>&1 |
    grep -m1 -A8 -E '^==[0-9]+==ERROR|runtime error|attn-fuzz: BUG|deadly signal|ERROR: libFuzzer' |
    sed 's/^/    | /'
done
[ -z "$found" ] && tail -20 "$log"
exit 1
