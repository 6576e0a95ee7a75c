// ALiBi on causal attention (FlexAttention's `alibi` score_mod,
// `score + alibi_bias[h] * (kv_idx - q_idx)`, with the causal mask): head h
// of 8 has the slope 2^(-(h + 1)), so a key d positions back costs
// d * 2^(-(h + 1)).
func.func @main(%q: tensor<1x8x?x64xf32>, %k: tensor<1x8x?x64xf32>,
                %v: tensor<1x8x?x64xf32>, %o: tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>) pattern(#attn.causal)
         score_mod {
         ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
           %one = arith.constant 1 : index
           %h1 = arith.addi %h, %one : index
           %h1i = arith.index_cast %h1 : index to i64
           %h1f = arith.sitofp %h1i : i64 to f32
           %zero = arith.constant 0.0 : f32
           %neg = arith.subf %zero, %h1f : f32
           %slope = math.exp2 %neg : f32
           %d = arith.subi %j, %i : index
           %di = arith.index_cast %d : index to i64
           %df = arith.sitofp %di : i64 to f32
           %bias = arith.mulf %slope, %df : f32
           %t = arith.addf %s, %bias : f32
           attn.yield %t : f32
         } -> tensor<1x8x?x64xf32>
  return %r : tensor<1x8x?x64xf32>
}
