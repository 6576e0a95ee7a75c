// Lite Transformer block (Wu et al. 2020): of 512 channels, the first half
// goes through attention (8 heads of 32) and the second half through a
// lightweight convolution (8 weight heads, K = 7); the halves are concatenated.
func.func @main(%x: tensor<1x?x512xf32>, %w: tensor<8x7xf32>) -> tensor<1x?x512xf32> {
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c1 : tensor<1x?x512xf32>
  // Attention branch: channels [0, 256) as [B, H, N, D].
  %xa = tensor.extract_slice %x[0, 0, 0] [1, %n, 256] [1, 1, 1] : tensor<1x?x512xf32> to tensor<1x?x256xf32>
  %xs = tensor.expand_shape %xa [[0], [1], [2, 3]] output_shape [1, %n, 8, 32] : tensor<1x?x256xf32> into tensor<1x?x8x32xf32>
  %e0 = tensor.empty(%n) : tensor<1x8x?x32xf32>
  %qkv = linalg.transpose ins(%xs : tensor<1x?x8x32xf32>) outs(%e0 : tensor<1x8x?x32xf32>) permutation = [0, 2, 1, 3]
  %o0 = tensor.empty(%n) : tensor<1x8x?x32xf32>
  %att = attn.sdpa ins(%qkv, %qkv, %qkv : tensor<1x8x?x32xf32>, tensor<1x8x?x32xf32>, tensor<1x8x?x32xf32>)
           outs(%o0 : tensor<1x8x?x32xf32>) pattern(#attn.causal) -> tensor<1x8x?x32xf32>
  %e1 = tensor.empty(%n) : tensor<1x?x8x32xf32>
  %back = linalg.transpose ins(%att : tensor<1x8x?x32xf32>) outs(%e1 : tensor<1x?x8x32xf32>) permutation = [0, 2, 1, 3]
  %ya = tensor.collapse_shape %back [[0], [1], [2, 3]] : tensor<1x?x8x32xf32> into tensor<1x?x256xf32>
  // Convolution branch: channels [256, 512).
  %xc = tensor.extract_slice %x[0, 0, 256] [1, %n, 256] [1, 1, 1] : tensor<1x?x512xf32> to tensor<1x?x256xf32>
  %o1 = tensor.empty(%n) : tensor<1x?x256xf32>
  %yc = attn.lightconv ins(%xc, %w : tensor<1x?x256xf32>, tensor<8x7xf32>)
          outs(%o1 : tensor<1x?x256xf32>) {causal} -> tensor<1x?x256xf32>
  // Concatenate the two halves.
  %y = tensor.concat dim(2) %ya, %yc : (tensor<1x?x256xf32>, tensor<1x?x256xf32>) -> tensor<1x?x512xf32>
  return %y : tensor<1x?x512xf32>
}
