// The choosing kernels of attn-gpu-lsh-cluster-as-sdpa (docs/GPU.md, "LSH and
// clustered attention on the Hopper core"): the counting sort packs the
// buckets into i64 words (8-bit fields below 255 buckets, 16-bit ones below
// 65535) and compares a word's fields at once (the constants of
// matchFields: a 1 in every field, every field's low bits); a slot's bucket
// and block are found by binary search (an scf.for of log2 steps); k and v
// (lsh) or q, k and v (cluster) are gathered by one kernel; the cluster's
// 3-way buckets are read where the sort packs and slots (no bucket tensor);
// the radix counts keep 8-bit fields in two words, added up every 255 steps.
// RUN: attn-opt %s --attn-gpu-lsh-cluster-as-sdpa=merge-rounds=0 --canonicalize --cse | FileCheck %s

// B H R = 4 rows of N = 1024 positions: 128 words of 8 buckets; 8 blocks of
// 128 positions (3 halvings), 16 buckets (5 halvings).
// CHECK-LABEL: func.func @lsh_words
// CHECK-DAG: arith.constant 72340172838076673 : i64
// CHECK-DAG: arith.constant 9187201950435737471 : i64
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x128xi64>)
// CHECK: scf.for %{{.*}} = %c0 to %c5 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// k and v: one gather of 32 heads x 192 keys x 64 features, the heads in 4
// parts of 8 (separate tensors: k and v of part 0, of part 1, ...).
// CHECK: } -> (tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>, tensor<1x8x12288xbf16>)
// CHECK: attn.sdpa
func.func @lsh_words(%qk: tensor<1x2x1024x64xbf16>, %v: tensor<1x2x1024x64xbf16>, %rot: tensor<2x2x64x8xbf16>, %o: tensor<1x2x1024x64xbf16>) -> tensor<1x2x1024x64xbf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x1024x64xbf16>, tensor<1x2x1024x64xbf16>, tensor<2x2x64x8xbf16>) outs(%o : tensor<1x2x1024x64xbf16>) {num_buckets = 16, chunk_size = 64, causal} -> tensor<1x2x1024x64xbf16>
  return %r : tensor<1x2x1024x64xbf16>
}

// 512 buckets: 16-bit fields, 4 a word (256 words of 1024 positions).
// CHECK-LABEL: func.func @lsh_wide_fields
// CHECK-DAG: arith.constant 281479271743489 : i64
// CHECK-DAG: arith.constant 9223231297218904063 : i64
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x256xi64>)
func.func @lsh_wide_fields(%qk: tensor<1x2x1024x64xbf16>, %v: tensor<1x2x1024x64xbf16>, %rot: tensor<2x1x64x256xf32>, %o: tensor<1x2x1024x64xbf16>) -> tensor<1x2x1024x64xbf16> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x2x1024x64xbf16>, tensor<1x2x1024x64xbf16>, tensor<2x1x64x256xf32>) outs(%o : tensor<1x2x1024x64xbf16>) {num_buckets = 512, chunk_size = 8} -> tensor<1x2x1024x64xbf16>
  return %r : tensor<1x2x1024x64xbf16>
}

// cluster: B H C = 8 rows; the radix count's 8-bit digit fields (masked
// by 255 when added up); the packed words (7 of N = 50) read the keys and
// compare them with the selected key; q, k and v of the 8 heads of 16
// members gathered by one kernel.
// CHECK-LABEL: func.func @cluster_words
// CHECK: arith.constant 255 : i64
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<8x7xi64>)
// CHECK: arith.cmpi sgt
// CHECK: } -> (tensor<1x8x1024xbf16>, tensor<1x8x1024xbf16>, tensor<1x8x1024xbf16>)
// CHECK: attn.sdpa
func.func @cluster_words(%q: tensor<1x4x50x64xbf16>, %k: tensor<1x2x50x64xbf16>, %v: tensor<1x2x50x64xbf16>, %c: tensor<4x2x64xf32>, %o: tensor<1x4x50x64xbf16>) -> tensor<1x4x50x64xbf16> {
  %r = attn.cluster ins(%q, %k, %v, %c : tensor<1x4x50x64xbf16>, tensor<1x2x50x64xbf16>, tensor<1x2x50x64xbf16>, tensor<4x2x64xf32>) outs(%o : tensor<1x4x50x64xbf16>) {window = 16, causal} -> tensor<1x4x50x64xbf16>
  return %r : tensor<1x4x50x64xbf16>
}
