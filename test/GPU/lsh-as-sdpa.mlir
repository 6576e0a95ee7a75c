// attn-gpu-lsh-cluster-as-sdpa: attn.lsh and attn.cluster in bf16 / f16 with
// D = Dv = 64 or 128 become parallel choosing kernels (hash or select, and a
// counting sort), one attn.sdpa over the gathered chunks or clusters with
// positions, and a log-sum-exp combine into outs (docs/GPU.md, "LSH and
// clustered attention on the Hopper core"); everything else stays.
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa --canonicalize | FileCheck %s

// Static N = 1024, chunk 64: nC = 16, two chunks per head of 128 queries,
// H R nC / 2 = 2 * 2 * 8 = 32 heads; keys: (2 + W - 1) = 3 chunks (W = 2),
// positions encoded as 4 * position + tag. At D = 64 the sdpa asks the core
// for 64-row query tiles (attn.gpu_core; D = 128 below keeps the default).
// CHECK-LABEL: func.func @static_causal
// CHECK-SAME: %{{[a-z0-9]+}}: tensor<2x2x64x8xbf16>, %[[O:[a-z0-9]+]]: tensor<1x2x1024x64xbf16>)
// CHECK-NOT: attn.lsh
// CHECK-DAG: %[[SELF:.+]] = arith.constant -1.000000e+05 : f32
// CHECK-DAG: %[[DEAD:.+]] = arith.constant -1.000000e+30 : f32
// Several elements a thread (docs/GPU.md): the transpose in 4 parts of D,
// the hash of positions n + 256 i (i < 4), and the 32 sdpa heads in 4 parts
// of 8 (positions, gathered q, k and v: separate tensors, one sdpa each).
// CHECK: linalg.generic {{.*}} outs({{.*}} : tensor<2x16x1024xbf16>, tensor<2x16x1024xbf16>, tensor<2x16x1024xbf16>, tensor<2x16x1024xbf16>)
// CHECK: linalg.generic {{.*}} outs({{.*}} : tensor<2x2x256xi64>, tensor<2x2x256xi64>, tensor<2x2x256xi64>, tensor<2x2x256xi64>)
// CHECK: } -> (tensor<1x8x128xi64>, tensor<1x8x128xi64>, tensor<1x8x128xi64>, tensor<1x8x128xi64>)
// CHECK: } -> (tensor<1x8x192xi64>, tensor<1x8x192xi64>, tensor<1x8x192xi64>, tensor<1x8x192xi64>)
// CHECK: } -> (tensor<1x8x8192xbf16>, tensor<1x8x8192xbf16>, tensor<1x8x8192xbf16>, tensor<1x8x8192xbf16>)
// CHECK: } -> (tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>)
// CHECK: %[[R:.+]], %[[LSE:.+]] = attn.sdpa ins({{.*}} : tensor<1x8x128x64xbf16>, tensor<1x8x192x64xbf16>, tensor<1x8x192x64xbf16>) outs({{.*}} : tensor<1x8x128x64xbf16>) positions({{.*}} : tensor<1x8x128xi64>, tensor<1x8x192xi64>) pattern(#attn.causal) {attn.gpu_core = {min_blocks_per_sm = 0 : i64, q_tile = 64 : i64}} score_mod {
// CHECK: ^bb0(%[[S:.+]]: f32, %{{.+}}: index, %{{.+}}: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK: %[[SAME:.+]] = arith.cmpi eq, %[[I]], %[[J]] : index
// CHECK: arith.remui %[[I]], %c4 : index
// CHECK: %[[KEPT:.+]] = arith.select %{{.+}}, %[[S]], %[[DEAD]] : f32
// CHECK: %[[OUT:.+]] = arith.select %[[SAME]], %[[SELF]], %[[KEPT]] : f32
// CHECK: attn.yield %[[OUT]] : f32
// CHECK: } -> tensor<1x8x128x64xbf16>, tensor<1x8x128xf32>
// CHECK-COUNT-3: attn.sdpa ins({{.*}} : tensor<1x8x128x64xbf16>, tensor<1x8x192x64xbf16>, tensor<1x8x192x64xbf16>)
// CHECK-NOT: attn.sdpa
// The combine writes outs (viewed as [B H, N Dv]).
// CHECK: %[[OF:.+]] = tensor.collapse_shape %[[O]] {{\[}}[0, 1], [2, 3]] : tensor<1x2x1024x64xbf16> into tensor<2x65536xbf16>
// CHECK: %[[C:.+]] = linalg.generic {{.*}} outs(%[[OF]] : tensor<2x65536xbf16>)
// CHECK: %[[E:.+]] = tensor.expand_shape %[[C]] {{.*}} into tensor<1x2x1024x64xbf16>
// CHECK: return %[[E]]
func.func @static_causal(%qk: tensor<1x2x1024x64xbf16>, %v: tensor<1x2x1024x64xbf16>, %rot: tensor<2x2x64x8xbf16>, %o: tensor<1x2x1024x64xbf16>) -> tensor<1x2x1024x64xbf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x1024x64xbf16>, tensor<1x2x1024x64xbf16>, tensor<2x2x64x8xbf16>) outs(%o : tensor<1x2x1024x64xbf16>) {num_buckets = 16, chunk_size = 64, causal} -> tensor<1x2x1024x64xbf16>
  return %r : tensor<1x2x1024x64xbf16>
}

// Dynamic N: one chunk per head (no tags), N checked against the chunk at
// run time; not causal: no pattern, only the own-key score.
// CHECK-LABEL: func.func @dynamic_f16
// CHECK: cf.assert %{{.+}}, "attn.lsh: N is not a multiple of chunk_size"
// CHECK: attn.sdpa ins({{.*}} : tensor<2x?x16x128xf16>, tensor<2x?x?x128xf16>, tensor<2x?x?x128xf16>) outs({{.*}}) positions({{.*}} : tensor<2x?x16xi64>, tensor<2x?x?xi64>) score_mod {
// CHECK-NOT: arith.remui
// CHECK: } -> tensor<2x?x16x128xf16>, tensor<2x?x16xf32>
// CHECK-NOT: attn.lsh
func.func @dynamic_f16(%qk: tensor<2x4x?x128xf16>, %v: tensor<2x4x?x128xf16>, %rot: tensor<4x3x128x4xf32>, %o: tensor<2x4x?x128xf16>) -> tensor<2x4x?x128xf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<2x4x?x128xf16>, tensor<2x4x?x128xf16>, tensor<4x3x128x4xf32>) outs(%o : tensor<2x4x?x128xf16>) {num_buckets = 8, chunk_size = 16} -> tensor<2x4x?x128xf16>
  return %r : tensor<2x4x?x128xf16>
}

// Not taken: f32 (the general path), D = 32 (not a core head dim), a
// dynamic H.
// CHECK-LABEL: func.func @untaken
// CHECK-COUNT-3: attn.lsh
// CHECK-NOT: attn.sdpa
func.func @untaken(%a: tensor<1x2x64x64xf32>, %r1: tensor<2x1x64x2xf32>, %b: tensor<1x2x64x32xbf16>, %r2: tensor<2x1x32x2xbf16>, %c: tensor<1x?x64x64xbf16>, %r3: tensor<?x1x64x2xbf16>) -> (tensor<1x2x64x64xf32>, tensor<1x2x64x32xbf16>, tensor<1x?x64x64xbf16>) {
  %x = attn.lsh ins(%a, %a, %r1 : tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32>, tensor<2x1x64x2xf32>) outs(%a : tensor<1x2x64x64xf32>) {num_buckets = 4, chunk_size = 16} -> tensor<1x2x64x64xf32>
  %y = attn.lsh ins(%b, %b, %r2 : tensor<1x2x64x32xbf16>, tensor<1x2x64x32xbf16>, tensor<2x1x32x2xbf16>) outs(%b : tensor<1x2x64x32xbf16>) {num_buckets = 4, chunk_size = 16} -> tensor<1x2x64x32xbf16>
  %z = attn.lsh ins(%c, %c, %r3 : tensor<1x?x64x64xbf16>, tensor<1x?x64x64xbf16>, tensor<?x1x64x2xbf16>) outs(%c : tensor<1x?x64x64xbf16>) {num_buckets = 4, chunk_size = 16} -> tensor<1x?x64x64xbf16>
  return %x, %y, %z : tensor<1x2x64x64xf32>, tensor<1x2x64x32xbf16>, tensor<1x?x64x64xbf16>
}

// attn.cluster (grouped-query heads, Nq != Nk, causal needs Nq == Nk so not
// here): one attn.sdpa over the H C = 8 clusters of w = 16 members, the
// members' positions, with the lse; no score_mod; 64-row query tiles and
// four CTAs per multiprocessor on the core.
// CHECK-LABEL: func.func @cluster_gqa
// CHECK-NOT: attn.cluster
// CHECK: attn.sdpa ins({{.*}} : tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>, tensor<1x8x16x64xbf16>) outs({{.*}} : tensor<1x8x16x64xbf16>) positions({{.*}} : tensor<1x8x16xi64>, tensor<1x8x16xi64>) {attn.gpu_core = {min_blocks_per_sm = 4 : i64, q_tile = 64 : i64}} -> tensor<1x8x16x64xbf16>, tensor<1x8x16xf32>
// The weights: one kernel per (b H + h, n) with the weight and the row of
// each cluster (C = 2), then the weighted sum per (b H + h, n Dv + f).
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs({{.*}} : tensor<4x40xf32>, tensor<4x40xf32>, tensor<4x40xi64>, tensor<4x40xi64>)
// CHECK: } -> (tensor<4x40xf32>, tensor<4x40xf32>, tensor<4x40xi64>, tensor<4x40xi64>)
// CHECK: linalg.generic {{.*}} outs({{.*}} : tensor<4x2560xbf16>)
// CHECK-NOT: attn.cluster
func.func @cluster_gqa(%q: tensor<1x4x40x64xbf16>, %k: tensor<1x2x50x64xbf16>, %v: tensor<1x2x50x64xbf16>, %c: tensor<4x2x64xf32>, %o: tensor<1x4x40x64xbf16>) -> tensor<1x4x40x64xbf16> {
  %r = attn.cluster ins(%q, %k, %v, %c : tensor<1x4x40x64xbf16>, tensor<1x2x50x64xbf16>, tensor<1x2x50x64xbf16>, tensor<4x2x64xf32>) outs(%o : tensor<1x4x40x64xbf16>) {window = 16} -> tensor<1x4x40x64xbf16>
  return %r : tensor<1x4x40x64xbf16>
}
