// Seeds of attn-fuzz (see fuzz/make-seeds.py), not lit tests:
// #attn.block_sparse layouts that are not ranked i1 tensors. A vector
// layout passed the attribute verifier (rank 2, i1) and crashed the
// lowering.

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
