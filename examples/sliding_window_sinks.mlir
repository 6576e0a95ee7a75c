// Sliding window with attention sinks (StreamingLLM; FlexAttention's
// `sliding_window` mask `q_idx - kv_idx <= 63`, with the causal mask, or'ed
// with `kv_idx < 4`): each query sees the 64 latest keys and the first 4
// keys of the sequence, never a later key. The key loop visits the tiles of
// the window and the one tile of the sinks.
func.func @main(%q: tensor<1x8x?x64xf32>, %k: tensor<1x8x?x64xf32>,
                %v: tensor<1x8x?x64xf32>, %o: tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>)
         pattern(#attn.intersect<[#attn.causal, #attn.union<[#attn.window<left = 63, right = 0>, #attn.sink<first = 4>]>]>)
         -> tensor<1x8x?x64xf32>
  return %r : tensor<1x8x?x64xf32>
}
