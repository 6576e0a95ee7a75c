// attn-gpu-sdpa-core with warp-specialize and overlap: the producer
// warpgroup and its full/empty ring as without overlap, and the consumers
// run the overlapped loop: S_{j+1} = Q K_{j+1}^T issued (after the wait on
// its stage's full mbarrier), then tile j's value product, wait_group 1,
// tile j + 1's softmax, wait_group 0, and the warpgroup's first thread
// releases tile j's stage on its empty mbarrier. No CTA barrier and no load
// in the consumers; one full mbarrier per stage (K and V together: no V
// mbarriers of the plain overlap kernel). With ws-pingpong the turn is the
// two products of a step: bar.sync before S_{j+1}, bar.arrive after P_j V_j
// (guarded: warpgroup 1 does not pass on its last turn).
// RUN: attn-opt %s --attn-gpu-sdpa-core="warp-specialize=true overlap=true" | FileCheck %s
// RUN: attn-opt %s --attn-gpu-sdpa-core="warp-specialize=true overlap=true ws-pingpong=true" | FileCheck %s --check-prefix=PP
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa warp-specialize=true overlap=true ws-pingpong=true" | FileCheck %s --check-prefix=PTX

// CHECK-LABEL: gpu.func @sdpa_core_0
// CHECK-SAME: known_block_size = array<i32: 384, 1, 1>, nvvm.minctasm = 1 : i32
// CHECK-COUNT-3: nvvm.mbarrier.init {{.*}}, %c1_i32
// CHECK-COUNT-2: nvvm.mbarrier.init {{.*}}, %c2_i32
// CHECK-NOT: nvvm.mbarrier.init
// CHECK: gpu.barrier
// CHECK: nvvm.setmaxregister  decrease 24
// CHECK: scf.for
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.*}}, %arg1,
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.*}}, %arg2,
// CHECK: } else {
// CHECK-NEXT: nvvm.setmaxregister  increase 240
// CHECK-NOT: nvvm.cp.async.bulk.tensor
// CHECK-NOT: gpu.barrier
// The prologue: S_0, its softmax step.
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.wgmma.mma_async
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NOT: gpu.barrier
// The loop: wait for K/V_{j+1}, S_{j+1}, P_j V_j, wait_group 1, softmax,
// wait_group 0, the release of stage j.
// CHECK: scf.for
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.wgmma.mma_async
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NOT: nvvm.mbarrier.try_wait
// CHECK: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK-NOT: gpu.barrier
// CHECK: math.exp2
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.mbarrier.arrive %{{.*}} : !llvm.ptr<3>
// CHECK-NEXT: }
// CHECK-NEXT: scf.yield
// CHECK-NOT: gpu.barrier
// CHECK: gpu.return

// PP: gpu.func @sdpa_core_0
// PP: nvvm.setmaxregister  increase 240
// PP: nvvm.barrier.arrive id = %{{.*}} number_of_threads = %c256_i32
// PP: nvvm.barrier id = %{{.*}} number_of_threads = %c256_i32
// PP: nvvm.wgmma.mma_async
// PP: nvvm.wgmma.commit.group.sync.aligned
// PP: scf.if
// PP-NEXT: nvvm.barrier.arrive id = %{{.*}} number_of_threads = %c256_i32
// PP: nvvm.wgmma.wait.group.sync.aligned 0
// PP: scf.for
// PP: nvvm.mbarrier.try_wait.parity
// PP: nvvm.barrier id = %{{.*}} number_of_threads = %c256_i32
// PP: nvvm.wgmma.mma_async
// PP: wgmma.mma_async.sync.aligned.m64n128k16
// PP: nvvm.wgmma.commit.group.sync.aligned
// PP-NEXT: arith.cmpi ult
// PP-NEXT: arith.ori
// PP-NEXT: scf.if
// PP-NEXT: nvvm.barrier.arrive id = %{{.*}} number_of_threads = %c256_i32
// PP-NEXT: }
// PP-NEXT: nvvm.wgmma.wait.group.sync.aligned 1
// PP: nvvm.mbarrier.arrive %{{.*}} : !llvm.ptr<3>
// PP: scf.yield
// PP-NEXT: }
// PP-NOT: nvvm.barrier
// PP: gpu.return

// PTX: gpu.binary @attn_gpu
// PTX-SAME: .maxntid 384, 1, 1
// PTX-SAME: .minnctapersm 1
// PTX-SAME: setmaxnreg.dec.sync.aligned.u32 \0924;
// PTX-SAME: setmaxnreg.inc.sync.aligned.u32 \09240;
// PTX-SAME: bar.sync \09{{%r[0-9]+}}, 256;
// PTX-SAME: wgmma.wait_group.sync.aligned \091;
func.func @causal(%q: tensor<?x?x?x128xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>) -> tensor<?x?x?x128xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) pattern(#attn.causal) -> tensor<?x?x?x128xbf16>
  return %r : tensor<?x?x?x128xbf16>
}
