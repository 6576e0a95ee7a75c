// Neighbourhood attention on a 32 x 32 image (NATTEN; FlexAttention's
// `natten_mask` with a 7 x 7 kernel: the kernel centre is the query pixel,
// clamped to stay 3 pixels inside the canvas). Pixels are laid out row-major
// as 1024 positions; each query sees the 49 pixels of its window. A query
// tile (4 image rows with the default 128-row tiles) visits only the key
// tiles of the 10 rows its windows reach.
func.func @main(%q: tensor<1x4x1024x64xf32>, %k: tensor<1x4x1024x64xf32>,
                %v: tensor<1x4x1024x64xf32>, %o: tensor<1x4x1024x64xf32>) -> tensor<1x4x1024x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x4x1024x64xf32>, tensor<1x4x1024x64xf32>, tensor<1x4x1024x64xf32>)
         outs(%o : tensor<1x4x1024x64xf32>)
         pattern(#attn.neighborhood<extent = [32, 32], window = [7, 7]>)
         -> tensor<1x4x1024x64xf32>
  return %r : tensor<1x4x1024x64xf32>
}
