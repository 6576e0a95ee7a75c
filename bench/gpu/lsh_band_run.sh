#!/usr/bin/env bash
# Session 11, branch s11-gpulshskip: the device run of the lsh key band (attn.gpu_core kv_band,
# docs/GPU.md "The key band (session 11)"). Run from anywhere; uses only this folder's staged
# scripts and artifacts (bench/gpu/variants.py etc. are the branch's copies, not main's).
# Staged as run.sh of DEST by: bash bench/gpu/stage_lsh_cluster.sh DEST; cp -r an unclipped
# lshc/lsh_bf16_n16384 (built before kv_band, e.g. at c12b2a2) to DEST/base/; cp this DEST/run.sh.
# Device command: cd build-s11-lshskip && bash run.sh
# Writes into $OUT (every step runs even if an earlier one fails; the timeouts add up to
# 570 s, under the 600 s of a device call):
#   lshskip-gpu.txt          nvidia-smi name / driver, torch version, COMMIT
#   lshskip-check.{txt,json} check.py of the lsh / cluster cases (incl. the new
#                            lsh_core_static_band_* and lsh_core_static_causal_r3_*)
#   lshskip-lsh.json         variants.py run lshc --only-lsh-cluster --ours-reps 10 (+ .log)
#   lshskip-ab.txt           lsh bf16 N=16384: base (unclipped, c12b2a2's artifact) and band,
#                            alternating twice, 10 reps each (JSON lines, "ms" = median)
#                            and the largest |band - base| of their outputs
#   lshskip-profile.txt      variants.py profile of the band artifact (per kernel us)
set -uo pipefail
cd "$(dirname "$0")"
out=${OUT:?OUT is not set}
export PYTHONPATH=$PWD/python${PYTHONPATH:+:$PYTHONPATH}
{ nvidia-smi --query-gpu=name,driver_version --format=csv
  python3 -c "import torch; print('torch', torch.__version__)"
  echo "commit $(cat COMMIT)"; } > "$out/lshskip-gpu.txt" 2>&1
echo "== check (lsh / cluster cases)"
timeout 150 python3 test/GPU/general/device/check.py cases "$out/lshskip-check" \
  --only "$(cat CASES)" --jobs 4 2>&1 | tail -n 80
echo "== variants run (lsh / cluster, N=16384)"
timeout 200 python3 bench/gpu/variants.py run lshc --only-lsh-cluster --ours-reps 10 \
  --json "$out/lshskip-lsh.json" --commit "$(cat COMMIT)" > "$out/lshskip-lsh.log" 2>&1
tail -n 30 "$out/lshskip-lsh.log"
echo "== A/B lsh bf16: base (no band) vs band, alternating"
{ for i in 1 2; do
    echo -n "base "; timeout 40 python3 bench/gpu/variants.py one base/lsh_bf16_n16384 --op lsh \
      --dtype bf16 --reps 10 --save /tmp/lshskip-base.npy 2>&1 | tail -n 1
    echo -n "band "; timeout 40 python3 bench/gpu/variants.py one lshc/lsh_bf16_n16384 --op lsh \
      --dtype bf16 --reps 10 --save /tmp/lshskip-band.npy 2>&1 | tail -n 1
  done
  python3 -c "
import numpy as np
a = np.load('/tmp/lshskip-base.npy'); b = np.load('/tmp/lshskip-band.npy')
print('max |band - base|', float(np.abs(a - b).max()), 'max |base|', float(np.abs(a).max()),
      'nan', int(np.isnan(b).sum()))"
} > "$out/lshskip-ab.txt" 2>&1
cat "$out/lshskip-ab.txt"
echo "== profile (band)"
timeout 60 python3 bench/gpu/variants.py profile lshc/lsh_bf16_n16384 --op lsh --dtype bf16 \
  > "$out/lshskip-profile.txt" 2>&1
tail -n 30 "$out/lshskip-profile.txt"
