// RUN: attn-opt %s --attn-gpu-sdpa-core=claim=true | FileCheck %s
// RUN: attn-opt %s --pass-pipeline='builtin.module(attn-gpu-pipeline{format=isa})' | FileCheck %s --check-prefix=PIPE

// The claiming step leaves an sdpa with a mask_mod to the general path
// (attn-lower-to-linalg), which handles it: in attn-gpu-pipeline it becomes
// kernels of the general path (PTX for sm_90a), none of them the core's.
// PIPE-LABEL: llvm.func @mask_mod(
// PIPE: gpu.launch_func
// PIPE-NOT: attn_gpu
// PIPE: gpu.binary @mask_mod_kernel {{.*}}.target sm_90a
// CHECK-LABEL: func.func @mask_mod
// CHECK: attn.sdpa {{.*}} mask_mod
func.func @mask_mod(%q: tensor<1x2x8x64xbf16>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>)
         mask_mod {
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           %t = arith.cmpi sge, %i, %j : index
           attn.yield %t : i1
         } -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}
