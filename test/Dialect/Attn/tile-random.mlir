// RUN: attn-opt %s --attn-tile="q-tile=32 kv-tile=16" --canonicalize --cse | FileCheck %s

// attn-tile with #attn.random: the per-query-block hash thresholds (the
// per_row-th smallest hash of the candidate key blocks, an O(per_row * Nk/b)
// loop) are built once per query tile, into a table, before the key loop.
// Each key tile is classified by counting its picked (query block, key block)
// cells against the table, and the Partial tiles' pair predicate reads the
// table: no loop runs per pair.

// Dynamic lengths: the candidate blocks are ceil(Nk / 16), known at run time.
// CHECK-LABEL: func.func @random_dynamic
// CHECK: scf.forall
// The table: one threshold per query block of the tile (a 32-row tile meets
// at most 3 blocks of 16).
// CHECK: arith.minsi %{{.*}}, %c3_i64 : i64
// CHECK: %[[TABLE:.*]] = scf.for %{{.*}} iter_args(%[[T:.*]] = %{{.*}}) -> (tensor<?xi64>) {
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:   tensor.insert %{{.*}} into %[[T]]
// The key loop: the tile kind counts picked cells, reading the table.
// CHECK: scf.for %{{.*}} iter_args(%{{.*}}) -> (tensor<?xf32>, tensor<?xf32>, tensor<?x8xf32>) {
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:       tensor.extract %[[TABLE]]
// CHECK:       arith.cmpi ule
// CHECK:   scf.index_switch
// CHECK:   case 0 {
// CHECK:   case 1 {
// CHECK-NOT: tensor.extract %[[TABLE]]
// The Partial tile: one hash and one compare per pair against the table.
// CHECK:   default {
// CHECK:     linalg.generic
// CHECK-NOT:   scf.for
// CHECK:       tensor.extract %[[TABLE]]
// CHECK-NOT:   scf.for
// CHECK:       arith.cmpi ule
// CHECK-NOT:   scf.for
// CHECK:       linalg.yield
func.func @random_dynamic(%q: tensor<1x1x?x8xf32>, %o: tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>)
         outs(%o : tensor<1x1x?x8xf32>)
         pattern(#attn.random<block = 16, per_row = 3, seed = 7>)
         -> tensor<1x1x?x8xf32>
  return %r : tensor<1x1x?x8xf32>
}

// Static lengths (BigBird's union): the same table, built before the key
// loop, read by the kind and by the Partial tiles; nothing per pair loops.
// CHECK-LABEL: func.func @bigbird_static
// CHECK: scf.forall
// CHECK: %[[TABLE:.*]] = scf.for %{{.*}} -> (tensor<?xi64>) {
// CHECK:   tensor.insert
// CHECK: scf.for %{{.*}} -> (tensor<?xf32>, tensor<?xf32>, tensor<?x8xf32>) {
// CHECK:   tensor.extract %[[TABLE]]
// CHECK:   scf.index_switch
// CHECK:   default {
// CHECK:     linalg.generic
// CHECK-NOT:   scf.for
// CHECK:       tensor.extract %[[TABLE]]
// CHECK-NOT:   scf.for
// CHECK:       linalg.yield
func.func @bigbird_static(%q: tensor<1x2x256x8xf32>, %o: tensor<1x2x256x8xf32>) -> tensor<1x2x256x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x256x8xf32>, tensor<1x2x256x8xf32>, tensor<1x2x256x8xf32>)
         outs(%o : tensor<1x2x256x8xf32>)
         pattern(#attn.union<[#attn.window<left = 16, right = 16>, #attn.global<first = 32>, #attn.random<block = 16, per_row = 3, seed = 2020>]>)
         -> tensor<1x2x256x8xf32>
  return %r : tensor<1x2x256x8xf32>
}
