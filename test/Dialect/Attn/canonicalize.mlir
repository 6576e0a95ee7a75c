// The pattern algebra of attn.sdpa under canonicalize.
// RUN: attn-opt %s -canonicalize -split-input-file | FileCheck %s


// CHECK-LABEL: func @union_flattens_and_dedupes
// CHECK: pattern(#attn.union<[#attn.strided<stride = 4>, #attn.global<first = 2>, #attn.axial<rows = 2, cols = 8>]>)
func.func @union_flattens_and_dedupes(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.union<[#attn.strided<stride = 4>, #attn.union<[#attn.global<first = 2>, #attn.strided<stride = 4>]>, #attn.axial<rows = 2, cols = 8>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// CHECK-LABEL: func @union_of_one_part
// CHECK: pattern(#attn.strided<stride = 4>)
func.func @union_of_one_part(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.union<[#attn.strided<stride = 4>, #attn.strided<stride = 4>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// A union with dense is dense, and dense is the default: the pattern goes.
// CHECK-LABEL: func @union_with_dense
// CHECK: attn.sdpa
// CHECK-NOT: pattern
// CHECK-SAME: -> tensor
func.func @union_with_dense(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.union<[#attn.strided<stride = 4>, #attn.dense]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// CHECK-LABEL: func @explicit_dense_is_dropped
// CHECK: attn.sdpa
// CHECK-NOT: pattern
// CHECK-SAME: -> tensor
func.func @explicit_dense_is_dropped(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>) pattern(#attn.dense) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// CHECK-LABEL: func @intersect_drops_dense
// CHECK: pattern(#attn.strided<stride = 3>)
func.func @intersect_drops_dense(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.intersect<[#attn.dense, #attn.strided<stride = 3>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// CHECK-LABEL: func @intersect_flattens
// CHECK: pattern(#attn.intersect<[#attn.strided<stride = 3>, #attn.global<first = 1>, #attn.fixed<block = 4, summary = 1>]>)
func.func @intersect_flattens(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.intersect<[#attn.strided<stride = 3>, #attn.intersect<[#attn.global<first = 1>, #attn.fixed<block = 4, summary = 1>]>, #attn.global<first = 1>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// causal and a window intersect to a window.
// CHECK-LABEL: func @intersect_causal_window
// CHECK: pattern(#attn.window<left = 4, right = 0>)
func.func @intersect_causal_window(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.intersect<[#attn.causal, #attn.window<left = 4, right = 4>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// CHECK-LABEL: func @intersect_causals
// CHECK: pattern(#attn.causal<offset = -1>)
func.func @intersect_causals(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.intersect<[#attn.causal<offset = 2>, #attn.causal<offset = -1>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// Only the band parts merge; the others stay in order.
// CHECK-LABEL: func @intersect_bands_and_others
// CHECK: pattern(#attn.intersect<[#attn.window<left = 2, right = 1>, #attn.strided<stride = 2>]>)
func.func @intersect_bands_and_others(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.intersect<[#attn.window<left = 2, right = 5>, #attn.strided<stride = 2>, #attn.causal<offset = 1>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// negative: bands with no pair in common are not folded (no pattern is empty).
// CHECK-LABEL: func @negative_intersect_disjoint_bands
// CHECK: pattern(#attn.intersect<[#attn.window<left = 0, right = 2>, #attn.causal<offset = -3>]>)
func.func @negative_intersect_disjoint_bands(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.intersect<[#attn.window<left = 0, right = 2>, #attn.causal<offset = -3>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// CHECK-LABEL: func @union_overlapping_windows
// CHECK: pattern(#attn.window<left = 5, right = 3>)
func.func @union_overlapping_windows(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.union<[#attn.window<left = 5, right = 0>, #attn.window<left = 1, right = 3>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// Windows that touch (j - i = -3 and -2) merge; the causal band absorbs both.
// CHECK-LABEL: func @union_touching_bands
// CHECK: pattern(#attn.window<left = 5, right = 1>)
// CHECK: pattern(#attn.causal<offset = 3>)
func.func @union_touching_bands(%q: tensor<1x2x?x16xf32>) -> (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.union<[#attn.window<left = 5, right = -3>, #attn.window<left = 2, right = 1>]>) -> tensor<1x2x?x16xf32>
  %s = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.union<[#attn.causal, #attn.window<left = 2, right = 3>]>) -> tensor<1x2x?x16xf32>
  return %r, %s : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>
}

// -----

// negative: windows with a gap between them stay a union.
// CHECK-LABEL: func @negative_union_apart_windows
// CHECK: pattern(#attn.union<[#attn.window<left = 5, right = -4>, #attn.window<left = 1, right = 1>]>)
func.func @negative_union_apart_windows(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.union<[#attn.window<left = 5, right = -4>, #attn.window<left = 1, right = 1>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// A static window covering every position is dense.
// CHECK-LABEL: func @window_covering_everything
// CHECK: attn.sdpa
// CHECK-NOT: pattern
// CHECK-SAME: -> tensor<1x2x8x16xf32>
func.func @window_covering_everything(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x6x16xf32>) -> tensor<1x2x8x16xf32> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x2x8x16xf32>, tensor<1x2x6x16xf32>, tensor<1x2x6x16xf32>)
    outs(%q : tensor<1x2x8x16xf32>) pattern(#attn.window<left = 7, right = 5>) -> tensor<1x2x8x16xf32>
  return %r : tensor<1x2x8x16xf32>
}

// -----

// negative: one position short of covering.
// CHECK-LABEL: func @negative_window_one_short
// CHECK: pattern(#attn.window<left = 7, right = 4>)
func.func @negative_window_one_short(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x6x16xf32>) -> tensor<1x2x8x16xf32> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x2x8x16xf32>, tensor<1x2x6x16xf32>, tensor<1x2x6x16xf32>)
    outs(%q : tensor<1x2x8x16xf32>) pattern(#attn.window<left = 7, right = 4>) -> tensor<1x2x8x16xf32>
  return %r : tensor<1x2x8x16xf32>
}

// -----

// negative: with dynamic lengths a window can never be proven to cover.
// CHECK-LABEL: func @negative_window_dynamic
// CHECK: pattern(#attn.window<left = 1000, right = 1000>)
func.func @negative_window_dynamic(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.window<left = 1000, right = 1000>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// negative: with a positions operand the positions are unknown.
// CHECK-LABEL: func @negative_window_with_positions
// CHECK: pattern(#attn.window<left = 100, right = 100>)
func.func @negative_window_with_positions(%q: tensor<1x2x8x16xf32>, %p: tensor<1x1x8xi32>) -> tensor<1x2x8x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
    outs(%q : tensor<1x2x8x16xf32>) positions(%p, %p : tensor<1x1x8xi32>, tensor<1x1x8xi32>)
    pattern(#attn.window<left = 100, right = 100>) -> tensor<1x2x8x16xf32>
  return %r : tensor<1x2x8x16xf32>
}

// -----

// CHECK-LABEL: func @causal_covering_everything
// CHECK: attn.sdpa
// CHECK-NOT: pattern
// CHECK-SAME: -> tensor<1x2x4x16xf32>
func.func @causal_covering_everything(%q: tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>)
    outs(%q : tensor<1x2x4x16xf32>) pattern(#attn.causal<offset = 3>) -> tensor<1x2x4x16xf32>
  return %r : tensor<1x2x4x16xf32>
}

// -----

// Bottom-right causal with static lengths is top-left causal with an offset.
// CHECK-LABEL: func @causal_bottom_right_static
// CHECK: pattern(#attn.causal<offset = 12>)
func.func @causal_bottom_right_static(%q: tensor<1x2x4x16xf32>, %k: tensor<1x2x16x16xf32>) -> tensor<1x2x4x16xf32> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x2x4x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>)
    outs(%q : tensor<1x2x4x16xf32>) pattern(#attn.causal<bottom_right>) -> tensor<1x2x4x16xf32>
  return %r : tensor<1x2x4x16xf32>
}

// -----

// negative: bottom-right stays when a length is dynamic.
// CHECK-LABEL: func @negative_causal_bottom_right_dynamic
// CHECK: pattern(#attn.causal<bottom_right>)
func.func @negative_causal_bottom_right_dynamic(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>) pattern(#attn.causal<bottom_right>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// Degenerate parameters.
// CHECK-LABEL: func @degenerate_parameters
// CHECK: pattern(#attn.window<left = 2, right = 3>)
// CHECK: pattern(#attn.window<left = 0, right = 0>)
// CHECK: attn.sdpa
// CHECK-NOT: pattern
// CHECK-SAME: -> tensor
// CHECK: attn.sdpa
// CHECK-NOT: pattern
// CHECK-SAME: -> tensor
func.func @degenerate_parameters(%q: tensor<1x2x?x16xf32>) -> (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) {
  %0 = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>) pattern(#attn.dilated<left = 2, right = 3, dilation = 1>) -> tensor<1x2x?x16xf32>
  %1 = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>) pattern(#attn.block_local<size = 1>) -> tensor<1x2x?x16xf32>
  %2 = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>) pattern(#attn.strided<stride = 1>) -> tensor<1x2x?x16xf32>
  %3 = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>) pattern(#attn.fixed<block = 4, summary = 4>) -> tensor<1x2x?x16xf32>
  return %0, %1, %2, %3 : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>
}

// -----

// Global tokens are sorted and deduplicated; those next to `first` extend it.
// CHECK-LABEL: func @global_tokens_normalised
// CHECK: pattern(#attn.global<tokens = [-1, 9], first = 4>)
func.func @global_tokens_normalised(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.global<tokens = [9, 3, 1, 2, 9, -1], first = 2>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// The Sparse Transformer fixed head is already canonical.
// CHECK-LABEL: func @negative_fixed_head_unchanged
// CHECK: pattern(#attn.intersect<[#attn.causal, #attn.union<[#attn.block_local<size = 4>, #attn.fixed<block = 4, summary = 1>]>]>)
func.func @negative_fixed_head_unchanged(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.intersect<[#attn.causal, #attn.union<[#attn.block_local<size = 4>, #attn.fixed<block = 4, summary = 1>]>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// Simplification reaches into nested parts.
// CHECK-LABEL: func @nested_parts_simplify
// CHECK: pattern(#attn.intersect<[#attn.strided<stride = 2>, #attn.window<left = 3, right = 0>]>)
func.func @nested_parts_simplify(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.intersect<[#attn.union<[#attn.strided<stride = 2>]>, #attn.dilated<left = 3, right = 3, dilation = 1>, #attn.causal]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// Regressions found with the fuzz target (hand-written inputs).
// A token at 2^31 - 1 is not absorbed into `first` (which must stay below 2^31),
// so the result still parses.
// CHECK-LABEL: func @global_first_stays_in_range
// CHECK: pattern(#attn.global<tokens = [2147483647], first = 2147483647>)
func.func @global_first_stays_in_range(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.global<tokens = [2147483647], first = 2147483647>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// offset + Nk - Nq overflows int64: the pattern is left alone.
// CHECK-LABEL: func @negative_causal_bottom_right_huge
// CHECK: pattern(#attn.causal<offset = 5, bottom_right>)
func.func @negative_causal_bottom_right_huge(%q: tensor<1x1x2x16xf32>, %k: tensor<1x1x9223372036854775807x16xf32>) -> tensor<1x1x2x16xf32> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x1x2x16xf32>, tensor<1x1x9223372036854775807x16xf32>, tensor<1x1x9223372036854775807x16xf32>) outs(%q : tensor<1x1x2x16xf32>)
    pattern(#attn.causal<offset = 5, bottom_right>) -> tensor<1x1x2x16xf32>
  return %r : tensor<1x1x2x16xf32>
}

// -----

// CHECK-LABEL: func @negative_random_huge_length
// CHECK: pattern(#attn.random<block = 64, per_row = 3, seed = 42>)
func.func @negative_random_huge_length(%q: tensor<1x1x9223372036854775807x16xf32>) -> tensor<1x1x9223372036854775807x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x9223372036854775807x16xf32>, tensor<1x1x9223372036854775807x16xf32>, tensor<1x1x9223372036854775807x16xf32>) outs(%q : tensor<1x1x9223372036854775807x16xf32>)
    pattern(#attn.random<block = 64, per_row = 3, seed = 42>) -> tensor<1x1x9223372036854775807x16xf32>
  return %r : tensor<1x1x9223372036854775807x16xf32>
}

// -----

// An all-true splat layout covering every block is dense, decided without
// walking its 3.6e9 blocks.
// CHECK-LABEL: func @block_sparse_splat_covering
// CHECK: attn.sdpa
// CHECK-NOT: pattern
// CHECK-SAME: -> tensor
func.func @block_sparse_splat_covering(%q: tensor<1x1x60000x16xf32>) -> tensor<1x1x60000x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x60000x16xf32>, tensor<1x1x60000x16xf32>, tensor<1x1x60000x16xf32>) outs(%q : tensor<1x1x60000x16xf32>)
    pattern(#attn.block_sparse<block = [1, 1], layout = dense<true> : tensor<60000x60000xi1>>) -> tensor<1x1x60000x16xf32>
  return %r : tensor<1x1x60000x16xf32>
}

// -----

// Bands merge transitively whatever their order: the middle window joins the
// two outer ones. The hull takes the place of the group's first part, and the
// other parts keep their order.
// CHECK-LABEL: func @union_bands_merge_transitively
// CHECK: pattern(#attn.union<[#attn.strided<stride = 5>, #attn.window<left = 10, right = 6>, #attn.global<first = 1>]>)
func.func @union_bands_merge_transitively(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.union<[#attn.strided<stride = 5>, #attn.window<left = -3, right = 6>, #attn.global<first = 1>, #attn.window<left = 10, right = -8>, #attn.window<left = 7, right = 2>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// Two groups of bands with a gap between them: each merges on its own.
// CHECK-LABEL: func @union_two_band_groups
// CHECK: pattern(#attn.union<[#attn.window<left = -4, right = 9>, #attn.causal<offset = -2>]>)
func.func @union_two_band_groups(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) outs(%q : tensor<1x2x?x16xf32>)
    pattern(#attn.union<[#attn.window<left = -4, right = 6>, #attn.causal<offset = -5>, #attn.window<left = -7, right = 9>, #attn.window<left = 4, right = -2>]>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// -----

// negative: the hull of these touching bands (a bottom-right causal band far
// past 2^31) is no pattern, so the group stays as it is. (The positions keep
// the rule "Full on every position is dense" out of the way.)
// CHECK-LABEL: func @negative_union_hull_out_of_range
// CHECK: pattern(#attn.union<[#attn.causal<bottom_right>, #attn.window<left = 0, right = 0>]>)
func.func @negative_union_hull_out_of_range(%q: tensor<1x1x1x16xf32>, %k: tensor<1x1x4294967296x16xf32>, %o: tensor<1x1x1x16xf32>,
                                            %qp: tensor<1x1x1xi64>, %kp: tensor<1x1x4294967296xi64>) -> tensor<1x1x1x16xf32> {
  %r = attn.sdpa ins(%q, %k, %k : tensor<1x1x1x16xf32>, tensor<1x1x4294967296x16xf32>, tensor<1x1x4294967296x16xf32>) outs(%o : tensor<1x1x1x16xf32>)
    positions(%qp, %kp : tensor<1x1x1xi64>, tensor<1x1x4294967296xi64>)
    pattern(#attn.union<[#attn.causal<bottom_right>, #attn.window<left = 0, right = 0>]>) -> tensor<1x1x1x16xf32>
  return %r : tensor<1x1x1x16xf32>
}
