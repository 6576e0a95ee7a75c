// BigBird (ITC): a window of 64 positions each side (BigBird slides by
// blocks of 64; this is its position-level form), two global blocks, and
// three random key blocks of 64 per query block.
func.func @main(%q: tensor<1x12x?x64xf32>, %k: tensor<1x12x?x64xf32>,
                %v: tensor<1x12x?x64xf32>, %o: tensor<1x12x?x64xf32>) -> tensor<1x12x?x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x12x?x64xf32>, tensor<1x12x?x64xf32>, tensor<1x12x?x64xf32>)
         outs(%o : tensor<1x12x?x64xf32>)
         pattern(#attn.union<[
           #attn.window<left = 64, right = 64>,
           #attn.global<first = 128>,
           #attn.random<block = 64, per_row = 3, seed = 2020>]>)
         -> tensor<1x12x?x64xf32>
  return %r : tensor<1x12x?x64xf32>
}
