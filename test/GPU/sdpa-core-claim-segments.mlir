// RUN: attn-opt %s --attn-gpu-sdpa-core=claim=true | FileCheck %s
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-gpu-pipeline{format=isa})' | FileCheck %s --check-prefix=PIPE

// The claiming step leaves an sdpa with document ids to the general path
// (attn-lower-to-linalg), which handles them; the one without is claimed.
// In attn-gpu-pipeline, the one with ids becomes kernels of the general
// path (PTX for sm_90a); none of them is the core's.
// PIPE-LABEL: llvm.func @segments(
// PIPE: gpu.launch_func
// PIPE-NOT: attn_gpu
// PIPE: gpu.binary @segments_kernel {{.*}}.target sm_90a
// CHECK-LABEL: func.func @segments
// CHECK: attn.sdpa {{.*}} segments(
// CHECK-LABEL: func.func @plain
// CHECK-NOT: attn.sdpa
// CHECK: return
func.func @segments(%q: tensor<1x2x8x64xbf16>, %s: tensor<1x8xi32>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) segments(%s, %s : tensor<1x8xi32>, tensor<1x8xi32>) -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}
func.func @plain(%q: tensor<1x2x8x64xbf16>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}
