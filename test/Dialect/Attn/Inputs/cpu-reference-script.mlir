// attn-cpu-pipeline{mode=reference} as a transform script (read by
// transform-cpu-pipeline.mlir).
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    transform.attn.decompose %root : !transform.any_op
    %sdpa = transform.structured.match ops{["attn.sdpa"]} in %root
        : (!transform.any_op) -> !transform.any_op
    transform.attn.lower_to_linalg %sdpa : !transform.any_op
    transform.attn.lower_to_cpu %root {mode = "reference"} : !transform.any_op
    transform.yield
  }
}
