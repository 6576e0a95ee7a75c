// RUN: attn-opt %s --attn-tile="q-tile=16 kv-tile=16" --canonicalize --cse | FileCheck %s
// RUN: attn-opt %s --verify-each --attn-tile | FileCheck %s --check-prefix=RAW

// Block skipping of sinks, neighbourhoods and document ids in the flash
// form of attn-tile.

// RAW-NOT: = attn.

// Sinks only: the key loop runs over the tiles of keys [0, first - 1]
// (one tile here), whatever the length.
// CHECK-LABEL: func.func @streaming_sinks
// CHECK: scf.forall
// CHECK: %[[LAST:.*]] = arith.minsi %{{.*}}, %c3_i64 : i64
// CHECK: arith.divsi %[[LAST]], %c16_i64 : i64
// CHECK: scf.for
// CHECK: scf.index_switch
func.func @streaming_sinks(%q: tensor<1x1x?x8xf32>, %o: tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) outs(%o : tensor<1x1x?x8xf32>)
    pattern(#attn.sink<first = 4>) -> tensor<1x1x?x8xf32>
  return %r : tensor<1x1x?x8xf32>
}

// A 3 x 3 neighbourhood on a 16 x 16 grid: the query tile (one row of the
// grid) visits only the key tiles of the rows its windows reach, from
// 16 * clamp(row - 1, 0, 13).
// CHECK-LABEL: func.func @natten
// CHECK: scf.forall (%{{.*}}) in (16)
// CHECK: %[[ROW:.*]] = arith.floordivsi %{{.*}}, %c16_i64 : i64
// CHECK: %[[UP:.*]] = arith.subi %[[ROW]], %c1_i64 : i64
// CHECK: %[[HI:.*]] = arith.minsi %[[UP]], %c13_i64 : i64
// CHECK: %[[START:.*]] = arith.maxsi %[[HI]], %c0_i64 : i64
// CHECK: arith.muli %[[START]], %c16_i64 : i64
// CHECK: scf.for
// CHECK: scf.index_switch
func.func @natten(%q: tensor<1x1x256x8xf32>, %o: tensor<1x1x256x8xf32>) -> tensor<1x1x256x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x256x8xf32>, tensor<1x1x256x8xf32>, tensor<1x1x256x8xf32>) outs(%o : tensor<1x1x256x8xf32>)
    pattern(#attn.neighborhood<extent = [16, 16], window = [3, 3]>) -> tensor<1x1x256x8xf32>
  return %r : tensor<1x1x256x8xf32>
}

// Document ids: each tile's smallest and largest id are reduced at run
// time; a pair of tiles whose id ranges cannot meet is Empty, one whose
// tiles hold one and the same id is Full, and only Partial tiles compare
// ids pair by pair. When a batch's key ids are sorted (checked once, before
// the tiles), two binary searches bound the key rows of the query tile's
// documents, and the key loop visits only their tiles.
// CHECK-LABEL: func.func @documents
// CHECK: cf.assert %{{.*}}, "attn.sdpa: length of query segments differs"
// CHECK: %[[SORTED:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.cmpi sle
// CHECK: scf.forall
// CHECK: %[[QSEG:.*]] = tensor.extract_slice %arg1[0, %{{.*}}] [1, %{{.*}}] [1, 1] : tensor<1x?xi32> to tensor<?xi32>
// CHECK: %[[QR:.*]]:2 = linalg.generic {{.*}} ins(%[[QSEG]] : tensor<?xi32>)
// CHECK: arith.minsi
// CHECK: arith.maxsi
// CHECK: %[[QMIN:.*]] = tensor.extract %[[QR]]#0[]
// CHECK: %[[QMAX:.*]] = tensor.extract %[[QR]]#1[]
// CHECK: %[[ISSORTED:.*]] = tensor.extract %[[SORTED]]
// CHECK: %[[ROWS:.*]]:2 = scf.if %[[ISSORTED]] -> (i64, i64)
// CHECK: scf.while
// CHECK: arith.cmpi slt, %{{.*}}, %[[QMIN]] : i64
// CHECK: scf.while
// CHECK: arith.cmpi sle, %{{.*}}, %[[QMAX]] : i64
// CHECK: } else {
// CHECK: arith.maxsi %[[ROWS]]#0, %c0_i64 : i64
// CHECK: arith.minsi %[[ROWS]]#1, %{{.*}} : i64
// CHECK: scf.for
// CHECK: %[[KSEG:.*]] = tensor.extract_slice %arg2[0, %{{.*}}] [1, %{{.*}}] [1, 1] : tensor<1x?xi64> to tensor<?xi64>
// CHECK: %[[KR:.*]]:2 = linalg.generic {{.*}} ins(%[[KSEG]] : tensor<?xi64>)
// CHECK: %[[KMIN:.*]] = tensor.extract %[[KR]]#0[]
// CHECK: %[[KMAX:.*]] = tensor.extract %[[KR]]#1[]
// CHECK: %[[BELOW:.*]] = arith.cmpi slt, %[[QMAX]], %[[KMIN]] : i64
// CHECK: %[[ABOVE:.*]] = arith.cmpi slt, %[[KMAX]], %[[QMIN]] : i64
// CHECK: %[[APART:.*]] = arith.ori %[[BELOW]], %[[ABOVE]] : i1
// CHECK: arith.select %[[APART]], %c0_i8, %{{.*}} : i8
// CHECK: scf.index_switch
// CHECK: case 0 {
// CHECK-NEXT: scf.yield
// CHECK: case 1 {
// CHECK-NOT: arith.cmpi eq, %{{.*}} : i64
// CHECK: default {
// CHECK: ^bb0(%{{.*}}: f32, %[[QID:.*]]: i32, %[[KID:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[QID64:.*]] = arith.extsi %[[QID]] : i32 to i64
// CHECK: arith.cmpi eq, %[[QID64]], %[[KID]] : i64
func.func @documents(%q: tensor<1x1x?x8xf32>, %qs: tensor<1x?xi32>, %ks: tensor<1x?xi64>, %o: tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) outs(%o : tensor<1x1x?x8xf32>)
    segments(%qs, %ks : tensor<1x?xi32>, tensor<1x?xi64>) -> tensor<1x1x?x8xf32>
  return %r : tensor<1x1x?x8xf32>
}

// One static key: its ids are sorted without a check (a slice of the pairs
// at offset 1 would not verify); the flash form verifies (RAW run).
// CHECK-LABEL: func.func @documents_one_key
// CHECK-NOT: iterator_types = ["parallel", "reduction"]
// CHECK: scf.forall
func.func @documents_one_key(%q: tensor<?x1x3x8xf32>, %k: tensor<?x1x1x8xf32>, %qs: tensor<?x3xi32>, %ks: tensor<?x1xi32>, %o: tensor<?x1x3x8xf32>) -> tensor<?x1x3x8xf32> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<?x1x3x8xf32>, tensor<?x1x1x8xf32>, tensor<?x1x1x8xf32>) outs(%o : tensor<?x1x3x8xf32>)
    segments(%qs, %ks : tensor<?x3xi32>, tensor<?x1xi32>) -> tensor<?x1x3x8xf32>
  return %r : tensor<?x1x3x8xf32>
}
