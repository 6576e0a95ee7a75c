// Reformer: shared query/key, 2 hash rounds (from the rotations' shape),
// 64 buckets, chunks of 64 looking one chunk back, causal. Any length that is
// a multiple of 64 (checked at run time).
func.func @main(%qk: tensor<1x8x?x64xf32>, %v: tensor<1x8x?x64xf32>,
                %rot: tensor<8x2x64x32xf32>, %o: tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %r = attn.lsh ins(%qk, %v, %rot : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<8x2x64x32xf32>)
         outs(%o : tensor<1x8x?x64xf32>) {num_buckets = 64, chunk_size = 64, causal}
         -> tensor<1x8x?x64xf32>
  return %r : tensor<1x8x?x64xf32>
}
