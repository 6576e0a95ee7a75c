// attn-cpu-pipeline{mode=fused q-tile=8 kv-tile=4} as a transform script
// (read by transform-cpu-pipeline.mlir).
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    transform.attn.decompose %root : !transform.any_op
    %sdpa = transform.structured.match ops{["attn.sdpa"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %loops = transform.attn.tile %sdpa {q_tile = 8, kv_tile = 4}
        : (!transform.any_op) -> !transform.any_op
    transform.attn.prepare_tile_loops %root : !transform.any_op
    transform.attn.lower_to_cpu %root {mode = "fused", vector_width = 16} : !transform.any_op
    transform.yield
  }
}
