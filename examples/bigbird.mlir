// BigBird (ITC): blocks of 64; a window of one block each side, two global
// blocks, and three random key blocks per query block.
func.func @main(%q: tensor<1x12x4096x64xf32>, %k: tensor<1x12x4096x64xf32>,
                %v: tensor<1x12x4096x64xf32>, %o: tensor<1x12x4096x64xf32>) -> tensor<1x12x4096x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x12x4096x64xf32>, tensor<1x12x4096x64xf32>, tensor<1x12x4096x64xf32>)
         outs(%o : tensor<1x12x4096x64xf32>)
         pattern(#attn.union<[
           #attn.block_sparse<block = [64, 64], layout = dense<true> : tensor<1x1xi1>>,
           #attn.window<left = 64, right = 64>,
           #attn.global<first = 128>,
           #attn.random<block = 64, per_row = 3, seed = 2020>]>)
         -> tensor<1x12x4096x64xf32>
  return %r : tensor<1x12x4096x64xf32>
}
