// RUN: attn-opt %s -split-input-file -verify-diagnostics

// mask_mod and the block layout: every rule the verifier checks, with the
// diagnostic it gives.

func.func @mask_mod_wrong_arguments(%q: tensor<1x1x8x8xf32>) {
  // expected-error @+1 {{expects the mask_mod block arguments (%b: index, %h: index, %i: index, %j: index), but got (f32, index, index, index, index)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>) outs(%q : tensor<1x1x8x8xf32>)
         mask_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           %t = arith.cmpi sge, %i, %j : index
           attn.yield %t : i1
         } -> tensor<1x1x8x8xf32>
  return
}

// -----

func.func @mask_mod_yields_float(%q: tensor<1x1x8x8xf32>) {
  // expected-error @+1 {{expects the mask_mod region to end in attn.yield of one i1 value}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>) outs(%q : tensor<1x1x8x8xf32>)
         mask_mod {
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           %f = arith.constant 1.0 : f32
           attn.yield %f : f32
         } -> tensor<1x1x8x8xf32>
  return
}

// -----

func.func @mask_mod_impure(%q: tensor<1x1x8x8xf32>, %m: memref<8xi1>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>) outs(%q : tensor<1x1x8x8xf32>)
         mask_mod {
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{is not pure; mask_mod must be a pure function of its arguments}}
           %t = memref.load %m[%i] : memref<8xi1>
           attn.yield %t : i1
         } -> tensor<1x1x8x8xf32>
  return
}

// -----

func.func @mask_mod_not_lowerable(%q: tensor<1x1x8x8xf32>, %t: tensor<8x8xi1>) {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>, tensor<1x1x8x8xf32>) outs(%q : tensor<1x1x8x8xf32>)
         mask_mod {
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           // expected-error @+1 {{cannot be lowered in a mask_mod; allowed are the ops of the arith, math, index and scf dialects}}
           %s = tensor.extract_slice %t[0, 0] [1, 1] [1, 1] : tensor<8x8xi1> to tensor<1x1xi1>
           %c = arith.constant 0 : index
           %v = tensor.extract %s[%c, %c] : tensor<1x1xi1>
           attn.yield %v : i1
         } -> tensor<1x1x8x8xf32>
  return
}

// -----

func.func @blocks_without_block_size(%q: tensor<1x1x32x8xf32>, %n: tensor<1x1x2xi32>, %i: tensor<1x1x2x2xi32>) {
  // expected-error @+1 {{with blocks expects the block_size attribute (array<i64: BQ, BK>)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>) outs(%q : tensor<1x1x32x8xf32>)
         blocks(%n, %i : tensor<1x1x2xi32>, tensor<1x1x2x2xi32>) -> tensor<1x1x32x8xf32>
  return
}

// -----

func.func @block_size_one_number(%q: tensor<1x1x32x8xf32>, %n: tensor<1x1x2xi32>, %i: tensor<1x1x2x2xi32>) {
  // expected-error @+1 {{expects block_size = array<i64: BQ, BK> with BQ, BK >= 1, but got array<i64: 16>}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>) outs(%q : tensor<1x1x32x8xf32>)
         blocks(%n, %i : tensor<1x1x2xi32>, tensor<1x1x2x2xi32>) {block_size = array<i64: 16>} -> tensor<1x1x32x8xf32>
  return
}

// -----

func.func @block_size_without_blocks(%q: tensor<1x1x32x8xf32>) {
  // expected-error @+1 {{expects block_size only with a blocks operand}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>) outs(%q : tensor<1x1x32x8xf32>)
         {block_size = array<i64: 16, 16>} -> tensor<1x1x32x8xf32>
  return
}

// -----

func.func @full_blocks_alone(%q: tensor<1x1x32x8xf32>, %n: tensor<1x1x2xi32>, %i: tensor<1x1x2x2xi32>) {
  // expected-error @+1 {{expects full_blocks only with blocks (the block layout lists its partial blocks in blocks)}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>) outs(%q : tensor<1x1x32x8xf32>)
         full_blocks(%n, %i : tensor<1x1x2xi32>, tensor<1x1x2x2xi32>) {block_size = array<i64: 16, 16>} -> tensor<1x1x32x8xf32>
  return
}

// -----

func.func @blocks_wrong_query_blocks(%q: tensor<1x1x32x8xf32>, %n: tensor<1x1x3xi32>, %i: tensor<1x1x3x2xi32>) {
  // expected-error @+1 {{expects 2 query blocks (NQB = ceil(Nq / BQ) = ceil(32 / 16)) in the blocks counts, but got 3}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>) outs(%q : tensor<1x1x32x8xf32>)
         blocks(%n, %i : tensor<1x1x3xi32>, tensor<1x1x3x2xi32>) {block_size = array<i64: 16, 16>} -> tensor<1x1x32x8xf32>
  return
}

// -----

func.func @blocks_wrong_heads(%q: tensor<1x4x32x8xf32>, %n: tensor<1x2x2xi32>, %i: tensor<1x2x2x2xi32>) {
  // expected-error @+1 {{expects dim 1 of the blocks counts to be H (4) or 1, but got 2}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x4x32x8xf32>, tensor<1x4x32x8xf32>, tensor<1x4x32x8xf32>) outs(%q : tensor<1x4x32x8xf32>)
         blocks(%n, %i : tensor<1x2x2xi32>, tensor<1x2x2x2xi32>) {block_size = array<i64: 16, 16>} -> tensor<1x4x32x8xf32>
  return
}

// -----

func.func @blocks_i64(%q: tensor<1x1x32x8xf32>, %n: tensor<1x1x2xi64>, %i: tensor<1x1x2x2xi32>) {
  // expected-error @+1 {{blocks counts}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>) outs(%q : tensor<1x1x32x8xf32>)
         blocks(%n, %i : tensor<1x1x2xi64>, tensor<1x1x2x2xi32>) {block_size = array<i64: 16, 16>} -> tensor<1x1x32x8xf32>
  return
}

// -----

func.func @blocks_indices_rank(%q: tensor<1x1x32x8xf32>, %n: tensor<1x1x2xi32>, %i: tensor<1x1x2xi32>) {
  // expected-error @+1 {{blocks indices}}
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>, tensor<1x1x32x8xf32>) outs(%q : tensor<1x1x32x8xf32>)
         blocks(%n, %i : tensor<1x1x2xi32>, tensor<1x1x2xi32>) {block_size = array<i64: 16, 16>} -> tensor<1x1x32x8xf32>
  return
}
