// attn.lsh at the bench's bucket count (64 buckets: 32 projections) with a
// static N: the hash kernel keeps the projections of four positions in
// registers (128 accumulators), the gathers write one element of each of
// the four parts of the sdpa heads, and the core runs once per part
// (docs/GPU.md, "LSH and clustered attention on the Hopper core"). ptxas
// assembles every kernel with no stack frame and no spills.
// REQUIRES: ptxas
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa --canonicalize | FileCheck %s --check-prefix=IR
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa" -o %t.mlir
// RUN: %python %S/lsh_cluster_ptxas_all.py %ptxas %t.mlir %t.d | FileCheck %s

// IR: linalg.generic {{.*}} outs({{.*}} : tensor<2x2x512xi64>, tensor<2x2x512xi64>, tensor<2x2x512xi64>, tensor<2x2x512xi64>)
// IR-COUNT-4: attn.sdpa ins({{.*}} : tensor<1x16x128x64xbf16>, tensor<1x16x192x64xbf16>, tensor<1x16x192x64xbf16>)
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
func.func @lsh(%qk: tensor<1x2x2048x64xbf16>, %v: tensor<1x2x2048x64xbf16>, %rot: tensor<2x2x64x32xbf16>, %o: tensor<1x2x2048x64xbf16>) -> tensor<1x2x2048x64xbf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x2048x64xbf16>, tensor<1x2x2048x64xbf16>, tensor<2x2x64x32xbf16>) outs(%o : tensor<1x2x2048x64xbf16>) {num_buckets = 64, chunk_size = 64, causal} -> tensor<1x2x2048x64xbf16>
  return %r : tensor<1x2x2048x64xbf16>
}
