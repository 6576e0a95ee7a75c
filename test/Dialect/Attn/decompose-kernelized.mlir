// RUN: attn-opt %s --attn-decompose --verify-each | FileCheck %s
// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --attn-decompose=compute-type=f64 --verify-each | FileCheck %s --check-prefix=F64
// RUN: attn-opt %s --attn-decompose=compute-type=f64 | FileCheck %s --check-prefix=NOF32

// The indexing maps used below.
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d4)>
// CHECK-DAG: #[[ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[BH:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-DAG: #[[W0:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (0, d3, d4)>
// CHECK-DAG: #[[A_Q:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[A_K:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>

// compute-type=f64 (the oracle of attn-run --check): no float arithmetic in
// f32 at all; features, stabilisers and sums are f64.
// NOF32-NOT: {{(arith|math)\.[a-z]+ .*: f32$}}
// F64-LABEL: func.func @favor_gqa
// F64: ins(%{{.*}}, %{{.*}} : tensor<4x16x8xf32>, tensor<1x4x?x8xf32>) outs(%{{.*}} : tensor<1x4x?x16xf64>)
// F64: arith.extf %{{.*}} : f32 to f64
// F64: arith.constant 0.59460355750136051 : f64
// F64: arith.maximumf %{{.*}}, %{{.*}} : f64
// F64: math.exp %{{.*}} : f64
// F64: arith.constant 2.500000e-01 : f64
// F64: arith.divf %{{.*}}, %{{.*}} : f64
// F64: arith.truncf %{{.*}} : f64 to f32
// F64-LABEL: func.func @

// FAVOR+ with GQA (4 query heads over 2 KV heads): keys and values are
// repeated to the query heads; phi(x) = exp(W x' - ||x'||^2/2 - c) / sqrt(m),
// x' = x * 8^(-1/4) (0.594603539), 1/sqrt(16) = 0.25; the query stabiliser c
// is a per-row max, the key stabiliser a per-(b, h) max over finite values.
// The non-causal reduction is KV = phi(k)^T v, z = sum_j phi(k_j).
// CHECK-LABEL: func.func @favor_gqa
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x?x8xf32>, %[[K:.*]]: tensor<1x2x?x8xf32>, %[[V:.*]]: tensor<1x2x?x4xf32>, %[[WT:.*]]: tensor<4x16x8xf32>, %[[O:.*]]: tensor<1x4x?x4xf32>)
// CHECK: cf.assert %{{.*}}, "attn.kernelized: Nk of key and value differ"
// CHECK: linalg.broadcast ins(%[[K]] : tensor<1x2x?x8xf32>) outs(%{{.*}} : tensor<1x2x2x?x8xf32>) dimensions = [2]
// CHECK: %[[KH:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x2x?x8xf32> into tensor<1x4x?x8xf32>
// CHECK: linalg.broadcast ins(%[[V]]
// Query features.
// CHECK: %[[QP:.*]] = linalg.generic {indexing_maps = [#[[W]], {{.*}}]{{.*}} ins(%[[WT]], %[[Q]] : tensor<4x16x8xf32>, tensor<1x4x?x8xf32>)
// CHECK: arith.constant 0.594603539 : f32
// CHECK: %[[QN:.*]] = linalg.generic {{.*}} ins(%[[Q]] : tensor<1x4x?x8xf32>) outs(%{{.*}} : tensor<1x4x?xf32>)
// CHECK: %[[QA:.*]] = linalg.generic {{.*}} ins(%[[QP]], %[[QN]] :
// CHECK: arith.constant 5.000000e-01 : f32
// CHECK: arith.subf
// CHECK: %[[QMAX:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[QA]] : {{.*}}) outs(%{{.*}} : tensor<1x4x?xf32>)
// CHECK: arith.maximumf
// CHECK: %[[PHIQ:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW]], #[[ID4]]], {{.*}} ins(%[[QA]], %[[QMAX]] :
// CHECK: math.absf
// CHECK: arith.cmpf olt
// CHECK: arith.select
// CHECK: math.exp
// CHECK: arith.constant 2.500000e-01 : f32
// Key features, from the repeated keys.
// CHECK: linalg.generic {{.*}} ins(%[[WT]], %[[KH]] :
// CHECK: %[[KMAX:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[BH]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
// CHECK: math.absf
// CHECK: arith.cmpf olt
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: arith.select
// CHECK: arith.maximumf
// CHECK: %[[PHIK:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[BH]], #[[ID4]]], {{.*}} ins(%{{.*}}, %[[KMAX]] :
// CHECK: math.exp
// Linear reduction and the guarded division.
// CHECK: %[[KV:.*]] = linalg.generic {{.*}} ins(%[[PHIK]], %{{.*}} : tensor<1x4x?x16xf32>, tensor<1x4x?x4xf32>) outs(%{{.*}} : tensor<1x4x16x4xf32>)
// CHECK: %[[Z:.*]] = linalg.generic {{.*}} ins(%[[PHIK]] : tensor<1x4x?x16xf32>) outs(%{{.*}} : tensor<1x4x16xf32>)
// CHECK: %[[NUM:.*]] = linalg.generic {{.*}} ins(%[[PHIQ]], %[[KV]] :
// CHECK: %[[DEN:.*]] = linalg.generic {{.*}} ins(%[[PHIQ]], %[[Z]] :
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[NUM]], %[[DEN]] : tensor<1x4x?x4xf32>, tensor<1x4x?xf32>) outs(%[[O]] : tensor<1x4x?x4xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ISZERO:.*]] = arith.cmpf oeq, %{{.*}}, %[[ZERO]] : f32
// CHECK: %[[QUOT:.*]] = arith.divf
// CHECK: arith.select %[[ISZERO]], %[[ZERO]], %[[QUOT]] : f32
// CHECK-NOT: attn.kernelized
// CHECK: return %[[R]]
// LLVM-LABEL: llvm.func @favor_gqa
func.func @favor_gqa(%q: tensor<1x4x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x4xf32>,
                     %w: tensor<4x16x8xf32>, %o: tensor<1x4x?x4xf32>) -> tensor<1x4x?x4xf32> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x4xf32>)
         projection(%w : tensor<4x16x8xf32>) outs(%o : tensor<1x4x?x4xf32>) -> tensor<1x4x?x4xf32>
  return %r : tensor<1x4x?x4xf32>
}

// One projection shared by all heads: its map reads head 0.
// CHECK-LABEL: func.func @favor_shared_causal
// CHECK: cf.assert %{{.*}}, "attn.kernelized: causal needs Nq == Nk"
// CHECK: linalg.generic {indexing_maps = [#[[W0]], {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x16x4xf32>, tensor<2x2x?x4xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[W0]], {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x16x4xf32>, tensor<2x2x?x4xf32>)
// LLVM-LABEL: llvm.func @favor_shared_causal
func.func @favor_shared_causal(%q: tensor<2x2x?x4xf32>, %k: tensor<2x2x?x4xf32>, %v: tensor<2x2x?x4xf32>,
                               %w: tensor<1x16x4xf32>, %o: tensor<2x2x?x4xf32>) -> tensor<2x2x?x4xf32> {
  %r = attn.kernelized favor_plus ins(%q, %k, %v : tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>, tensor<2x2x?x4xf32>)
         projection(%w : tensor<1x16x4xf32>) outs(%o : tensor<2x2x?x4xf32>) {causal} -> tensor<2x2x?x4xf32>
  return %r : tensor<2x2x?x4xf32>
}

// relu, causal, f16: phi = max(x, 0) in f32; the O(N^2) scores
// A_ij = <phi(q_i), phi(k_j)> are summed only where j <= i (a select on the
// linalg indices, so a masked A_ij v_j never enters); the result is
// truncated into the f16 outs.
// CHECK-LABEL: func.func @relu_causal_f16
// CHECK-SAME: %[[O:[^:]*]]: tensor<2x2x16x4xf16>)
// CHECK-NOT: cf.assert
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x2x16x8xf16>) outs(%{{.*}} : tensor<2x2x16x8xf32>)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f32
// CHECK: %[[A:.*]] = linalg.generic {indexing_maps = [#[[A_Q]], #[[A_K]], {{.*}}]{{.*}} outs(%{{.*}} : tensor<2x2x16x16xf32>)
// CHECK: %[[NUM:.*]] = linalg.generic {{.*}} ins(%[[A]], %{{.*}} : tensor<2x2x16x16xf32>, tensor<2x2x16x4xf16>) outs(%{{.*}} : tensor<2x2x16x4xf32>)
// CHECK: arith.mulf
// CHECK: %[[SUM:.*]] = arith.addf
// CHECK: %[[I:.*]] = linalg.index 2 : index
// CHECK: %[[J:.*]] = linalg.index 4 : index
// CHECK: %[[LIVE:.*]] = arith.cmpi ule, %[[J]], %[[I]] : index
// CHECK: arith.select %[[LIVE]], %[[SUM]], %{{.*}} : f32
// CHECK: %[[DEN:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<2x2x16x16xf32>) outs(%{{.*}} : tensor<2x2x16xf32>)
// CHECK: %[[I2:.*]] = linalg.index 2 : index
// CHECK: %[[J2:.*]] = linalg.index 3 : index
// CHECK: arith.cmpi ule, %[[J2]], %[[I2]] : index
// CHECK: linalg.generic {{.*}} ins(%[[NUM]], %[[DEN]] : {{.*}}) outs(%[[O]] : tensor<2x2x16x4xf16>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
// LLVM-LABEL: llvm.func @relu_causal_f16
func.func @relu_causal_f16(%q: tensor<2x2x16x8xf16>, %k: tensor<2x2x16x8xf16>, %v: tensor<2x2x16x4xf16>,
                           %o: tensor<2x2x16x4xf16>) -> tensor<2x2x16x4xf16> {
  %r = attn.kernelized relu ins(%q, %k, %v : tensor<2x2x16x8xf16>, tensor<2x2x16x8xf16>, tensor<2x2x16x4xf16>)
         outs(%o : tensor<2x2x16x4xf16>) {causal} -> tensor<2x2x16x4xf16>
  return %r : tensor<2x2x16x4xf16>
}

// elu_plus_one, non-causal, bf16, dynamic B and N:
// phi = x > 0 ? x + 1 : exp(min(x, 0)).
// CHECK-LABEL: func.func @elu_bf16
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[POS:.*]] = arith.cmpf ogt, %[[X:.*]], %[[Z0:.*]] : f32
// CHECK: %[[P1:.*]] = arith.addf %[[X]], %{{.*}} : f32
// CHECK: %[[MIN:.*]] = arith.minimumf %[[X]], %[[Z0]] : f32
// CHECK: %[[EX:.*]] = math.exp %[[MIN]] : f32
// CHECK: arith.select %[[POS]], %[[P1]], %[[EX]] : f32
// CHECK-NOT: linalg.index
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// LLVM-LABEL: llvm.func @elu_bf16
func.func @elu_bf16(%q: tensor<?x2x?x8xbf16>, %k: tensor<?x1x?x8xbf16>, %v: tensor<?x1x?x8xbf16>,
                    %o: tensor<?x2x?x8xbf16>) -> tensor<?x2x?x8xbf16> {
  %r = attn.kernelized elu_plus_one ins(%q, %k, %v : tensor<?x2x?x8xbf16>, tensor<?x1x?x8xbf16>, tensor<?x1x?x8xbf16>)
         outs(%o : tensor<?x2x?x8xbf16>) -> tensor<?x2x?x8xbf16>
  return %r : tensor<?x2x?x8xbf16>
}

// A projection whose head dim is dynamic (H or 1 at run time) is asserted and
// copied to H heads.
// CHECK-LABEL: func.func @favor_dynamic_projection_heads
// CHECK: cf.assert %{{.*}}, "attn.kernelized: projection dim 0 must be H or 1"
// CHECK: tensor.extract %{{.*}} : tensor<?x4x8xf32>
// LLVM-LABEL: llvm.func @favor_dynamic_projection_heads
func.func @favor_dynamic_projection_heads(%q: tensor<1x2x6x8xf32>, %w: tensor<?x4x8xf32>,
                                          %o: tensor<1x2x6x8xf32>) -> tensor<1x2x6x8xf32> {
  %r = attn.kernelized favor_plus ins(%q, %q, %q : tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>)
         projection(%w : tensor<?x4x8xf32>) outs(%o : tensor<1x2x6x8xf32>) -> tensor<1x2x6x8xf32>
  return %r : tensor<1x2x6x8xf32>
}
