// RUN: attn-opt %s --attn-gpu-sdpa-core -split-input-file | FileCheck %s

// Positions, mask, bias and score_mod on the Hopper core. Host side: the
// positions' shapes and the broadcasts of mask and bias are checked at run
// time; the mask (rank 2) is right-aligned to rank 4; every operand is passed
// to the kernel as a fully dynamic memref. Kernel: every key tile is visited
// and classified from the position ranges (@..._classify); the score_mod
// region becomes @..._mod, applied to the natural score in every tile.

// CHECK-LABEL: func.func @all
// CHECK: cf.assert {{.*}} "attn.sdpa on the Hopper core: positions must be [B, 1 | H | Hkv, N]"
// CHECK: cf.assert {{.*}} "attn.sdpa on the Hopper core: positions must be [B, 1 | H | Hkv, N]"
// CHECK: cf.assert {{.*}} "attn.sdpa on the Hopper core: mask does not broadcast to [B, H, Nq, Nk]"
// CHECK: tensor.expand_shape %arg6 {{\[}}[0, 1, 2], [3]] output_shape [1, 1, %{{.*}}, %{{.*}}] : tensor<?x?xi1> into tensor<1x1x?x?xi1>
// CHECK: cf.assert {{.*}} "attn.sdpa on the Hopper core: bias does not broadcast to [B, H, Nq, Nk]"
// CHECK: gpu.launch_func @attn_gpu::@sdpa_core_0 {{.*}} args({{.*}} : memref<?x?x?xbf16>, {{.*}} : memref<?x?xf32>, {{.*}} : memref<?x?x?xi32>, {{.*}} : memref<?x?x?xi32>, {{.*}} : memref<?x?x?x?xi1>, {{.*}} : memref<?x?x?x?xf32>, {{.*}} : index, {{.*}} : index, {{.*}} : index)
// CHECK: gpu.func @sdpa_core_0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: memref<?x?x?xbf16>, %{{.*}}: memref<?x?xf32>, %[[QPOS:.*]]: memref<?x?x?xi32>, %[[KPOS:.*]]: memref<?x?x?xi32>, %[[MASK:.*]]: memref<?x?x?x?xi1>, %[[BIAS:.*]]: memref<?x?x?x?xf32>, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index) kernel
// CHECK: memref.load %[[QPOS]]
// CHECK: scf.for
// CHECK: memref.load %[[KPOS]]
// CHECK: func.call @sdpa_core_0_classify(
// CHECK: nvvm.wgmma.mma_async
// CHECK: memref.load %[[BIAS]]
// CHECK: func.call @sdpa_core_0_mod(
// CHECK: func.call @sdpa_core_0_live(
// CHECK: memref.load %[[MASK]]
// CHECK: func.func private @sdpa_core_0_tiles
// CHECK: arith.ceildivui
// CHECK: func.func private @sdpa_core_0_tile
// CHECK: func.func private @sdpa_core_0_classify
// CHECK: func.func private @sdpa_core_0_live
// CHECK: func.func private @sdpa_core_0_mod(%[[S:.*]]: f32, %{{.*}}: index, %{{.*}}: index, %[[I:.*]]: index, %[[J:.*]]: index) -> f32
// CHECK: arith.subi %[[I]], %[[J]]
// CHECK: arith.subf %[[S]]
func.func @all(%q: tensor<?x?x?x128xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>, %o: tensor<?x?x?x128xbf16>, %qp: tensor<?x?x?xi32>, %kp: tensor<?x?x?xi32>, %m: tensor<?x?xi1>, %bb: tensor<?x1x?x?xf32>) -> (tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>) {
  %r:2 = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>) outs(%o : tensor<?x?x?x128xbf16>) mask(%m : tensor<?x?xi1>) bias(%bb : tensor<?x1x?x?xf32>) positions(%qp, %kp : tensor<?x?x?xi32>, tensor<?x?x?xi32>) pattern(#attn.causal)
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      %d = arith.subi %i, %j : index
      %di = arith.index_cast %d : index to i64
      %df = arith.sitofp %di : i64 to f32
      %slope = arith.constant 0.0625 : f32
      %pen = arith.mulf %slope, %df : f32
      %t = arith.subf %s, %pen : f32
      attn.yield %t : f32
    } -> tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
  return %r#0, %r#1 : tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
}

// -----

// @span_memory: the span [H] and the persistent memory (two tensor maps over
// [Hkv, M, D] and M) reach the kernel; memory tiles are visited first
// (ceil(M / kv-tile) of them, their maps chosen per tile); Partial tiles weigh
// by the span.

// CHECK-LABEL: func.func @span_memory
// CHECK: cf.assert {{.*}} "attn.sdpa on the Hopper core: span is not [H]"
// CHECK: cf.assert {{.*}} "attn.sdpa on the Hopper core: memory must be [Hkv, M, D] keys and values"
// CHECK: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x64x64xf16, 3>
// CHECK: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x64x64xf16, 3>
// CHECK: gpu.launch_func @attn_gpu::@sdpa_core_0 {{.*}} args({{.*}} : memref<?x?x?xf16>, {{.*}} : memref<?xf32>, {{.*}} : !llvm.ptr, {{.*}} : !llvm.ptr, {{.*}} : index, {{.*}} : index, {{.*}} : index, {{.*}} : index)
// CHECK: gpu.func @sdpa_core_0(%{{.*}}: !llvm.ptr, %[[K:[^:]*]]: !llvm.ptr, %[[V:[^:]*]]: !llvm.ptr, %{{.*}}: memref<?x?x?xf16>, %[[Z:.*]]: memref<?xf32>, %[[MK:[^:]*]]: !llvm.ptr, %[[MV:[^:]*]]: !llvm.ptr, %[[M:[^:]*]]: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index) kernel
// CHECK: memref.load %[[Z]]
// CHECK: arith.ceildivui %[[M]], %c64
// CHECK: llvm.select %{{.*}}, %[[MK]], %[[K]] : i1, !llvm.ptr
// CHECK: llvm.select %{{.*}}, %[[MV]], %[[V]] : i1, !llvm.ptr
// CHECK: scf.for
// CHECK: math.absf
func.func @span_memory(%q: tensor<?x?x?x64xf16>, %k: tensor<?x?x?x64xf16>, %v: tensor<?x?x?x64xf16>, %o: tensor<?x?x?x64xf16>, %z: tensor<?xf32>, %mk: tensor<?x?x64xf16>, %mv: tensor<?x?x64xf16>) -> tensor<?x?x?x64xf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>) outs(%o : tensor<?x?x?x64xf16>) memory(%mk, %mv : tensor<?x?x64xf16>, tensor<?x?x64xf16>) span(%z : tensor<?xf32>) pattern(#attn.causal) {ramp = 16.0 : f32, max_span = 100.0 : f32} -> tensor<?x?x?x64xf16>
  return %r : tensor<?x?x?x64xf16>
}

// -----

// A score_mod that uses a constant defined outside its region: the constant
// is cloned into @..._mod.

// CHECK-LABEL: func.func @outer_constant
// CHECK: func.func private @sdpa_core_0_mod(%[[S:.*]]: f32, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index) -> f32
// CHECK: %[[C:.*]] = arith.constant 3.000000e+01 : f32
// CHECK: arith.minimumf %[[S]], %[[C]]
func.func @outer_constant(%q: tensor<1x2x8x64xbf16>, %o: tensor<1x2x8x64xbf16>) -> tensor<1x2x8x64xbf16> {
  %cap = arith.constant 30.0 : f32
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>, tensor<1x2x8x64xbf16>) outs(%o : tensor<1x2x8x64xbf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %t = arith.minimumf %s, %cap : f32
    attn.yield %t : f32
  } -> tensor<1x2x8x64xbf16>
  return %r : tensor<1x2x8x64xbf16>
}

// -----

// A rank-0 bias and a rank-1 mask are right-aligned to rank 4.

// CHECK-LABEL: func.func @scalar_bias
// CHECK: tensor.expand_shape %arg2 {{\[}}[0, 1, 2, 3]] output_shape [1, 1, 1, 8] : tensor<8xi1> into tensor<1x1x1x8xi1>
// CHECK: tensor.expand_shape %arg1 [] output_shape [1, 1, 1, 1] : tensor<f32> into tensor<1x1x1x1xf32>
// CHECK: gpu.launch_func @attn_gpu::@sdpa_core_0 {{.*}} : memref<?x?x?x?xi1>, {{.*}} : memref<?x?x?x?xf32>
func.func @scalar_bias(%q: tensor<1x2x8x64xf16>, %b: tensor<f32>, %m: tensor<8xi1>, %o: tensor<1x2x8x64xf16>) -> tensor<1x2x8x64xf16> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x64xf16>, tensor<1x2x8x64xf16>, tensor<1x2x8x64xf16>) outs(%o : tensor<1x2x8x64xf16>) mask(%m : tensor<8xi1>) bias(%b : tensor<f32>) -> tensor<1x2x8x64xf16>
  return %r : tensor<1x2x8x64xf16>
}
