#!/usr/bin/env bash
# Stages the overlapped-softmax measurement (docs/GPU.md, "Overlapped softmax"):
# the bench kernels of build_core.sh (BENCH_ONLY) at the defaults ("base"), with
# overlap=true ("overlap": one CTA per multiprocessor, 64-key tiles), with overlap
# and two CTAs per multiprocessor at head dim 64 ("overlap-2cta"; at 128 they
# spill and ptxas serializes the products), one CTA per multiprocessor without
# overlap ("1cta"), and every kernel of build_core.sh with overlap=true
# ("check", the numerics). Then DEST/run.sh runs on the device, from DEST:
# check_core.py on "check" (N <= 1000) and on the dense and causal "overlap"
# kernels (N <= 4096) against the
# float64 reference, then bench.py base --compare ... .
# usage: bench/gpu/stage_overlap.sh DEST   (a git-ignored build-* folder of the
# checkout the device call sends; carry it)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$1
kern=${KERNELS:-$root/build/overlap-kernels}
if [ -z "${SKIP_BUILD:-}" ]; then
  rm -rf "$kern"
  BENCH_ONLY=1 bash "$root/bench/gpu/build_core.sh" "$kern/base"
  BENCH_ONLY=1 CORE_OPTS="overlap=true" bash "$root/bench/gpu/build_core.sh" "$kern/ov1"
  BENCH_ONLY=1 CORE_OPTS="overlap=true min-blocks-per-sm=2" bash "$root/bench/gpu/build_core.sh" "$kern/ov2"
  BENCH_ONLY=1 CORE_OPTS="min-blocks-per-sm=1" bash "$root/bench/gpu/build_core.sh" "$kern/cta1"
  CORE_OPTS="overlap=true" bash "$root/bench/gpu/build_core.sh" "$kern/check"
fi
rm -rf "$dest"
mkdir -p "$dest/bench/gpu" "$dest/python/attn_mlir"
cp "$root"/bench/gpu/*.py "$root"/bench/gpu/*.mlir.txt "$dest/bench/gpu/"
cp "$root"/python/attn_mlir/*.py "$dest/python/attn_mlir/"
for s in base ov1 ov2 cta1 check; do
  mkdir -p "$dest/$s"
  cp "$kern/$s"/*.cubin "$kern/$s/ptxas.txt" "$dest/$s/"
done
rm -f "$dest"/ov2/*_d128_*.cubin
# The dense and causal overlap kernels again at N = 4096 against float64.
mkdir -p "$dest/ov1x"
cp "$kern"/ov1/dense_*.cubin "$kern"/ov1/causal_*.cubin "$dest/ov1x/"
git -C "$root" rev-parse --short HEAD > "$dest/COMMIT"
cat > "$dest/run.sh" <<'RUN'
#!/usr/bin/env bash
# On the device, from the staged folder; OUT: where the logs and JSON go.
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv,noheader
python3 bench/gpu/check_core.py check --no-bench --max-n 1000 --json "$OUT/check.json" > "$OUT/check.log" 2>&1
echo "check (N <= 1000) exit $?: $(grep -c PASS "$OUT/check.log") PASS, $(grep -c -E 'FAIL|ERROR' "$OUT/check.log") FAIL/ERROR"
python3 bench/gpu/check_core.py ov1x --no-bench --max-n 4096 --json "$OUT/check-ov1.json" > "$OUT/check-ov1.log" 2>&1
echo "check overlap dense/causal kernels (N <= 4096) exit $?: $(grep -c PASS "$OUT/check-ov1.log") PASS, $(grep -c -E 'FAIL|ERROR' "$OUT/check-ov1.log") FAIL/ERROR"
grep -E 'FAIL|ERROR' "$OUT/check.log" "$OUT/check-ov1.log" | head -20
python3 bench/gpu/bench.py base --n ${BENCH_N:-16384 4096 1024} --d 128 64 --reps 10 \
  --budget-s ${BUDGET_S:-200} --commit "$(cat COMMIT)" --json "$OUT/bench.json" \
  --compare ov1 overlap --compare ov2 overlap-2cta --compare cta1 1cta > "$OUT/bench.log" 2>&1
echo "bench exit $?"
sed -n '/^NVIDIA\|^ *N /,$p' "$OUT/bench.log" | tail -40
RUN
find "$dest" -name __pycache__ -prune -exec rm -rf {} +
du -sh "$dest"
