// RUN: attn-opt %s --attn-decompose --verify-each | FileCheck %s
// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: attn-opt %s --attn-decompose=compute-type=f64 --verify-each | FileCheck %s --check-prefix=F64 --implicit-check-not="attn.sdpa ins"
// RUN: attn-opt %s --attn-decompose=compute-type=f64 | FileCheck %s --check-prefix=NOF32

// Linformer: ek = e k and fv = f v in f32 (one shared projection, read by every
// KV head through a constant 0 in its map), then a dense attn.sdpa with the
// default scale 1/sqrt(16). GQA (4 query heads over 2 KV heads) is the sdpa's.
// CHECK-DAG: #[[SHARED:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (0, d2, d4)>
// CHECK-DAG: #[[KV:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[PERHEAD:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d4)>
// compute-type=f64: no float arithmetic in f32 at all; the projections and
// the attention (no attn.sdpa: it has no f64 form) are f64.
// NOF32-NOT: {{(arith|math)\.[a-z]+ .*: f32$}}
// F64-LABEL: func.func @shared_gqa
// F64: ins(%{{.*}}, %{{.*}} : tensor<1x8x32xf32>, tensor<2x2x32x16xf32>) outs(%{{.*}} : tensor<2x2x8x16xf64>)
// F64: arith.extf %{{.*}} : f32 to f64
// F64: ins(%{{.*}}, %{{.*}} : tensor<1x8x32xf32>, tensor<2x2x32x8xf32>) outs(%{{.*}} : tensor<2x2x8x8xf64>)
// F64: ins(%{{.*}}, %{{.*}} : tensor<2x4x?x16xf32>, tensor<2x4x8x16xf64>) outs(%{{.*}} : tensor<2x4x?x8xf64>)
// F64: math.exp %{{.*}} : f64
// F64: arith.divf %{{.*}}, %{{.*}} : f64
// F64: arith.truncf %{{.*}} : f64 to f32
// F64-LABEL: func.func @per_head_f16

// CHECK-LABEL: func.func @shared_gqa
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x?x16xf32>, %[[K:.*]]: tensor<2x2x32x16xf32>, %[[V:.*]]: tensor<2x2x32x8xf32>, %[[E:.*]]: tensor<1x8x32xf32>, %[[O:.*]]: tensor<2x4x?x8xf32>)
// CHECK-NOT: cf.assert
// CHECK: %[[EK:.*]] = linalg.generic {indexing_maps = [#[[SHARED]], #[[KV]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[E]], %[[K]] : tensor<1x8x32xf32>, tensor<2x2x32x16xf32>) outs(%{{.*}} : tensor<2x2x8x16xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[FV:.*]] = linalg.generic {indexing_maps = [#[[SHARED]], #[[KV]], #[[OUT]]], {{.*}}} ins(%[[E]], %[[V]] : tensor<1x8x32xf32>, tensor<2x2x32x8xf32>) outs(%{{.*}} : tensor<2x2x8x8xf32>)
// CHECK: %[[R:.*]] = attn.sdpa ins(%[[Q]], %[[EK]], %[[FV]] : tensor<2x4x?x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x8xf32>) outs(%[[O]] : tensor<2x4x?x8xf32>) {scale = 2.500000e-01 : f32} -> tensor<2x4x?x8xf32>
// CHECK-NOT: attn.lowrank
// CHECK: return %[[R]]
// LLVM-LABEL: llvm.func @shared_gqa
func.func @shared_gqa(%q: tensor<2x4x?x16xf32>, %k: tensor<2x2x32x16xf32>, %v: tensor<2x2x32x8xf32>,
                      %e: tensor<1x8x32xf32>, %o: tensor<2x4x?x8xf32>) -> tensor<2x4x?x8xf32> {
  %r = attn.lowrank ins(%q, %k, %v : tensor<2x4x?x16xf32>, tensor<2x2x32x16xf32>, tensor<2x2x32x8xf32>)
         projections(%e : tensor<1x8x32xf32>) outs(%o : tensor<2x4x?x8xf32>) -> tensor<2x4x?x8xf32>
  return %r : tensor<2x4x?x8xf32>
}

// Per-KV-head projections e and f; the explicit scale is kept; f16 inputs are
// widened in the projections, the sdpa result is f32 and is truncated into
// the f16 outs.
// CHECK-LABEL: func.func @per_head_f16
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x?x16xf16>, %[[K:.*]]: tensor<1x2x?x16xf16>, %[[V:.*]]: tensor<1x2x?x16xf16>, %[[E:.*]]: tensor<2x8x?xf16>, %[[F:.*]]: tensor<2x8x?xf16>, %[[O:.*]]: tensor<1x2x?x16xf16>)
// CHECK: cf.assert %{{.*}}, "attn.lowrank: key and value Nk differ"
// CHECK: cf.assert %{{.*}}, "attn.lowrank: key projection Nk differs from the keys'"
// CHECK: cf.assert %{{.*}}, "attn.lowrank: value projection Nk differs from the values'"
// CHECK: %[[EK:.*]] = linalg.generic {indexing_maps = [#[[PERHEAD]], #[[KV]], #[[OUT]]], {{.*}}} ins(%[[E]], %[[K]] : {{.*}}) outs(%{{.*}} : tensor<1x2x8x16xf32>)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: %[[FV:.*]] = linalg.generic {indexing_maps = [#[[PERHEAD]], #[[KV]], #[[OUT]]], {{.*}}} ins(%[[F]], %[[V]] : {{.*}}) outs(%{{.*}} : tensor<1x2x8x16xf32>)
// CHECK: %[[INIT:.*]] = tensor.empty(%{{.*}}) : tensor<1x2x?x16xf32>
// CHECK: %[[R:.*]] = attn.sdpa ins(%[[Q]], %[[EK]], %[[FV]] : tensor<1x2x?x16xf16>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) outs(%[[INIT]] : tensor<1x2x?x16xf32>) {scale = 5.000000e-01 : f32}
// CHECK: %[[T:.*]] = linalg.generic {{.*}} ins(%[[R]] : tensor<1x2x?x16xf32>) outs(%[[O]] : tensor<1x2x?x16xf16>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: return %[[T]]
// LLVM-LABEL: llvm.func @per_head_f16
func.func @per_head_f16(%q: tensor<1x2x?x16xf16>, %k: tensor<1x2x?x16xf16>, %v: tensor<1x2x?x16xf16>,
                        %e: tensor<2x8x?xf16>, %f: tensor<2x8x?xf16>, %o: tensor<1x2x?x16xf16>) -> tensor<1x2x?x16xf16> {
  %r = attn.lowrank ins(%q, %k, %v : tensor<1x2x?x16xf16>, tensor<1x2x?x16xf16>, tensor<1x2x?x16xf16>)
         projections(%e : tensor<2x8x?xf16>, %f : tensor<2x8x?xf16>) outs(%o : tensor<1x2x?x16xf16>) {scale = 0.5 : f32} -> tensor<1x2x?x16xf16>
  return %r : tensor<1x2x?x16xf16>
}

// A projection whose head dim is dynamic is Hkv or 1 only at run time: it is
// asserted to be one of the two and copied to Hkv heads as e[dim0 == 1 ? 0 : g].
// CHECK-LABEL: func.func @dynamic_projection_heads_bf16
// CHECK: %[[ISONE:.*]] = arith.cmpi eq, %{{.*}}, %c1{{.*}} : index
// CHECK: arith.cmpi eq
// CHECK: %[[EITHER:.*]] = arith.ori %[[ISONE]], %{{.*}} : i1
// CHECK: cf.assert %[[EITHER]], "attn.lowrank: key projection dim 0 must be Hkv or 1"
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<3x4x?xbf16>)
// CHECK: %[[G:.*]] = linalg.index 0 : index
// CHECK: %[[SEL:.*]] = arith.select %[[ISONE]], %{{.*}}, %[[G]] : index
// CHECK: tensor.extract %{{.*}}[%[[SEL]], %{{.*}}, %{{.*}}] : tensor<?x4x?xbf16>
// CHECK: attn.sdpa ins({{.*}} : tensor<?x6x?x8xbf16>, tensor<?x3x4x8xf32>, tensor<?x3x4x8xf32>) outs(%{{.*}} : tensor<?x6x?x8xf32>) {scale = 0.353553385 : f32}
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// LLVM-LABEL: llvm.func @dynamic_projection_heads_bf16
func.func @dynamic_projection_heads_bf16(%q: tensor<?x6x?x8xbf16>, %k: tensor<?x3x?x8xbf16>, %v: tensor<?x3x?x8xbf16>,
                                         %e: tensor<?x4x?xbf16>, %o: tensor<?x6x?x8xbf16>) -> tensor<?x6x?x8xbf16> {
  %r = attn.lowrank ins(%q, %k, %v : tensor<?x6x?x8xbf16>, tensor<?x3x?x8xbf16>, tensor<?x3x?x8xbf16>)
         projections(%e : tensor<?x4x?xbf16>) outs(%o : tensor<?x6x?x8xbf16>) -> tensor<?x6x?x8xbf16>
  return %r : tensor<?x6x?x8xbf16>
}
