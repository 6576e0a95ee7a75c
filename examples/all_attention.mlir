// All-attention (Sukhbaatar et al. 2019): 16 persistent memory vectors per
// head appended to every query's (causal) keys.
func.func @main(%q: tensor<1x8x?x64xf32>, %k: tensor<1x8x?x64xf32>,
                %v: tensor<1x8x?x64xf32>, %mk: tensor<8x16x64xf32>,
                %mv: tensor<8x16x64xf32>, %o: tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>)
         memory(%mk, %mv : tensor<8x16x64xf32>, tensor<8x16x64xf32>) pattern(#attn.causal)
         -> tensor<1x8x?x64xf32>
  return %r : tensor<1x8x?x64xf32>
}
