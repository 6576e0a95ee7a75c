// attn-gpu-sdpa-core with warp-specialize: 384 threads, one CTA per
// multiprocessor. Warpgroup 0 is the producer: it lowers its registers
// (setmaxnreg 24) and one thread issues Q and every K/V tile into a ring of
// stages, waiting on the stage's `empty` mbarrier before reusing it. The two
// consumer warpgroups raise theirs (240), wait on `full[stage]` and release
// the stage with one arrive per warpgroup: no CTA barrier in the key loop.
// mbarriers: Q, full[stages], empty[stages] (count 2). With ws-pingpong the
// consumers take turns on named barriers (bar.sync / bar.arrive, 256
// threads). Ops it does not take (here: random lists) keep the plain kernel.
// RUN: attn-opt %s --attn-gpu-sdpa-core="warp-specialize=true" | FileCheck %s
// RUN: attn-opt %s --attn-gpu-sdpa-core="warp-specialize=true ws-stages=3" | FileCheck %s --check-prefix=S3
// RUN: attn-opt %s --attn-gpu-sdpa-core="warp-specialize=true ws-pingpong=true" | FileCheck %s --check-prefix=PP
// RUN: attn-opt %s --attn-gpu-pipeline="format=isa warp-specialize=true ws-pingpong=true" | FileCheck %s --check-prefix=PTX
// RUN: not attn-opt %s --attn-gpu-sdpa-core="warp-specialize=true ws-stages=4" 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK-LABEL: gpu.func @sdpa_core_0
// CHECK-SAME: known_block_size = array<i32: 384, 1, 1>, nvvm.minctasm = 1 : i32
// CHECK-COUNT-3: nvvm.mbarrier.init {{.*}}, %c1_i32
// CHECK-COUNT-2: nvvm.mbarrier.init {{.*}}, %c2_i32
// CHECK-NOT: nvvm.mbarrier.init
// CHECK: gpu.barrier
// CHECK: nvvm.setmaxregister  decrease 24
// CHECK: nvvm.mbarrier.arrive.expect_tx
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.*}}, %arg0,
// CHECK: scf.for
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.mbarrier.arrive.expect_tx
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.*}}, %arg1,
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global {{.*}}, %arg2,
// CHECK: } else {
// CHECK-NEXT: nvvm.setmaxregister  increase 240
// CHECK-NOT: nvvm.cp.async.bulk.tensor
// CHECK: scf.for
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.wgmma.mma_async
// CHECK: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.mbarrier.arrive %{{.*}} : !llvm.ptr<3>
// CHECK-NOT: gpu.barrier
// CHECK: gpu.return
// The op with random lists: the plain kernel (256 threads, a CTA barrier
// per key tile, no setmaxnreg).
// CHECK-LABEL: gpu.func @sdpa_core_1
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>, nvvm.minctasm = 2 : i32
// CHECK-NOT: setmaxregister
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: gpu.barrier

// S3: gpu.func @sdpa_core_0
// S3-COUNT-4: nvvm.mbarrier.init {{.*}}, %c1_i32
// S3-COUNT-3: nvvm.mbarrier.init {{.*}}, %c2_i32
// S3-NOT: nvvm.mbarrier.init
// S3: arith.constant 3 : index

// PP: gpu.func @sdpa_core_0
// PP: nvvm.setmaxregister  increase 240
// PP: nvvm.barrier.arrive id = %{{.*}} number_of_threads = %c256_i32
// PP: nvvm.barrier id = %{{.*}} number_of_threads = %c256_i32
// PP: scf.for
// PP: nvvm.wgmma.commit.group.sync.aligned
// PP-NEXT: nvvm.barrier.arrive id = %{{.*}} number_of_threads = %c256_i32
// PP: nvvm.barrier id = %{{.*}} number_of_threads = %c256_i32
// PP: wgmma.mma_async.sync.aligned.m64n128k16
// PP: } else {
// PP-NEXT: nvvm.barrier.arrive id
// PP-NEXT: nvvm.barrier id
// PP: nvvm.mbarrier.arrive
// PP: nvvm.barrier.arrive id

// PTX: gpu.binary @attn_gpu
// PTX-SAME: .maxntid 384, 1, 1
// PTX-SAME: .minnctapersm 1
// PTX-SAME: setmaxnreg.dec.sync.aligned.u32 \0924;
// PTX-SAME: setmaxnreg.inc.sync.aligned.u32 \09240;
// PTX-SAME: bar.sync \09{{%r[0-9]+}}, 256;

// BAD: ws-stages must be 2 or 3, but got 4
func.func @causal(%q: tensor<?x?x?x128xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>) -> tensor<?x?x?x128xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) pattern(#attn.causal) -> tensor<?x?x?x128xbf16>
  return %r : tensor<?x?x?x128xbf16>
}

func.func @bigbird(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>, %o: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) outs(%o : tensor<?x?x?x64xbf16>) pattern(#attn.union<[#attn.window<left = 64, right = 64>, #attn.random<block = 64, per_row = 3, seed = 7>]>) -> tensor<?x?x?x64xbf16>
  return %r : tensor<?x?x?x64xbf16>
}
