// Seeds of attn-fuzz (see fuzz/make-seeds.py), not lit tests:
// #attn.block_sparse layouts that are not ranked tensors of signless i1.
// Vector and memref layouts passed the attribute verifier (rank 2, i1): the
// lowering built a tensor.extract from them, and printing the verifier's
// diagnostic on it crashed. si1 and ui1 layouts passed it too (isInteger(1)
// holds for every signedness), and attn-lower-to-linalg built arith.andi on
// si1, which does not verify.

func.func @vector_layout(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         outs(%o : tensor<1x2x8x4xf32>)
         pattern(#attn.block_sparse<block = [4, 4], layout = dense<true> : vector<2x2xi1>>)
         -> tensor<1x2x8x4xf32>
  return %r : tensor<1x2x8x4xf32>
}

// -----

func.func @scalable_vector_layout(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         outs(%o : tensor<1x2x8x4xf32>)
         pattern(#attn.union<[#attn.causal, #attn.block_sparse<block = [4, 4], layout = dense<true> : vector<[2]x2xi1>>]>)
         -> tensor<1x2x8x4xf32>
  return %r : tensor<1x2x8x4xf32>
}

// -----

func.func @memref_layout(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         outs(%o : tensor<1x2x8x4xf32>)
         pattern(#attn.block_sparse<block = [4, 4], layout = dense<true> : memref<2x2xi1>>)
         -> tensor<1x2x8x4xf32>
  return %r : tensor<1x2x8x4xf32>
}

// -----

func.func @signed_i1_layout(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         outs(%o : tensor<1x2x8x4xf32>)
         pattern(#attn.block_sparse<block = [4, 4], layout = dense<true> : tensor<2x2xsi1>>)
         -> tensor<1x2x8x4xf32>
  return %r : tensor<1x2x8x4xf32>
}

// -----

func.func @unsigned_i1_layout(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         outs(%o : tensor<1x2x8x4xf32>)
         pattern(#attn.intersect<[#attn.causal, #attn.block_sparse<block = [2, 2], layout = dense<[[true, false], [true, true], [false, true], [true, true]]> : tensor<4x2xui1>>]>)
         -> tensor<1x2x8x4xf32>
  return %r : tensor<1x2x8x4xf32>
}
