// Axial Transformer: a 64 x 64 image as up to 4096 positions (row-major); each
// pixel attends to its row and its column. Any length up to 4096.
func.func @main(%q: tensor<1x8x?x32xf32>, %k: tensor<1x8x?x32xf32>,
                %v: tensor<1x8x?x32xf32>, %o: tensor<1x8x?x32xf32>) -> tensor<1x8x?x32xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x8x?x32xf32>, tensor<1x8x?x32xf32>, tensor<1x8x?x32xf32>)
         outs(%o : tensor<1x8x?x32xf32>) pattern(#attn.axial<rows = 64, cols = 64>)
         -> tensor<1x8x?x32xf32>
  return %r : tensor<1x8x?x32xf32>
}
