#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, then runs the lit
# tests (IR), the GoogleTest unit tests (through ctest) and the Python tests.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}

bash scripts/install-deps.sh || exit 1
bash scripts/build.sh || exit 1

status=0
echo "== merge conflict markers (tracked files) =="
if git rev-parse --git-dir >/dev/null 2>&1 &&
   git grep -nE '^(<<<<<<<|>>>>>>>) ' -- . ':!bench/results' ; then
  echo "conflict markers left from a merge (above)"; status=1
fi
echo "== lit (test/) =="
/usr/lib/llvm-22/bin/lit -sv "$build/test" || status=1
echo "== ctest (unittests/) =="
ctest --test-dir "$build" --output-on-failure || status=1
echo "== pytest (python/) =="
/usr/bin/python3 -m pytest -q python/tests || status=1
# Debian's python has no torch: the torch interop tests run with the benchmark venv's.
echo "== pytest with torch (python/tests/test_api_torch.py) =="
if bench/.venv/bin/python -c "import torch" 2>/dev/null; then
  bench/.venv/bin/python -m pytest -q python/tests/test_api_torch.py || status=1
else
  echo "not run: no python with torch (bench/.venv, made by bash bench/cpu/run.sh)"
fi

if [ $status -ne 0 ]; then
  echo "test.sh: FAILED"
else
  echo "test.sh: all suites passed"
fi
exit $status
