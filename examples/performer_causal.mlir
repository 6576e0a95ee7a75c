// Causal Performer FAVOR+ (a prefix-sum linear reduction), and the causal
// linear transformer (elu + 1 features) beside it.
func.func @main(%q: tensor<1x8x?x64xf32>, %k: tensor<1x8x?x64xf32>,
                %v: tensor<1x8x?x64xf32>, %w: tensor<1x256x64xf32>,
                %o: tensor<1x8x?x64xf32>) -> (tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>) {
  %favor = attn.kernelized favor_plus ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         projection(%w : tensor<1x256x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>) {causal} -> tensor<1x8x?x64xf32>
  %linear = attn.kernelized elu_plus_one ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>) {causal} -> tensor<1x8x?x64xf32>
  return %favor, %linear : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>
}
