// attn-gpu-pipeline on every attn op (format=isa: PTX, no CUDA toolkit
// needed): the general path maps each op's linalg form to kernels in
// gpu.binary ops holding sm_90a PTX, and the host function keeps its memref
// arguments, copies them to device buffers and frees every device buffer.
// RUN: attn-opt %s -split-input-file --pass-pipeline='builtin.module(attn-gpu-pipeline{format=isa})' | FileCheck %s

// CHECK-LABEL: llvm.func @main(
// CHECK: llvm.call @mgpuMemAlloc
// CHECK: llvm.call @mgpuMemcpy
// CHECK: gpu.launch_func
// CHECK: llvm.call @mgpuMemcpy
// CHECK: llvm.call @mgpuMemFree
// CHECK: llvm.call @mgpuStreamSynchronize
// CHECK: gpu.binary @main_kernel {{.*}}assembly = "{{.*}}.target sm_90a
func.func @main(%q: tensor<1x2x?x16xf32>, %k: tensor<1x2x?x16xf32>,
                %v: tensor<1x2x?x16xf32>, %o: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>)
         outs(%o : tensor<1x2x?x16xf32>) pattern(#attn.causal) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// CHECK-LABEL: llvm.func @main(
// CHECK: gpu.launch_func
// CHECK: gpu.binary @main_kernel {{.*}}.target sm_90a
func.func @main(%q: tensor<1x2x?x16xbf16>, %k: tensor<1x2x?x16xbf16>,
                %v: tensor<1x2x?x16xbf16>, %o: tensor<1x2x?x16xbf16>) -> tensor<1x2x?x16xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x16xbf16>, tensor<1x2x?x16xbf16>, tensor<1x2x?x16xbf16>)
         outs(%o : tensor<1x2x?x16xbf16>) -> tensor<1x2x?x16xbf16>
  return %r : tensor<1x2x?x16xbf16>
}

// -----

// CHECK-LABEL: llvm.func @main(
// CHECK: gpu.launch_func
// CHECK: gpu.binary @main_kernel {{.*}}.target sm_90a
func.func @main(%qk: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>,
                %rot: tensor<2x2x16x4xf32>, %o: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<2x2x16x4xf32>)
         outs(%o : tensor<1x2x?x16xf32>) {num_buckets = 8, chunk_size = 8, causal}
         -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// CHECK-LABEL: llvm.func @main(
// CHECK: gpu.launch_func
// CHECK: gpu.binary @main_kernel {{.*}}.target sm_90a
func.func @main(%q: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>,
                %c: tensor<2x4x16xf32>, %o: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.cluster ins(%q, %q, %v, %c : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<2x4x16xf32>)
         outs(%o : tensor<1x2x?x16xf32>) {window = 8, causal} -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// CHECK-LABEL: llvm.func @main(
// CHECK: gpu.launch_func
// CHECK: gpu.binary @main_kernel {{.*}}.target sm_90a
func.func @main(%q: tensor<1x2x?x16xf32>, %k: tensor<1x2x?x16xf32>,
                %v: tensor<1x2x?x16xf32>, %e: tensor<1x8x?xf32>,
                %o: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.lowrank ins(%q, %k, %v : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>)
         projections(%e : tensor<1x8x?xf32>)
         outs(%o : tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// CHECK-LABEL: llvm.func @main(
// CHECK: gpu.launch_func
// CHECK: gpu.binary @main_kernel {{.*}}.target sm_90a
func.func @main(%q: tensor<1x2x?x16xf32>, %k: tensor<1x2x?x16xf32>,
                %v: tensor<1x2x?x16xf32>, %w: tensor<1x32x16xf32>,
                %o: tensor<1x2x?x16xf32>) -> (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) {
  %favor = attn.kernelized favor_plus ins(%q, %k, %v : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>)
         projection(%w : tensor<1x32x16xf32>)
         outs(%o : tensor<1x2x?x16xf32>) {causal} -> tensor<1x2x?x16xf32>
  %linear = attn.kernelized elu_plus_one ins(%q, %k, %v : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>)
         outs(%o : tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32>
  return %favor, %linear : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>
}

// -----

// CHECK-LABEL: llvm.func @main(
// CHECK: gpu.launch_func
// CHECK: gpu.binary @main_kernel {{.*}}.target sm_90a
func.func @main(%q: tensor<1x2x?x16xf32>, %s1: tensor<2x8x8xf32>,
                %s2: tensor<2x8x8xf32>, %values: tensor<64x16xf32>,
                %o: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.pkm ins(%q, %s1, %s2, %values : tensor<1x2x?x16xf32>, tensor<2x8x8xf32>, tensor<2x8x8xf32>, tensor<64x16xf32>)
         outs(%o : tensor<1x2x?x16xf32>) {top_k = 4} -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// CHECK-LABEL: llvm.func @main(
// CHECK: gpu.launch_func
// CHECK: gpu.binary @main_kernel {{.*}}.target sm_90a
func.func @main(%x: tensor<1x?x16xf32>, %w: tensor<4x5xf32>, %o: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  %y = attn.lightconv ins(%x, %w : tensor<1x?x16xf32>, tensor<4x5xf32>)
          outs(%o : tensor<1x?x16xf32>) {causal} -> tensor<1x?x16xf32>
  return %y : tensor<1x?x16xf32>
}
