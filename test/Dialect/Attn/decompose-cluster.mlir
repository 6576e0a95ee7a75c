// RUN: attn-opt %s --attn-decompose --verify-each | FileCheck %s
// RUN: attn-opt %s --attn-cpu-pipeline=mode=reference | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --attn-decompose=compute-type=f64 --verify-each | FileCheck %s --check-prefix=F64 --implicit-check-not="attn.sdpa ins"

// attn.cluster becomes: f32 membership (normalised rows against the
// centroids, ranks with ties to the smaller position, the top `window` of
// each cluster), a gather of every cluster's queries and keys, one attn.sdpa
// over all clusters of all heads with the original positions, and a
// log-sum-exp combination over the clusters a query belongs to.

// LLVM-NOT: attn.
// LLVM-LABEL: llvm.func @cluster_causal_gqa
// LLVM-LABEL: llvm.func @cluster_shared_qk
// LLVM-LABEL: llvm.func @cluster_f16_dynamic
// LLVM-LABEL: llvm.func @cluster_no_centroids

// compute-type=f64: the membership stays f32 (the same clusters for both
// compute types); the gathered rows, the attention (no attn.sdpa: it has no
// f64 form) and the combination over the clusters are f64.
// F64-LABEL: func.func @cluster_causal_gqa
// F64: math.sqrt %{{.*}} : f32
// F64: arith.cmpf ogt, %{{.*}}, %{{.*}} : f32
// F64: outs(%{{.*}} : tensor<1x12x4x8xf64>)
// F64: ins(%{{.*}}, %{{.*}} : tensor<1x12x4x8xf64>, tensor<1x12x4x8xf64>) outs(%{{.*}} : tensor<1x12x4x4xf64>)
// F64: math.exp %{{.*}} : f64
// F64: math.log %{{.*}} : f64
// F64: math.exp %{{.*}} : f64
// F64: arith.truncf %{{.*}} : f64 to f32
// F64-LABEL: func.func @cluster_shared_qk

// 4 query heads over 2 KV heads, 3 clusters of 4: 12 sdpa heads.
// CHECK-LABEL: func.func @cluster_causal_gqa
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x16x8xf32>, %[[K:.*]]: tensor<1x2x16x8xf32>, %[[V:.*]]: tensor<1x2x16x6xf32>, %[[C:.*]]: tensor<4x3x8xf32>, %[[O:.*]]: tensor<1x4x16x6xf32>)
// Normalised keys, repeated to the 4 query heads.
// CHECK: math.sqrt
// CHECK: linalg.broadcast
// CHECK: tensor.collapse_shape {{.*}} : tensor<1x2x2x16x8xf32> into tensor<1x4x16x8xf32>
// Scores against the centroids and ranks: #{n' : s(n') > s(n), or equal and n' < n}.
// CHECK: %[[QS:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[C]] : tensor<1x4x16x8xf32>, tensor<4x3x8xf32>) outs(%{{.*}} : tensor<1x4x3x16xf32>)
// CHECK: %[[QRANK:.*]] = linalg.generic {{.*}} ins(%[[QS]], %[[QS]] : tensor<1x4x3x16xf32>, tensor<1x4x3x16xf32>) outs(%{{.*}} : tensor<1x4x3x16xi64>)
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf oeq
// CHECK: %[[KS:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[C]] : tensor<1x4x16x8xf32>, tensor<4x3x8xf32>) outs(%{{.*}} : tensor<1x4x3x16xf32>)
// CHECK: %[[KRANK:.*]] = linalg.generic {{.*}} ins(%[[KS]], %[[KS]] :
// The members of each cluster in rank order, cluster c of head h at h * 3 + c.
// CHECK: %[[QTOP:.*]] = linalg.generic {{.*}} ins(%[[QRANK]] : tensor<1x4x3x16xi64>) outs(%{{.*}} : tensor<1x4x3x4xi64>)
// CHECK: %[[QPOS:.*]] = tensor.collapse_shape %[[QTOP]] {{\[}}[0], [1, 2], [3]] : tensor<1x4x3x4xi64> into tensor<1x12x4xi64>
// CHECK: %[[KTOP:.*]] = linalg.generic {{.*}} ins(%[[KRANK]] : tensor<1x4x3x16xi64>) outs(%{{.*}} : tensor<1x4x3x4xi64>)
// CHECK: %[[KPOS:.*]] = tensor.collapse_shape %[[KTOP]]
// Gathers: sdpa head g reads query head g / 3 and KV head g / 6.
// CHECK: %[[CQ:.*]] = linalg.generic {{.*}} ins(%[[QPOS]] : tensor<1x12x4xi64>) outs(%{{.*}} : tensor<1x12x4x8xf32>)
// CHECK: arith.divui %{{.*}}, %c3
// CHECK: tensor.extract %[[Q]]
// CHECK: %[[CK:.*]] = linalg.generic {{.*}} ins(%[[KPOS]] : tensor<1x12x4xi64>) outs(%{{.*}} : tensor<1x12x4x8xf32>)
// CHECK: tensor.extract %[[K]]
// CHECK: %[[CV:.*]] = linalg.generic {{.*}} ins(%[[KPOS]] : tensor<1x12x4xi64>) outs(%{{.*}} : tensor<1x12x4x6xf32>)
// CHECK: tensor.extract %[[V]]
// CHECK: %[[RES:.*]], %[[LSE:.*]] = attn.sdpa ins(%[[CQ]], %[[CK]], %[[CV]] : tensor<1x12x4x8xf32>, tensor<1x12x4x8xf32>, tensor<1x12x4x6xf32>) outs(%{{.*}} : tensor<1x12x4x6xf32>) positions(%[[QPOS]], %[[KPOS]] : tensor<1x12x4xi64>, tensor<1x12x4xi64>) pattern(#attn.causal) -> tensor<1x12x4x6xf32>, tensor<1x12x4xf32>
// Rows of the members (rank < 4), -1 for the others; then the combination.
// CHECK: linalg.generic {{.*}} ins(%[[QRANK]] : tensor<1x4x3x16xi64>)
// CHECK: arith.cmpi slt
// CHECK: %[[FLATO:.*]] = tensor.collapse_shape %[[RES]]
// CHECK: %[[FLATL:.*]] = tensor.collapse_shape %[[LSE]]
// CHECK: tensor.extract %[[FLATL]]
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x16x6xf32>)
// CHECK: tensor.extract %[[FLATO]]
// CHECK: return %[[OUT]]
func.func @cluster_causal_gqa(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x6xf32>,
                              %c: tensor<4x3x8xf32>, %o: tensor<1x4x16x6xf32>) -> tensor<1x4x16x6xf32> {
  %r = attn.cluster ins(%q, %k, %v, %c : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x6xf32>, tensor<4x3x8xf32>)
         outs(%o : tensor<1x4x16x6xf32>) {window = 4, causal} -> tensor<1x4x16x6xf32>
  return %r : tensor<1x4x16x6xf32>
}

// k = q, not causal (no pattern), the scale forwarded.
// CHECK-LABEL: func.func @cluster_shared_qk
// CHECK-NOT: linalg.broadcast
// CHECK: attn.sdpa ins({{.*}} : tensor<2x4x5x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x8xf32>) outs({{.*}}) positions({{.*}} : tensor<2x4x5xi64>, tensor<2x4x5xi64>) {scale = 5.000000e-01 : f32} -> tensor<2x4x5x8xf32>, tensor<2x4x5xf32>
func.func @cluster_shared_qk(%q: tensor<2x2x10x8xf32>, %v: tensor<2x2x10x8xf32>,
                             %c: tensor<2x2x8xf32>, %o: tensor<2x2x10x8xf32>) -> tensor<2x2x10x8xf32> {
  %r = attn.cluster ins(%q, %q, %v, %c : tensor<2x2x10x8xf32>, tensor<2x2x10x8xf32>, tensor<2x2x10x8xf32>, tensor<2x2x8xf32>)
         outs(%o : tensor<2x2x10x8xf32>) {window = 5, scale = 0.5 : f32} -> tensor<2x2x10x8xf32>
  return %r : tensor<2x2x10x8xf32>
}

// f16, dynamic N, GQA 8 / 2: run-time checks of the window; choices and
// scores in f32, the result in f16.
// CHECK-LABEL: func.func @cluster_f16_dynamic
// CHECK: cf.assert {{.*}}"attn.cluster: window > Nq"
// CHECK: cf.assert {{.*}}"attn.cluster: window > Nk"
// CHECK: cf.assert {{.*}}"attn.cluster: causal needs Nq == Nk"
// CHECK: arith.extf {{.*}} : f16 to f32
// CHECK: attn.sdpa ins({{.*}} : tensor<1x128x64x64xf32>, tensor<1x128x64x64xf32>, tensor<1x128x64x32xf32>) outs({{.*}} : tensor<1x128x64x32xf32>) positions({{.*}} : tensor<1x128x64xi64>, tensor<1x128x64xi64>) pattern(#attn.causal) -> tensor<1x128x64x32xf32>, tensor<1x128x64xf32>
// CHECK: arith.truncf {{.*}} : f32 to f16
// CHECK: return {{.*}} : tensor<1x8x?x32xf16>
func.func @cluster_f16_dynamic(%q: tensor<1x8x?x64xf16>, %k: tensor<1x2x?x64xf16>, %v: tensor<1x2x?x32xf16>,
                               %c: tensor<8x16x64xf32>, %o: tensor<1x8x?x32xf16>) -> tensor<1x8x?x32xf16> {
  %r = attn.cluster ins(%q, %k, %v, %c : tensor<1x8x?x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x32xf16>, tensor<8x16x64xf32>)
         outs(%o : tensor<1x8x?x32xf16>) {window = 64, causal} -> tensor<1x8x?x32xf16>
  return %r : tensor<1x8x?x32xf16>
}

// No centroids: no sdpa, every query is in no cluster and gives 0.
// CHECK-LABEL: func.func @cluster_no_centroids
// CHECK-NOT: attn.sdpa
// CHECK: return
func.func @cluster_no_centroids(%q: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>,
                                %c: tensor<2x0x8xf32>, %o: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %r = attn.cluster ins(%q, %q, %v, %c : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2x0x8xf32>)
         outs(%o : tensor<1x2x4x8xf32>) {window = 2} -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}
