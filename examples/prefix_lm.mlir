// Prefix LM (FlexAttention's `prefix_lm_causal`:
// `kv_idx <= prefix_length | q_idx >= kv_idx`, with prefix_length = 63): the
// first 64 positions are a bidirectional prefix that every query sees, the
// rest is causal. A sink is a key that every query sees; unlike
// #attn.global, a prefix query does not see the whole sequence.
func.func @main(%q: tensor<1x8x?x64xf32>, %k: tensor<1x8x?x64xf32>,
                %v: tensor<1x8x?x64xf32>, %o: tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>)
         pattern(#attn.union<[#attn.causal, #attn.sink<first = 64>]>)
         -> tensor<1x8x?x64xf32>
  return %r : tensor<1x8x?x64xf32>
}
