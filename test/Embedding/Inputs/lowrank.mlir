// Input of test/Embedding: an attn.lowrank (Linformer), which attn-decompose
// rewrites into projections and one attn.sdpa.
func.func @lowrank(%q: tensor<1x2x16x8xf32>, %e: tensor<1x4x16xf32>,
                   %o: tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32> {
  %r = attn.lowrank ins(%q, %q, %q : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>)
         projections(%e : tensor<1x4x16xf32>) outs(%o : tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %r : tensor<1x2x16x8xf32>
}
