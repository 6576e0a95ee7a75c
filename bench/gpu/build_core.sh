#!/usr/bin/env bash
# Builds the Hopper sdpa core kernels that bench/gpu/check_core.py runs, on a
# machine with attn-opt and the CUDA toolkit (no GPU needed):
#   attn-opt --attn-gpu-pipeline="format=isa kv-tile=K" -> PTX -> ptxas -> cubin
# One kernel per (element type, head dim, pattern, lse); every length,
# batch and head count runs on the same cubin.
# usage: bench/gpu/build_core.sh [OUTDIR]   (default build/gpu-core, git-ignored;
# the device call carries it)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build/gpu-core}
opt=${ATTN_OPT:-$root/build/bin/attn-opt}
ptxas=${PTXAS:-/usr/local/cuda/bin/ptxas}
kv=${KV_TILE:-128}
mkdir -p "$out"
: > "$out/ptxas.txt"
build() { # name elt D pattern lse
  local name=$1 elt=$2 d=$3 pat=$4 lse=$5
  local t="tensor<?x?x?x${d}x${elt}>" res="tensor<?x?x?x${d}x${elt}>" ret="%r"
  local clause=""
  [ "$pat" = causal ] && clause="pattern(#attn.causal)"
  if [ "$lse" = 1 ]; then res="$res, tensor<?x?x?xf32>"; ret="%r#0, %r#1"; fi
  local n=1; [ "$lse" = 1 ] && n=2
  cat > "$out/$name.mlir" <<MLIR
func.func @$name(%q: $t, %k: $t, %v: $t, %o: $t) -> ($res) {
  %r:$n = attn.sdpa ins(%q, %k, %v : $t, $t, $t) outs(%o : $t) $clause -> $res
  return $ret : $res
}
MLIR
  "$opt" "$out/$name.mlir" --attn-gpu-pipeline="format=isa kv-tile=$kv" -o "$out/$name.isa.mlir"
  python3 "$root/bench/gpu/extract_ptx.py" "$out/$name.isa.mlir" "$out/$name.ptx"
  echo "== $name" >> "$out/ptxas.txt"
  "$ptxas" -arch=sm_90a -v "$out/$name.ptx" -o "$out/$name.cubin" 2>> "$out/ptxas.txt"
  rm "$out/$name.isa.mlir"
}
for elt in bf16 f16; do
  for d in 64 128; do
    for pat in dense causal; do
      build "${pat}_${elt}_d${d}_lse" $elt $d $pat 1
    done
  done
done
build causal_bf16_d128 bf16 128 causal 0
build dense_bf16_d128 bf16 128 dense 0
echo "kv_tile=$kv" > "$out/config.txt"
grep -E "==|registers|spill" "$out/ptxas.txt"
