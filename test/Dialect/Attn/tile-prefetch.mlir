// attn-tile{prefetch=true}: each query tile prefetches the next query tile's
// rows of q and, before its key loop, the rows of k and v of the key tile
// just past each of its key ranges (in a band, the one tile that the next
// query tile reads and no tile of this one did); no prefetch inside the key
// loop. One memref.prefetch per 64-byte line: 4 per row of 64 f32, 2 per
// row of 64 bf16, on read-only buffers of the operands. With the destination
// written in place (fresh-destination=false), the next query tile's output
// rows too, with the write hint. Without the option the form has no
// prefetch.
// RUN: attn-opt %s --attn-tile="q-tile=64 kv-tile=64 prefetch=true" | FileCheck %s
// RUN: attn-opt %s --attn-tile="q-tile=64 kv-tile=64 prefetch=true fresh-destination=false" | FileCheck %s --check-prefix=INPLACE
// RUN: attn-opt %s --attn-tile="q-tile=64 kv-tile=64" | FileCheck %s --check-prefix=NONE

// CHECK-LABEL: func.func @window
// CHECK-DAG: %[[QB:.*]] = bufferization.to_buffer %arg0 read_only
// CHECK-DAG: %[[KB:.*]] = bufferization.to_buffer %arg1 read_only
// CHECK-DAG: %[[VB:.*]] = bufferization.to_buffer %arg2 read_only
// CHECK-NOT: bufferization.to_buffer %arg3
// CHECK: scf.forall
// CHECK: scf.for %[[R:.*]] =
// CHECK-COUNT-4: memref.prefetch %[[QB]][%{{.*}}, %{{.*}}, %[[R]], %{{.*}}], read, locality<2>, data
// CHECK-NOT: memref.prefetch
// The window's one key range: tiles [FIRST, FIRST + COUNT); the prefetched
// tile is FIRST + COUNT.
// CHECK: %[[LEN:.*]] = arith.addi %c0{{.*}}, %[[COUNT:.*]] : index
// CHECK: %[[PAST:.*]] = arith.addi %[[FIRST:.*]], %[[COUNT]] : index
// CHECK: %[[ROW:.*]] = arith.muli %[[PAST]], %c64
// CHECK: scf.for %[[KR:.*]] = %[[ROW]] to
// CHECK-COUNT-4: memref.prefetch %[[KB]][%{{.*}}, %{{.*}}, %[[KR]], %{{.*}}], read, locality<2>, data
// CHECK: scf.for %[[VR:.*]] =
// CHECK-COUNT-4: memref.prefetch %[[VB]][%{{.*}}, %{{.*}}, %[[VR]], %{{.*}}], read, locality<2>, data
// CHECK-NOT: memref.prefetch
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[LEN]] step %{{.*}} iter_args
// CHECK-NOT: memref.prefetch
// CHECK: scf.forall.in_parallel
// INPLACE-LABEL: func.func @window
// INPLACE: %[[OB:.*]] = bufferization.to_buffer %arg3 read_only
// INPLACE: scf.forall
// INPLACE: scf.for
// INPLACE-COUNT-4: memref.prefetch %{{.*}}, read, locality<2>, data
// INPLACE: scf.for %[[OR:.*]] =
// INPLACE-COUNT-4: memref.prefetch %[[OB]][%{{.*}}, %{{.*}}, %[[OR]], %{{.*}}], write, locality<2>, data
// NONE-LABEL: func.func @window
// NONE-NOT: memref.prefetch
func.func @window(%q: tensor<1x2x?x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>,
                  %o: tensor<1x2x?x64xf32>) -> tensor<1x2x?x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>)
         outs(%o : tensor<1x2x?x64xf32>) pattern(#attn.window<left = 128, right = 128>)
         -> tensor<1x2x?x64xf32>
  return %r : tensor<1x2x?x64xf32>
}

// BigBird-like: the random part's key range spans every key tile, most of
// them Empty for a given query tile. Prefetching the next tile at each
// visited tile would pull all of k and v through the cache for every query
// tile (BigBird N=16384 1.5x slower); here each of the 3 ranges prefetches
// one tile before the loop (the random range's is past the end: nothing),
// and the key loop has none.
// CHECK-LABEL: func.func @bigbird
// CHECK: scf.forall
// CHECK-COUNT-4: memref.prefetch %{{.*}}, read, locality<2>, data
// CHECK-COUNT-24: memref.prefetch %{{.*}}, read, locality<2>, data
// CHECK-NOT: memref.prefetch
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK-NOT: memref.prefetch
// CHECK: scf.forall.in_parallel
func.func @bigbird(%q: tensor<1x2x256x64xf32>, %k: tensor<1x2x256x64xf32>, %v: tensor<1x2x256x64xf32>,
                   %o: tensor<1x2x256x64xf32>) -> tensor<1x2x256x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>)
         outs(%o : tensor<1x2x256x64xf32>)
         pattern(#attn.union<[#attn.window<left = 64, right = 64>, #attn.global<first = 64>, #attn.random<block = 64, per_row = 1, seed = 2020>]>)
         -> tensor<1x2x256x64xf32>
  return %r : tensor<1x2x256x64xf32>
}

// CHECK-LABEL: func.func @bf16
// CHECK: scf.for %[[R:.*]] =
// CHECK-NEXT: arith.constant 0
// CHECK-NEXT: memref.prefetch %{{.*}}[%{{.*}}, %{{.*}}, %[[R]], %{{.*}}], read, locality<2>, data : memref<1x1x?x64xbf16
// CHECK-NEXT: arith.constant 32
// CHECK-NEXT: memref.prefetch %{{.*}}[%{{.*}}, %{{.*}}, %[[R]], %{{.*}}], read, locality<2>, data : memref<1x1x?x64xbf16
// CHECK-NEXT: }
func.func @bf16(%q: tensor<1x1x?x64xbf16>, %k: tensor<1x1x?x64xbf16>, %v: tensor<1x1x?x64xbf16>,
                %o: tensor<1x1x?x64xbf16>) -> tensor<1x1x?x64xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x1x?x64xbf16>, tensor<1x1x?x64xbf16>, tensor<1x1x?x64xbf16>)
         outs(%o : tensor<1x1x?x64xbf16>) pattern(#attn.causal) -> tensor<1x1x?x64xbf16>
  return %r : tensor<1x1x?x64xbf16>
}
