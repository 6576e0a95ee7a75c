// RUN: attn-opt %s --attn-tile="q-tile=4 kv-tile=8" --attn-prepare-tile-loops | FileCheck %s
// RUN: attn-opt %s --attn-tile="q-tile=4 kv-tile=8" --attn-prepare-tile-loops | FileCheck %s --check-prefix=EXP
// RUN: attn-opt %s --attn-tile="q-tile=4 kv-tile=8 compute-type=f64" --attn-prepare-tile-loops | FileCheck %s --check-prefix=EXP64

// attn-prepare-tile-loops: in the flash form's scf.forall, the scores'
// contraction Q K^T keeps its (i, j, k) order (its innermost loop walks both
// operands contiguously) and the values' contraction P V becomes (i, k, j);
// every float arith op of a tile's linalg ops may be reassociated and
// contracted. A linalg op outside a forall is left alone.
// CHECK-DAG: #[[QMAP:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[KMAP:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[SMAP:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @dense
// CHECK: scf.forall
// CHECK-NOT: linalg.matmul
// CHECK: linalg.generic {indexing_maps = [#[[QMAP]], #[[KMAP]], #[[SMAP]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK: arith.mulf %{{.*}}, %{{.*}} fastmath<reassoc,contract> : f32
// CHECK-NEXT: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc,contract> : f32
// CHECK: arith.maximumf %{{.*}}, %{{.*}} fastmath<reassoc,contract> : f32
// The values: loops (i, k, j), P indexed (i, k), V (k, j), O (i, j).
// CHECK: linalg.generic {indexing_maps = [#[[SMAP]], #[[KMAP]], #[[QMAP]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK: arith.mulf %{{.*}}, %{{.*}} fastmath<reassoc,contract> : f32
// CHECK-NEXT: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc,contract> : f32
// CHECK-NOT: linalg.matmul
// CHECK-LABEL: func.func @outside
// CHECK: linalg.matmul
// CHECK-NOT: fastmath
// The f32 exp2 of the softmax becomes a polynomial in f = x - roundeven(x)
// times 2^roundeven(x) made in the exponent bits, with NaN passed through;
// an f64 exp2 stays.
// EXP-LABEL: func.func @dense
// EXP-NOT: math.exp2
// EXP: math.roundeven
// EXP: math.fma
// EXP: arith.shli
// EXP: arith.bitcast
// EXP: arith.cmpf uno
// EXP-NOT: math.exp2
// EXP-LABEL: func.func @outside
// EXP64-LABEL: func.func @dense
// EXP64: math.exp2 %{{.*}} : f64
func.func @dense(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>,
                 %o: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%o : tensor<1x2x?x8xf32>) pattern(#attn.dense) -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

func.func @outside(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>, %c: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x4xf32>) outs(%c : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}
