// attn-gpu-kernelized-as-sdpa's causal step: a causal favor_plus
// attn.kernelized in bf16 / f16 with D = Dv = 64 or 128 becomes the chunked
// scan of GpuKernelizedCausal.cpp (docs/GPU.md, "Causal FAVOR+") and no
// attn.sdpa. By default (causal-mma=launch) its six matrix products
// (features of k and q, chunk states, the live scores within a chunk with
// the causal mask in the epilogue, the two numerator terms) are mma.sync
// kernels of gpu.module @attn_gpu, each launched from a host helper, and the
// exclusive prefix of the chunk states is one more kernel (@..._scan: a
// thread per state element walks the chunks, the running rescale in a
// register), between 8 linalg.generic ops (norms, stabilisers,
// exponentials, v transposed, the ratio; the row maxima of q's features come
// from their kernel's epilogue, a second result per 64-column tile); the products' operands and the
// running maximum the scan reads are bufferization.alloc_tensor inits, never
// a shared tensor.empty. causal-prefix=levels keeps the prefix of session 12
// (two levels of groups: 12 generics). causal-mma=off keeps the scalar scan
// of 14 generics. f32 and causal
// elu_plus_one stay. Through attn-gpu-pipeline each generic is a
// general-path kernel; the PTX has the bf16 and f16 mma.sync, and ptxas
// assembles every kernel without spills.
// RUN: attn-opt %s --attn-gpu-kernelized-as-sdpa | FileCheck %s
// RUN: attn-opt %s --attn-gpu-kernelized-as-sdpa=causal-mma=off | FileCheck %s --check-prefix=OFF
// RUN: attn-opt %s --attn-gpu-kernelized-as-sdpa=causal-prefix=levels | FileCheck %s --check-prefix=LEVELS
// RUN: not attn-opt %s --attn-gpu-kernelized-as-sdpa=causal-prefix=tree 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa" -o %t.mlir
// RUN: FileCheck %s --check-prefix=PIPE < %t.mlir
// RUN: %if ptxas %{ %python %S/ptxas_each.py %ptxas %t.mlir %t.dir | FileCheck %s --check-prefix=PTXAS %}

// CHECK-LABEL: func.func @favor_causal(
// CHECK-NOT: attn.sdpa
// CHECK: arith.ceildivui %{{.*}}, %c64
// CHECK: arith.ceildivui %{{.*}}, %c16
// CHECK: call @favor_mma_0_0_launch
// CHECK: call @favor_mma_0_1_launch
// CHECK: bufferization.alloc_tensor({{.*}}) : tensor<32x?xf32>
// CHECK: bufferization.alloc_tensor
// CHECK: call @favor_mma_0_2_launch
// CHECK-NOT: linalg.generic
// CHECK: call @favor_mma_0_scan_launch
// CHECK-NOT: linalg.generic
// CHECK: call @favor_mma_0_3_launch
// CHECK: call @favor_mma_0_4_launch
// CHECK: call @favor_mma_0_5_launch
// CHECK: linalg.generic
// CHECK-NOT: attn.kernelized
// CHECK: return
// CHECK: func.func private @favor_mma_0_5_launch
// CHECK: gpu.launch_func @attn_gpu::@favor_mma_0_5
// CHECK: func.func private @favor_mma_0_scan_launch
// CHECK: gpu.launch_func @attn_gpu::@favor_mma_0_scan
// CHECK-LABEL: func.func @favor_causal_gqa_d128
// CHECK-NOT: attn.kernelized
// CHECK: call @favor_mma_1_5_launch
// CHECK: return
// CHECK-LABEL: func.func @not_taken
// CHECK-COUNT-2: attn.kernelized
// CHECK-NOT: linalg.generic
// CHECK: return
// CHECK: gpu.module @attn_gpu
// CHECK: gpu.func @favor_mma_0_0
// CHECK-NOT: gpu.shuffle
// CHECK: nvvm.mma.sync
// CHECK-SAME: multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK: gpu.func @favor_mma_0_1(%{{.*}}: memref<?x?x?xbf16>, %{{.*}}: memref<?x?x?xbf16>, %{{.*}}: memref<?x?x?xf32>, %[[MX:.*]]: memref<?x?x?xf32>, %{{.*}}: index)
// CHECK: nvvm.mma.sync
// CHECK: gpu.shuffle xor
// CHECK: gpu.shuffle xor
// CHECK: memref.store %{{.*}}, %[[MX]][
// CHECK: gpu.func @favor_mma_0_2(
// CHECK: gpu.func @favor_mma_0_scan(%{{.*}}: memref<?x?x?xf32>, %{{.*}}: memref<?x?xf32>, %{{.*}}: memref<?x?x?xbf16>, %{{.*}}: index)
// CHECK: scf.for {{.*}} step %c4
// CHECK-COUNT-4: memref.load
// CHECK: memref.store {{.*}} : memref<?x?x?xbf16>
// CHECK: math.exp
// CHECK: gpu.func @favor_mma_1_0
// CHECK-SAME: memref<?x?x?xf16>
// CHECK: nvvm.mma.sync
// CHECK: gpu.func @favor_mma_1_scan
// CHECK-SAME: memref<?x?x?xf16>

// LEVELS-LABEL: func.func @favor_causal(
// LEVELS: call @favor_mma_0_2_launch
// LEVELS-COUNT-3: linalg.generic
// LEVELS: call @favor_mma_0_3_launch
// LEVELS-NOT: _scan
// LEVELS-LABEL: func.func @not_taken

// BAD: causal-prefix must be scan or levels, but got 'tree'

// OFF-LABEL: func.func @favor_causal(
// OFF-NOT: attn.sdpa
// OFF: arith.ceildivui %{{.*}}, %c64
// OFF: arith.ceildivui %{{.*}}, %c16
// OFF-COUNT-14: linalg.generic
// OFF-NOT: linalg.generic
// OFF-NOT: attn.kernelized
// OFF: return
// OFF-LABEL: func.func @favor_causal_gqa_d128
// OFF-NOT: attn.kernelized
// OFF: tensor.empty({{.*}}) : tensor<?x64x?xf32>
// OFF-COUNT-14: linalg.generic
// OFF-NOT: gpu.module
// OFF-LABEL: func.func @not_taken

// PIPE: llvm.func @favor_causal
// PIPE-COUNT-12: gpu.launch_func
// PIPE: llvm.func @favor_causal_gqa_d128
// PIPE: gpu.binary @attn_gpu
// PIPE-SAME: .target sm_90a
// PIPE-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PIPE-SAME: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PIPE-NOT: wgmma

// The 60 kernels of the three functions (not_taken's general path included).
// PTXAS-COUNT-60: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
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
