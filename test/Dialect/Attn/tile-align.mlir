// RUN: attn-opt %s --attn-tile="q-tile=128 kv-tile=64" --canonicalize --cse | FileCheck %s

// attn-tile narrows its tiles to a divisor of the blocks of a pattern's
// block-structured parts, so that no tile straddles two blocks: BigBird's
// 64-blocks with 128 x 64 tiles get 64 x 64 tiles (256 rows: 4 query tiles).
// CHECK-LABEL: func.func @bigbird_blocks
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK-NEXT: arith.muli %{{.*}}, %c64 : index
// CHECK: scf.for
// CHECK: arith.muli %{{.*}}, %c64 : index
func.func @bigbird_blocks(%q: tensor<1x1x256x8xf32>, %o: tensor<1x1x256x8xf32>) -> tensor<1x1x256x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x256x8xf32>, tensor<1x1x256x8xf32>, tensor<1x1x256x8xf32>)
         outs(%o : tensor<1x1x256x8xf32>)
         pattern(#attn.union<[#attn.block_local<size = 64>, #attn.global<first = 128>,
                              #attn.random<block = 64, per_row = 1, seed = 7>]>)
         -> tensor<1x1x256x8xf32>
  return %r : tensor<1x1x256x8xf32>
}

// Blocks of 48: the largest divisor of 48 up to each tile (48 x 48; 288
// rows: 6 query tiles of 48).
// CHECK-LABEL: func.func @blocks_of_48
// CHECK: scf.forall (%{{.*}}) in (6)
// CHECK-NEXT: arith.muli %{{.*}}, %c48 : index
// CHECK: scf.for
// CHECK: arith.muli %{{.*}}, %c48 : index
func.func @blocks_of_48(%q: tensor<1x1x288x8xf32>, %o: tensor<1x1x288x8xf32>) -> tensor<1x1x288x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x288x8xf32>, tensor<1x1x288x8xf32>, tensor<1x1x288x8xf32>)
         outs(%o : tensor<1x1x288x8xf32>)
         pattern(#attn.random<block = 48, per_row = 2, seed = 1>) -> tensor<1x1x288x8xf32>
  return %r : tensor<1x1x288x8xf32>
}

// Blocks of 16: a tile below 32 would cost more than the Partial tiles it
// saves, so the tiles stay 128 x 64 (256 rows: 2 query tiles).
// CHECK-LABEL: func.func @small_blocks_keep_the_tiles
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK-NEXT: arith.muli %{{.*}}, %c128 : index
// CHECK: scf.for
// CHECK: arith.muli %{{.*}}, %c64 : index
func.func @small_blocks_keep_the_tiles(%q: tensor<1x1x256x8xf32>, %o: tensor<1x1x256x8xf32>) -> tensor<1x1x256x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x256x8xf32>, tensor<1x1x256x8xf32>, tensor<1x1x256x8xf32>)
         outs(%o : tensor<1x1x256x8xf32>)
         pattern(#attn.block_local<size = 16>) -> tensor<1x1x256x8xf32>
  return %r : tensor<1x1x256x8xf32>
}

// With positions, rows are not positions: the tiles stay.
// CHECK-LABEL: func.func @positions_keep_the_tiles
// CHECK: scf.forall (%{{.*}}) in (2)
func.func @positions_keep_the_tiles(%q: tensor<1x1x256x8xf32>, %o: tensor<1x1x256x8xf32>,
                                    %qp: tensor<1x1x256xi64>) -> tensor<1x1x256x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x256x8xf32>, tensor<1x1x256x8xf32>, tensor<1x1x256x8xf32>)
         outs(%o : tensor<1x1x256x8xf32>)
         positions(%qp, %qp : tensor<1x1x256xi64>, tensor<1x1x256xi64>)
         pattern(#attn.block_local<size = 64>) -> tensor<1x1x256x8xf32>
  return %r : tensor<1x1x256x8xf32>
}

// A band: query tiles no taller than the key tiles (64 x 64), so that the
// Partial triangles at the band's edges waste less (256 rows: 4 query tiles).
// CHECK-LABEL: func.func @band_query_tiles
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK-NEXT: arith.muli %{{.*}}, %c64 : index
func.func @band_query_tiles(%q: tensor<1x1x256x8xf32>, %o: tensor<1x1x256x8xf32>) -> tensor<1x1x256x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x256x8xf32>, tensor<1x1x256x8xf32>, tensor<1x1x256x8xf32>)
         outs(%o : tensor<1x1x256x8xf32>)
         pattern(#attn.union<[#attn.window<left = 32, right = 32>, #attn.global<first = 8>]>)
         -> tensor<1x1x256x8xf32>
  return %r : tensor<1x1x256x8xf32>
}

// Causal is not a band here (its rows are dense below the diagonal): 128.
// CHECK-LABEL: func.func @causal_keeps_the_tiles
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK-NEXT: arith.muli %{{.*}}, %c128 : index
func.func @causal_keeps_the_tiles(%q: tensor<1x1x256x8xf32>, %o: tensor<1x1x256x8xf32>) -> tensor<1x1x256x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x256x8xf32>, tensor<1x1x256x8xf32>, tensor<1x1x256x8xf32>)
         outs(%o : tensor<1x1x256x8xf32>) pattern(#attn.causal) -> tensor<1x1x256x8xf32>
  return %r : tensor<1x1x256x8xf32>
}
