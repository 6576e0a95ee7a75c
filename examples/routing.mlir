// Routing Transformer: 16 clusters per head, each taking the 256 queries and
// keys nearest its centroid; causal, keys shared with queries. Any length of
// at least 256 (checked at run time).
func.func @main(%q: tensor<1x8x?x64xf32>, %v: tensor<1x8x?x64xf32>,
                %c: tensor<8x16x64xf32>, %o: tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %r = attn.cluster ins(%q, %q, %v, %c : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<8x16x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>) {window = 256, causal}
         -> tensor<1x8x?x64xf32>
  return %r : tensor<1x8x?x64xf32>
}
