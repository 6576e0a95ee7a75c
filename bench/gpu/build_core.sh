#!/usr/bin/env bash
# Builds the Hopper sdpa core kernels that bench/gpu/check_core.py runs, on a
# machine with attn-opt and the CUDA toolkit (no GPU needed):
#   attn-opt --attn-gpu-pipeline="format=isa kv-tile=K" -> PTX -> ptxas -> cubin
# One kernel per (element type, head dim, pattern, lse); every length,
# batch and head count runs on the same cubin.
# usage: bench/gpu/build_core.sh [OUTDIR]   (default build/gpu-core, git-ignored;
# the device call carries it); CORE_OPTS: more attn-gpu-pipeline options for
# every kernel (e.g. "heavy-first=false", "min-blocks-per-sm=2" or "overlap=true");
# BENCH_PATTERNS: the patterns of BENCH_ONLY (all five by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build/gpu-core}
opt=${ATTN_OPT:-$root/build/bin/attn-opt}
ptxas=${PTXAS:-/usr/local/cuda/bin/ptxas}
mkdir -p "$out"
: > "$out/ptxas.txt"
# A persistent grid's CTA count, for check_core.py's launch.
rm -f "$out/PERSISTENT"
p=$(printf '%s\n' ${CORE_OPTS:-} | sed -n 's/^persistent=\([0-9]*\)$/\1/p')
[ -n "$p" ] && [ "$p" != 0 ] && echo "$p" > "$out/PERSISTENT"
rm -f "$out"/*.persistent
# Without CORE_OPTS persistent=P, the core still makes some kernels persistent by
# default (causal: every work tile its own CTA; docs/GPU.md "Persistent grid and short
# sequences"). Such a launch has the grid (tiles / H, H, 1): its z is the constant 1 of
# the thread block's z (B is dynamic here). check_core.py reads NAME.persistent.
mark_persistent() { # name
  [ -e "$out/PERSISTENT" ] && return 0
  python3 - "$out/$1.isa.mlir" "$out/$1.persistent" <<'PY'
import re, sys
m = re.search(r"blocks in \(([^)]*)\) threads in \(([^)]*)\)", open(sys.argv[1]).read())
if m and m.group(1).split(",")[2].strip() == m.group(2).split(",")[2].strip():
    open(sys.argv[2], "w").write(str(1 << 40) + "\n")
PY
}
pattern_clause() {
  case $1 in
    dense) echo "" ;;
    causal) echo "pattern(#attn.causal)" ;;
    window256) echo "pattern(#attn.window<left = 256, right = 0>)" ;;
    window512) echo "pattern(#attn.window<left = 512, right = 0>)" ;;
    longformer) echo "pattern(#attn.union<[#attn.window<left = 128, right = 128>, #attn.global<first = 16>]>)" ;;
    # bench/gpu/bench.py's Longformer and BigBird (keep its PATTERNS in step).
    longformer512) echo "pattern(#attn.union<[#attn.window<left = 256, right = 256>, #attn.global<first = 64>]>)" ;;
    bigbird64) echo "pattern(#attn.union<[#attn.window<left = 64, right = 64>, #attn.global<first = 64>, #attn.random<block = 64, per_row = 3, seed = 7>]>)" ;;
    # check_core.py's: random blocks smaller than a key tile, and not aligned to tiles.
    bigbird16) echo "pattern(#attn.union<[#attn.window<left = 32, right = 32>, #attn.global<first = 16>, #attn.random<block = 16, per_row = 3, seed = 11>]>)" ;;
    random100) echo "pattern(#attn.random<block = 100, per_row = 2, seed = 5>)" ;;
  esac
}
build() { # pattern elt D kv lse(0/1) [q] -> <pattern>_<elt>_d<D>_kv<kv>[_q<q>][_lse].cubin
  # kv "auto": kv-tile=0, the core's own choice, read back from the key tensor map's box.
  local pat=$1 elt=$2 d=$3 kv=$4 lse=$5 q=${6:-64}
  if [ "$kv" = auto ]; then
    local probe="$out/probe.mlir" t="tensor<?x?x?x${d}x${elt}>"
    printf 'func.func @p(%%q: %s, %%k: %s, %%v: %s, %%o: %s) -> %s {\n  %%r = attn.sdpa ins(%%q, %%k, %%v : %s, %s, %s) outs(%%o : %s) %s -> %s\n  return %%r : %s\n}\n' \
      "$t" "$t" "$t" "$t" "$t" "$t" "$t" "$t" "$t" "$(pattern_clause "$pat")" "$t" "$t" > "$probe"
    # The core's own options of CORE_OPTS (overlap changes the choice).
    local popts
    popts=$(printf '%s\n' ${CORE_OPTS:-} | grep -E '^(overlap|heavy-first|min-blocks-per-sm|warp-specialize|ws-stages|ws-pingpong|kv-tile|persistent|pair-stores)=' | tr '\n' ' ' || true)
    kv=$("$opt" "$probe" --attn-gpu-sdpa-core="q-tile=$q $popts" |
         grep "nvgpu.tma.create.descriptor" | sed -n 2p |
         sed 's/.*-> <tensor = memref<1x\([0-9]*\)x.*/\1/')
    rm "$probe"
  fi
  local name="${pat}_${elt}_d${d}_kv${kv}"
  [ "$q" != 64 ] && name="${name}_q${q}"
  local t="tensor<?x?x?x${d}x${elt}>" res="tensor<?x?x?x${d}x${elt}>" ret="%r" n=1
  if [ "$lse" = 1 ]; then
    name="${name}_lse"; res="$res, tensor<?x?x?xf32>"; ret="%r#0, %r#1"; n=2
  fi
  cat > "$out/$name.mlir" <<MLIR
func.func @$name(%q: $t, %k: $t, %v: $t, %o: $t) -> ($res) {
  %r:$n = attn.sdpa ins(%q, %k, %v : $t, $t, $t) outs(%o : $t) $(pattern_clause "$pat") -> $res
  return $ret : $res
}
MLIR
  "$opt" "$out/$name.mlir" --attn-gpu-pipeline="format=isa kv-tile=$kv q-tile=$q ${CORE_OPTS:-}" -o "$out/$name.isa.mlir"
  python3 "$root/bench/gpu/extract_ptx.py" "$out/$name.isa.mlir" "$out/$name.ptx"
  mark_persistent "$name"
  echo "== $name" >> "$out/ptxas.txt"
  "$ptxas" -arch=sm_90a -v "$out/$name.ptx" -o "$out/$name.cubin" 2>> "$out/ptxas.txt"
  rm "$out/$name.isa.mlir"
}
# Operands: <pattern>-<feature>_<elt>_d<D>_kv<kv>[_q<q>]_lse, features pos
# (positions [B, ?, N], i32; i64 in the f16 "all" kernel), mask ([B, 1, Nq,
# Nk] i1), bias ([H, Nq, Nk]: f32; the element type in "all"), mod (score_mod
# s - 0.05 (h + 1) (i - j)), all (the four together), span (z [H], ramp 32,
# max_span 300), mem (memory [Hkv, M, D]), every (all, span and mem).
build_op() { # pattern feature elt D kv q
  local pat=$1 feat=$2 elt=$3 d=$4 kv=$5 q=$6
  local name="${pat}-${feat}_${elt}_d${d}_kv${kv}"
  [ "$q" != 64 ] && name="${name}_q${q}"
  name="${name}_lse"
  local t="tensor<?x?x?x${d}x${elt}>" res="tensor<?x?x?x${d}x${elt}>, tensor<?x?x?xf32>"
  local pt=i32 bt=f32 args="" clauses="" region=""
  if [ "$feat" = all ] || [ "$feat" = every ]; then bt=$elt; [ "$elt" = f16 ] && pt=i64; fi
  local mt="tensor<?x?x${d}x${elt}>" attrs=""
  local pos_t="tensor<?x?x?x${pt}>" mask_t="tensor<?x1x?x?xi1>" bias_t="tensor<?x?x?x${bt}>"
  case $feat in mask|all|every)
    args="$args, %m: $mask_t"; clauses="$clauses mask(%m : $mask_t)";; esac
  case $feat in bias|all|every)
    args="$args, %bb: $bias_t"; clauses="$clauses bias(%bb : $bias_t)";; esac
  case $feat in mem|every)
    args="$args, %mk: $mt, %mv: $mt"; clauses="$clauses memory(%mk, %mv : $mt, $mt)";; esac
  case $feat in pos|all|every)
    args="$args, %qp: $pos_t, %kp: $pos_t"; clauses="$clauses positions(%qp, %kp : $pos_t, $pos_t)";; esac
  case $feat in span|every)
    args="$args, %z: tensor<?xf32>"; clauses="$clauses span(%z : tensor<?xf32>)"
    attrs="{ramp = 32.0 : f32, max_span = 300.0 : f32}";; esac
  case $feat in mod|all|every)
    # s - 0.05 (h + 1) (i - j); test/GPU/general/device/cases.py reads the same body.
    region="score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
$(cat "$root/bench/gpu/score_mod_body.mlir.txt")
  }";;
  esac
  cat > "$out/$name.mlir" <<MLIR
func.func @${name//-/_}(%q: $t, %k: $t, %v: $t, %o: $t$args) -> ($res) {
  %r:2 = attn.sdpa ins(%q, %k, %v : $t, $t, $t) outs(%o : $t)$clauses $(pattern_clause "$pat") $attrs $region -> $res
  return %r#0, %r#1 : $res
}
MLIR
  "$opt" "$out/$name.mlir" --attn-gpu-pipeline="format=isa kv-tile=$kv q-tile=$q ${CORE_OPTS:-}" -o "$out/$name.isa.mlir"
  python3 "$root/bench/gpu/extract_ptx.py" "$out/$name.isa.mlir" "$out/$name.ptx"
  mark_persistent "$name"
  echo "== $name" >> "$out/ptxas.txt"
  "$ptxas" -arch=sm_90a -v "$out/$name.ptx" -o "$out/$name.cubin" 2>> "$out/ptxas.txt"
  rm "$out/$name.isa.mlir"
}
# bench/gpu/bench.py: bf16 at the defaults (q-tile 128, the core's kv-tile for the op), no
# lse; BENCH_ONLY=1 builds these alone.
build_bench() {
  for d in 64 128; do
    for pat in ${BENCH_PATTERNS:-dense causal window512 longformer512 bigbird64}; do
      build $pat bf16 $d auto 0 128
    done
  done
}
# Numerics of the random lists (with lse): both tile shapes.
build_random() {
  for pat in bigbird64 bigbird16 random100 longformer512; do
    build $pat bf16 128 64 1 128
  done
  build bigbird16 f16 64 128 1
  build random100 bf16 64 128 1
}
# Numerics (with lse); NUMERICS_ONLY=1 builds these alone (with CORE_OPTS
# persistent=P: the persistent grid's checks, no random lists among them).
build_numerics() {
  for elt in bf16 f16; do
    for d in 64 128; do
      for pat in dense causal; do
        build $pat $elt $d 128 1
      done
    done
  done
  build causal bf16 128 64 1
  build window256 bf16 128 128 1
  build longformer f16 64 128 1
  build causal bf16 128 64 1 128
  build dense f16 64 64 1 128
  build longformer bf16 128 64 1 128
}
[ -n "${NUMERICS_ONLY:-}" ] && { build_numerics; grep -E "==|registers|spill" "$out/ptxas.txt"; exit 0; }
# Numerics of the warp-specialised kernels (CORE_OPTS="warp-specialize=true ..."): the
# patterns it takes (dense, causal, a causal window), q-tile 128, both key tiles, with lse;
# and one op it does not take (random lists: the plain kernel).
build_ws() {
  for elt in bf16 f16; do
    for d in 64 128; do
      for pat in dense causal; do
        build $pat $elt $d 64 1 128
        build $pat $elt $d 128 1 128
      done
    done
  done
  build window256 bf16 128 64 1 128
  build bigbird16 bf16 64 64 1 128
}
[ -n "${WS_ONLY:-}" ] && { build_ws; grep -E "==|registers|spill|C75" "$out/ptxas.txt"; exit 0; }
[ -n "${BENCH_ONLY:-}" ] && { build_bench; grep -E "==|registers|spill" "$out/ptxas.txt"; exit 0; }
[ -n "${RANDOM_ONLY:-}" ] && { build_random; grep -E "==|registers|spill" "$out/ptxas.txt"; exit 0; }
for feat in pos mask bias mod all span mem every; do
  pat=causal; [ "$feat" = mask ] || [ "$feat" = mod ] && pat=dense
  build_op $pat $feat bf16 128 64 128
  build_op $pat $feat f16 64 128 64
done
[ -n "${OPS_ONLY:-}" ] && { grep -E "==|registers|spill" "$out/ptxas.txt"; exit 0; }
build_bench  # (q-tile 128, the core's own kv-tile)

# Numerics (with lse).
build_numerics
# Timing (no lse), checked too.
build causal bf16 128 128 0
build causal bf16 128 64 0
build causal bf16 128 128 0 128
build dense bf16 128 128 0
build dense bf16 128 64 0
build window512 bf16 128 128 0
build window512 bf16 128 64 0
build_random
grep -E "==|registers|spill" "$out/ptxas.txt"
