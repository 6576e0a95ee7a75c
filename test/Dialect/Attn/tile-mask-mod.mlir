// RUN: attn-opt %s --attn-tile="q-tile=16 kv-tile=16" --canonicalize --cse | FileCheck %s
// RUN: attn-opt %s --verify-each --attn-tile | FileCheck %s --check-prefix=RAW
// RUN: attn-opt %s --attn-lower-to-linalg | FileCheck %s --check-prefix=REF

// Block skipping of mask_mod and of the run-time block layout in the flash
// form of attn-tile; the reference lowering's liveness of both.

// RAW-NOT: = attn.

// mask_mod that reads neither %b nor %h: one map [1, 1, query tiles, key
// tiles] of i8 kinds, built once per call before the loop over query tiles
// by a parallel pass that scans each pair of tiles until it has seen a true
// and a false pair. A tile is Empty when no pair was true, Full when every
// pair was; the key loop skips Empty tiles and evaluates the region pair by
// pair only in Partial ones.
// CHECK-LABEL: func.func @mask_mod_map
// CHECK: %[[NT:.*]] = arith.ceildivui %{{.*}}, %c16 : index
// CHECK: %[[EMPTY:.*]] = tensor.empty(%[[NT]], %[[NT]]) : tensor<1x1x?x?xi8>
// CHECK: %[[MAP:.*]] = scf.forall (%[[QT:.*]]) in (%[[NT]]) shared_outs(%{{.*}} = %[[EMPTY]])
// CHECK: scf.for %[[KT:.*]] = %c0 to %[[NT]]
// CHECK: %[[SCAN:.*]]:3 = scf.while
// CHECK: scf.condition
// CHECK: scf.for
// CHECK: arith.cmpi sge
// CHECK: arith.ori
// CHECK: arith.andi
// CHECK: %[[FULLORPART:.*]] = arith.select %[[SCAN]]#2, %c1_i8, %c2_i8 : i8
// CHECK: arith.select %[[SCAN]]#1, %[[FULLORPART]], %c0_i8 : i8
// CHECK: tensor.parallel_insert_slice %{{.*}} into %{{.*}}[0, 0, %[[QT]], 0] [1, 1, 1, %[[NT]]]
// CHECK: scf.forall (%{{.*}}, %[[Q:.*]]) in (2, %[[NT]])
// CHECK: scf.for %[[K:.*]] = %c0
// CHECK: %[[KIND:.*]] = tensor.extract %[[MAP]][%c0, %c0, %[[Q]], %[[K]]] : tensor<1x1x?x?xi8>
// CHECK: arith.cmpi eq, %[[KIND]], %c2_i8 : i8
// CHECK: arith.cmpi eq, %[[KIND]], %c0_i8 : i8
// CHECK: scf.index_switch
// CHECK: case 0 {
// CHECK-NEXT: scf.yield
// CHECK: case 1 {
// CHECK-NOT: arith.cmpi sge, %{{.*}} : index
// CHECK: default {
// CHECK: linalg.generic
// CHECK: arith.cmpi sge, %{{.*}}, %{{.*}} : index
// REF-LABEL: func.func @mask_mod_map
// REF: linalg.generic
// REF: %[[I:.*]] = arith.index_cast %{{.*}} : i64 to index
// REF: %[[J:.*]] = arith.index_cast %{{.*}} : i64 to index
// REF: %[[MM:.*]] = arith.cmpi sge, %[[I]], %[[J]] : index
// REF: arith.andi %{{.*}}, %[[MM]] : i1
func.func @mask_mod_map(%q: tensor<1x2x?x8xf32>, %o: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%o : tensor<1x2x?x8xf32>)
         mask_mod {
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           %t = arith.cmpi sge, %i, %j : index
           attn.yield %t : i1
         } -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// A mask_mod that reads %h: the map has one row of tiles per head.
// CHECK-LABEL: func.func @mask_mod_per_head
// CHECK: tensor.empty(%{{.*}}, %{{.*}}) : tensor<1x2x?x?xi8>
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (2, %{{.*}})
// CHECK: scf.forall (%{{.*}}, %[[H:.*]], %[[Q:.*]]) in (3, 2, %{{.*}})
// CHECK: tensor.extract %{{.*}}[%c0, %[[H]], %[[Q]], %{{.*}}] : tensor<1x2x?x?xi8>
func.func @mask_mod_per_head(%q: tensor<3x2x?x8xf32>, %o: tensor<3x2x?x8xf32>) -> tensor<3x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<3x2x?x8xf32>, tensor<3x2x?x8xf32>, tensor<3x2x?x8xf32>)
         outs(%o : tensor<3x2x?x8xf32>)
         mask_mod {
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           %x = arith.addi %j, %h : index
           %t = arith.cmpi sge, %i, %x : index
           attn.yield %t : i1
         } -> tensor<3x2x?x8xf32>
  return %r : tensor<3x2x?x8xf32>
}

// The block layout: the tiles are its 32 x 16 blocks (whatever q-tile and
// kv-tile say); the owner map [1, H, query blocks, key blocks] is built once
// per call (each block owned by the first entry that lists it, full entries
// first); per query block the key loop runs over exactly its listed entries
// (clamp(fnum) + clamp(num)), and an entry that does not own its block or
// lies outside the key blocks is Empty. Full entries are Full (the
// mask_mod is not evaluated in them), partial ones Partial.
// CHECK-LABEL: func.func @layout
// CHECK: cf.assert %{{.*}}, "attn.sdpa: blocks does not have ceil(Nq / BQ) query blocks"
// CHECK: %[[NKB:.*]] = arith.ceildivui %{{.*}}, %c16 : index
// CHECK: %[[FILL:.*]] = linalg.fill ins(%c-1_i32 : i32) outs(%{{.*}} : tensor<1x4x?x?xi32>)
// CHECK: %[[OWNERS:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[FILL]])
// CHECK: tensor.insert
// CHECK: scf.forall (%{{.*}}, %[[H:.*]], %[[QB:.*]]) in (2, 4, %{{.*}})
// CHECK: arith.muli %[[QB]], %c32 : index
// CHECK: %[[FN:.*]] = tensor.extract %arg4[%c0, %[[H]], %[[QB]]] : tensor<1x4x?xi32>
// CHECK: %[[PN:.*]] = tensor.extract %arg2[%c0, %[[H]], %[[QB]]] : tensor<1x4x?xi32>
// CHECK: %[[TOTAL:.*]] = arith.addi
// CHECK: scf.for %[[E:.*]] = %c0 to %[[TOTAL]] step %c1
// CHECK: %[[ISFULL:.*]] = arith.cmpi ult, %[[E]], %{{.*}} : index
// CHECK: scf.if %[[ISFULL]] -> (i32)
// CHECK: tensor.extract %arg5
// CHECK: } else {
// CHECK: tensor.extract %arg3
// CHECK: arith.cmpi slt, %{{.*}}, %[[NKB]] : index
// CHECK: tensor.extract %[[OWNERS]][%c0, %[[H]], %[[QB]], %{{.*}}] : tensor<1x4x?x?xi32>
// CHECK: %[[OWNED:.*]] = arith.cmpi eq, %{{.*}}, %{{.*}} : i32
// CHECK: arith.muli %{{.*}}, %c16 : index
// CHECK: %[[PARTIAL:.*]] = arith.cmpi uge, %[[E]], %{{.*}} : index
// CHECK: %[[KIND:.*]] = arith.select %[[PARTIAL]], %c2_i8, %c1_i8 : i8
// CHECK: arith.select %{{.*}}, %[[KIND]], %c0_i8 : i8
// CHECK: scf.index_switch
// REF-LABEL: func.func @layout
// REF: %[[OWNERS:.*]] = scf.for
// REF: linalg.generic
// REF: %[[QB:.*]] = arith.divui
// REF: %[[KB:.*]] = arith.divui
// REF: %[[OWNER:.*]] = tensor.extract %[[OWNERS]][%{{.*}}, %{{.*}}, %[[QB]], %[[KB]]]
// REF: %[[LISTED:.*]] = arith.cmpi sge, %[[OWNER]], %{{.*}} : i32
// REF: %[[FULL:.*]] = arith.cmpi slt, %[[OWNER]], %{{.*}} : i32
// REF: %[[KEEP:.*]] = arith.ori %[[FULL]], %{{.*}} : i1
// REF: arith.andi %[[LISTED]], %[[KEEP]] : i1
func.func @layout(%q: tensor<2x4x?x8xf32>, %o: tensor<2x4x?x8xf32>, %n: tensor<1x4x?xi32>, %idx: tensor<1x4x?x?xi32>,
                  %fn: tensor<1x4x?xi32>, %fidx: tensor<1x4x?x?xi32>) -> tensor<2x4x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<2x4x?x8xf32>, tensor<2x4x?x8xf32>, tensor<2x4x?x8xf32>)
         outs(%o : tensor<2x4x?x8xf32>)
         blocks(%n, %idx : tensor<1x4x?xi32>, tensor<1x4x?x?xi32>)
         full_blocks(%fn, %fidx : tensor<1x4x?xi32>, tensor<1x4x?x?xi32>)
         {block_size = array<i64: 32, 16>}
         mask_mod {
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           %t = arith.cmpi sge, %i, %j : index
           attn.yield %t : i1
         } -> tensor<2x4x?x8xf32>
  return %r : tensor<2x4x?x8xf32>
}
