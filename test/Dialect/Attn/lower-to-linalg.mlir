// RUN: attn-opt %s --attn-lower-to-linalg --verify-each -split-input-file | FileCheck %s
// RUN: attn-opt %s --attn-lower-to-linalg=compute-type=f64 --verify-each -split-input-file | FileCheck %s --check-prefix=F64

// Dense attention, static shapes: scores, row max over live scores, shifted
// exp selected by liveness, the PV contraction selecting live pairs only, and
// the guarded division into the outs tensor.
// CHECK-LABEL: func.func @dense
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x8x4xf32>, %[[K:.*]]: tensor<1x2x8x4xf32>, %[[V:.*]]: tensor<1x2x8x4xf32>, %[[O:.*]]: tensor<1x2x8x4xf32>)
// CHECK-NOT: cf.assert
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]{{.*}} ins(%[[Q]], %[[K]] :
// CHECK:   arith.mulf
// CHECK:   arith.addf
// CHECK: arith.constant 5.000000e-01 : f32
// CHECK: linalg.generic
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: arith.select %{{.*}}, %{{.*}}, %[[NEGINF]] : f32
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK:   arith.maximumf
// CHECK: linalg.generic
// CHECK:   arith.cmpf oeq
// CHECK: linalg.generic
// CHECK:   math.exp
// CHECK:   arith.select
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK:   arith.addf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// CHECK:   arith.mulf
// CHECK:   arith.select
// CHECK:   arith.addf
// CHECK: %[[R:.*]] = linalg.generic {{.*}} outs(%[[O]] : tensor<1x2x8x4xf32>)
// CHECK:   arith.divf
// CHECK:   arith.select
// CHECK: return %[[R]]
// F64-LABEL: func.func @dense
// F64: linalg.generic
// F64:   arith.extf %{{.*}} : f32 to f64
// F64: arith.truncf %{{.*}} : f64 to f32
func.func @dense(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>,
                 %o: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         outs(%o : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %r : tensor<1x2x8x4xf32>
}

// -----

// GQA with dynamic lengths: K and V are repeated to the query heads, and the
// dynamic lengths that must agree are checked at run time.
// CHECK-LABEL: func.func @gqa_dynamic
// CHECK: cf.assert %{{.*}}, "attn.sdpa: Nk of key and value differ"
// CHECK: linalg.broadcast ins(%{{.*}} : tensor<2x2x?x16xf16>) outs(%{{.*}} : tensor<2x2x4x?x16xf16>) dimensions = [2]
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2], [3], [4]] : tensor<2x2x4x?x16xf16> into tensor<2x8x?x16xf16>
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @gqa_dynamic(%q: tensor<2x8x?x16xf16>, %k: tensor<2x2x?x16xf16>, %v: tensor<2x2x?x16xf16>,
                       %o: tensor<2x8x?x16xf16>) -> tensor<2x8x?x16xf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<2x8x?x16xf16>, tensor<2x2x?x16xf16>, tensor<2x2x?x16xf16>)
         outs(%o : tensor<2x8x?x16xf16>) -> tensor<2x8x?x16xf16>
  return %r : tensor<2x8x?x16xf16>
}

// -----

// The pattern predicate is built through PatternAttrInterface::buildIsLive on
// i64 positions; causal is `j <= i`.
// CHECK-LABEL: func.func @causal_lse
// CHECK: arith.cmpi sle
// CHECK: arith.select
// CHECK: math.log
// CHECK: return %{{.*}}, %{{.*}} : tensor<1x1x?x8xf32>, tensor<1x1x?xf32>
func.func @causal_lse(%q: tensor<1x1x?x8xf32>, %k: tensor<1x1x?x8xf32>, %v: tensor<1x1x?x8xf32>,
                      %o: tensor<1x1x?x8xf32>) -> (tensor<1x1x?x8xf32>, tensor<1x1x?xf32>) {
  %r, %lse = attn.sdpa ins(%q, %k, %v : tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>)
         outs(%o : tensor<1x1x?x8xf32>) pattern(#attn.causal) -> tensor<1x1x?x8xf32>, tensor<1x1x?xf32>
  return %r, %lse : tensor<1x1x?x8xf32>, tensor<1x1x?xf32>
}

// -----

// Mask and bias broadcast right-aligned; score_mod is inlined after the bias.
// CHECK-DAG: #[[MASKMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[BIASMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (0, d1, d2, d3)>
// CHECK-LABEL: func.func @mask_bias_score_mod
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}, #[[BIASMAP]], #[[MASKMAP]],
// CHECK:   arith.addf
// CHECK:   arith.constant 3.000000e+01 : f32
// CHECK:   math.tanh
// CHECK:   arith.andi
// CHECK:   arith.select
func.func @mask_bias_score_mod(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>,
                               %o: tensor<2x4x8x16xf32>, %m: tensor<8x8xi1>, %bias: tensor<1x4x8x8xf32>) -> tensor<2x4x8x16xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
         outs(%o : tensor<2x4x8x16xf32>) mask(%m : tensor<8x8xi1>) bias(%bias : tensor<1x4x8x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           %cap = arith.constant 30.0 : f32
           %x = arith.divf %s, %cap : f32
           %t = math.tanh %x : f32
           %y = arith.mulf %t, %cap : f32
           attn.yield %y : f32
         } -> tensor<2x4x8x16xf32>
  return %r : tensor<2x4x8x16xf32>
}

// -----

// Positions are read per query head (dim 1 may be 1, H or Hkv); the span
// weight clamps z and multiplies the exponentials.
// CHECK-LABEL: func.func @positions_span
// CHECK: tensor.extract %{{.*}} : tensor<1x1x?xi32>
// CHECK: arith.extsi %{{.*}} : i32 to i64
// CHECK: math.absf
// CHECK: arith.cmpf ogt
// CHECK: math.exp
// CHECK: arith.mulf
func.func @positions_span(%q: tensor<1x2x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>,
                          %o: tensor<1x2x?x8xf32>, %qp: tensor<1x1x?xi32>, %kp: tensor<1x1x?xi32>,
                          %z: tensor<2xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%o : tensor<1x2x?x8xf32>) positions(%qp, %kp : tensor<1x1x?xi32>, tensor<1x1x?xi32>)
         span(%z : tensor<2xf32>) {ramp = 4.0 : f32, max_span = 16.0 : f32} -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

// Persistent memory: scored against every query, always live, included in
// the row maximum and the normaliser.
// CHECK-LABEL: func.func @memory
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3]] output_shape [1, 2, 3, 8] : tensor<2x3x8xf32> into tensor<1x2x3x8xf32>
// CHECK-COUNT-2: arith.maximumf
// CHECK: math.exp
// CHECK: math.exp
func.func @memory(%q: tensor<1x2x5x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>,
                  %o: tensor<1x2x5x8xf32>, %mk: tensor<2x3x8xf32>, %mv: tensor<2x3x8xf32>) -> tensor<1x2x5x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>)
         outs(%o : tensor<1x2x5x8xf32>) memory(%mk, %mv : tensor<2x3x8xf32>, tensor<2x3x8xf32>)
         -> tensor<1x2x5x8xf32>
  return %r : tensor<1x2x5x8xf32>
}

// -----

// Every dim dynamic: the GQA group is H / Hkv at run time.
// CHECK-LABEL: func.func @all_dynamic
// CHECK: cf.assert %{{.*}}, "attn.sdpa: H is not a multiple of Hkv"
// CHECK: arith.divui
// CHECK: linalg.broadcast
func.func @all_dynamic(%q: tensor<?x?x?x8xf32>, %k: tensor<?x?x?x8xf32>, %v: tensor<?x?x?x8xf32>,
                       %o: tensor<?x?x?x8xf32>) -> tensor<?x?x?x8xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x8xf32>, tensor<?x?x?x8xf32>, tensor<?x?x?x8xf32>)
         outs(%o : tensor<?x?x?x8xf32>) pattern(#attn.window<left = 2, right = 0>) -> tensor<?x?x?x8xf32>
  return %r : tensor<?x?x?x8xf32>
}
