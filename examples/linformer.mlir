// Linformer: keys and values projected from N positions (any length; the
// projection is [1, 256, N]) to 256, one projection shared by all heads (and
// by keys and values).
func.func @main(%q: tensor<1x8x?x64xf32>, %k: tensor<1x8x?x64xf32>,
                %v: tensor<1x8x?x64xf32>, %e: tensor<1x256x?xf32>,
                %o: tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %r = attn.lowrank ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         projections(%e : tensor<1x256x?xf32>)
         outs(%o : tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32>
  return %r : tensor<1x8x?x64xf32>
}
