// RUN: attn-opt %s --attn-gpu-sdpa-core | FileCheck %s

// The Hopper core takes attn.sdpa with document ids (segments). The host
// side checks their shapes, fills the [B] "key ids sorted" flags with 1 and
// launches the sorted-ids kernel (Nk > 1) before the core; the core reads
// both id tensors and the flags.
// CHECK-LABEL: func.func @causal
// CHECK-COUNT-2: cf.assert {{.*}} "attn.sdpa on the Hopper core: segments must be [B, Nq] and [B, Nk]"
// CHECK: gpu.alloc ({{.*}}) : memref<?xi32>
// CHECK: call @sdpa_core_0_launch
// CHECK-LABEL: func.func private @sdpa_core_0_launch
// CHECK: gpu.memset %{{.*}}, %c1_i32 : memref<?xi32>, i32
// CHECK: scf.if
// CHECK: gpu.launch_func @attn_gpu::@sdpa_core_0_sorted {{.*}} threads in (%c256{{.*}} args(%{{.*}} : memref<?x?xi32>, %{{.*}} : memref<?xi32>, %{{.*}} : index)
// CHECK: gpu.launch_func @attn_gpu::@sdpa_core_0 {{.*}}, %{{.*}} : memref<?x?x?xbf16>, %{{.*}} : memref<?x?xi32>, %{{.*}} : memref<?x?xi32>, %{{.*}} : memref<?xi32>, %{{.*}} : index

// i64 query ids with i32 key ids: no clipping change, compares in i64.
// CHECK-LABEL: func.func @mixed
// CHECK: gpu.launch_func @attn_gpu::@sdpa_core_1 {{.*}} : memref<?x?xi64>, %{{.*}} : memref<?x?xi32>, %{{.*}} : memref<?xi32>

// Causal is one key interval per query tile: the kernel finds the key rows
// of the query tile's documents by two 32-ary searches (vote.sync ballots)
// when the flag says sorted, and clips the key loop to them.
// CHECK-LABEL: gpu.func @sdpa_core_0(
// CHECK-SAME: %[[QS:[a-z0-9]+]]: memref<?x?xi32>, %[[KS:[a-z0-9]+]]: memref<?x?xi32>, %[[SORTED:[a-z0-9]+]]: memref<?xi32>
// CHECK: memref.load %[[SORTED]]
// CHECK: scf.while
// CHECK: nvvm.vote.sync ballot
// CHECK: math.ctpop
// CHECK: nvvm.vote.sync ballot
// CHECK: scf.for
// Per key tile: its id range (first and last id when sorted, a warp
// reduction otherwise), met with the pattern's kind.
// CHECK: memref.load %[[KS]]
// CHECK: gpu.shuffle xor
// CHECK: nvvm.wgmma.mma_async
// Partial tiles compare the ids per element (i32 here).
// CHECK: memref.load %[[KS]]
// CHECK: arith.cmpi eq, %{{.*}}, %{{.*}} : i32
// CHECK: gpu.return
// CHECK-LABEL: gpu.func @sdpa_core_0_sorted(
// CHECK-SAME: %[[K:[a-z0-9]+]]: memref<?x?xi32>, %[[FLAGS:[a-z0-9]+]]: memref<?xi32>
// CHECK-COUNT-16: memref.load %[[K]]
// CHECK: arith.cmpi sgt
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %[[FLAGS]]
// CHECK: gpu.return

// CHECK-LABEL: gpu.func @sdpa_core_1(
// CHECK: nvvm.vote.sync ballot
// CHECK: arith.cmpi eq, %{{.*}}, %{{.*}} : i64
// CHECK: gpu.return

// BigBird (three key intervals and random lists): no clipping, every tile
// is classified from the id ranges.
// CHECK-LABEL: gpu.func @sdpa_core_2(
// CHECK-NOT: nvvm.vote.sync
// CHECK: memref.load %arg5
// CHECK: gpu.return
func.func @causal(%q: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>, %qs: tensor<?x?xi32>, %ks: tensor<?x?xi32>) -> tensor<?x?x?x128xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) segments(%qs, %ks : tensor<?x?xi32>, tensor<?x?xi32>) pattern(#attn.causal) -> tensor<?x?x?x128xbf16>
  return %r : tensor<?x?x?x128xbf16>
}
func.func @mixed(%q: tensor<?x?x?x64xf16>, %o: tensor<?x?x?x64xf16>, %qs: tensor<?x?xi64>, %ks: tensor<?x?xi32>) -> tensor<?x?x?x64xf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>) outs(%o : tensor<?x?x?x64xf16>) segments(%qs, %ks : tensor<?x?xi64>, tensor<?x?xi32>) -> tensor<?x?x?x64xf16>
  return %r : tensor<?x?x?x64xf16>
}
func.func @bigbird(%q: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>, %qs: tensor<?x?xi32>, %ks: tensor<?x?xi32>) -> tensor<?x?x?x128xbf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) segments(%qs, %ks : tensor<?x?xi32>, tensor<?x?xi32>) pattern(#attn.union<[#attn.window<left = 64, right = 64>, #attn.global<first = 64>, #attn.random<block = 64, per_row = 3, seed = 7>]>) -> tensor<?x?x?x128xbf16>
  return %r : tensor<?x?x?x128xbf16>
}
