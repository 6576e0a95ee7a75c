// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --canonicalize | FileCheck %s --check-prefix=CANON

// mask_mod and the run-time block layout (blocks, full_blocks) on attn.sdpa:
// they print and parse back; canonicalize drops a mask_mod that yields true.

// CHECK-LABEL: func.func @prefix_lm_mask_mod
// CHECK: attn.sdpa
// CHECK-SAME: pattern(#attn.causal)
// CHECK: mask_mod {
// CHECK: ^bb0(%{{.*}}: index, %{{.*}}: index, %[[I:.*]]: index, %[[J:.*]]: index):
// CHECK: attn.yield %{{.*}} : i1
// CANON-LABEL: func.func @prefix_lm_mask_mod
// CANON: mask_mod
func.func @prefix_lm_mask_mod(%q: tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         outs(%q : tensor<1x2x?x8xf32>) pattern(#attn.causal)
         mask_mod {
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           %c = arith.constant 4 : index
           %t = arith.cmpi slt, %j, %c : index
           attn.yield %t : i1
         } -> tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// A score_mod and a mask_mod together, score_mod first.
// CHECK-LABEL: func.func @both_regions
// CHECK: score_mod {
// CHECK: attn.yield %{{.*}} : f32
// CHECK: mask_mod {
// CHECK: attn.yield %{{.*}} : i1
func.func @both_regions(%q: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>)
         outs(%q : tensor<1x1x8x8xf32>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           attn.yield %s : f32
         }
         mask_mod {
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           %t = arith.cmpi sge, %i, %j : index
           attn.yield %t : i1
         } -> tensor<1x1x8x8xf32>
  return %r : tensor<1x1x8x8xf32>
}

// A mask_mod that yields true keeps every pair: canonicalize drops it.
// CANON-LABEL: func.func @true_mask_mod
// CANON: attn.sdpa
// CANON-NOT: mask_mod
// CANON: return
func.func @true_mask_mod(%q: tensor<1x1x8x8xf32>) -> tensor<1x1x8x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>)
         outs(%q : tensor<1x1x8x8xf32>)
         mask_mod {
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           %t = arith.constant true
           attn.yield %t : i1
         } -> tensor<1x1x8x8xf32>
  return %r : tensor<1x1x8x8xf32>
}

// The block layout of FlexAttention's BlockMask, one layout for all heads.
// CHECK-LABEL: func.func @block_layout
// CHECK: blocks(%arg1, %arg2 : tensor<1x1x4xi32>, tensor<1x1x4x4xi32>)
// CHECK-SAME: full_blocks(%arg3, %arg4 : tensor<1x1x4xi32>, tensor<1x1x4x4xi32>)
// CHECK-SAME: block_size = array<i64: 16, 16>
func.func @block_layout(%q: tensor<2x4x64x8xf32>, %n: tensor<1x1x4xi32>, %idx: tensor<1x1x4x4xi32>,
                        %fn: tensor<1x1x4xi32>, %fidx: tensor<1x1x4x4xi32>) -> tensor<2x4x64x8xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<2x4x64x8xf32>, tensor<2x4x64x8xf32>, tensor<2x4x64x8xf32>)
         outs(%q : tensor<2x4x64x8xf32>)
         blocks(%n, %idx : tensor<1x1x4xi32>, tensor<1x1x4x4xi32>)
         full_blocks(%fn, %fidx : tensor<1x1x4xi32>, tensor<1x1x4x4xi32>)
         {block_size = array<i64: 16, 16>} -> tensor<2x4x64x8xf32>
  return %r : tensor<2x4x64x8xf32>
}
