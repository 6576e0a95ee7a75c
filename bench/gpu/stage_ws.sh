#!/usr/bin/env bash
# Stages the warp-specialisation measurement (docs/GPU.md, "Warp specialisation"):
# the bench kernels of build_core.sh (BENCH_ONLY, dense and causal) at the defaults
# ("base") and with warp-specialize=true at 2 and 3 K/V stages ("ws2", "ws3") and with
# ping-pong consumers ("pp2", "pp3"; "pp2k": 128-key tiles); and the numerics kernels of WS_ONLY=1 build_core.sh
# (dense, causal, a causal window, q-tile 128, kv-tile 64 and 128, bf16 and f16, D 64 and
# 128, with lse) for each of those options ("chk-ws2", ...). Then DEST/run.sh runs on the
# device, from DEST: check_core.py on every chk-* folder (N <= 1000) against the float64
# reference, then bench.py base --compare ... .
# usage: bench/gpu/stage_ws.sh DEST   (a git-ignored build-* folder of the checkout the
# device call sends; carry it)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$1
kern=${KERNELS:-$root/build/ws-kernels}
declare -A opts=(
  [ws2]="warp-specialize=true ws-stages=2"
  [ws3]="warp-specialize=true ws-stages=3"
  [pp2]="warp-specialize=true ws-stages=2 ws-pingpong=true"
  [pp3]="warp-specialize=true ws-stages=3 ws-pingpong=true"
  [pp2k]="warp-specialize=true ws-stages=2 ws-pingpong=true kv-tile=128"
)
variants=${VARIANTS:-ws2 ws3 pp2 pp3 pp2k}
if [ -z "${SKIP_BUILD:-}" ]; then
  rm -rf "$kern"
  BENCH_ONLY=1 BENCH_PATTERNS="dense causal" bash "$root/bench/gpu/build_core.sh" "$kern/base"
  for v in $variants; do
    BENCH_ONLY=1 BENCH_PATTERNS="dense causal" CORE_OPTS="${opts[$v]}" \
      bash "$root/bench/gpu/build_core.sh" "$kern/$v"
    # (the numerics kernels have both key tiles already)
    [[ "${opts[$v]}" == *kv-tile* ]] ||
      WS_ONLY=1 CORE_OPTS="${opts[$v]}" bash "$root/bench/gpu/build_core.sh" "$kern/chk-$v"
  done
fi
rm -rf "$dest"
mkdir -p "$dest/bench/gpu" "$dest/python/attn_mlir"
cp "$root"/bench/gpu/*.py "$root"/bench/gpu/*.mlir.txt "$dest/bench/gpu/"
cp "$root"/python/attn_mlir/*.py "$dest/python/attn_mlir/"
compare=""
for s in base $variants; do
  mkdir -p "$dest/$s"
  cp "$kern/$s"/*.cubin "$kern/$s/ptxas.txt" "$dest/$s/"
  [ "$s" != base ] && compare="$compare --compare $s $s"
done
checks=""
for v in $variants; do
  [ -d "$kern/chk-$v" ] || continue
  mkdir -p "$dest/chk-$v"
  cp "$kern/chk-$v"/*.cubin "$kern/chk-$v/ptxas.txt" "$dest/chk-$v/"
  checks="$checks chk-$v"
done
git -C "$root" rev-parse --short HEAD > "$dest/COMMIT"
cat > "$dest/run.sh" <<RUN
#!/usr/bin/env bash
# On the device, from the staged folder; OUT: where the logs and JSON go.
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader
# One check after another (side by side, each numpy reference takes every core and the
# four took over 100 s each instead of about 25).
for c in $checks; do
  timeout \${CHECK_S:-120} python3 bench/gpu/check_core.py \$c --no-bench --max-n \${MAX_N:-1000} --json "\$OUT/\$c.json" > "\$OUT/\$c.log" 2>&1
  echo "\$c: \$(grep -c '"pass": true' "\$OUT/\$c.log") pass, \$(grep -c -E '"pass": false|Error' "\$OUT/\$c.log") fail/error"
  grep -E '"pass": false|Error' "\$OUT/\$c.log" | head -5
done
# (a kernel that deadlocks would hold the call: each step has a time limit)
timeout \${BENCH_S:-240} python3 bench/gpu/bench.py base --n \${BENCH_N:-16384 4096 1024} --d 128 64 --patterns dense causal \\
  --reps 10 --budget-s \${BUDGET_S:-150} --commit "\$(cat COMMIT)" --json "\$OUT/bench.json" \\
  $compare > "\$OUT/bench.log" 2>&1
echo "bench exit \$?"
sed -n '/^NVIDIA\|^ *N /,\$p' "\$OUT/bench.log" | tail -30
RUN
find "$dest" -name __pycache__ -prune -exec rm -rf {} +
du -sh "$dest"
