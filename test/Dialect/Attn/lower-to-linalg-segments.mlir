// RUN: attn-opt %s --attn-lower-to-linalg --verify-each | FileCheck %s

// Document ids in the reference lowering: the ids of row i and column j
// are read per pair (maps (b, h, i, j) -> (b, i) and (b, j)) and a pair is
// live only where they are equal; the lengths are checked at run time.
// CHECK-DAG: #[[QMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2)>
// CHECK-DAG: #[[KMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// CHECK-LABEL: func.func @documents
// CHECK: cf.assert %{{.*}}, "attn.sdpa: length of query segments differs"
// CHECK: cf.assert %{{.*}}, "attn.sdpa: length of key segments differs"
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}, #[[QMAP]], #[[KMAP]], {{.*}} ins({{.*}}, %arg1, %arg2 : {{.*}}, tensor<1x?xi32>, tensor<1x?xi64>)
// CHECK: ^bb0(%{{.*}}: f32, %{{.*}}: i64, %{{.*}}: i64, %[[QID:.*]]: i32, %[[KID:.*]]: i64,
// CHECK: %[[QID64:.*]] = arith.extsi %[[QID]] : i32 to i64
// CHECK: %[[SAME:.*]] = arith.cmpi eq, %[[QID64]], %[[KID]] : i64
// CHECK: %[[LIVE:.*]] = arith.andi %{{.*}}, %[[SAME]] : i1
// CHECK: arith.select %[[LIVE]]
func.func @documents(%q: tensor<1x1x?x8xf32>, %qs: tensor<1x?xi32>, %ks: tensor<1x?xi64>, %o: tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) outs(%o : tensor<1x1x?x8xf32>)
    segments(%qs, %ks : tensor<1x?xi32>, tensor<1x?xi64>) -> tensor<1x1x?x8xf32>
  return %r : tensor<1x1x?x8xf32>
}
