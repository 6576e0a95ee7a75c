// Every kernel of FAVOR+ on the Hopper core (the two core kernels and the
// general path's W repetition, key norms and log-sum-exp merge of the key
// runs) is accepted by ptxas (format=bin runs it), at D = 64 and D = 128,
// grouped-query heads, key runs (static Nk) and a projection of one head.
// REQUIRES: ptxas
// RUN: attn-opt %s --attn-gpu-pipeline="format=bin abi=device" | FileCheck %s

// CHECK-DAG: gpu.binary @attn_gpu
// CHECK-DAG: llvm.func @favor_d128
// CHECK-DAG: llvm.func @favor_d64_runs
func.func @favor_d128(%q: tensor<1x4x?x128xf16>, %k: tensor<1x2x?x128xf16>, %v: tensor<1x2x?x128xf16>, %w: tensor<1x64x128xf16>, %o: tensor<1x4x?x128xf16>) -> tensor<1x4x?x128xf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<1x4x?x128xf16>, tensor<1x2x?x128xf16>, tensor<1x2x?x128xf16>)
         projection(%w : tensor<1x64x128xf16>)
         outs(%o : tensor<1x4x?x128xf16>) -> tensor<1x4x?x128xf16>
  return %r : tensor<1x4x?x128xf16>
}

func.func @favor_d64_runs(%q: tensor<2x4x8192x64xbf16>, %k: tensor<2x2x8192x64xbf16>, %v: tensor<2x2x8192x64xbf16>, %w: tensor<4x256x64xbf16>, %o: tensor<2x4x8192x64xbf16>) -> tensor<2x4x8192x64xbf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<2x4x8192x64xbf16>, tensor<2x2x8192x64xbf16>, tensor<2x2x8192x64xbf16>)
         projection(%w : tensor<4x256x64xbf16>)
         outs(%o : tensor<2x4x8192x64xbf16>) -> tensor<2x4x8192x64xbf16>
  return %r : tensor<2x4x8192x64xbf16>
}
