// Input of capi-aot.test: causal grouped-query attention (2 query heads over
// 1 key/value head), with a C entry point (_mlir_ciface_sdpa_causal).
func.func @sdpa_causal(%q: tensor<2x2x16x8xf32>, %k: tensor<2x1x16x8xf32>,
                       %v: tensor<2x1x16x8xf32>, %o: tensor<2x2x16x8xf32>)
    -> tensor<2x2x16x8xf32> attributes {llvm.emit_c_interface} {
  %r = attn.sdpa ins(%q, %k, %v : tensor<2x2x16x8xf32>, tensor<2x1x16x8xf32>, tensor<2x1x16x8xf32>)
         outs(%o : tensor<2x2x16x8xf32>) pattern(#attn.causal) -> tensor<2x2x16x8xf32>
  return %r : tensor<2x2x16x8xf32>
}
