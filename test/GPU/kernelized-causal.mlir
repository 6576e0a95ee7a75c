// attn-gpu-kernelized-as-sdpa's causal step: a causal favor_plus
// attn.kernelized in bf16 / f16 with D = Dv = 64 or 128 becomes the chunked
// scan of GpuKernelizedCausal.cpp (docs/GPU.md, "Causal FAVOR+"): 14
// linalg.generic ops (features, stabilisers, chunk states, the two-level
// exclusive prefix, the live scores within a chunk, numerator and
// denominator, the ratio) and no attn.sdpa; f32 and causal elu_plus_one stay.
// Through attn-gpu-pipeline each generic is a general-path kernel; ptxas
// assembles every one without spills.
// RUN: attn-opt %s --attn-gpu-kernelized-as-sdpa | FileCheck %s
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa" -o %t.mlir
// RUN: FileCheck %s --check-prefix=PIPE < %t.mlir
// RUN: %if ptxas %{ %python %S/ptxas_each.py %ptxas %t.mlir %t.dir | FileCheck %s --check-prefix=PTXAS %}

// CHECK-LABEL: func.func @favor_causal
// CHECK-NOT: attn.sdpa
// CHECK: arith.ceildivui %{{.*}}, %c64
// CHECK: arith.ceildivui %{{.*}}, %c16
// CHECK-COUNT-14: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK-NOT: attn.kernelized
// CHECK: return
// CHECK-LABEL: func.func @favor_causal_gqa_d128
// CHECK-NOT: attn.kernelized
// CHECK: tensor.empty({{.*}}) : tensor<?x64x?xf32>
// CHECK-COUNT-14: linalg.generic
// CHECK-NOT: attn.kernelized
// CHECK: return
// CHECK-LABEL: func.func @not_taken
// CHECK-COUNT-2: attn.kernelized
// CHECK-NOT: linalg.generic
// CHECK: return

// PIPE: llvm.func @favor_causal
// PIPE-COUNT-15: gpu.launch_func
// PIPE: llvm.func @favor_causal_gqa_d128
// PIPE: gpu.binary
// PIPE-SAME: .target sm_90a
// PIPE-NOT: wgmma

// The 58 kernels of the three functions (not_taken's general path included).
// PTXAS-COUNT-58: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: spill

func.func @favor_causal(%q: tensor<2x16x?x64xbf16>, %k: tensor<2x16x?x64xbf16>, %v: tensor<2x16x?x64xbf16>, %w: tensor<16x256x64xbf16>, %o: tensor<2x16x?x64xbf16>) -> tensor<2x16x?x64xbf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<2x16x?x64xbf16>, tensor<2x16x?x64xbf16>, tensor<2x16x?x64xbf16>)
         projection(%w : tensor<16x256x64xbf16>)
         outs(%o : tensor<2x16x?x64xbf16>) {causal} -> tensor<2x16x?x64xbf16>
  return %r : tensor<2x16x?x64xbf16>
}

// Grouped-query heads (4 / 2), one projection head, D 128, dynamic B and N.
func.func @favor_causal_gqa_d128(%q: tensor<?x4x?x128xf16>, %k: tensor<?x2x?x128xf16>, %v: tensor<?x2x?x128xf16>, %w: tensor<1x64x128xf16>, %o: tensor<?x4x?x128xf16>) -> tensor<?x4x?x128xf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<?x4x?x128xf16>, tensor<?x2x?x128xf16>, tensor<?x2x?x128xf16>)
         projection(%w : tensor<1x64x128xf16>)
         outs(%o : tensor<?x4x?x128xf16>) {causal} -> tensor<?x4x?x128xf16>
  return %r : tensor<?x4x?x128xf16>
}

func.func @not_taken(%qf: tensor<1x2x?x64xf32>, %wf: tensor<2x16x64xf32>, %of: tensor<1x2x?x64xf32>,
                     %q: tensor<1x2x?x64xbf16>, %o: tensor<1x2x?x64xbf16>)
    -> (tensor<1x2x?x64xf32>, tensor<1x2x?x64xbf16>) {
  %f32 = attn.kernelized favor_plus ins(%qf, %qf, %qf : tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>)
         projection(%wf : tensor<2x16x64xf32>)
         outs(%of : tensor<1x2x?x64xf32>) {causal} -> tensor<1x2x?x64xf32>
  %elu = attn.kernelized elu_plus_one ins(%q, %q, %q : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>)
         outs(%o : tensor<1x2x?x64xbf16>) {causal} -> tensor<1x2x?x64xbf16>
  return %f32, %elu : tensor<1x2x?x64xf32>, tensor<1x2x?x64xbf16>
}
