// Linformer: keys and values projected from 4096 positions to 256, one
// projection shared by all heads (and by keys and values).
func.func @main(%q: tensor<1x8x4096x64xf32>, %k: tensor<1x8x4096x64xf32>,
                %v: tensor<1x8x4096x64xf32>, %e: tensor<1x256x4096xf32>,
                %o: tensor<1x8x4096x64xf32>) -> tensor<1x8x4096x64xf32> {
  %r = attn.lowrank ins(%q, %k, %v : tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>, tensor<1x8x4096x64xf32>)
         projections(%e : tensor<1x256x4096xf32>)
         outs(%o : tensor<1x8x4096x64xf32>) -> tensor<1x8x4096x64xf32>
  return %r : tensor<1x8x4096x64xf32>
}
