// Seeds of attn-fuzz (see fuzz/make-seeds.py), not lit tests: attributes
// that an attn op does not define, which the verifier accepted and the op
// then ignored (a misspelt `scale` silently used the default). The fuzz
// target aborts when an input with such an attribute verifies.

func.func @sdpa_causal(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         outs(%o : tensor<1x2x8x4xf32>) {causal} -> tensor<1x2x8x4xf32>
  return %r : tensor<1x2x8x4xf32>
}

// -----

func.func @sdpa_misspelt_scale(%q: tensor<1x2x8x4xf32>, %o: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %r = attn.sdpa ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         outs(%o : tensor<1x2x8x4xf32>) pattern(#attn.causal) {sacle = 0.5 : f32} -> tensor<1x2x8x4xf32>
  return %r : tensor<1x2x8x4xf32>
}

// -----

func.func @pkm_causal(%q: tensor<1x4x8x8xf32>, %s1: tensor<4x4x4xf32>, %s2: tensor<4x4x4xf32>,
                      %vals: tensor<16x8xf32>, %o: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %r = attn.pkm ins(%q, %s1, %s2, %vals : tensor<1x4x8x8xf32>, tensor<4x4x4xf32>, tensor<4x4x4xf32>, tensor<16x8xf32>)
         outs(%o : tensor<1x4x8x8xf32>) {top_k = 2, causal} -> tensor<1x4x8x8xf32>
  return %r : tensor<1x4x8x8xf32>
}
