// Sparse Transformer (Child et al. 2019), both factorized heads over
// blocks of l = 128: the strided head and the fixed head (c = 8 summaries).
func.func @main(%q: tensor<1x8x?x64xf16>, %k: tensor<1x8x?x64xf16>,
                %v: tensor<1x8x?x64xf16>, %o: tensor<1x8x?x64xf16>)
    -> (tensor<1x8x?x64xf16>, tensor<1x8x?x64xf16>) {
  %strided = attn.sdpa ins(%q, %k, %v : tensor<1x8x?x64xf16>, tensor<1x8x?x64xf16>, tensor<1x8x?x64xf16>)
         outs(%o : tensor<1x8x?x64xf16>)
         pattern(#attn.intersect<[#attn.causal, #attn.union<[#attn.window<left = 127, right = 0>, #attn.strided<stride = 128>]>]>)
         -> tensor<1x8x?x64xf16>
  %fixed = attn.sdpa ins(%q, %k, %v : tensor<1x8x?x64xf16>, tensor<1x8x?x64xf16>, tensor<1x8x?x64xf16>)
         outs(%o : tensor<1x8x?x64xf16>)
         pattern(#attn.intersect<[#attn.causal, #attn.union<[#attn.block_local<size = 128>, #attn.fixed<block = 128, summary = 8>]>]>)
         -> tensor<1x8x?x64xf16>
  return %strided, %fixed : tensor<1x8x?x64xf16>, tensor<1x8x?x64xf16>
}
