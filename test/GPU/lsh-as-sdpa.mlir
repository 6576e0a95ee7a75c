// attn-gpu-lsh-cluster-as-sdpa: attn.lsh and attn.cluster in bf16 / f16 with
// D = Dv = 64 or 128 become parallel choosing kernels (hash or select, and a
// counting sort), one attn.sdpa over the gathered chunks or clusters with
// positions, and a log-sum-exp combine into outs (docs/GPU.md, "LSH and
// clustered attention on the Hopper core"); everything else stays. The
// CHECK lines are merge-rounds=0 (attn.lsh's combine after all rounds); MERGE
// is merge-rounds=1 merge-f32=1, where a static number of sdpa heads gives
// one sdpa per round, merged into the result after each round ("Rounds
// combined in the core (session 12)"); DEFAULT the default: merged, the
// accumulator between rounds in the element type (merge-f32=0).
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa --canonicalize | FileCheck %s --check-prefix=DEFAULT
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa=merge-rounds=0 --canonicalize | FileCheck %s
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa="merge-rounds=1 merge-f32=1" --canonicalize | FileCheck %s --check-prefix=MERGE

// The default (session 12): the rounds merged with the accumulator between
// them in the op's element type (merge-f32=0).
// DEFAULT-LABEL: func.func @static_causal
// DEFAULT: %[[ACC:.+]] = tensor.empty() : tensor<2x1024x64xbf16>
// DEFAULT: attn.sdpa {{.*}} merge = array<i64: 1, 2, 8>
// DEFAULT: %[[O0:.+]] = linalg.generic {{.*}} outs(%[[ACC]] : tensor<2x1024x64xbf16>) attrs =  {attn.gpu_lse_merge = "o"}
// DEFAULT: attn.sdpa {{.*}} merge = array<i64: 0, 2, 8>
// DEFAULT: linalg.generic {{.*}} ins(%[[O0]], %{{.+}} : tensor<2x1024x64xbf16>, tensor<2x1024xf32>) {{.*}} attrs =  {attn.gpu_lse_merge = "o"}
// DEFAULT: ^bb0(%{{.+}}: bf16, %{{.+}}: f32, %{{.+}}: bf16):
// DEFAULT: arith.extf %{{.+}} : bf16 to f32
// DEFAULT-LABEL: func.func @dynamic_f16
// DEFAULT-NOT: attn.gpu_lse_merge
// DEFAULT-LABEL: func.func @untaken

// MERGE-LABEL: func.func @static_causal
// MERGE-SAME: %[[O:[a-z0-9_]+]]: tensor<1x2x1024x64xbf16>)
// Heads round-major: each round's 16 heads (H = 2 times nC / P = 8) in one
// part (positions, q, k and v), the round's perm row (b H + h) R + r.
// MERGE: } -> (tensor<1x16x128xi64>, tensor<1x16x128xi64>)
// MERGE: } -> (tensor<1x16x192xi64>, tensor<1x16x192xi64>)
// MERGE: } -> (tensor<1x16x8192xbf16>, tensor<1x16x8192xbf16>)
// MERGE: } -> (tensor<1x16x12288xbf16>, tensor<1x16x12288xbf16>, tensor<1x16x12288xbf16>, tensor<1x16x12288xbf16>)
// MERGE: %[[OF:.+]] = tensor.collapse_shape %[[O]] {{\[}}[0, 1], [2], [3]] : tensor<1x2x1024x64xbf16> into tensor<2x1024x64xbf16>
// MERGE: %[[LI:.+]] = tensor.empty() : tensor<2x1024xf32>
// MERGE: %[[ACC:.+]] = tensor.empty() : tensor<2x1024x64xf32>
// Round 0 (first = 1, tags of 2 bits, 8 heads a head of the op).
// MERGE: %[[R0:.+]], %[[L0:.+]] = attn.sdpa ins({{.*}} : tensor<1x16x128x64xbf16>, tensor<1x16x192x64xbf16>, tensor<1x16x192x64xbf16>) {{.*}} {attn.gpu_core = {kv_band = array<i64: 64, 0, 128>, merge = array<i64: 1, 2, 8>, min_blocks_per_sm = 0 : i64, q_tile = 64 : i64}}
// MERGE: %[[L0F:.+]] = tensor.collapse_shape %[[L0]]
// MERGE: %[[LSE0:.+]] = linalg.generic {{.*}} outs(%[[LI]] : tensor<2x1024xf32>) attrs =  {attn.gpu_lse_merge = "lse"}
// MERGE: tensor.extract %[[L0F]]
// MERGE: %[[O0:.+]] = linalg.generic {{.*}} outs(%[[ACC]] : tensor<2x1024x64xf32>) attrs =  {attn.gpu_lse_merge = "o"}
// MERGE: arith.extf %{{.+}} : bf16 to f32
// Round 1 merges into outs; its lse (unused) is gone.
// MERGE: attn.sdpa ins({{.*}} : tensor<1x16x128x64xbf16>, tensor<1x16x192x64xbf16>, tensor<1x16x192x64xbf16>) {{.*}} {attn.gpu_core = {kv_band = array<i64: 64, 0, 128>, merge = array<i64: 0, 2, 8>, min_blocks_per_sm = 0 : i64, q_tile = 64 : i64}}
// MERGE-NOT: attn.gpu_lse_merge = "lse"
// MERGE: %[[O1:.+]] = linalg.generic {{.*}} ins(%[[O0]], %[[LSE0]] : tensor<2x1024x64xf32>, tensor<2x1024xf32>) outs(%[[OF]] : tensor<2x1024x64xbf16>) attrs =  {attn.gpu_lse_merge = "o"}
// MERGE: ^bb0(%[[PO:.+]]: f32, %[[PL:.+]]: f32, %{{.+}}: bf16):
// MERGE: %[[MAX:.+]] = arith.maximumf %[[PL]], %{{.+}} : f32
// MERGE: math.exp
// MERGE: math.exp
// MERGE: arith.divf
// MERGE: arith.truncf %{{.+}} : f32 to bf16
// MERGE-NOT: attn.sdpa
// MERGE: %[[E:.+]] = tensor.expand_shape %[[O1]] {{.*}} into tensor<1x2x1024x64xbf16>
// MERGE: return %[[E]]

// Dynamic N (dynamic G): the combine after all rounds.
// MERGE-LABEL: func.func @dynamic_f16
// MERGE-NOT: attn.gpu_lse_merge
// MERGE-LABEL: func.func @untaken
// Chunk 32: merged (two rounds, four chunks a head: tags of 3 bits, 4 heads
// a head of the op).
// MERGE-LABEL: func.func @band_chunk32
// MERGE: attn.sdpa {{.*}} {attn.gpu_core = {kv_band = array<i64: 32, 0, 128>, merge = array<i64: 1, 3, 4>, min_blocks_per_sm = 0 : i64, q_tile = 64 : i64}}
// MERGE: attn.sdpa {{.*}} {attn.gpu_core = {kv_band = array<i64: 32, 0, 128>, merge = array<i64: 0, 3, 4>, min_blocks_per_sm = 0 : i64, q_tile = 64 : i64}}
// MERGE-LABEL: func.func @no_band_dynamic
// MERGE-NOT: attn.gpu_lse_merge

// Static N = 1024, chunk 64: nC = 16, two chunks per head of 128 queries,
// H R nC / 2 = 2 * 2 * 8 = 32 heads; keys: (2 + W - 1) = 3 chunks (W = 2),
// positions encoded as 4 * position + tag. At D = 64 the sdpa asks the core
// for 64-row query tiles (attn.gpu_core; D = 128 below keeps the default)
// and, with two chunks a head, the band of each query chunk: block 64, key
// rows [0, 128) from the chunk's start (its own and the next chunk of the
// head's three: the third is dead for query chunk 0, the first for chunk 1).
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
// CHECK: %[[R:.+]], %[[LSE:.+]] = attn.sdpa ins({{.*}} : tensor<1x8x128x64xbf16>, tensor<1x8x192x64xbf16>, tensor<1x8x192x64xbf16>) outs({{.*}} : tensor<1x8x128x64xbf16>) positions({{.*}} : tensor<1x8x128xi64>, tensor<1x8x192xi64>) pattern(#attn.causal) {attn.gpu_core = {kv_band = array<i64: 64, 0, 128>, min_blocks_per_sm = 0 : i64, q_tile = 64 : i64}} score_mod {
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

// Chunk 32, look_back 2, look_ahead 1 (W = 4), static N = 512 (nC = 16):
// four chunks a head of 128 queries and 4 + 4 - 1 = 7 key chunks; query
// chunk p sees key chunks [p, p + 4): kv_band block 32, rows [0, 128). A
// dynamic N (one chunk a head) at D = 64 has no band (nothing to skip).
// CHECK-LABEL: func.func @band_chunk32
// CHECK: attn.sdpa ins({{.*}} : tensor<1x4x128x64xf16>, tensor<1x4x224x64xf16>, tensor<1x4x224x64xf16>) {{.*}} {attn.gpu_core = {kv_band = array<i64: 32, 0, 128>, min_blocks_per_sm = 0 : i64, q_tile = 64 : i64}} score_mod {
// CHECK-LABEL: func.func @no_band_dynamic
// CHECK: attn.sdpa ins({{.*}} : tensor<1x?x32x64xbf16>, {{.*}} {attn.gpu_core = {min_blocks_per_sm = 0 : i64, q_tile = 64 : i64}} score_mod {
func.func @band_chunk32(%qk: tensor<1x2x512x64xf16>, %v: tensor<1x2x512x64xf16>, %rot: tensor<2x2x64x4xf16>, %o: tensor<1x2x512x64xf16>) -> tensor<1x2x512x64xf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x512x64xf16>, tensor<1x2x512x64xf16>, tensor<2x2x64x4xf16>) outs(%o : tensor<1x2x512x64xf16>) {num_buckets = 8, chunk_size = 32, look_back = 2, look_ahead = 1} -> tensor<1x2x512x64xf16>
  return %r : tensor<1x2x512x64xf16>
}
func.func @no_band_dynamic(%qk: tensor<1x2x?x64xbf16>, %v: tensor<1x2x?x64xbf16>, %rot: tensor<2x1x64x4xbf16>, %o: tensor<1x2x?x64xbf16>) -> tensor<1x2x?x64xbf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x?x64xbf16>, tensor<1x2x?x64xbf16>, tensor<2x1x64x4xbf16>) outs(%o : tensor<1x2x?x64xbf16>) {num_buckets = 8, chunk_size = 32, causal} -> tensor<1x2x?x64xbf16>
  return %r : tensor<1x2x?x64xbf16>
}
