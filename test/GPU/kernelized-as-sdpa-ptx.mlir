// FAVOR+ through attn-gpu-pipeline on sm_90a: both attn.sdpa ops of
// attn-gpu-kernelized-as-sdpa are claimed by the Hopper core (two TMA +
// wgmma kernels with a bias operand); the W repetition and the key bias are
// general-path kernels. ptxas assembles the core's kernels without spills.
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa" -o %t.mlir
// RUN: FileCheck %s < %t.mlir
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa abi=device" | FileCheck %s --check-prefix=DEVICE
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa chip=sm_90" | FileCheck %s --check-prefix=SM90

// CHECK: llvm.func @favor
// CHECK-DAG: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_0
// CHECK-DAG: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_1
// CHECK: gpu.binary @attn_gpu
// CHECK-SAME: .target sm_90a
// CHECK-SAME: cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// CHECK-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK-SAME: ex2.approx.f32
// CHECK-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK-NOT: sdpa_core_2

// The device ABI: the second sdpa writes the caller's outs in place.
// DEVICE: llvm.func @favor
// DEVICE-COUNT-2: llvm.call @sdpa_core_{{[01]}}_launch
// DEVICE-NOT: llvm.call @sdpa_core

// Without wgmma (sm_90) the op takes the general path: no core kernel.
// SM90-NOT: sdpa_core
// SM90: gpu.binary

// RUN: %if ptxas %{ %python %attn_src_root/bench/gpu/extract_ptx.py %t.mlir %t.ptx --binary attn_gpu %}
// RUN: %if ptxas %{ %ptxas -arch=sm_90a -v %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}
// PTXAS-COUNT-2: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PTXAS-NOT: spill
func.func @favor(%q: tensor<2x16x?x64xbf16>, %k: tensor<2x16x?x64xbf16>, %v: tensor<2x16x?x64xbf16>, %w: tensor<16x256x64xbf16>, %o: tensor<2x16x?x64xbf16>) -> tensor<2x16x?x64xbf16> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<2x16x?x64xbf16>, tensor<2x16x?x64xbf16>, tensor<2x16x?x64xbf16>)
         projection(%w : tensor<16x256x64xbf16>)
         outs(%o : tensor<2x16x?x64xbf16>) -> tensor<2x16x?x64xbf16>
  return %r : tensor<2x16x?x64xbf16>
}
