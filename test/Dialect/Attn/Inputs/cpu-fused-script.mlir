// attn-cpu-pipeline{mode=fused q-tile=8 kv-tile=4} as a transform script
// (read by transform-cpu-pipeline.mlir). The fused forms of lsh / cluster and
// of kernelized / lowrank / pkm / lightconv are the registered passes that
// the pipeline runs before attn-decompose.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root0: !transform.any_op {transform.consumed}) {
    %root1 = transform.apply_registered_pass "attn-fuse-lsh-cluster" to %root0
        : (!transform.any_op) -> !transform.any_op
    %root = transform.apply_registered_pass "attn-fuse-variants" to %root1
        : (!transform.any_op) -> !transform.any_op
    transform.attn.decompose %root : !transform.any_op
    %sdpa = transform.structured.match ops{["attn.sdpa"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %loops = transform.attn.tile %sdpa {q_tile = 8, kv_tile = 4, in_place}
        : (!transform.any_op) -> !transform.any_op
    transform.attn.prepare_tile_loops %root : !transform.any_op
    transform.attn.lower_to_cpu %root {mode = "fused", vector_width = 16} : !transform.any_op
    transform.yield
  }
}
