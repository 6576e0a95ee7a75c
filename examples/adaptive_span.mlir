// Adaptive span (Sukhbaatar et al. 2019): per-head learned spans z, a soft
// ramp of 32, spans capped at 1024, on a causal pattern.
func.func @main(%q: tensor<1x8x?x64xf32>, %k: tensor<1x8x?x64xf32>,
                %v: tensor<1x8x?x64xf32>, %z: tensor<8xf32>,
                %o: tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>) span(%z : tensor<8xf32>) pattern(#attn.causal)
         {ramp = 32.0 : f32, max_span = 1024.0 : f32}
         -> tensor<1x8x?x64xf32>
  return %r : tensor<1x8x?x64xf32>
}
