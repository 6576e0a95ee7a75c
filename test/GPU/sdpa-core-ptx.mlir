// The Hopper core down to PTX (attn-gpu-pipeline, format=isa): the TMA
// loads, the mbarrier ring, both wgmma products (the value product through
// the register-A inline asm), the shuffles and ex2 of the softmax.
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa" | FileCheck %s

// The host side builds the tensor maps through the mgpu* runtime functions
// and launches the kernel.
// The inputs are copied to the device and the output allocated there by
// attn-gpu-host-buffers; the launch helper of the core builds the tensor
// maps and launches.
// CHECK: llvm.call @mgpuMemAlloc
// CHECK: llvm.call @sdpa_core_0_launch
// CHECK: llvm.func @sdpa_core_0_launch
// CHECK: llvm.call @mgpuTensorMapEncodeTiledMemref
// CHECK: gpu.launch_func {{.*}}@attn_gpu::@sdpa_core_0
// CHECK: gpu.binary @attn_gpu
// CHECK-SAME: .target sm_90a
// CHECK-SAME: mbarrier.init.shared.b64
// CHECK-SAME: fence.mbarrier_init.release.cluster
// CHECK-SAME: mbarrier.arrive.expect_tx.shared.b64
// CHECK-SAME: cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// CHECK-SAME: mbarrier.try_wait.parity.shared.b64
// CHECK-SAME: wgmma.fence.sync.aligned
// CHECK-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{[^;]*}}, p, 1,  1, 0,  0;
// CHECK-SAME: wgmma.commit_group.sync.aligned
// CHECK-SAME: wgmma.wait_group.sync.aligned \090;
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: ex2.approx.f32
// CHECK-SAME: { .reg .pred p; setp.ne.b32 p, {{[^;]*}}, 0; wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{[^;]*}}, p, 1, 1, 1; }
// CHECK-SAME: st.global.b16
func.func @causal(%q: tensor<?x?x?x128xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>) -> tensor<?x?x?x128xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) pattern(#attn.causal) -> tensor<?x?x?x128xbf16>
  return %r : tensor<?x?x?x128xbf16>
}
