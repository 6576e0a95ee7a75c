#!/usr/bin/env bash
# Builds the Hopper core kernels of bench/gpu/bench.py's document-masking rows (--docs): attn.sdpa
# with document ids (segments, i32 [B, N]), dense and causal, bf16, D 64 and 128, q-tile 128 and
# the core's own kv-tile, no lse: <pattern>-docs_bf16_d<D>_kv<kv>_q128.cubin (each cubin also holds
# the sorted-ids kernel sdpa_core_0_sorted). Like build_core.sh: attn-opt -> PTX -> ptxas.
# usage: bench/gpu/build_docs.sh OUTDIR   (a git-ignored build-* folder the device call carries);
# CORE_OPTS: more attn-gpu-pipeline options (e.g. "min-blocks-per-sm=2").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
opt=${ATTN_OPT:-$root/build/bin/attn-opt}
ptxas=${PTXAS:-/usr/local/cuda/bin/ptxas}
mkdir -p "$out"
: > "$out/ptxas.txt"
for d in 64 128; do
  for pat in dense causal; do
    clause=""; [ $pat = causal ] && clause="pattern(#attn.causal)"
    t="tensor<?x?x?x${d}xbf16>" s="tensor<?x?xi32>"
    spec="$out/$pat-docs_d$d.mlir"
    cat > "$spec" <<MLIR
func.func @docs(%q: $t, %k: $t, %v: $t, %o: $t, %qs: $s, %ks: $s) -> $t {
  %r = attn.sdpa ins(%q, %k, %v : $t, $t, $t) outs(%o : $t) segments(%qs, %ks : $s, $s) $clause -> $t
  return %r : $t
}
MLIR
    "$opt" "$spec" --attn-gpu-pipeline="format=isa q-tile=128 ${CORE_OPTS:-}" -o "$spec.isa"
    kv=$("$opt" "$spec" --attn-gpu-sdpa-core="q-tile=128 ${CORE_OPTS:-}" | grep "nvgpu.tma.create.descriptor" | sed -n 2p |
         sed 's/.*-> <tensor = memref<1x\([0-9]*\)x.*/\1/')
    name="$pat-docs_bf16_d${d}_kv${kv}_q128"
    python3 "$root/bench/gpu/extract_ptx.py" "$spec.isa" "$out/$name.ptx"
    echo "== $name" >> "$out/ptxas.txt"
    "$ptxas" -arch=sm_90a -v "$out/$name.ptx" -o "$out/$name.cubin" 2>> "$out/ptxas.txt"
    rm "$spec.isa"
  done
done
grep -E "==|registers|spill" "$out/ptxas.txt"
