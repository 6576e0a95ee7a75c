// attn.sdpa implements TilingInterface over (batch, head, query), and
// PartialReductionOpInterface over keys (split-KV); the tiles are attn.sdpa
// on slices. Numerics: python/tests/test_tiling_interface.py.
// RUN: attn-opt %s --transform-interpreter --canonicalize -split-input-file | FileCheck %s

// GQA (4 query heads over 2 KV heads), head tiles of 2 = one group: the KV
// head is h / 2. The mask [H, Nq, Nk] is sliced by head and query; the bias
// broadcasts over heads (its static 1 stays); lse is a second result tile.
// Default positions become explicit, global ones (the window reads them).
// CHECK-LABEL: func.func @gqa
// CHECK: scf.for %[[B:.*]] = %c0 to %c2 step %c1
// CHECK:   scf.for %[[H:.*]] = %c0 to %c4 step %c2
// CHECK:     scf.for %[[Q:.*]] = %c0 to %c16 step %c4
// CHECK:       %[[KVH:.*]] = affine.apply #{{.*}}()[%[[H]]]
// CHECK-DAG:   tensor.extract_slice %arg0[%[[B]], %[[H]], %[[Q]], 0] [1, 2, 4, 8]
// CHECK-DAG:   tensor.extract_slice %arg1[%[[B]], %[[KVH]], 0, 0] [1, 1, 12, 8]
// CHECK-DAG:   tensor.extract_slice %arg2[%[[B]], %[[KVH]], 0, 0] [1, 1, 12, 8]
// CHECK-DAG:   tensor.extract_slice %arg4[%[[H]], %[[Q]], 0] [2, 4, 12]
// CHECK-DAG:   tensor.extract_slice %arg5[%[[B]], 0, %[[Q]], 0] [1, 1, 4, 12]
// CHECK:       linalg.index 2
// CHECK-NEXT:  arith.addi %{{.*}}, %[[Q]]
// CHECK:       attn.sdpa ins({{.*}} : tensor<1x2x4x8xf32>, tensor<1x1x12x8xf32>, tensor<1x1x12x8xf32>)
// CHECK-SAME:    mask({{.*}} : tensor<2x4x12xi1>) bias({{.*}} : tensor<1x1x4x12xf32>)
// CHECK-SAME:    positions({{.*}} : tensor<1x1x4xi64>, tensor<1x1x12xi64>)
// CHECK-SAME:    pattern(#attn.window<left = 2, right = 2>)
// CHECK-SAME:    -> tensor<1x2x4x8xf32>, tensor<1x2x4xf32>
func.func @gqa(%q: tensor<2x4x16x8xf32>, %k: tensor<2x2x12x8xf32>, %v: tensor<2x2x12x8xf32>,
               %o: tensor<2x4x16x8xf32>, %m: tensor<4x16x12xi1>, %bias: tensor<2x1x16x12xf32>)
    -> (tensor<2x4x16x8xf32>, tensor<2x4x16xf32>) {
  %r, %lse = attn.sdpa ins(%q, %k, %v : tensor<2x4x16x8xf32>, tensor<2x2x12x8xf32>, tensor<2x2x12x8xf32>)
      outs(%o : tensor<2x4x16x8xf32>) mask(%m : tensor<4x16x12xi1>) bias(%bias : tensor<2x1x16x12xf32>)
      pattern(#attn.window<left = 2, right = 2>) -> tensor<2x4x16x8xf32>, tensor<2x4x16xf32>
  return %r, %lse : tensor<2x4x16x8xf32>, tensor<2x4x16xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l:3 = transform.structured.tile_using_for %op tile_sizes [1, 2, 4]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// A dense op without a score_mod reads no positions: none are added. Head
// tiles of 1 read the KV head h / 4; memory follows the KV head, the span and
// a per-query-head positions operand the query head; the score_mod sees the
// global head (%h + offset).
// CHECK-LABEL: func.func @memory_span
// CHECK: scf.forall (%[[H:.*]], %[[Q:.*]]) in (8, 3)
// CHECK: %[[KV:.*]] = affine.apply #{{.*}}()[%[[H]]]
// CHECK-DAG: tensor.extract_slice %arg1[0, %[[KV]], 0, 0] [1, 1, 10, 8]
// CHECK-DAG: tensor.extract_slice %arg4[%[[KV]], 0, 0] [1, 5, 8]
// CHECK-DAG: tensor.extract_slice %arg6[0, %[[H]], %{{.*}}] [1, 1, %{{.*}}]
// CHECK-DAG: tensor.extract_slice %arg7[0, %[[H]], 0] [1, 1, 10]
// CHECK-DAG: tensor.extract_slice %arg8[%[[H]]] [1]
// CHECK-NOT: linalg.index
// CHECK: attn.sdpa
// CHECK-SAME: memory({{.*}} : tensor<1x5x8xf32>, tensor<1x5x8xf32>)
// CHECK-SAME: positions({{.*}} : tensor<1x1x?xi64>, tensor<1x1x10xi64>)
// CHECK-SAME: span({{.*}} : tensor<1xf32>)
// CHECK: ^bb0(%{{[^:]*}}: f32, %{{[^:]*}}: index, %[[HA:[^:]*]]: index
// CHECK: arith.addi %[[HA]], %[[H]]
func.func @memory_span(%q: tensor<1x8x12x8xf32>, %k: tensor<1x2x10x8xf32>, %v: tensor<1x2x10x8xf32>,
                       %o: tensor<1x8x12x8xf32>, %mk: tensor<2x5x8xf32>, %mv: tensor<2x5x8xf32>,
                       %qp: tensor<1x8x12xi64>, %kp: tensor<1x8x10xi64>, %z: tensor<8xf32>)
    -> tensor<1x8x12x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x8x12x8xf32>, tensor<1x2x10x8xf32>, tensor<1x2x10x8xf32>)
      outs(%o : tensor<1x8x12x8xf32>) memory(%mk, %mv : tensor<2x5x8xf32>, tensor<2x5x8xf32>)
      positions(%qp, %kp : tensor<1x8x12xi64>, tensor<1x8x10xi64>)
      span(%z : tensor<8xf32>) {ramp = 2.0 : f32, max_span = 4.0 : f32}
      score_mod {
      ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
        %hi = arith.index_cast %h : index to i64
        %hf = arith.sitofp %hi : i64 to f32
        %t = arith.addf %s, %hf : f32
        attn.yield %t : f32
      } -> tensor<1x8x12x8xf32>
  return %r : tensor<1x8x12x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_forall %op tile_sizes [0, 1, 5]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// A bottom-right causal pattern depends on Nq: a query tile gets the offset
// Nk - Nq = 4 (static lengths).
// CHECK-LABEL: func.func @bottom_right
// CHECK: attn.sdpa
// CHECK-SAME: pattern(#attn.causal<offset = 3>)
func.func @bottom_right(%q: tensor<1x1x8x8xf32>, %k: tensor<1x1x12x8xf32>, %o: tensor<1x1x8x8xf32>)
    -> tensor<1x1x8x8xf32> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x1x8x8xf32>, tensor<1x1x12x8xf32>, tensor<1x1x12x8xf32>)
      outs(%o : tensor<1x1x8x8xf32>) pattern(#attn.causal<offset = -1, bottom_right>) -> tensor<1x1x8x8xf32>
  return %r : tensor<1x1x8x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l = transform.structured.tile_using_for %op tile_sizes [0, 0, 4]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// Split-KV: the key dim is the reduction. Each of 3 splits is an attn.sdpa
// on its keys with an lse result (the op has none), written to slot %s of
// the partial state; the merge is the log-sum-exp over the splits.
// CHECK-LABEL: func.func @split_kv
// CHECK-DAG: %[[O0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x2x?x8x3xf32>)
// CHECK-DAG: %[[L0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x2x?x3xf32>)
// CHECK: %[[P:.*]]:2 = scf.forall (%[[S:.*]]) in (3) shared_outs(%[[O:.*]] = %[[O0]], %[[L:.*]] = %[[L0]])
// CHECK:   %[[R:.*]], %[[LSE:.*]] = attn.sdpa
// CHECK-SAME: mask({{.*}} : tensor<?x?xi1>)
// CHECK-SAME: -> tensor<1x2x?x8xf32>, tensor<1x2x?xf32>
// CHECK:   tensor.parallel_insert_slice %[[R]] into %[[O]][0, 0, 0, 0, %[[S]]] [1, 2, %{{.*}}, 8, 1]
// CHECK:   tensor.parallel_insert_slice %[[LSE]] into %[[L]][0, 0, 0, %[[S]]] [1, 2, %{{.*}}, 1]
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[P]]#1 :
// CHECK:   arith.maximumf
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[P]]#1, %[[MAX]] :
// CHECK:   math.exp
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[P]]#0, %[[P]]#1, %[[MAX]], %[[SUM]] :
func.func @split_kv(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %o: tensor<1x2x?x8xf32>,
                    %m: tensor<?x?xi1>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
      outs(%o : tensor<1x2x?x8xf32>) mask(%m : tensor<?x?xi1>) -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    %f:2, %s, %c, %l = transform.structured.tile_reduction_using_forall %op by num_threads = [0, 0, 0, 3]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// Split-KV with memory and a random pattern: the splits have no memory (the
// merge adds the memory keys once: the op on zero keys, merged as one more
// split), and each split sees the random blocks of the whole op (Nk = 8: 4
// candidate blocks) as a block_sparse layout over global positions.
// CHECK-LABEL: func.func @split_kv_memory_random
// CHECK: scf.forall
// CHECK:   attn.sdpa ins({{.*}} : tensor<1x1x6x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>)
// CHECK-NOT: memory
// CHECK-SAME: positions(
// CHECK-SAME: pattern(#attn.union<[#attn.window<left = 0, right = 0>, #attn.block_sparse<block = [2, 2], layout = dense<{{\[\[}}
// CHECK-SAME: : tensor<3x4xi1>>]>)
// CHECK: attn.sdpa ins({{.*}} : tensor<1x1x6x8xf32>, tensor<1x1x0x8xf32>, tensor<1x1x0x8xf32>)
// CHECK-SAME: memory(
// CHECK-NOT: pattern
// CHECK-SAME: -> tensor<1x1x6x8xf32>, tensor<1x1x6xf32>
// CHECK: linalg.generic
// CHECK: math.log
func.func @split_kv_memory_random(%q: tensor<1x1x6x8xf32>, %k: tensor<1x1x8x8xf32>,
                                  %o: tensor<1x1x6x8xf32>, %mk: tensor<1x2x8xf32>)
    -> tensor<1x1x6x8xf32> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x1x6x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>)
      outs(%o : tensor<1x1x6x8xf32>) memory(%mk, %mk : tensor<1x2x8xf32>, tensor<1x2x8xf32>)
      pattern(#attn.union<[#attn.window<left = 0, right = 0>, #attn.random<block = 2, per_row = 1, seed = 5>]>)
      -> tensor<1x1x6x8xf32>
  return %r : tensor<1x1x6x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    %f:2, %s, %c, %l = transform.structured.tile_reduction_using_forall %op by num_threads = [0, 0, 0, 2]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}

// -----

// Tile and fuse: the query's producer is computed per (head, query) tile.
// CHECK-LABEL: func.func @fuse_producer
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     linalg.generic {{.*}} ins(%{{.*}} : tensor<1x2x4x8xf32>)
// CHECK:       math.tanh
// CHECK:     attn.sdpa ins(%{{.*}} : tensor<1x2x4x8xf32>, tensor<1x1x12x8xf32>, tensor<1x1x12x8xf32>)
func.func @fuse_producer(%x: tensor<1x4x16x8xf32>, %k: tensor<1x2x12x8xf32>, %v: tensor<1x2x12x8xf32>,
                         %o: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  %e = tensor.empty() : tensor<1x4x16x8xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(a, b, c, d) -> (a, b, c, d)>, affine_map<(a, b, c, d) -> (a, b, c, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x16x8xf32>) outs(%e : tensor<1x4x16x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %t = math.tanh %a : f32
    linalg.yield %t : f32
  } -> tensor<1x4x16x8xf32>
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>)
      outs(%o : tensor<1x4x16x8xf32>) pattern(#attn.causal) -> tensor<1x4x16x8xf32>
  return %r : tensor<1x4x16x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["attn.sdpa"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l:2 = transform.structured.fuse %op tile_sizes [0, 2, 4]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}
