// Document masking over packed sequences (FlexAttention's `document_masking`:
// `document_id[q_idx] == document_id[kv_idx]`, here with a causal mask as in
// packed pre-training): %seg holds the document id of each token of the
// packed batch, sorted ascending (e.g. [0, 0, 0, 1, 1, 2, ...]). Tiles are
// classified from each tile's smallest and largest id, so only the blocks of
// the diagonal of each document are computed; no block mask is built.
func.func @main(%q: tensor<2x8x?x64xf32>, %k: tensor<2x8x?x64xf32>,
                %v: tensor<2x8x?x64xf32>, %seg: tensor<2x?xi32>,
                %o: tensor<2x8x?x64xf32>) -> tensor<2x8x?x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<2x8x?x64xf32>, tensor<2x8x?x64xf32>, tensor<2x8x?x64xf32>)
         outs(%o : tensor<2x8x?x64xf32>)
         segments(%seg, %seg : tensor<2x?xi32>, tensor<2x?xi32>)
         pattern(#attn.causal)
         -> tensor<2x8x?x64xf32>
  return %r : tensor<2x8x?x64xf32>
}
