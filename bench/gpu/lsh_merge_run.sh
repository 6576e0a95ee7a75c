#!/usr/bin/env bash
# Session 12, branches s12-lshcomb and s12-lshmerge2: the device run of attn.lsh's rounds merged
# in the core kernel (merge-rounds, docs/GPU.md "Rounds combined in the core (session 12)").
# Run from anywhere; uses only this folder's staged scripts and artifacts.
# Staged as run.sh of DEST by: bash bench/gpu/stage_lsh_cluster.sh DEST (from a build whose
# default is the merged path under test); the combined lsh artifact (the same spec rewritten
# with --attn-gpu-lsh-cluster-as-sdpa=merge-rounds=0 by attn-opt, then attn-compile
# --target=cuda --gpu-abi=device) in DEST/base/lsh_bf16_n16384/, optionally other merged
# builds the same way in DEST/noprefetch/ or DEST/f32/ (e.g. merge-rounds=1 merge-f32=1);
# cp bench/gpu/lsh_merge_run.sh DEST/run.sh. ROUNDS (default 2): alternations of the A/B.
# Device command: cd build-s12-NAME && bash run.sh
# Every step runs even if an earlier one fails, each under a time limit clipped to what is
# left of LIMIT_S (default 280 s from the start). Writes into $OUT:
#   lshcomb-gpu.txt          nvidia-smi name / driver, torch version, COMMIT, seconds per step
#   lshcomb-check.{txt,json} check.py of the lsh / cluster cases (bf16 and f16)
#   lshcomb-ab.txt           lsh bf16 N=16384: base (combine kernel), noprefetch (if staged)
#                            and merged (lshc), alternating twice, 10 reps each (JSON lines,
#                            "ms" = median), and the largest |merged - base| of their outputs
#   lshcomb-lsh.json         variants.py run lshc --only-lsh-cluster --ours-reps 10 (+ .log)
#   lshcomb-profile.txt      variants.py profile of the merged artifact(s) (per kernel us)
set -uo pipefail
cd "$(dirname "$0")"
out=${OUT:?OUT is not set}
limit=${LIMIT_S:-280}
t0=$(date +%s)
export PYTHONPATH=$PWD/python${PYTHONPATH:+:$PYTHONPATH}
left() { local l=$(( limit - ($(date +%s) - t0) )); [ "$l" -gt "$1" ] && l=$1; echo $(( l > 1 ? l : 1 )); }
step() { echo "step $1 done at $(( $(date +%s) - t0 )) s" >> "$out/lshcomb-gpu.txt"; }
{ nvidia-smi --query-gpu=name,driver_version --format=csv
  python3 -c "import torch; print('torch', torch.__version__)"
  echo "commit $(cat COMMIT)"; } > "$out/lshcomb-gpu.txt" 2>&1
echo "== check (lsh / cluster cases)"
timeout "$(left 100)" python3 test/GPU/general/device/check.py cases "$out/lshcomb-check" \
  --only "$(cat CASES)" --jobs 4 2>&1 | tail -n 40
step check
echo "== A/B lsh bf16: base (combine kernel) vs merged (and noprefetch/ if staged), alternating"
# noprefetch/, f32/: other merged builds, when DEST has them.
arts="base/lsh_bf16_n16384"
for extra in noprefetch f32/lsh_bf16_n16384; do [ -d "$extra" ] && arts="$arts $extra"; done
arts="$arts lshc/lsh_bf16_n16384"
{ for i in $(seq "${ROUNDS:-2}"); do
    for a in $arts; do
      echo -n "${a%%/*} "; timeout "$(left 25)" python3 bench/gpu/variants.py one "$a" --op lsh \
        --dtype bf16 --reps 10 --save "/tmp/lshcomb-${a%%/*}.npy" 2>&1 | tail -n 1
    done
  done
  python3 -c "
import numpy as np
import os
a = np.load('/tmp/lshcomb-base.npy')
for n in ('noprefetch', 'f32', 'lshc'):
    if os.path.exists(f'/tmp/lshcomb-{n}.npy'):
        b = np.load(f'/tmp/lshcomb-{n}.npy')
        print(n, 'max |merged - base|', float(np.abs(a - b).max()), 'max |base|',
              float(np.abs(a).max()), 'nan', int(np.isnan(b).sum()))"
} > "$out/lshcomb-ab.txt" 2>&1
cat "$out/lshcomb-ab.txt"
step ab
echo "== variants run (lsh / cluster, N=16384)"
timeout "$(left 110)" python3 bench/gpu/variants.py run lshc --only-lsh-cluster --ours-reps 10 \
  --json "$out/lshcomb-lsh.json" --commit "$(cat COMMIT)" > "$out/lshcomb-lsh.log" 2>&1
tail -n 12 "$out/lshcomb-lsh.log"
step run
echo "== profile (merged)"
timeout "$(left 40)" python3 bench/gpu/variants.py profile lshc/lsh_bf16_n16384 --op lsh \
  --dtype bf16 > "$out/lshcomb-profile.txt" 2>&1
if [ -d f32 ]; then
  echo "== profile f32/ (the other merged build)" >> "$out/lshcomb-profile.txt"
  timeout "$(left 30)" python3 bench/gpu/variants.py profile f32/lsh_bf16_n16384 --op lsh \
    --dtype bf16 >> "$out/lshcomb-profile.txt" 2>&1
fi
tail -n 50 "$out/lshcomb-profile.txt"
step profile
