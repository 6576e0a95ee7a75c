// Tree attention (speculative decoding over a tree of drafts, as in Medusa
// and SpecInfer): token i sees token j exactly when j is i or one of its
// ancestors. FlexAttention writes it as a mask_mod that reads the tree and
// a BlockMask from `create_block_mask(tree_mask_mod, None, None, N, N)`:
//   def tree_mask_mod(b, h, q_idx, kv_idx): return ancestor[q_idx, kv_idx]
//   flex_attention(q, k, v, block_mask=block_mask)
// Here %parent holds each token's parent (parent[i] < i; -1 at the root) and
// the mask_mod walks up from i until it reaches j or passes it. The block
// layout (FlexAttention's kv_num_blocks, kv_indices, full_kv_num_blocks,
// full_kv_indices, per query block of 64 tokens, shared by batch and heads)
// lists the key blocks that hold an ancestor (blocks) and those that hold
// only ancestors (full_blocks): the fused pipeline visits exactly those, and
// walks the tree only in the partial ones.
func.func @main(%q: tensor<1x8x?x64xf32>, %k: tensor<1x8x?x64xf32>,
                %v: tensor<1x8x?x64xf32>, %parent: tensor<?xi32>,
                %kvn: tensor<1x1x?xi32>, %kvi: tensor<1x1x?x?xi32>,
                %fkvn: tensor<1x1x?xi32>, %fkvi: tensor<1x1x?x?xi32>,
                %o: tensor<1x8x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %r = attn.sdpa ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>, tensor<1x8x?x64xf32>)
         outs(%o : tensor<1x8x?x64xf32>)
         blocks(%kvn, %kvi : tensor<1x1x?xi32>, tensor<1x1x?x?xi32>)
         full_blocks(%fkvn, %fkvi : tensor<1x1x?xi32>, tensor<1x1x?x?xi32>)
         {block_size = array<i64: 64, 64>}
         mask_mod {
         ^bb0(%b: index, %h: index, %i: index, %j: index):
           %a = scf.while (%x = %i) : (index) -> index {
             %up = arith.cmpi sgt, %x, %j : index
             scf.condition(%up) %x : index
           } do {
           ^bb0(%x: index):
             %p = tensor.extract %parent[%x] : tensor<?xi32>
             %px = arith.index_cast %p : i32 to index
             scf.yield %px : index
           }
           %t = arith.cmpi eq, %a, %j : index
           attn.yield %t : i1
         }
         -> tensor<1x8x?x64xf32>
  return %r : tensor<1x8x?x64xf32>
}
