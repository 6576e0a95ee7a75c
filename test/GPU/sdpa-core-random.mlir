// #attn.random on the Hopper core (GpuRandomLists.cpp): at the start of the
// kernel every warp draws the picks of the query tile's random blocks (per
// pick a loop over the lanes' candidate blocks and five xor shuffles of the
// hash and the block), thread 0 keeps them in shared memory, and the pattern
// helpers take them as trailing i64 arguments: the key tiles of the picks
// (no rank loop over all candidate blocks), the tile kinds and the pairs of
// Partial tiles. BigBird (window ∪ global ∪ random, block 64, 3 picks) with
// query tiles of 128 rows: 2 query blocks, 1 + 2 x 3 facts.
// RUN: attn-opt %s --attn-gpu-sdpa-core -split-input-file | FileCheck %s
// RUN: attn-opt %s --attn-gpu-sdpa-core="heavy-first=false min-blocks-per-sm=1" -split-input-file | FileCheck %s --check-prefix=GRID

// CHECK-LABEL: gpu.func @sdpa_core_0
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>, nvvm.minctasm = 2 : i32
// Heavy-first order: the launch index l = x + X (y + Y z) picks the tile.
// CHECK: gpu.grid_dim x
// CHECK: gpu.grid_dim z
// CHECK: gpu.lane_id
// CHECK: scf.for
// CHECK: arith.constant -7046029254386353131 : i64
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32{{[_0-9]*}}, %c32_i32
// CHECK: gpu.shuffle  xor %{{.*}}, %c16_i32{{[_0-9]*}}, %c32_i32
// CHECK: llvm.store %{{.*}} : i32, !llvm.ptr<3>
// CHECK: func.call @sdpa_core_0_tiles(%{{.*}}) : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> index
// CHECK: scf.for
// CHECK: llvm.load volatile %{{.*}} : !llvm.ptr<3> -> i32
// CHECK: func.call @sdpa_core_0_tile(%{{.*}}) : (index, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> (index, i8)
// CHECK: func.call @sdpa_core_0_live(%{{.*}}) : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i1
// No rank loop in the helpers: the predicate compares key blocks with the
// picks.
// CHECK: func.func private @sdpa_core_0_tiles
// CHECK-NOT: scf.for
// CHECK: func.func private @sdpa_core_0_live
// CHECK-NOT: scf.for
// CHECK: return

// GRID-LABEL: gpu.func @sdpa_core_0
// GRID-SAME: known_block_size = array<i32: 256, 1, 1>} {
// GRID-NOT: gpu.grid_dim x
// GRID: gpu.lane_id
func.func @bigbird(%q: tensor<?x?x?x128xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>) -> tensor<?x?x?x128xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) pattern(#attn.union<[#attn.window<left = 64, right = 64>, #attn.global<first = 64>, #attn.random<block = 64, per_row = 3, seed = 7>]>) -> tensor<?x?x?x128xbf16>
  return %r : tensor<?x?x?x128xbf16>
}

// -----

// Positions: the random part is classified from position ranges as before
// (no lists). A random part inside an intersection: no lists either.
// CHECK-LABEL: gpu.func @sdpa_core_0
// CHECK-NOT: gpu.lane_id
// CHECK: func.func private @sdpa_core_0_classify
// CHECK-LABEL: gpu.func @sdpa_core_1
// CHECK-NOT: gpu.lane_id
// CHECK: func.func private @sdpa_core_1_tiles(%{{[^:]*}}: i64, %{{[^:]*}}: i64, %{{[^:]*}}: i64, %{{[^:]*}}: i64) -> index
func.func @positions(%q: tensor<1x2x100x64xbf16>, %k: tensor<1x2x100x64xbf16>, %v: tensor<1x2x100x64xbf16>, %o: tensor<1x2x100x64xbf16>, %qp: tensor<1x1x100xi32>, %kp: tensor<1x1x100xi32>) -> tensor<1x2x100x64xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>) outs(%o : tensor<1x2x100x64xbf16>) positions(%qp, %kp : tensor<1x1x100xi32>, tensor<1x1x100xi32>) pattern(#attn.random<block = 16, per_row = 2, seed = 3>) -> tensor<1x2x100x64xbf16>
  return %r : tensor<1x2x100x64xbf16>
}
func.func @nested(%q: tensor<1x2x100x64xbf16>, %k: tensor<1x2x100x64xbf16>, %v: tensor<1x2x100x64xbf16>, %o: tensor<1x2x100x64xbf16>) -> tensor<1x2x100x64xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>, tensor<1x2x100x64xbf16>) outs(%o : tensor<1x2x100x64xbf16>) pattern(#attn.intersect<[#attn.causal, #attn.random<block = 16, per_row = 2, seed = 3>]>) -> tensor<1x2x100x64xbf16>
  return %r : tensor<1x2x100x64xbf16>
}
