#!/usr/bin/env bash
# Differential tester of the fused pipeline (python/attn_mlir/difftest.py): random attn.sdpa
# specs through `attn-run --mode=fused` and `--mode=reference`, compared with the float64
# reference. Every failing spec is saved with its inputs under --failures (default
# ./difftest-failures) and printed with a one-line reproduction.
#   scripts/difftest.sh [--seed S] [--seconds T | --count N] [--start I] [--modes fused,reference]
#   scripts/difftest.sh --seed S --index I      # one spec, its files kept, its commands printed
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
export ATTN_RUN="${ATTN_RUN:-$root/build/bin/attn-run}"
exec /usr/bin/python3 -m attn_mlir.difftest "$@"
