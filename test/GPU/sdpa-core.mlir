// RUN: attn-opt %s --attn-gpu-sdpa-core="kv-tile=128 q-tile=64" | FileCheck %s
// RUN: attn-opt %s --attn-gpu-sdpa-core | FileCheck %s --check-prefix=DEFAULT

// The host side: three rank-3 tensor maps over [B*H, N, D] (boxes of q-tile
// query rows and kv-tile key rows), a launch of (ceil(Nq / q-tile), H, B) CTAs
// of 128 threads per 64 rows when the grid is not empty; the kernel in
// @attn_gpu with the pattern helpers next to it. The sliding window of @window
// reaches the kernel through the same helpers; its dynamic head counts are
// checked at run time. @gqa: grouped-query attention, 4 query heads on 2
// key/value heads.

// CHECK-LABEL: func.func @causal
// CHECK: memref.collapse_shape %{{.*}} {{\[}}[0, 1], [2], [3]] : memref<2x3x?x128xbf16> into memref<6x?x128xbf16>
// CHECK: %[[TILES:.*]] = arith.ceildivui %{{.*}}, %c64
// CHECK: call @sdpa_core_0_launch({{.*}}, %[[TILES]],
// CHECK: bufferization.to_tensor
// The tensor maps and the guarded launch sit in a host function of their own
// (which attn-gpu-pipeline's buffer deallocation skips), after the caller.
// CHECK: func.func private @sdpa_core_0_launch({{.*}}) attributes {no_inline}
// CHECK: nvgpu.tma.create.descriptor %{{.*}} box[%{{.*}}, %{{.*}}, %{{.*}}] : memref<*xbf16> -> <tensor = memref<1x64x64xbf16, 3>, swizzle = swizzle_128b, l2promo = none, oob = zero, interleave = none>
// CHECK: builtin.unrealized_conversion_cast %{{.*}} to !llvm.ptr
// CHECK: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x128x64xbf16, 3>
// CHECK: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x128x64xbf16, 3>
// CHECK: scf.if
// CHECK: gpu.launch_func @attn_gpu::@sdpa_core_0 blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%c128{{.*}}, %c1{{.*}}, %c1{{.*}}) dynamic_shared_memory_size %c148544_i32 args({{.*}} : !llvm.ptr, {{.*}} : !llvm.ptr, {{.*}} : !llvm.ptr, {{.*}} : memref<?x?x?xbf16>, {{.*}} : memref<?x?xf32>, {{.*}} : index, {{.*}} : index, {{.*}} : index)
// CHECK: func.func @window
// CHECK: cf.assert {{.*}} "attn.sdpa on the Hopper core: the key/value head count must divide the query head count"
// CHECK: gpu.launch_func @attn_gpu::@sdpa_core_1
// CHECK: func.func @gqa
// CHECK: %[[HKV:.*]] = tensor.dim %arg1, %c1
// CHECK-NOT: cf.assert
// CHECK: call @sdpa_core_2_launch({{.*}}%[[HKV]]
// CHECK: gpu.launch_func @attn_gpu::@sdpa_core_2
// CHECK: gpu.module @attn_gpu
// CHECK: gpu.func @sdpa_core_0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: memref<?x?x?xbf16>, %{{.*}}: memref<?x?xf32>, %{{.*}}: index, %{{.*}}: index, %[[HKV0:.*]]: index) kernel
// Query head h reads key/value head h / (H / Hkv).
// CHECK: %[[GY:.*]] = gpu.grid_dim y
// CHECK: arith.divui %[[GY]], %[[HKV0]]
// CHECK: nvvm.mbarrier.init
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global
// CHECK: scf.for
// CHECK: func.call @sdpa_core_0_tile
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 128, k = 16>, D[<f32>, <zero>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK: func.call @sdpa_core_0_live
// CHECK: gpu.shuffle xor
// CHECK: math.exp2 {{.*}} fastmath<afn>
// CHECK: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK: memref.store
// CHECK: func.func private @sdpa_core_0_tiles(
// CHECK: func.func private @sdpa_core_0_tile(
// CHECK: func.func private @sdpa_core_0_live(
// CHECK: arith.cmpi sle
// CHECK: gpu.func @sdpa_core_1(
// CHECK: nvvm.wgmma.mma_async {{.*}} A[<f16>, <one>, <row>], B[<f16>, <one>, <col>]
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16
// The defaults: query tiles of 128 rows (two warpgroups, 256 threads),
// key/value tiles of 64.
// DEFAULT: arith.ceildivui %{{.*}}, %c128
// DEFAULT: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x128x64xbf16, 3>
// DEFAULT: nvgpu.tma.create.descriptor {{.*}} -> <tensor = memref<1x64x64xbf16, 3>
// DEFAULT: gpu.launch_func @attn_gpu::@sdpa_core_0 {{.*}} threads in (%c256{{.*}}, %c1{{.*}}, %c1{{.*}}) dynamic_shared_memory_size %c99392_i32
// Two CTAs per multiprocessor fit (2 x 99392 bytes of shared memory):
// ptxas caps the registers at 128.
// DEFAULT: gpu.func @sdpa_core_0({{.*}} kernel attributes {known_block_size = array<i32: 256, 1, 1>, nvvm.minctasm = 2 : i32}
// DEFAULT: nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 64, k = 16>

func.func @causal(%q: tensor<2x3x?x128xbf16>, %k: tensor<2x3x?x128xbf16>, %v: tensor<2x3x?x128xbf16>, %o: tensor<2x3x?x128xbf16>) -> (tensor<2x3x?x128xbf16>, tensor<2x3x?xf32>) {
  %r:2 = attn.sdpa ins(%q, %k, %v : tensor<2x3x?x128xbf16>, tensor<2x3x?x128xbf16>, tensor<2x3x?x128xbf16>) outs(%o : tensor<2x3x?x128xbf16>) pattern(#attn.causal) -> tensor<2x3x?x128xbf16>, tensor<2x3x?xf32>
  return %r#0, %r#1 : tensor<2x3x?x128xbf16>, tensor<2x3x?xf32>
}

func.func @window(%q: tensor<?x?x?x64xf16>, %k: tensor<?x?x?x64xf16>, %v: tensor<?x?x?x64xf16>, %o: tensor<?x?x?x64xf16>) -> tensor<?x?x?x64xf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>) outs(%o : tensor<?x?x?x64xf16>) pattern(#attn.window<left = 256, right = 0>) {scale = 0.5 : f32} -> tensor<?x?x?x64xf16>
  return %r : tensor<?x?x?x64xf16>
}

func.func @gqa(%q: tensor<1x4x?x128xf16>, %k: tensor<1x2x?x128xf16>, %o: tensor<1x4x?x128xf16>) -> tensor<1x4x?x128xf16> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x4x?x128xf16>, tensor<1x2x?x128xf16>, tensor<1x2x?x128xf16>) outs(%o : tensor<1x4x?x128xf16>) -> tensor<1x4x?x128xf16>
  return %r : tensor<1x4x?x128xf16>
}
