// attn.lsh and attn.cluster through attn-gpu-pipeline on sm_90a: ptxas
// assembles every kernel (the core's and the general-path choosing,
// sorting, gathering and combining kernels of attn-gpu-lsh-cluster-as-sdpa)
// with no stack frame and no spills.
// REQUIRES: ptxas
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa" -o %t.mlir
// RUN: %python %S/lsh_cluster_ptxas_all.py %ptxas %t.mlir %t.d | FileCheck %s

// CHECK-NOT: exit {{[1-9]}}
// CHECK-NOT: {{[1-9][0-9]*}} bytes stack frame
// CHECK-NOT: {{[1-9][0-9]*}} bytes spill
// CHECK: binary attn_gpu: exit 0
// CHECK-COUNT-2: Compiling entry function 'sdpa_core_{{[01]}}'
// CHECK-NOT: exit {{[1-9]}}
// CHECK-NOT: {{[1-9][0-9]*}} bytes stack frame
// CHECK-NOT: {{[1-9][0-9]*}} bytes spill
// CHECK: {{[0-9]+}} binaries
func.func @lsh(%qk: tensor<1x2x1024x64xbf16>, %v: tensor<1x2x1024x64xbf16>, %rot: tensor<2x2x64x8xbf16>, %o: tensor<1x2x1024x64xbf16>) -> tensor<1x2x1024x64xbf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x1024x64xbf16>, tensor<1x2x1024x64xbf16>, tensor<2x2x64x8xbf16>) outs(%o : tensor<1x2x1024x64xbf16>) {num_buckets = 16, chunk_size = 64, causal} -> tensor<1x2x1024x64xbf16>
  return %r : tensor<1x2x1024x64xbf16>
}

func.func @cluster(%q: tensor<1x4x300x64xbf16>, %k: tensor<1x2x300x64xbf16>, %v: tensor<1x2x300x64xbf16>, %c: tensor<4x2x64xf32>, %o: tensor<1x4x300x64xbf16>) -> tensor<1x4x300x64xbf16> {
  %r = attn.cluster ins(%q, %k, %v, %c : tensor<1x4x300x64xbf16>, tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16>, tensor<4x2x64xf32>) outs(%o : tensor<1x4x300x64xbf16>) {window = 64, causal} -> tensor<1x4x300x64xbf16>
  return %r : tensor<1x4x300x64xbf16>
}
