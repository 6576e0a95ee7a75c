// attn-gpu-pipeline{abi=device}: the entry takes device buffers and writes
// its result into the outs argument: no allocation or copy of an argument,
// one stream, one synchronisation before the return.
// RUN: attn-opt %s -split-input-file --pass-pipeline='builtin.module(attn-gpu-pipeline{format=isa abi=device})' | FileCheck %s
// RUN: attn-opt %s -split-input-file --pass-pipeline='builtin.module(attn-gpu-pipeline{format=isa abi=device})' | FileCheck %s --check-prefix=NOCOPY
// RUN: not attn-opt %s -split-input-file --pass-pipeline='builtin.module(attn-gpu-pipeline{abi=shared})' 2>&1 | FileCheck %s --check-prefix=ABI

// NOCOPY-NOT: mgpuMemcpy
// ABI: attn-gpu-pipeline: abi must be host or device, but got 'shared'

// bf16 sdpa on the Hopper core: its output buffer is the outs argument
// (the launch helper gets it), nothing is allocated.
// CHECK-LABEL: llvm.func @sdpa(
// CHECK-NOT: mgpu
// CHECK: llvm.call @sdpa_core_0_launch(
// CHECK-NOT: mgpu
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @sdpa_core_0_launch(
// CHECK-NOT: mgpuMem
// CHECK: llvm.call @mgpuStreamCreate
// CHECK-NEXT: gpu.launch_func
// CHECK-NEXT: llvm.call @mgpuStreamSynchronize
// CHECK-NEXT: llvm.call @mgpuStreamDestroy
// CHECK-NOT: mgpu
// CHECK: llvm.return
func.func @sdpa(%q: tensor<1x2x?x64xbf16>, %k: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>, %o: tensor<1x2x?x64xbf16>) -> tensor<1x2x?x64xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>) outs(%o : tensor<1x2x?x64xbf16>) {pattern = #attn.causal} -> tensor<1x2x?x64xbf16>
  return %r : tensor<1x2x?x64xbf16>
}

// -----

// The general path: only the op's own temporaries are allocated (on the
// stream), none for an argument; the result is the outs argument.
// CHECK-LABEL: llvm.func @conv(
// CHECK: llvm.call @mgpuStreamCreate
// CHECK-NOT: mgpuStreamCreate
// CHECK: llvm.call @mgpuStreamSynchronize
// CHECK-NOT: mgpuStreamSynchronize
// CHECK: llvm.return
func.func @conv(%x: tensor<1x?x16xf32>, %w: tensor<4x5xf32>, %o: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  %y = attn.lightconv ins(%x, %w : tensor<1x?x16xf32>, tensor<4x5xf32>)
          outs(%o : tensor<1x?x16xf32>) {causal} -> tensor<1x?x16xf32>
  return %y : tensor<1x?x16xf32>
}
