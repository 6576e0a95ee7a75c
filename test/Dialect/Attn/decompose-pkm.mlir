// RUN: attn-opt %s --attn-decompose --verify-each | FileCheck %s
// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --attn-decompose=compute-type=f64 --verify-each | FileCheck %s --check-prefix=F64

// The indexing maps used below.
// CHECK-DAG: #[[SK:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d4)>
// CHECK-DAG: #[[QMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[ID5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>

// Product-key memory, n = 6 sub-keys per half, top_k = 3, f16 values:
// s1 from the first half of q, s2 from the second (offset 4 in the map); the
// top k of each by rank (ties: smaller index), the k*k = 9 candidates ranked
// by (score desc, id = x*n + y asc), softmax over the kept 3, a gather of the
// value rows, all in f32, truncated into the f16 outs.
// compute-type=f64: the top-k choices are made on f32 scores (the same sets
// for both compute types); the kept candidates' scores (computed again in
// f64), their softmax and the sum of values are f64.
// F64-LABEL: func.func @pkm_f16_values
// F64: ins(%{{.*}}, %{{.*}} : tensor<2x6x4xf32>, tensor<1x2x?x4xf32>) outs(%{{.*}} : tensor<1x2x?x6xf32>)
// F64: arith.cmpf ogt, %{{.*}}, %{{.*}} : f32
// F64: ins(%{{.*}}, %{{.*}} : tensor<2x6x4xf32>, tensor<1x2x?x4xf32>) outs(%{{.*}} : tensor<1x2x?x6xf64>)
// F64: outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x?x3x3xf32>, tensor<1x2x?x3x3xi64>, tensor<1x2x?x3x3xf64>)
// F64: arith.cmpf ogt, %{{.*}}, %{{.*}} : f32
// F64: math.exp %{{.*}} : f64
// F64: arith.extf %{{.*}} : f16 to f64
// F64: arith.divf %{{.*}}, %{{.*}} : f64
// F64: arith.truncf %{{.*}} : f64 to f16
// F64-LABEL: func.func @pkm_static

// CHECK-LABEL: func.func @pkm_f16_values
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x?x8xf32>, %[[S1:.*]]: tensor<2x6x4xf32>, %[[S2:.*]]: tensor<2x6x4xf32>, %[[VALS:.*]]: tensor<36x5xf16>, %[[O:.*]]: tensor<1x2x?x5xf16>)
// CHECK: cf.assert %{{.*}}, "attn.pkm: outs and query differ in [B, H, N]"
// CHECK: %[[QLO:.*]] = tensor.extract_slice %[[Q]][0, 0, 0, 0] [1, 2, %{{.*}}, 4] [1, 1, 1, 1] : tensor<1x2x?x8xf32> to tensor<1x2x?x4xf32>
// CHECK: %[[SC1:.*]] = linalg.generic {indexing_maps = [#[[SK]], #[[QMAP]], #[[OUT]]], {{.*}} ins(%[[S1]], %[[QLO]] : {{.*}}) outs(%{{.*}} : tensor<1x2x?x6xf32>)
// CHECK: %[[QHI:.*]] = tensor.extract_slice %[[Q]][0, 0, 0, 4] [1, 2, %{{.*}}, 4] [1, 1, 1, 1] : tensor<1x2x?x8xf32> to tensor<1x2x?x4xf32>
// CHECK: %[[SC2:.*]] = linalg.generic {indexing_maps = [#[[SK]], #[[QMAP]], #[[OUT]]], {{.*}} ins(%[[S2]], %[[QHI]] : {{.*}}) outs(%{{.*}} : tensor<1x2x?x6xf32>)
// rank1[x] = #{x' : s1[x'] > s1[x] or (s1[x'] == s1[x] and x' < x)}.
// CHECK: %[[R1:.*]] = linalg.generic {indexing_maps = [#[[QMAP]], #[[OUT]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[SC1]], %[[SC1]] : {{.*}}) outs(%{{.*}} : tensor<1x2x?x6xi64>)
// CHECK: %[[XP:.*]] = linalg.index 4 : index
// CHECK: %[[X:.*]] = linalg.index 3 : index
// CHECK: %[[GT:.*]] = arith.cmpf ogt, %[[OTHER:.*]], %[[SELF:.*]] : f32
// CHECK: %[[EQ:.*]] = arith.cmpf oeq, %[[OTHER]], %[[SELF]] : f32
// CHECK: %[[LT:.*]] = arith.cmpi ult, %[[XP]], %[[X]] : index
// CHECK: %[[TIE:.*]] = arith.andi %[[EQ]], %[[LT]] : i1
// CHECK: %[[BEFORE:.*]] = arith.ori %[[GT]], %[[TIE]] : i1
// CHECK: arith.extui %[[BEFORE]] : i1 to i64
// I1[t] = max_x (rank1[x] == t ? x : 0), for t < 3.
// CHECK: %[[I1:.*]] = linalg.generic {{.*}} ins(%[[R1]] : tensor<1x2x?x6xi64>) outs(%{{.*}} : tensor<1x2x?x3xi64>)
// CHECK: arith.cmpi eq
// CHECK: arith.select
// CHECK: arith.maxsi
// CHECK: %[[I2:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x2x?x3xi64>)
// CHECK: %[[CAND:.*]]:2 = linalg.generic {{.*}} ins(%[[I1]], %[[I2]] : {{.*}}) outs(%{{.*}}, %{{.*}} : tensor<1x2x?x3x3xf32>, tensor<1x2x?x3x3xi64>)
// CHECK: tensor.extract %[[SC1]]
// CHECK: tensor.extract %[[SC2]]
// CHECK: arith.constant 6 : i64
// CHECK: %[[CS:.*]] = tensor.collapse_shape %[[CAND]]#0 {{\[\[}}0], [1], [2], [3, 4]] : tensor<1x2x?x3x3xf32> into tensor<1x2x?x9xf32>
// CHECK: %[[CI:.*]] = tensor.collapse_shape %[[CAND]]#1 {{\[\[}}0], [1], [2], [3, 4]] : tensor<1x2x?x3x3xi64> into tensor<1x2x?x9xi64>
// Candidate ranks: ties broken by the smaller id.
// CHECK: %[[CR:.*]] = linalg.generic {{.*}} ins(%[[CS]], %[[CS]], %[[CI]], %[[CI]] : {{.*}}) outs(%{{.*}} : tensor<1x2x?x9xi64>)
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpi ult, %{{.*}}, %{{.*}} : i64
// Softmax over the kept candidates (rank < 3).
// CHECK: %[[MX:.*]] = linalg.generic {{.*}} ins(%[[CS]], %[[CR]] : {{.*}}) outs(%{{.*}} : tensor<1x2x?xf32>)
// CHECK: arith.constant 3 : i64
// CHECK: arith.cmpi slt
// CHECK: %[[WTS:.*]] = linalg.generic {{.*}} ins(%[[CS]], %[[CR]], %[[MX]] : {{.*}}) outs(%{{.*}} : tensor<1x2x?x9xf32>)
// CHECK: math.exp
// CHECK: %[[DEN:.*]] = linalg.generic {{.*}} ins(%[[WTS]] : {{.*}}) outs(%{{.*}} : tensor<1x2x?xf32>)
// Gather of the value rows id[c] of the kept candidates (the others are
// selected away, not weighted by 0).
// CHECK: %[[NUM:.*]] = linalg.generic {{.*}} ins(%[[WTS]], %[[CI]], %[[CR]] : {{.*}}) outs(%{{.*}} : tensor<1x2x?x5xf32>)
// CHECK: tensor.extract %[[VALS]][%{{.*}}, %{{.*}}] : tensor<36x5xf16>
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.cmpi slt
// CHECK: arith.select
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[NUM]], %[[DEN]] : {{.*}}) outs(%[[O]] : tensor<1x2x?x5xf16>)
// CHECK: arith.divf
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK-NOT: attn.pkm
// CHECK: return %[[R]]
// LLVM-LABEL: llvm.func @pkm_f16_values
func.func @pkm_f16_values(%q: tensor<1x2x?x8xf32>, %s1: tensor<2x6x4xf32>, %s2: tensor<2x6x4xf32>,
                          %vals: tensor<36x5xf16>, %o: tensor<1x2x?x5xf16>) -> tensor<1x2x?x5xf16> {
  %r = attn.pkm ins(%q, %s1, %s2, %vals : tensor<1x2x?x8xf32>, tensor<2x6x4xf32>, tensor<2x6x4xf32>, tensor<36x5xf16>)
         outs(%o : tensor<1x2x?x5xf16>) {top_k = 3} -> tensor<1x2x?x5xf16>
  return %r : tensor<1x2x?x5xf16>
}

// Static shapes, f32 everywhere: no run-time checks; top_k = n = 4 keeps every
// sub-key and 4 of the 16 candidates; the result is written into the outs
// directly.
// CHECK-LABEL: func.func @pkm_static
// CHECK-SAME: %[[O:[^:]*]]: tensor<2x3x5x6xf32>)
// CHECK-NOT: cf.assert
// CHECK: outs(%{{.*}} : tensor<2x3x5x4xi64>)
// CHECK: tensor<2x3x5x4x4xf32>, tensor<2x3x5x4x4xi64>
// CHECK: into tensor<2x3x5x16xf32>
// CHECK: arith.constant 4 : i64
// CHECK: arith.cmpi slt
// CHECK: %[[R:.*]] = linalg.generic {{.*}} outs(%[[O]] : tensor<2x3x5x6xf32>)
// CHECK-NOT: arith.truncf
// CHECK: return %[[R]]
// LLVM-LABEL: llvm.func @pkm_static
func.func @pkm_static(%q: tensor<2x3x5x6xf32>, %s1: tensor<3x4x3xf32>, %s2: tensor<3x4x3xf32>,
                      %vals: tensor<16x6xf32>, %o: tensor<2x3x5x6xf32>) -> tensor<2x3x5x6xf32> {
  %r = attn.pkm ins(%q, %s1, %s2, %vals : tensor<2x3x5x6xf32>, tensor<3x4x3xf32>, tensor<3x4x3xf32>, tensor<16x6xf32>)
         outs(%o : tensor<2x3x5x6xf32>) {top_k = 4} -> tensor<2x3x5x6xf32>
  return %r : tensor<2x3x5x6xf32>
}

// bf16 queries and sub-keys with dynamic B, H, N and a dynamic sub-key head
// dim: the head dims are checked at run time; the scores are widened to f32.
// CHECK-LABEL: func.func @pkm_bf16_dynamic
// CHECK: cf.assert %{{.*}}, "attn.pkm: subkeys1 dim 0 differs from H"
// CHECK: cf.assert %{{.*}}, "attn.pkm: subkeys2 dim 0 differs from H"
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// LLVM-LABEL: llvm.func @pkm_bf16_dynamic
func.func @pkm_bf16_dynamic(%q: tensor<?x?x?x4xbf16>, %s1: tensor<?x5x2xbf16>, %s2: tensor<?x5x2xbf16>,
                            %vals: tensor<25x3xbf16>, %o: tensor<?x?x?x3xbf16>) -> tensor<?x?x?x3xbf16> {
  %r = attn.pkm ins(%q, %s1, %s2, %vals : tensor<?x?x?x4xbf16>, tensor<?x5x2xbf16>, tensor<?x5x2xbf16>, tensor<25x3xbf16>)
         outs(%o : tensor<?x?x?x3xbf16>) {top_k = 2} -> tensor<?x?x?x3xbf16>
  return %r : tensor<?x?x?x3xbf16>
}
