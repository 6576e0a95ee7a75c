// Product-key memory (Lample et al. 2019): 128 x 128 = 16384 memory slots (the
// paper uses 512 x 512: change the sub-key count n and the values to n*n),
// 4 heads, the 32 best slots per query.
func.func @main(%q: tensor<1x4x?x256xf32>, %s1: tensor<4x128x128xf32>,
                %s2: tensor<4x128x128xf32>, %values: tensor<16384x256xf32>,
                %o: tensor<1x4x?x256xf32>) -> tensor<1x4x?x256xf32> {
  %r = attn.pkm ins(%q, %s1, %s2, %values : tensor<1x4x?x256xf32>, tensor<4x128x128xf32>, tensor<4x128x128xf32>, tensor<16384x256xf32>)
         outs(%o : tensor<1x4x?x256xf32>) {top_k = 32} -> tensor<1x4x?x256xf32>
  return %r : tensor<1x4x?x256xf32>
}
