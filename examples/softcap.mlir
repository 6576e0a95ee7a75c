// Gemma-2 logit soft-capping (FlexAttention's `tanh_softcap` score_mod,
// `softcap * tanh(score / softcap)` with softcap = 50) on causal attention
// over a sliding window of 4096 keys, as Gemma-2's local layers.
func.func @main(%q: tensor<1x8x?x64xf32>, %k: tensor<1x8x?x64xf32>,
                %v: tensor<1x8x?x64xf32>, %o: tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>) pattern(#attn.window<left = 4095, right = 0>)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           %cap = arith.constant 50.0 : f32
           %x = arith.divf %s, %cap : f32
           %t = math.tanh %x : f32
           %y = arith.mulf %cap, %t : f32
           attn.yield %y : f32
         } -> tensor<1x8x?x64xf32>
  return %r : tensor<1x8x?x64xf32>
}
