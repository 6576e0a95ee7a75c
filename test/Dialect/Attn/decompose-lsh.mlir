// RUN: attn-opt %s --attn-decompose --verify-each | FileCheck %s
// RUN: attn-opt %s --attn-cpu-pipeline=mode=reference | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --attn-decompose=compute-type=f64 --verify-each | FileCheck %s --check-prefix=F64 --implicit-check-not="attn.sdpa ins"

// attn.lsh becomes: f32 hashing (argmax buckets, a sort by (bucket, position)
// and its inverse), a gather into chunks, one attn.sdpa over all chunks of
// all rounds with the original positions and a score_mod for the own key,
// and a log-sum-exp combination of the rounds.

// LLVM-NOT: attn.
// LLVM-LABEL: llvm.func @lsh_causal
// LLVM-LABEL: llvm.func @lsh_look_ahead
// LLVM-LABEL: llvm.func @lsh_wide_window
// LLVM-LABEL: llvm.func @lsh_dynamic
// LLVM-LABEL: llvm.func @lsh_f16

// compute-type=f64 (the oracle of attn-run --check): the hashing stays f32, so
// both compute types see the same buckets; the normalised keys, the chunks,
// the attention (no attn.sdpa: it has no f64 form) and the combination of
// the rounds are f64.
// F64-LABEL: func.func @lsh_causal
// F64: math.sqrt %{{.*}} : f64
// F64: ins(%{{.*}}, %{{.*}} : tensor<1x2x16x8xf32>, tensor<2x2x8x2xf32>) outs(%{{.*}} : tensor<1x2x2x16x2xf32>)
// F64: arith.cmpf ogt, %{{.*}}, %{{.*}} : f32
// F64: outs(%{{.*}} : tensor<1x16x4x8xf64>)
// F64: arith.constant -1.000000e+05 : f64
// F64: math.exp %{{.*}} : f64
// F64: math.log %{{.*}} : f64
// F64: math.exp %{{.*}} : f64
// F64: arith.truncf %{{.*}} : f64 to f32
// F64-LABEL: func.func @lsh_look_ahead

// 2 heads, 2 rounds, N = 16, chunks of 4: 2 * 2 * 4 = 16 sdpa heads of 4
// queries against look_back + 1 = 2 chunks of keys.
// CHECK-LABEL: func.func @lsh_causal
// CHECK-SAME: (%[[QK:.*]]: tensor<1x2x16x8xf32>, %[[V:.*]]: tensor<1x2x16x8xf32>, %[[ROT:.*]]: tensor<2x2x8x2xf32>, %[[O:.*]]: tensor<1x2x16x8xf32>)
// Keys normalised: x / sqrt(sum x^2), 0 for a zero row.
// CHECK: arith.mulf
// CHECK: math.sqrt
// CHECK: arith.divf
// CHECK: arith.select
// Projections x = qk R, then argmax over [x ; -x] (ties to the smaller index).
// CHECK: linalg.generic {{.*}} ins(%[[QK]], %[[ROT]] : {{.*}}) outs({{.*}} : tensor<1x2x2x16x2xf32>)
// CHECK: %[[BUCKETS:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}} : tensor<1x2x2x16x2xf32>) outs(%{{.*}}, %{{.*}} : tensor<1x2x2x16xf32>, tensor<1x2x2x16xi64>)
// CHECK: arith.cmpf ogt
// CHECK: arith.negf
// Slots: #{n' : (bucket n', n') < (bucket n, n)}; the inverse permutation.
// CHECK: %[[SLOT:.*]] = linalg.generic {{.*}} ins(%[[BUCKETS]]#1, %[[BUCKETS]]#1 : tensor<1x2x2x16xi64>, tensor<1x2x2x16xi64>)
// CHECK: %[[PERM:.*]] = linalg.generic {{.*}} ins(%[[SLOT]] : tensor<1x2x2x16xi64>) outs(%{{.*}} : tensor<1x2x2x16xi64>)
// Positions of the chunk queries and of the keys of the chunk window.
// CHECK: %[[QPOS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x16x4xi64>)
// CHECK: tensor.extract %[[PERM]]
// CHECK: %[[KPOS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x16x8xi64>)
// CHECK: tensor.extract %[[PERM]]
// CHECK: %[[CQ:.*]] = linalg.generic {{.*}} ins(%[[QPOS]] : tensor<1x16x4xi64>) outs(%{{.*}} : tensor<1x16x4x8xf32>)
// CHECK: tensor.extract %[[QK]]
// CHECK: %[[CK:.*]] = linalg.generic {{.*}} ins(%[[KPOS]] : tensor<1x16x8xi64>) outs(%{{.*}} : tensor<1x16x8x8xf32>)
// CHECK: %[[CV:.*]] = linalg.generic {{.*}} ins(%[[KPOS]] : tensor<1x16x8xi64>) outs(%{{.*}} : tensor<1x16x8x8xf32>)
// CHECK: tensor.extract %[[V]]
// CHECK: %[[RES:.*]], %[[LSE:.*]] = attn.sdpa ins(%[[CQ]], %[[CK]], %[[CV]] : tensor<1x16x4x8xf32>, tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>) outs(%{{.*}} : tensor<1x16x4x8xf32>) positions(%[[QPOS]], %[[KPOS]] : tensor<1x16x4xi64>, tensor<1x16x8xi64>) pattern(#attn.causal) score_mod {
// CHECK-NEXT: ^bb0(%[[S:.*]]: f32, %{{.*}}: index, %{{.*}}: index, %[[I:.*]]: index, %[[J:.*]]: index):
// CHECK-NEXT: %[[SAME:.*]] = arith.cmpi eq, %[[I]], %[[J]] : index
// CHECK-NEXT: %[[SELF:.*]] = arith.constant -1.000000e+05 : f32
// CHECK-NEXT: %[[T:.*]] = arith.select %[[SAME]], %[[SELF]], %[[S]] : f32
// CHECK-NEXT: attn.yield %[[T]] : f32
// CHECK-NEXT: } -> tensor<1x16x4x8xf32>, tensor<1x16x4xf32>
// Combine, reading the results as rows (h R + r) N + slot: lse_r per position,
// the shift max_r lse_r, the total, one weight exp(lse_r - shift) / total per
// round and position, then out = sum_r weight * o_r along the rows of o.
// CHECK: %[[FLATO:.*]] = tensor.collapse_shape %[[RES]] {{\[}}[0], [1, 2], [3]] : tensor<1x16x4x8xf32> into tensor<1x64x8xf32>
// CHECK: %[[FLATL:.*]] = tensor.collapse_shape %[[LSE]] {{\[}}[0], [1, 2]] : tensor<1x16x4xf32> into tensor<1x64xf32>
// CHECK: tensor.extract %[[FLATL]]
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: %[[W:.*]] = linalg.generic
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[O]] : tensor<1x2x16x8xf32>)
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%{{.*}}, %[[W]] : tensor<1x2x2x16xi64>, tensor<1x2x2x16xf32>) outs(%[[ZERO]] : tensor<1x2x16x8xf32>)
// CHECK: tensor.extract %[[FLATO]]
// CHECK: return %[[OUT]]
func.func @lsh_causal(%qk: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>,
                      %rot: tensor<2x2x8x2xf32>, %o: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<2x2x8x2xf32>)
         outs(%o : tensor<1x2x16x8xf32>) {num_buckets = 4, chunk_size = 4, causal}
         -> tensor<1x2x16x8xf32>
  return %r : tensor<1x2x16x8xf32>
}

// Not causal: no pattern. look_back = 0, look_ahead = 1: 2 key chunks. One
// round, 8 chunks of 2: 3 * 1 * 8 = 24 sdpa heads. The scale is forwarded.
// CHECK-LABEL: func.func @lsh_look_ahead
// CHECK: attn.sdpa ins({{.*}} : tensor<2x24x2x4xf32>, tensor<2x24x4x4xf32>, tensor<2x24x4x6xf32>) outs({{.*}} : tensor<2x24x2x6xf32>) positions({{.*}} : tensor<2x24x2xi64>, tensor<2x24x4xi64>) {scale = 2.500000e-01 : f32} score_mod {
// CHECK: arith.constant -1.000000e+05 : f32
// CHECK: } -> tensor<2x24x2x6xf32>, tensor<2x24x2xf32>
func.func @lsh_look_ahead(%qk: tensor<2x3x16x4xf32>, %v: tensor<2x3x16x6xf32>,
                          %rot: tensor<3x1x4x4xf32>, %o: tensor<2x3x16x6xf32>) -> tensor<2x3x16x6xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<2x3x16x4xf32>, tensor<2x3x16x6xf32>, tensor<3x1x4x4xf32>)
         outs(%o : tensor<2x3x16x6xf32>) {num_buckets = 8, chunk_size = 2, look_back = 0, look_ahead = 1, scale = 0.25 : f32}
         -> tensor<2x3x16x6xf32>
  return %r : tensor<2x3x16x6xf32>
}

// A window of 3 + 2 + 1 chunks covers the 4 chunks: every chunk once.
// CHECK-LABEL: func.func @lsh_wide_window
// CHECK: attn.sdpa ins({{.*}} : tensor<1x12x4x8xf32>, tensor<1x12x16x8xf32>, tensor<1x12x16x8xf32>)
func.func @lsh_wide_window(%qk: tensor<1x1x16x8xf32>, %v: tensor<1x1x16x8xf32>,
                           %rot: tensor<1x3x8x2xf32>, %o: tensor<1x1x16x8xf32>) -> tensor<1x1x16x8xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x1x16x8xf32>, tensor<1x1x16x8xf32>, tensor<1x3x8x2xf32>)
         outs(%o : tensor<1x1x16x8xf32>) {num_buckets = 4, chunk_size = 4, look_back = 3, look_ahead = 2, causal}
         -> tensor<1x1x16x8xf32>
  return %r : tensor<1x1x16x8xf32>
}

// Dynamic B and N: run-time checks, dynamic chunk counts and window.
// CHECK-LABEL: func.func @lsh_dynamic
// CHECK: cf.assert {{.*}}"attn.lsh: N is not a multiple of chunk_size"
// CHECK: arith.minui
// No sdpa when there are no chunks (attn.sdpa needs H >= 1).
// CHECK: scf.if %{{.*}} -> (tensor<?x?x4x8xf32>, tensor<?x?x4xf32>)
// CHECK: } else {
// CHECK: attn.sdpa ins({{.*}} : tensor<?x?x4x8xf32>, tensor<?x?x?x8xf32>, tensor<?x?x?x8xf32>) outs({{.*}} : tensor<?x?x4x8xf32>) positions({{.*}} : tensor<?x?x4xi64>, tensor<?x?x?xi64>) pattern(#attn.causal) score_mod {
// CHECK: } -> tensor<?x?x4x8xf32>, tensor<?x?x4xf32>
// CHECK: return {{.*}} : tensor<?x2x?x8xf32>
func.func @lsh_dynamic(%qk: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>,
                       %rot: tensor<2x2x8x4xf32>, %o: tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<2x2x8x4xf32>)
         outs(%o : tensor<?x2x?x8xf32>) {num_buckets = 8, chunk_size = 4, causal}
         -> tensor<?x2x?x8xf32>
  return %r : tensor<?x2x?x8xf32>
}

// f16: hashing, scores and the combination in f32; the result in f16.
// CHECK-LABEL: func.func @lsh_f16
// CHECK: arith.extf {{.*}} : f16 to f32
// CHECK: attn.sdpa ins({{.*}} : tensor<1x8x4x8xf32>, tensor<1x8x8x8xf32>, tensor<1x8x8x8xf32>) outs({{.*}} : tensor<1x8x4x8xf32>)
// CHECK: arith.truncf {{.*}} : f32 to f16
// CHECK: return {{.*}} : tensor<1x2x16x8xf16>
func.func @lsh_f16(%qk: tensor<1x2x16x8xf16>, %v: tensor<1x2x16x8xf16>,
                   %rot: tensor<2x1x8x2xf16>, %o: tensor<1x2x16x8xf16>) -> tensor<1x2x16x8xf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x16x8xf16>, tensor<1x2x16x8xf16>, tensor<2x1x8x2xf16>)
         outs(%o : tensor<1x2x16x8xf16>) {num_buckets = 4, chunk_size = 4}
         -> tensor<1x2x16x8xf16>
  return %r : tensor<1x2x16x8xf16>
}
