// Longformer: a sliding window of 256 each side plus 64 global tokens; bf16;
// 16 query heads over 4 KV heads (GQA); any sequence length.
func.func @main(%q: tensor<2x16x?x128xbf16>, %k: tensor<2x4x?x128xbf16>,
                %v: tensor<2x4x?x128xbf16>, %o: tensor<2x16x?x128xbf16>) -> tensor<2x16x?x128xbf16> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<2x16x?x128xbf16>, tensor<2x4x?x128xbf16>, tensor<2x4x?x128xbf16>)
         outs(%o : tensor<2x16x?x128xbf16>)
         pattern(#attn.union<[#attn.window<left = 256, right = 256>, #attn.global<first = 64>]>)
         -> tensor<2x16x?x128xbf16>
  return %r : tensor<2x16x?x128xbf16>
}
