// RUN: attn-opt %s --attn-gpu-sdpa-core=claim=true | FileCheck %s
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-gpu-pipeline{format=isa})' | FileCheck %s --check-prefix=PIPE

// The claiming step takes an sdpa with document ids too (the core reads
// them; sdpa-core-segments.mlir). In attn-gpu-pipeline both become launches
// of the core's kernels: the one with ids also launches its sorted-ids
// kernel after filling the flags (mgpuMemset32).
// PIPE-LABEL: llvm.func @sdpa_core_0_launch(
// PIPE: llvm.call @mgpuMemset32
// PIPE: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_0_sorted
// PIPE: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_0 blocks
// PIPE-LABEL: llvm.func @sdpa_core_1_launch(
// PIPE-NOT: mgpuMemset32
// PIPE: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_1 blocks
// PIPE: gpu.binary @attn_gpu {{.*}}.target sm_90a
// PIPE-SAME: .entry sdpa_core_0(
// PIPE-SAME: vote.sync.ballot.b32
// PIPE-SAME: popc.b32
// PIPE-SAME: .entry sdpa_core_0_sorted(
// CHECK-LABEL: func.func @segments
// CHECK-NOT: attn.sdpa ins
// CHECK: call @sdpa_core_0_launch
// CHECK-LABEL: func.func @plain
// CHECK-NOT: attn.sdpa ins
// CHECK: call @sdpa_core_1_launch
func.func @segments(%q: tensor<1x2x8x64xbf16>, %s: tensor<1x8xi32>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) segments(%s, %s : tensor<1x8xi32>, tensor<1x8xi32>) -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}
func.func @plain(%q: tensor<1x2x8x64xbf16>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}
