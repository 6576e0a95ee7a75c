// RUN: attn-opt %s --attn-tile="q-tile=16 kv-tile=16" --canonicalize --cse | FileCheck %s
// RUN: attn-opt %s --verify-each --attn-tile | FileCheck %s --check-prefix=RAW
// RUN: attn-opt %s --attn-tile=compute-type=f64 | FileCheck %s --check-prefix=F64

// attn-tile: the flash form. Block skipping is visible in the IR: the key
// loop runs over the tiles of the pattern's key interval only (an Empty tile
// outside it is never visited), each visited tile dispatches on its run-time
// kind, and the Full case evaluates no predicate.

// RAW-NOT: = attn.
// F64: math.exp2 %{{.*}} : f64

// A window of 20 left, 3 right on 128 positions with 16 x 16 tiles: the key
// tiles of query tile t are those holding keys [16t - 20, 16t + 15 + 3].
// CHECK-LABEL: func.func @window_static
// CHECK-NOT: 128x128
// CHECK: scf.forall (%[[H:.*]], %[[T:.*]]) in (2, 8) shared_outs(%[[OUT:.*]] = %{{.*}})
// CHECK: %[[QSTART:.*]] = arith.muli %[[T]], %c16 : index
// CHECK: %[[QROWS:.*]] = arith.minsi %{{.*}}, %c16 : index
// CHECK: %[[Q:.*]] = tensor.extract_slice %{{.*}}[0, %[[H]], %[[QSTART]], 0] [1, 1, %[[QROWS]], 8] [1, 1, 1, 1] : tensor<1x2x128x8xf32> to tensor<?x8xf32>
// CHECK: %[[QS:.*]] = linalg.generic
// CHECK: arith.mulf %{{.*}}, %cst{{.*}} : f32
// The key interval, clamped to the keys, in tiles.
// CHECK: %[[LO:.*]] = arith.subi %{{.*}}, %c20_i64 : i64
// CHECK: %[[FIRST:.*]] = arith.maxsi %[[LO]], %c0_i64 : i64
// CHECK: %[[LAST:.*]] = arith.minsi %{{.*}}, %c127_i64 : i64
// CHECK: %[[ANY:.*]] = arith.cmpi sle, %[[FIRST]], %[[LAST]] : i64
// CHECK: %[[T0:.*]] = arith.divsi %[[FIRST]], %c16_i64 : i64
// CHECK: %[[T1:.*]] = arith.divsi %[[LAST]], %c16_i64 : i64
// CHECK: %[[END:.*]] = arith.addi %[[T1]], %c1_i64 : i64
// CHECK: %[[COUNT:.*]] = arith.subi %[[END]], %[[T0]] : i64
// CHECK: %[[NUM:.*]] = arith.select %[[ANY]], %[[COUNT]], %c0_i64 : i64
// CHECK: %[[BEGIN:.*]] = arith.select %[[ANY]], %[[T0]], %c0_i64 : i64
// CHECK: %[[BEGINI:.*]] = arith.index_cast %[[BEGIN]] : i64 to index
// CHECK: %[[NUMI:.*]] = arith.index_cast %[[NUM]] : i64 to index
// CHECK: scf.for %[[I:.*]] = %c0 to %[[NUMI]] step %c1 iter_args(%[[MAX:.*]] = %{{.*}}, %[[SUM:.*]] = %{{.*}}, %[[ACC:.*]] = %{{.*}}) -> (tensor<?xf32>, tensor<?xf32>, tensor<?x8xf32>)
// CHECK: %[[TILE:.*]] = arith.addi %[[BEGINI]], %[[I]] : index
// CHECK: %[[KSTART:.*]] = arith.muli %[[TILE]], %c16 : index
// CHECK: %[[K:.*]] = tensor.extract_slice %{{.*}}[0, %[[H]], %[[KSTART]], 0]
// The tile's kind from the window's band, at run time.
// CHECK: %[[KIND:.*]] = arith.select %{{.*}}, %c0_i8, %{{.*}} : i8
// CHECK: %[[KINDI:.*]] = arith.index_cast %[[KIND]] : i8 to index
// CHECK: scf.index_switch %[[KINDI]]
// Empty: the state passes through.
// CHECK-NEXT: case 0 {
// CHECK-NEXT: scf.yield %[[MAX]], %[[SUM]], %[[ACC]]
// CHECK-NEXT: }
// Full: scores, online softmax and values with no predicate, index or select
// of scores.
// CHECK-NEXT: case 1 {
// CHECK-NOT: arith.cmpi
// CHECK-NOT: linalg.index
// CHECK: linalg.matmul indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins(%[[QS]], %[[K]] : tensor<?x8xf32>, tensor<?x8xf32>)
// CHECK-NOT: arith.cmpi
// CHECK: arith.maximumf
// CHECK-NOT: arith.cmpi
// CHECK: math.exp2
// CHECK-NOT: arith.cmpi
// CHECK: math.exp2
// CHECK-NOT: arith.cmpi
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x?xf32>, tensor<?x8xf32>)
// CHECK-NOT: arith.cmpi
// CHECK: scf.yield
// Partial: the window predicate on positions sets the scores of the pairs
// that are not live to -inf (no i1 tile: their exp2 is 0).
// CHECK: default {
// CHECK: linalg.matmul indexing_maps
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.cmpi sle
// CHECK: arith.select %{{.*}}, %{{.*}}, %cst{{.*}} : f32
// CHECK-NEXT: linalg.yield %{{.*}} : f32
// CHECK-NOT: i1>
// CHECK: math.exp2
// CHECK-NOT: i1>
// The value contraction is a matmul when every value of the tile is finite
// (sum v * 0 == 0), else it selects on the liveness, built only there.
// CHECK: arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK: %[[FINITE:.*]] = arith.cmpf oeq, %{{.*}}, %cst{{.*}} : f32
// CHECK: scf.if %[[FINITE]] -> (tensor<?x8xf32>) {
// CHECK-NEXT: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x?xf32>, tensor<?x8xf32>)
// CHECK: } else {
// CHECK: arith.cmpi sle
// CHECK: linalg.yield %{{.*}} : i1
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.select %{{.*}}, %{{.*}}, %cst{{.*}} : f32
// CHECK: scf.yield
// After the key loop: normalise and write the tile.
// CHECK: arith.divf
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, %[[H]], %[[QSTART]], 0] [1, 1, %[[QROWS]], 8] [1, 1, 1, 1] : tensor<?x8xf32> into tensor<1x2x128x8xf32>
func.func @window_static(%q: tensor<1x2x128x8xf32>, %o: tensor<1x2x128x8xf32>) -> tensor<1x2x128x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>, tensor<1x2x128x8xf32>)
         outs(%o : tensor<1x2x128x8xf32>) pattern(#attn.window<left = 20, right = 3>) -> tensor<1x2x128x8xf32>
  return %r : tensor<1x2x128x8xf32>
}

// Causal, every dim dynamic, GQA, lse: the loop stops at the tile of the
// query tile's last row (or the last key), so the tiles above the diagonal
// are never visited.
// CHECK-LABEL: func.func @causal_dynamic
// CHECK: %[[NQ:.*]] = tensor.dim %{{.*}}, %c2 : tensor<?x?x?x8xbf16>
// CHECK: %[[NT:.*]] = arith.ceildivui %[[NQ]], %c16 : index
// CHECK: scf.forall (%[[B:.*]], %[[H:.*]], %[[T:.*]]) in (%{{.*}}, %{{.*}}, %[[NT]]) shared_outs(%{{.*}} = %{{.*}}, %[[LSE:.*]] = %{{.*}})
// CHECK: %[[KVH:.*]] = arith.divui %[[H]], %{{.*}} : index
// CHECK: %[[QLAST:.*]] = arith.subi %{{.*}}, %c1_i64 : i64
// CHECK: %[[KLAST:.*]] = arith.minsi %[[QLAST]], %{{.*}} : i64
// CHECK: arith.divsi %[[KLAST]], %c16_i64 : i64
// CHECK: scf.for
// CHECK: tensor.extract_slice %{{.*}}[%[[B]], %[[KVH]], %{{.*}}, 0]
// CHECK: scf.index_switch
// CHECK: case 1 {
// CHECK-NOT: arith.cmpi
// CHECK: linalg.matmul indexing_maps = {{.*}} ins(%{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<?x8xbf16>)
// CHECK-NOT: arith.cmpi
// CHECK: default {
// The natural log-sum-exp from the log2-domain statistics.
// CHECK: math.log2
// CHECK: arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK: scf.forall.in_parallel
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[LSE]][%[[B]], %[[H]], %{{.*}}] [1, 1, %{{.*}}] [1, 1, 1] : tensor<?xf32> into tensor<?x?x?xf32>
func.func @causal_dynamic(%q: tensor<?x?x?x8xbf16>, %k: tensor<?x?x?x8xbf16>, %v: tensor<?x?x?x8xbf16>,
                          %o: tensor<?x?x?x8xbf16>) -> (tensor<?x?x?x8xbf16>, tensor<?x?x?xf32>) {
  %r, %l = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x8xbf16>, tensor<?x?x?x8xbf16>, tensor<?x?x?x8xbf16>)
         outs(%o : tensor<?x?x?x8xbf16>) pattern(#attn.causal) -> tensor<?x?x?x8xbf16>, tensor<?x?x?xf32>
  return %r, %l : tensor<?x?x?x8xbf16>, tensor<?x?x?xf32>
}

// With positions, every key tile is visited and each is classified from the
// minimum and maximum of its positions, computed at run time.
// CHECK-LABEL: func.func @positions
// CHECK: scf.forall
// CHECK: iterator_types = ["reduction"]
// CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<i64>, tensor<i64>)
// CHECK: arith.minsi
// CHECK: arith.maxsi
// CHECK: %[[NKT:.*]] = arith.ceildivui %{{.*}}, %c16 : index
// CHECK: scf.for %{{.*}} = %c0 to %[[NKT]]
// CHECK: %[[KPOS:.*]] = tensor.extract_slice %{{.*}} : tensor<?x1x?xi32> to tensor<?xi32>
// CHECK: iterator_types = ["reduction"]
// CHECK-SAME: ins(%[[KPOS]] : tensor<?xi32>)
// CHECK: scf.index_switch
// CHECK: case 1 {
// CHECK-NOT: arith.cmpi
// CHECK-NOT: tensor<?xi32>
// CHECK: default {
// CHECK: ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?xf32>, tensor<?xi32>, tensor<?xi32>)
// CHECK: arith.extsi
func.func @positions(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>,
                     %o: tensor<?x4x?x8xf32>, %qp: tensor<?x1x?xi32>, %kp: tensor<?x1x?xi32>) -> tensor<?x4x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>)
         outs(%o : tensor<?x4x?x8xf32>) positions(%qp, %kp : tensor<?x1x?xi32>, tensor<?x1x?xi32>)
         pattern(#attn.causal) -> tensor<?x4x?x8xf32>
  return %r : tensor<?x4x?x8xf32>
}

// A union of a window and global tokens: two key intervals laid end to end;
// a tile of the second that the first already covers is skipped (its kind
// becomes Empty), so no tile is visited twice.
// CHECK-LABEL: func.func @longformer
// CHECK: scf.for %[[I:.*]] = %c0 to
// CHECK: arith.cmpi ult, %[[I]], %[[P1:[0-9a-z_]+]] : index
// CHECK: %[[LATER:.*]] = arith.cmpi uge, %[[I]], %[[P1]] : index
// CHECK: %[[SEEN:.*]] = arith.andi %[[LATER]], %{{.*}} : i1
// CHECK: arith.select %[[SEEN]], %c0_i8, %{{.*}} : i8
// CHECK: scf.index_switch
func.func @longformer(%q: tensor<1x1x?x8xf32>, %o: tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>)
         outs(%o : tensor<1x1x?x8xf32>)
         pattern(#attn.union<[#attn.window<left = 32, right = 32>, #attn.global<first = 4>]>)
         -> tensor<1x1x?x8xf32>
  return %r : tensor<1x1x?x8xf32>
}

// Memory first (always live: a plain step, no dispatch), then the keys; the
// mask turns Full into Partial; the span meets the pattern's kind and is
// computed per pair only in Partial tiles.
// CHECK-LABEL: func.func @memory_mask_span
// CHECK: scf.forall
// CHECK: %[[M:.*]] = arith.ceildivui %{{.*}}, %c16 : index
// CHECK: scf.for %{{.*}} = %c0 to %[[M]]
// CHECK-NOT: scf.index_switch
// CHECK: linalg.matmul indexing_maps
// CHECK-NOT: scf.index_switch
// CHECK: linalg.matmul ins
// CHECK: scf.yield
// CHECK: scf.for
// The span's weight at the nearest and farthest distance of the tiles.
// CHECK: arith.sitofp %{{.*}} : i64 to f32
// CHECK: arith.cmpf ogt
// CHECK: arith.sitofp %{{.*}} : i64 to f32
// CHECK: arith.cmpf oeq
// CHECK: %[[FULL:.*]] = arith.cmpi eq, %{{.*}}, %c1_i8 : i8
// CHECK: arith.select %[[FULL]], %c2_i8, %{{.*}} : i8
// CHECK: scf.index_switch
// CHECK: case 1 {
// CHECK-NOT: math.absf
// CHECK-NOT: tensor<?x?xi1>
// CHECK: default {
// CHECK: tensor.extract_slice %{{.*}} : tensor<?x?xi1> to tensor<?x?xi1>
// CHECK: math.absf
func.func @memory_mask_span(%q: tensor<1x2x?x8xf32>, %o: tensor<1x2x?x8xf32>, %m: tensor<?x?xi1>,
    %mk: tensor<2x?x8xf32>, %z: tensor<2xf32>) -> (tensor<1x2x?x8xf32>, tensor<1x2x?xf32>) {
  %r, %l = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%o : tensor<1x2x?x8xf32>) mask(%m : tensor<?x?xi1>)
         memory(%mk, %mk : tensor<2x?x8xf32>, tensor<2x?x8xf32>)
         span(%z : tensor<2xf32>) {ramp = 2.0 : f32, max_span = 8.0 : f32}
         -> tensor<1x2x?x8xf32>, tensor<1x2x?xf32>
  return %r, %l : tensor<1x2x?x8xf32>, tensor<1x2x?xf32>
}

// Bias and score_mod apply in every visited tile, Full ones included, on
// the natural score; log2(e) comes after them.
// CHECK-LABEL: func.func @bias_softcap
// CHECK: scf.index_switch
// CHECK: case 1 {
// CHECK-NOT: arith.cmpi
// CHECK: linalg.matmul indexing_maps
// CHECK-NOT: arith.cmpi
// CHECK: tensor.extract_slice %{{.*}} : tensor<2x?x?xf32> to tensor<1x?x?xf32>
// CHECK-NOT: arith.cmpi
// CHECK: arith.addf
// CHECK: math.tanh
// CHECK: arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK-NOT: arith.cmpi
// CHECK: default {
func.func @bias_softcap(%q: tensor<1x2x?x8xf32>, %o: tensor<1x2x?x8xf32>, %bias: tensor<2x?x?xf32>)
    -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%o : tensor<1x2x?x8xf32>) bias(%bias : tensor<2x?x?xf32>) pattern(#attn.causal)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           %t = math.tanh %s : f32
           attn.yield %t : f32
         } -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}
