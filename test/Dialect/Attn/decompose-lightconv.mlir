// RUN: attn-opt %s --attn-decompose --verify-each | FileCheck %s
// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --attn-decompose=compute-type=f64 --verify-each | FileCheck %s --check-prefix=F64
// RUN: attn-opt %s --attn-decompose=compute-type=f64 | FileCheck %s --check-prefix=NOF32

// The indexing maps used below.
// CHECK-DAG: #[[W2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[WMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d4)>
// CHECK-DAG: #[[OMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>

// compute-type=f64: no float arithmetic in f32 at all; the weight softmax and
// the convolution are f64, converted to the outs' type at the end.
// NOF32-NOT: {{(arith|math)\.[a-z]+ .*: f32$}}
// F64-LABEL: func.func @centred_normalized
// F64: ins(%{{.*}} : tensor<2x3xf32>) outs(%{{.*}} : tensor<2xf64>)
// F64: math.exp %{{.*}} : f64
// F64: arith.divf %{{.*}}, %{{.*}} : f64
// F64: ins(%{{.*}} : tensor<2x3xf64>) outs(%{{.*}} : tensor<2x?x2x4xf64>)
// F64: arith.extf %{{.*}} : f32 to f64
// F64: arith.mulf %{{.*}}, %{{.*}} : f64
// F64: arith.truncf %{{.*}} : f64 to f32
// F64-LABEL: func.func @causal_raw_bf16

// Non-causal, K = 3, normalize (default): softmax of the weights over K in
// f32, centred padding P = (K - 1) / 2 = 1; output channels viewed as
// [Hc = 2, C / Hc = 4]; out[b,n,g,j] = sum_t w'[g,t] x[b, n+t-P, 4g+j], the x
// term selected away (never added) when n+t-P is outside [0, N).
// CHECK-LABEL: func.func @centred_normalized
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x8xf32>, %[[W:.*]]: tensor<2x3xf32>, %[[O:.*]]: tensor<2x?x8xf32>)
// CHECK: %[[N:.*]] = tensor.dim %[[X]], %c1
// CHECK: cf.assert %{{.*}}, "attn.lightconv: outs and input differ in N"
// CHECK: %[[MX:.*]] = linalg.generic {indexing_maps = [#[[W2]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[W]] : tensor<2x3xf32>)
// CHECK: arith.maximumf
// CHECK: %[[EX:.*]] = linalg.generic {{.*}} ins(%[[W]], %[[MX]] :
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[EX]] : tensor<2x3xf32>)
// CHECK: %[[WN:.*]] = linalg.generic {{.*}} ins(%[[EX]], %[[SUM]] :
// CHECK: arith.divf
// CHECK: %[[ACC0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[O]] : tensor<2x?x8xf32>)
// CHECK: %[[ACC:.*]] = tensor.expand_shape %[[ACC0]] {{\[\[}}0], [1], [2, 3]] output_shape [2, %{{.*}}, 2, 4] : tensor<2x?x8xf32> into tensor<2x?x2x4xf32>
// CHECK: %[[CONV:.*]] = linalg.generic {indexing_maps = [#[[WMAP]], #[[OMAP]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[WN]] : tensor<2x3xf32>) outs(%[[ACC]] : tensor<2x?x2x4xf32>)
// CHECK: %[[NI:.*]] = linalg.index 1 : index
// CHECK: %[[T:.*]] = linalg.index 4 : index
// CHECK: %[[NT:.*]] = arith.addi %[[NI]], %[[T]] : index
// CHECK: %[[P:.*]] = arith.constant 1 : index
// CHECK: %[[POS:.*]] = arith.subi %[[NT]], %[[P]] : index
// CHECK: %[[GE:.*]] = arith.cmpi sge, %[[POS]], %{{.*}} : index
// CHECK: %[[LT:.*]] = arith.cmpi slt, %[[POS]], %[[N]] : index
// CHECK: %[[LIVE:.*]] = arith.andi %[[GE]], %[[LT]] : i1
// CHECK: %[[ROWI:.*]] = arith.select %[[LIVE]], %[[POS]], %{{.*}} : index
// CHECK: %[[G:.*]] = linalg.index 2 : index
// CHECK: %[[GC:.*]] = arith.muli %[[G]], %c4{{.*}} : index
// CHECK: %[[C:.*]] = arith.addi %[[GC]], %{{.*}} : index
// CHECK: %[[XV:.*]] = tensor.extract %[[X]][%{{.*}}, %[[ROWI]], %[[C]]] : tensor<2x?x8xf32>
// CHECK: %[[PROD:.*]] = arith.mulf %{{.*}}, %[[XV]] : f32
// CHECK: %[[ADD:.*]] = arith.addf %[[OUTV:.*]], %[[PROD]] : f32
// CHECK: arith.select %[[LIVE]], %[[ADD]], %[[OUTV]] : f32
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[CONV]] {{\[\[}}0], [1], [2, 3]] : tensor<2x?x2x4xf32> into tensor<2x?x8xf32>
// CHECK-NOT: attn.lightconv
// CHECK: return %[[R]]
// LLVM-LABEL: llvm.func @centred_normalized
func.func @centred_normalized(%x: tensor<2x?x8xf32>, %w: tensor<2x3xf32>, %o: tensor<2x?x8xf32>) -> tensor<2x?x8xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<2x?x8xf32>, tensor<2x3xf32>) outs(%o : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
  return %r : tensor<2x?x8xf32>
}

// Causal, even K = 4, normalize = false, bf16: P = K - 1 = 3 (only earlier
// positions); the raw weights are widened in the convolution; the f32
// accumulator is truncated into the bf16 outs (static outs N, dynamic input
// N: checked at run time).
// CHECK-LABEL: func.func @causal_raw_bf16
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x8xbf16>, %[[W:.*]]: tensor<2x4xbf16>, %[[O:.*]]: tensor<2x5x8xbf16>)
// CHECK: cf.assert %{{.*}}, "attn.lightconv: outs and input differ in N"
// CHECK-NOT: math.exp
// CHECK: %[[ACC:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 5, 2, 4] : tensor<2x5x8xf32> into tensor<2x5x2x4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[WMAP]], #[[OMAP]]], {{.*}} ins(%[[W]] : tensor<2x4xbf16>) outs(%[[ACC]] : tensor<2x5x2x4xf32>)
// CHECK: arith.constant 3 : index
// CHECK: arith.subi
// CHECK: tensor.extract %[[X]]
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[SUM:.*]] = tensor.collapse_shape
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<2x5x8xf32>) outs(%[[O]] : tensor<2x5x8xbf16>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: return %[[R]]
// LLVM-LABEL: llvm.func @causal_raw_bf16
func.func @causal_raw_bf16(%x: tensor<2x?x8xbf16>, %w: tensor<2x4xbf16>, %o: tensor<2x5x8xbf16>) -> tensor<2x5x8xbf16> {
  %r = attn.lightconv ins(%x, %w : tensor<2x?x8xbf16>, tensor<2x4xbf16>) outs(%o : tensor<2x5x8xbf16>) {causal, normalize = false} -> tensor<2x5x8xbf16>
  return %r : tensor<2x5x8xbf16>
}

// Static shapes, f16, K = 7 centred (P = 3), one weight head for all 6
// channels (channel = 0 * 6 + j).
// CHECK-LABEL: func.func @static_f16
// CHECK-NOT: cf.assert
// CHECK: tensor.expand_shape %{{.*}} : tensor<1x10x6xf32> into tensor<1x10x1x6xf32>
// CHECK: arith.constant 3 : index
// CHECK: arith.cmpi slt, %{{.*}}, %c10{{.*}} : index
// CHECK: arith.constant 6 : index
// CHECK: tensor.extract %{{.*}} : tensor<1x10x6xf16>
// CHECK: arith.truncf %{{.*}} : f32 to f16
// LLVM-LABEL: llvm.func @static_f16
func.func @static_f16(%x: tensor<1x10x6xf16>, %w: tensor<1x7xf16>, %o: tensor<1x10x6xf16>) -> tensor<1x10x6xf16> {
  %r = attn.lightconv ins(%x, %w : tensor<1x10x6xf16>, tensor<1x7xf16>) outs(%o : tensor<1x10x6xf16>) -> tensor<1x10x6xf16>
  return %r : tensor<1x10x6xf16>
}

// K = 1 causal: P = 0.
// CHECK-LABEL: func.func @width_one
// CHECK: arith.constant 0 : index
// CHECK: arith.subi %{{.*}}, %c0{{.*}} : index
// LLVM-LABEL: llvm.func @width_one
func.func @width_one(%x: tensor<?x?x4xf32>, %w: tensor<4x1xf32>, %o: tensor<?x?x4xf32>) -> tensor<?x?x4xf32> {
  %r = attn.lightconv ins(%x, %w : tensor<?x?x4xf32>, tensor<4x1xf32>) outs(%o : tensor<?x?x4xf32>) {causal} -> tensor<?x?x4xf32>
  return %r : tensor<?x?x4xf32>
}
