// attn.lsh at the bench's bucket count (64 buckets: 32 projections) with a
// static N: the hash kernel keeps the projections of four positions in
// registers (128 accumulators), the gathers write one element of each of
// the four parts of the sdpa heads, and the core runs once per part with
// the key loop clipped to each query chunk's band (kv_band; docs/GPU.md, "LSH and clustered attention on the Hopper core"). ptxas
// assembles every kernel with no stack frame and no spills.
// REQUIRES: ptxas
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa=merge-rounds=0 --canonicalize | FileCheck %s --check-prefix=IR
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa=merge-rounds=0 --attn-gpu-pipeline="format=isa" -o %t.mlir
// RUN: %python %S/lsh_cluster_ptxas_all.py %ptxas %t.mlir %t.d | FileCheck %s

// IR: linalg.generic {{.*}} outs({{.*}} : tensor<2x2x512xi64>, tensor<2x2x512xi64>, tensor<2x2x512xi64>, tensor<2x2x512xi64>)
// IR-COUNT-4: attn.sdpa ins({{.*}} : tensor<1x16x128x64xbf16>, tensor<1x16x192x64xbf16>, tensor<1x16x192x64xbf16>) {{.*}} {attn.gpu_core = {kv_band = array<i64: 64, 0, 128>, min_blocks_per_sm = 0 : i64, q_tile = 64 : i64}}
// IR-NOT: attn.sdpa

// CHECK-NOT: exit {{[1-9]}}
// CHECK-NOT: {{[1-9][0-9]*}} bytes stack frame
// CHECK-NOT: {{[1-9][0-9]*}} bytes spill
// CHECK: binary attn_gpu: exit 0
// CHECK-COUNT-4: Compiling entry function 'sdpa_core_{{[0-3]}}'
// CHECK-NOT: exit {{[1-9]}}
// CHECK-NOT: {{[1-9][0-9]*}} bytes stack frame
// CHECK-NOT: {{[1-9][0-9]*}} bytes spill
// CHECK: {{[0-9]+}} binaries
// With merge-rounds=1 (the default; MIR, MERGED, also with the f32
// accumulator of merge-f32=1): one part per round (2), the rounds
// merged in the core kernel's epilogue (docs/GPU.md "Rounds combined in the
// core (session 12)"): two core kernels, every kernel without stack or
// spills.
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa=merge-rounds=1 --canonicalize | FileCheck %s --check-prefix=MIR
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa" -o %t.merged.mlir
// RUN: %python %S/lsh_cluster_ptxas_all.py %ptxas %t.merged.mlir %t.merged.d | FileCheck %s --check-prefix=MERGED
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa="merge-rounds=1 merge-f32=1" --attn-gpu-pipeline="format=isa" -o %t.m32.mlir
// RUN: %python %S/lsh_cluster_ptxas_all.py %ptxas %t.m32.mlir %t.m32.d | FileCheck %s --check-prefix=MERGED

// MIR: linalg.generic {{.*}} outs({{.*}} : tensor<2x2x512xi64>, tensor<2x2x512xi64>, tensor<2x2x512xi64>, tensor<2x2x512xi64>)
// MIR: attn.sdpa ins({{.*}} : tensor<1x32x128x64xbf16>, tensor<1x32x192x64xbf16>, tensor<1x32x192x64xbf16>) {{.*}} {attn.gpu_core = {kv_band = array<i64: 64, 0, 128>, merge = array<i64: 1, 2, 16>, min_blocks_per_sm = 0 : i64, q_tile = 64 : i64}}
// MIR: attn.sdpa ins({{.*}} : tensor<1x32x128x64xbf16>, tensor<1x32x192x64xbf16>, tensor<1x32x192x64xbf16>) {{.*}} {attn.gpu_core = {kv_band = array<i64: 64, 0, 128>, merge = array<i64: 0, 2, 16>, min_blocks_per_sm = 0 : i64, q_tile = 64 : i64}}
// MIR-NOT: attn.sdpa

// MERGED-NOT: exit {{[1-9]}}
// MERGED-NOT: {{[1-9][0-9]*}} bytes stack frame
// MERGED-NOT: {{[1-9][0-9]*}} bytes spill
// MERGED: binary attn_gpu: exit 0
// MERGED-COUNT-2: Compiling entry function 'sdpa_core_{{[0-1]}}'
// MERGED-NOT: Compiling entry function 'sdpa_core
// MERGED-NOT: exit {{[1-9]}}
// MERGED-NOT: {{[1-9][0-9]*}} bytes stack frame
// MERGED-NOT: {{[1-9][0-9]*}} bytes spill
// MERGED: {{[0-9]+}} binaries

func.func @lsh(%qk: tensor<1x2x2048x64xbf16>, %v: tensor<1x2x2048x64xbf16>, %rot: tensor<2x2x64x32xbf16>, %o: tensor<1x2x2048x64xbf16>) -> tensor<1x2x2048x64xbf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x2048x64xbf16>, tensor<1x2x2048x64xbf16>, tensor<2x2x64x32xbf16>) outs(%o : tensor<1x2x2048x64xbf16>) {num_buckets = 64, chunk_size = 64, causal} -> tensor<1x2x2048x64xbf16>
  return %r : tensor<1x2x2048x64xbf16>
}
