// attn-gpu-sdpa-core with overlap: the scores of key tile j + 1 are issued
// (an async wgmma group) before tile j's value product, tile j + 1's softmax
// step runs after `wgmma.wait_group 1` (the scores are done, the value
// product may not be), and `wait_group 0` ends the step; K and V have their
// own mbarriers (five in all). Without the option the loop waits for each
// product (no wait_group 1). The PTX keeps that order.
// RUN: attn-opt %s --attn-gpu-sdpa-core="overlap=true" | FileCheck %s
// RUN: attn-opt %s --attn-gpu-sdpa-core | FileCheck %s --check-prefix=PLAIN
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa overlap=true" | FileCheck %s --check-prefix=PTX

// CHECK-COUNT-5: nvvm.mbarrier.init
// CHECK-NOT: nvvm.mbarrier.init
// CHECK: scf.for
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: nvvm.wgmma.mma_async {{.*}}<m = 64, n = 64, k = 16>
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: math.exp2
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "mov.b32 $0, $16;
// CHECK: gpu.barrier
// CHECK: scf.yield

// PLAIN-COUNT-3: nvvm.mbarrier.init
// PLAIN-NOT: nvvm.mbarrier.init
// PLAIN-NOT: nvvm.wgmma.wait.group.sync.aligned 1

// PTX: gpu.binary @attn_gpu
// PTX-SAME: wgmma.commit_group.sync.aligned;
// PTX-SAME: mbarrier.try_wait.parity.shared.b64
// PTX-SAME: { .reg .pred p; setp.ne.b32 p, {{[^;]*}}, 0; wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-SAME: wgmma.commit_group.sync.aligned;
// PTX-SAME: wgmma.wait_group.sync.aligned \091;
func.func @causal(%q: tensor<?x?x?x128xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>) -> tensor<?x?x?x128xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) pattern(#attn.causal) -> tensor<?x?x?x128xbf16>
  return %r : tensor<?x?x?x128xbf16>
}
